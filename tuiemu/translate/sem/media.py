"""Media instructions: bit-field extract/insert, extends, reversals, saturation, parallel add/subtract,
SEL, PKH, USAD8."""
from __future__ import annotations

from ..codegen import Block
from ..decodetree import Args
from .registry import handler
from .system import undef

M = "0xFFFFFFFF"


@handler("bfx")
def bfx(b: Block, a: Args) -> None:
    """SBFX/UBFX: extract widthm1+1 bits from lsb, sign- or zero-extended."""
    width = a.widthm1 + 1
    if 15 in (a.rd, a.rn) or a.lsb + width > 32:
        return undef(b, a)
    field = f"(({b.reg(a.rn)} >> {a.lsb}) & {(1 << width) - 1:#x})"
    if a.signed:
        sign = 1 << (width - 1)
        b.set_reg(a.rd, f"(({field} ^ {sign:#x}) - {sign:#x}) & {M}")
    else:
        b.set_reg(a.rd, field)


@handler("bfi")
def bfi(b: Block, a: Args) -> None:
    """BFI (rn != 15) / BFC (rn == 15): replace bits lsb..msb of rd."""
    if a.rd == 15 or a.msb < a.lsb:
        return undef(b, a)
    mask = ((1 << (a.msb - a.lsb + 1)) - 1) << a.lsb
    keep = f"{b.reg(a.rd)} & {~mask & 0xFFFFFFFF:#x}"
    if a.rn == 15:
        b.set_reg(a.rd, keep)
    else:
        b.set_reg(a.rd, f"{keep} | (({b.reg(a.rn)} << {a.lsb}) & {mask:#x})")
