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

from ..codegen import Block, M
from ..decodetree import Args
from ..isa import ADC, ADD, AND, BIC, CMN, CMP, EOR, LR, MOV, MVN, ORR, PC, RSB, SBC, SP, SUB, TEQ, TST
from ..itblock import ThumbBlock
from .branch import rt_blx_imm
from .dataproc import LOGICAL, NO_DEST, alu, exception_return, shift_imm, shift_reg
from .loadstore import address, finish_load, load, rt_align_fault, rt_ldrex, rt_strex, store
from .registry import HANDLERS, handler


def call(name: str, b: Block, a: Args, **changes: Any) -> bool:
    """Run the handler registered as ``name`` on ``a`` with ``changes``."""
    args = Args(a)
    args.update(changes)
    return HANDLERS[name](b, args)


# ---- T16 data processing ------------------------------------------------------------------------
def _t16_setflags(a: Args) -> bool:
    """setflags = !InITBlock() for the T16 forms that set flags at all."""
    return not a.get("it", 0)


@handler("t16_alu")
def t16_alu(b: Block, a: Args) -> bool:
    op = a.op
    flags = a.get("flags", "it")
    s = op in NO_DEST or (flags == "it" and _t16_setflags(a))
    op2 = str(a.imm) if "imm" in a else b.reg(a.rm)
    alu(b, op, s, a.get("rd", 0), a.get("rn", 0), op2, None)
    return True


@handler("t16_shift")
def t16_shift(b: Block, a: Args) -> bool:
    """LSL/LSR/ASR (immediate); LSL #0 is MOVS rd, rm."""
    s = _t16_setflags(a)
    value, carry = shift_imm(b, b.reg(a.rm), a.type, a.imm5, s)
    alu(b, MOV, s, a.rd, 0, value, carry)
    return True


@handler("t16_shift_reg")
def t16_shift_reg(b: Block, a: Args) -> bool:
    s = _t16_setflags(a)
    value, carry = shift_reg(b, b.reg(a.rn), a.type, b.reg(a.rm), s)
    alu(b, MOV, s, a.rd, 0, value, carry)
    return True


@handler("t16_flags")
def t16_flags(b: Block, a: Args) -> bool:
    """An A32 handler with an S bit, S = !InITBlock() (MULS)."""
    return call(a.via, b, a, s=int(_t16_setflags(a)))


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
    if a.rd == PC and a.s and op in _TEST_FORMS:
        return _TEST_FORMS[op], False
    if a.rn == PC and op in (ORR, ORN):
        return (MOV if op == ORR else MVN), False
    if op == ORN:
        return ORR, True
    return op, False


@handler("t32_dp_imm")
def t32_dp_imm(b: Block, a: Args) -> bool:
    op, invert = _t32_op(a)
    if op is None:
        return False
    value, carry = thumb_expand_imm(a.imm)
    if invert:
        value = ~value & 0xFFFFFFFF
    alu(b, op, bool(a.s), a.rd, a.rn, str(value), None if carry is None else str(carry))
    return True


@handler("t32_dp_reg")
def t32_dp_reg(b: Block, a: Args) -> bool:
    op, invert = _t32_op(a)
    if op is None:
        return False
    want_carry = bool(a.s) and op in LOGICAL
    value, carry = shift_imm(b, b.reg(a.rm), a.type, a.imm5, want_carry)
    if invert:
        value = f"(~{value} & {M})"
    alu(b, op, bool(a.s), a.rd, a.rn, value, carry)
    return True


@handler("t32_shift_reg")
def t32_shift_reg(b: Block, a: Args) -> bool:
    """LSL/LSR/ASR/ROR (register), 32-bit: rd = rn shifted by rm[7:0]."""
    if PC in (a.rd, a.rn, a.rm):
        return False
    value, carry = shift_reg(b, b.reg(a.rn), a.type, b.reg(a.rm), bool(a.s))
    alu(b, MOV, bool(a.s), a.rd, 0, value, carry)
    return True


@handler("t_addsub_imm")
def t_addsub_imm(b: Block, a: Args) -> bool:
    """ADD/SUB without flags: ADDW/SUBW, ADR (rn = PC: Align(PC, 4)), SP plus/minus immediate."""
    rd, rn = a.rd, a.rn
    if rd == PC:
        return False
    imm = a.imm
    if rn == PC:
        base = b.pc_read & ~3
        b.set_reg(rd, str((base - imm if a.sub else base + imm) & 0xFFFFFFFF))
    elif imm == 0:
        b.set_reg(rd, b.reg(rn))
    else:
        b.set_reg(rd, f"({b.reg(rn)} {'-' if a.sub else '+'} {imm}) & {M}")
    return True


# ---- loads and stores -------------------------------------------------------------------------------
@handler("t_ldst")
def t_ldst(b: Block, a: Args) -> bool:
    """LDR/STR{B,H}, LDRS{B,H} in every Thumb addressing form (``mode``)."""
    sz, l, s = a.sz, a.l, a.get("s", 0)
    mode = a.mode
    rn, rt = a.rn, a.rt
    p, u, w = (a.p, a.u, a.w) if mode == "imm8" else (1, a.get("u", 1), 0)
    if (sz == 3 or s and (not l or sz == 2) or not p and not w or rn == PC and (w or not l)
            or mode == "reg" and a.rm == PC):
        return False
    size = 1 << sz
    if mode == "reg":
        rm = b.reg(a.rm)
        offset = b.as_local(f"(({rm} << {a.imm2}) & {M})") if a.imm2 else rm
    else:
        offset = str(a.imm)
    addr, wbv = address(b, Args(rn=rn, p=p, u=u, w=w), offset)
    user = mode == "user" and b.priv  # LDRT/STRT and friends: offset addressing with User privilege
    if l:
        wbl = b.as_local(wbv) if wbv and wbv != addr else wbv
        value = load(b, size, addr, user)
        if s:
            sign = 0x80 if size == 1 else 0x8000
            value = b.as_local(f"(({value} ^ {sign:#x}) - {sign:#x}) & {M}")
        finish_load(b, rt, value, rn, wbl)
        return True
    value = b.reg(rt)
    if size < 4:
        mask = 0xFF if size == 1 else 0xFFFF
        value = b.as_local(f"{value} & {mask:#x}") if not value.isdigit() else str(int(value) & mask)
    store(b, size, addr, value, user)
    if wbv:
        b.set_reg(rn, wbv)
    return True


@handler("t32_ldrd")
def t32_ldrd(b: Block, a: Args) -> bool:
    """LDRD/STRD (immediate, literal): any two registers, offset imm8 << 2 (scaled in the table)."""
    rt, rt2, rn = a.rt, a.rt2, a.rn
    if (not a.p and not a.w) or (a.w and rn == PC) or PC in (rt, rt2) or (not a.l and rn == PC):
        return False
    if a.l and rt == rt2:
        return False
    addr, wbv = address(b, Args(rn=rn, p=a.p, u=a.u, w=a.w), str(a.imm))
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
        return True
    b.store(4, addr, b.reg(rt))
    b.store(4, a2, b.reg(rt2))
    if wbv:
        b.set_reg(rn, wbv)
    return True


@handler("t16_ldm")
def t16_ldm(b: Block, a: Args) -> bool:
    """LDM (T1): writeback unless the base register is in the list."""
    return call("ldm_stm", b, a, p=0, u=1, s=0, l=1, w=0 if a.reglist >> a.rn & 1 else 1)


@handler("t16_pushpop")
def t16_pushpop(b: Block, a: Args) -> bool:
    """PUSH {.., lr} = STMDB sp!; POP {.., pc} = LDMIA sp!."""
    if a.l:
        return call("ldm_stm", b, a, rn=SP, p=0, u=1, s=0, w=1, reglist=a.regs | a.extra << PC)
    return call("ldm_stm", b, a, rn=SP, p=1, u=0, s=0, w=1, reglist=a.regs | a.extra << LR)


def _excl_addr(b: Block, a: Args) -> str:
    base = b.reg(a.rn)
    return b.as_local(f"({base} + {a.imm}) & {M}") if a.imm else base


@handler("t32_ldrex")
def t32_ldrex(b: Block, a: Args) -> bool:
    size = a.size
    if a.rn == PC or a.rt in (SP, PC) or (size == 8 and (a.rt2 in (SP, PC) or a.rt == a.rt2)):
        return False
    b.const("LDREX", rt_ldrex)
    v = b.tmp("v")
    b.emit(f"{v} = LDREX(X, {_excl_addr(b, a)}, {size}, {int(b.priv)})")
    if size == 8:
        b.set_reg(a.rt, f"{v} & {M}")
        b.set_reg(a.rt2, f"{v} >> 32")
    else:
        b.set_reg(a.rt, v)
    return True


@handler("t32_strex")
def t32_strex(b: Block, a: Args) -> bool:
    size = a.size
    regs = (a.rd, a.rt, a.rn) + ((a.rt2,) if size == 8 else ())
    if PC in regs or a.rd in regs[1:]:
        return False
    value = b.reg(a.rt) if size != 8 else f"{b.reg(a.rt)} | ({b.reg(a.rt2)} << 32)"
    b.const("STREX", rt_strex)
    b.set_reg(a.rd, f"STREX(X, {_excl_addr(b, a)}, {size}, {value}, {int(b.priv)})")
    return True


# ---- branches ----------------------------------------------------------------------------------
@handler("t_b")
def t_b(b: Block, a: Args) -> bool:
    """B (T1-T3; conditions come from the cond field or the IT block): PC + imm."""
    b.exit_static(b.pc_read + a.imm)
    return True


@handler("t32_bl")
def t32_bl(b: Block, a: Args) -> bool:
    """B (T4), BL, BLX (immediate): I1 = NOT(J1 EOR S), I2 = NOT(J2 EOR S)."""
    s = a.s
    i1, i2 = 1 ^ a.j1 ^ s, 1 ^ a.j2 ^ s
    imm = (s << 24) | (i1 << 23) | (i2 << 22) | (a.imm10 << 12) | (a.imm11 << 1)
    imm -= (s << 25)
    lr = b.next_pc | 1
    if a.x:  # BLX: to ARM state, target Align(PC, 4) + imm
        if a.imm11 & 1:
            return False
        b.exit_helper("BLXI", rt_blx_imm, f"X, {lr:#x}, {((b.pc_read & ~3) + imm) & 0xFFFFFFFC:#x}")
        return True
    if a.link:
        b.set_reg(LR, str(lr))
    b.exit_static(b.pc_read + imm)
    return True


@handler("cbz")
def cbz(b: Block, a: Args) -> bool:
    """CBZ/CBNZ: compare and branch forward; both ways leave the block."""
    r = b.reg(a.rn)
    b.open_if(f"{r} != 0" if a.nz else f"{r} == 0")
    b.exit_static(b.pc_read + a.imm)
    b.close_if()
    b.exit_static(b.next_pc)
    return True


@handler("tbb")
def tbb(b: Block, a: Args) -> bool:
    """TBB/TBH: PC + 2 * table[rm] (a byte or halfword table at rn)."""
    if a.rm in (SP, PC) or a.rn == SP:
        return False
    base, idx = b.reg(a.rn), b.reg(a.rm)
    if a.h:
        v = b.load(2, f"({base} + ({idx} << 1)) & {M}")
    else:
        v = b.load(1, f"({base} + {idx}) & {M}")
    b.exit_dynamic(f"({b.pc_read} + ({v} << 1)) & {M}")
    return True


@handler("t32_subs_pc_lr")
def t32_subs_pc_lr(b: Block, a: Args) -> bool:
    """SUBS PC, LR, #imm8 (ERET when imm8 = 0): exception return."""
    b.exit_helper("ERET", exception_return, f"X, ({b.reg(LR)} - {a.imm}) & {M}")
    return True


# ---- exceptions, IT ------------------------------------------------------------------------------
@handler("t_svc")
def t_svc(b: Block, a: Args) -> bool:
    """SVC: the SPSR gets the IT state of the instruction after the SVC (ITAdvance first)."""
    assert isinstance(b, ThumbBlock)
    b.it_cur = b.it_next
    return call("svc", b, a)


@handler("it")
def it(b: Block, a: Args) -> bool:
    """IT: nothing at run time; the translator applies the conditions to the next instructions."""
    return True

