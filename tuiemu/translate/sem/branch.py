"""Branches: B, BL, BLX (immediate and register), BX."""
from __future__ import annotations

from typing import Any

from ..codegen import Block
from ..decodetree import Args
from ..isa import LR, PC
from .registry import handler


def rt_blx_imm(x: Any, lr: int, target: int) -> None:
    x.R[14] = lr
    x.bx(target)


@handler("b")
def b_bl(b: Block, a: Args) -> bool:
    target = (b.pc_read + a.imm) & 0xFFFFFFFF
    if a.l:
        b.set_reg(LR, str(b.next_pc))
    b.exit_static(target)
    return True


@handler("blx_imm")
def blx_imm(b: Block, a: Args) -> bool:
    """ARM -> Thumb call: the target is halfword aligned (imm = imm24:H:'0')."""
    target = (b.pc_read + a.imm) & 0xFFFFFFFF
    b.exit_helper("BLXI", rt_blx_imm, f"X, {b.next_pc}, {target | 1}")
    return True


@handler("bx")
def bx(b: Block, a: Args) -> bool:
    b.exit_interwork(b.reg(a.rm))
    return True


@handler("blx_reg")
def blx_reg(b: Block, a: Args) -> bool:
    if a.rm == PC:
        return False
    target = b.tmp("j")
    b.emit(f"{target} = {b.reg(a.rm)}")  # read before LR is overwritten
    b.set_reg(LR, str(b.next_pc | (1 if b.thumb else 0)))
    b.exit_interwork(target)
    return True
