"""The translation cache shared by all vCPUs.

Lookups are lock-free: a vCPU first asks its own jump cache (virtual PC and
flags -> TB), then the shared map. Insertion, chaining and invalidation happen
under the TB lock. A TB that loses a translation race is dropped; the winner's
TB is what both vCPUs run. An invalidated TB is marked invalid before it
leaves the map, so a vCPU that found it just before re-checks and drops it.
"""
from __future__ import annotations

import collections
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ..core.events import EventBus
from ..core.locks import InstrumentedLock
from ..mmu.address_space import PAGE_SHIFT
from ..mmu.codepages import CodePages

TBKey = Tuple[int, int, int]  # (physical PC, virtual PC, flags)


class TB:
    __slots__ = ("fn", "pc", "ppc", "flags", "ninsns", "links", "exits", "pages", "insn_pcs", "owners", "valid",
                 "incoming", "source", "jc_key", "size", "page_seqs", "insn_it", "ranges", "code_bytes", "execs",
                 "unlinked", "count", "local", "vspan", "saves", "counter")

    def __init__(self, fn: Callable, pc: int, ppc: int, flags: int, insn_pcs: List[int],
                 owners: List[int], exits: List[int], links: List[Optional[TB]], pages: Sequence[int],
                 source: str, size: int) -> None:
        self.fn = fn
        self.pc, self.ppc, self.flags = pc, ppc, flags
        self.insn_pcs = insn_pcs
        self.ninsns = len(insn_pcs)
        self.count = self.ninsns  # instructions the dispatcher counts per entry (a region counts its own)
        self.local: Optional[List[int]] = None  # a region's: per instruction, its index in its own block
        self.owners = owners
        self.exits = exits
        self.links = links
        # static exits to its own guest page not chained yet: the dispatcher offers a chain only then
        self.unlinked = sum(1 for target in exits if target >> PAGE_SHIFT == pc >> PAGE_SHIFT)
        self.pages = tuple(pages)
        self.valid = True
        self.incoming: List[Tuple[TB, int]] = []
        self.source = source
        self.jc_key = (flags << 32) | pc
        self.size = size
        self.vspan = (pc, pc + max(size, 1))  # virtual addresses of its code (a region's blocks: all of them)
        self.page_seqs: Dict[int, int] = {}  # page -> code-page write sequence when translation began
        self.ranges: List[Tuple[int, int]] = []  # physical [start, end) of its code and folded literals
        self.code_bytes = b""  # what those ranges held when it was translated
        self.insn_it: List[int] = []
        self.execs = 0  # entries through the dispatch loop (a self-looping block counts once per entry)
        # What the engine restores from the block's frame when a guest exception leaves it: (index
        # in R, local) of the registers it writes, and (local, multiplier) of the instructions it
        # counted itself (a self-looping block's iterations, a region's completed blocks).
        self.saves: Tuple[Tuple[int, str], ...] = ()
        self.counter: Optional[Tuple[str, int]] = None

    def overlaps(self, lo: int, hi: int) -> bool:
        return any(r_lo < hi and lo < r_hi for r_lo, r_hi in self.ranges)

    def __repr__(self) -> str:
        return f"<TB {self.pc:#010x} ({self.ninsns} insns, flags {self.flags:#x})>"


@dataclass
class TBStats:
    translated: int = 0
    raced: int = 0
    stale_dropped: int = 0
    invalidated: int = 0
    invalidations: int = 0
    flushes: int = 0
    chained: int = 0
    insns_translated: int = 0
    translate_ns: int = 0
    regions: int = 0

    def as_dict(self) -> Dict[str, int]:
        return asdict(self)


class TBCache:
    """``jump_caches``: every vCPU's jump cache (the machine hands them over), emptied of TBs
    that die. The code-page tracker calls ``invalidate_code`` (the machine connects it).

    ``max_tbs``: when the cache holds this many blocks it is flushed whole. A Linux boot to
    userland keeps about 58,000 live (about 480 MB of process memory); at 32,768 it flushed twice on
    the way and translated 47% more blocks, most of them again."""

    def __init__(self, code: CodePages, events: EventBus, jump_caches: List[Dict[int, Any]],
                 max_tbs: int = 65536) -> None:
        self.lock = InstrumentedLock("tb")
        self.map: Dict[TBKey, TB] = {}
        self.by_page: Dict[int, List[TB]] = {}
        self.code = code
        self.events = events
        self.max_tbs = max_tbs
        self.stats = TBStats()
        self.dropped_by_cause: Dict[str, int] = collections.Counter()  # TBs invalidated, per cause
        self.jump_caches = jump_caches

    def lookup(self, key: TBKey) -> Optional[TB]:
        return self.map.get(key)

    def insert(self, tb: TB, translate_ns: int = 0) -> Optional[TB]:
        """Publish ``tb``; if another vCPU published the same block first, return that one.
        None: the code changed while ``tb`` was being translated (translate again)."""
        with self.lock:
            self.stats.translate_ns += translate_ns
            key = (tb.ppc, tb.pc, tb.flags)
            old = self.map.get(key)
            if old is not None:
                self.stats.raced += 1
                return old
            if not self._publish(tb):
                return None
            self.map[key] = tb
            return tb

    def _publish(self, tb: TB) -> bool:
        """Enter ``tb`` in its pages' lists unless its code changed while it was being translated."""
        if any(self.code.changed_since(p, seq, tb.ranges) for p, seq in tb.page_seqs.items()):
            self.stats.stale_dropped += 1
            return False
        for ppn in tb.pages:
            self.by_page.setdefault(ppn, []).append(tb)
            self.code.add_code_ranges(ppn, tb.ranges)
        self.stats.translated += 1
        self.stats.insns_translated += tb.ninsns
        return True

    def replace(self, old: TB, new: TB, translate_ns: int = 0) -> bool:
        """Put ``new`` (a region) in the place of ``old``, its first block, if ``old`` is still
        there and the code did not change while ``new`` was translated."""
        with self.lock:
            self.stats.translate_ns += translate_ns
            key = (old.ppc, old.pc, old.flags)
            if self.map.get(key) is not old or not self._publish(new):
                return False
            self._drop(old)
            self.map[key] = new
            for ppn in old.pages:
                self.by_page[ppn] = [t for t in self.by_page[ppn] if t is not old]
            self.stats.regions += 1
            return True

    def link(self, src: TB, slot: int, dst: TB) -> None:
        """Patch exit ``slot`` of ``src`` to jump straight to ``dst``."""
        with self.lock:
            if src.valid and dst.valid and src.links[slot] is None:
                src.links[slot] = dst
                src.unlinked -= 1
                dst.incoming.append((src, slot))
                self.stats.chained += 1

    def _drop(self, tb: TB) -> None:
        tb.valid = False
        self.map.pop((tb.ppc, tb.pc, tb.flags), None)
        for src, slot in tb.incoming:
            if src.links[slot] is tb:
                src.links[slot] = None
                src.unlinked += 1
        tb.incoming.clear()
        for i, dst in enumerate(tb.links):
            if dst is not None:
                tb.links[i] = None
        for jc in self.jump_caches:
            if jc.get(tb.jc_key) is tb:
                jc.pop(tb.jc_key, None)

    def _update_bitmap(self, ppn: int) -> None:
        self.code.set_code_ranges(ppn, [r for tb in self.by_page.get(ppn, ()) for r in tb.ranges])

    def _drop_on_page(self, ppn: int, doomed: List[TB], cause: str) -> None:
        """Drop ``doomed`` (TBs of page ``ppn``); a page left without TBs becomes writable again."""
        gone = set(map(id, doomed))
        for tb in doomed:
            self._drop(tb)
            for other in tb.pages:
                if other in self.by_page:
                    self.by_page[other] = [t for t in self.by_page[other] if id(t) not in gone]
        for p in {p for tb in doomed for p in tb.pages} | {ppn}:
            if not self.by_page.get(p):
                self.by_page.pop(p, None)
                self.code.unprotect(p)
            elif doomed:
                self._update_bitmap(p)
        if doomed:
            self.stats.invalidations += 1
            self.stats.invalidated += len(doomed)
            self.dropped_by_cause[cause] += len(doomed)

    def invalidate_code(self, ppn: int, lo: int, hi: int, cause: str, who: int = -1) -> int:
        """Drop the TBs whose code on page ``ppn`` overlaps physical [lo, hi), unlinking every jump
        into them (the code-page tracker's hook: called after a write to a code page landed)."""
        with self.lock:
            doomed = [tb for tb in self.by_page.get(ppn, ()) if tb.overlaps(lo, hi)]
            self._drop_on_page(ppn, doomed, cause)
        if doomed:
            self.events.emit("tb_invalidate", who, page=ppn << PAGE_SHIFT, addr=lo, tbs=len(doomed), cause=cause)
        return len(doomed)

    def invalidate_page(self, ppn: int, cause: str, who: int = -1) -> int:
        return self.invalidate_code(ppn, ppn << PAGE_SHIFT, (ppn + 1) << PAGE_SHIFT, cause, who)

    def invalidate_virtual(self, addr: int, cause: str) -> int:
        """Drop the TBs whose guest code covers virtual ``addr`` (a breakpoint set or removed there)."""
        with self.lock:
            doomed = [tb for tb in self.map.values() if tb.vspan[0] <= addr < tb.vspan[1]]
            for ppn in {p for tb in doomed for p in tb.pages}:
                self._drop_on_page(ppn, [tb for tb in doomed if ppn in tb.pages and tb.valid], cause)
        if doomed:
            self.events.emit("tb_invalidate", -1, addr=addr, tbs=len(doomed), cause=cause)
        return len(doomed)

    def revalidate(self, read: Callable[[int, int], bytes], ppns: Optional[List[int]] = None,
                   who: int = -1) -> int:
        """IC invalidation: drop every TB whose code no longer matches the bytes it was translated from,
        on the pages a store may have changed unseen (``CodePages.suspects``), of ``ppns`` if given.
        A store that was seen has already dropped the code it wrote: Linux invalidates by line
        (ICIMVAU) over every page it writes code to, and comparing each time cost it dearly."""
        dropped = 0
        with self.lock:
            suspects = self.code.suspects()
            for ppn in suspects if ppns is None else [p for p in ppns if p in suspects]:
                stale = [tb for tb in self.by_page.get(ppn, ()) if tb.code_bytes != b"".join(
                    read(lo, hi - lo) for lo, hi in tb.ranges)]
                self._drop_on_page(ppn, stale, "cache maintenance")
                dropped += len(stale)
        if dropped:
            self.events.emit("tb_invalidate", who, tbs=dropped, cause="cache maintenance")
        return dropped

    def flush(self, cause: str, who: int = -1) -> int:
        """Drop everything. Callers run this as safe work (no vCPU inside translated code)."""
        t0 = time.perf_counter_ns()
        with self.lock:
            n = len(self.map)
            for tb in list(self.map.values()):
                tb.valid = False
                tb.incoming.clear()
                for i in range(len(tb.links)):
                    tb.links[i] = None
            self.map.clear()
            for ppn in list(self.by_page):
                self.code.unprotect(ppn)
            self.by_page.clear()
            for jc in self.jump_caches:
                jc.clear()
            self.stats.flushes += 1
            self.dropped_by_cause["full flush"] += n
        self.events.emit("tb_flush", who, tbs=n, cause=cause, ns=time.perf_counter_ns() - t0)
        return n

    def full(self) -> bool:
        return len(self.map) >= self.max_tbs

    def snapshot(self) -> dict:
        d = self.stats.as_dict()
        d["live"] = len(self.map)
        d["code_pages"] = len(self.by_page)
        return d
