"""VFP data processing (ARM ARM A7.5): arithmetic, fused multiply-add, square root, absolute
value and negation, comparisons, conversions and VMOV (immediate and register), single and
double precision.

Each operation is a call to a runtime helper in fp/vfpops.py that takes the operands' bits and
``fpscr`` and returns the result and the new FPSCR (with its cumulative flags), so rounding
mode, flush-to-zero and default NaN come from the FPSCR value of the moment. FPNeg, FPAbs and the
register moves are bit operations with no flags, inline.
"""
from __future__ import annotations

from typing import Callable, Dict, Tuple

from ..codegen import Block
from ..decodetree import Args
from ..fp import vfpops
from ..fp.softfloat import F16, F32, F64
from .fpregs import dp_enabled, dreg, dreg_dest, enabled, fpscr, fpscr_dest, set_sreg, sreg
from .registry import handler

SIGN = {0: "0x80000000", 1: "0x8000000000000000"}

# (single, double) helpers of each binary operation
_BINARY: Dict[str, Tuple[Callable, Callable]] = {
    "add": (vfpops.add32, vfpops.add64), "sub": (vfpops.sub32, vfpops.sub64),
    "mul": (vfpops.mul32, vfpops.mul64), "div": (vfpops.div32, vfpops.div64),
}
_FMA = (vfpops.fma32, vfpops.fma64)


def operand(b: Block, dp: int, n: int) -> str:
    return dreg(b, n) if dp else sreg(b, n)


def _helper(b: Block, name: str, fn: Callable) -> str:
    return b.const(name, fn)


def _binary(b: Block, op: str, dp: int, x: str, y: str) -> str:
    """``op`` of x and y into a temporary (FPSCR updated)."""
    fn = _helper(b, f"F{op.upper()}{32 << dp}", _BINARY[op][dp])
    t = b.tmp("f")
    b.emit(f"{t}, {fpscr_dest(b)} = {fn}({x}, {y}, {fpscr(b)})")
    return t


def write(b: Block, dp: int, n: int, expr: str) -> None:
    if dp:
        b.emit(f"{dreg_dest(b, n)} = {expr}")
    else:
        set_sreg(b, n, expr)


@handler("vfp_3op")
def vfp_3op(b: Block, a: Args) -> bool:
    """VADD VSUB VMUL VDIV VNMUL VMLA VMLS VNMLA VNMLS and the fused VFMA VFMS VFNMA VFNMS."""
    if not dp_enabled(b, a.insn):
        return True
    op, dp = a.op, a.dp
    s = SIGN[dp]
    n, m = operand(b, dp, a.vn), operand(b, dp, a.vm)
    if op in ("add", "sub", "mul", "div"):
        write(b, dp, a.vd, _binary(b, op, dp, n, m))
        return True
    d = operand(b, dp, a.vd)
    if op in ("fma", "fms", "fnma", "fnms"):
        fn = _helper(b, f"FFMA{32 << dp}", _FMA[dp])
        neg_n = op in ("fms", "fnma")
        neg_d = op in ("fnma", "fnms")
        t = b.tmp("f")
        b.emit(f"{t}, {fpscr_dest(b)} = {fn}({f'{d} ^ {s}' if neg_d else d}, "
               f"{f'{n} ^ {s}' if neg_n else n}, {m}, {fpscr(b)})")
        write(b, dp, a.vd, t)
        return True
    p = _binary(b, "mul", dp, n, m)
    if op == "nmul":
        write(b, dp, a.vd, f"{p} ^ {s}")
        return True
    # VMLA: d + p; VMLS: d + -p; VNMLA: -d + -p; VNMLS: -d + p (each FPNeg a sign flip)
    addend = f"{p} ^ {s}" if op in ("mls", "nmla") else p
    acc = f"{d} ^ {s}" if op in ("nmla", "nmls") else d
    write(b, dp, a.vd, _binary(b, "add", dp, acc, addend))
    return True


@handler("vfp_2op")
def vfp_2op(b: Block, a: Args) -> bool:
    """VMOV (register), VABS, VNEG, VSQRT."""
    if not dp_enabled(b, a.insn):
        return True
    op, dp = a.op, a.dp
    m = operand(b, dp, a.vm)
    if op == "mov":
        write(b, dp, a.vd, m)
    elif op == "abs":
        write(b, dp, a.vd, f"{m} & {'0x7FFFFFFF' if not dp else '0x7FFFFFFFFFFFFFFF'}")
    elif op == "neg":
        write(b, dp, a.vd, f"{m} ^ {SIGN[dp]}")
    else:
        fn = _helper(b, f"FSQRT{32 << dp}", vfpops.sqrt64 if dp else vfpops.sqrt32)
        t = b.tmp("f")
        b.emit(f"{t}, {fpscr_dest(b)} = {fn}({m}, {fpscr(b)})")
        write(b, dp, a.vd, t)
    return True


def vfp_expand_imm(imm8: int, dp: int) -> int:
    """VFPExpandImm: sign, a small exponent around the bias and four fraction bits."""
    e, f = (11, 52) if dp else (8, 23)
    sign = imm8 >> 7
    b6 = imm8 >> 6 & 1
    exp = ((b6 ^ 1) << (e - 1)) | ((((1 << (e - 3)) - 1) if b6 else 0) << 2) | (imm8 >> 4 & 3)
    return sign << (e + f) | exp << f | (imm8 & 15) << (f - 4)


@handler("vfp_mov_imm")
def vfp_mov_imm(b: Block, a: Args) -> bool:
    if not dp_enabled(b, a.insn):
        return True
    write(b, a.dp, a.vd, hex(vfp_expand_imm(a.imm, a.dp)))
    return True


@handler("vfp_cmp")
def vfp_cmp(b: Block, a: Args) -> bool:
    """VCMP and VCMPE (E: quiet NaNs raise Invalid Operation too), with a register or #0."""
    if not enabled(b, a.insn):
        return True
    dp = a.dp
    m = operand(b, dp, a.vm) if "vm" in a else "0"
    fn = _helper(b, f"FCMP{32 << dp}", vfpops.cmp64 if dp else vfpops.cmp32)
    b.emit(f"{fpscr_dest(b)} = {fn}({operand(b, dp, a.vd)}, {m}, {fpscr(b)}, {a.e})")
    return True


@handler("vfp_cvt_fp")
def vfp_cvt_fp(b: Block, a: Args) -> bool:
    """VCVT between single and double precision (``dp``: the source is double)."""
    if not enabled(b, a.insn):
        return True
    fn = _helper(b, "FCVTDS" if a.dp else "FCVTSD", vfpops.f64_to_f32 if a.dp else vfpops.f32_to_f64)
    t = b.tmp("f")
    b.emit(f"{t}, {fpscr_dest(b)} = {fn}({operand(b, a.dp, a.vm)}, {fpscr(b)})")
    write(b, 1 - a.dp, a.vd, t)
    return True


@handler("vfp_cvt_half")
def vfp_cvt_half(b: Block, a: Args) -> bool:
    """VCVTB/VCVTT: single to or from the bottom (T = 0) or top half of a single register."""
    if not enabled(b, a.insn):
        return True
    fn = _helper(b, "FCVTH", vfpops.convert)
    b.const("F16", F16)
    b.const("F32", F32)
    m = sreg(b, a.vm)
    t = b.tmp("f")
    if a.to_half:
        b.emit(f"{t}, {fpscr_dest(b)} = {fn}(F32, F16, {m}, {fpscr(b)})")
        d = sreg(b, a.vd)
        keep, shift = ("0xFFFF", 16) if a.t else ("0xFFFF0000", 0)
        set_sreg(b, a.vd, f"{d} & {keep} | {t} << {shift}")
    else:
        half = f"{m} >> 16" if a.t else f"{m} & 0xFFFF"
        b.emit(f"{t}, {fpscr_dest(b)} = {fn}(F16, F32, {half}, {fpscr(b)})")
        set_sreg(b, a.vd, t)
    return True


@handler("vfp_cvt_int")
def vfp_cvt_int(b: Block, a: Args) -> bool:
    """VCVT/VCVTR between floating point and a 32-bit integer in a single register
    (``to_int``: FPToFixed, rounding towards zero or (VCVTR) by FPSCR; else FixedToFP)."""
    if not enabled(b, a.insn):
        return True
    fmt = b.const("F64" if a.dp else "F32", F64 if a.dp else F32)
    t = b.tmp("f")
    if a.to_int:
        fn = _helper(b, "FTOFIX", vfpops.to_fixed)
        b.emit(f"{t}, {fpscr_dest(b)} = {fn}({fmt}, {operand(b, a.dp, a.vm)}, {fpscr(b)}, 32, 0, "
               f"{1 - a.signed}, {a.rz})")
        set_sreg(b, a.vd, t)
    else:
        fn = _helper(b, "FFROMFIX", vfpops.from_fixed)
        b.emit(f"{t}, {fpscr_dest(b)} = {fn}({fmt}, {sreg(b, a.vm)}, {fpscr(b)}, 32, 0, {1 - a.signed})")
        write(b, a.dp, a.vd, t)
    return True


@handler("vfp_cvt_fixed")
def vfp_cvt_fixed(b: Block, a: Args) -> bool:
    """VCVT between floating point and 16- or 32-bit fixed point, in place; a 16-bit result is
    sign- or zero-extended."""
    size = 32 if a.sx else 16
    fbits = size - a.imm
    if fbits < 0:
        return False  # UNPREDICTABLE
    if not enabled(b, a.insn):
        return True
    dp = a.dp
    fmt = b.const("F64" if dp else "F32", F64 if dp else F32)
    t = b.tmp("f")
    src = operand(b, dp, a.vd)
    unsigned = a.u
    if a.to_fixed:
        fn = _helper(b, "FTOFIX", vfpops.to_fixed)
        b.emit(f"{t}, {fpscr_dest(b)} = {fn}({fmt}, {src}, {fpscr(b)}, {size}, {fbits}, {unsigned}, 1)")
        if size == 16 and not unsigned:
            b.emit(f"{t} = ({t} ^ 0x8000) - 0x8000 & {'0xFFFFFFFFFFFFFFFF' if dp else '0xFFFFFFFF'}")
        elif dp and not unsigned:
            b.emit(f"{t} = ({t} ^ 0x80000000) - 0x80000000 & 0xFFFFFFFFFFFFFFFF")
        write(b, dp, a.vd, t)
    else:
        fn = _helper(b, "FFROMFIX", vfpops.from_fixed)
        b.emit(f"{t}, {fpscr_dest(b)} = {fn}({fmt}, {src}, {fpscr(b)}, {size}, {fbits}, {unsigned})")
        write(b, dp, a.vd, t)
    return True
