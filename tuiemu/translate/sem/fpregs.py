"""Extension registers in generated code: D0-D31 are the locals ``d0``-``d31`` (64-bit ints) and
FPSCR is ``fpscr`` (see core/state.py). S2n/S2n+1 are the low/high halves of Dn, Qn is D2n:D2n+1.

Also the checks every VFP and Advanced SIMD handler starts with: is the unit enabled for the
block's TB flags, and the trap when it is not.
"""
from __future__ import annotations

from typing import Any

from ...core.state import D0, FPSCR, TBF_FPVEC, TBF_NEON, TBF_VFP
from ..codegen import LOCAL_NAMES, Block

LO32 = "0xFFFFFFFF"
HI32 = "0xFFFFFFFF00000000"
M64 = "0xFFFFFFFFFFFFFFFF"


def _use(b: Block, idx: int, write: bool) -> str:
    b.used.add(idx)
    if write:
        b.written.add(idx)
    return LOCAL_NAMES[idx]


def dreg(b: Block, n: int) -> str:
    return _use(b, D0 + n, False)


def dreg_dest(b: Block, n: int) -> str:
    """The local of Dn as an assignment target."""
    return _use(b, D0 + n, True)


def set_dreg(b: Block, n: int, expr: str) -> None:
    b.emit(f"{dreg_dest(b, n)} = {expr}")


def sreg(b: Block, n: int) -> str:
    d = dreg(b, n >> 1)
    return f"({d} >> 32)" if n & 1 else f"({d} & {LO32})"


def set_sreg(b: Block, n: int, expr: str) -> None:
    d = dreg_dest(b, n >> 1)
    if n & 1:
        b.emit(f"{d} = ({d} & {LO32}) | ({expr}) << 32")
    else:
        b.emit(f"{d} = ({d} & {HI32}) | ({expr})")


def fpscr(b: Block) -> str:
    return _use(b, FPSCR, False)


def fpscr_dest(b: Block) -> str:
    return _use(b, FPSCR, True)


# ---- enable checks -------------------------------------------------------------------------
def rt_fp_trap(x: Any, insn: int) -> None:
    """CheckVFPEnabled / CheckAdvSIMDEnabled failed: the Undefined Instruction exception, noted
    as an FP trap (an OS's lazy FP switch lives on these)."""
    x.counters.fp_traps += 1
    x.platform.event("fp_trap", x, pc=x.R[15], insn=insn)
    x.undefined(insn)


def enabled(b: Block, insn: int, simd: bool = False) -> bool:
    """True if the block may run VFP (``simd``: Advanced SIMD) instructions; otherwise emits the
    trap, which completes the instruction for the handler (it then returns True)."""
    if b.tb_flags & (TBF_NEON if simd else TBF_VFP):
        return True
    b.exit_helper("FPTRAP", rt_fp_trap, f"X, {insn:#x}")
    return False


def dp_enabled(b: Block, insn: int) -> bool:
    """``enabled`` for VFP data processing, which also traps while FPSCR.Len/Stride are non-zero:
    this core has no short vectors (as QEMU's cortex-a15)."""
    if b.tb_flags & TBF_VFP and not b.tb_flags & TBF_FPVEC:
        return True
    b.exit_helper("FPTRAP", rt_fp_trap, f"X, {insn:#x}")
    return False
