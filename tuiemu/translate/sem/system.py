"""System instructions: exceptions (UDF, SVC, HVC, BKPT), hints and barriers, PSR access,
CPS, coprocessor moves, SRS/RFE.

Anything that changes mode, masks or system registers with a side effect ends the block
through a helper that runs on the vCPU with all registers stored back; a system register
that is only stored, and maintenance with nothing to do here, is accessed inline.
"""
from __future__ import annotations

from typing import Any

from ...core import cp15
from ...core.state import PSR_GE_MASK, VALID_MODES, bank_of
from ..codegen import Block
from ..decodetree import Args
from ..isa import LR, PC, SP
from .dataproc import expand_imm
from .registry import handler

# PSR field mask bits (c, x, s, f) -> byte masks
_FIELD_BYTES = ((1, 0x000000FF), (2, 0x0000FF00), (4, 0x00FF0000), (8, 0xFF000000))


def field_mask(mask: int) -> int:
    return sum(bits for bit, bits in _FIELD_BYTES if mask & bit)


# ---- runtime helpers (called from translated code with registers stored back) ----
def rt_svc(x: Any, imm: int, size: int) -> None:
    x.svc(imm, size)


def rt_hvc(x: Any, imm: int, size: int) -> None:
    x.hvc(imm, size)


def rt_bkpt(x: Any, imm: int) -> None:
    x.bkpt(imm)


def rt_write_cpsr(x: Any, value: int, mask: int, nxt: int) -> None:
    x.write_cpsr(value, mask)
    x.R[15] = nxt


def rt_write_spsr(x: Any, value: int, mask: int, nxt: int) -> None:
    x.write_spsr(value, mask)
    x.R[15] = nxt


def rt_read_spsr(x: Any) -> int:
    s = x.state
    return s.current_spsr if s.has_spsr() else 0


def rt_cps(x: Any, imod: int, aif: int, change_mode: int, mode: int, nxt: int) -> None:
    s = x.state
    if s.mode != 0x10:
        cpsr = s.get_cpsr()
        mask = 0
        if imod & 2:
            mask |= aif
            cpsr = (cpsr | aif) if imod == 3 else (cpsr & ~aif)
        if change_mode:
            mask |= 0x1F
            cpsr = (cpsr & ~0x1F) | mode
        x.write_cpsr(cpsr, mask)
    x.R[15] = nxt


def rt_wait(x: Any, kind: str, size: int) -> None:
    x.R[15] = (x.R[15] + size) & 0xFFFFFFFF
    getattr(x, kind)()


def rt_mrc(x: Any, key: tuple, rt: int, insn: int) -> None:
    x.mrc(key, rt, insn)


def rt_mcr(x: Any, key: tuple, value: int, insn: int) -> None:
    x.mcr(key, value, insn)


def rt_maintain(x: Any, key: tuple, value: int) -> None:
    """TLB or instruction-cache maintenance from inside a block, which goes on: the operation
    asks for the dispatcher (X.exit_request) when the world must stop before the next
    instruction (a broadcast) or when it dropped translated code (maybe the running block's)."""
    x.platform.sysreg_write(x, key, value)


def rt_mrrc(x: Any, key: tuple, rt: int, rt2: int, insn: int) -> None:
    value = x.platform.sysreg_read(x, key)
    if value is None:
        x.undefined(insn)
        return
    x.R[rt] = value & 0xFFFFFFFF
    x.R[rt2] = (value >> 32) & 0xFFFFFFFF
    x.R[15] = (x.R[15] + x.insn_size(insn)) & 0xFFFFFFFF


def rt_mcrr(x: Any, key: tuple, value: int, insn: int) -> None:
    if not x.platform.sysreg_write(x, key, value):
        x.undefined(insn)
        return
    x.R[15] = (x.R[15] + x.insn_size(insn)) & 0xFFFFFFFF


def rt_srs(x: Any, mode: int, p: int, u: int, w: int, size: int) -> None:
    """Store LR and SPSR of the current mode to the stack of ``mode``."""
    s = x.state
    sp = s.banked_reg(mode, SP)
    base = sp if u else sp - 8
    addr = base + 4 if p == u else base
    priv = 1
    x.tlb.store(addr & 0xFFFFFFFF, 4, x.R[14], priv)
    x.tlb.store((addr + 4) & 0xFFFFFFFF, 4, s.current_spsr if s.has_spsr() else s.get_cpsr(), priv)
    if w:
        s.set_banked_reg(mode, SP, sp + 8 if u else sp - 8)
    x.R[15] = (x.R[15] + size) & 0xFFFFFFFF


def rt_rfe(x: Any, rn: int, p: int, u: int, w: int) -> None:
    base = x.R[rn]
    addr = (base if u else base - 8) + (4 if p == u else 0)
    pc = x.tlb.load(addr & 0xFFFFFFFF, 4, 1)
    psr = x.tlb.load((addr + 4) & 0xFFFFFFFF, 4, 1)
    if w:
        x.R[rn] = (base + 8 if u else base - 8) & 0xFFFFFFFF
    x.return_to(pc, psr)


def rt_eret(x: Any) -> None:
    x.exception_return(x.R[14])


# ---- handlers ----
@handler("undef")
def undef(b: Block, a: Args) -> bool:
    """UDF, and encodings this CPU does not implement (SMC: no Security Extensions)."""
    return False


@handler("svc")
def svc(b: Block, a: Args) -> bool:
    b.exit_helper("SVC", rt_svc, f"X, {a.imm:#x}, {b.cur_size}")
    return True


@handler("hvc")
def hvc(b: Block, a: Args) -> bool:
    b.exit_helper("HVC", rt_hvc, f"X, {a.imm:#x}, {b.cur_size}")
    return True


@handler("bkpt")
def bkpt(b: Block, a: Args) -> bool:
    b.exit_helper("BKPT", rt_bkpt, f"X, {a.imm:#x}")
    return True


@handler("hint_nop")
def hint_nop(b: Block, a: Args) -> bool:
    """PLD, PLI, PLDW and unallocated hints: no architectural effect here."""
    return True


@handler("hint")
def hint(b: Block, a: Args) -> bool:
    kind = {1: "yield_", 2: "wfe", 3: "wfi", 4: "sev"}.get(a.op)
    if kind is None:
        return True
    b.exit_helper("WAIT", rt_wait, f"X, {kind!r}, {b.cur_size}")
    return True


@handler("barrier")
def barrier(b: Block, a: Args) -> bool:
    """DMB/DSB need nothing: guest accesses are performed in order by one host thread each,
    and the interpreter's memory model is sequentially consistent. ISB ends the block so that
    context changes and code modification are seen by the next instruction."""
    if a.kind == "isb":
        b.exit_static(b.next_pc)
    return True


@handler("clrex")
def clrex(b: Block, a: Args) -> bool:
    b.emit("X.state.excl_addr = -1")
    return True


@handler("setend")
def setend(b: Block, a: Args) -> bool:
    return not a.e  # big-endian data is not supported


def _cpsr_expr(b: Block) -> str:
    nf, zf, cf, vf, qf, ge = (b.flag(f) for f in ("nf", "zf", "cf", "vf", "qf", "ge"))
    return (f"(X.state.cpsr_ctl & 0xF8FF03DF) | ({nf} & 0x80000000) | (0 if {zf} else 0x40000000) "
            f"| ({cf} << 29) | (({vf} >> 3) & 0x10000000) | ({qf} << 27) | ({ge} << 16)")


@handler("mrs")
def mrs(b: Block, a: Args) -> bool:
    if a.rd == PC:
        return False
    if a.r:
        b.const("RSPSR", rt_read_spsr)
        b.set_reg(a.rd, "RSPSR(X)")
    else:
        b.set_reg(a.rd, _cpsr_expr(b))
    return True


def _msr(b: Block, a: Args, value: str) -> None:
    mask = field_mask(a.mask)
    if a.r:
        b.exit_helper("WSPSR", rt_write_spsr, f"X, {value}, {mask:#x}, {b.next_pc:#x}")
    elif mask & 0x0000FFFF:
        b.exit_helper("WCPSR", rt_write_cpsr, f"X, {value}, {mask:#x}, {b.next_pc:#x}")
    else:  # flags only: update the flag locals, the block goes on
        v = b.as_local(value)
        if mask & 0xFF000000:
            b.set_flag("nf", f"{v} & 0x80000000")
            b.set_flag("zf", f"({v} & 0x40000000) ^ 0x40000000")
            b.set_flag("cf", f"({v} >> 29) & 1")
            b.set_flag("vf", f"({v} << 3) & 0x80000000")
            b.set_flag("qf", f"({v} >> 27) & 1")
        if mask & PSR_GE_MASK:
            b.set_flag("ge", f"({v} >> 16) & 0xF")


@handler("msr_reg")
def msr_reg(b: Block, a: Args) -> bool:
    if a.rn == PC or a.mask == 0:
        return False
    _msr(b, a, b.reg(a.rn))
    return True


@handler("msr_imm")
def msr_imm(b: Block, a: Args) -> bool:
    value, _ = expand_imm(a.imm8, a.rot)
    _msr(b, a, str(value))
    return True


# Banked-register encodings (SYSm = m:m1): (mode, register) for MRS/MSR (banked).
def banked_target(r: int, m: int, m1: int) -> tuple:
    sysm = (m << 4) | m1
    if r:
        return ({0x0E: 0x11, 0x10: 0x12, 0x12: 0x13, 0x14: 0x17, 0x16: 0x1B, 0x1C: 0x16, 0x1E: 0x1A}
                .get(sysm), "spsr")
    if sysm <= 0x06:
        return (0x10, 8 + sysm)
    if sysm <= 0x0E:
        return (0x11, 8 + sysm - 8)
    table = {0x10: (0x12, LR), 0x11: (0x12, SP), 0x12: (0x13, LR), 0x13: (0x13, SP), 0x14: (0x17, LR),
             0x15: (0x17, SP), 0x16: (0x1B, LR), 0x17: (0x1B, SP)}
    return table.get(sysm, (None, None))


def rt_mrs_banked(x: Any, mode: int, reg: Any, rd: int, nxt: int) -> None:
    s = x.state
    x.R[rd] = s.spsr.get(bank_of(mode), 0) if reg == "spsr" else s.banked_reg(mode, reg)
    x.R[15] = nxt


def rt_msr_banked(x: Any, mode: int, reg: Any, value: int, nxt: int) -> None:
    s = x.state
    if reg == "spsr":
        s.spsr[bank_of(mode)] = value
    else:
        s.set_banked_reg(mode, reg, value)
    x.R[15] = nxt


@handler("mrs_banked")
def mrs_banked(b: Block, a: Args) -> bool:
    mode, reg = banked_target(a.r, a.m, a.m1)
    if mode is None or a.rd == PC:
        return False
    b.exit_helper("MRSB", rt_mrs_banked, f"X, {mode}, {reg!r}, {a.rd}, {b.next_pc:#x}")
    return True


@handler("msr_banked")
def msr_banked(b: Block, a: Args) -> bool:
    mode, reg = banked_target(a.r, a.m, a.m1)
    if mode is None or a.rn == PC:
        return False
    b.exit_helper("MSRB", rt_msr_banked, f"X, {mode}, {reg!r}, {b.reg(a.rn)}, {b.next_pc:#x}")
    return True


@handler("cps")
def cps(b: Block, a: Args) -> bool:
    aif = (a.a << 8) | (a.i << 7) | (a.f << 6)
    b.exit_helper("CPS", rt_cps, f"X, {a.imod}, {aif}, {a.m}, {a.mode}, {b.next_pc:#x}")
    return True


@handler("mcr")
def mcr(b: Block, a: Args) -> bool:
    """A register that is only stored, or maintenance with nothing to do here, is accessed inline
    (the kernel reads TPIDRURO for ``current`` and cleans caches by set/way in long loops); the
    rest ends the block through a helper. The block's privilege is fixed by its TB flags."""
    if a.coproc not in (14, 15):
        return False
    key = (a.coproc, a.opc1, a.crn, a.crm, a.opc2)
    if a.l:
        how = cp15.plain_read(key, b.priv) if a.rt != PC else None
        if how is None:
            b.exit_helper("MRC", rt_mrc, f"X, {key!r}, {a.rt}, {a.insn:#x}")
        elif how[0] == "const":
            b.set_reg(a.rt, str(how[1] & 0xFFFFFFFF))
        else:
            b.set_reg(a.rt, f"X.state.{how[1]}")
        return True
    store = cp15.plain_write(key, b.priv)
    if store is None:
        b.exit_helper("MCR", rt_mcr, f"X, {key!r}, {b.reg(a.rt)}, {a.insn:#x}")
    elif store[0] == "isb":
        b.exit_static(b.next_pc)
    elif store[0] == "call":  # a flush or invalidation page by page, or line by line, loops in one block
        b.const("MAINTAIN", rt_maintain)
        b.emit(f"MAINTAIN(X, {key!r}, {b.reg(a.rt)})")
        b.leave_if("X.exit_request")
    elif store[0] == "attr":  # ("nop",): nothing to emit
        _, attr, wmask = store
        value = b.reg(a.rt)
        if wmask == 0xFFFFFFFF:
            b.emit(f"X.state.{attr} = {value}")
        else:
            b.emit(f"X.state.{attr} = (X.state.{attr} & {~wmask & 0xFFFFFFFF:#x}) | ({value} & {wmask:#x})")
    return True


@handler("mcrr")
def mcrr(b: Block, a: Args) -> bool:
    if a.coproc not in (14, 15) or PC in (a.rt, a.rt2):
        return False
    key = (a.coproc, a.opc1, a.crm)
    if a.l:
        b.exit_helper("MRRC", rt_mrrc, f"X, {key!r}, {a.rt}, {a.rt2}, {a.insn:#x}")
    else:
        b.exit_helper("MCRR", rt_mcrr, f"X, {key!r}, {b.reg(a.rt)} | ({b.reg(a.rt2)} << 32), {a.insn:#x}")
    return True


@handler("srs")
def srs(b: Block, a: Args) -> bool:
    """UNPREDICTABLE from User mode or to a mode that does not exist here (Hyp, Monitor, reserved):
    Undefined, as QEMU makes it."""
    if not b.priv or a.mode not in VALID_MODES:
        return False
    b.exit_helper("SRS", rt_srs, f"X, {a.mode}, {a.p}, {a.u}, {a.w}, {b.cur_size}")
    return True


@handler("rfe")
def rfe(b: Block, a: Args) -> bool:
    if a.rn == PC:
        return False
    b.exit_helper("RFE", rt_rfe, f"X, {a.rn}, {a.p}, {a.u}, {a.w}")
    return True


@handler("eret")
def eret(b: Block, a: Args) -> bool:
    b.exit_helper("ERET", rt_eret, "X")
    return True
