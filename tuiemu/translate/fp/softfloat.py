"""Exact IEEE 754 arithmetic as the ARMv7 ARM's pseudocode defines it (A2.7, appendix "Pseudocode
definition": FPUnpack, FPRound, FPProcessNaNs and the operations built on them), over Python ints.

Every operation takes and returns raw bit patterns and records cumulative exception flags in a
``Ctx``, which also carries the controls it runs under (FPSCR's, or the Advanced SIMD "standard
FPSCR value"). A non-zero finite value is an exact ``m * 2**e`` (``m`` a positive int); the
rounding step sees every bit, so there is no double rounding and no host floating point at all.
"""
from __future__ import annotations

import math
from typing import NamedTuple, Optional, Tuple

# FPSCR cumulative exception bits and controls
IOC, DZC, OFC, UFC, IXC, IDC = 1, 2, 4, 8, 16, 128
FZ, DN, AHP = 1 << 24, 1 << 25, 1 << 26
RMODE_SHIFT = 22
RMODE_MASK = 3 << RMODE_SHIFT
RN, RP, RM, RZ = 0, 1, 2, 3

# FPUnpack's types
ZERO, NONZERO, INF, QNAN, SNAN = 0, 1, 2, 3, 4


class Fmt(NamedTuple):
    n: int  # width
    e: int  # exponent bits
    f: int  # fraction bits
    emin: int  # exponent of the smallest normal

    @property
    def bias(self) -> int:
        return (1 << (self.e - 1)) - 1


F16 = Fmt(16, 5, 10, -14)
F32 = Fmt(32, 8, 23, -126)
F64 = Fmt(64, 11, 52, -1022)


class Ctx:
    """Controls for one operation, and the exception flags it raises."""

    __slots__ = ("rmode", "fz", "dn", "ahp", "flags")

    def __init__(self, fpscr: int, standard: bool = False) -> None:
        """``standard``: Advanced SIMD's StandardFPSCRValue(): round to nearest, flush-to-zero and
        default NaN on, AHP from FPSCR."""
        if standard:
            self.rmode, self.fz, self.dn = RN, True, True
        else:
            self.rmode = (fpscr >> RMODE_SHIFT) & 3
            self.fz, self.dn = bool(fpscr & FZ), bool(fpscr & DN)
        self.ahp = bool(fpscr & AHP)
        self.flags = 0


Unpacked = Tuple[int, int, int, int]  # (type, sign, m, e)


def unpack(fmt: Fmt, bits: int, ctx: Ctx) -> Unpacked:
    """FPUnpack: a denormal input is flushed to zero (IDC) under FZ, except in half precision;
    with AHP a half-precision all-ones exponent is an ordinary number."""
    f = fmt.f
    sign = bits >> (fmt.n - 1) & 1
    exp = bits >> f & ((1 << fmt.e) - 1)
    frac = bits & ((1 << f) - 1)
    if exp == 0:
        if frac == 0:
            return ZERO, sign, 0, 0
        if ctx.fz and fmt.n != 16:
            ctx.flags |= IDC
            return ZERO, sign, 0, 0
        return NONZERO, sign, frac, fmt.emin - f
    if exp == (1 << fmt.e) - 1 and not (fmt.n == 16 and ctx.ahp):
        if frac == 0:
            return INF, sign, 0, 0
        return (QNAN if frac >> (f - 1) else SNAN), sign, 0, 0
    return NONZERO, sign, frac | 1 << f, exp - fmt.bias - f


def zero(fmt: Fmt, sign: int) -> int:
    return sign << (fmt.n - 1)


def infinity(fmt: Fmt, sign: int) -> int:
    return sign << (fmt.n - 1) | ((1 << fmt.e) - 1) << fmt.f


def default_nan(fmt: Fmt) -> int:
    return ((1 << fmt.e) - 1) << fmt.f | 1 << (fmt.f - 1)


def max_normal(fmt: Fmt, sign: int) -> int:
    return sign << (fmt.n - 1) | ((1 << fmt.e) - 2) << fmt.f | ((1 << fmt.f) - 1)


def neg(fmt: Fmt, bits: int) -> int:
    """FPNeg: the sign bit flipped, NaNs included; no flags."""
    return bits ^ 1 << (fmt.n - 1)


def round_value(fmt: Fmt, sign: int, m: int, e: int, ctx: Ctx, sticky: bool = False,
                rmode: Optional[int] = None) -> int:
    """FPRound of the non-zero value ``(-1)**sign * m * 2**e``. ``sticky`` says the true value lies
    strictly between that and the next multiple of ``2**e`` (then ``m`` must have at least
    ``fmt.f + 3`` bits, so that the rounding decision never depends on the missing bits)."""
    f, n = fmt.f, fmt.n
    if rmode is None:
        rmode = ctx.rmode
    x = e + m.bit_length() - 1  # value in [2**x, 2**(x+1))
    if ctx.fz and n != 16 and x < fmt.emin:
        ctx.flags |= UFC  # flushed: never Inexact
        return zero(fmt, sign)
    biased = max(x - fmt.emin + 1, 0)
    shift = (x if biased else fmt.emin) - f - e  # bits of m below the result's last place
    if shift > 0:
        mant = m >> shift
        rem = m & ((1 << shift) - 1)
        half = 1 << (shift - 1)
        inexact = rem != 0 or sticky
        above_half = rem > half or (rem == half and sticky)
        at_half = rem == half and not sticky
    else:
        assert not sticky, "rounding needs more bits"
        mant = m << -shift
        inexact = above_half = at_half = False
    if biased == 0 and inexact:
        ctx.flags |= UFC  # tininess before rounding, reported only when inexact
    if rmode == RN:
        up = above_half or (at_half and bool(mant & 1))
        to_inf = True
    elif rmode == RP:
        up = inexact and not sign
        to_inf = not sign
    elif rmode == RM:
        up = inexact and bool(sign)
        to_inf = bool(sign)
    else:
        up = to_inf = False
    if up:
        mant += 1
        if mant == 1 << f:  # a denormal rounded up to the smallest normal
            biased = 1
        if mant == 1 << (f + 1):
            biased += 1
            mant >>= 1
    if n != 16 or not ctx.ahp:
        if biased >= (1 << fmt.e) - 1:
            ctx.flags |= OFC | IXC
            return infinity(fmt, sign) if to_inf else max_normal(fmt, sign)
    elif biased >= 1 << fmt.e:  # alternative half precision has no infinity
        ctx.flags |= IOC
        return sign << (n - 1) | ((1 << (n - 1)) - 1)
    if inexact:
        ctx.flags |= IXC
    return sign << (n - 1) | biased << f | (mant & ((1 << f) - 1))


# ---- NaNs ---------------------------------------------------------------------------------
def process_nan(fmt: Fmt, typ: int, bits: int, ctx: Ctx) -> int:
    """FPProcessNaN: a signalling NaN is quietened (IOC); DN replaces any NaN by the default."""
    if typ == SNAN:
        bits |= 1 << (fmt.f - 1)
        ctx.flags |= IOC
    return default_nan(fmt) if ctx.dn else bits


def process_nans(fmt: Fmt, ops: Tuple[Tuple[int, int], ...], ctx: Ctx) -> Optional[int]:
    """FPProcessNaNs/FPProcessNaNs3 over (type, bits) pairs: the first signalling NaN, else the
    first quiet NaN, else None."""
    for want in (SNAN, QNAN):
        for typ, bits in ops:
            if typ == want:
                return process_nan(fmt, typ, bits, ctx)
    return None


def _invalid(fmt: Fmt, ctx: Ctx) -> int:
    ctx.flags |= IOC
    return default_nan(fmt)


def _exact_zero(fmt: Fmt, ctx: Ctx) -> int:
    """An exact zero sum: negative only when rounding towards minus infinity."""
    return zero(fmt, 1 if ctx.rmode == RM else 0)


def _sum(fmt: Fmt, s1: int, m1: int, e1: int, s2: int, m2: int, e2: int, ctx: Ctx) -> int:
    """The rounded exact sum of two non-zero values."""
    e = min(e1, e2)
    v = (-1 if s1 else 1) * (m1 << (e1 - e)) + (-1 if s2 else 1) * (m2 << (e2 - e))
    if v == 0:
        return _exact_zero(fmt, ctx)
    return round_value(fmt, 1 if v < 0 else 0, abs(v), e, ctx)


# ---- arithmetic ---------------------------------------------------------------------------
def add(fmt: Fmt, a: int, b: int, ctx: Ctx, subtract: bool = False) -> int:
    """FPAdd, or FPSub with ``subtract`` (the NaN rules see the operand before negation)."""
    t1, s1, m1, e1 = unpack(fmt, a, ctx)
    t2, s2, m2, e2 = unpack(fmt, b, ctx)
    nan = process_nans(fmt, ((t1, a), (t2, b)), ctx)
    if nan is not None:
        return nan
    if subtract:
        s2 ^= 1
    if t1 == INF and t2 == INF and s1 != s2:
        return _invalid(fmt, ctx)
    if t1 == INF or t2 == INF:
        return infinity(fmt, s1 if t1 == INF else s2)
    if t1 == ZERO and t2 == ZERO:
        return zero(fmt, s1) if s1 == s2 else _exact_zero(fmt, ctx)
    if t1 == ZERO:
        return round_value(fmt, s2, m2, e2, ctx)
    if t2 == ZERO:
        return round_value(fmt, s1, m1, e1, ctx)
    return _sum(fmt, s1, m1, e1, s2, m2, e2, ctx)


def mul(fmt: Fmt, a: int, b: int, ctx: Ctx) -> int:
    t1, s1, m1, e1 = unpack(fmt, a, ctx)
    t2, s2, m2, e2 = unpack(fmt, b, ctx)
    nan = process_nans(fmt, ((t1, a), (t2, b)), ctx)
    if nan is not None:
        return nan
    if (t1 == INF and t2 == ZERO) or (t1 == ZERO and t2 == INF):
        return _invalid(fmt, ctx)
    if t1 == INF or t2 == INF:
        return infinity(fmt, s1 ^ s2)
    if t1 == ZERO or t2 == ZERO:
        return zero(fmt, s1 ^ s2)
    return round_value(fmt, s1 ^ s2, m1 * m2, e1 + e2, ctx)


def div(fmt: Fmt, a: int, b: int, ctx: Ctx) -> int:
    t1, s1, m1, e1 = unpack(fmt, a, ctx)
    t2, s2, m2, e2 = unpack(fmt, b, ctx)
    nan = process_nans(fmt, ((t1, a), (t2, b)), ctx)
    if nan is not None:
        return nan
    if (t1 == INF and t2 == INF) or (t1 == ZERO and t2 == ZERO):
        return _invalid(fmt, ctx)
    if t1 == INF or t2 == ZERO:
        if t1 != INF:
            ctx.flags |= DZC
        return infinity(fmt, s1 ^ s2)
    if t1 == ZERO or t2 == INF:
        return zero(fmt, s1 ^ s2)
    # a quotient of at least f + 3 bits, the rest in the sticky bit
    k = max(fmt.f + 3 - (m1.bit_length() - m2.bit_length()) + 1, 0)
    q, r = divmod(m1 << k, m2)
    return round_value(fmt, s1 ^ s2, q, e1 - e2 - k, ctx, sticky=r != 0)


def sqrt(fmt: Fmt, a: int, ctx: Ctx) -> int:
    t, s, m, e = unpack(fmt, a, ctx)
    if t in (QNAN, SNAN):
        return process_nan(fmt, t, a, ctx)
    if t == ZERO:
        return zero(fmt, s)
    if t == INF and not s:
        return a
    if s:
        return _invalid(fmt, ctx)
    # scale to an even exponent and enough bits that the root has at least f + 3
    k = max(2 * (fmt.f + 3) - m.bit_length() + 2, 0)
    if (e - k) & 1:
        k += 1
    root = math.isqrt(m << k)
    return round_value(fmt, 0, root, (e - k) // 2, ctx, sticky=root * root != m << k)


def muladd(fmt: Fmt, addend: int, a: int, b: int, ctx: Ctx) -> int:
    """FPMulAdd: addend + a * b with one rounding (VFMA and friends negate operands first)."""
    ta, sa, ma, ea = unpack(fmt, addend, ctx)
    t1, s1, m1, e1 = unpack(fmt, a, ctx)
    t2, s2, m2, e2 = unpack(fmt, b, ctx)
    inf_times_zero = (t1 == INF and t2 == ZERO) or (t1 == ZERO and t2 == INF)
    nan = process_nans(fmt, ((ta, addend), (t1, a), (t2, b)), ctx)
    if ta == QNAN and inf_times_zero:
        return _invalid(fmt, ctx)
    if nan is not None:
        return nan
    sp = s1 ^ s2
    inf_p = t1 == INF or t2 == INF
    zero_p = t1 == ZERO or t2 == ZERO
    if inf_times_zero or (ta == INF and inf_p and sa != sp):
        return _invalid(fmt, ctx)
    if ta == INF or inf_p:
        return infinity(fmt, sa if ta == INF else sp)
    if ta == ZERO and zero_p:
        return zero(fmt, sa) if sa == sp else _exact_zero(fmt, ctx)
    if zero_p:
        return round_value(fmt, sa, ma, ea, ctx)
    if ta == ZERO:
        return round_value(fmt, sp, m1 * m2, e1 + e2, ctx)
    return _sum(fmt, sa, ma, ea, sp, m1 * m2, e1 + e2, ctx)


# ---- comparisons --------------------------------------------------------------------------
def _order(t: int, s: int, m: int, e: int, base: int) -> int:
    """An integer that orders like the value (infinities beyond every finite value)."""
    if t == ZERO:
        return 0
    if t == INF:
        return -(1 << 5000) if s else 1 << 5000
    v = m << (e - base)
    return -v if s else v


def _ordered(fmt: Fmt, a: int, b: int, ctx: Ctx) -> Tuple[Unpacked, Unpacked, Optional[Tuple[int, int]]]:
    u1, u2 = unpack(fmt, a, ctx), unpack(fmt, b, ctx)
    if u1[0] in (QNAN, SNAN) or u2[0] in (QNAN, SNAN):
        return u1, u2, None
    base = min(u1[3], u2[3], 0) - fmt.f - 2
    return u1, u2, (_order(*u1, base), _order(*u2, base))


def compare(fmt: Fmt, a: int, b: int, ctx: Ctx, quiet_nan_exc: bool) -> int:
    """FPCompare: NZCV (as bits 31:28) of a - b; unordered is 0011, with IOC for a signalling NaN
    or, for VCMPE, any NaN."""
    u1, u2, vals = _ordered(fmt, a, b, ctx)
    if vals is None:
        if quiet_nan_exc or u1[0] == SNAN or u2[0] == SNAN:
            ctx.flags |= IOC
        return 0x3 << 28
    v1, v2 = vals
    if v1 == v2:
        return 0x6 << 28
    return 0x8 << 28 if v1 < v2 else 0x2 << 28


def compare_eq(fmt: Fmt, a: int, b: int, ctx: Ctx) -> bool:
    """FPCompareEQ (Advanced SIMD VCEQ): IOC only for a signalling NaN."""
    u1, u2, vals = _ordered(fmt, a, b, ctx)
    if vals is None:
        if u1[0] == SNAN or u2[0] == SNAN:
            ctx.flags |= IOC
        return False
    return vals[0] == vals[1]


def compare_ge(fmt: Fmt, a: int, b: int, ctx: Ctx, strict: bool) -> bool:
    """FPCompareGE / FPCompareGT (VCGE/VCGT): IOC for any NaN."""
    _, _, vals = _ordered(fmt, a, b, ctx)
    if vals is None:
        ctx.flags |= IOC
        return False
    return vals[0] > vals[1] if strict else vals[0] >= vals[1]


def max_min(fmt: Fmt, a: int, b: int, ctx: Ctx, want_max: bool) -> int:
    """FPMax / FPMin (ARMv7: NaNs propagate; of two zeros max takes +0 and min -0)."""
    u1, u2, vals = _ordered(fmt, a, b, ctx)
    if vals is None:
        nan = process_nans(fmt, ((u1[0], a), (u2[0], b)), ctx)
        assert nan is not None
        return nan
    pick1 = vals[0] > vals[1] if want_max else vals[0] < vals[1]
    t, s, m, e = u1 if pick1 else u2
    if t == INF:
        return infinity(fmt, s)
    if t == ZERO:
        return zero(fmt, (u1[1] & u2[1]) if want_max else (u1[1] | u2[1]))
    return round_value(fmt, s, m, e, ctx)


# ---- conversions --------------------------------------------------------------------------
def convert(src: Fmt, dst: Fmt, bits: int, ctx: Ctx) -> int:
    """FPSingleToDouble, FPDoubleToSingle, FPHalfToSingle, FPSingleToHalf: a NaN keeps its sign
    and the top of its payload (quietened), unless DN; alternative half precision, which has no
    NaN or infinity, turns them into zero or the largest value and IOC."""
    t, s, m, e = unpack(src, bits, ctx)
    ahp_dst = dst.n == 16 and ctx.ahp
    if t in (QNAN, SNAN):
        if t == SNAN:
            ctx.flags |= IOC
        if ahp_dst:
            ctx.flags |= IOC
            return zero(dst, s)
        if ctx.dn:
            return default_nan(dst)
        frac = bits & ((1 << src.f) - 1)
        frac = frac << (dst.f - src.f) if dst.f > src.f else frac >> (src.f - dst.f)
        return infinity(dst, s) | frac | 1 << (dst.f - 1)
    if t == INF:
        if ahp_dst:
            ctx.flags |= IOC
            return s << 15 | 0x7FFF
        return infinity(dst, s)
    if t == ZERO:
        return zero(dst, s)
    return round_value(dst, s, m, e, ctx)


def to_fixed(fmt: Fmt, bits: int, ctx: Ctx, size: int, fbits: int, unsigned: bool, round_zero: bool) -> int:
    """FPToFixed: the ``size``-bit two's complement (or unsigned) value of ``bits * 2**fbits``,
    rounded towards zero or by FPSCR; NaNs give 0 and IOC, out-of-range values saturate with IOC."""
    rmode = RZ if round_zero else ctx.rmode
    t, s, m, e = unpack(fmt, bits, ctx)
    lo, hi = (0, (1 << size) - 1) if unsigned else (-(1 << (size - 1)), (1 << (size - 1)) - 1)
    if t in (QNAN, SNAN):
        ctx.flags |= IOC
        return 0
    if t == ZERO:
        return 0
    if t == INF:
        ctx.flags |= IOC
        return (lo if s else hi) & ((1 << size) - 1)
    num = -m if s else m
    e += fbits
    if e >= 0:
        result, err, half = num << e, 0, 1
    else:
        result = num >> -e  # floor
        err = num - (result << -e)
        half = 1 << (-e - 1)
    if rmode == RN:
        up = err > half or (err == half and bool(result & 1))
    elif rmode == RP:
        up = err != 0
    elif rmode == RM:
        up = False
    else:
        up = err != 0 and result < 0
    result += up
    if result < lo or result > hi:
        ctx.flags |= IOC
        result = lo if result < lo else hi
    elif err:
        ctx.flags |= IXC
    return result & ((1 << size) - 1)


def from_fixed(fmt: Fmt, value: int, ctx: Ctx, size: int, fbits: int, unsigned: bool,
               round_nearest: bool) -> int:
    """FixedToFP: the ``size``-bit integer ``value`` divided by ``2**fbits``, rounded by FPSCR
    (or to nearest)."""
    value &= (1 << size) - 1
    if not unsigned and value >> (size - 1):
        value -= 1 << size
    if value == 0:
        return zero(fmt, 0)
    return round_value(fmt, 1 if value < 0 else 0, abs(value), -fbits, ctx, rmode=RN if round_nearest else None)
