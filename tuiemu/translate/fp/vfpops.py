"""The VFP operations translated code calls: ``op(operands..., fpscr) -> (result, fpscr)`` on raw
bits, the new FPSCR carrying the cumulative exception flags.

Fast path: when FPSCR asks for round-to-nearest without flush-to-zero, host doubles give the
ARM result exactly as long as the result is a normal number: binary64 +, -, *, / and sqrt are
correctly rounded, and single precision computed in double and rounded once more to single is
too (53 >= 2 * 24 + 2, so the double rounding is innocuous for these operations). Everything the
fast path cannot vouch for (NaNs, infinities, zeros from non-zero operands, denormal or
overflowing results, other rounding modes, flush-to-zero) goes to ``softfloat``, the exact
reference. Inexact (IXC) is sticky, so once it is set the fast path need not prove exactness;
until then it proves it cheaply where it can (TwoSum for add, exact products for single).
"""
from __future__ import annotations

from math import sqrt as _sqrt
from struct import Struct
from typing import Callable, Tuple

from . import softfloat as sf
from .softfloat import F32, F64, FZ, IXC, Ctx

_PQ, _UQ = Struct("<Q").pack, Struct("<Q").unpack
_PD, _UD = Struct("<d").pack, Struct("<d").unpack
_PI, _UI = Struct("<I").pack, Struct("<I").unpack
_PF, _UF = Struct("<f").pack, Struct("<f").unpack

MIN64, MAX64 = 2.2250738585072014e-308, 1.7976931348623157e308
MIN32, MAX32 = 1.1754943508222875e-38, 3.4028234663852886e38
SLOW = FZ | sf.RMODE_MASK  # flush-to-zero or directed rounding: the reference decides
FPSCR_NZCV = 0xF0000000

Result = Tuple[int, int]


def d2f(bits: int) -> float:
    return _UD(_PQ(bits))[0]


def f2d(x: float) -> int:
    return _UQ(_PD(x))[0]


def s2f(bits: int) -> float:
    return _UF(_PI(bits))[0]


def f2s(x: float) -> int:
    """Host double to single bits, rounded to nearest (no overflow: callers check the range)."""
    return _UI(_PF(x))[0]


def _slow2(fn: Callable[..., int], fmt: sf.Fmt, a: int, b: int, fpscr: int) -> Result:
    ctx = Ctx(fpscr)
    r = fn(fmt, a, b, ctx)
    return r, fpscr | ctx.flags


def _two_sum_err(x: float, y: float, r: float) -> float:
    """Knuth's TwoSum: the exact error of the rounded sum ``r = x + y``."""
    t = r - x
    return (x - (r - t)) + (y - t)


# ---- double precision -----------------------------------------------------------------------
def add64(a: int, b: int, fpscr: int) -> Result:
    if not fpscr & SLOW:
        x, y = _UD(_PQ(a))[0], _UD(_PQ(b))[0]
        r = x + y
        if MIN64 <= abs(r) <= MAX64:
            if not fpscr & IXC and _two_sum_err(x, y, r):
                fpscr |= IXC
            return _UQ(_PD(r))[0], fpscr
    return _slow2(sf.add, F64, a, b, fpscr)


def sub64(a: int, b: int, fpscr: int) -> Result:
    if not fpscr & SLOW:
        x, y = _UD(_PQ(a))[0], _UD(_PQ(b))[0]
        r = x - y
        if MIN64 <= abs(r) <= MAX64:
            if not fpscr & IXC and _two_sum_err(x, -y, r):
                fpscr |= IXC
            return _UQ(_PD(r))[0], fpscr
    ctx = Ctx(fpscr)
    return sf.add(F64, a, b, ctx, subtract=True), fpscr | ctx.flags


def _exact_product64(a: int, b: int) -> bool:
    """Whether the product of two normal doubles fits in 53 bits (given a normal result)."""
    p = ((a & 0xFFFFFFFFFFFFF) | 1 << 52) * ((b & 0xFFFFFFFFFFFFF) | 1 << 52)
    return (p >> ((p & -p).bit_length() - 1)).bit_length() <= 53


def mul64(a: int, b: int, fpscr: int) -> Result:
    if not fpscr & SLOW:
        r = _UD(_PQ(a))[0] * _UD(_PQ(b))[0]
        if MIN64 < abs(r) <= MAX64 and (fpscr & IXC or a & 0x7FF0000000000000 and b & 0x7FF0000000000000):
            if not fpscr & IXC and not _exact_product64(a, b):
                fpscr |= IXC
            return _UQ(_PD(r))[0], fpscr
    return _slow2(sf.mul, F64, a, b, fpscr)


def div64(a: int, b: int, fpscr: int) -> Result:
    if fpscr & (SLOW | IXC) == IXC:
        y = _UD(_PQ(b))[0]
        if y:
            r = _UD(_PQ(a))[0] / y
            if MIN64 < abs(r) <= MAX64:
                return _UQ(_PD(r))[0], fpscr
    return _slow2(sf.div, F64, a, b, fpscr)


def sqrt64(a: int, fpscr: int) -> Result:
    if fpscr & (SLOW | IXC) == IXC:
        x = _UD(_PQ(a))[0]
        if MIN64 <= x <= MAX64:
            return _UQ(_PD(_sqrt(x)))[0], fpscr
    ctx = Ctx(fpscr)
    return sf.sqrt(F64, a, ctx), fpscr | ctx.flags


# ---- single precision (operands and results in the low 32 bits) ---------------------------------
def _single(r: float, fpscr: int, exact: Callable[[float], bool]) -> Result:
    bits = _UI(_PF(r))[0]
    if not fpscr & IXC and (_UF(_PI(bits))[0] != r or not exact(r)):
        fpscr |= IXC
    return bits, fpscr


def add32(a: int, b: int, fpscr: int) -> Result:
    if not fpscr & SLOW:
        x, y = _UF(_PI(a))[0], _UF(_PI(b))[0]
        r = x + y
        if MIN32 <= abs(r) <= MAX32:
            return _single(r, fpscr, lambda r: not _two_sum_err(x, y, r))
    return _slow2(sf.add, F32, a, b, fpscr)


def sub32(a: int, b: int, fpscr: int) -> Result:
    if not fpscr & SLOW:
        x, y = _UF(_PI(a))[0], _UF(_PI(b))[0]
        r = x - y
        if MIN32 <= abs(r) <= MAX32:
            return _single(r, fpscr, lambda r: not _two_sum_err(x, -y, r))
    ctx = Ctx(fpscr)
    return sf.add(F32, a, b, ctx, subtract=True), fpscr | ctx.flags


def _exact(r: float) -> bool:
    return True


def mul32(a: int, b: int, fpscr: int) -> Result:
    if not fpscr & SLOW:
        r = _UF(_PI(a))[0] * _UF(_PI(b))[0]  # exact in double
        if MIN32 <= abs(r) <= MAX32:
            return _single(r, fpscr, _exact)
    return _slow2(sf.mul, F32, a, b, fpscr)


def div32(a: int, b: int, fpscr: int) -> Result:
    if not fpscr & SLOW:
        x, y = _UF(_PI(a))[0], _UF(_PI(b))[0]
        if y:
            r = x / y
            if MIN32 < abs(r) <= MAX32:
                return _single(r, fpscr, lambda r: r * y == x)
    return _slow2(sf.div, F32, a, b, fpscr)


def sqrt32(a: int, fpscr: int) -> Result:
    if not fpscr & SLOW:
        x = _UF(_PI(a))[0]
        if MIN32 <= x <= MAX32:
            return _single(_sqrt(x), fpscr, lambda r: r * r == x)
    ctx = Ctx(fpscr)
    return sf.sqrt(F32, a, ctx), fpscr | ctx.flags


# ---- fused multiply-add: the reference (a fast path needs an exact product and sum) ----------------
def fma64(addend: int, a: int, b: int, fpscr: int) -> Result:
    ctx = Ctx(fpscr)
    return sf.muladd(F64, addend, a, b, ctx), fpscr | ctx.flags


def fma32(addend: int, a: int, b: int, fpscr: int) -> Result:
    ctx = Ctx(fpscr)
    return sf.muladd(F32, addend, a, b, ctx), fpscr | ctx.flags


# ---- comparison: FPSCR.NZCV ---------------------------------------------------------------------
def _cmp_fast(x: float, y: float, fpscr: int) -> int:
    if x == y:
        return (fpscr & ~FPSCR_NZCV) | 0x60000000
    return (fpscr & ~FPSCR_NZCV) | (0x80000000 if x < y else 0x20000000)


def cmp64(a: int, b: int, fpscr: int, signal: int) -> int:
    if not fpscr & FZ:
        x, y = _UD(_PQ(a))[0], _UD(_PQ(b))[0]
        if x == x and y == y:
            return _cmp_fast(x, y, fpscr)
    ctx = Ctx(fpscr)
    return (fpscr & ~FPSCR_NZCV) | sf.compare(F64, a, b, ctx, bool(signal)) | ctx.flags


def cmp32(a: int, b: int, fpscr: int, signal: int) -> int:
    if not fpscr & FZ:
        x, y = _UF(_PI(a))[0], _UF(_PI(b))[0]
        if x == x and y == y:
            return _cmp_fast(x, y, fpscr)
    ctx = Ctx(fpscr)
    return (fpscr & ~FPSCR_NZCV) | sf.compare(F32, a, b, ctx, bool(signal)) | ctx.flags


# ---- conversions ----------------------------------------------------------------------------------
def f32_to_f64(a: int, fpscr: int) -> Result:
    if a & 0x7F800000 and a & 0x7F800000 != 0x7F800000:  # normal: exact
        return _UQ(_PD(_UF(_PI(a))[0]))[0], fpscr
    ctx = Ctx(fpscr)
    return sf.convert(F32, F64, a, ctx), fpscr | ctx.flags


def f64_to_f32(a: int, fpscr: int) -> Result:
    if not fpscr & SLOW:
        x = _UD(_PQ(a))[0]
        if MIN32 <= abs(x) <= MAX32:
            return _single(x, fpscr, _exact)
    ctx = Ctx(fpscr)
    return sf.convert(F64, F32, a, ctx), fpscr | ctx.flags


def int_to_f64(v: int, signed: int, fpscr: int) -> Result:
    """Always exact: a 32-bit integer fits in a double."""
    if signed and v & 0x80000000:
        v -= 1 << 32
    return _UQ(_PD(float(v)))[0], fpscr


def convert(src: sf.Fmt, dst: sf.Fmt, a: int, fpscr: int) -> Result:
    ctx = Ctx(fpscr)
    return sf.convert(src, dst, a, ctx), fpscr | ctx.flags


def to_fixed(fmt: sf.Fmt, a: int, fpscr: int, size: int, fbits: int, unsigned: int, round_zero: int) -> Result:
    """FPToFixed; VCVT to a 32-bit integer rounding towards zero has a fast path."""
    if round_zero and size == 32 and not fbits and not fpscr & FZ:
        x = _UD(_PQ(a))[0] if fmt is F64 else _UF(_PI(a))[0]
        if (0.0 if unsigned else -2147483648.0) <= x < (4294967296.0 if unsigned else 2147483648.0):
            i = int(x)
            if i != x and not fpscr & IXC:
                fpscr |= IXC
            return i & 0xFFFFFFFF, fpscr
    ctx = Ctx(fpscr)
    return sf.to_fixed(fmt, a, ctx, size, fbits, bool(unsigned), bool(round_zero)), fpscr | ctx.flags


def from_fixed(fmt: sf.Fmt, v: int, fpscr: int, size: int, fbits: int, unsigned: int) -> Result:
    """FixedToFP with FPSCR rounding; from a 32-bit integer, ``float`` is exact and rounding that
    to single precision is the only rounding."""
    if size == 32 and not fbits:
        if fmt is F64:
            return int_to_f64(v, not unsigned, fpscr)
        if not fpscr & sf.RMODE_MASK:
            if not unsigned and v & 0x80000000:
                v -= 1 << 32
            return (_single(float(v), fpscr, _exact) if v else (0, fpscr))
    ctx = Ctx(fpscr)
    return sf.from_fixed(fmt, v, ctx, size, fbits, bool(unsigned), False), fpscr | ctx.flags
