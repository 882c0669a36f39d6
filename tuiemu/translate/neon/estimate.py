"""VRECPE and VRSQRTE, floating point and unsigned fixed point (ARMv7 ARM: FPRecipEstimate,
FPRSqrtEstimate, UnsignedRecipEstimate, UnsignedRSqrtEstimate, and the C functions
recip_estimate / recip_sqrt_estimate they call, which compute in binary64 exactly as here).
"""
from __future__ import annotations

import math
from typing import Tuple

from ..fp import softfloat as sf
from ..fp.softfloat import F32, Ctx
from ..fp.vfpops import d2f, f2d

M32 = 0xFFFFFFFF


def recip_estimate(a: float) -> float:
    q = int(a * 512.0)
    r = 1.0 / ((q + 0.5) / 512.0)
    s = int(256.0 * r + 0.5)
    return s / 256.0


def recip_sqrt_estimate(a: float) -> float:
    if a < 0.5:
        q0 = int(a * 512.0)
        r = 1.0 / math.sqrt((q0 + 0.5) / 512.0)
    else:
        q1 = int(a * 256.0)
        r = 1.0 / math.sqrt((q1 + 0.5) / 256.0)
    s = int(256.0 * r + 0.5)
    return s / 256.0


def _scaled(exp_field: int, frac23: int) -> float:
    """'0' : exp : frac<22:0> : Zeros(29) as a double."""
    return d2f(exp_field << 52 | frac23 << 29)


def recpe_f32(x: int, ctx: Ctx) -> int:
    t, s, _, _ = sf.unpack(F32, x, ctx)
    if t in (sf.QNAN, sf.SNAN):
        return sf.process_nan(F32, t, x, ctx)
    if t == sf.INF:
        return sf.zero(F32, s)
    if t == sf.ZERO:
        ctx.flags |= sf.DZC
        return sf.infinity(F32, s)
    exp = x >> 23 & 0xFF
    if exp >= 253:  # |x| >= 2**126: the reciprocal underflows
        ctx.flags |= sf.UFC
        return sf.zero(F32, s)
    est = f2d(recip_estimate(_scaled(1022, x & 0x7FFFFF)))
    return s << 31 | (253 - exp) << 23 | (est >> 29 & 0x7FFFFF)


def rsqrte_f32(x: int, ctx: Ctx) -> int:
    t, s, _, _ = sf.unpack(F32, x, ctx)
    if t in (sf.QNAN, sf.SNAN):
        return sf.process_nan(F32, t, x, ctx)
    if t == sf.ZERO:
        ctx.flags |= sf.DZC
        return sf.infinity(F32, s)
    if s:
        ctx.flags |= sf.IOC
        return sf.default_nan(F32)
    if t == sf.INF:
        return 0
    exp = x >> 23 & 0xFF
    scaled = _scaled(1021 if exp & 1 else 1022, x & 0x7FFFFF)
    est = f2d(recip_sqrt_estimate(scaled))
    return ((380 - exp) // 2 & 0xFF) << 23 | (est >> 29 & 0x7FFFFF)


def recpe_u32(x: int) -> int:
    if not x >> 31:
        return M32
    est = f2d(recip_estimate(d2f(1022 << 52 | (x & 0x7FFFFFFF) << 21)))
    return 1 << 31 | (est >> 21 & 0x7FFFFFFF)


def rsqrte_u32(x: int) -> int:
    if not x >> 30:
        return M32
    if x >> 31:
        scaled = d2f(1022 << 52 | (x & 0x7FFFFFFF) << 21)
    else:
        scaled = d2f(1021 << 52 | (x & 0x3FFFFFFF) << 22)
    est = f2d(recip_sqrt_estimate(scaled))
    return 1 << 31 | (est >> 21 & 0x7FFFFFFF)


def estimate(a: int, kind: str, fpscr: int) -> Tuple[int, int]:
    """Both lanes of a doubleword; ``kind``: recpe/rsqrte, with an "_f" suffix for floating point."""
    out = 0
    for sh in (0, 32):
        x = a >> sh & M32
        if kind.endswith("_f"):
            ctx = Ctx(fpscr, standard=True)
            r = (recpe_f32 if kind == "recpe_f" else rsqrte_f32)(x, ctx)
            fpscr |= ctx.flags
        else:
            r = (recpe_u32 if kind == "recpe" else rsqrte_u32)(x)
        out |= r << sh
    return out, fpscr
