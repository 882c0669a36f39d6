"""Loads and stores: word/byte, halfword/signed/doubleword, LDM/STM, exclusives, SWP.

Every memory access of an instruction happens before it writes any register,
so an abort leaves the registers as they were before the instruction.
"""
from __future__ import annotations

from typing import Any, List, Tuple

from ...mmu.pagetable import FS_ALIGNMENT, READ, WRITE, fault
from ..codegen import Block, M
from ..decodetree import Args
from ..isa import LR, PC
from .dataproc import exception_return, shift_imm
from .registry import handler


# ---- runtime helpers ----
def rt_align_fault(addr: int, write: int) -> None:
    raise fault(WRITE if write else READ, FS_ALIGNMENT, addr)


def rt_load_multi(ld: Any, addr: int, n: int) -> List[int]:
    return [ld((addr + 4 * i) & 0xFFFFFFFF, 4) for i in range(n)]


def rt_store_multi(st: Any, addr: int, values: List[int]) -> None:
    for i, v in enumerate(values):
        st((addr + 4 * i) & 0xFFFFFFFF, 4, v)


def rt_ldrex(x: Any, addr: int, size: int, priv: int) -> int:
    return x.exclusive.load(x, addr, size, priv)


def rt_strex(x: Any, addr: int, size: int, value: int, priv: int) -> int:
    return x.exclusive.store(x, addr, size, value, priv)


def rt_swap(x: Any, addr: int, size: int, value: int, priv: int) -> int:
    return x.exclusive.swap(x, addr, size, value, priv)


def rt_user_bank(x: Any, load: int, regs: List[int], addr: int, wb: int, rn: int, size: int) -> None:
    """LDM/STM (user registers): move the User-mode bank from a privileged mode."""
    s = x.state
    if load:
        values = [x.tlb.load((addr + 4 * i) & 0xFFFFFFFF, 4, 1) for i in range(len(regs))]
        if wb >= 0:
            x.R[rn] = wb
        for r, v in zip(regs, values):
            s.set_banked_reg(0x10, r, v)
    else:
        for i, r in enumerate(regs):
            # PC in the list stores PCStoreValue() (this instruction + 8), as plain STM does
            v = (x.R[15] + 8) & 0xFFFFFFFF if r == 15 else s.banked_reg(0x10, r)
            x.tlb.store((addr + 4 * i) & 0xFFFFFFFF, 4, v, 1)
        if wb >= 0:
            x.R[rn] = wb
    x.R[15] = (x.R[15] + size) & 0xFFFFFFFF


# ---- address computation ----
def _writeback(a: Args) -> bool:
    """Post-indexed (P = 0) or pre-indexed with W: the base register is updated."""
    return not a.p or bool(a.w)


def address(b: Block, a: Args, offset: str) -> Tuple[str, str]:
    """(access address, writeback value or '') for P/U/W addressing."""
    base = b.reg(a.rn)
    if a.rn == PC:
        base = str(b.pc_read & ~3)
    if offset == "0":
        new = base
    else:
        new = f"({base} {'+' if a.u else '-'} {offset}) & {M}"
    wb = _writeback(a)
    if a.p:
        addr = b.as_local(new)
        return addr, (addr if wb else "")
    addr = b.as_local(base)
    return addr, (new if wb else "")


def _priv_override(b: Block, a: Args) -> bool:
    """LDRT/STRT-style (P = 0, W = 1): access with User privilege."""
    return not a.p and bool(a.w)


def load(b: Block, size: int, addr: str, user: bool) -> str:
    if user:
        v = b.tmp("v")
        b.emit(f"{v} = F[0][2]({addr}, {size})")
        return v
    return b.load(size, addr)


def store(b: Block, size: int, addr: str, value: str, user: bool) -> None:
    if user:
        b.emit(f"F[0][3]({addr}, {size}, {value})")
    else:
        b.store(size, addr, value)


def finish_load(b: Block, rt: int, value: str, rn: int, wb_value: str) -> None:
    if wb_value and rn != PC:
        b.set_reg(rn, wb_value)
    if rt == PC:
        b.exit_interwork(value)
    else:
        b.set_reg(rt, value)


@handler("ldst")
def ldst(b: Block, a: Args) -> bool:
    if a.rn == PC and _writeback(a) or a.reg and a.rm == PC:
        return False
    if a.reg:
        offset, _ = shift_imm(b, b.reg(a.rm), a.type, a.imm5, False)
        offset = b.as_local(offset)
    else:
        offset = str(a.imm12)
    user = _priv_override(b, a) and b.priv
    addr, wbv = address(b, a, offset)
    size = 1 if a.b else 4
    if a.l:
        wbl = b.as_local(wbv) if wbv and wbv != addr else wbv
        if a.rt != PC and not user and not (wbl and a.rn == a.rt):  # straight into the register
            b.load(size, addr, dest=b.reg_dest(a.rt))
            if wbl:
                b.set_reg(a.rn, wbl)
            return True
        value = load(b, size, addr, user)
        finish_load(b, a.rt, value, a.rn, wbl)
    else:
        value = b.reg(a.rt) if a.rt != PC else str(b.pc_read)
        if size == 1:
            value = f"{value} & 0xFF" if value.isidentifier() else str(int(value) & 0xFF)
            value = b.as_local(value)
        store(b, size, addr, value, user)
        if wbv:
            b.set_reg(a.rn, wbv)
    return True


@handler("ldst_extra")
def ldst_extra(b: Block, a: Args) -> bool:
    op = a.op
    reg = "rm" in a  # else the imm4H:imm4L form
    user = _priv_override(b, a)
    if (reg and a.rm == PC or a.rn == PC and _writeback(a)
            or op in ("ldrd", "strd") and (a.rt & 1 or a.rt == LR or user)):
        return False
    addr, wbv = address(b, a, b.reg(a.rm) if reg else str(a.imm))
    user = user and b.priv
    wbl = b.as_local(wbv) if wbv and wbv != addr else wbv
    if op == "ldrd":
        b.emit(f"if {addr} & 3: AFAULT({addr}, 0)")
        b.const("AFAULT", rt_align_fault)
        a2 = b.as_local(f"({addr} + 4) & {M}")
        lo = b.load(4, addr)
        hi = b.load(4, a2)
        if wbl and a.rn != PC:
            b.set_reg(a.rn, wbl)
        b.set_reg(a.rt, lo)
        b.set_reg(a.rt + 1, hi)
        return True
    if op == "strd":
        b.const("AFAULT", rt_align_fault)
        b.emit(f"if {addr} & 3: AFAULT({addr}, 1)")
        lo = b.reg(a.rt)
        hi = b.reg(a.rt + 1) if a.rt + 1 != PC else str(b.pc_read)
        a2 = b.as_local(f"({addr} + 4) & {M}")
        b.store(4, addr, lo)
        b.store(4, a2, hi)
        if wbv:
            b.set_reg(a.rn, wbv)
        return True
    if op == "strh":
        value = b.as_local(f"{b.reg(a.rt)} & 0xFFFF")
        store(b, 2, addr, value, user)
        if wbv:
            b.set_reg(a.rn, wbv)
        return True
    size = 1 if op == "ldrsb" else 2
    value = load(b, size, addr, user)
    if op == "ldrsb":
        value = b.as_local(f"(({value} ^ 0x80) - 0x80) & {M}")
    elif op == "ldrsh":
        value = b.as_local(f"(({value} ^ 0x8000) - 0x8000) & {M}")
    finish_load(b, a.rt, value, a.rn, wbl)
    return True


def load_words(b: Block, addr: str, n: int) -> List[str]:
    """``n`` consecutive words from the word-aligned ``addr`` into temporaries: one page-map lookup
    and RAM indexing when they sit on one page, else the slow path (LDM, VLDM, VPOP)."""
    b.uses_memory = True
    vals = [b.tmp("v") for _ in range(n)]
    d = b.tmp("d")
    b.const("LDMS", rt_load_multi)
    b.emit(f"{d} = TR.get({addr} >> 12)")
    b.emit(f"if {d} is None or ({addr} & 0xFFF) > {0x1000 - 4 * n}: "
           f"{', '.join(vals)}{',' if n == 1 else ''} = LDMS(LD, {addr}, {n})")
    b.emit("else:")
    b.indent += 1
    i = b.tmp("i")
    b.emit(f"{i} = ({addr} + {d}) >> 2")
    for k, v in enumerate(vals):
        b.emit(f"{v} = M32[{i} + {k}]" if k else f"{v} = M32[{i}]")
    b.indent -= 1
    return vals


def store_words(b: Block, addr: str, values: List[str]) -> None:
    """Store ``values`` as consecutive words at the word-aligned ``addr`` (STM, VSTM, VPUSH)."""
    n = len(values)
    b.uses_memory = True
    d = b.tmp("d")
    b.const("STMS", rt_store_multi)
    b.emit(f"{d} = TW.get({addr} >> 12)")
    b.emit(f"if {d} is None or ({addr} & 0xFFF) > {0x1000 - 4 * n}: STMS(ST, {addr}, [{', '.join(values)}])")
    b.emit("else:")
    b.indent += 1
    i = b.tmp("i")
    b.emit(f"{i} = ({addr} + {d}) >> 2")
    for k, v in enumerate(values):
        b.emit(f"M32[{i} + {k}] = {v}" if k else f"M32[{i}] = {v}")
    b.indent -= 1


@handler("ldm_stm")
def ldm_stm(b: Block, a: Args) -> bool:
    regs = [i for i in range(16) if a.reglist >> i & 1]
    n = len(regs)
    if a.rn == PC or n == 0:
        return False
    base = b.reg(a.rn)
    start = {(0, 1): "", (1, 1): " + 4", (0, 0): f" - {4 * n - 4}", (1, 0): f" - {4 * n}"}[(a.p, a.u)]
    addr = b.as_local(f"({base}{start}) & {M}" if start else base)
    wbv = b.as_local(f"({base} {'+' if a.u else '-'} {4 * n}) & {M}") if a.w else ""
    b.const("AFAULT", rt_align_fault)
    b.emit(f"if {addr} & 3: AFAULT({addr}, {0 if a.l else 1})")
    if a.s and not (a.l and PC in regs):
        b.exit_helper("USRBANK", rt_user_bank,
                      f"X, {a.l}, {regs!r}, {addr}, {wbv or -1}, {a.rn}, {b.cur_size}")
        return True
    if a.l:
        vals = load_words(b, addr, n)
        if wbv:
            b.set_reg(a.rn, wbv)
        for r, v in zip(regs, vals):
            if r != PC:
                b.set_reg(r, v)
        if PC in regs:
            if a.s:
                b.exit_helper("ERET", exception_return, f"X, {vals[-1]}")
            else:
                b.exit_interwork(vals[-1])
        return True
    store_words(b, addr, [b.reg(r) if r != PC else str(b.pc_read) for r in regs])
    if wbv:
        b.set_reg(a.rn, wbv)
    return True


_EXCL_SIZES = {0: 4, 1: 8, 2: 1, 3: 2}


@handler("ldrex")
def ldrex(b: Block, a: Args) -> bool:
    size = _EXCL_SIZES[a.sz]
    if a.rt == PC or a.rn == PC or (size == 8 and (a.rt & 1 or a.rt == LR)):
        return False
    b.const("LDREX", rt_ldrex)
    v = b.tmp("v")
    b.emit(f"{v} = LDREX(X, {b.reg(a.rn)}, {size}, {int(b.priv)})")
    if size == 8:
        b.set_reg(a.rt, f"{v} & {M}")
        b.set_reg(a.rt + 1, f"{v} >> 32")
    else:
        b.set_reg(a.rt, v)
    return True


@handler("strex")
def strex(b: Block, a: Args) -> bool:
    size = _EXCL_SIZES[a.sz]
    if PC in (a.rd, a.rt, a.rn) or a.rd in (a.rn, a.rt) or (size == 8 and (a.rt & 1 or a.rt == LR)):
        return False
    value = b.reg(a.rt) if size != 8 else f"{b.reg(a.rt)} | ({b.reg(a.rt + 1)} << 32)"
    b.const("STREX", rt_strex)
    b.set_reg(a.rd, f"STREX(X, {b.reg(a.rn)}, {size}, {value}, {int(b.priv)})")
    return True


@handler("swp")
def swp(b: Block, a: Args) -> bool:
    if PC in (a.rt, a.rt2, a.rn) or a.rn in (a.rt, a.rt2):
        return False
    size = 1 if a.b else 4
    b.const("SWAP", rt_swap)
    b.set_reg(a.rt, f"SWAP(X, {b.reg(a.rn)}, {size}, {b.reg(a.rt2)}, {int(b.priv)})")
    return True
