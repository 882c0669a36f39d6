"""What the instruction-set front ends (a32.py, t32.py) share, and the interface the translator
picks one through, by the TB flags' Thumb bit.

A front end decodes guest code from its start PC into a Block of its own class, one instruction
at a time through ``emit_insn``, and decides where the block ends. The translator owns everything
around that: page protection, the copy of the page the code is read from, compilation.
"""
from __future__ import annotations

from typing import Any, Optional, Protocol, Tuple, Type

from ..mmu.hostviews import views
from .codegen import Block
from .decodetree import Args, Pattern
from .isa import AL
from .sem.registry import HANDLERS


class PageCopy:
    """A private copy of the guest page a block is decoded from (views as the HostMemory ones)."""

    def __init__(self, base: int, data: bytes) -> None:
        self.base = base
        self.mm = data
        self.size = len(data)
        self.m8, self.m16, self.m32 = views(data)


class CodeSource(Protocol):
    """Code beyond the block's own page, for an instruction that straddles the page end."""

    def fetch_beyond(self, b: Block, x: Any, va: int, size: int) -> bytes:
        """``size`` bytes at virtual ``va`` as vCPU ``x`` fetches them (a prefetch abort if they are
        not executable memory), remembered as part of the block's code."""
        ...


class FrontEnd(Protocol):
    block_class: Type[Block]

    def translate_block(self, src: CodeSource, b: Block, x: Any, page: PageCopy, ppc: int, flags: int,
                        limit: int) -> None:
        """Fill ``b`` (of ``block_class``, starting at the physical address ``ppc`` in ``page``) with
        at most about ``limit`` instructions for vCPU ``x`` in the state ``flags`` describes."""
        ...


def rt_breakpoint(x: Any) -> None:
    x.debug_break()


def rt_undefined(x: Any, insn: int) -> None:
    x.undefined(insn)


# Conditional branches a block goes on past (plain B, its own condition, not inside an IT block):
# the not-taken path stays in the block instead of costing a return to the dispatcher.
GOES_ON = frozenset({"b", "t_b"})


def emit_insn(b: Block, decoded: Optional[Tuple[Pattern, Args]], word: int, cond: Optional[int] = None) -> None:
    """Emit one instruction, wrapped in its condition (``cond``, else its cond field, else AL); a
    conditional block-ender also gets the fall-through exit, except a plain conditional branch
    (``GOES_ON``) to anywhere but the block's start (that one loops inside the block), after which
    the block goes on. An encoding no pattern matches, or whose handler returns False, takes the
    Undefined Instruction exception."""
    args = Args() if decoded is None else decoded[1]
    args["insn"] = word
    if b.cur_pc in b.breakpoints:  # stop before the instruction, which is not executed
        b.insn_pcs.pop()
        b.exit_helper("BREAK", rt_breakpoint, "X")
        return
    cc = args.get("cond", AL) if cond is None else cond
    expr = b.cond(cc) if cc != AL else None
    if expr is not None:
        b.open_if(expr)
    if decoded is None or not HANDLERS[decoded[0].handler](b, args):
        b.exit_helper("UNDEF", rt_undefined, f"X, {word:#x}")
    if expr is not None:
        b.emit("pass")
        b.close_if()
        if not b.ended:
            return
        if (cond is None and decoded is not None and decoded[0].handler in GOES_ON and not args.get("l")
                and b.last_target != b.start_pc):
            b.ended = False
        else:
            b.exit_static(b.next_pc)
