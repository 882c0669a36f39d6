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
then has left it (the safe-work grace period), and a STREX on an unsettled
guard fails (the architecture lets STREX fail at any time; the guest retries)
after asking those vCPUs to leave at their next block boundary. Waiting instead could deadlock two STREXes on
each other. SWP cannot fail and keeps the lock alone: a racing plain store can
still be lost under it.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Set

from ..core.locks import InstrumentedLock
from .codepages import GRANULE_SHIFT, CodePages
from .pagetable import FS_ALIGNMENT, READ, WRITE, fault


class ExclusiveMonitor:
    def __init__(self, code: CodePages) -> None:
        # recursive: a STREX's own store reaches the TLB's slow path, which takes it (uncounted,
        # as plain stores to a guarded granule do: they are too frequent for the statistics)
        self.lock = InstrumentedLock("exclusive", recursive=True)
        # plain stores to a guarded granule take the same lock, uncounted: they are hot
        self.store_lock = self.lock._lock
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

    def _settled(self, x: Any, granule: int) -> bool:
        seen = self.settling.get(granule)
        if seen is None:
            return True
        if self.done_since(seen):
            self.settling.pop(granule, None)
            return True
        for v in self.vcpus:
            if v.index in seen:
                v.exit_request = True
        return False

    def load(self, x: Any, addr: int, size: int, priv: int) -> int:
        if addr & (size - 1):
            raise fault(READ, FS_ALIGNMENT, addr)
        value = self._read(x, addr, size, priv)
        if self.guards_needed:
            granule = x.tlb.translate(addr, READ, priv) >> GRANULE_SHIFT
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
        if self.guards_needed:
            granule = x.tlb.translate(addr, READ, priv) >> GRANULE_SHIFT
            if granule not in self.guards:  # the mapping changed since LDREX
                self._guard(x, granule)
            if not self._settled(x, granule):
                return 1
        with self.lock:
            if self._read(x, addr, size, priv) != s.excl_val:
                return 1
            self._write(x, addr, size, value, priv)
        return 0

    def swap(self, x: Any, addr: int, size: int, value: int, priv: int) -> int:
        if size == 4 and addr & 3:
            raise fault(READ, FS_ALIGNMENT, addr)
        with self.lock:
            old = self._read(x, addr, size, priv)
            self._write(x, addr, size, value, priv)
        return old
