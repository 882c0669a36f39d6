"""Garbage at the stub's socket: malformed, unknown, corrupted, over-long and random packets.
The stub answers what it can, refuses the rest, never stops, and a real gdb attaches after."""
from __future__ import annotations

import random
import time

import pytest

from .gdbmi import Gdb, need_gdb
from .rsp import SMP_DEBUG, Emulator, RawClient, escape, frame

pytestmark = pytest.mark.slow  # fuzzing: a few thousand packets per test

MALFORMED = [
    b"m", b"mzz,4", b"m1,", b"m,4", b"m-1,4", b"M1,2:zz", b"M40001000,4", b"M40001000,4:0102",
    b"X40001000", b"X40001000,8:abc", b"Xzz,1:a", b"G12", b"Gzz", b"P", b"Pzz=1", b"P1=zz", b"P1=0102",
    b"p", b"pzz", b"p99", b"Z0", b"Z0,zz,4", b"Z9,1,1", b"z0,1", b"z0,40000000,4", b"Z2,40001000,0",
    b"Hq1", b"Hgzz", b"Hg99", b"H", b"T", b"Tzz", b"T0", b"vCont;x", b"vCont;c:zz", b"vCont;c:99",
    b"vCont", b"vCont;", b"vCont;Czz", b"qXfer:features:read:nope:0,10", b"qXfer:features:read:target.xml:zz",
    b"qXfer:threads:read::0", b"qXfer:foo:read::0,10", b"qXfer:features:write:target.xml:0:abc",
    b"qRcmd,zz", b"qRcmd,z", b"qThreadExtraInfo,99", b"qThreadExtraInfo,zz", b"QNonStop:7", b"QNonStop",
    b"qFooBar", b"vFoo", b"J", b"!", b"\x00\xff", b"C", b"Czz", b"S1;zz", b"sZZ", b"cZZ", b"y",
    b"qC:junk",
]
SAFE_FIRST = b"?gHTmMXpPZzqJ!yx"  # no resuming, killing, detaching or mode switches


def assert_refused(reply: bytes, pkt: bytes) -> None:
    assert reply == b"" or (reply[:1] == b"E" and len(reply) == 3), (pkt, reply)


def resync(c: RawClient) -> None:
    """After garbage: probe until the stub answers a known packet."""
    for _ in range(10):
        c.send(b"qC")
        try:
            for _ in range(50):
                if c.read_packet(timeout=3.0).startswith(b"QC"):
                    return
        except TimeoutError:
            continue
    raise AssertionError("the stub does not answer any more")


def random_packet(rng: random.Random, first: bytes = SAFE_FIRST) -> bytes:
    n = rng.choice((0, 1, 5, 20, 200, 3000))
    if rng.random() < 0.5:
        body = bytes(rng.randrange(0x20, 0x7F) for _ in range(n))
    else:
        body = bytes(rng.randrange(256) for _ in range(n))
    return bytes((rng.choice(first),)) + body


def test_fuzz_then_gdb_attaches() -> None:
    rng = random.Random(20240601)
    with Emulator(SMP_DEBUG, "-smp", "2") as emu:
        c = RawClient(emu.port)
        assert c.request(b"qSupported:swbreak+").startswith(b"PacketSize=")
        # 1. malformed and unknown packets: an error or the empty reply, each
        for pkt in MALFORMED:
            assert_refused(c.request(escape(pkt)), pkt)
        # 2. corrupted checksums: '-' each, then a retransmission is served
        for _ in range(5):
            c.send_raw(b"$qC#00")
        c.send_raw(frame(b"qC"))
        assert c.read_packet() == b"QC1"
        assert c.acks.count(b"-") >= 5
        # 3. an over-long packet is refused once without being buffered; the stream resyncs
        c.acks.clear()
        c.send_raw(b"$" + b"A" * 200_000)
        c.send_raw(b"B" * 100_000 + b"#00")
        c.send_raw(frame(b"qC"))
        assert c.read_packet(timeout=20) == b"QC1"
        assert c.acks.count(b"-") == 1
        # 4. truncated packets followed by good ones
        c.send_raw(b"$m4000" + frame(b"qC"))
        assert c.read_packet() == b"QC1"
        c.send_raw(b"$m4000#" + frame(b"qC"))
        assert c.read_packet() == b"QC1"
        c.send_raw(b"$X40001000,10:" + b"abcde" + b"#" + b"%02x" % (sum(b"X40001000,10:abcde") & 0xFF))
        assert c.read_packet() == b"E01"
        # 5. raw garbage, with the odd '$', '#', '}' and 0x03 in it
        for _ in range(200):
            chunk = bytes(rng.choice((rng.randrange(256), 0x24, 0x23, 0x7D, 0x03)) for _ in
                          range(rng.randrange(1, 600)))
            c.send_raw(chunk)
        resync(c)
        # 6. random well-framed packets: each gets exactly one reply
        for _ in range(300):
            pkt = random_packet(rng)
            c.send(escape(pkt))
            reply = c.read_packet()
            while reply.startswith(b"O") and reply != b"OK":  # monitor output before its OK
                reply = c.read_packet()
        resync(c)
        # 7. the same while the guest runs (all-stop, gdb waiting for a stop); no '?' or Z here,
        # which would legitimately stop it
        c.send(b"vCont;c")
        time.sleep(0.2)
        for _ in range(100):
            c.send(escape(random_packet(rng, b"gHTmMXpPqJ!")))
            c.send_raw(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 50))).replace(b"\x03", b""))
        time.sleep(0.5)
        c.send_raw(b"\x03")
        deadline = time.monotonic() + 20
        while not any(p.startswith(b"T02") for p in c.poll(0.2)):
            assert time.monotonic() < deadline, "no stop reply after Ctrl-C"
        resync(c)
        # 8. hang up in the middle of a packet
        c.send_raw(b"$m40000000,4")
        c.close()
        assert emu.proc.poll() is None, emu.output()

        # a real gdb attaches and reads registers
        need_gdb()
        with Gdb(SMP_DEBUG) as gdb:
            gdb.connect(emu.port)
            regs = gdb.cli("info registers")
            assert "pc" in regs and "cpsr" in regs
            threads = gdb.threads()
            assert len(threads) == 2
            gdb.cli("kill")
        assert emu.wait(30) == 137


@pytest.mark.parametrize("seed", [1, 2])
def test_random_bytes_only(seed: int) -> None:
    """Nothing but noise for a while: the stub is still there afterwards."""
    rng = random.Random(seed)
    with Emulator(SMP_DEBUG, "-smp", "1") as emu:
        c = RawClient(emu.port)
        for _ in range(300):
            c.send_raw(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))))
        resync(c)
        c.close()
        c2 = RawClient(emu.port)
        assert c2.request(b"?").startswith(b"T05")
        assert c2.request(b"vKill") == b"OK"
        assert emu.wait(30) == 137
