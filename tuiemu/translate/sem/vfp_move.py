"""Moves between the extension registers and core registers, FP system registers (VMRS/VMSR),
and extension register loads and stores (VLDR/VSTR/VLDM/VSTM, VPUSH/VPOP being VSTMDB/VLDMIA
on SP) (ARM ARM A7.6, A7.8).

Loads and stores are word accesses that must be word aligned (MemA); as for LDM, every load of
an instruction happens before any register is written.
"""
from __future__ import annotations

from typing import Any, List

from ...core.state import FPEXC_EN, FPSCR, FPSCR_MASK, MODE_USR
from ..codegen import Block, M
from ..decodetree import Args
from ..isa import PC, SP
from . import loadstore as ls
from .fpregs import LO32, dreg, enabled, fpscr, rt_fp_trap, set_dreg, set_sreg, sreg
from .loadstore import rt_align_fault
from .registry import handler

FPSID, MVFR1, MVFR0 = 0x410430F0, 0x11111111, 0x10110222  # QEMU's cortex-a15
FPEXC_MASK = FPEXC_EN
REG_FPSID, REG_FPSCR, REG_MVFR1, REG_MVFR0, REG_FPEXC = 0, 1, 6, 7, 8


def _bad_core_reg(b: Block, rt: int) -> bool:
    """PC is UNPREDICTABLE as a transfer register, and SP too in Thumb."""
    return rt == PC or (b.thumb and rt == SP)


# ---- VMOV between core registers and extension registers ------------------------------------
@handler("vmov_core_s")
def vmov_core_s(b: Block, a: Args) -> bool:
    """VMOV Rt, Sn / VMOV Sn, Rt."""
    if _bad_core_reg(b, a.rt):
        return False
    if not enabled(b, a.insn):
        return True
    if a.to_core:
        b.set_reg(a.rt, sreg(b, a.vn))
    else:
        set_sreg(b, a.vn, b.reg(a.rt))
    return True


@handler("vmov_core_2s")
def vmov_core_2s(b: Block, a: Args) -> bool:
    """VMOV Rt, Rt2, Sm, Sm+1 / VMOV Sm, Sm+1, Rt, Rt2."""
    if _bad_core_reg(b, a.rt) or _bad_core_reg(b, a.rt2) or a.vm == 31 or (a.to_core and a.rt == a.rt2):
        return False
    if not enabled(b, a.insn):
        return True
    if a.to_core:
        lo, hi = b.as_local(sreg(b, a.vm)), b.as_local(sreg(b, a.vm + 1))
        b.set_reg(a.rt, lo)
        b.set_reg(a.rt2, hi)
    else:
        lo, hi = b.reg(a.rt), b.reg(a.rt2)
        set_sreg(b, a.vm, lo)
        set_sreg(b, a.vm + 1, hi)
    return True


@handler("vmov_core_d")
def vmov_core_d(b: Block, a: Args) -> bool:
    """VMOV Rt, Rt2, Dm / VMOV Dm, Rt, Rt2."""
    if _bad_core_reg(b, a.rt) or _bad_core_reg(b, a.rt2) or (a.to_core and a.rt == a.rt2):
        return False
    if not enabled(b, a.insn):
        return True
    if a.to_core:
        d = dreg(b, a.vm)
        lo, hi = b.as_local(f"{d} & {LO32}"), b.as_local(f"{d} >> 32")
        b.set_reg(a.rt, lo)
        b.set_reg(a.rt2, hi)
    else:
        set_dreg(b, a.vm, f"{b.reg(a.rt)} | {b.reg(a.rt2)} << 32")
    return True


def scalar_layout(opc1: int, opc2: int) -> Any:
    """(element size in bits, index) of a VMOV scalar encoding, or None (UNDEFINED)."""
    opc = opc1 << 2 | opc2
    if opc & 0b1000:
        return 8, opc & 7
    if opc & 1:
        return 16, opc >> 1 & 3
    if not opc & 2:
        return 32, opc >> 2 & 1
    return None


@handler("vmov_to_scalar")
def vmov_to_scalar(b: Block, a: Args) -> bool:
    """VMOV Dd[x], Rt: word elements are VFP, bytes and halfwords Advanced SIMD."""
    layout = scalar_layout(a.opc1, a.opc2)
    if layout is None or _bad_core_reg(b, a.rt):
        return False
    size, index = layout
    if not enabled(b, a.insn, simd=size != 32):
        return True
    shift = size * index
    mask = ((1 << size) - 1) << shift
    d = dreg(b, a.vd)
    value = b.reg(a.rt) if size == 32 else f"({b.reg(a.rt)} & {(1 << size) - 1:#x})"
    set_dreg(b, a.vd, f"({d} & {~mask & 0xFFFFFFFFFFFFFFFF:#x}) | {value} << {shift}")
    return True


@handler("vmov_from_scalar")
def vmov_from_scalar(b: Block, a: Args) -> bool:
    """VMOV Rt, Dn[x]: bytes and halfwords sign- or (U) zero-extended."""
    layout = scalar_layout(a.opc1, a.opc2)
    if layout is None or _bad_core_reg(b, a.rt) or (layout[0] == 32 and a.u):
        return False
    size, index = layout
    if not enabled(b, a.insn, simd=size != 32):
        return True
    value = f"{dreg(b, a.vn)} >> {size * index} & {(1 << size) - 1:#x}"
    if size != 32 and not a.u:
        half = 1 << (size - 1)
        value = f"(({value}) ^ {half:#x}) - {half:#x} & {M}"
    b.set_reg(a.rt, value)
    return True


@handler("vdup_core")
def vdup_core(b: Block, a: Args) -> bool:
    """VDUP Dd/Qd, Rt (Advanced SIMD): the low byte, halfword or word of Rt in every element."""
    size = {0b00: 32, 0b01: 16, 0b10: 8}.get(a.b << 1 | a.e)
    if size is None or (a.q and a.vd & 1) or _bad_core_reg(b, a.rt):
        return False
    if not enabled(b, a.insn, simd=True):
        return True
    rep = sum(1 << k for k in range(0, 64, size))  # multiplier repeating one element over 64 bits
    v = b.as_local(f"({b.reg(a.rt)} & {(1 << size) - 1:#x}) * {rep:#x}")
    for r in range(a.vd, a.vd + 1 + a.q):
        set_dreg(b, r, v)
    return True


# ---- VMRS / VMSR ---------------------------------------------------------------------------------
def _denied(x: Any, insn: int) -> bool:
    """FPSID, MVFR0/1 and FPEXC: UNDEFINED at PL0, and an FP trap unless CPACR grants cp10
    (FPEXC.EN does not matter). True if the access took the exception."""
    s = x.state
    if s.cpsr_ctl & 0x1F == MODE_USR:
        x.undefined(insn)
        return True
    if s.cpacr >> 20 & 3 not in (1, 3):
        rt_fp_trap(x, insn)
        return True
    return False


def rt_vmrs_sys(x: Any, reg: int, rt: int, insn: int, size: int) -> None:
    if _denied(x, insn):
        return
    s = x.state
    x.R[rt] = {REG_FPSID: FPSID, REG_MVFR1: MVFR1, REG_MVFR0: MVFR0, REG_FPEXC: s.fpexc}[reg]
    x.R[15] = (x.R[15] + size) & 0xFFFFFFFF


def rt_vmsr_sys(x: Any, reg: int, value: int, insn: int, size: int) -> None:
    """FPEXC: only EN exists (no trapped exceptions); the ID registers ignore writes."""
    if _denied(x, insn):
        return
    s = x.state
    if reg == REG_FPEXC:
        s.fpexc = value & FPEXC_MASK
        s.update_fp_access()
    x.R[15] = (x.R[15] + size) & 0xFFFFFFFF


def rt_vmsr_fpscr(x: Any, value: int, nxt: int) -> None:
    """A new FPSCR may change Len/Stride, which the TB flags carry."""
    s = x.state
    s.R[FPSCR] = value & FPSCR_MASK
    s.update_fp_access()
    x.R[15] = nxt


@handler("vmrs")
def vmrs(b: Block, a: Args) -> bool:
    """VMRS Rt, <reg>; Rt = 15 with FPSCR is VMRS APSR_nzcv, FPSCR."""
    reg, rt = a.reg, a.rt
    if reg == REG_FPSCR:
        if b.thumb and rt == SP:
            return False
        if not enabled(b, a.insn):
            return True
        f = fpscr(b)
        if rt == PC:
            b.set_flag("nf", f"{f} & 0x80000000")
            b.set_flag("zf", f"({f} & 0x40000000) ^ 0x40000000")
            b.set_flag("cf", f"({f} >> 29) & 1")
            b.set_flag("vf", f"({f} << 3) & 0x80000000")
        else:
            b.set_reg(rt, f)
        return True
    if reg not in (REG_FPSID, REG_MVFR1, REG_MVFR0, REG_FPEXC) or _bad_core_reg(b, rt):
        return False
    b.exit_helper("VMRS", rt_vmrs_sys, f"X, {reg}, {rt}, {a.insn:#x}, {b.cur_size}")
    return True


@handler("vmsr")
def vmsr(b: Block, a: Args) -> bool:
    reg, rt = a.reg, a.rt
    if _bad_core_reg(b, rt):
        return False
    if reg == REG_FPSCR:
        if not enabled(b, a.insn):
            return True
        b.exit_helper("VMSR", rt_vmsr_fpscr, f"X, {b.reg(rt)}, {b.next_pc:#x}")
        return True
    if reg not in (REG_FPSID, REG_MVFR1, REG_MVFR0, REG_FPEXC):
        return False
    b.exit_helper("VMSR", rt_vmsr_sys, f"X, {reg}, {b.reg(rt)}, {a.insn:#x}, {b.cur_size}")
    return True


# ---- loads and stores ----------------------------------------------------------------------------
def load_words(b: Block, addr: str, n: int) -> List[str]:
    """``n`` aligned words from ``addr`` into temporaries (one TLB lookup when on one page)."""
    b.const("AFAULT", rt_align_fault)
    b.emit(f"if {addr} & 3: AFAULT({addr}, 0)")
    if n > 2:
        return ls.load_words(b, addr, n)
    out = [b.load(4, addr)]
    if n == 2:
        out.append(b.load(4, b.as_local(f"({addr} + 4) & {M}")))
    return out


def store_words(b: Block, addr: str, values: List[str]) -> None:
    b.const("AFAULT", rt_align_fault)
    b.emit(f"if {addr} & 3: AFAULT({addr}, 1)")
    if len(values) > 2:
        ls.store_words(b, addr, values)
        return
    b.store(4, addr, values[0])
    if len(values) == 2:
        b.store(4, b.as_local(f"({addr} + 4) & {M}"), values[1])


def _reg_words(b: Block, dp: int, first: int, count: int) -> List[str]:
    """The words of ``count`` consecutive registers, lowest address first."""
    out = []
    for r in range(first, first + count):
        if dp:
            d = dreg(b, r)
            out += [b.as_local(f"{d} & {LO32}"), b.as_local(f"{d} >> 32")]
        else:
            out.append(sreg(b, r))
    return out


def _set_from_words(b: Block, dp: int, first: int, words: List[str]) -> None:
    if dp:
        for i in range(0, len(words), 2):
            set_dreg(b, first + i // 2, f"{words[i]} | {words[i + 1]} << 32")
    else:
        for i, w in enumerate(words):
            set_sreg(b, first + i, w)


@handler("vldr_vstr")
def vldr_vstr(b: Block, a: Args) -> bool:
    """VLDR/VSTR: [Rn, #+/-imm8*4]; a literal (PC-relative) VLDR reads the block's own page at
    translation time when it can."""
    if a.rn == PC and (not a.l and b.thumb):
        return False
    if not enabled(b, a.insn):
        return True
    base = str(b.pc_read & ~3) if a.rn == PC else b.reg(a.rn)
    off = a.imm * 4
    addr = b.as_local(f"({base} {'+' if a.u else '-'} {off}) & {M}" if off else base)
    nwords = 2 if a.dp else 1
    if a.l:
        _set_from_words(b, a.dp, a.vd, load_words(b, addr, nwords))
    else:
        store_words(b, addr, _reg_words(b, a.dp, a.vd, 1))
    return True


@handler("vldm_vstm")
def vldm_vstm(b: Block, a: Args) -> bool:
    """VLDM/VSTM IA (optionally with writeback) and DB with writeback; VPUSH/VPOP. An odd imm8 for
    doubles is FLDMX/FSTMX: one word more in the address range, not transferred."""
    p, u, w = a.p, a.u, a.w
    if p == u or (p and not w):  # P=U: other encodings; P=1 W=0 is VLDR/VSTR, matched before this
        return False
    imm = a.imm
    count = imm // 2 if a.dp else imm
    if (count == 0 or a.vd + count > 32 or (a.dp and count > 16)
            or (a.rn == PC and (w or b.thumb))):
        return False
    if not enabled(b, a.insn):
        return True
    base = str(b.pc_read & ~3) if a.rn == PC else b.reg(a.rn)
    addr = b.as_local(base if u else f"({base} - {imm * 4}) & {M}")
    wb = b.as_local(f"({base} {'+' if u else '-'} {imm * 4}) & {M}") if w else ""
    nwords = count * 2 if a.dp else count
    if a.l:
        words = load_words(b, addr, nwords)
        if wb:
            b.set_reg(a.rn, wb)
        _set_from_words(b, a.dp, a.vd, words)
    else:
        store_words(b, addr, _reg_words(b, a.dp, a.vd, count))
        if wb:
            b.set_reg(a.rn, wb)
    return True
