"""tuiemu's gdb stub driven by a real gdb-multiarch (through pygdbmi), every vCPU a thread."""
from __future__ import annotations

import re
import time
from typing import Callable, Iterator, List, Tuple

import pytest

from ..conftest import EXAMPLES, guest
from .gdbmi import Gdb, need_gdb
from .rsp import SMP_DEBUG, Emulator, RawClient

STACK_TOP = 0x40011030  # smp_debug: core N's stack starts at STACK_TOP - N * 16 KiB


@pytest.fixture
def session() -> Iterator[Tuple[Emulator, Gdb]]:
    need_gdb()
    with Emulator(SMP_DEBUG, "-smp", "4") as emu, Gdb(SMP_DEBUG) as gdb:
        gdb.connect(emu.port)
        yield emu, gdb


def _run_briefly(gdb: Gdb, seconds: float = 0.3) -> dict:
    gdb.mi("-exec-continue")
    gdb.wait_running()
    time.sleep(seconds)
    gdb.mi("-exec-interrupt")
    return gdb.wait_stopped()


def _stop_all_in_bump(gdb: Gdb) -> dict:
    """Run until every core has started looping, then stop at the next bump()."""
    for _ in range(20):
        _run_briefly(gdb)
        if all(gdb.int_value(f"counters[{i}]") > 0 for i in range(4)):
            break
    gdb.mi("-break-insert bump")
    gdb.mi("-exec-continue")
    stop = gdb.wait_stopped()
    assert stop["reason"] == "breakpoint-hit", stop
    gdb.mi("-break-delete")
    return stop


def _wait_until(cond: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.1)


def test_connect_lists_every_vcpu_as_a_thread(session: Tuple[Emulator, Gdb]) -> None:
    emu, gdb = session
    threads = gdb.threads()
    assert [t["id"] for t in threads] == ["1", "2", "3", "4"]
    assert [t.get("name") for t in threads] == ["cpu0", "cpu1", "cpu2", "cpu3"]
    assert "stopped" in threads[0]["details"] and "powered off" in threads[1]["details"]
    out = gdb.cli("info threads")
    assert out.count('"cpu') == 4
    # -S: stopped at the entry point
    assert gdb.int_value("$pc") == 0x40000000


def test_breakpoint_in_smp_code_reports_the_right_thread(session: Tuple[Emulator, Gdb]) -> None:
    emu, gdb = session
    gdb.mi("-break-insert special")  # only core 3 calls special()
    gdb.mi("-exec-continue")
    stop = gdb.wait_stopped()
    assert stop["reason"] == "breakpoint-hit" and stop["frame"]["func"] == "special"
    assert stop["thread-id"] == "4"
    assert gdb.int_value("$r0") == 3
    # every vCPU is stopped (all-stop)
    assert all("[stopped" in t["details"] for t in gdb.threads())
    # continue: it hits again, on the same vCPU
    gdb.mi("-exec-continue")
    stop = gdb.wait_stopped()
    assert stop["thread-id"] == "4" and stop["frame"]["func"] == "special"


def test_continue_stepi_step_finish(session: Tuple[Emulator, Gdb]) -> None:
    emu, gdb = session
    stop = _stop_all_in_bump(gdb)
    tid = stop["thread-id"]
    pc = gdb.int_value("$pc")
    gdb.mi("-exec-step-instruction")
    stop = gdb.wait_stopped()
    assert stop["reason"] == "end-stepping-range" and stop["thread-id"] == tid
    assert gdb.int_value("$pc") == pc + 4
    line = int(stop["frame"]["line"])
    gdb.mi("-exec-next")
    stop = gdb.wait_stopped()
    assert stop["thread-id"] == tid and stop["frame"]["func"] == "bump" and int(stop["frame"]["line"]) > line
    gdb.mi("-exec-finish")
    stop = gdb.wait_stopped()
    assert stop["reason"] == "function-finished" and stop["thread-id"] == tid
    assert stop["frame"]["func"] == "worker"
    # step into bump again from worker, source-level
    for _ in range(6):
        gdb.mi("-exec-step")
        stop = gdb.wait_stopped()
        if stop["frame"]["func"] == "bump":
            break
    assert stop["frame"]["func"] == "bump" and stop["thread-id"] == tid


def test_registers_differ_per_thread(session: Tuple[Emulator, Gdb]) -> None:
    emu, gdb = session
    _stop_all_in_bump(gdb)
    sps = {}
    for tid in (1, 2, 3, 4):
        sp = gdb.int_value("$sp", thread=tid)
        assert STACK_TOP - tid * 0x4000 < sp <= STACK_TOP - (tid - 1) * 0x4000, hex(sp)
        sps[tid] = sp
        # worker keeps its core number in r4 around every call
        assert gdb.int_value("$r4", thread=tid) == tid - 1
    assert len(set(sps.values())) == 4
    # writing a register of one thread leaves the others alone
    gdb.mi("-thread-select 2")
    gdb.cli("set var $r7 = 0x12345678")
    assert gdb.int_value("$r7", thread=2) == 0x12345678
    assert all(gdb.int_value("$r7", thread=t) != 0x12345678 for t in (1, 3, 4))
    assert gdb.cli("info registers cpsr").strip().startswith("cpsr")


def test_watchpoint_hit_is_reported_on_the_writing_vcpu(session: Tuple[Emulator, Gdb]) -> None:
    emu, gdb = session
    gdb.mi("-break-watch watched")  # only core 2 (thread 3) writes it
    gdb.mi("-exec-continue")
    stop = gdb.wait_stopped()
    assert stop["reason"] == "watchpoint-trigger", stop
    assert stop["thread-id"] == "3"
    assert int(stop["value"]["new"]) == 64 and int(stop["value"]["old"]) == 0
    gdb.mi("-exec-continue")
    stop = gdb.wait_stopped()
    assert stop["thread-id"] == "3" and int(stop["value"]["new"]) == 128
    # a read watchpoint on a counter only core 1 reads
    gdb.mi("-break-delete")
    gdb.mi("-break-watch -r counters[1]")
    gdb.mi("-exec-continue")
    stop = gdb.wait_stopped()
    assert stop["reason"] == "read-watchpoint-trigger" and stop["thread-id"] == "2", stop


def test_memory_read_write_and_exit_code(session: Tuple[Emulator, Gdb]) -> None:
    emu, gdb = session
    _stop_all_in_bump(gdb)
    # read: the code of bump as the ELF has it, and a variable
    words = gdb.mi("-data-read-memory-bytes bump 8")["payload"]["memory"][0]["contents"]
    assert words == "083001e3003044e3"
    assert gdb.int_value("exit_status") == 7
    # write through gdb (binary X packets), read back
    gdb.cli("set var exit_status = 42")
    assert gdb.int_value("exit_status") == 42
    gdb.mi('-data-write-memory-bytes &specials "deadbeef"')
    assert gdb.int_value("specials") == 0xEFBEADDE
    # unmapped memory gives an error, not a crash
    rec = gdb.mi("-data-read-memory-bytes 0x20000000 4", ok=False)
    assert rec["message"] == "error"
    # let the guest finish: core 0 exits with the status we wrote
    gdb.cli("set var stop_request = 1")
    gdb.mi("-exec-continue")
    stop = gdb.wait_stopped()
    assert stop["reason"] == "exited" and stop["exit-code"] == "052"
    assert emu.wait() == 42


def test_write_over_translated_code_takes_effect(session: Tuple[Emulator, Gdb]) -> None:
    emu, gdb = session
    stop = _stop_all_in_bump(gdb)
    tid = int(stop["thread-id"])
    gdb.cli("set scheduler-locking on")
    gdb.mi("-break-insert bump")
    before = gdb.int_value(f"counters[{tid - 1}]")
    # bump's "add r2, r2, #1" (already translated and run) becomes "add r2, r2, #5"
    assert gdb.int_value("*(unsigned int *)(bump + 12)") == 0xE2822001
    gdb.cli("set var *(unsigned int *)(bump + 12) = 0xe2822005")
    gdb.mi("-exec-continue")
    stop = gdb.wait_stopped()
    assert stop["thread-id"] == str(tid)
    assert gdb.int_value(f"counters[{tid - 1}]") == before + 5


def test_ctrl_c_interrupts_a_running_guest(session: Tuple[Emulator, Gdb]) -> None:
    emu, gdb = session
    gdb.mi("-exec-continue")
    gdb.wait_running()
    time.sleep(0.5)
    gdb.mi("-exec-interrupt")
    stop = gdb.wait_stopped()
    assert stop["reason"] == "signal-received" and stop["signal-name"] == "SIGINT"
    counts = [gdb.int_value(f"counters[{i}]") for i in range(4)]
    assert all(c > 0 for c in counts), counts
    time.sleep(0.2)  # stopped means stopped: nothing moves
    assert [gdb.int_value(f"counters[{i}]") for i in range(4)] == counts
    assert all("[stopped" in t["details"] for t in gdb.threads())


def test_monitor_commands(session: Tuple[Emulator, Gdb]) -> None:
    emu, gdb = session
    _stop_all_in_bump(gdb)
    assert "info cpus" in gdb.cli("monitor help")
    cpus = gdb.cli("monitor info cpus")
    assert all(f"cpu{i}" in cpus for i in range(4)) and "<bump" in cpus and "insns" in cpus
    tlb = gdb.cli("monitor info tlb")
    assert "soft TLB" in tlb and "0x40000000" in tlb
    tbs = gdb.cli("monitor info tbs")
    assert "translated" in tbs and "flushes" in tbs
    stats = gdb.cli("monitor stats")
    assert "locks:" in stats and "contended" in stats
    assert "flushed" in gdb.cli("monitor tb-flush")
    assert "flushes: 1" in gdb.cli("monitor info tbs") or "flushes: " in gdb.cli("monitor info tbs")
    assert "physical" in gdb.cli("monitor phys on")
    assert gdb.int_value("exit_status") == 7  # MMU off: physical = virtual
    assert "virtual" in gdb.cli("monitor phys off")
    assert "delivered" in gdb.cli("monitor step-irqs on")
    assert "held off" in gdb.cli("monitor step-irqs off")
    assert "unknown command" in gdb.cli("monitor frobnicate")
    # the guest still runs afterwards
    gdb.mi("-exec-continue")
    gdb.wait_running()
    gdb.mi("-exec-interrupt")
    gdb.wait_stopped()


def test_detach_lets_the_guest_run_on(session: Tuple[Emulator, Gdb]) -> None:
    emu, gdb = session
    _stop_all_in_bump(gdb)
    gdb.mi("-break-insert bump")  # removed by the detach
    gdb.cli("set var exit_status = 9")
    gdb.cli("set var stop_request = 1")
    gdb.mi("-target-detach")
    assert emu.wait(30) == 9


def test_kill_ends_the_run(session: Tuple[Emulator, Gdb]) -> None:
    emu, gdb = session
    gdb.cli("kill")
    assert emu.wait(30) == 137


def test_dropped_connection_keeps_state_and_accepts_the_next_client(session: Tuple[Emulator, Gdb]) -> None:
    emu, gdb = session
    _stop_all_in_bump(gdb)
    gdb.mi("-break-insert special")
    pcs = [gdb.int_value("$pc", thread=t) for t in (1, 2, 3, 4)]
    gdb.cli("disconnect")  # closes the connection without detaching
    # a second gdb finds the vCPUs where the first left them, breakpoints gone
    with Gdb(SMP_DEBUG) as gdb2:
        gdb2.connect(emu.port)
        assert [gdb2.int_value("$pc", thread=t) for t in (1, 2, 3, 4)] == pcs
        gdb2.cli("set var stop_request = 1")
        gdb2.mi("-exec-continue")
        stop = gdb2.wait_stopped()
        assert stop["reason"] == "exited" and stop["exit-code"] == "07"
    assert emu.wait() == 7


def test_second_client_is_refused_while_one_is_attached(session: Tuple[Emulator, Gdb]) -> None:
    emu, gdb = session
    other = RawClient(emu.port, timeout=2)
    assert other.drain(1.5) == b""  # closed after a grace period, without a word
    with pytest.raises((ConnectionError, OSError)):
        other.request(b"?", timeout=2)
    other.close()
    assert gdb.int_value("$pc") == 0x40000000  # the first one is unaffected


def test_attach_to_a_running_guest_stops_it() -> None:
    need_gdb()
    with Emulator(SMP_DEBUG, "-smp", "2", paused=False) as emu, Gdb(SMP_DEBUG) as gdb:
        time.sleep(0.5)
        gdb.connect(emu.port)
        threads = gdb.threads()
        assert len(threads) == 2 and all("[stopped" in t["details"] for t in threads)
        counts = [gdb.int_value(f"counters[{i}]") for i in range(2)]
        assert all(n > 0 for n in counts)
        assert gdb.int_value("cores_up") == 2  # CPU_ON for cores 2 and 3 failed: only 2 vCPUs
        gdb.cli("set var stop_request = 1")
        gdb.mi("-exec-continue")
        assert gdb.wait_stopped()["exit-code"] == "07"
        assert emu.wait() == 7


def test_non_stop_halts_and_steps_one_vcpu_while_the_others_run() -> None:
    need_gdb()
    with Emulator(SMP_DEBUG, "-smp", "4") as emu, Gdb(SMP_DEBUG, non_stop=True) as gdb:
        gdb.connect(emu.port)
        gdb.mi("-exec-continue --all")
        time.sleep(0.5)
        # bring the secondaries up: they only exist once core 0 has powered them on
        gdb.mi("-exec-interrupt --thread 2")
        stop = gdb.wait_stopped(thread="2")
        assert stop["reason"] == "signal-received" and stop["signal-name"] in ("0", "SIGINT", "SIGSTOP")
        threads = {t["id"]: t for t in gdb.threads()}
        assert threads["2"]["state"] == "stopped"
        assert all(threads[t]["state"] == "running" for t in ("1", "3", "4"))

        def insns() -> dict:
            out = gdb.cli("monitor info cpus")
            return {m.group(1): int(m.group(2)) for m in re.finditer(r"(cpu\d)\s+\S.*?0x[0-9a-f]+\s+\S+\s+(\d+)", out)}

        def bumps() -> List[int]:
            return [gdb.int_value(f"counters[{i}]", thread=2) for i in range(4)]

        first, first_bumps = insns(), bumps()
        pc = gdb.int_value("$pc", thread=2)
        gdb.mi("-exec-step-instruction --thread 2")
        stop = gdb.wait_stopped(thread="2")
        assert stop["reason"] == "end-stepping-range"
        assert gdb.int_value("$pc", thread=2) != pc
        # the others advance: the guest's counters, and the instruction counts of `monitor info
        # cpus` (brought up to date every 2**20 instructions for a running vCPU)
        _wait_until(lambda: all(b > a for i, (a, b) in enumerate(zip(first_bumps, bumps())) if i != 1))
        _wait_until(lambda: all(insns()[c] > first[c] for c in ("cpu0", "cpu2", "cpu3")))
        second = insns()
        assert second["cpu1"] == first["cpu1"] + 1, (first, second)
        assert bumps()[1] == first_bumps[1]
        # the others can be stopped one by one, and resumed
        gdb.mi("-exec-interrupt --thread 3")
        gdb.wait_stopped(thread="3")
        gdb.mi("-exec-continue --thread 2")
        time.sleep(0.2)
        states = {t["id"]: t["state"] for t in gdb.threads()}
        assert states == {"1": "running", "2": "running", "3": "stopped", "4": "running"}
        # a breakpoint stops only the vCPU that hits it
        gdb.mi("-break-insert special")
        stop = gdb.wait_stopped(thread="4")
        assert stop["reason"] == "breakpoint-hit"
        states = {t["id"]: t["state"] for t in gdb.threads()}
        assert states["1"] == "running" and states["4"] == "stopped"
        gdb.mi("-break-delete")
        gdb.cli("set var stop_request = 1")
        gdb.mi("-exec-continue --all")
        assert emu.wait(30) == 7


def test_conformance_smp_spinlock_guest_every_cpu_enters_worker() -> None:
    need_gdb()
    elf = guest("smp_spinlock")
    with Emulator(elf, "-smp", "4") as emu, Gdb(elf) as gdb:
        gdb.connect(emu.port)
        gdb.mi("-break-insert worker")
        seen = set()
        for _ in range(4):
            gdb.mi("-exec-continue")
            stop = gdb.wait_stopped(timeout=60)
            assert stop["reason"] == "breakpoint-hit" and stop["frame"]["func"] == "worker"
            seen.add(stop["thread-id"])
            assert gdb.int_value("$r0") == int(stop["thread-id"]) - 1  # worker(cpu)
        assert seen == {"1", "2", "3", "4"}
        gdb.cli("kill")
        assert emu.wait(30) == 137


def test_shipped_smp_hello_example() -> None:
    need_gdb()
    elf = EXAMPLES / "smp_hello" / "smp_hello.elf"
    with Emulator(elf, "-smp", "4") as emu, Gdb(elf) as gdb:
        gdb.connect(emu.port)
        gdb.mi("-break-insert spin_lock")
        seen = set()
        for _ in range(8):
            gdb.mi("-exec-continue")
            stop = gdb.wait_stopped(timeout=60)
            if stop.get("reason") == "exited":
                break
            seen.add(stop["thread-id"])
            if len(seen) == 4:
                break
        assert seen == {"1", "2", "3", "4"}
        gdb.mi("-break-delete")
        gdb.mi("-exec-continue")
        stop = gdb.wait_stopped(timeout=60)
        assert stop["reason"] == "exited-normally" or stop.get("exit-code") == "00"
        assert emu.wait() == 0


# ---- the reporting vCPU is the one commands act on (gdb does not re-select it with Hg) --------
def _monitor_pcs(gdb: Gdb) -> dict:
    out = gdb.cli("monitor info cpus")
    return {int(m.group(1)): int(m.group(2), 16) for m in re.finditer(r"cpu(\d)\s+\S.*?(0x[0-9a-f]{8})", out)}


def _current_marker(gdb: Gdb) -> int:
    """The vCPU `monitor info cpus` marks as gdb's current thread."""
    line = next(ln for ln in gdb.cli("monitor info cpus").splitlines() if ln.startswith("*"))
    return int(re.search(r"cpu(\d)", line).group(1))  # type: ignore[union-attr]


def _commands_act_on(gdb: Gdb, core: int, func: str, finish: bool = True, marker: bool = True) -> None:
    """p $pc, bt, x/i $pc, info registers, stepi and finish all concern vCPU ``core``. ``marker``:
    `monitor info cpus` marks it as current (all-stop: the stub's general thread follows the stop;
    in non-stop gdb selects threads with Hg only when it needs to, and monitor packets carry none)."""
    tid = str(core + 1)
    pcs = _monitor_pcs(gdb)
    pc = int(gdb.cli("p/x $pc").split("=")[1], 16)
    assert pc == pcs[core], (core, hex(pc), pcs)
    assert not marker or _current_marker(gdb) == core
    bt = gdb.cli("bt")
    assert re.search(rf"#0 .*{func}", bt) and "worker" in bt and "core_main" in bt, bt
    assert f"core={core}" in bt.split("worker")[1].split("\n")[0], bt
    x = gdb.cli("x/i $pc")
    assert f"{pc:#x}" in x and f"<{func}" in x, x
    regs = {m.group(1): int(m.group(2), 16) for m in re.finditer(r"^(\w+)\s+(0x[0-9a-f]+)", gdb.cli("info registers"),
                                                                   re.M)}
    assert regs["pc"] == pc and regs["r4"] == core
    assert STACK_TOP - (core + 1) * 0x4000 < regs["sp"] <= STACK_TOP - core * 0x4000, hex(regs["sp"])
    gdb.cli("stepi")
    stop = gdb.wait_stopped()
    assert stop["thread-id"] == tid and int(stop["frame"]["addr"], 16) == pc + 4, stop
    assert int(gdb.cli("p/x $pc").split("=")[1], 16) == pc + 4 == _monitor_pcs(gdb)[core]
    if finish:
        gdb.cli("finish")
        stop = gdb.wait_stopped()
        assert stop["reason"] == "function-finished" and stop["thread-id"] == tid, stop
        assert stop["frame"]["func"] == "worker" and (not marker or _current_marker(gdb) == core)
        assert int(gdb.cli("p/x $pc").split("=")[1], 16) == _monitor_pcs(gdb)[core]


def _hits_by_each_secondary(gdb: Gdb) -> None:
    gdb.cli("info threads")  # leaves the stub's general thread on one of them
    for core in (1, 2, 3):
        gdb.cli("info threads")
        gdb.cli(f"break bump if core == {core}")
        gdb.cli("continue")
        stop = gdb.wait_stopped(timeout=60)
        assert stop["reason"] == "breakpoint-hit" and stop["thread-id"] == str(core + 1), stop
        _commands_act_on(gdb, core, "bump")
        gdb.cli("delete")
    for core in (1, 2, 3):
        gdb.cli("info threads")
        gdb.cli(f"watch counters[{core}]")
        gdb.cli("continue")
        stop = gdb.wait_stopped(timeout=60)
        assert stop["reason"] == "watchpoint-trigger" and stop["thread-id"] == str(core + 1), stop
        _commands_act_on(gdb, core, "bump", finish=False)
        gdb.cli("delete")


@pytest.mark.slow
def test_commands_follow_a_stop_reported_by_a_secondary_vcpu(session: Tuple[Emulator, Gdb]) -> None:
    emu, gdb = session
    _stop_all_in_bump(gdb)
    _hits_by_each_secondary(gdb)


@pytest.mark.slow
def test_commands_follow_the_stop_after_a_fresh_attach(session: Tuple[Emulator, Gdb]) -> None:
    emu, gdb = session
    _stop_all_in_bump(gdb)
    gdb.cli("thread 3")
    gdb.cli("disconnect")
    with Gdb(SMP_DEBUG) as gdb2:
        gdb2.connect(emu.port)
        _hits_by_each_secondary(gdb2)


@pytest.mark.slow
def test_non_stop_commands_act_on_the_vcpu_that_stopped() -> None:
    need_gdb()
    with Emulator(SMP_DEBUG, "-smp", "4") as emu, Gdb(SMP_DEBUG, non_stop=True) as gdb:
        gdb.connect(emu.port)
        gdb.mi("-exec-continue --all")
        _wait_until(lambda: all(gdb.int_value(f"counters[{i}]", thread=1) > 0 for i in range(4)))
        for core in (1, 2, 3):
            gdb.cli("thread 1")
            gdb.cli(f"break bump if core == {core}")
            stop = gdb.wait_stopped(thread=str(core + 1), timeout=60)
            assert stop["reason"] == "breakpoint-hit"
            gdb.cli("delete")
            gdb.cli(f"thread {core + 1}")
            _commands_act_on(gdb, core, "bump", marker=False)
            # (gdb itself may pause the others for a moment to step one over finish's breakpoint)
            _wait_until(lambda: {t["id"]: t["state"] for t in gdb.threads()}["1"] == "running")
            assert {t["id"]: t["state"] for t in gdb.threads()}[str(core + 1)] == "stopped"
            gdb.mi(f"-exec-continue --thread {core + 1}")
        gdb.cli("set var stop_request = 1")
        assert emu.wait(30) == 7


def test_vfp_and_neon_registers_read_and_write_per_vcpu(session: Tuple[Emulator, Gdb]) -> None:
    """d, s and q registers through gdb's vfp and neon features; each vCPU has its own."""
    emu, gdb = session
    _stop_all_in_bump(gdb)
    gdb.mi("-thread-select 2")
    gdb.cli("set var $d0.f64 = 1.5")
    gdb.cli("set var $q1.u64[0] = 0x1122334455667788")
    gdb.cli("set var $q1.u64[1] = 0x99aabbccddeeff00")
    gdb.cli("set var $fpscr = 0x03c00000")  # RMode towards zero, FZ, DN
    assert gdb.value("$d0.f64", thread=2) == "1.5"
    assert gdb.value("$s1", thread=2) == "1.9375"  # the high half of 1.5 (0x3ff80000) as a float
    assert gdb.int_value("$d2.u64", thread=2) == 0x1122334455667788  # q1 is d2:d3
    assert gdb.int_value("$d3.u32[1]", thread=2) == 0x99AABBCC
    assert gdb.int_value("$fpscr", thread=2) == 0x03C00000
    for other in (1, 3, 4):
        assert gdb.int_value("$d2.u64", thread=other) != 0x1122334455667788
    # the written state is the vCPU's own: it survives a step of that vCPU
    gdb.mi("-exec-step-instruction")
    gdb.wait_stopped()
    assert gdb.int_value("$q1.u64[1]", thread=2) == 0x99AABBCCDDEEFF00
    assert "fpscr" in gdb.cli("info registers float", ok=True)
