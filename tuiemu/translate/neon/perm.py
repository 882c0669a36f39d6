"""Advanced SIMD permutes and table lookups (ARM ARM A8.8: VZIP, VUZP, VTRN, VEXT, VTBL, VTBX).

A vector here is a list of doublewords (one for a D operation, two, low first, for a Q operation).
"""
from __future__ import annotations

from typing import List, Tuple

from .lanes import elems, pack

M64 = 0xFFFFFFFFFFFFFFFF


def _vec(dws: Tuple[int, ...], es: int) -> List[int]:
    out: List[int] = []
    for d in dws:
        out += elems(d, es)
    return out


def _dws(vals: List[int], es: int) -> Tuple[int, ...]:
    k = 64 // es
    return tuple(pack(vals[i:i + k], es) for i in range(0, len(vals), k))


def zip_(d: Tuple[int, ...], m: Tuple[int, ...], es: int) -> Tuple[Tuple[int, ...], Tuple[int, ...]]:
    """VZIP: the elements of d and m interleaved; the low half to d, the high half to m."""
    x, y = _vec(d, es), _vec(m, es)
    z = [v for pair in zip(x, y) for v in pair]
    h = len(z) // 2
    return _dws(z[:h], es), _dws(z[h:], es)


def uzp(d: Tuple[int, ...], m: Tuple[int, ...], es: int) -> Tuple[Tuple[int, ...], Tuple[int, ...]]:
    """VUZP: the even elements of m:d to d, the odd ones to m."""
    z = _vec(d, es) + _vec(m, es)
    return _dws(z[0::2], es), _dws(z[1::2], es)


def trn(d: Tuple[int, ...], m: Tuple[int, ...], es: int) -> Tuple[Tuple[int, ...], Tuple[int, ...]]:
    """VTRN: the odd elements of d swap with the even elements of m."""
    x, y = _vec(d, es), _vec(m, es)
    for i in range(0, len(x), 2):
        x[i + 1], y[i] = y[i], x[i + 1]
    return _dws(x, es), _dws(y, es)


def ext(n: Tuple[int, ...], m: Tuple[int, ...], imm: int) -> Tuple[int, ...]:
    """VEXT: bytes imm... of the concatenation m:n (n lowest)."""
    bits = 64 * len(n)
    whole = 0
    for i, v in enumerate(n + m):
        whole |= v << (64 * i)
    r = (whole >> (8 * imm)) & ((1 << bits) - 1)
    return tuple(r >> (64 * i) & M64 for i in range(len(n)))


def tbl(table: Tuple[int, ...], idx: int, dest: int, extension: int) -> int:
    """VTBL / VTBX (``extension``): bytes of ``table`` (1-4 doublewords) picked by the bytes of
    ``idx``; an index beyond the table gives 0 (VTBL) or keeps the destination byte (VTBX)."""
    whole = 0
    for i, v in enumerate(table):
        whole |= v << (64 * i)
    limit = 8 * len(table)
    out = 0
    for i in range(8):
        k = idx >> (8 * i) & 0xFF
        if k < limit:
            byte = whole >> (8 * k) & 0xFF
        else:
            byte = dest >> (8 * i) & 0xFF if extension else 0
        out |= byte << (8 * i)
    return out
