"""Media instructions: bit-field extract/insert, extends, reversals, saturation, parallel add/subtract,
SEL, PKH, USAD8."""
from __future__ import annotations

from ..codegen import Block, M
from ..decodetree import Args
from ..isa import PC
from .multiply import half, saturate, sx32
from .registry import handler


@handler("bfx")
def bfx(b: Block, a: Args) -> bool:
    """SBFX/UBFX: extract widthm1+1 bits from lsb, sign- or zero-extended."""
    width = a.widthm1 + 1
    if PC in (a.rd, a.rn) or a.lsb + width > 32:
        return False
    field = f"(({b.reg(a.rn)} >> {a.lsb}) & {(1 << width) - 1:#x})"
    if a.signed:
        sign = 1 << (width - 1)
        b.set_reg(a.rd, f"(({field} ^ {sign:#x}) - {sign:#x}) & {M}")
    else:
        b.set_reg(a.rd, field)
    return True


@handler("bfi")
def bfi(b: Block, a: Args) -> bool:
    """BFI (rn != 15) / BFC (rn == 15): replace bits lsb..msb of rd."""
    if a.rd == PC or a.msb < a.lsb:
        return False
    mask = ((1 << (a.msb - a.lsb + 1)) - 1) << a.lsb
    keep = f"{b.reg(a.rd)} & {~mask & 0xFFFFFFFF:#x}"
    if a.rn == PC:
        b.set_reg(a.rd, keep)
    else:
        b.set_reg(a.rd, f"{keep} | (({b.reg(a.rn)} << {a.lsb}) & {mask:#x})")
    return True


# ---- parallel add/subtract ----
# op2 -> (lane width, [(Rn lane, Rm lane, subtract?) per result lane])
_PAR_OPS = {
    0b000: (16, [(0, 0, False), (1, 1, False)]),  # ADD16
    0b001: (16, [(0, 1, True), (1, 0, False)]),   # ASX
    0b010: (16, [(0, 1, False), (1, 0, True)]),   # SAX
    0b011: (16, [(0, 0, True), (1, 1, True)]),    # SUB16
    0b100: (8, [(i, i, False) for i in range(4)]),  # ADD8
    0b111: (8, [(i, i, True) for i in range(4)]),   # SUB8
}
# op1 -> (signed, kind): plain (sets GE), saturating, halving
_PAR_KINDS = {0b001: (True, "plain"), 0b010: (True, "sat"), 0b011: (True, "half"),
              0b101: (False, "plain"), 0b110: (False, "sat"), 0b111: (False, "half")}


def _lane(x: str, i: int, w: int, signed: bool) -> str:
    """Lane i (w bits wide) of the 32-bit local x, sign-extended when ``signed``."""
    mask = (1 << w) - 1
    v = f"({x} >> {i * w})" if i * w + w == 32 else f"({x} >> {i * w} & {mask:#x})" if i else f"({x} & {mask:#x})"
    if signed:
        sign = 1 << (w - 1)
        v = f"(({v} ^ {sign:#x}) - {sign:#x})"
    return v


@handler("parallel")
def parallel(b: Block, a: Args) -> bool:
    """S/Q/SH/U/UQ/UH ADD16, ASX, SAX, SUB16, ADD8, SUB8 (ARM ARM A5.4.1). The plain forms set
    GE per lane; the saturating and halving forms leave GE (and Q) alone."""
    if a.op1 not in _PAR_KINDS or a.op2 not in _PAR_OPS:
        return False
    if PC in (a.rd, a.rn, a.rm):
        return False
    signed, kind = _PAR_KINDS[a.op1]
    w, lanes = _PAR_OPS[a.op2]
    n, m = b.reg(a.rn), b.reg(a.rm)
    mask = (1 << w) - 1
    ge_per_lane = 4 // len(lanes)  # GE bits per lane: 2 for halfwords, 1 for bytes
    ge_bits = (1 << ge_per_lane) - 1
    parts, ge = [], []
    for i, (ln, lm, sub) in enumerate(lanes):
        t = b.tmp("l")
        b.emit(f"{t} = {_lane(n, ln, w, signed)} {'-' if sub else '+'} {_lane(m, lm, w, signed)}")
        if kind == "plain":
            test = f"{t} >> {w}" if not signed and not sub else f"{t} >= 0"
            ge.append(f"({ge_bits << (i * ge_per_lane)} if {test} else 0)")
            v = f"({t} & {mask:#x})"
        elif kind == "sat":
            lo, hi = (-(1 << (w - 1)), (1 << (w - 1)) - 1) if signed else (0, mask)
            v = f"(min(max({t}, {lo}), {hi}) & {mask:#x})"
        else:
            v = f"({t} >> 1 & {mask:#x})"
        parts.append(f"{v} << {i * w}" if i else v)
    if ge:
        b.set_flag("ge", " | ".join(ge))
    b.set_reg(a.rd, " | ".join(parts))
    return True


_SEL_MASKS = tuple(sum(0xFF << (8 * i) for i in range(4) if g >> i & 1) for g in range(16))


@handler("sel")
def sel(b: Block, a: Args) -> bool:
    """SEL: each byte from Rn where its GE bit is set, else from Rm."""
    if PC in (a.rd, a.rn, a.rm):
        return False
    b.const("SELMASK", _SEL_MASKS)
    k = b.tmp("k")
    b.emit(f"{k} = SELMASK[{b.flag('ge')}]")
    b.set_reg(a.rd, f"({b.reg(a.rn)} & {k}) | ({b.reg(a.rm)} & ~{k} & {M})")
    return True


@handler("pkh")
def pkh(b: Block, a: Args) -> bool:
    """PKHBT (tb=0: Rn bottom, LSL'd Rm top) / PKHTB (tb=1: Rn top, ASR'd Rm bottom)."""
    if PC in (a.rd, a.rn, a.rm):
        return False
    n, m = b.reg(a.rn), b.reg(a.rm)
    if a.tb:
        amount = a.imm5 or 32
        b.set_reg(a.rd, f"({n} & 0xFFFF0000) | (((({m} ^ 0x80000000) - 0x80000000) >> {amount}) & 0xFFFF)")
    else:
        b.set_reg(a.rd, f"({n} & 0xFFFF) | (({m} << {a.imm5}) & 0xFFFF0000)")
    return True


@handler("sat")
def sat(b: Block, a: Args) -> bool:
    """SSAT (to sat+1 bits) / USAT (to sat bits) of Rn shifted (LSL, or ASR with sh); sets Q."""
    if PC in (a.rd, a.rn):
        return False
    n = b.reg(a.rn)
    t = b.tmp("q")
    if a.sh:  # ASR #1-32 (imm5 = 0 means 32) of the signed value
        b.emit(f"{t} = {sx32(n)} >> {a.imm5 or 32}")
    else:
        b.emit(f"{t} = {sx32(f'({n} << {a.imm5}) & {M}' if a.imm5 else n)}")
    if a.uns:
        lo, hi = 0, (1 << a.sat) - 1
    else:
        lo, hi = -(1 << a.sat), (1 << a.sat) - 1
    saturate(b, t, lo, hi)
    b.set_reg(a.rd, f"{t} & {M}" if not a.uns else t)
    return True


@handler("sat16")
def sat16(b: Block, a: Args) -> bool:
    """SSAT16 (to sat+1 bits) / USAT16 (to sat bits) of each halfword; sets Q."""
    if PC in (a.rd, a.rn):
        return False
    if a.uns:
        lo, hi = 0, (1 << a.sat) - 1
    else:
        lo, hi = -(1 << a.sat), (1 << a.sat) - 1
    n = b.reg(a.rn)
    ts = []
    for top in (0, 1):
        t = b.tmp("q")
        b.emit(f"{t} = {half(n, top)}")
        saturate(b, t, lo, hi)
        ts.append(t)
    b.set_reg(a.rd, f"({ts[0]} & 0xFFFF) | (({ts[1]} & 0xFFFF) << 16)")
    return True


def rt_rbit(x: int) -> int:
    return int(f"{x:032b}"[::-1], 2)


@handler("rev")
def rev(b: Block, a: Args) -> bool:
    """REV, REV16, RBIT, REVSH."""
    if PC in (a.rd, a.rm):
        return False
    m = b.reg(a.rm)
    if a.op == "rev":
        expr = f"(({m} & 0xFF) << 24) | (({m} & 0xFF00) << 8) | (({m} >> 8) & 0xFF00) | ({m} >> 24)"
    elif a.op == "rev16":
        expr = f"(({m} & 0x00FF00FF) << 8) | (({m} >> 8) & 0x00FF00FF)"
    elif a.op == "revsh":
        expr = f"(((((({m} & 0xFF) << 8) | (({m} >> 8) & 0xFF)) ^ 0x8000) - 0x8000) & {M})"
    else:
        b.const("RBIT", rt_rbit)
        expr = f"RBIT({m})"
    b.set_reg(a.rd, expr)
    return True


@handler("extend")
def extend(b: Block, a: Args) -> bool:
    """SXTAB16/SXTB16, SXTAB/SXTB, SXTAH/SXTH and the UXT forms: Rm rotated right by 8*rot,
    extended, plus Rn unless rn == PC."""
    kind = a.op & 3
    if kind == 1 or PC in (a.rd, a.rm):
        return False
    signed = not a.op & 4
    m = b.reg(a.rm)
    s = 8 * a.rot
    rot = m if not s else f"((({m} >> {s}) | ({m} << {32 - s})) & {M})"
    add = a.rn != PC
    n = b.reg(a.rn) if add else ""
    if kind == 0:  # byte 0 and byte 2 to halfwords
        r = b.as_local(rot)
        lanes = [_lane(r, 0, 8, signed) if signed else f"({r} & 0xFF)",
                 _lane(r, 2, 8, signed) if signed else f"({r} >> 16 & 0xFF)"]
        if add:
            lanes = [f"(({n} & 0xFFFF) + {lanes[0]})", f"(({n} >> 16) + {lanes[1]})"]
        b.set_reg(a.rd, f"({lanes[0]} & 0xFFFF) | (({lanes[1]} & 0xFFFF) << 16)")
        return True
    w = 8 if kind == 2 else 16
    if s and s + w <= 32:  # the field does not wrap: no rotation needed
        v = _lane(m, s // w, w, signed) if s % w == 0 else f"({m} >> {s} & {(1 << w) - 1:#x})"
        if signed and s % w:
            sign = 1 << (w - 1)
            v = f"(({v} ^ {sign:#x}) - {sign:#x})"
    else:
        v = _lane(rot, 0, w, signed)
    if add:
        b.set_reg(a.rd, f"({n} + {v}) & {M}")
    elif signed:
        b.set_reg(a.rd, f"({v}) & {M}")
    else:
        b.set_reg(a.rd, v)
    return True


@handler("usada8")
def usada8(b: Block, a: Args) -> bool:
    """USADA8 (USAD8 when ra == 15): sum of absolute byte differences, plus Ra."""
    if PC in (a.rd, a.rn, a.rm):
        return False
    n, m = b.reg(a.rn), b.reg(a.rm)
    terms = [f"abs({_lane(n, i, 8, False)} - {_lane(m, i, 8, False)})" for i in range(4)]
    if a.ra != PC:
        terms.append(b.reg(a.ra))
        b.set_reg(a.rd, f"({' + '.join(terms)}) & {M}")
    else:
        b.set_reg(a.rd, " + ".join(terms))
    return True
