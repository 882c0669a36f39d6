"""Packet framing, escaping and the incremental reader, without sockets."""
from __future__ import annotations

from typing import List

from hypothesis import given, settings
from hypothesis import strategies as st

from tuiemu.gdbstub.packets import Event, PacketReader, checksum, escape, frame, unescape
from tuiemu.gdbstub.target_xml import TARGET_XML, xfer_slice


def feed_all(reader: PacketReader, data: bytes, cut: List[int]) -> List[Event]:
    events: List[Event] = []
    pos = 0
    for c in sorted(set(cut)) + [len(data)]:
        events += reader.feed(data[pos:c])
        pos = max(pos, c)
    return events


def test_frame_and_checksum() -> None:
    assert frame(b"OK") == b"$OK#9a"
    assert frame(b"Stop:T05", notification=True).startswith(b"%Stop:T05#")
    assert checksum(b"") == 0


def test_escape_covers_the_framing_bytes() -> None:
    assert escape(b"a$b#c}d*e") == b"a}\x04b}\x03c}]d}\x0ae"
    assert unescape(escape(b"a$b#c}d*e")) == b"a$b#c}d*e"
    assert unescape(b"ab}") == b"ab"  # a dangling escape is dropped


@given(st.binary(max_size=300))
def test_escape_roundtrip(data: bytes) -> None:
    esc = escape(data)
    assert not any(b in b"$#*" for b in esc)
    assert unescape(esc) == data


@settings(max_examples=200)
@given(st.lists(st.binary(max_size=80), max_size=6), st.lists(st.integers(0, 2000), max_size=10))
def test_reader_splits_any_chunking(payloads: List[bytes], cuts: List[int]) -> None:
    stream = b"+".join(frame(p) for p in payloads)
    events = feed_all(PacketReader(4096), stream, cuts)
    assert [e.data for e in events if e.kind == "packet"] == payloads
    assert all(e.kind in ("packet", "ack") for e in events)


def test_reader_reports_acks_interrupts_and_bad_checksums() -> None:
    r = PacketReader(100)
    evs = r.feed(b"+-\x03$g#00$g#67junk\x03")
    assert [e.kind for e in evs] == ["ack", "nack", "interrupt", "bad_checksum", "packet", "interrupt"]
    assert r.feed(b"$g#zz")[0].kind == "bad_checksum"


def test_reader_refuses_overlong_packets_and_resyncs() -> None:
    r = PacketReader(64)
    evs = r.feed(b"$" + b"A" * 10_000)
    assert [e.kind for e in evs] == ["overflow"]
    assert len(r._buf) <= 64
    evs = r.feed(b"B" * 1000 + b"#00" + frame(b"qC"))
    assert [(e.kind, e.data) for e in evs] == [("packet", b"qC")]


def test_reader_restarts_on_a_dollar_inside_a_packet() -> None:
    r = PacketReader(64)
    assert [e.data for e in r.feed(b"$m4000" + frame(b"g"))] == [b"g"]
    assert [e.data for e in r.feed(b"$m4000#" + frame(b"g"))] == [b"g"]


def test_reader_unescapes_binary_payloads() -> None:
    r = PacketReader(64)
    body = b"X40001000,4:" + escape(b"\x7d\x23\x24\x2a")
    (ev,) = r.feed(b"$" + body + b"#%02x" % checksum(body))
    assert ev.data == b"X40001000,4:}#$*"


def test_target_xml_slices() -> None:
    assert b'name="cpsr"' in TARGET_XML and b'regnum="25"' in TARGET_XML
    assert b"org.gnu.gdb.arm.core" in TARGET_XML
    parts = []
    off = 0
    while True:
        chunk = xfer_slice(TARGET_XML, off, 100)
        parts.append(chunk[1:])
        off += 100
        if chunk[:1] == b"l":
            break
        assert chunk[:1] == b"m"
    assert b"".join(parts) == TARGET_XML
