"""LDREX/STREX on the soft TLB's fast maps: compare-and-store straight on RAM under the monitor's raw
lock, with the same outcome as the slow path, and never between another holder's compare and store."""
from __future__ import annotations

import threading
import time

import pytest

from tuiemu.devices.console import Console
from tuiemu.machine import Machine

from ..elfgen import BASE
from .test_exclusive_guard import DATA, blocked_in_tlb_store, plain_store, two_vcpus, wait_for


def warm(m: Machine, v: object, addr: int = DATA) -> None:
    """One slow STREX: afterwards the vCPU's TLB writes the granule on its fast path."""
    m.exclusive.load(v, addr, 4, 1)
    assert m.exclusive.store(v, addr, 4, m.exclusive.load(v, addr, 4, 1), 1) == 0


@pytest.mark.parametrize("threads", ["single", "multi"])
@pytest.mark.parametrize("size", [1, 2, 4, 8])
def test_fast_strex_succeeds_and_fails_as_the_slow_path_does(threads: str, size: int) -> None:
    m = Machine(ncpus=2, threads=threads, console=Console(out=None))
    a, b = m.vcpus
    for v in m.vcpus:
        v.power_on(BASE)
    warm(m, a)
    slow = a.tlb.counters.slow
    full = (1 << 8 * size) - 1
    assert m.exclusive.load(a, DATA, size, 1) == int.from_bytes(m.read_memory(DATA, size, physical=True), "little")
    assert m.exclusive.store(a, DATA, size, 0x1122334455667788 & full, 1) == 0
    assert m.read_memory(DATA, size, physical=True) == (0x1122334455667788 & full).to_bytes(size, "little")
    assert m.exclusive.store(a, DATA, size, 5, 1) == 1  # the monitor was cleared by the last STREX
    m.exclusive.load(a, DATA, size, 1)
    m.space.write(DATA, 1, 0x99)  # another agent changed the value since LDREX
    assert m.exclusive.store(a, DATA, size, 5, 1) == 1
    assert m.read_memory(DATA, 1, physical=True) == b"\x99"
    assert a.tlb.counters.slow == slow  # none of it left the fast maps
    assert m.exclusive.lock.totals()["acquired"] >= 2


def test_fast_strex_waits_for_the_monitor_lock() -> None:
    """A fast STREX takes the same lock as a slow one and as plain stores to a guarded granule."""
    m = two_vcpus()
    a, b = m.vcpus
    warm(m, a)
    m.exclusive.load(a, DATA, 4, 1)
    result: list = []
    with m.exclusive.store_lock:
        t = threading.Thread(target=lambda: result.append(m.exclusive.store(a, DATA, 4, 0xAAAA, 1)))
        t.start()
        time.sleep(0.05)
        assert not result and t.is_alive()
    t.join(10)
    assert result == [0] and m.read_memory(DATA, 4, physical=True) == (0xAAAA).to_bytes(4, "little")
    assert m.exclusive.lock.totals()["contended"] >= 1


def test_a_plain_store_to_a_guarded_granule_waits_for_the_monitor_lock() -> None:
    m = two_vcpus()
    a, b = m.vcpus
    plain_store(m, b, 1)
    m.exclusive.load(a, DATA, 4, 1)  # guards the granule
    plain_store(m, b, 1)  # b's slow store opens the granule in its granule map, under the lock
    assert b.tlb.gmap[1][DATA >> 12][2]
    done = threading.Event()
    with m.exclusive.store_lock:
        racer = threading.Thread(target=lambda: (plain_store(m, b, 0xBBBB), done.set()))
        racer.start()
        wait_for(lambda: blocked_in_tlb_store(racer))
        time.sleep(0.02)
        assert not done.is_set()
    assert done.wait(10)
    assert m.read_memory(DATA, 4, physical=True) == (0xBBBB).to_bytes(4, "little")
