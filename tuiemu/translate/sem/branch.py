"""Branches: B, BL, BLX (immediate and register), BX."""
from __future__ import annotations

from typing import Any

from ..codegen import Block
from ..decodetree import Args
from .registry import handler
from .system import undef


def rt_blx_imm(x: Any, lr: int, target: int) -> None:
    x.R[14] = lr
    x.bx(target)


@handler("b")
def b_bl(b: Block, a: Args) -> None:
    target = (b.pc_read + (a.imm << 2)) & 0xFFFFFFFF
    if a.l:
        b.set_reg(14, str(b.next_pc))
    b.exit_static(target)


@handler("blx_imm")
def blx_imm(b: Block, a: Args) -> None:
    """ARM -> Thumb call: the target is halfword aligned (H bit)."""
    target = (b.pc_read + (a.imm << 2) + (a.h << 1)) & 0xFFFFFFFF
    b.exit_helper("BLXI", rt_blx_imm, f"X, {b.next_pc}, {target | 1}")


@handler("bx")
def bx(b: Block, a: Args) -> None:
    b.exit_interwork(b.reg(a.rm))


@handler("blx_reg")
def blx_reg(b: Block, a: Args) -> None:
    if a.rm == 15:
        return undef(b, a)
    target = b.tmp("j")
    b.emit(f"{target} = {b.reg(a.rm)}")  # read before LR is overwritten
    b.set_reg(14, str(b.next_pc | (1 if b.thumb else 0)))
    b.exit_interwork(target)
