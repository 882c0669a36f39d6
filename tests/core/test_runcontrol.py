"""Run control through the Python API: stop, step, breakpoints, watchpoints, resume."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tuiemu.devices.console import Console
from tuiemu.machine import Machine

from ..elfgen import BASE, mov32, write_program

# r1 = data address; loop: r0 += 1; str r0, [r1]; b loop
LOOP = mov32(1, BASE + 0x1000) + [0xE3A00000, 0xE2800001, 0xE5810000, 0xEAFFFFFC]
LOOP_HEAD = BASE + 12  # the add


@pytest.fixture(params=["single", "multi"])
def machine(request: pytest.FixtureRequest, tmp_path: Path) -> Machine:
    m = Machine(threads=request.param, console=Console(out=None))
    m.load_elf(str(write_program(tmp_path / "loop.elf", LOOP)))
    yield m
    m.exit(0)
    m.runctl.resume()
    if m._thread is not None:
        m._thread.join(5)


def wait_for(cond, timeout: float = 10.0) -> None:
    t0 = time.monotonic()
    while not cond():
        assert time.monotonic() - t0 < timeout, "timed out"
        time.sleep(0.002)


def test_breakpoint_stops_before_the_instruction(machine: Machine) -> None:
    hit = threading.Event()
    machine.runctl.listeners.append(lambda v, reason: hit.set())
    machine.runctl.add_breakpoint(LOOP_HEAD)
    machine.start()
    assert hit.wait(10)
    v = machine.vcpus[0]
    machine.runctl.stop()
    assert v.R[15] == LOOP_HEAD and v.stop_reason["reason"] == "breakpoint"
    first = v.R[0]
    # continuing steps past the breakpoint and stops at it again one iteration later
    hit.clear()
    machine.runctl.resume()
    assert hit.wait(10)
    machine.runctl.stop()
    assert v.R[15] == LOOP_HEAD and v.R[0] == first + 1


def test_step_executes_exactly_one_instruction(machine: Machine) -> None:
    machine.runctl.stop()
    machine.start()
    v = machine.vcpus[0]
    pcs = []
    for _ in range(8):
        assert machine.runctl.step(v)["reason"] == "step"
        pcs.append(v.R[15])
    assert pcs == [BASE + 4, BASE + 8, BASE + 12, BASE + 16, BASE + 20, BASE + 12, BASE + 16, BASE + 20]
    assert v.R[0] == 2 and v.counters.insns == 8


def test_stepping_a_loop_translates_each_instruction_once_and_sees_code_writes(machine: Machine) -> None:
    """Single steps keep their one-instruction blocks: a second pass round the loop translates
    nothing, and a debugger write to the loop's code is what the next step runs."""
    machine.runctl.stop()
    machine.start()
    v = machine.vcpus[0]
    for _ in range(6):  # movw, movt, mov, add, str, b: at the add again
        machine.runctl.step(v)
    translated = v.counters.translated
    for _ in range(6):  # two more rounds of add, str, b
        machine.runctl.step(v)
    assert v.counters.translated == translated and v.R[0] == 3
    machine.write_memory(LOOP_HEAD, (0xE2800010).to_bytes(4, "little"))  # add r0, r0, #16
    assert v.R[15] == LOOP_HEAD
    machine.runctl.step(v)
    assert v.R[0] == 19 and v.counters.translated == translated + 1

def test_write_watchpoint_reports_before_the_store(machine: Machine) -> None:
    hit = threading.Event()
    machine.runctl.listeners.append(lambda v, reason: hit.set())
    machine.runctl.add_watchpoint(BASE + 0x1000, 4, "watch")
    machine.start()
    assert hit.wait(10)
    machine.runctl.stop()
    v = machine.vcpus[0]
    assert v.stop_reason["reason"] == "watch" and v.stop_reason["addr"] == BASE + 0x1000
    assert v.R[15] == BASE + 16  # the str, not yet performed
    assert machine.read_memory(BASE + 0x1000, 4, physical=True) == bytes(4)
    assert machine.runctl.step(v)["reason"] == "step"  # stepping performs the store
    assert machine.read_memory(BASE + 0x1000, 4, physical=True) == (1).to_bytes(4, "little")


def test_stop_and_resume_while_running(machine: Machine) -> None:
    machine.start()
    v = machine.vcpus[0]
    wait_for(lambda: v.counters.insns > 1000)
    machine.runctl.stop()
    assert machine.runctl.is_stopped(v)
    n = v.counters.insns
    time.sleep(0.05)
    assert v.counters.insns == n
    machine.runctl.resume()
    wait_for(lambda: v.counters.insns > n + 1000)
