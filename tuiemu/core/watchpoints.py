"""The debugger's watchpoints, shared by run control (which edits them) and every soft TLB
(which checks them on the slow path; watched pages never enter a TLB's fast maps).

Edits happen as safe work, so a TLB never sees a half-updated set; ``check``
runs on the accessing vCPU's thread and raises ``WatchpointHit`` before the
access is performed.
"""
from __future__ import annotations

from typing import Dict, FrozenSet, Set, Tuple

from .exceptions import WatchpointHit

WATCH_WRITE, WATCH_READ, WATCH_ACCESS = "watch", "rwatch", "awatch"
WATCH_KINDS = (WATCH_WRITE, WATCH_READ, WATCH_ACCESS)


class Watchpoints:
    def __init__(self) -> None:
        self.entries: Dict[Tuple[int, int, str], None] = {}  # (addr, length, kind), in insertion order
        self.pages: FrozenSet[int] = frozenset()  # virtual page numbers covered
        self.suppressed: Set[int] = set()  # vCPU indices allowed one access past (stepping off a hit)

    def add(self, addr: int, length: int, kind: str) -> None:
        self.entries[(addr, length, kind)] = None
        self._recompute_pages()

    def remove(self, addr: int, length: int, kind: str) -> bool:
        found = (addr, length, kind) in self.entries
        self.entries.pop((addr, length, kind), None)
        self._recompute_pages()
        return found

    def _recompute_pages(self) -> None:
        pages: Set[int] = set()
        for addr, length, _ in self.entries:
            pages.update(range(addr >> 12, ((addr + max(length, 1) - 1) >> 12) + 1))
        self.pages = frozenset(pages)

    def check(self, va: int, size: int, is_write: bool, cpu_index: int) -> None:
        """Raise ``WatchpointHit`` if the access [va, va+size) triggers a watchpoint."""
        if not self.entries or cpu_index in self.suppressed:
            return
        for addr, length, kind in list(self.entries):
            if va < addr + length and addr < va + size:
                if kind == WATCH_ACCESS or (kind == WATCH_WRITE) == is_write:
                    raise WatchpointHit(addr, kind)
