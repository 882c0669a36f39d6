"""IT blocks at translation time: ITAdvance, and the Thumb Block whose exits keep CPSR.IT right.

ITSTATE is translation-time state: each instruction's condition comes from the IT state in
force for it, which is recorded per instruction in ``b.insn_it`` (the engine restores it when
that instruction raises a guest exception). While a block runs, the vCPU's CPSR keeps the
block's entry IT state (it is part of the TB key); every exit whose next instruction has a
different IT state stores that state first (``X.state.set_itstate``), so the next lookup finds
the block translated for it. Helpers that leave the block run with the IT state of their own
instruction (an exception they take saves it in SPSR) and advance it if they complete.
"""
from __future__ import annotations

from typing import Any, Callable

from ..core.state import itstate as cpsr_itstate
from .codegen import Block


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
    """A Block of Thumb code whose exits keep CPSR.IT right for the instruction they lead to."""

    thumb = True
    it_entry = 0  # IT state of the TB (in CPSR while the block runs)
    it_cur = 0    # IT state of the instruction being emitted
    it_next = 0   # IT state of the instruction after it

    def _sync_it(self) -> bool:
        if self.it_next == self.it_entry:
            return False
        self.emit(f"X.state.set_itstate({self.it_next:#x})")
        return True

    def _leave(self, exit_: Callable[[Any], None], arg: Any) -> None:
        """Store the next IT state if it changes, then take ``exit_``. When it changes, the block's
        start and a region's blocks were translated for another IT state: the exit leaves."""
        if not self._sync_it():
            exit_(arg)
            return
        loop, inside, self.allow_loop, self.internal = self.allow_loop, self.internal, False, frozenset()
        exit_(arg)
        self.allow_loop, self.internal = loop, inside

    def exit_static(self, target: int) -> None:
        self._leave(super().exit_static, target)

    def exit_dynamic(self, expr: str) -> None:
        self._leave(super().exit_dynamic, expr)

    def exit_interwork(self, expr: str) -> None:
        self._leave(super().exit_interwork, expr)

    def exit_helper(self, name: str, fn: Callable[..., Any], args: str) -> None:
        if self.it_cur == self.it_entry == self.it_next:
            super().exit_helper(name, fn, args)
            return
        wrapped = _it_helper(fn, self.cur_pc, self.it_cur, self.it_next, self.it_entry)
        super().exit_helper(f"{name}{self.tmp('it')}", wrapped, args)
