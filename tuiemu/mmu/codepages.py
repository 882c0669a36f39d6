"""Tracking of physical pages that hold translated code.

Protocol (why it is race-free with several vCPUs):

* A translator calls ``begin_translation(ppn)`` *before* it copies the page it
  decodes from: the page becomes a code page and leaves every soft TLB's write
  map, so later stores take the slow path. It gets the current write sequence.
* A slow-path store, DMA or debugger write to a code page lands first and then
  calls ``notify_write``, which logs the written range and invalidates the TBs
  whose code overlaps it (through the hook the TB cache installs).
* Data that shares a page with code: a vCPU's slow store to a granule
  (16 bytes, ``GRANULE_SHIFT``) of a code page that holds no code opens it in
  its TLB's granule map (``granule_open``), and its later stores there skip the
  slow path. Every ``begin_translation`` closes the page's granules in every
  TLB, and none reopens until every other vCPU that was inside translated code
  then has left it (so no translation of the page is still running: the code
  it covers is in the bitmap by then).
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
from typing import Callable, Deque, Dict, List, Optional, Sequence, Set, Tuple

from .address_space import PAGE_SHIFT

GRANULE_SHIFT = 4  # 16-byte granules: the unit of a TLB's granule map and of an exclusive guard
GRANULES = 1 << (PAGE_SHIFT - GRANULE_SHIFT)

CAUSE_STORE, CAUSE_DMA, CAUSE_DEBUGGER, CAUSE_CACHE_OP = "vcpu store", "dma", "debugger write", "cache maintenance"
LOG_DEPTH = 64  # recent writes remembered per page; an older translation is retried

Range = Tuple[int, int]  # physical [start, end)
_SHUT: Dict[int, int] = {}  # begun[page] while a translation is taking the page's granules away


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
        self.granule_maps: List[dict] = []  # and every granule map (see tlb.py)
        # Drops the TBs whose code overlaps a write (the machine connects the TB cache here).
        self.invalidate_hook: Callable[[int, int, int, str, int], int] = lambda ppn, lo, hi, cause, who: 0
        # Who is inside translated code, and whether they have all left since (the machine connects
        # SafeWork here); page -> vCPUs inside when it was protected, while it is a suspect.
        self.in_flight: Callable[[], Dict[int, int]] = dict
        self.done_since: Callable[[Dict[int, int]], bool] = lambda seen: True
        self.fresh: Dict[int, Dict[int, int]] = {}
        # page -> vCPUs inside translated code at its latest begin_translation (granules stay shut
        # until they have all left)
        self.begun: Dict[int, Dict[int, int]] = {}

    def track_write_maps(self, wmaps: Sequence[dict], gmaps: Sequence[dict]) -> None:
        """A soft TLB's page and granule write maps, from which a page leaves when it becomes a code
        page (or an exclusive guard lands on it)."""
        self.write_maps.extend(wmaps)
        self.granule_maps.extend(gmaps)

    def drop_fast_writes(self, ppn: int, pages: bool = True) -> bool:
        """Take ``ppn`` out of every TLB's granule maps (and page write maps): True if any had it."""
        page_off = (ppn << PAGE_SHIFT) - self.ram_base  # byte offset of the page inside RAM
        dropped = False
        for gmap in self.granule_maps:
            for vpn, entry in gmap.copy().items():
                if (vpn << PAGE_SHIFT) + entry[0] == page_off:
                    dropped = gmap.pop(vpn, None) is not None or dropped
        for wmap in self.write_maps if pages else ():
            for vpn, delta in wmap.copy().items():
                if (vpn << PAGE_SHIFT) + delta == page_off:
                    dropped = wmap.pop(vpn, None) is not None or dropped
        return dropped

    def begin_translation(self, ppn: int) -> int:
        """Protect ``ppn`` before its bytes are copied; returns the write sequence to check against."""
        with self._lock:
            fresh = ppn not in self.pages
            self.pages.add(ppn)
            seq = self.seq
            self.begun[ppn] = _SHUT  # before the drop: a TLB entering a granule now sees the change
        dropped = self.drop_fast_writes(ppn, pages=fresh)
        with self._lock:
            # taken after the drop: whoever could still be finishing a store through a dropped entry
            seen = self.begun[ppn] = self.in_flight()
            if (fresh or dropped) and ppn in self.pages:
                self.fresh.setdefault(ppn, seen)
        return seq

    def granule_open(self, ppn: int, granule: int, who: int) -> Optional[Dict[int, int]]:
        """May vCPU ``who``'s TLB write granule ``granule`` of code page ``ppn`` without the slow path?
        The token returned must still be ``begun[ppn]`` after the TLB entered it (else it takes it
        out again). ``who``'s own translations are over: it is storing."""
        seen = self.begun.get(ppn)
        bitmap = self.bitmaps.get(ppn)
        if seen is None or seen is _SHUT or bitmap is None:
            return None
        if not self.done_since({i: n for i, n in seen.items() if i != who}):
            return None
        lo = granule << GRANULE_SHIFT
        if bitmap.find(1, lo, lo + (1 << GRANULE_SHIFT)) >= 0:
            return None
        return seen

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

    def add_code_ranges(self, ppn: int, ranges: List[Range]) -> None:
        """Mark more bytes of ``ppn`` as code (a TB is being published; called under the TB lock).
        Bits are only set here, in place, so a reader sees the old map or a superset of it."""
        bitmap = self.bitmaps.get(ppn)
        if bitmap is None:
            self.set_code_ranges(ppn, ranges)
            return
        base = ppn << PAGE_SHIFT
        for lo, hi in ranges:
            lo, hi = max(lo, base) - base, min(hi, base + (1 << PAGE_SHIFT)) - base
            if lo < hi:
                bitmap[lo:hi] = b"\x01" * (hi - lo)

    def unprotect(self, ppn: int) -> None:
        """The TB cache dropped the last TB of ``ppn`` (called under the TB lock)."""
        with self._lock:
            self.pages.discard(ppn)
            self.fresh.pop(ppn, None)
            self.log.pop(ppn, None)
            self.bitmaps.pop(ppn, None)
            self.begun.pop(ppn, None)

    def is_code(self, ppn: int) -> bool:
        return ppn in self.pages
