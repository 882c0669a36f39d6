"""TLB and cache maintenance and address translation operations (CP15 c7/c8), across vCPUs.

* TLB invalidation (TLBIALL/MVA/ASID/MVAA): a local operation flushes the
  issuing vCPU's own soft TLB (by address: the whole section or large page
  that translated it) and, if it may hold blocks from those pages, its jump
  cache; the Inner Shareable forms (…IS) are broadcast:
  they run as stop-the-world work, so every target has flushed before the
  issuing vCPU executes its next instruction. A broadcast by address whose
  page no other vCPU holds (``VCPU.may_hold``; the walks that race with that
  look, mmu/tlb.py) has nothing to do elsewhere and stops nobody: Linux
  remaps one fixmap page at a time, tens of thousands of them while booting.
  Either way a ``tlb_flush`` event records origin, targets, kind, entries
  dropped and whether the world stopped. The soft TLB does not
  keep ASIDs, so the ASID forms flush everything (over-invalidation is allowed).
* Instruction-cache invalidation: stores to code are caught as they land, so
  only code changed by a store that raced with its translation can be stale;
  the TB cache compares the blocks of such pages (by address: if it is one)
  with the bytes they came from.
* ATS1C{P,U}{R,W}: PAR gets the physical page or the fault status.
"""
from __future__ import annotations

from typing import Any, Callable, List, Optional, Sequence

from ..core.events import EventBus
from ..core.exceptions import GuestAbort
from ..core.safework import SafeWork
from .address_space import PAGE_SHIFT
from .pagetable import READ, WRITE

KINDS = {"TLBIALL": "ALL", "TLBIASID": "ASID", "TLBIMVA": "MVA", "TLBIMVAA": "MVAA"}
BY_ADDRESS = ("MVA", "MVAA")

Revalidate = Callable[[Optional[List[int]], int], int]  # (physical pages or None for all, who) -> TBs dropped


class Maintenance:
    def __init__(self, vcpus: List[Any], safe: SafeWork, events: EventBus, revalidate: Revalidate) -> None:
        self.vcpus = vcpus
        self.safe = safe
        self.events = events
        self.revalidate = revalidate

    def tlb(self, vcpu: Any, op: str, value: int) -> None:
        """Linux flushes a range page by page (flush_tlb_kernel_range): this runs for each page."""
        if not op.endswith("IS") or len(self.vcpus) == 1:
            self._flush(vcpu, op, value, (vcpu,))
        elif self.safe.serial:  # the others are between blocks already
            self._flush(vcpu, op, value, self.vcpus)
        elif KINDS[op[:-2]] in BY_ADDRESS and not self._held_elsewhere(vcpu, value):
            self._flush(vcpu, op, value, (vcpu,))
        else:
            self.safe.run(lambda: self._flush(vcpu, op, value, self.vcpus, stopped=True), op, requester=vcpu)

    def _held_elsewhere(self, vcpu: Any, va: int) -> bool:
        vcpu.tlb.epoch[0] += 1  # before looking: a walk racing with the look drops what it filled
        vpn = (va & 0xFFFFFFFF) >> PAGE_SHIFT
        return any(v.may_hold(vpn) for v in self.vcpus if v is not vcpu)

    def _flush(self, vcpu: Any, op: str, value: int, flushed: Sequence[Any], stopped: bool = False) -> None:
        """``flushed``: the vCPUs with something to drop; a broadcast targets every vCPU all the same."""
        broadcast = op.endswith("IS")
        kind = KINDS[op[:-2] if broadcast else op]
        dropped = 0
        for v in flushed:
            dropped += v.flush_page_translations(value) if kind in BY_ADDRESS else v.flush_translations()
        targets = self.vcpus if broadcast else (vcpu,)
        self.events.emit("tlb_flush", vcpu.index, op=op, kind=kind, va=value, broadcast=broadcast,
                         targets=[v.index for v in targets], dropped=dropped, stopped=stopped)

    def cache(self, vcpu: Any, op: str, value: int) -> None:
        if op in ("ICIALLU", "ICIALLUIS"):
            self.revalidate(None, vcpu.index)
        elif op == "ICIMVAU":
            try:
                ppn = vcpu.tlb.translate(value, READ, 1) >> 12
            except GuestAbort:  # nothing mapped there: no code to invalidate
                return
            self.revalidate([ppn], vcpu.index)

    @staticmethod
    def translate_address(vcpu: Any, op: str, va: int) -> int:
        """ATS1C{P,U}{R,W}: the PAR value (short-descriptor format)."""
        priv = 1 if op in ("ATS1CPR", "ATS1CPW") else 0
        access = WRITE if op.endswith("W") else READ
        try:
            pa = vcpu.tlb.translate(va, access, priv)
        except GuestAbort as e:
            return ((e.fsr & 0xF) << 1) | ((e.fsr >> 10 & 1) << 5) | 1
        return pa & ~0xFFF
