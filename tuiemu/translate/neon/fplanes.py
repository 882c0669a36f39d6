"""Single-precision Advanced SIMD operations on the two lanes of a doubleword (ARM ARM A8.8).

They run under the "standard FPSCR value" (round to nearest, flush-to-zero, default NaN; AHP from
FPSCR) but set FPSCR's cumulative flags, so each takes and returns FPSCR. A lane whose operands
are normal numbers and whose result is a normal number takes the host-double fast path (exact,
see fp/vfpops.py); any other lane goes to the reference in fp/softfloat.py.
"""
from __future__ import annotations

from typing import Callable, Tuple

from ..fp import softfloat as sf
from ..fp.softfloat import F16, F32, IXC, Ctx
from ..fp.vfpops import MAX32, MIN32, f2s, s2f

M32 = 0xFFFFFFFF
EXP = 0x7F800000
Result = Tuple[int, int]
Lane2 = Callable[[int, int, int], Result]


def _normal(x: int) -> bool:
    e = x & EXP
    return e != 0 and e != EXP


def _round(r: float, fpscr: int, exact: bool) -> Result:
    bits = f2s(r)
    if not fpscr & IXC and (not exact or s2f(bits) != r):
        fpscr |= IXC
    return bits, fpscr


def _slow(fn: Callable[..., int], fpscr: int, *ops: int) -> Result:
    ctx = Ctx(fpscr, standard=True)
    r = fn(F32, *ops, ctx)
    return r, fpscr | ctx.flags


def _two_sum_exact(x: float, y: float, r: float) -> bool:
    t = r - x
    return (x - (r - t)) + (y - t) == 0


def add_lane(x: int, y: int, fpscr: int) -> Result:
    if _normal(x) and _normal(y):
        fx, fy = s2f(x), s2f(y)
        r = fx + fy
        if MIN32 <= abs(r) <= MAX32:
            return _round(r, fpscr, _two_sum_exact(fx, fy, r))
    return _slow(sf.add, fpscr, x, y)


def sub_lane(x: int, y: int, fpscr: int) -> Result:
    if _normal(x) and _normal(y):
        fx, fy = s2f(x), s2f(y)
        r = fx - fy
        if MIN32 <= abs(r) <= MAX32:
            return _round(r, fpscr, _two_sum_exact(fx, -fy, r))
    ctx = Ctx(fpscr, standard=True)
    return sf.add(F32, x, y, ctx, subtract=True), fpscr | ctx.flags


def mul_lane(x: int, y: int, fpscr: int) -> Result:
    if _normal(x) and _normal(y):
        r = s2f(x) * s2f(y)  # exact in double
        if MIN32 <= abs(r) <= MAX32:
            return _round(r, fpscr, True)
    return _slow(sf.mul, fpscr, x, y)


def abd_lane(x: int, y: int, fpscr: int) -> Result:
    """VABD: FPAbs(FPSub(x, y)), the sign cleared even on a NaN."""
    r, fpscr = sub_lane(x, y, fpscr)
    return r & 0x7FFFFFFF, fpscr


def max_lane(x: int, y: int, fpscr: int) -> Result:
    if _normal(x) and _normal(y):
        return (x if s2f(x) > s2f(y) else y), fpscr
    ctx = Ctx(fpscr, standard=True)
    return sf.max_min(F32, x, y, ctx, True), fpscr | ctx.flags


def min_lane(x: int, y: int, fpscr: int) -> Result:
    if _normal(x) and _normal(y):
        return (x if s2f(x) < s2f(y) else y), fpscr
    ctx = Ctx(fpscr, standard=True)
    return sf.max_min(F32, x, y, ctx, False), fpscr | ctx.flags


def _compare(kind: str) -> Lane2:
    """VCEQ VCGE VCGT VACGE VACGT: all ones where true (FPCompareEQ/GE/GT)."""
    def lane(x: int, y: int, fpscr: int) -> Result:
        if kind.startswith("a"):
            x, y = x & 0x7FFFFFFF, y & 0x7FFFFFFF
        ctx = Ctx(fpscr, standard=True)
        if kind == "eq":
            t = sf.compare_eq(F32, x, y, ctx)
        else:
            t = sf.compare_ge(F32, x, y, ctx, strict=kind.endswith("gt"))
        return (M32 if t else 0), fpscr | ctx.flags
    return lane


ceq_lane, cge_lane, cgt_lane = _compare("eq"), _compare("ge"), _compare("gt")
acge_lane, acgt_lane = _compare("age"), _compare("agt")


def _step(fmt_three: bool) -> Lane2:
    """FPRecipStep (2 - x*y) and FPRSqrtStep ((3 - x*y) / 2), ARMv7: not fused; an infinity times
    a zero counts as a zero product."""
    def lane(x: int, y: int, fpscr: int) -> Result:
        ctx = Ctx(fpscr, standard=True)
        t1, _, _, _ = sf.unpack(F32, x, ctx)
        t2, _, _, _ = sf.unpack(F32, y, ctx)
        nan = sf.process_nans(F32, ((t1, x), (t2, y)), ctx)
        if nan is not None:
            return nan, fpscr | ctx.flags
        if (t1 == sf.INF and t2 == sf.ZERO) or (t1 == sf.ZERO and t2 == sf.INF):
            product = 0
        else:
            product = sf.mul(F32, x, y, ctx)
        if fmt_three:
            r = _halved_sub(0x40400000, product, ctx)
        else:
            r = sf.add(F32, 0x40000000, product, ctx, subtract=True)
        return r, fpscr | ctx.flags
    return lane


def _halved_sub(a: int, b: int, ctx: Ctx) -> int:
    """FPHalvedSub: (a - b) / 2 rounded once."""
    t1, s1, m1, e1 = sf.unpack(F32, a, ctx)
    t2, s2, m2, e2 = sf.unpack(F32, b, ctx)
    nan = sf.process_nans(F32, ((t1, a), (t2, b)), ctx)
    if nan is not None:
        return nan
    s2 ^= 1
    if t1 == sf.INF and t2 == sf.INF and s1 != s2:
        ctx.flags |= sf.IOC
        return sf.default_nan(F32)
    if t1 == sf.INF or t2 == sf.INF:
        return sf.infinity(F32, s1 if t1 == sf.INF else s2)
    if t1 == sf.ZERO and t2 == sf.ZERO:
        return sf.zero(F32, s1) if s1 == s2 else sf.zero(F32, 0)
    if t1 == sf.ZERO:
        return sf.round_value(F32, s2, m2, e2 - 1, ctx)
    if t2 == sf.ZERO:
        return sf.round_value(F32, s1, m1, e1 - 1, ctx)
    e = min(e1, e2)
    v = (-1 if s1 else 1) * (m1 << (e1 - e)) + (-1 if s2 else 1) * (m2 << (e2 - e))
    if v == 0:
        return sf.zero(F32, 0)
    return sf.round_value(F32, 1 if v < 0 else 0, abs(v), e - 1, ctx)


recps_lane, rsqrts_lane = _step(False), _step(True)


# ---- doubleword forms ----------------------------------------------------------------------------
def lanes2(fn: Lane2) -> Callable[[int, int, int], Result]:
    """The two-lane form of a lane operation."""
    def op(a: int, b: int, fpscr: int) -> Result:
        lo, fpscr = fn(a & M32, b & M32, fpscr)
        hi, fpscr = fn(a >> 32, b >> 32, fpscr)
        return lo | hi << 32, fpscr
    return op


def pairwise(fn: Lane2) -> Callable[[int, int, int], Result]:
    """VPADD/VPMAX/VPMIN: lane 0 from a's two lanes, lane 1 from b's."""
    def op(a: int, b: int, fpscr: int) -> Result:
        lo, fpscr = fn(a & M32, a >> 32, fpscr)
        hi, fpscr = fn(b & M32, b >> 32, fpscr)
        return lo | hi << 32, fpscr
    return op


add, sub, mul, abd = lanes2(add_lane), lanes2(sub_lane), lanes2(mul_lane), lanes2(abd_lane)
max_, min_ = lanes2(max_lane), lanes2(min_lane)
ceq, cge, cgt, acge, acgt = lanes2(ceq_lane), lanes2(cge_lane), lanes2(cgt_lane), lanes2(acge_lane), lanes2(acgt_lane)
recps, rsqrts = lanes2(recps_lane), lanes2(rsqrts_lane)
padd, pmax, pmin = pairwise(add_lane), pairwise(max_lane), pairwise(min_lane)


def mla(d: int, a: int, b: int, subtract: int, fpscr: int) -> Result:
    """VMLA/VMLS: d + a*b or d - a*b, the product rounded first."""
    out = 0
    for s in (0, 32):
        p, fpscr = mul_lane(a >> s & M32, b >> s & M32, fpscr)
        r, fpscr = add_lane(d >> s & M32, p ^ 0x80000000 if subtract else p, fpscr)
        out |= r << s
    return out, fpscr


def fma(d: int, a: int, b: int, subtract: int, fpscr: int) -> Result:
    """VFMA/VFMS: d + a*b or d + (-a)*b, fused."""
    out = 0
    for s in (0, 32):
        x = a >> s & M32
        ctx = Ctx(fpscr, standard=True)
        r = sf.muladd(F32, d >> s & M32, x ^ 0x80000000 if subtract else x, b >> s & M32, ctx)
        fpscr |= ctx.flags
        out |= r << s
    return out, fpscr


def cmpz(a: int, kind: str, fpscr: int) -> Result:
    """VCEQ/VCGE/VCGT/VCLE/VCLT #0 (floating point)."""
    out = 0
    for s in (0, 32):
        x = a >> s & M32
        ctx = Ctx(fpscr, standard=True)
        if kind == "eq":
            t = sf.compare_eq(F32, x, 0, ctx)
        elif kind in ("ge", "gt"):
            t = sf.compare_ge(F32, x, 0, ctx, strict=kind == "gt")
        else:
            t = sf.compare_ge(F32, 0, x, ctx, strict=kind == "lt")
        fpscr |= ctx.flags
        out |= (M32 if t else 0) << s
    return out, fpscr


def to_fixed(a: int, fbits: int, unsigned: int, fpscr: int) -> Result:
    """VCVT to (fixed-point) integers, rounding towards zero."""
    out = 0
    for s in (0, 32):
        ctx = Ctx(fpscr, standard=True)
        out |= sf.to_fixed(F32, a >> s & M32, ctx, 32, fbits, bool(unsigned), True) << s
        fpscr |= ctx.flags
    return out, fpscr


def from_fixed(a: int, fbits: int, unsigned: int, fpscr: int) -> Result:
    """VCVT from (fixed-point) integers, rounding to nearest."""
    out = 0
    for s in (0, 32):
        ctx = Ctx(fpscr, standard=True)
        out |= sf.from_fixed(F32, a >> s & M32, ctx, 32, fbits, bool(unsigned), True) << s
        fpscr |= ctx.flags
    return out, fpscr


def to_half(lo: int, hi: int, fpscr: int) -> Result:
    """VCVT.F16.F32 Dd, Qm: four singles (a quadword as two halves) to four halves."""
    out = 0
    for i, x in enumerate((lo & M32, lo >> 32, hi & M32, hi >> 32)):
        ctx = Ctx(fpscr, standard=True)
        out |= sf.convert(F32, F16, x, ctx) << (16 * i)
        fpscr |= ctx.flags
    return out, fpscr


def from_half(a: int, fpscr: int) -> Tuple[int, int, int]:
    """VCVT.F32.F16 Qd, Dm: four halves to four singles, as (low, high, fpscr)."""
    vals = []
    for i in range(4):
        ctx = Ctx(fpscr, standard=True)
        vals.append(sf.convert(F16, F32, a >> (16 * i) & 0xFFFF, ctx))
        fpscr |= ctx.flags
    return vals[0] | vals[1] << 32, vals[2] | vals[3] << 32, fpscr
