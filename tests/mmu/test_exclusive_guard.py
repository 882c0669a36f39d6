"""A plain store from another vCPU is never lost between a STREX's compare and its store: LDREX guards
the granule, so that store takes the slow path and waits for the monitor lock."""
from __future__ import annotations

import sys
import threading
import time
from typing import Any, Callable

import pytest

from tuiemu.devices.console import Console
from tuiemu.machine import Machine
from tuiemu.mmu import tlb

from ..elfgen import BASE, branch

DATA = BASE + 0x1000
STR_R1_R2 = 0xE5821000


def wait_for(cond: Callable[[], bool], timeout: float = 30.0) -> None:
    t0 = time.monotonic()
    while not cond():
        assert time.monotonic() - t0 < timeout, "timed out"
        time.sleep(0.001)


def two_vcpus() -> Machine:
    """Two vCPUs in multi-thread mode (not started: the test drives them); vCPU 1's code is one
    translated ``str r1, [r2]`` that it runs through the same fast path as any guest store."""
    m = Machine(ncpus=2, threads="multi", console=Console(out=None))
    code = STR_R1_R2.to_bytes(4, "little") + branch(BASE + 4, BASE + 4).to_bytes(4, "little")
    m.space.write_bytes(BASE, code, force=True)
    for v in m.vcpus:
        v.power_on(BASE)
    return m


def plain_store(m: Machine, v: Any, value: int, addr: int = DATA) -> None:
    v.R[1], v.R[2], v.R[15] = value, addr, BASE
    m.engine.find_tb(v, BASE, v.state.tb_flags).fn(v.R, v.fast, v)


def blocked_in_tlb_store(t: threading.Thread) -> bool:
    """Is ``t`` inside a store of the soft TLB (the slow path or the granule map's), not in a callee:
    waiting for the monitor lock there, or about to."""
    frame = sys._current_frames().get(t.ident or -1)
    return frame is not None and frame.f_code.co_name in ("st", "store") and frame.f_code.co_filename == tlb.__file__


@pytest.mark.parametrize("warm", [False, True])
def test_a_store_racing_a_strex_is_not_overwritten(warm: bool) -> None:
    """``warm``: b has stored to the guarded granule before, so it goes through its granule map."""
    m = two_vcpus()
    a, b = m.vcpus
    plain_store(m, b, 1)  # b's TLB now writes the data page on its fast path
    assert b.tlb.wmap[1].get(DATA >> 12) is not None
    assert m.exclusive.load(a, DATA, 4, 1) == 1
    if warm:
        plain_store(m, b, 1)
        assert b.tlb.gmap[1][DATA >> 12][2]  # the granule is written under the lock
    b_done = threading.Event()
    real_load = a.tlb.load

    def compare_then_race(va: int, size: int, priv: int) -> int:
        """The STREX's compare: b stores now, and either lands or waits for the monitor lock."""
        value = real_load(va, size, priv)
        racer = threading.Thread(target=lambda: (plain_store(m, b, 0xBBBB), b_done.set()))
        racer.start()
        wait_for(lambda: b_done.is_set() or blocked_in_tlb_store(racer))
        return value

    a.tlb.load = compare_then_race  # type: ignore[method-assign]
    assert m.exclusive.store(a, DATA, 4, 0xAAAA, 1) == 0
    wait_for(b_done.is_set)
    # b's store comes after the STREX: it is what memory holds
    assert m.read_memory(DATA, 4, physical=True) == (0xBBBB).to_bytes(4, "little")


def test_a_guard_settles_once_the_vcpus_inside_have_left() -> None:
    """A store through an entry dropped by the guard may still be in flight: until every vCPU that was
    inside translated code has left it, STREX fails (and asks them to leave)."""
    m = two_vcpus()
    a, b = m.vcpus
    plain_store(m, b, 1)
    m.safe.exec_start(b)
    m.exclusive.load(a, DATA, 4, 1)
    assert b.tlb.wmap[1].get(DATA >> 12) is None  # the guard took the page off b's fast path
    b.exit_request = False
    assert m.exclusive.store(a, DATA, 4, 2, 1) == 1 and b.exit_request
    m.safe.exec_end(b)
    m.safe.exec_start(b)
    m.exclusive.load(a, DATA, 4, 1)
    assert m.exclusive.store(a, DATA, 4, 2, 1) == 0
    m.safe.exec_end(b)
    slow = b.tlb.counters.slow
    plain_store(m, b, 3)  # one slow store; then the guarded granule is written under the lock...
    plain_store(m, b, 3)
    plain_store(m, b, 4, DATA + 16)  # ...and the next one without it
    plain_store(m, b, 4, DATA + 16)
    assert b.tlb.counters.slow == slow + 2 and b.tlb.wmap[1].get(DATA >> 12) is None
    assert b.tlb.gmap[1][DATA >> 12][1:] == (2, 1)  # granule masks: (lock-free, under the lock)
    assert m.read_memory(DATA, 4, physical=True) == (3).to_bytes(4, "little")
    assert m.read_memory(DATA + 16, 4, physical=True) == (4).to_bytes(4, "little")


def test_one_host_thread_needs_no_guard() -> None:
    m = Machine(ncpus=2, threads="single", console=Console(out=None))
    m.vcpus[0].power_on(BASE)
    m.exclusive.load(m.vcpus[0], DATA, 4, 1)
    assert m.exclusive.store(m.vcpus[0], DATA, 4, 5, 1) == 0 and not m.exclusive.guards
