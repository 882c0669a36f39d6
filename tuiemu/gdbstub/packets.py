"""GDB remote protocol framing: checksums, binary escaping, and an incremental packet reader.

A packet is ``$data#cc`` with ``cc`` the modulo-256 sum of ``data`` in hex; a
notification is ``%data#cc`` and is never acknowledged. Inside data, ``}``
escapes the next byte (XOR 0x20). The stub escapes ``$ # } *`` in everything
it sends (so a ``*`` in a reply is never taken for run-length encoding) and
unescapes whole incoming packets (gdb only escapes binary payloads, and never
sends a raw ``}`` otherwise). Run-length encoding is neither sent nor needed.

The reader never buffers more than ``max_packet`` bytes: a longer packet is
dropped and reported once, and the reader resynchronises on the next ``$``.
A 0x03 byte outside a packet is gdb's interrupt (Ctrl-C).
"""
from __future__ import annotations

from typing import List, NamedTuple, Optional

ESCAPE = 0x7D  # '}'
_SPECIAL = frozenset(b"$#}*")
INTERRUPT = 0x03
_HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")


def checksum(data: bytes) -> int:
    return sum(data) & 0xFF


def escape(data: bytes) -> bytes:
    """Escape the bytes that may not appear raw in a packet."""
    if not any(b in _SPECIAL for b in data):
        return data
    out = bytearray()
    for b in data:
        if b in _SPECIAL:
            out += bytes((ESCAPE, b ^ 0x20))
        else:
            out.append(b)
    return bytes(out)


def unescape(data: bytes) -> bytes:
    """Undo ``escape``; a trailing lone escape byte is dropped."""
    if ESCAPE not in data:
        return data
    out = bytearray()
    it = iter(data)
    for b in it:
        if b == ESCAPE:
            nxt = next(it, None)
            if nxt is None:
                break
            out.append(nxt ^ 0x20)
        else:
            out.append(b)
    return bytes(out)


def frame(data: bytes, notification: bool = False) -> bytes:
    """``$data#cc`` (or ``%data#cc``) with ``data`` escaped."""
    body = escape(data)
    return (b"%" if notification else b"$") + body + b"#%02x" % checksum(body)


def hexlify(data: bytes) -> bytes:
    return data.hex().encode()


def unhexlify(text: bytes) -> bytes:
    """Hex text to bytes; raises ValueError on odd length or non-hex digits."""
    return bytes.fromhex(text.decode("ascii"))


def hex_encode_text(text: str) -> bytes:
    return hexlify(text.encode("utf-8", "replace"))


class Event(NamedTuple):
    """What the reader found: ``packet`` (with ``data``), ``ack``, ``nack``, ``interrupt``,
    ``bad_checksum`` or ``overflow``."""
    kind: str
    data: bytes = b""


class PacketReader:
    """Split a byte stream into packets, acknowledgements and interrupts."""

    def __init__(self, max_packet: int) -> None:
        self.max_packet = max_packet
        self._buf = bytearray()
        self._state = "idle"  # idle | body | sum1 | sum2 | skip
        self._sum = b""

    def feed(self, chunk: bytes) -> List[Event]:
        events: List[Event] = []
        for b in chunk:
            ev = self._byte(b)
            if ev is not None:
                events.append(ev)
        return events

    def _byte(self, b: int) -> Optional[Event]:
        st = self._state
        if st == "idle":
            if b == 0x24:  # '$'
                self._start()
            elif b == 0x2B:  # '+'
                return Event("ack")
            elif b == 0x2D:  # '-'
                return Event("nack")
            elif b == INTERRUPT:
                return Event("interrupt")
            return None  # anything else between packets is noise
        if st == "skip":  # dropping an over-long packet until the next '$'
            if b == 0x24:
                self._start()
            return None
        if st == "body":
            if b == 0x23:  # '#'
                self._state = "sum1"
            elif b == 0x24:  # a '$' inside a packet: the previous one was truncated, start over
                self._start()
            elif len(self._buf) >= self.max_packet:
                self._buf = bytearray()
                self._state = "skip"
                return Event("overflow")
            else:
                self._buf.append(b)
            return None
        if b == 0x24:  # '$' where a checksum digit belongs: a truncated packet; take the new one
            self._start()
            return None
        if st == "sum1":
            self._sum = bytes((b,))
            self._state = "sum2"
            return None
        # sum2
        self._state = "idle"
        data = bytes(self._buf)
        self._buf = bytearray()
        digits = self._sum + bytes((b,))
        if not all(c in _HEX_DIGITS for c in digits) or int(digits, 16) != checksum(data):
            return Event("bad_checksum", data)
        return Event("packet", unescape(data))

    def _start(self) -> None:
        self._buf = bytearray()
        self._state = "body"
