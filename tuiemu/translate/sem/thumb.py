"""Thumb-only semantics, and thin adapters onto the A32 handlers where Thumb fields differ.

* T16 data processing sets the flags only outside IT blocks (``a.it`` is the translator's
  "inside an IT block" bit);
* T32 data processing numbers its opcodes differently and uses ThumbExpandImm;
* Thumb addressing forms (imm12 / imm8 with P,U,W / register with LSL #imm2 / unprivileged /
  literal Align(PC, 4)), LDRD/STRD imm8 << 2 with any register pair, exclusives with offsets;
* branches: B/BL/BLX immediate, CBZ/CBNZ, TBB/TBH; SUBS PC, LR.

The IT instruction itself changes only translation-time state (see translate/t32.py).
"""
from __future__ import annotations

from typing import Any, Optional, Tuple

from ..codegen import Block
from ..decodetree import Args
from .branch import rt_blx_imm
from .dataproc import (
    ADC,
    ADD,
    AND,
    BIC,
    CMN,
    CMP,
    EOR,
    LOGICAL,
    MOV,
    MVN,
    NO_DEST,
    ORR,
    RSB,
    SBC,
    SUB,
    TEQ,
    TST,
    alu,
    exception_return,
    shift_imm,
    shift_reg,
)
from .loadstore import _address, _finish_load, _load, _store, rt_align_fault, rt_ldrex, rt_strex
from .registry import HANDLERS, handler
from .system import undef

M = "0xFFFFFFFF"


def call(name: str, b: Block, a: Args, **changes: Any) -> None:
    """Run the handler registered as ``name`` (looked up now: A32 modules may register late)."""
    args = Args(a)
    args.update(changes)
    HANDLERS[name](b, args)


# ---- T16 data processing ------------------------------------------------------------------------
def _t16_setflags(a: Args) -> bool:
    """setflags = !InITBlock() for the T16 forms that set flags at all."""
    return not a.get("it", 0)


@handler("t16_alu")
def t16_alu(b: Block, a: Args) -> None:
    op = a.op
    flags = a.get("flags", "it")
    s = op in NO_DEST or (flags == "it" and _t16_setflags(a))
    op2 = str(a.imm) if "imm" in a else b.reg(a.rm)
    alu(b, op, s, a.get("rd", 0), a.get("rn", 0), op2, None)


@handler("t16_shift")
def t16_shift(b: Block, a: Args) -> None:
    """LSL/LSR/ASR (immediate); LSL #0 is MOVS rd, rm."""
    s = _t16_setflags(a)
    value, carry = shift_imm(b, b.reg(a.rm), a.type, a.imm5, s)
    alu(b, MOV, s, a.rd, 0, value, carry)


@handler("t16_shift_reg")
def t16_shift_reg(b: Block, a: Args) -> None:
    s = _t16_setflags(a)
    value, carry = shift_reg(b, b.reg(a.rn), a.type, b.reg(a.rm), s)
    alu(b, MOV, s, a.rd, 0, value, carry)


@handler("t16_flags")
def t16_flags(b: Block, a: Args) -> None:
    """An A32 handler with an S bit, S = !InITBlock() (MULS)."""
    call(a.via, b, a, s=int(_t16_setflags(a)))


# ---- T32 data processing ------------------------------------------------------------------------
ORN = "orn"
# T32 opcode (hw1[8:5]) -> A32 operation; with Rd = PC and S: the compare forms; with Rn = PC: moves
T32_OPS = {0: AND, 1: BIC, 2: ORR, 3: ORN, 4: EOR, 8: ADD, 10: ADC, 11: SBC, 13: SUB, 14: RSB}
_TEST_FORMS = {AND: TST, EOR: TEQ, ADD: CMN, SUB: CMP}


def thumb_expand_imm(imm12: int) -> Tuple[int, Optional[int]]:
    """ThumbExpandImm_C: the value and its carry-out (None: carry unchanged)."""
    if imm12 >> 10 == 0:
        imm8 = imm12 & 0xFF
        kind = (imm12 >> 8) & 3
        return imm8 * (1, 0x00010001, 0x01000100, 0x01010101)[kind], None
    unrot = 0x80 | (imm12 & 0x7F)
    amount = imm12 >> 7
    value = ((unrot >> amount) | (unrot << (32 - amount))) & 0xFFFFFFFF
    return value, value >> 31


def _t32_op(a: Args) -> Tuple[Any, bool]:
    """(A32 operation, invert operand 2) for a T32 data-processing opcode; (None, _) if unallocated."""
    op = T32_OPS.get(a.op)
    if op is None:
        return None, False
    if a.rd == 15 and a.s and op in _TEST_FORMS:
        return _TEST_FORMS[op], False
    if a.rn == 15 and op in (ORR, ORN):
        return (MOV if op == ORR else MVN), False
    if op == ORN:
        return ORR, True
    return op, False


@handler("t32_dp_imm")
def t32_dp_imm(b: Block, a: Args) -> None:
    op, invert = _t32_op(a)
    if op is None:
        return undef(b, a)
    value, carry = thumb_expand_imm(a.imm)
    if invert:
        value = ~value & 0xFFFFFFFF
    alu(b, op, bool(a.s), a.rd, a.rn, str(value), None if carry is None else str(carry))


@handler("t32_dp_reg")
def t32_dp_reg(b: Block, a: Args) -> None:
    op, invert = _t32_op(a)
    if op is None:
        return undef(b, a)
    want_carry = bool(a.s) and op in LOGICAL
    value, carry = shift_imm(b, b.reg(a.rm), a.type, a.imm5, want_carry)
    if invert:
        value = f"(~{value} & {M})"
    alu(b, op, bool(a.s), a.rd, a.rn, value, carry)


@handler("t32_shift_reg")
def t32_shift_reg(b: Block, a: Args) -> None:
    """LSL/LSR/ASR/ROR (register), 32-bit: rd = rn shifted by rm[7:0]."""
    if 15 in (a.rd, a.rn, a.rm):
        return undef(b, a)
    value, carry = shift_reg(b, b.reg(a.rn), a.type, b.reg(a.rm), bool(a.s))
    alu(b, MOV, bool(a.s), a.rd, 0, value, carry)


@handler("t_addsub_imm")
def t_addsub_imm(b: Block, a: Args) -> None:
    """ADD/SUB without flags: ADDW/SUBW, ADR (rn = PC: Align(PC, 4)), SP plus/minus immediate."""
    rd, rn = a.rd, a.rn
    if rd == 15:
        return undef(b, a)
    imm = a.imm << a.get("scale", 0)
    if rn == 15:
        base = b.pc_read & ~3
        b.set_reg(rd, str((base - imm if a.sub else base + imm) & 0xFFFFFFFF))
    elif imm == 0:
        b.set_reg(rd, b.reg(rn))
    else:
        b.set_reg(rd, f"({b.reg(rn)} {'-' if a.sub else '+'} {imm}) & {M}")


# ---- loads and stores -------------------------------------------------------------------------------
@handler("t_ldst")
def t_ldst(b: Block, a: Args) -> None:
    """LDR/STR{B,H}, LDRS{B,H} in every Thumb addressing form (``mode``)."""
    sz, l, s = a.sz, a.l, a.get("s", 0)
    if sz == 3 or (s and (not l or sz == 2)):
        return undef(b, a)
    size = 1 << sz
    mode = a.mode
    rn, rt = a.rn, a.rt
    user = False
    if mode == "reg":
        if a.rm == 15:
            return undef(b, a)
        rm = b.reg(a.rm)
        offset = b.as_local(f"(({rm} << {a.imm2}) & {M})") if a.imm2 else rm
        p, u, w = 1, 1, 0
    elif mode == "imm8":
        p, u, w = a.p, a.u, a.w
        if not p and not w:
            return undef(b, a)
        offset = str(a.imm)
    elif mode == "user":  # LDRT/STRT and friends: offset addressing with User privilege
        p, u, w = 1, 1, 0
        user = True
        offset = str(a.imm)
    else:
        p, u, w = 1, a.get("u", 1), 0
        offset = str(a.imm << a.get("scale", 0))
    if rn == 15 and (w or not l):
        return undef(b, a)
    addr, wbv, _ = _address(b, Args(rn=rn, p=p, u=u, w=w), offset)
    user = user and b.priv
    if l:
        wbl = b.as_local(wbv) if wbv and wbv != addr else wbv
        value = _load(b, size, addr, user)
        if s:
            sign = 0x80 if size == 1 else 0x8000
            value = b.as_local(f"(({value} ^ {sign:#x}) - {sign:#x}) & {M}")
        _finish_load(b, rt, value, rn, wbl)
        return
    value = b.reg(rt)
    if size < 4:
        mask = 0xFF if size == 1 else 0xFFFF
        value = b.as_local(f"{value} & {mask:#x}") if not value.isdigit() else str(int(value) & mask)
    _store(b, size, addr, value, user)
    if wbv:
        b.set_reg(rn, wbv)


@handler("t32_ldrd")
def t32_ldrd(b: Block, a: Args) -> None:
    """LDRD/STRD (immediate, literal): any two registers, offset imm8 << 2."""
    rt, rt2, rn = a.rt, a.rt2, a.rn
    if (not a.p and not a.w) or (a.w and rn == 15) or 15 in (rt, rt2) or (not a.l and rn == 15):
        return undef(b, a)
    if a.l and rt == rt2:
        return undef(b, a)
    addr, wbv, _ = _address(b, Args(rn=rn, p=a.p, u=a.u, w=a.w), str(a.imm << 2))
    b.const("AFAULT", rt_align_fault)
    b.emit(f"if {addr} & 3: AFAULT({addr}, {0 if a.l else 1})")
    a2 = b.as_local(f"({addr} + 4) & {M}")
    if a.l:
        wbl = b.as_local(wbv) if wbv and wbv != addr else wbv
        lo = b.load(4, addr)
        hi = b.load(4, a2)
        if wbl:
            b.set_reg(rn, wbl)
        b.set_reg(rt, lo)
        b.set_reg(rt2, hi)
        return
    b.store(4, addr, b.reg(rt))
    b.store(4, a2, b.reg(rt2))
    if wbv:
        b.set_reg(rn, wbv)


@handler("t16_ldm")
def t16_ldm(b: Block, a: Args) -> None:
    """LDM (T1): writeback unless the base register is in the list."""
    call("ldm_stm", b, a, p=0, u=1, s=0, l=1, w=0 if a.reglist >> a.rn & 1 else 1)


@handler("t16_pushpop")
def t16_pushpop(b: Block, a: Args) -> None:
    """PUSH {.., lr} = STMDB sp!; POP {.., pc} = LDMIA sp!."""
    if a.l:
        call("ldm_stm", b, a, rn=13, p=0, u=1, s=0, w=1, reglist=a.regs | a.extra << 15)
    else:
        call("ldm_stm", b, a, rn=13, p=1, u=0, s=0, w=1, reglist=a.regs | a.extra << 14)


def _excl_addr(b: Block, a: Args) -> str:
    base = b.reg(a.rn)
    return b.as_local(f"({base} + {a.imm << 2}) & {M}") if a.imm else base


@handler("t32_ldrex")
def t32_ldrex(b: Block, a: Args) -> None:
    size = a.size
    if a.rn == 15 or a.rt in (13, 15) or (size == 8 and (a.rt2 in (13, 15) or a.rt == a.rt2)):
        return undef(b, a)
    b.const("LDREX", rt_ldrex)
    v = b.tmp("v")
    b.emit(f"{v} = LDREX(X, {_excl_addr(b, a)}, {size}, {int(b.priv)})")
    if size == 8:
        b.set_reg(a.rt, f"{v} & {M}")
        b.set_reg(a.rt2, f"{v} >> 32")
    else:
        b.set_reg(a.rt, v)


@handler("t32_strex")
def t32_strex(b: Block, a: Args) -> None:
    size = a.size
    regs = (a.rd, a.rt, a.rn) + ((a.rt2,) if size == 8 else ())
    if 15 in regs or a.rd in regs[1:]:
        return undef(b, a)
    value = b.reg(a.rt) if size != 8 else f"{b.reg(a.rt)} | ({b.reg(a.rt2)} << 32)"
    b.const("STREX", rt_strex)
    b.set_reg(a.rd, f"STREX(X, {_excl_addr(b, a)}, {size}, {value}, {int(b.priv)})")


# ---- branches ----------------------------------------------------------------------------------
@handler("t_b")
def t_b(b: Block, a: Args) -> None:
    """B (T1-T3; conditions come from the cond field or the IT block): PC + imm * 2."""
    b.exit_static(b.pc_read + (a.imm << 1))


@handler("t32_bl")
def t32_bl(b: Block, a: Args) -> None:
    """B (T4), BL, BLX (immediate): I1 = NOT(J1 EOR S), I2 = NOT(J2 EOR S)."""
    s = a.s
    i1, i2 = 1 ^ a.j1 ^ s, 1 ^ a.j2 ^ s
    imm = (s << 24) | (i1 << 23) | (i2 << 22) | (a.imm10 << 12) | (a.imm11 << 1)
    imm -= (s << 25)
    lr = b.next_pc | 1
    if a.x:  # BLX: to ARM state, target Align(PC, 4) + imm
        if a.imm11 & 1:
            return undef(b, a)
        b.exit_helper("BLXI", rt_blx_imm, f"X, {lr:#x}, {((b.pc_read & ~3) + imm) & 0xFFFFFFFC:#x}")
        return
    if a.link:
        b.set_reg(14, str(lr))
    b.exit_static(b.pc_read + imm)


@handler("cbz")
def cbz(b: Block, a: Args) -> None:
    """CBZ/CBNZ: compare and branch forward; both ways leave the block."""
    r = b.reg(a.rn)
    b.open_if(f"{r} != 0" if a.nz else f"{r} == 0")
    b.exit_static(b.pc_read + (a.imm << 1))
    b.close_if()
    b.exit_static(b.next_pc)


@handler("tbb")
def tbb(b: Block, a: Args) -> None:
    """TBB/TBH: PC + 2 * table[rm] (a byte or halfword table at rn)."""
    if a.rm in (13, 15) or a.rn == 13:
        return undef(b, a)
    base, idx = b.reg(a.rn), b.reg(a.rm)
    if a.h:
        v = b.load(2, f"({base} + ({idx} << 1)) & {M}")
    else:
        v = b.load(1, f"({base} + {idx}) & {M}")
    b.exit_dynamic(f"({b.pc_read} + ({v} << 1)) & {M}")


@handler("t32_subs_pc_lr")
def t32_subs_pc_lr(b: Block, a: Args) -> None:
    """SUBS PC, LR, #imm8 (ERET when imm8 = 0): exception return."""
    b.exit_helper("ERET", exception_return, f"X, ({b.reg(14)} - {a.imm}) & {M}")


# ---- exceptions, IT ------------------------------------------------------------------------------
@handler("t_svc")
def t_svc(b: Block, a: Args) -> None:
    """SVC: the SPSR gets the IT state of the instruction after the SVC (ITAdvance first)."""
    if hasattr(b, "it_next"):
        b.it_cur = b.it_next  # type: ignore[attr-defined]
    call("svc", b, a)


@handler("it")
def it(b: Block, a: Args) -> None:
    """IT: nothing at run time; the translator applies the conditions to the next instructions."""

