"""Tracking of physical pages that hold translated code.

Protocol (why it is race-free with several vCPUs):

* A translator calls ``begin_translation(ppn)`` *before* it reads instruction
  bytes: the page becomes a code page, leaves every soft TLB's write map (so
  later stores take the slow path), and its generation number is returned.
* A slow-path store, DMA or debugger write to a code page lands first and then
  calls ``notify_write``, which bumps the generation and invalidates the
  page's TBs (through the hook the TB cache installs).
* The TB cache publishes a new TB only if its pages' generations are
  unchanged, so a block read from bytes that changed meanwhile is dropped.
* A store already past its fast-path check when the page was protected can
  still land unseen; the architecture requires cache maintenance before such
  code is executed, and ``revalidate`` (run for IC invalidation) compares each
  code page with the snapshot taken at protection time.
"""
from __future__ import annotations

import threading
from typing import Callable, Dict, List, Optional

from .address_space import PAGE_SHIFT

CAUSE_STORE, CAUSE_DMA, CAUSE_DEBUGGER, CAUSE_CACHE_OP = "vcpu store", "dma", "debugger write", "cache maintenance"


class CodePages:
    def __init__(self, ram_base: int, read_page: Optional[Callable[[int], bytes]] = None) -> None:
        self.ram_base = ram_base
        self.read_page = read_page or (lambda ppn: b"")
        self.pages: Dict[int, bytes] = {}  # code page -> snapshot of its bytes when protected
        self.gens: Dict[int, int] = {}
        self._lock = threading.Lock()
        self.write_maps: List[dict] = []  # every soft TLB write map (both privileges) of every vCPU
        self.invalidate_hook: Callable[[int, str, int], int] = lambda ppn, cause, who: 0

    def begin_translation(self, ppn: int) -> int:
        """Protect ``ppn`` before its bytes are read; returns its generation."""
        with self._lock:
            fresh = ppn not in self.pages
            if fresh:
                self.pages[ppn] = b""
            gen = self.gens.get(ppn, 0)
        if fresh:
            page_off = (ppn << PAGE_SHIFT) - self.ram_base  # byte offset of the page inside RAM
            for wmap in self.write_maps:
                for vpn, delta in wmap.copy().items():
                    if (vpn << PAGE_SHIFT) + delta == page_off:
                        wmap.pop(vpn, None)
            snap = self.read_page(ppn)
            with self._lock:
                if ppn in self.pages and not self.pages[ppn]:
                    self.pages[ppn] = snap
        return gen

    def generation(self, ppn: int) -> int:
        return self.gens.get(ppn, 0)

    def notify_write(self, paddr: int, size: int, cause: str, who: int = -1) -> None:
        """After a write landed (not through a fast store path): invalidate code it touched."""
        first, last = paddr >> PAGE_SHIFT, (paddr + max(size, 1) - 1) >> PAGE_SHIFT
        for ppn in range(first, last + 1):
            if ppn in self.pages:
                self.invalidate_hook(ppn, cause, who)

    def unprotect(self, ppn: int) -> None:
        """The TB cache dropped the TBs of ``ppn`` (called under the TB lock)."""
        with self._lock:
            self.pages.pop(ppn, None)
            self.gens[ppn] = self.gens.get(ppn, 0) + 1

    def is_code(self, ppn: int) -> bool:
        return ppn in self.pages

    def revalidate(self, ppns: Optional[List[int]] = None) -> List[int]:
        """Code pages whose bytes differ from their snapshot (IC invalidate semantics)."""
        stale = []
        for ppn in list(self.pages) if ppns is None else ppns:
            snap = self.pages.get(ppn)
            if snap and self.read_page(ppn) != snap:
                stale.append(ppn)
        return stale
