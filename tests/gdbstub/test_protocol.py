"""The stub at the packet level (a raw client, no gdb): queries, stepping policies, non-stop
notifications, memory and breakpoint packets, acknowledgements."""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Callable, Dict, Iterator, List

import pytest

from tuiemu.devices.console import Console
from tuiemu.gdbstub.server import GdbServer
from tuiemu.machine import Machine

from .rsp import SMP_DEBUG, Emulator, RawClient, escape, frame, registers, stop_thread

COUNTERS, WATCHED, SPECIALS, STOP_REQUEST = 0x40001008, 0x40001018, 0x4000101C, 0x40001020
BUMP, SPECIAL = 0x40000020, 0x40000058
RAM_END = 0x48000000


def insns(c: RawClient) -> Dict[str, int]:
    out = c.monitor("info cpus")
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"(cpu\d)\s.*?0x[0-9a-f]{8}\s+\S+\s+(\d+)", out)}


def run_for(c: RawClient, seconds: float = 0.4) -> bytes:
    """All-stop: continue everything, wait, Ctrl-C; returns the stop reply."""
    c.send(b"vCont;c")
    time.sleep(seconds)
    c.send_raw(b"\x03")
    return c.read_packet()


def guest_counters(c: RawClient) -> List[int]:
    """smp_debug's counters[4], read through the selected thread."""
    raw = bytes.fromhex(c.request(b"m%x,16" % COUNTERS).decode())
    return [int.from_bytes(raw[i:i + 4], "little") for i in range(0, 16, 4)]


def wait_until(cond: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.1)


@pytest.fixture
def client() -> Iterator[RawClient]:
    with Emulator(SMP_DEBUG, "-smp", "4") as emu:
        c = RawClient(emu.port)
        c.emu = emu  # type: ignore[attr-defined]
        yield c
        c.close()


def test_handshake_and_thread_queries(client: RawClient) -> None:
    c = client
    sup = c.request(b"qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+")
    for feature in (b"PacketSize=", b"qXfer:features:read+", b"qXfer:threads:read+", b"vContSupported+",
                    b"swbreak+", b"hwbreak+", b"QStartNoAckMode+", b"QNonStop+"):
        assert feature in sup
    xml = c.request(b"qXfer:features:read:target.xml:0,4000")
    assert xml.startswith(b"l") and b"org.gnu.gdb.arm.core" in xml and b'name="cpsr"' in xml
    assert c.request(b"qXfer:features:read:target.xml:10,10").startswith(b"m")
    assert c.request(b"qXfer:features:read:nope.xml:0,100").startswith(b"E")
    threads = c.request(b"qXfer:threads:read::0,4000")
    assert threads.count(b"<thread ") == 4 and b'name="cpu3"' in threads
    assert c.request(b"qfThreadInfo") == b"m1,2,3,4"
    assert c.request(b"qsThreadInfo") == b"l"
    assert c.request(b"vCont?") == b"vCont;c;C;s;S;t"
    assert c.request(b"vMustReplyEmpty") == b""
    assert c.request(b"qAttached") == b"1"
    assert c.request(b"?").startswith(b"T05thread:1;")
    assert c.request(b"qC") == b"QC1"
    assert c.request(b"T4") == b"OK" and c.request(b"T5").startswith(b"E")
    assert c.request(b"Hg3") == b"OK" and c.request(b"qC") == b"QC3"
    assert c.request(b"Hg9").startswith(b"E") and c.request(b"Hc-1") == b"OK"
    info = bytes.fromhex(c.request(b"qThreadExtraInfo,1").decode()).decode()
    assert info == "cpu0 [stopped]"
    info = bytes.fromhex(c.request(b"qThreadExtraInfo,2").decode()).decode()
    assert info == "cpu1 [stopped, powered off]"
    # registers: 17 words, pc at the entry point, cpsr in SVC mode
    assert c.request(b"Hg1") == b"OK"
    regs = registers(c.request(b"g"))
    assert len(regs) == 17 and regs[15] == 0x40000000 and regs[16] & 0x1F == 0x13
    assert c.request(b"p19") == c.request(b"g")[-8:]
    assert c.request(b"P3=78563412") == b"OK" and c.request(b"p3") == b"78563412"
    assert c.request(b"p10").startswith(b"E")
    # QStartNoAckMode: the OK is still acknowledged, then no more acks either way
    assert c.request(b"QStartNoAckMode") == b"OK"
    c.ack_mode = False
    c.acks.clear()
    assert c.request(b"qC") == b"QC1"
    assert c.drain(0.2) == b"" and c.acks == []


def test_checksum_errors_and_retransmission(client: RawClient) -> None:
    c = client
    c.send_raw(b"$qC#00")
    c.drain(0.3)
    c.send_raw(b"$qC#00")
    assert c.drain(0.3) == b"-"
    assert c.request(b"qC") == b"QC1"
    c.send_raw(b"-")  # our reply got lost: the stub sends it again
    assert c.read_packet() == b"QC1"


def test_step_one_thread_with_others_held_or_running(client: RawClient) -> None:
    c = client
    c.request(b"QStartNoAckMode")
    c.ack_mode = False
    reply = run_for(c, 0.5)
    assert reply.startswith(b"T02")
    before = insns(c)
    assert all(before[f"cpu{i}"] > 0 for i in range(4)), before
    # scheduler-locking: only thread 2 moves, by exactly one instruction per step
    for _ in range(20):
        reply = c.request(b"vCont;s:2")
        assert reply.startswith(b"T05") and stop_thread(reply) == 2
    after = insns(c)
    assert after["cpu1"] == before["cpu1"] + 20
    assert all(after[k] == before[k] for k in ("cpu0", "cpu2", "cpu3")), (before, after)
    # vCont;s:2;c: thread 2 steps while the others run
    before = after
    for _ in range(40):
        reply = c.request(b"vCont;s:2;c")
        assert stop_thread(reply) == 2
    after = insns(c)
    assert after["cpu1"] == before["cpu1"] + 40
    assert sum(after[k] - before[k] for k in ("cpu0", "cpu2", "cpu3")) > 0, (before, after)


def test_breakpoint_and_watchpoint_packets(client: RawClient) -> None:
    c = client
    c.request(b"qSupported:swbreak+;hwbreak+")
    assert c.request(b"z0,%x,4" % BUMP).startswith(b"E")  # not inserted
    assert c.request(b"Z9,0,0") == b""  # unsupported type
    assert c.request(b"Z2,%x,0" % WATCHED).startswith(b"E")  # empty range
    assert c.request(b"Z1,%x,4" % SPECIAL) == b"OK"
    reply = c.request(b"vCont;c", timeout=30)
    assert b"hwbreak:;" in reply and stop_thread(reply) == 4
    assert c.request(b"z1,%x,4" % SPECIAL) == b"OK"
    assert c.request(b"Z0,%x,4" % SPECIAL) == b"OK"
    reply = c.request(b"vCont;s:4")  # step off it, then hit it again
    assert reply.startswith(b"T05thread:4;")
    reply = c.request(b"vCont;c", timeout=30)
    assert b"swbreak:;" in reply and stop_thread(reply) == 4
    assert c.request(b"z0,%x,4" % SPECIAL) == b"OK"
    # write watchpoint: reported before the store, on core 2 (thread 3), with the address
    old = c.request(b"m%x,4" % WATCHED)
    assert c.request(b"Z2,%x,4" % WATCHED) == b"OK"
    reply = c.request(b"vCont;c", timeout=30)
    assert reply.startswith(b"T05watch:%x;thread:3;" % WATCHED), reply
    assert c.request(b"m%x,4" % WATCHED) == old  # the store has not happened yet
    assert c.request(b"Hg3") == b"OK" and registers(c.request(b"g"))[15] == 0x40000050  # str r2, [r3, #16]
    assert c.request(b"z2,%x,4" % WATCHED) == b"OK"
    # read and access watchpoints on core 1's counter
    assert c.request(b"Z3,%x,4" % (COUNTERS + 4)) == b"OK"
    reply = c.request(b"vCont;c", timeout=30)
    assert reply.startswith(b"T05rwatch:%x;thread:2;" % (COUNTERS + 4)), reply
    assert c.request(b"z3,%x,4" % (COUNTERS + 4)) == b"OK"
    assert c.request(b"Z4,%x,4" % (COUNTERS + 8)) == b"OK"
    reply = c.request(b"vCont;c", timeout=30)
    assert reply.startswith(b"T05awatch:%x;thread:3;" % (COUNTERS + 8)), reply


def test_memory_packets(client: RawClient) -> None:
    c = client
    assert c.request(b"m%x,8" % BUMP) == b"083001e3003044e3"
    assert c.request(b"m20000000,4") == b"E14"  # nothing there
    assert c.request(b"m%x,8" % (RAM_END - 2)) == b"0000"  # the readable part
    assert c.request(b"mzz,4") == b"E01" and c.request(b"m100") == b"E01"
    data = bytes([0x7D, 0x23, 0x24, 0x2A, 0x00, 0xFF, 0x03, 0x10])
    assert c.request(b"X%x,8:" % SPECIALS + escape(data)) == b"OK"
    assert c.request(b"m%x,8" % SPECIALS) == data.hex().encode()
    assert c.request(b"X%x,0:" % SPECIALS) == b"OK"  # gdb's probe
    assert c.request(b"X%x,8:abc" % SPECIALS) == b"E01"  # truncated
    assert c.request(b"M%x,4:01020304" % SPECIALS) == b"OK"
    assert c.request(b"m%x,4" % SPECIALS) == b"01020304"
    assert c.request(b"M%x,4:0102" % SPECIALS) == b"E01"
    assert c.request(b"M20000000,4:01020304") == b"E14"
    assert c.monitor("phys on").startswith("memory accesses use physical")
    assert c.request(b"m%x,4" % SPECIALS) == b"01020304"
    c.monitor("phys off")


def test_non_stop_notifications(client: RawClient) -> None:
    c = client
    c.request(b"qSupported:swbreak+")
    assert c.request(b"QNonStop:1") == b"OK"
    first = c.request(b"?")
    assert first.startswith(b"T00thread:1;")
    assert c.request(b"vStopped") == b"OK"
    assert c.request(b"vCont;c") == b"OK"  # threads gdb sees as running ignore it
    time.sleep(0.5)
    # stop thread 2 alone: OK now, a %Stop notification with signal 0, drained by vStopped
    assert c.request(b"vCont;t:2") == b"OK"
    c.wait_notification(b"Stop:T00thread:2;")
    assert c.request(b"vStopped") == b"OK"
    # the others keep running while thread 2 is stepped
    assert c.request(b"Hg2") == b"OK"
    pc = registers(c.request(b"g"))[15]
    a = insns(c)
    bumps = guest_counters(c)
    assert c.request(b"vCont;s:2") == b"OK"
    # the guest's own counters show the others at work, the monitor's instruction counts too
    # (a running vCPU's count is only brought up to date every 2**20 instructions)
    wait_until(lambda: all(x > y for i, (x, y) in enumerate(zip(guest_counters(c), bumps)) if i != 1))
    wait_until(lambda: all(insns(c)[k] > a[k] for k in ("cpu0", "cpu2", "cpu3")))
    assert insns(c)["cpu1"] == a["cpu1"] + 1 and registers(c.request(b"g"))[15] != pc
    assert guest_counters(c)[1] == bumps[1]
    # the step's notification, then a breakpoint on core 3 queued behind it
    c.request(b"Z0,%x,4" % SPECIAL)
    c.wait_notification(b"Stop:T05thread:2;")
    assert c.poll(0.5) == []  # core 3's breakpoint hit is queued, not notified
    assert len(c.notifications) == 2, c.notifications
    assert c.request(b"vStopped").startswith(b"T05swbreak:;thread:4;")
    assert c.request(b"vStopped") == b"OK"
    # memory through a running thread works (it is held for the access)
    assert c.request(b"Hg1") == b"OK"
    assert c.request(b"m%x,4" % (COUNTERS + 12)) != b"E14"
    # exit: a W notification
    c.request(b"z0,%x,4" % SPECIAL)
    assert c.request(b"M%x,4:01000000" % STOP_REQUEST) == b"OK"
    assert c.request(b"vCont;c") == b"OK"
    c.wait_notification(b"Stop:W")
    assert b"Stop:W07" in c.notifications, c.notifications
    assert c.emu.wait(20) == 7  # type: ignore[attr-defined]


def test_ctrl_c_and_vkill(client: RawClient) -> None:
    c = client
    c.send_raw(b"\x03")  # ignored while stopped
    assert c.drain(0.3) == b""
    reply = run_for(c, 0.3)
    assert reply.startswith(b"T02thread:")
    assert c.request(b"vKill;1") == b"OK"
    assert c.emu.wait(20) == 137  # type: ignore[attr-defined]


def test_legacy_resume_packets(client: RawClient) -> None:
    c = client
    assert c.request(b"Hc1") == b"OK"
    reply = c.request(b"s")  # the Hc thread steps, the others stay held
    assert reply.startswith(b"T05thread:1;") and registers(c.request(b"g"))[15] == 0x40000004
    assert c.request(b"S05").startswith(b"T05thread:1;")  # the signal is ignored
    assert registers(c.request(b"g"))[15] == 0x40000008
    assert c.request(b"vCont;S05:1").startswith(b"T05thread:1;")
    assert c.request(b"Z0,%x,4" % BUMP) == b"OK"
    assert c.request(b"c", timeout=30).startswith(b"T05thread:")  # whichever core gets there first
    assert c.request(b"z0,%x,4" % BUMP) == b"OK"
    assert c.request(b"Hg1") == b"OK" and c.request(b"Hc1") == b"OK"  # the stop selected its own thread
    pc = registers(c.request(b"g"))[15]
    assert c.request(b"s%x" % (BUMP + 12)).startswith(b"T05thread:1;")  # step at an address
    assert registers(c.request(b"g"))[15] == BUMP + 16  # (add r2, r2, #1: harmless)
    assert c.request(b"Pf=%s" % pc.to_bytes(4, "little").hex().encode()) == b"OK"  # back to the loop
    c.send(b"C00")
    time.sleep(0.2)
    c.send_raw(b"\x03")
    assert c.read_packet().startswith(b"T02")


def test_dropped_connection_while_running_leaves_the_guest_running(client: RawClient) -> None:
    c = client
    assert c.request(b"Z0,%x,4" % SPECIAL) == b"OK"
    assert c.request(b"vCont;c", timeout=30).startswith(b"T05")
    assert c.request(b"z0,%x,4" % SPECIAL) == b"OK"
    assert c.request(b"Z0,40000000,4") == b"OK"  # _start: never reached again
    c.send(b"vCont;c")  # running again, a breakpoint still inserted...
    assert c.drain(0.3) == b"+"
    c.close()  # ...when the connection drops
    time.sleep(0.5)
    c2 = RawClient(c.emu.port)  # type: ignore[attr-defined]
    for tid in (1, 2, 3, 4):
        info = bytes.fromhex(c2.request(b"qThreadExtraInfo,%d" % tid).decode()).decode()
        assert info.endswith("[running]"), info
    assert c2.request(b"?").startswith(b"T05")
    before = guest_counters(c2)[3]
    reply = run_for(c2, 0.5)
    assert reply.startswith(b"T02") and guest_counters(c2)[3] > before
    c2.close()


def test_step_irqs_option(tmp_path: Path) -> None:
    """A pending, unmasked IRQ: a single step does not take it unless step-irqs is on."""
    m = Machine(ncpus=1, console=Console(out=None))
    m.load_elf(str(SMP_DEBUG))
    server = GdbServer(m, "127.0.0.1", 0)
    server.start()
    m.runctl.stop()
    m.start()
    c = RawClient(server.port)
    try:
        v = m.vcpus[0]
        cpsr = registers(c.request(b"g"))[16]
        assert c.request(b"P19=%s" % (cpsr & ~0x80).to_bytes(4, "little").hex().encode()) == b"OK"
        v.irq_line = True
        assert c.request(b"vCont;s:1").startswith(b"T05")
        assert registers(c.request(b"g"))[15] == 0x40000004 and v.state.mode == 0x13
        assert "delivered" in c.monitor("step-irqs on")
        assert c.request(b"vCont;s:1").startswith(b"T05")
        regs = registers(c.request(b"g"))
        assert regs[16] & 0x1F == 0x12 and regs[15] in (0x18, 0x1C)  # in IRQ mode at (or past) the vector
    finally:
        c.close()
        m.exit(0)
        server.notify_exit(0)


def test_frame_helper_matches_the_stub() -> None:
    assert frame(b"OK") == b"$OK#9a"


def test_all_stop_reply_selects_the_reported_thread(client: RawClient) -> None:
    """gdb records the thread of an all-stop stop reply as the stub's general thread and sends no
    ``Hg`` before its next ``g``: after ``Hg1`` and a stop reported for thread 3, ``g`` is thread 3's."""
    c = client
    run_for(c, 0.5)  # every core up and looping
    assert c.request(b"Z2,%x,4" % WATCHED) == b"OK"  # only core 2 (thread 3) writes it
    assert c.request(b"Hg1") == b"OK" and c.request(b"Hc1") == b"OK"
    reply = c.request(b"vCont;c", timeout=30)
    assert stop_thread(reply) == 3, reply
    assert c.request(b"qC") == b"QC3"
    regs = registers(c.request(b"g"))
    assert regs[15] == 0x40000050 and regs[0] == 2  # str r2, [r3, #16] in bump(core=2)
    assert "*" in next(line for line in c.monitor("info cpus").splitlines() if " cpu2 " in line)
    assert c.request(b"z2,%x,4" % WATCHED) == b"OK"
    # the legacy step packet follows the stop's thread as well (QEMU sets Hc on a stop too)
    reply = c.request(b"s")
    assert stop_thread(reply) == 3 and registers(c.request(b"g"))[15] == 0x40000054


def test_non_stop_reply_leaves_the_general_thread_alone(client: RawClient) -> None:
    """In non-stop mode gdb does not assume a thread change on %Stop/vStopped (remote.c says the
    stub must not change it), so ``Hg`` stays where gdb put it."""
    c = client
    c.request(b"QNonStop:1")
    assert c.request(b"?").startswith(b"T00thread:1;")
    assert c.request(b"vStopped") == b"OK"
    assert c.request(b"vCont;c") == b"OK"
    time.sleep(0.5)
    assert c.request(b"Hg1") == b"OK"
    assert c.request(b"Z2,%x,4" % WATCHED) == b"OK"
    c.wait_notification(b"Stop:T05watch:")
    assert c.request(b"vStopped") == b"OK"
    assert c.request(b"qC") == b"QC1"
    assert c.request(b"Hg3") == b"OK" and registers(c.request(b"g"))[15] == 0x40000050


def test_breakpoint_at_an_odd_address_never_hits_arm_code(client: RawClient) -> None:
    """Z0 takes the address as given, as QEMU does: bump+1 (a Thumb bit on ARM code) matches no
    instruction, so the guest runs on until interrupted; bump itself stops."""
    c = client
    assert c.request(b"Z0,%x,4" % (BUMP + 1)) == b"OK"
    reply = run_for(c, 0.5)
    assert reply.startswith(b"T02"), reply
    assert c.request(b"z0,%x,4" % (BUMP + 1)) == b"OK"
    assert c.request(b"Z0,%x,4" % BUMP) == b"OK"
    reply = c.request(b"vCont;c", timeout=30)
    assert reply.startswith(b"T05") and registers(c.request(b"g"))[15] == BUMP
