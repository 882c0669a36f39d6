"""Random Advanced SIMD instructions for the differential tests (vfpgen's operands and runners).

Encodings are the ARM ARM's (A7.4 data processing, A7.7 element and structure loads/stores),
written here as 24-bit bodies plus U; ``a32`` and ``t32`` put the top byte on (``1111 001U`` /
``111U 1111``, and ``1111 0100`` / ``1111 1001`` for loads and stores). Fields are drawn mostly
at random, so many encodings are UNDEFINED: the runner lets Unicorn say which, and tuiemu must
stop at the same instruction (decoding is compared too). Quadword register numbers are made even
most of the time so that most draws are valid, and permutes never get d == m (their results are
UNKNOWN then).
"""
from __future__ import annotations

from typing import Callable, Dict, Tuple

from hypothesis import strategies as st

from . import specs

Body = Tuple[int, int, bool]  # (U, bits 23:0, is a load/store)


def _field(name: str, width: int) -> st.SearchStrategy:
    if name in ("vd", "vn", "vm"):  # even more often than not: quadword operands
        return st.one_of(st.integers(0, 7).map(lambda v: v * 2), st.integers(0, 15))
    return st.integers(0, (1 << width) - 1)


_BIT = st.integers(0, 1)


def body(spec: str, u: st.SearchStrategy = _BIT, mem: bool = False,
         check: Callable[[Dict[str, int]], object] = lambda v: True, **over: st.SearchStrategy) -> st.SearchStrategy:
    words = specs.words(f"00000000 {spec}", _field, check, **over)
    return st.tuples(u, words, st.just(mem))


def _no_alias(v: Dict[str, int]) -> bool:
    """VSWP/VTRN/VUZP/VZIP (A=10, B=0000x-0011x) with d == m give UNKNOWN results."""
    if v["a"] == 2 and v["b"] >> 1 <= 3:
        return (v["d"] << 4 | v["vd"]) != (v["m"] << 4 | v["vm"])
    return True


# A7.7: a structure load or store whose last register lies past d31 is UNPREDICTABLE (tuiemu, like
# QEMU's current decoder, makes it UNDEFINED; Unicorn's QEMU 5 runs it), so the classes avoid it.
# Multiple structures: the last register's offset from Dd, by type.
_MULTI_LAST = {0b0111: 0, 0b1010: 1, 0b0110: 2, 0b0010: 3, 0b1000: 1, 0b1001: 2, 0b0011: 3,
               0b0100: 2, 0b0101: 4, 0b0000: 3, 0b0001: 6}


def _first(v: Dict[str, int]) -> int:
    return v["d"] << 4 | v["vd"]


def _multi_fits(v: Dict[str, int]) -> bool:
    return _first(v) + _MULTI_LAST.get(v["type"], 0) <= 31


def _all_lanes_last(nn: int, t: int) -> int:
    """VLDn to all lanes: VLD1 loads T+1 registers; VLD2-4 step by T+1."""
    return t if nn == 0 else nn * (t + 1)


def _lane_fits(v: Dict[str, int]) -> bool:
    size, ia = v["size"], v["index_align"]
    if size == 3:  # the to-all-lanes encoding: index_align holds size, T, a
        return _first(v) + _all_lanes_last(v["nn"], ia >> 1 & 1) <= 31
    step = 2 if (size == 1 and ia & 2) or (size == 2 and ia & 4) else 1
    return _first(v) + v["nn"] * step <= 31


def _all_lanes_fit(v: Dict[str, int]) -> bool:
    return _first(v) + _all_lanes_last(v["nn"], v["t"]) <= 31


# r0-r3 point into the data buffer; Rm 13 writes back the transfer size, 15 nothing, others add Rm
_BASE = dict(rn=st.integers(0, 3), rm=st.one_of(st.just(13), st.just(15), st.integers(4, 12)))

NEON_CLASSES: Dict[str, st.SearchStrategy] = {
    "same": body("0 d:1 size:2 vn:4 vd:4 a:4 n:1 q:1 m:1 b:1 vm:4"),
    "same_float": body("0 d:1 o:1 0 vn:4 vd:4 11 a:2 n:1 q:1 m:1 b:1 vm:4"),
    "diff": body("1 d:1 size:2 vn:4 vd:4 a:4 n:1 0 m:1 0 vm:4", check=lambda v: v["size"] != 3),
    "scalar": body("1 d:1 size:2 vn:4 vd:4 a:4 n:1 1 m:1 0 vm:4", check=lambda v: v["size"] != 3),
    "shift": body("1 d:1 imm6:6 vd:4 a:4 l:1 q:1 m:1 1 vm:4", check=lambda v: v["l"] or v["imm6"] >= 8),
    "imm": body("1 d:1 000 imm3:3 vd:4 cmode:4 0 q:1 op:1 1 imm4:4"),
    "misc": body("1 d:1 11 size:2 a:2 vd:4 0 b:5 m:1 0 vm:4", u=st.just(1), check=_no_alias),
    "ext_tbl_dup": st.one_of(
        body("1 d:1 11 vn:4 vd:4 imm4:4 n:1 q:1 m:1 0 vm:4", u=st.just(0)),
        body("1 d:1 11 vn:4 vd:4 10 len:2 n:1 op:1 m:1 0 vm:4", u=st.just(1)),
        body("1 d:1 11 imm4:4 vd:4 11000 q:1 m:1 0 vm:4", u=st.just(1))),
    "ldst": st.one_of(
        body("0 d:1 l:1 0 rn:4 vd:4 type:4 size:2 align:2 rm:4", mem=True, check=_multi_fits, **_BASE),
        body("1 d:1 l:1 0 rn:4 vd:4 size:2 nn:2 index_align:4 rm:4", mem=True, check=_lane_fits, **_BASE),
        body("1 d:1 1 0 rn:4 vd:4 11 nn:2 size:2 t:1 a:1 rm:4", mem=True, check=_all_lanes_fit, **_BASE)),
}


def a32(b: Body) -> int:
    u, bits, mem = b
    return (0xF4 if mem else 0xF2 | u) << 24 | bits


def t32(b: Body) -> int:
    u, bits, mem = b
    return (0xF9 if mem else 0xEF | u << 4) << 24 | bits


def unicorn_lax(word: int, thumb: bool) -> bool:
    """Encodings the ARM ARM makes UNDEFINED that Unicorn (QEMU 5) executes anyway; tuiemu follows
    the ARM ARM, so Unicorn's run is cut before them."""
    if thumb:
        u, bits = word >> 28 & 1, word & 0xFFFFFF
        if word >> 24 & 0xEF != 0xEF:
            return False
    else:
        u, bits = word >> 24 & 1, word & 0xFFFFFF
        if word >> 25 != 0x79:
            return False
    diff = bits >> 23 & 1 and bits >> 20 & 3 != 3 and not bits >> 6 & 1 and not bits >> 4 & 1
    # A7.4.2: VQDMULL (A = 1101) exists only with U = 0
    if diff and u and bits >> 8 & 15 == 0b1101:
        return True
    # A7.4.1: VMUL (floating point) is A = 1101, B = 1, U = 1 with C = 0x only; QEMU 5 ignores bit 21
    same = not bits >> 23 & 1
    return bool(same and u and bits >> 8 & 15 == 0b1101 and bits >> 4 & 1 and bits >> 21 & 1)
