"""The global exclusive monitor: LDREX/STREX (B, H, word, D) and SWP across host threads.

Each vCPU's local monitor is its (address, size, value) triple in its state.
A STREX succeeds only if that vCPU's monitor holds the address and memory
still holds the value it read; compare and store run under one lock shared by
every STREX and SWP, so two of them never interleave. As with QEMU, a store
that writes back the value LDREX saw (ABA) is not detected.

A plain store from another vCPU must not land between a STREX's compare and
its store (it would be lost). When several host threads run vCPUs, LDREX puts
a *guard* on the physical granule it reads (16 bytes, sticky): the granule's
page leaves every TLB's page write maps, and a store to a guarded granule
writes under the monitor lock (through the slow path or the granule map). A
store that had passed its fast-path check before the guard can still land
later; the guard is settled once every vCPU that was inside translated code
then has left it (the safe-work grace period): LDREX asks them to leave at
their next block boundary, and a STREX on an unsettled guard fails (the
architecture lets STREX fail at any time; the guest retries). Waiting instead
could deadlock two STREXes on each other. The failing vCPU then yields as for
YIELD: under the GIL the vCPUs it waits for cannot leave while it spins, and
spinning on a new guard was a third of a multi-threaded Linux boot (10 M failed
STREXes for 59,000 guards). SWP cannot fail and keeps the lock alone: a racing
plain store can still be lost under it.

The common case runs on the soft TLB's fast maps: LDREX reads through the page
read map, and a STREX whose page (write map) or granule (granule map) the TLB
may write without the slow path compares and stores RAM directly, holding the
raw lock around subscripts alone (core/locks.py: under the GIL no thread switch
can happen inside, so no vCPU ever waits on a holder that cannot run). Those
maps leave out watched pages, MMIO and granules with code, so nothing else is
owed: no watchpoint check, no code invalidation. Everything else takes the slow
path, whole, under the instrumented lock.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Dict, List, Optional, Set

from ..core.locks import InstrumentedLock
from .address_space import PAGE_SHIFT
from .codepages import GRANULE_SHIFT, GRANULES, CodePages
from .pagetable import FS_ALIGNMENT, READ, WRITE, fault


class ExclusiveMonitor:
    def __init__(self, code: CodePages) -> None:
        # Not recursive (``raw.locked()`` tells a fast STREX it waited): a slow STREX or SWP sets its
        # TLB's ``monitor_held``, and its own store through the TLB's slow path leaves the lock alone.
        self.lock = InstrumentedLock("exclusive")
        # plain stores to a guarded granule take it raw and uncounted (too frequent for statistics)
        self.store_lock = self.lock.plain
        self.code = code
        self.guards: Set[int] = set()  # physical granule numbers (pa >> GRANULE_SHIFT)
        self.guard_pages: Set[int] = set()  # their physical page numbers
        self.generation = 0  # guards placed so far (a TLB filling its maps checks it did not move)
        self.settling: Dict[int, Dict[int, int]] = {}  # granule -> vCPUs inside when it was guarded
        self.guards_needed = False  # several host threads run vCPUs (the machine sets it)
        self.vcpus: List[Any] = []
        # Who is inside translated code, and have they all left since (the machine connects SafeWork).
        self.in_flight: Callable[[], Dict[int, int]] = dict
        self.done_since: Callable[[Dict[int, int]], bool] = lambda seen: True

    @staticmethod
    def _read(x: Any, addr: int, size: int, priv: int) -> int:
        if size == 8:
            lo = x.tlb.load(addr, 4, priv)
            return lo | (x.tlb.load((addr + 4) & 0xFFFFFFFF, 4, priv) << 32)
        return x.tlb.load(addr, size, priv)

    @staticmethod
    def _write(x: Any, addr: int, size: int, value: int, priv: int) -> None:
        if size == 8:
            x.tlb.translate((addr + 4) & 0xFFFFFFFF, WRITE, priv)  # fault before the first half lands
            x.tlb.store(addr, 4, value & 0xFFFFFFFF, priv)
            x.tlb.store((addr + 4) & 0xFFFFFFFF, 4, value >> 32, priv)
        else:
            x.tlb.store(addr, size, value, priv)

    def _guard(self, x: Any, granule: int) -> None:
        """Make plain stores to ``granule`` serialise with STREX (see the module docstring)."""
        ppn = granule >> (12 - GRANULE_SHIFT)
        with self.lock:
            if granule in self.guards:
                return
            first = ppn not in self.guard_pages  # else the page write maps are rid of it already
            self.guards.add(granule)  # before the drop: a TLB filling its maps now sees the guard
            self.guard_pages.add(ppn)
            self.generation += 1
        self.code.drop_fast_writes(ppn, pages=first)
        seen = self.in_flight()  # after the drop: who may still finish a store through a dropped entry
        seen.pop(x.index, None)  # this vCPU's own stores are behind it
        if seen:
            self.settling[granule] = seen
            self._hurry(seen)

    def _hurry(self, seen: Dict[int, int]) -> None:
        """Ask the vCPUs a guard waits for to leave translated code at their next block boundary."""
        for i in seen:
            self.vcpus[i].exit_request = True

    def _settled(self, x: Any, granule: int) -> bool:
        seen = self.settling.get(granule)
        if seen is None:
            return True
        if self.done_since(seen):
            self.settling.pop(granule, None)
            return True
        self._hurry(seen)
        x.yield_()
        return False

    def load(self, x: Any, addr: int, size: int, priv: int) -> int:
        if addr & (size - 1):
            raise fault(READ, FS_ALIGNMENT, addr)
        tlb = x.tlb
        delta = tlb.rmap[priv].get(addr >> PAGE_SHIFT)
        if delta is None:
            value = self._read(x, addr, size, priv)
            pa = tlb.translate(addr, READ, priv) if self.guards_needed else 0
        else:
            value = _peek(tlb.ram, addr + delta, size)
            pa = tlb.ram_base + addr + delta
        if self.guards_needed:
            granule = pa >> GRANULE_SHIFT
            if granule not in self.guards:
                self._guard(x, granule)
        s = x.state
        s.excl_addr, s.excl_size, s.excl_val = addr, size, value
        return value

    def store(self, x: Any, addr: int, size: int, value: int, priv: int) -> int:
        """0 if the store was performed, 1 if not."""
        if addr & (size - 1):
            raise fault(WRITE, FS_ALIGNMENT, addr)
        s = x.state
        ok = s.excl_addr == addr and s.excl_size == size
        s.excl_addr = -1
        if not ok:
            return 1
        tlb = x.tlb
        delta = _fast_write_delta(tlb, addr, priv)
        if self.guards_needed:
            pa = tlb.translate(addr, READ, priv) if delta is None else tlb.ram_base + addr + delta
            granule = pa >> GRANULE_SHIFT
            if granule not in self.guards:  # the mapping changed since LDREX
                self._guard(x, granule)
            if granule in self.settling and not self._settled(x, granule):
                return 1
        if delta is None:
            with self.lock:
                tlb.monitor_held = True
                try:
                    if self._read(x, addr, size, priv) != s.excl_val:
                        return 1
                    self._write(x, addr, size, value, priv)
                finally:
                    tlb.monitor_held = False
            return 0
        return self._compare_and_store(tlb.ram, addr + delta, size, s.excl_val, value)

    def _compare_and_store(self, ram: Any, off: int, size: int, expect: int, value: int) -> int:
        """STREX on RAM at byte offset ``off``: the hold has no switch point (see the module docstring)."""
        raw = self.store_lock
        start, contended = _now(), raw.locked()  # a hint: the lock may change hands before the hold
        if size == 4:
            m32, i = ram.m32, off >> 2
            with raw:
                ok = m32[i] == expect
                if ok:
                    m32[i] = value & 0xFFFFFFFF
        elif size == 8:
            m32, i = ram.m32, off >> 2
            lo, hi = value & 0xFFFFFFFF, (value >> 32) & 0xFFFFFFFF
            with raw:
                ok = m32[i] | m32[i + 1] << 32 == expect
                if ok:
                    m32[i] = lo
                    m32[i + 1] = hi
        elif size == 1:
            m8 = ram.m8
            with raw:
                ok = m8[off] == expect
                if ok:
                    m8[off] = value & 0xFF
        else:
            m16, i = ram.m16, off >> 1
            with raw:
                ok = m16[i] == expect
                if ok:
                    m16[i] = value & 0xFFFF
        self.lock.account(start, contended)
        return 0 if ok else 1

    def swap(self, x: Any, addr: int, size: int, value: int, priv: int) -> int:
        if size == 4 and addr & 3:
            raise fault(READ, FS_ALIGNMENT, addr)
        with self.lock:
            x.tlb.monitor_held = True
            try:
                old = self._read(x, addr, size, priv)
                self._write(x, addr, size, value, priv)
            finally:
                x.tlb.monitor_held = False
        return old


_now = time.perf_counter_ns


def _peek(ram: Any, off: int, size: int) -> int:
    """An aligned read of RAM at byte offset ``off``."""
    if size == 4:
        return ram.m32[off >> 2]
    if size == 8:
        return ram.m32[off >> 2] | ram.m32[(off >> 2) + 1] << 32
    if size == 1:
        return ram.m8[off]
    return ram.m16[off >> 1]


def _fast_write_delta(tlb: Any, addr: int, priv: int) -> Optional[int]:
    """``va + delta`` = the RAM offset, if ``tlb`` may write ``addr`` without its slow path: its
    page write map has the page or its granule map the granule (guarded ones included)."""
    vpn = addr >> PAGE_SHIFT
    delta: Optional[int] = tlb.wmap[priv].get(vpn)
    if delta is None:
        e = tlb.gmap[priv].get(vpn)
        if e is not None and (e[1] | e[2]) >> ((addr >> GRANULE_SHIFT) & (GRANULES - 1)) & 1:
            delta = e[0]
    return delta
