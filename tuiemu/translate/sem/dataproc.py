"""Data processing: the 16 ALU operations with every shifter operand, MOVW/MOVT, CLZ.

Flag rules (ARM ARM A2.2/A8.4): logical operations set N and Z from the
result and C from the shifter's carry-out; arithmetic ones set all four.
The shifter's carry is worked out at translation time where it can be
(immediate operands), at run time otherwise.
"""
from __future__ import annotations

from typing import Any, Optional, Tuple

from ..codegen import Block, M
from ..decodetree import Args
from ..isa import ADC, ADD, AND, ASR, BIC, CMN, CMP, EOR, LSL, LSR, MOV, MVN, ORR, PC, RSB, RSC, SBC, TEQ, TST
from .registry import handler

LOGICAL = {AND, EOR, TST, TEQ, ORR, MOV, BIC, MVN}
NO_DEST = {TST, TEQ, CMP, CMN}


def expand_imm(imm8: int, rot: int) -> Tuple[int, Optional[int]]:
    """ARMExpandImm_C: the value and its carry-out (None: carry unchanged)."""
    amount = 2 * rot
    value = ((imm8 >> amount) | (imm8 << (32 - amount))) & 0xFFFFFFFF if amount else imm8
    return value, (value >> 31 if amount else None)


def shift_imm(b: Block, rm: str, stype: int, imm5: int, want_carry: bool) -> Tuple[str, Optional[str]]:
    """Shift by an immediate (DecodeImmShift); returns (value expr, carry expr or None = unchanged)."""
    if stype == LSL:
        if imm5 == 0:
            return rm, None
        return (f"(({rm} << {imm5}) & {M})", f"(({rm} >> {32 - imm5}) & 1)" if want_carry else None)
    if stype == LSR:
        n = imm5 or 32
        if n == 32:
            return "0", (f"({rm} >> 31)" if want_carry else None)
        return f"({rm} >> {n})", (f"(({rm} >> {n - 1}) & 1)" if want_carry else None)
    if stype == ASR:
        n = imm5 or 32
        if n == 32:
            return f"(0 if {rm} < 0x80000000 else {M})", (f"({rm} >> 31)" if want_carry else None)
        return (f"((({rm} ^ 0x80000000) - 0x80000000 >> {n}) & {M})",
                f"(({rm} >> {n - 1}) & 1)" if want_carry else None)
    if imm5 == 0:  # ROR #0 is RRX
        cf = b.flag("cf")
        return f"(({cf} << 31) | ({rm} >> 1))", (f"({rm} & 1)" if want_carry else None)
    return (f"((({rm} >> {imm5}) | ({rm} << {32 - imm5})) & {M})",
            f"(({rm} >> {imm5 - 1}) & 1)" if want_carry else None)


def shift_reg(b: Block, rm: str, stype: int, rs: str, want_carry: bool) -> Tuple[str, Optional[str]]:
    """Shift by the bottom byte of a register; emits temporaries, returns (value, carry)."""
    n = b.tmp("n")
    v = b.tmp("s")
    b.emit(f"{n} = {rs} & 0xFF")
    c = b.tmp("c") if want_carry else None
    cf = b.flag("cf") if want_carry else "0"
    if stype == LSL:
        b.emit(f"{v} = ({rm} << {n}) & {M} if {n} < 32 else 0")
        if c:
            b.emit(f"{c} = {cf} if {n} == 0 else (({rm} << {n}) >> 32) & 1 if {n} <= 32 else 0")
    elif stype == LSR:
        b.emit(f"{v} = {rm} >> {n} if {n} < 32 else 0")
        if c:
            b.emit(f"{c} = {cf} if {n} == 0 else ({rm} >> ({n} - 1)) & 1 if {n} <= 32 else 0")
    elif stype == ASR:
        b.emit(f"{v} = ((({rm} ^ 0x80000000) - 0x80000000) >> ({n} if {n} < 32 else 31)) & {M}")
        if c:
            b.emit(f"{c} = {cf} if {n} == 0 else ({rm} >> ({n} - 1 if {n} <= 32 else 31)) & 1")
    else:
        r = b.tmp("r")
        b.emit(f"{r} = {n} & 31")
        b.emit(f"{v} = (({rm} >> {r}) | ({rm} << (32 - {r}))) & {M} if {r} else {rm}")
        if c:
            b.emit(f"{c} = {cf} if {n} == 0 else {v} >> 31")
    return v, c


def alu(b: Block, op: int, s: bool, rd: int, rn: int, op2: str, carry: Optional[str]) -> None:
    """Emit the operation and its flag updates; rd = PC leaves the block."""
    a = b.reg(rn) if op not in (MOV, MVN) else "0"
    if op in LOGICAL:
        expr = {AND: f"{a} & {op2}", EOR: f"{a} ^ {op2}", TST: f"{a} & {op2}", TEQ: f"{a} ^ {op2}",
                ORR: f"{a} | {op2}", MOV: op2, BIC: f"{a} & ~{op2} & {M}", MVN: f"~{op2} & {M}"}[op]
        if not s:
            return write_result(b, rd, expr, s)
        res = b.tmp("r")
        b.emit(f"{res} = {expr}")
        b.set_nz(res)
        if carry is not None:
            b.set_flag("cf", carry)
    else:
        x, y = (a, op2) if op not in (RSB, RSC) else (op2, a)
        adding = op in (ADD, CMN, ADC)
        if adding:
            extra = f" + {b.flag('cf')}" if op == ADC else ""
        else:
            extra = f" - 1 + {b.flag('cf')}" if op in (SBC, RSC) else ""
        sign = "+" if adding else "-"
        if not s:
            return write_result(b, rd, f"({x} {sign} {y}{extra}) & {M}", s)
        x, y = b.as_local(x), b.as_local(y)
        if y == "0" and not extra:  # CMP rn, #0 and friends: the result is rn, no carry out, no overflow
            res = x
            b.set_flag("cf", "0" if adding else "1")
            b.set_flag("vf", "0")
        else:
            t = b.tmp("w")
            res = b.tmp("r")
            b.emit(f"{t} = {x} {sign} {y}{extra}")
            b.emit(f"{res} = {t} & {M}")
            if adding:
                b.set_flag("cf", f"{t} >> 32")
                b.set_flag("vf", f"({x} ^ {res}) & ({y} ^ {res})")
            else:
                b.set_flag("cf", f"{t} >= 0")
                b.set_flag("vf", f"({x} ^ {y}) & ({x} ^ {res})")
        b.set_nz(res)
    if op in NO_DEST:
        return
    write_result(b, rd, res, s)


def write_result(b: Block, rd: int, res: str, s: bool) -> None:
    if rd != PC:
        b.set_reg(rd, res)
    elif s:  # SUBS PC, LR and friends: exception return
        b.exit_helper("ERET", exception_return, f"X, {res}")
    elif b.thumb:  # ALUWritePC: a plain branch in Thumb state...
        b.exit_dynamic(f"{res} & 0xFFFFFFFE")
    else:  # ...and interworking in ARM state
        b.exit_interwork(res)


def exception_return(x: Any, pc: int) -> None:
    x.exception_return(pc)


@handler("dp_imm")
def dp_imm(b: Block, a: Args) -> bool:
    if a.op in NO_DEST and not a.s:
        return False
    value, carry = expand_imm(a.imm8, a.rot)
    alu(b, a.op, bool(a.s), a.rd, a.rn, str(value), None if carry is None else str(carry))
    return True


@handler("dp_reg")
def dp_reg(b: Block, a: Args) -> bool:
    if a.op in NO_DEST and not a.s:
        return False
    want_carry = bool(a.s) and a.op in LOGICAL
    value, carry = shift_imm(b, b.reg(a.rm), a.type, a.imm5, want_carry)
    alu(b, a.op, bool(a.s), a.rd, a.rn, value, carry)
    return True


@handler("dp_rsr")
def dp_rsr(b: Block, a: Args) -> bool:
    if a.op in NO_DEST and not a.s or PC in (a.rd, a.rn, a.rm, a.rs):
        return False
    want_carry = bool(a.s) and a.op in LOGICAL
    value, carry = shift_reg(b, b.reg(a.rm), a.type, b.reg(a.rs), want_carry)
    alu(b, a.op, bool(a.s), a.rd, a.rn, value, carry)
    return True


@handler("movw")
def movw(b: Block, a: Args) -> bool:
    if a.rd == PC:
        return False
    b.set_reg(a.rd, str(a.imm))
    return True


@handler("movt")
def movt(b: Block, a: Args) -> bool:
    if a.rd == PC:
        return False
    low = b.known_value(a.rd)
    if low is not None:  # MOVW (or any literal) then MOVT: one constant
        b.set_reg(a.rd, str((low & 0xFFFF) | a.imm << 16))
    else:
        b.set_reg(a.rd, f"({b.reg(a.rd)} & 0xFFFF) | {a.imm << 16:#x}")
    return True


@handler("clz")
def clz(b: Block, a: Args) -> bool:
    if PC in (a.rd, a.rm):
        return False
    b.set_reg(a.rd, f"32 - ({b.reg(a.rm)}).bit_length()")
    return True
