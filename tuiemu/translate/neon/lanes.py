"""Integer element operations of Advanced SIMD on 64-bit register values (ARM ARM A8.8).

Arguments are doubleword values (unsigned ints below 2**64), the element size ``es`` in bits and,
where it matters, ``u`` (1: the elements are unsigned). Saturating operations take and return
FPSCR, setting QC (bit 27) when any element saturates. Addition and subtraction work on all lanes
at once (SWAR); the rest go element by element.
"""
from __future__ import annotations

from typing import Callable, List, Tuple

M64 = 0xFFFFFFFFFFFFFFFF
QC = 1 << 27
_HI = {8: 0x8080808080808080, 16: 0x8000800080008000, 32: 0x8000000080000000, 64: 1 << 63}


def elems(x: int, es: int) -> List[int]:
    """The elements of ``x``, lowest first, unsigned."""
    mask = (1 << es) - 1
    return [x >> s & mask for s in range(0, 64, es)]


def selems(x: int, es: int, u: int = 0) -> List[int]:
    """The elements as integers: unsigned if ``u``, else two's complement."""
    if u:
        return elems(x, es)
    half = 1 << (es - 1)
    return [(v ^ half) - half for v in elems(x, es)]


def pack(vals: List[int], es: int) -> int:
    """Elements (any ints; the low ``es`` bits are kept) back into a doubleword."""
    mask = (1 << es) - 1
    r = 0
    for i, v in enumerate(vals):
        r |= (v & mask) << (es * i)
    return r


def sat(v: int, es: int, u: int) -> Tuple[int, bool]:
    """SatQ: ``v`` clamped to the ``es``-bit range, and whether it had to be."""
    lo, hi = (0, (1 << es) - 1) if u else (-(1 << (es - 1)), (1 << (es - 1)) - 1)
    if v < lo:
        return lo, True
    if v > hi:
        return hi, True
    return v, False


def _sat_pack(vals: List[int], es: int, u: int, fpscr: int) -> Tuple[int, int]:
    out = []
    for v in vals:
        r, q = sat(v, es, u)
        if q:
            fpscr |= QC
        out.append(r)
    return pack(out, es), fpscr


def dup(v: int, es: int) -> int:
    """``v`` (an element) in every lane."""
    return (v & ((1 << es) - 1)) * (M64 // ((1 << es) - 1))


# ---- add, subtract, halving, saturating --------------------------------------------------------
def add(a: int, b: int, es: int) -> int:
    h = _HI[es]
    return ((a & ~h) + (b & ~h)) ^ ((a ^ b) & h)


def sub(a: int, b: int, es: int) -> int:
    h = _HI[es]
    return ((a | h) - (b & ~h)) ^ ((a ^ ~b) & h)


def hadd(a: int, b: int, es: int, u: int) -> int:
    return pack([(x + y) >> 1 for x, y in zip(selems(a, es, u), selems(b, es, u))], es)


def rhadd(a: int, b: int, es: int, u: int) -> int:
    return pack([(x + y + 1) >> 1 for x, y in zip(selems(a, es, u), selems(b, es, u))], es)


def hsub(a: int, b: int, es: int, u: int) -> int:
    return pack([(x - y) >> 1 for x, y in zip(selems(a, es, u), selems(b, es, u))], es)


def qadd(a: int, b: int, es: int, u: int, fpscr: int) -> Tuple[int, int]:
    return _sat_pack([x + y for x, y in zip(selems(a, es, u), selems(b, es, u))], es, u, fpscr)


def qsub(a: int, b: int, es: int, u: int, fpscr: int) -> Tuple[int, int]:
    return _sat_pack([x - y for x, y in zip(selems(a, es, u), selems(b, es, u))], es, u, fpscr)


# ---- comparisons (all ones where true) -------------------------------------------------------------
def _cmp(a: int, b: int, es: int, u: int, fn: Callable[[int, int], bool]) -> int:
    return pack([-1 if fn(x, y) else 0 for x, y in zip(selems(a, es, u), selems(b, es, u))], es)


def cgt(a: int, b: int, es: int, u: int) -> int:
    return _cmp(a, b, es, u, lambda x, y: x > y)


def cge(a: int, b: int, es: int, u: int) -> int:
    return _cmp(a, b, es, u, lambda x, y: x >= y)


def ceq(a: int, b: int, es: int) -> int:
    return _cmp(a, b, es, 1, lambda x, y: x == y)


def tst(a: int, b: int, es: int) -> int:
    return _cmp(a & b, 0, es, 1, lambda x, y: x != 0)


def cmpz(a: int, es: int, kind: str) -> int:
    """VCGT/VCGE/VCEQ/VCLE/VCLT #0 on signed elements."""
    fn: Callable[[int, int], bool] = {
        "gt": lambda x, y: x > 0, "ge": lambda x, y: x >= 0, "eq": lambda x, y: x == 0,
        "le": lambda x, y: x <= 0, "lt": lambda x, y: x < 0}[kind]
    return _cmp(a, 0, es, 0, fn)


# ---- maximum, minimum, absolute difference -------------------------------------------------------
def max_(a: int, b: int, es: int, u: int) -> int:
    return pack([max(x, y) for x, y in zip(selems(a, es, u), selems(b, es, u))], es)


def min_(a: int, b: int, es: int, u: int) -> int:
    return pack([min(x, y) for x, y in zip(selems(a, es, u), selems(b, es, u))], es)


def abd(a: int, b: int, es: int, u: int) -> int:
    return pack([abs(x - y) for x, y in zip(selems(a, es, u), selems(b, es, u))], es)


def aba(d: int, a: int, b: int, es: int, u: int) -> int:
    return add(d, abd(a, b, es, u), es)


# ---- multiplies ----------------------------------------------------------------------------------------
def mul(a: int, b: int, es: int) -> int:
    return pack([x * y for x, y in zip(elems(a, es), elems(b, es))], es)


def mla(d: int, a: int, b: int, es: int, u: int) -> int:
    """VMLA (``u`` = 0) and VMLS (``u`` = 1): d + a * b or d - a * b."""
    p = mul(a, b, es)
    return sub(d, p, es) if u else add(d, p, es)


def pmul_elem(x: int, y: int) -> int:
    """Polynomial multiplication over GF(2), carry-less."""
    r = 0
    while y:
        if y & 1:
            r ^= x
        x <<= 1
        y >>= 1
    return r


def pmul(a: int, b: int, es: int) -> int:
    return pack([pmul_elem(x, y) for x, y in zip(elems(a, es), elems(b, es))], es)


def qdmulh(a: int, b: int, es: int, rnd: int, fpscr: int) -> Tuple[int, int]:
    """VQDMULH / VQRDMULH: the high half of 2 * a * b (+ rounding), saturated."""
    rc = 1 << (es - 1) if rnd else 0
    return _sat_pack([(2 * x * y + rc) >> es for x, y in zip(selems(a, es), selems(b, es))], es, 0, fpscr)


# ---- shifts by register ----------------------------------------------------------------------------------
def _shift(v: int, sh: int) -> int:
    return v << sh if sh >= 0 else v >> -sh


def shl(value: int, shift: int, es: int, u: int, rnd: int, saturate: int, fpscr: int) -> Tuple[int, int]:
    """VSHL, VRSHL, VQSHL, VQRSHL (register): each element of ``value`` shifted by the signed low
    byte of the matching element of ``shift`` (negative: right, with rounding for the R forms)."""
    out = []
    for v, s in zip(selems(value, es, u), elems(shift, es)):
        sh = ((s & 0xFF) ^ 0x80) - 0x80
        rc = 1 << (-sh - 1) if rnd and sh < 0 else 0
        r = _shift(v + rc, sh)
        if saturate:
            r, q = sat(r, es, u)
            if q:
                fpscr |= QC
        out.append(r)
    return pack(out, es), fpscr


# ---- pairwise (doubleword only) ------------------------------------------------------------------------
def _pairwise(a: int, b: int, es: int, u: int, fn: Callable[[int, int], int]) -> int:
    vals = []
    for x in (a, b):
        e = selems(x, es, u)
        vals += [fn(e[i], e[i + 1]) for i in range(0, len(e), 2)]
    return pack(vals, es)


def padd(a: int, b: int, es: int) -> int:
    return _pairwise(a, b, es, 1, lambda x, y: x + y)


def pmax(a: int, b: int, es: int, u: int) -> int:
    return _pairwise(a, b, es, u, max)


def pmin(a: int, b: int, es: int, u: int) -> int:
    return _pairwise(a, b, es, u, min)


def paddl(a: int, es: int, u: int) -> int:
    """VPADDL on one doubleword: adjacent pairs summed into elements twice as wide."""
    e = selems(a, es, u)
    return pack([e[i] + e[i + 1] for i in range(0, len(e), 2)], 2 * es)


def padal(d: int, a: int, es: int, u: int) -> int:
    return add(d, paddl(a, es, u), 2 * es)


# ---- long, wide and narrow ----------------------------------------------------------------------------------
def widen(a: int, es: int, u: int) -> Tuple[int, int]:
    """A doubleword's elements, sign- or zero-extended to twice their size: (low, high) halves."""
    e = selems(a, es, u)
    h = len(e) // 2
    return pack(e[:h], 2 * es), pack(e[h:], 2 * es)


def long_op(a: int, b: int, es: int, u: int, kind: str) -> Tuple[int, int]:
    """VADDL VSUBL VABDL VMULL (int and polynomial) VQDMULL-less: the doubleword-in, quadword-out
    operations, as (low, high) of the result."""
    x, y = selems(a, es, u), selems(b, es, u)
    if kind == "add":
        r = [p + q for p, q in zip(x, y)]
    elif kind == "sub":
        r = [p - q for p, q in zip(x, y)]
    elif kind == "abd":
        r = [abs(p - q) for p, q in zip(x, y)]
    elif kind == "mul":
        r = [p * q for p, q in zip(x, y)]
    else:  # polynomial
        r = [pmul_elem(p, q) for p, q in zip(elems(a, es), elems(b, es))]
    h = len(r) // 2
    return pack(r[:h], 2 * es), pack(r[h:], 2 * es)


def qdmull(a: int, b: int, es: int, fpscr: int) -> Tuple[int, int, int]:
    """VQDMULL: 2 * a * b in elements twice as wide, saturated: (low, high, fpscr)."""
    r = []
    for x, y in zip(selems(a, es), selems(b, es)):
        v, q = sat(2 * x * y, 2 * es, 0)
        if q:
            fpscr |= QC
        r.append(v)
    h = len(r) // 2
    return pack(r[:h], 2 * es), pack(r[h:], 2 * es), fpscr


def qdmlal(lo: int, hi: int, a: int, b: int, es: int, subtract: int, fpscr: int) -> Tuple[int, int, int]:
    """VQDMLAL / VQDMLSL: the saturated doubled product, then a saturating add or subtract."""
    plo, phi, fpscr = qdmull(a, b, es, fpscr)
    out = []
    for acc, p in ((lo, plo), (hi, phi)):
        v, fpscr = (qsub if subtract else qadd)(acc, p, 2 * es, 0, fpscr)
        out.append(v)
    return out[0], out[1], fpscr


def narrow_high(lo: int, hi: int, es: int, rnd: int) -> int:
    """The high halves of the 2*es-bit elements of a quadword (lo, hi), rounded if ``rnd``."""
    rc = 1 << (es - 1) if rnd else 0
    return pack([(v + rc) >> es for v in elems(lo, 2 * es) + elems(hi, 2 * es)], es)


def narrow(lo: int, hi: int, es: int, src_u: int, dst_u: int, saturate: int, fpscr: int) -> Tuple[int, int]:
    """VMOVN, VQMOVN, VQMOVUN: quadword elements of 2*es bits to es bits (kept low bits, or
    saturated from ``src_u`` to ``dst_u`` integers)."""
    vals = selems(lo, 2 * es, src_u) + selems(hi, 2 * es, src_u)
    if not saturate:
        return pack(vals, es), fpscr
    return _sat_pack(vals, es, dst_u, fpscr)


# ---- shifts by immediate ----------------------------------------------------------------------------------
def shr(a: int, es: int, sh: int, u: int, rnd: int) -> int:
    """VSHR / VRSHR by 1..es."""
    rc = 1 << (sh - 1) if rnd else 0
    return pack([(v + rc) >> sh for v in selems(a, es, u)], es)


def sra(d: int, a: int, es: int, sh: int, u: int, rnd: int) -> int:
    return add(d, shr(a, es, sh, u, rnd), es)


def shl_imm(a: int, es: int, sh: int) -> int:
    return pack([v << sh for v in elems(a, es)], es)


def sri(d: int, a: int, es: int, sh: int) -> int:
    """VSRI: shifted-in elements keep their top ``sh`` bits from the destination."""
    mask = pack([((1 << es) - 1) >> sh] * (64 // es), es) if sh < es else 0
    return (d & ~mask & M64) | (shr(a, es, sh, 1, 0) & mask)


def sli(d: int, a: int, es: int, sh: int) -> int:
    mask = pack([((1 << es) - 1) << sh] * (64 // es), es)
    return (d & ~mask & M64) | (shl_imm(a, es, sh) & mask)


def qshl_imm(a: int, es: int, sh: int, src_u: int, dst_u: int, fpscr: int) -> Tuple[int, int]:
    """VQSHL (immediate) and VQSHLU (signed in, unsigned out)."""
    return _sat_pack([v << sh for v in selems(a, es, src_u)], es, dst_u, fpscr)


def shrn(lo: int, hi: int, es: int, sh: int, src_u: int, dst_u: int, rnd: int, saturate: int,
         fpscr: int) -> Tuple[int, int]:
    """VSHRN VRSHRN VQSHRN VQRSHRN VQSHRUN VQRSHRUN: quadword elements (2*es) shifted right by
    ``sh`` into es-bit elements."""
    rc = 1 << (sh - 1) if rnd else 0
    vals = [(v + rc) >> sh for v in selems(lo, 2 * es, src_u) + selems(hi, 2 * es, src_u)]
    if not saturate:
        return pack(vals, es), fpscr
    return _sat_pack(vals, es, dst_u, fpscr)


def shll(a: int, es: int, sh: int, u: int) -> Tuple[int, int]:
    """VSHLL (and VMOVL, sh = 0): elements widened to 2*es bits and shifted left."""
    e = [v << sh for v in selems(a, es, u)]
    h = len(e) // 2
    return pack(e[:h], 2 * es), pack(e[h:], 2 * es)


# ---- one-operand operations ----------------------------------------------------------------------------------
def abs_(a: int, es: int) -> int:
    return pack([abs(v) for v in selems(a, es)], es)


def neg(a: int, es: int) -> int:
    return pack([-v for v in selems(a, es)], es)


def qabs(a: int, es: int, fpscr: int) -> Tuple[int, int]:
    return _sat_pack([abs(v) for v in selems(a, es)], es, 0, fpscr)


def qneg(a: int, es: int, fpscr: int) -> Tuple[int, int]:
    return _sat_pack([-v for v in selems(a, es)], es, 0, fpscr)


def clz(a: int, es: int) -> int:
    return pack([es - v.bit_length() for v in elems(a, es)], es)


def cls(a: int, es: int) -> int:
    """Leading bits equal to the sign bit, the sign bit itself not counted."""
    return pack([es - 1 - (v if v >= 0 else ~v).bit_length() for v in selems(a, es)], es)


def cnt(a: int) -> int:
    return pack([bin(v).count("1") for v in elems(a, 8)], 8)


def rev(a: int, es: int, region: int) -> int:
    """VREV16/32/64: element order reversed inside each ``region``-bit group."""
    e = elems(a, es)
    k = region // es
    return pack([e[g + k - 1 - i] for g in range(0, len(e), k) for i in range(k)], es)
