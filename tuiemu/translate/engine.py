"""TB dispatch: run one vCPU's translated code until it must stop.

``Engine.execute`` is the hot loop. Per block it does one jump-cache lookup
(skipped when the previous block's exit was chained), one call, and one test
of the vCPU's exit request. Guest exceptions raised inside a block come out as
Python exceptions; the block's line map says which instruction raised, so the
PC and the instruction count are exact, and its frame holds the registers to store back.
"""
from __future__ import annotations

import time
from typing import Any, Dict, Optional

from ..core.exceptions import GuestAbort, GuestException, WatchpointHit
from ..core.state import TBF_PRIV
from ..mmu.address_space import PAGE_SHIFT
from . import region
from .region import REGION_AFTER
from .tbcache import TB, TBCache
from .translator import STEP_KEY, Translator


class Engine:
    def __init__(self, translator: Translator, cache: TBCache, chain: bool = True,
                 request_flush: Any = None) -> None:
        self.translator = translator
        self.cache = cache
        self.chain = chain
        self.regions = chain  # form regions of hot loops (region.py); not in the reference mode
        self.request_flush = request_flush

    def find_tb(self, x: Any, pc: int, flags: int) -> TB:
        """Shared-map lookup, else translate and publish (the race winner's TB is returned)."""
        priv = 1 if flags & 2 else 0
        ppc = x.tlb.fetch_phys(pc, priv)
        tb = self.cache.lookup((ppc, pc, flags))
        if tb is not None:
            x.counters.map_hits += 1
            return tb
        if self.cache.full() and self.request_flush is not None:
            self.request_flush(x)
        while True:
            t0 = time.perf_counter_ns()
            new = self.translator.translate(x, pc, flags)
            tb = self.cache.insert(new, time.perf_counter_ns() - t0)
            if tb is not None:
                return tb

    def execute(self, x: Any, budget: int) -> int:
        """Run up to about ``budget`` instructions (whole blocks) or until an exit request."""
        R = x.R
        F = x.fast
        st = x.state
        jc = x.jump_cache
        jc_pages = x.jump_pages
        tlb_epoch = x.tlb.epoch
        chain = self.chain
        region_after = REGION_AFTER if self.regions else -1
        executed = 0
        ntbs = 0
        jc_hits = 0
        prev: Optional[TB] = None
        nxt: Optional[TB] = None
        tb: Optional[TB] = None
        running = True
        try:
            while running:
                try:
                    while True:
                        if nxt is None:
                            pc = R[15]
                            flags = st.tb_flags
                            key = (flags << 32) | pc
                            tb = jc.get(key)
                            if tb is None:
                                epoch = tlb_epoch[0]
                                tb = self.find_tb(x, pc, flags)
                                jc[key] = tb
                                jc_pages.add(pc >> PAGE_SHIFT)
                                if not tb.valid or tlb_epoch[0] != epoch:  # (see mmu/tlb.py)
                                    jc.pop(key, None)
                            else:
                                jc_hits += 1
                            # a static exit not chained yet (a dynamic one goes through here every time)
                            if (prev is not None and prev.unlinked and chain and pc in prev.exits
                                    and prev.flags == flags):
                                self._maybe_link(prev, tb, pc)
                        else:
                            tb = nxt
                        n = tb.execs = tb.execs + 1
                        if n == region_after and tb.local is None:
                            tb = self._make_region(x, tb)
                        prev = tb
                        nxt = tb.fn(R, F, x)
                        executed += tb.count
                        ntbs += 1
                        if x.exit_request or executed + x.extra_insns >= budget:
                            running = False
                            break
                except GuestException as e:
                    # The vCPU takes the exception and goes on at its vector here: an OS takes
                    # page faults all the time, and a trip out to the scheduler costs several of them.
                    executed += self._fault(x, tb, e)
                    nxt = prev = None
                    running = not (x.exit_request or executed + x.extra_insns >= budget)
        finally:
            executed += x.extra_insns  # iterations that self-looping blocks ran inside themselves
            x.extra_insns = 0
            c = x.counters
            c.insns += executed
            c.tbs += ntbs
            c.jc_hits += jc_hits
        return executed

    def _make_region(self, x: Any, head: TB) -> TB:
        """``head`` got hot: the region it heads if it heads a loop (region.py), else itself."""
        pcs = region.members(self.cache.lookup, head)
        if pcs is None:
            return head
        t0 = time.perf_counter_ns()
        try:
            tb = self.translator.translate_region(x, pcs, head.flags)
        except GuestException:  # a member's page is no longer mapped: the loop runs as blocks
            return head
        if tb is None or not self.cache.replace(head, tb, time.perf_counter_ns() - t0):
            return head
        return tb

    def step(self, x: Any) -> None:
        """Execute exactly one instruction in a block of its own (no breakpoint check)."""
        tb = None
        try:
            tb = self._step_tb(x, x.R[15], x.state.tb_flags)
            tb.execs += 1
            tb.fn(x.R, x.fast, x)
            x.counters.insns += tb.ninsns + x.extra_insns
            x.extra_insns = 0
        except GuestException as e:
            x.counters.insns += self._fault(x, tb, e)

    def _step_tb(self, x: Any, pc: int, flags: int) -> TB:
        """The one-instruction block for a single step at ``pc``, cached beside the others under a key
        of its own (STEP_KEY), so stepping through a loop translates each instruction once and a
        write to its code drops it like any block."""
        ppc = x.tlb.fetch_phys(pc, 1 if flags & TBF_PRIV else 0)
        tb = self.cache.lookup((ppc, pc, flags | STEP_KEY))
        while tb is None:
            t0 = time.perf_counter_ns()
            new = self.translator.translate(x, pc, flags, max_insns=1, breakpoints=False)
            new.flags |= STEP_KEY
            tb = self.cache.insert(new, time.perf_counter_ns() - t0)
        return tb

    def _maybe_link(self, prev: TB, tb: TB, pc: int) -> None:
        """Chain prev's static exit to ``pc`` (tb) when both sit on the same guest page."""
        if (pc >> PAGE_SHIFT) == (prev.pc >> PAGE_SHIFT):
            slot = prev.exits.index(pc)
            if prev.links[slot] is None:
                self.cache.link(prev, slot, tb)

    @staticmethod
    def _restore(x: Any, tb: TB, frame_locals: Dict[str, Any]) -> None:
        """Store back what the block held in locals when the exception left it (Block.source)."""
        R = x.R
        for i, name in tb.saves:
            R[i] = frame_locals[name]
        if tb.counter is not None:
            name, k = tb.counter
            x.extra_insns += frame_locals[name] * k

    def _fault(self, x: Any, tb: Optional[TB], e: GuestException) -> int:
        """Deliver a guest exception raised inside ``tb``; returns instructions completed before it."""
        t = e.__traceback__
        code = tb.fn.__code__ if tb is not None else None
        idx = -1
        while t is not None and tb is not None:
            if t.tb_frame.f_code is code:
                idx = tb.owners[t.tb_lineno - 1]
                self._restore(x, tb, t.tb_frame.f_locals)
                break
            t = t.tb_next
        if idx < 0 or tb is None:  # raised by the fetch at block start (prefetch abort) or outside the block
            idx = 0
        else:
            x.R[15] = tb.insn_pcs[idx]
            if tb.insn_it and tb.insn_it[idx] != (tb.flags >> 8) & 0xFF:
                x.state.set_itstate(tb.insn_it[idx])  # the faulting instruction's IT state goes to SPSR
            if tb.local is not None:  # a region counted its completed blocks itself
                idx = tb.local[idx]
        if isinstance(e, GuestAbort):
            x.abort(e.kind, e.fsr, e.far)
        elif isinstance(e, WatchpointHit):
            x.watchpoint_hit(e)
        return idx
