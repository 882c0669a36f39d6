"""Translation of Thumb code (T16 and T32) into a block, with IT blocks tracked statically.

ITSTATE is translation-time state: each instruction's condition comes from the IT state in
force for it, which is recorded per instruction in ``b.insn_it`` (the engine restores it when
that instruction raises a guest exception). While a block runs, the vCPU's CPSR keeps the
block's entry IT state (it is part of the TB key); every exit whose next instruction has a
different IT state stores that state first (``X.state.set_itstate``), so the next lookup finds
the block translated for it. Helpers that leave the block run with the IT state of their own
instruction (an exception they take saves it in SPSR) and advance it if they complete.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Optional

from ..core.state import itstate as cpsr_itstate
from . import sem  # noqa: F401  (registers the semantic handlers)
from .codegen import Block
from .t32_table import T16_DECODER, T32_DECODER, is_t32

if TYPE_CHECKING:
    from .translator import PageCopy

__all__ = ["ThumbBlock", "it_advance", "translate_thumb"]


def it_advance(it: int) -> int:
    """ITAdvance: the IT state of the next instruction (0 when the block ends)."""
    if it & 7 == 0:
        return 0
    return (it & 0xE0) | ((it << 1) & 0x1F)


def _it_helper(fn: Callable[..., Any], pc: int, cur: int, nxt: int, entry: int) -> Callable[..., Any]:
    """Wrap a block-ending helper: run it with the instruction's own IT state in CPSR, then move
    to the next instruction's IT state if the instruction completed (it left PC, took no
    exception and did not write CPSR.IT itself)."""
    def run(x: Any, *args: Any) -> None:
        st = x.state
        if cur != entry:
            st.set_itstate(cur)
        taken = x.counters.exceptions
        fn(x, *args)
        if (nxt != cur and x.R[15] != pc and x.counters.exceptions == taken
                and cpsr_itstate(st.cpsr_ctl) == cur):
            st.set_itstate(nxt)
    return run


class ThumbBlock(Block):
    """A Block whose exits keep CPSR.IT right for the instruction they lead to."""

    it_entry = 0  # IT state of the TB (in CPSR while the block runs)
    it_cur = 0    # IT state of the instruction being emitted
    it_next = 0   # IT state of the instruction after it

    def _sync_it(self) -> bool:
        if self.it_next == self.it_entry:
            return False
        self.emit(f"X.state.set_itstate({self.it_next:#x})")
        return True

    def exit_static(self, target: int) -> None:
        if not self._sync_it():
            super().exit_static(target)
            return
        loop, self.allow_loop = self.allow_loop, False  # the start was translated for another IT state
        super().exit_static(target)
        self.allow_loop = loop

    def exit_dynamic(self, expr: str) -> None:
        self._sync_it()
        super().exit_dynamic(expr)

    def exit_interwork(self, expr: str) -> None:
        self._sync_it()
        super().exit_interwork(expr)

    def exit_helper(self, name: str, fn: Callable[..., Any], args: str) -> None:
        if self.it_cur == self.it_entry == self.it_next:
            super().exit_helper(name, fn, args)
            return
        wrapped = _it_helper(fn, self.cur_pc, self.it_cur, self.it_next, self.it_entry)
        super().exit_helper(f"{name}{self.tmp('it')}", wrapped, args)


def _fetch_hw2(translator: Any, x: Any, b: Block, pc: int) -> int:
    """The second halfword of an instruction that straddles into the next page."""
    pa = x.tlb.fetch_phys((pc + 2) & 0xFFFFFFFF, 1 if b.priv else 0)
    translator.host_region(pa)  # a prefetch abort if the next page is not memory
    return int.from_bytes(translator.fetch_extra(b, pa, 2), "little")


def translate_thumb(translator: Any, b: Block, x: Any, region: PageCopy, ppc: int, itstate: int,
                    limit: int) -> None:
    """Fill ``b`` with the Thumb instructions from its start PC (ITSTATE ``itstate`` at entry).

    Ends at a block-ending instruction, at the end of the page, or after ``limit`` instructions
    (extended to the end of an open IT block, except in one-instruction mode).
    """
    b.__class__ = ThumbBlock
    assert isinstance(b, ThumbBlock)
    b.it_entry = b.it_cur = b.it_next = itstate
    pc = b.start_pc
    page_end = (pc | 0xFFF) + 1
    off = ppc - region.base
    m16 = region.m16
    size_limit = region.size
    it = itstate
    n = 0
    while True:
        hw1 = m16[off >> 1]
        decoded: Optional[tuple]
        if is_t32(hw1):
            if pc + 2 >= page_end or off + 2 >= size_limit:
                if n:  # let the straddling instruction start a block of its own
                    b.exit_static(pc)
                    return
                hw2 = _fetch_hw2(translator, x, b, pc)
            else:
                hw2 = m16[(off >> 1) + 1]
            word = (hw1 << 16) | hw2
            size = 4
            decoded = T32_DECODER.decode(word)
        else:
            word = hw1
            size = 2
            decoded = T16_DECODER.decode(hw1)
        in_it = bool(it & 0xF)
        if decoded is not None and decoded[0].handler == "it" and not in_it:
            nxt = (decoded[1].firstcond << 4) | decoded[1].mask
        else:
            nxt = it_advance(it) if in_it else 0
        b.begin_insn(pc, size)
        b.insn_it.append(it if in_it else 0)
        b.it_cur, b.it_next = it, nxt
        cond = None
        if in_it:
            cond = it >> 4
            if cond == 15:
                cond = 14
            if decoded is not None:
                decoded[1]["it"] = 1
        translator.emit_insn(b, decoded, word, cond=cond)
        del b.insn_it[len(b.insn_pcs):]  # a breakpoint stop drops the instruction again
        n += 1
        pc = (pc + size) & 0xFFFFFFFF
        off += size
        it = nxt
        if b.ended:
            return
        if pc >= page_end or off >= size_limit or pc == 0:
            b.exit_static(pc)
            return
        if n >= limit and (not it or limit == 1 or n >= limit + 4):
            b.exit_static(pc)
            return
