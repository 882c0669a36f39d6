"""Multiplies and divides: MUL/MLA/MLS, the long multiplies, the signed halfword and dual
multiplies (with the sticky Q flag on overflow), SMMUL and friends, SDIV/UDIV, and the
saturating QADD/QSUB/QDADD/QDSUB.

Semantics follow the ARMv7-A/R ARM ARM pseudocode (A8.8). Operands are read into Python
ints; signed views are made with ``(x ^ 0x80000000) - 0x80000000`` and results are masked
back to 32 (or 64) bits. UNPREDICTABLE register choices (r15 operands, RdHi == RdLo)
become an Undefined Instruction.
"""
from __future__ import annotations

from ..codegen import Block, M
from ..decodetree import Args
from ..isa import PC
from .registry import handler

M64 = "0xFFFFFFFFFFFFFFFF"


# ---- expression helpers (shared with media.py) ----
def sx32(e: str) -> str:
    """Signed value of a 32-bit expression."""
    return f"((({e}) ^ 0x80000000) - 0x80000000)"


def half(e: str, top: int) -> str:
    """Signed value of the bottom (top=0) or top (top=1) halfword of a 32-bit expression."""
    if top:
        return f"((({e}) >> 16 ^ 0x8000) - 0x8000)"
    return f"((({e}) & 0xFFFF ^ 0x8000) - 0x8000)"


def saturate(b: Block, t: str, lo: int, hi: int, q: bool = True) -> None:
    """Clamp the local ``t`` to lo..hi; with ``q``, set the Q flag when it was out of range."""
    b.open_if(f"{t} > {hi:#x}")
    b.emit(f"{t} = {hi:#x}")
    if q:
        b.set_flag("qf", "1")
    b.close_if()
    b.emit(f"elif {t} < {lo:#x}:" if lo >= 0 else f"elif {t} < -{-lo:#x}:")
    b.indent += 1
    b.emit(f"{t} = {lo:#x}" if lo >= 0 else f"{t} = -{-lo:#x}")
    if q:
        b.set_flag("qf", "1")
    b.indent -= 1


def q_if_not_int32(b: Block, t: str) -> None:
    """Q = 1 when the (exact) result in ``t`` does not fit a signed 32-bit integer."""
    b.open_if(f"not -0x80000000 <= {t} <= 0x7FFFFFFF")
    b.set_flag("qf", "1")
    b.close_if()


def _write64(b: Block, rdlo: int, rdhi: int, t: str, s: bool = False) -> None:
    """Write a 64-bit value (a local in 0..2**64-1) to RdHi:RdLo; with ``s`` set N and Z from it."""
    lo, hi = b.tmp("lo"), b.tmp("hi")
    b.emit(f"{lo} = {t} & {M}")
    b.emit(f"{hi} = {t} >> 32")
    if s:
        b.set_flag("nf", hi)
        b.set_flag("zf", f"{lo} | {hi}")
    b.set_reg(rdlo, lo)
    b.set_reg(rdhi, hi)


def _acc64(b: Block, rdlo: int, rdhi: int) -> str:
    return f"(({b.reg(rdhi)} << 32) | {b.reg(rdlo)})"


# ---- runtime helpers ----
def rt_sdiv(n: int, m: int) -> int:
    """SDIV on 32-bit unsigned encodings: rounds towards zero, x/0 = 0, INT_MIN/-1 = INT_MIN."""
    if not m:
        return 0
    n = (n ^ 0x80000000) - 0x80000000
    m = (m ^ 0x80000000) - 0x80000000
    q = abs(n) // abs(m)
    return (q if (n < 0) == (m < 0) else -q) & 0xFFFFFFFF


# ---- handlers ----
@handler("mul", "mla")
def mul(b: Block, a: Args) -> bool:
    """MUL and MLA (with ``ra``): S sets N and Z from the result; C and V unchanged (ARMv6 and later)."""
    ra = a.get("ra")
    if PC in (a.rd, a.rn, a.rm, ra):
        return False
    acc = "" if ra is None else f" + {b.reg(ra)}"
    expr = f"({b.reg(a.rn)} * {b.reg(a.rm)}{acc}) & {M}"
    if a.s:
        r = b.tmp("m")
        b.emit(f"{r} = {expr}")
        b.set_nz(r)
        b.set_reg(a.rd, r)
    else:
        b.set_reg(a.rd, expr)
    return True


@handler("mls")
def mls(b: Block, a: Args) -> bool:
    if PC in (a.rd, a.rn, a.rm, a.ra):
        return False
    b.set_reg(a.rd, f"({b.reg(a.ra)} - {b.reg(a.rn)} * {b.reg(a.rm)}) & {M}")
    return True


@handler("umaal")
def umaal(b: Block, a: Args) -> bool:
    if PC in (a.rdlo, a.rdhi, a.rn, a.rm) or a.rdhi == a.rdlo:
        return False
    t = b.tmp("p")  # at most 2**64 - 1: no wrap
    b.emit(f"{t} = {b.reg(a.rn)} * {b.reg(a.rm)} + {b.reg(a.rdlo)} + {b.reg(a.rdhi)}")
    _write64(b, a.rdlo, a.rdhi, t)
    return True


@handler("mull")
def mull(b: Block, a: Args) -> bool:
    """UMULL/UMLAL/SMULL/SMLAL: the low 64 bits of a signed sum do not depend on how the
    accumulator is read, so it is added unsigned."""
    if PC in (a.rdlo, a.rdhi, a.rn, a.rm) or a.rdhi == a.rdlo:
        return False
    n, m = b.reg(a.rn), b.reg(a.rm)
    prod = f"{sx32(n)} * {sx32(m)}" if a.sgn else f"{n} * {m}"
    if a.acc:
        prod = f"{prod} + {_acc64(b, a.rdlo, a.rdhi)}"
    t = b.tmp("p")
    b.emit(f"{t} = ({prod}) & {M64}" if a.sgn or a.acc else f"{t} = {prod}")
    _write64(b, a.rdlo, a.rdhi, t, bool(a.s))
    return True


@handler("smla_xy")
def smla_xy(b: Block, a: Args) -> bool:
    if PC in (a.rd, a.rn, a.rm, a.ra):
        return False
    t = b.tmp("p")
    b.emit(f"{t} = {half(b.reg(a.rn), a.n)} * {half(b.reg(a.rm), a.m)} + {sx32(b.reg(a.ra))}")
    q_if_not_int32(b, t)
    b.set_reg(a.rd, f"{t} & {M}")
    return True


@handler("smlaw_y")
def smlaw_y(b: Block, a: Args) -> bool:
    if PC in (a.rd, a.rn, a.rm, a.ra):
        return False
    t = b.tmp("p")
    b.emit(f"{t} = ({sx32(b.reg(a.rn))} * {half(b.reg(a.rm), a.m)} + ({sx32(b.reg(a.ra))} << 16)) >> 16")
    q_if_not_int32(b, t)
    b.set_reg(a.rd, f"{t} & {M}")
    return True


@handler("smulw_y")
def smulw_y(b: Block, a: Args) -> bool:
    if PC in (a.rd, a.rn, a.rm):
        return False
    b.set_reg(a.rd, f"(({sx32(b.reg(a.rn))} * {half(b.reg(a.rm), a.m)}) >> 16) & {M}")
    return True


@handler("smlal_xy")
def smlal_xy(b: Block, a: Args) -> bool:
    if PC in (a.rdlo, a.rdhi, a.rn, a.rm) or a.rdhi == a.rdlo:
        return False
    t = b.tmp("p")
    b.emit(f"{t} = ({half(b.reg(a.rn), a.n)} * {half(b.reg(a.rm), a.m)} "
           f"+ {_acc64(b, a.rdlo, a.rdhi)}) & {M64}")
    _write64(b, a.rdlo, a.rdhi, t)
    return True


@handler("smul_xy")
def smul_xy(b: Block, a: Args) -> bool:
    if PC in (a.rd, a.rn, a.rm):
        return False
    b.set_reg(a.rd, f"({half(b.reg(a.rn), a.n)} * {half(b.reg(a.rm), a.m)}) & {M}")
    return True


def _dual(b: Block, a: Args) -> str:
    """product1 +/- product2 of SMLAD and friends; m swaps Rm's halfwords."""
    n, m = b.reg(a.rn), b.reg(a.rm)
    p1 = f"{half(n, 0)} * {half(m, a.m)}"
    p2 = f"{half(n, 1)} * {half(m, 1 - a.m)}"
    return f"{p1} {'-' if a.sub else '+'} {p2}"


@handler("smlad")
def smlad(b: Block, a: Args) -> bool:
    """SMLAD/SMLSD, and SMUAD/SMUSD when ra == 15."""
    if PC in (a.rd, a.rn, a.rm):
        return False
    expr = _dual(b, a)
    if a.ra != PC:
        expr = f"{expr} + {sx32(b.reg(a.ra))}"
    elif a.sub:  # SMUSD cannot overflow
        b.set_reg(a.rd, f"({expr}) & {M}")
        return True
    t = b.tmp("p")
    b.emit(f"{t} = {expr}")
    q_if_not_int32(b, t)
    b.set_reg(a.rd, f"{t} & {M}")
    return True


@handler("smlald")
def smlald(b: Block, a: Args) -> bool:
    """SMLALD/SMLSLD: 64-bit accumulate, no Q."""
    if PC in (a.rdlo, a.rdhi, a.rn, a.rm) or a.rdhi == a.rdlo:
        return False
    t = b.tmp("p")
    b.emit(f"{t} = ({_dual(b, a)} + {_acc64(b, a.rdlo, a.rdhi)}) & {M64}")
    _write64(b, a.rdlo, a.rdhi, t)
    return True


@handler("smmla")
def smmla(b: Block, a: Args) -> bool:
    """SMMLA/SMMLS (rounded with r), SMMUL when ra == 15: the top word of a 64-bit result."""
    if PC in (a.rd, a.rn, a.rm) or (a.sub and a.ra == PC):
        return False
    expr = f"{sx32(b.reg(a.rn))} * {sx32(b.reg(a.rm))}"
    if a.ra != PC:
        expr = f"({sx32(b.reg(a.ra))} << 32) {'-' if a.sub else '+'} {expr}"
    if a.r:
        expr = f"{expr} + 0x80000000"
    b.set_reg(a.rd, f"(({expr}) >> 32) & {M}")
    return True


@handler("div")
def div(b: Block, a: Args) -> bool:
    """SDIV/UDIV: division by zero gives 0 (no trap on the A profile)."""
    if PC in (a.rd, a.rn, a.rm):
        return False
    n, m = b.reg(a.rn), b.reg(a.rm)
    if a.signed:
        b.const("SDIV", rt_sdiv)
        b.set_reg(a.rd, f"SDIV({n}, {m})")
    else:
        b.set_reg(a.rd, f"{n} // {m} if {m} else 0")
    return True


@handler("qaddsub")
def qaddsub(b: Block, a: Args) -> bool:
    """QADD/QSUB/QDADD/QDSUB: Rd = sat(Rm +/- [sat(2 * ]Rn[)]), setting Q on saturation."""
    if PC in (a.rd, a.rn, a.rm):
        return False
    n = sx32(b.reg(a.rn))
    if a.op & 2:  # doubling
        d = b.tmp("q")
        b.emit(f"{d} = 2 * {n}")
        saturate(b, d, -0x80000000, 0x7FFFFFFF)
        n = d
    t = b.tmp("q")
    b.emit(f"{t} = {sx32(b.reg(a.rm))} {'-' if a.op & 1 else '+'} {n}")
    saturate(b, t, -0x80000000, 0x7FFFFFFF)
    b.set_reg(a.rd, f"{t} & {M}")
    return True
