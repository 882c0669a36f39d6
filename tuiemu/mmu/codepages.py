"""Tracking of physical pages that hold translated code.

Protocol (why it is race-free with several vCPUs):

* A translator calls ``begin_translation(ppn)`` *before* it copies the page it
  decodes from: the page becomes a code page and leaves every soft TLB's write
  map, so later stores take the slow path. It gets the current write sequence.
* A slow-path store, DMA or debugger write to a code page lands first and then
  calls ``notify_write``, which logs the written range and invalidates the TBs
  whose code overlaps it (through the hook the TB cache installs). Data that
  shares a page with code costs a slow store, not a retranslation.
* The TB cache publishes a new TB only if no write logged since its
  translation began overlaps its code (``changed_since``).
* A store already past its fast-path check when the page was protected can
  still land unseen; the architecture requires cache maintenance before such
  code is executed, and IC invalidation compares TBs with the bytes they were
  translated from. Only a freshly protected page can be hit that way: it stays
  a suspect until every vCPU that was inside translated code when it was
  protected has left it (``in_flight``/``done_since``, the safe-work
  bookkeeping), and a full IC invalidation checks the suspects alone (Linux
  issues one for every executable page it maps, so checking every TB each time
  would cost more than the rest of a boot).
"""
from __future__ import annotations

import collections
import threading
from typing import Callable, Deque, Dict, List, Set, Tuple

from .address_space import PAGE_SHIFT

CAUSE_STORE, CAUSE_DMA, CAUSE_DEBUGGER, CAUSE_CACHE_OP = "vcpu store", "dma", "debugger write", "cache maintenance"
LOG_DEPTH = 64  # recent writes remembered per page; an older translation is retried

Range = Tuple[int, int]  # physical [start, end)


class CodePages:
    def __init__(self, ram_base: int) -> None:
        self.ram_base = ram_base
        self.pages: Set[int] = set()
        self.seq = 0
        self.log: Dict[int, Deque[Tuple[int, int, int]]] = {}  # page -> (seq, start, end) of writes
        # page -> one byte per guest byte, nonzero where a published TB has code (kept by the TB cache)
        self.bitmaps: Dict[int, bytearray] = {}
        self._lock = threading.Lock()
        self.write_maps: List[dict] = []  # every soft TLB write map (both privileges) of every vCPU
        # Drops the TBs whose code overlaps a write (the machine connects the TB cache here).
        self.invalidate_hook: Callable[[int, int, int, str, int], int] = lambda ppn, lo, hi, cause, who: 0
        # Who is inside translated code, and whether they have all left since (the machine connects
        # SafeWork here); page -> vCPUs inside when it was protected, while it is a suspect.
        self.in_flight: Callable[[], Dict[int, int]] = dict
        self.done_since: Callable[[Dict[int, int]], bool] = lambda seen: True
        self.fresh: Dict[int, Dict[int, int]] = {}

    def track_write_maps(self, *maps: dict) -> None:
        """Soft TLB write maps from which a page leaves when it becomes a code page."""
        self.write_maps.extend(maps)

    def begin_translation(self, ppn: int) -> int:
        """Protect ``ppn`` before its bytes are copied; returns the write sequence to check against."""
        with self._lock:
            fresh = ppn not in self.pages
            self.pages.add(ppn)
            seq = self.seq
            if fresh:
                self.fresh[ppn] = self.in_flight()
        if fresh:
            page_off = (ppn << PAGE_SHIFT) - self.ram_base  # byte offset of the page inside RAM
            for wmap in self.write_maps:
                for vpn, delta in wmap.copy().items():
                    if (vpn << PAGE_SHIFT) + delta == page_off:
                        wmap.pop(vpn, None)
        return seq

    def notify_write(self, paddr: int, size: int, cause: str, who: int = -1) -> None:
        """After a write landed (not through a fast store path): invalidate the code it touched."""
        end = paddr + max(size, 1)
        for ppn in range(paddr >> PAGE_SHIFT, ((end - 1) >> PAGE_SHIFT) + 1):
            if ppn not in self.pages:
                continue
            lo, hi = max(paddr, ppn << PAGE_SHIFT), min(end, (ppn + 1) << PAGE_SHIFT)
            with self._lock:
                self.seq += 1
                self.log.setdefault(ppn, collections.deque(maxlen=LOG_DEPTH)).append((self.seq, lo, hi))
            # A write that only touched data sharing the page with code needs no TB lock.
            bitmap = self.bitmaps.get(ppn)
            base = ppn << PAGE_SHIFT
            if bitmap is None or bitmap.find(1, lo - base, hi - base) >= 0:
                self.invalidate_hook(ppn, lo, hi, cause, who)

    def suspects(self) -> List[int]:
        """Code pages a racing fast-path store may have changed unseen; those whose grace period is
        over are forgotten (their racing stores, if any, have landed: this check sees them)."""
        with self._lock:
            pages = list(self.fresh)
            for ppn in pages:
                if self.done_since(self.fresh[ppn]):
                    del self.fresh[ppn]
        return pages

    def changed_since(self, ppn: int, seq: int, ranges: List[Range]) -> bool:
        """Was code in ``ranges`` of page ``ppn`` written after sequence ``seq`` (or can't we tell)?"""
        with self._lock:
            if ppn not in self.pages:
                return True
            log = self.log.get(ppn)
            if not log:
                return False
            if len(log) == LOG_DEPTH and log[0][0] > seq + 1:
                return True
            return any(s > seq and lo < r_hi and r_lo < hi for s, lo, hi in log for r_lo, r_hi in ranges)

    def set_code_ranges(self, ppn: int, ranges: List[Range]) -> None:
        """Record which bytes of ``ppn`` hold code of published TBs (called under the TB lock)."""
        bitmap = bytearray(1 << PAGE_SHIFT)
        base = ppn << PAGE_SHIFT
        for lo, hi in ranges:
            lo, hi = max(lo, base) - base, min(hi, base + (1 << PAGE_SHIFT)) - base
            if lo < hi:
                bitmap[lo:hi] = b"\x01" * (hi - lo)
        self.bitmaps[ppn] = bitmap

    def unprotect(self, ppn: int) -> None:
        """The TB cache dropped the last TB of ``ppn`` (called under the TB lock)."""
        with self._lock:
            self.pages.discard(ppn)
            self.fresh.pop(ppn, None)
            self.log.pop(ppn, None)
            self.bitmaps.pop(ppn, None)

    def is_code(self, ppn: int) -> bool:
        return ppn in self.pages
