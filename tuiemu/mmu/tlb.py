"""One vCPU's soft TLB and the slow paths of its memory accesses.

Translated code does the fast path itself: it looks the virtual page up in a
plain dict (``rmap``/``wmap`` per privilege) that gives ``delta`` such that
``va + delta`` is the byte offset in RAM, and indexes the RAM views (mmu/hostviews.py).
Everything else (a miss, MMIO, flash, an unaligned access, a watched page, a
page holding code or an exclusive guard) calls ``load``/``store`` here. The
store closure translated code calls first tries the granule map (``gmap``):
on a page with code or a guard, the granules without code that this vCPU has
written through the slow path, so data beside code stays cheap to write (a
guarded granule is written under the exclusive monitor's lock).
Only the owning vCPU fills or flushes its TLB; the code-page tracker and the
exclusive monitor may drop write entries (a dict pop, atomic).

A broadcast invalidation of one page skips stopping the world when no other vCPU holds anything
for the page (``holds``, mmu/maintenance.py). A walk racing with that look could insert the old
translation just after it, so every vCPU's TLB shares an epoch, a one-item list: the invalidating vCPU
bumps it before it looks, and a fill that saw the epoch move while it walked drops its own entry.
One side always sees the other: the looker finds the entry, or the filler finds the bump (each of
their steps is a single subscript or dict operation, which free-threaded CPython makes atomic and
sequentially consistent as well). Two bumps racing may store the same value: the later looker's
page-table write then came before the filler read the epoch, so the filler read the new table.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable, Dict, List, Set, Tuple

from ..core.state import CPUState
from ..core.watchpoints import Watchpoints
from .address_space import PAGE_SHIFT, AddressSpace, BusError, HostMemory
from .codepages import CAUSE_STORE, GRANULE_SHIFT, GRANULES, CodePages
from .exclusive import ExclusiveMonitor
from .pagetable import EXEC, FS_ALIGNMENT, FS_EXTERNAL, READ, WRITE, Mapping, fault, walk

PRIV, USER = 1, 0
LARGE_SPANS = (16, 256, 4096)  # pages of a large page, a section and a supersection
GranuleEntry = Tuple[int, int, int]


@dataclass
class TLBCounters:
    """Slow-path lookups (``translate``) and what missed; fast-path hits in translated code are
    not counted (that would cost every load and store)."""

    lookups: int = 0
    misses: int = 0
    fills: int = 0
    slow: int = 0
    flushes: int = 0
    page_flushes: int = 0
    entries_dropped: int = 0

    def as_dict(self) -> Dict[str, int]:
        return asdict(self)


class SoftTLB:
    """Built by the machine, which also registers ``wmap`` and ``gmap`` with the code-page tracker."""

    def __init__(self, cpu: CPUState, space: AddressSpace, code: CodePages, watch: Watchpoints,
                 exclusive: ExclusiveMonitor, epoch: List[int]) -> None:
        self.cpu = cpu
        self.epoch = epoch  # shared by every vCPU's TLB (module docstring)
        self.space = space
        self.code = code
        self.watch = watch
        self.exclusive = exclusive
        self.ram: HostMemory = space.ram
        self.ram_base, self.ram_end = space.ram.base, space.ram.end
        # fast maps: vpn -> delta, indexed [USER], [PRIV]
        self.rmap: Tuple[Dict[int, int], Dict[int, int]] = ({}, {})
        self.wmap: Tuple[Dict[int, int], Dict[int, int]] = ({}, {})
        # granule maps, for pages the wmaps leave out: vpn -> (delta, mask of writable granules,
        # mask of those written under the exclusive monitor's lock)
        self.gmap: Tuple[Dict[int, GranuleEntry], Dict[int, GranuleEntry]] = ({}, {})
        # full entries for the slow path: (vpn, priv) -> Mapping
        self.entries: Dict[Tuple[int, int], Mapping] = {}
        # (first vpn, pages) of every translation bigger than a page that filled entries: they go
        # together when an address in any of their pages is invalidated (flush_page)
        self.large: Set[Tuple[int, int]] = set()
        self._maps = self.rmap + self.wmap + self.gmap  # what the flushes drop pages from
        self.counters = TLBCounters()
        self.monitor_held = False  # this vCPU's slow STREX/SWP holds the exclusive monitor's lock
        # What translated code unpacks at block entry, one tuple per privilege.
        self.fast = tuple((self.rmap[p], self.wmap[p], self._make_load(p), self._make_store(p))
                          for p in (USER, PRIV))

    # ---- translation ----------------------------------------------------
    def translate(self, va: int, access: int, priv: int) -> int:
        vpn = va >> PAGE_SHIFT
        self.counters.lookups += 1
        m = self.entries.get((vpn, priv))
        if m is None or not m[1 + access]:
            self.counters.misses += 1
            epoch = self.epoch[0]
            m = walk(self.cpu, self.space, va, access, bool(priv))
            self.entries[(vpn, priv)] = m
            if m.span > PAGE_SHIFT:
                pages = 1 << (m.span - PAGE_SHIFT)
                self.large.add((vpn & -pages, pages))
            self.counters.fills += 1
            self._fill_fast(vpn, m, priv)
            if self.epoch[0] != epoch:  # a broadcast invalidation may have missed it: this access only
                self.flush_page(va)
        return m.ppage | (va & 0xFFF)

    def _fill_fast(self, vpn: int, m: Mapping, priv: int) -> None:
        pa = m.ppage
        if not (self.ram_base <= pa < self.ram_end) or vpn in self.watch.pages:
            return
        delta = (pa - self.ram_base) - (vpn << PAGE_SHIFT)
        if m.read:
            self.rmap[priv][vpn] = delta
        if m.write and not self._protected(pa >> PAGE_SHIFT):
            wmap = self.wmap[priv]
            wmap[vpn] = delta
            if self._protected(pa >> PAGE_SHIFT):  # lost a race with a translator or a guard: undo
                wmap.pop(vpn, None)

    def _protected(self, ppn: int) -> bool:
        return self.code.is_code(ppn) or ppn in self.exclusive.guard_pages

    def _open_granule(self, va: int, pa: int, priv: int) -> None:
        """After a slow store to a page with code or a guard: let later stores to the same granule
        skip the slow path if it holds no code (see codepages.py for the protocol)."""
        if va >> PAGE_SHIFT in self.watch.pages:
            return
        ppn, granule = pa >> PAGE_SHIFT, pa >> GRANULE_SHIFT
        guards = self.exclusive.generation  # changes whenever a guard lands
        guarded = granule in self.exclusive.guards
        token = self.code.begun.get(ppn)  # changes whenever a translation shuts the page's granules
        if self.code.is_code(ppn) and (
                token is None or self.code.granule_open(ppn, granule & (GRANULES - 1), self.cpu.index) is not token):
            return
        vpn = va >> PAGE_SHIFT
        delta = (pa - self.ram_base) - va  # va + delta: the byte offset in RAM, as in the page maps
        gmap = self.gmap[priv]
        entry = gmap.get(vpn)
        _, fast, locked = entry if entry is not None and entry[0] == delta else (delta, 0, 0)
        bit = 1 << (granule & (GRANULES - 1))
        gmap[vpn] = (delta, fast, locked | bit) if guarded else (delta, fast | bit, locked)
        if self.exclusive.generation != guards or self.code.begun.get(ppn) is not token:
            gmap.pop(vpn, None)  # lost a race with a guard or a translator: undo

    def fetch_phys(self, va: int, priv: int) -> int:
        """Physical address of an instruction fetch (raises a prefetch abort)."""
        return self.translate(va, EXEC, priv)

    def holds(self, vpn: int) -> bool:
        """Might this TLB translate page ``vpn``? Asked by other vCPUs' broadcast invalidations
        (only lookups: safe while the owner fills). The fast maps need no look: their entries are
        filled after, and dropped with, the page's entry in ``entries``."""
        entries, large = self.entries, self.large
        return ((vpn, PRIV) in entries or (vpn, USER) in entries
                or any((vpn & -pages, pages) in large for pages in LARGE_SPANS))

    # ---- flushes (run by the owning vCPU only) ---------------------------
    def flush_all(self) -> int:
        dropped = len(self.entries)
        for d in self._maps:
            d.clear()
        self.entries.clear()
        self.large.clear()
        self.counters.flushes += 1
        self.counters.entries_dropped += dropped
        return dropped

    def flush_page(self, va: int) -> Tuple[int, int, int]:
        """Drop what translates ``va``: its page, or every page of the section, supersection or
        large page that filled it (as a hardware TLB holds one entry for them). Returns (entries
        dropped, first vpn, end vpn) of the virtual pages it covered."""
        vpn = (va & 0xFFFFFFFF) >> PAGE_SHIFT
        first, end = vpn, vpn + 1
        if self.large:
            for pages in LARGE_SPANS:
                span = (vpn & -pages, pages)
                if span in self.large:
                    self.large.discard(span)
                    first, end = min(first, span[0]), max(end, span[0] + pages)
        dropped = 0
        maps = self._maps
        entries = self.entries
        for page in range(first, end):
            for d in maps:
                d.pop(page, None)
            for priv in (USER, PRIV):
                if entries.pop((page, priv), None) is not None:
                    dropped += 1
        self.counters.page_flushes += 1
        self.counters.entries_dropped += dropped
        return dropped, first, end

    # ---- slow paths ------------------------------------------------------
    def load(self, va: int, size: int, priv: int) -> int:
        self.counters.slow += 1
        va &= 0xFFFFFFFF
        if va & (size - 1):
            if self.cpu.sctlr & 2:
                raise fault(READ, FS_ALIGNMENT, va)
            return self._load_split(va, size, priv)
        pa = self.translate(va, READ, priv)
        if self.watch.entries:
            self.watch.check(va, size, False, self.cpu.index)
        try:
            return self.space.read(pa, size, self.cpu.index)
        except BusError:
            raise fault(READ, FS_EXTERNAL, va) from None

    def _load_split(self, va: int, size: int, priv: int) -> int:
        value = 0
        for i in range(size):
            value |= self.load((va + i) & 0xFFFFFFFF, 1, priv) << (8 * i)
        return value

    def store(self, va: int, size: int, value: int, priv: int) -> None:
        self.counters.slow += 1
        va &= 0xFFFFFFFF
        if va & (size - 1):
            if self.cpu.sctlr & 2:
                raise fault(WRITE, FS_ALIGNMENT, va)
            # Translate every byte first so that a fault leaves memory untouched.
            for i in range(size):
                byte_va = (va + i) & 0xFFFFFFFF
                if self.space.find(self.translate(byte_va, WRITE, priv)) is None:
                    raise fault(WRITE, FS_EXTERNAL, byte_va)
            for i in range(size):
                self.store((va + i) & 0xFFFFFFFF, 1, (value >> (8 * i)) & 0xFF, priv)
            return
        pa = self.translate(va, WRITE, priv)
        if self.watch.entries:
            self.watch.check(va, size, True, self.cpu.index)
        try:
            if pa >> GRANULE_SHIFT not in self.exclusive.guards or self.monitor_held:
                self.space.write(pa, size, value, self.cpu.index)
            else:
                with self.exclusive.store_lock:  # never between a STREX's compare and its store
                    self.space.write(pa, size, value, self.cpu.index)
        except BusError:
            raise fault(WRITE, FS_EXTERNAL, va) from None
        self.code.notify_write(pa, size, CAUSE_STORE, self.cpu.index)
        # A page whose code was just invalidated becomes fast-writable again; else maybe the granule.
        m = self.entries.get((va >> PAGE_SHIFT, priv))
        if m is not None and self.ram_base <= pa < self.ram_end:
            if self._protected(pa >> PAGE_SHIFT):
                self._open_granule(va, pa, priv)
            else:
                self._fill_fast(va >> PAGE_SHIFT, m, priv)

    def read_bytes(self, va: int, length: int, priv: int = PRIV) -> bytes:
        """Bulk read through this vCPU's translation (semihosting, debugger)."""
        out = bytearray()
        while length > 0:
            n = min(length, 0x1000 - (va & 0xFFF))
            out += self.space.read_bytes(self.translate(va, READ, priv), n)
            va = (va + n) & 0xFFFFFFFF
            length -= n
        return bytes(out)

    def write_bytes(self, va: int, data: bytes, priv: int = PRIV) -> None:
        """Bulk write through this vCPU's translation; code on the pages is invalidated."""
        pos = 0
        while pos < len(data):
            n = min(len(data) - pos, 0x1000 - (va & 0xFFF))
            self.space.write_bytes(self.translate(va, WRITE, priv), data[pos:pos + n])
            va = (va + n) & 0xFFFFFFFF
            pos += n

    def _make_load(self, priv: int) -> Callable[[int, int], int]:
        load = self.load

        def ld(va: int, size: int) -> int:
            return load(va, size, priv)
        return ld

    def _make_store(self, priv: int) -> Callable[[int, int, int], None]:
        """What translated code calls when its page write map misses: the granule map, else the
        slow path."""
        store, gmap = self.store, self.gmap[priv]
        m8, m16, m32 = self.ram.m8, self.ram.m16, self.ram.m32
        lock = self.exclusive.store_lock

        def put(off: int, size: int, value: int) -> None:
            if size == 4:
                m32[off >> 2] = value
            elif size == 1:
                m8[off] = value
            else:
                m16[off >> 1] = value

        def st(va: int, size: int, value: int) -> None:
            e = gmap.get(va >> 12)
            if e is not None and not va & (size - 1):
                g = (va >> GRANULE_SHIFT) & (GRANULES - 1)
                if e[1] >> g & 1:
                    put(va + e[0], size, value)
                    return
                if e[2] >> g & 1:
                    off = va + e[0]
                    with lock:  # no call inside: no thread switch while it is held (core/locks.py)
                        if size == 4:
                            m32[off >> 2] = value
                        elif size == 1:
                            m8[off] = value
                        else:
                            m16[off >> 1] = value
                    return
            store(va, size, value, priv)
        return st

    def snapshot(self) -> List[Tuple[int, int, int, bool, bool, bool]]:
        """(vaddr, paddr, priv, r, w, x) of every entry, for `monitor info tlb` and the dashboard."""
        return sorted((vpn << PAGE_SHIFT, m.ppage, p, m.read, m.write, m.execute)
                      for (vpn, p), m in list(self.entries.items()))
