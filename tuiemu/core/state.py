"""ARMv7-A vCPU architectural state.

Layout chosen for the translator: every value that generated code reads or
writes often lives in one flat list ``R`` so a translated block can pull it
into Python locals at entry and push it back at exit:

    R[0..14]  r0-r14 of the current mode        R[15]  PC of the next instruction
    R[16] NF  bit 31 is N                       R[17] ZF  zero iff Z is set
    R[18] CF  0 or 1                            R[19] VF  bit 31 is V
    R[20] QF  0 or 1 (sticky saturation)        R[21] GE  4 bits
    R[22..53] D0-D31 as 64-bit ints (the bits; S2n and S2n+1 are the low and high halves of Dn,
              Qn is D2n:D2n+1)                  R[54] FPSCR

Integer-only blocks never touch R[22:], so the FP state costs them nothing.

Everything else in CPSR (mode, T, IT, E, A, I, F) sits in ``cpsr_ctl`` and only
changes at block boundaries, so it is never cached in generated code.
"""
from __future__ import annotations

from typing import Dict, List

NF, ZF, CF, VF, QF, GE = 16, 17, 18, 19, 20, 21
D0, FPSCR = 22, 54
NREGS = 55

MODE_USR, MODE_FIQ, MODE_IRQ, MODE_SVC = 0x10, 0x11, 0x12, 0x13
MODE_MON, MODE_ABT, MODE_HYP, MODE_UND, MODE_SYS = 0x16, 0x17, 0x1A, 0x1B, 0x1F
VALID_MODES = (MODE_USR, MODE_FIQ, MODE_IRQ, MODE_SVC, MODE_ABT, MODE_UND, MODE_SYS)
MODE_NAMES = {MODE_USR: "usr", MODE_FIQ: "fiq", MODE_IRQ: "irq", MODE_SVC: "svc", MODE_MON: "mon",
              MODE_ABT: "abt", MODE_HYP: "hyp", MODE_UND: "und", MODE_SYS: "sys"}

PSR_N, PSR_Z, PSR_C, PSR_V, PSR_Q = 1 << 31, 1 << 30, 1 << 29, 1 << 28, 1 << 27
PSR_J, PSR_E, PSR_A, PSR_I, PSR_F, PSR_T = 1 << 24, 1 << 9, 1 << 8, 1 << 7, 1 << 6, 1 << 5
PSR_GE_MASK = 0xF << 16
PSR_IT_MASK = (3 << 25) | (0x3F << 10)
FPEXC_EN = 1 << 30
CPACR_ASEDIS = 1 << 31
FPSCR_VEC_MASK = 0x00370000  # Stride (21:20) and Len (18:16)
FPSCR_MASK = 0xFFF7009F  # the bits this core has: no trap enables (RAZ/WI), no bit 19

# Bits kept in cpsr_ctl (everything but NZCV, Q and GE).
CTL_MASK = 0x07FFFFFF & ~PSR_GE_MASK & ~PSR_Q

# TB flag bits: the state that changes how code decodes or which privilege it runs with.
TBF_THUMB = 1 << 0
TBF_PRIV = 1 << 1
TBF_VFP = 1 << 2  # VFP and Advanced SIMD enabled: CPACR cp10 grants this privilege, FPEXC.EN set
TBF_NEON = 1 << 3  # ... and CPACR.ASEDIS does not disable Advanced SIMD
TBF_FPVEC = 1 << 4  # FPSCR.Len or .Stride non-zero: VFP data processing is UNDEFINED (no short vectors)
TBF_IT_SHIFT = 8  # 8 bits of ITSTATE


def bank_of(mode: int) -> int:
    """Modes that share r13/r14 (usr and sys) share one bank key."""
    return MODE_USR if mode == MODE_SYS else mode


def itstate(cpsr: int) -> int:
    return ((cpsr >> 8) & 0xFC) | ((cpsr >> 25) & 3)


def itstate_bits(it: int) -> int:
    return ((it & 0xFC) << 8) | ((it & 3) << 25)


class CPUState:
    """Registers, banks and CP15 state of one vCPU (no threads, no memory)."""

    __slots__ = (
        "index", "R", "cpsr_ctl", "tb_flags", "bank_sp", "bank_lr", "spsr", "fiq_r8_12", "usr_r8_12",
        "mpidr", "midr", "sctlr", "vbar", "cpacr", "ttbr0", "ttbr1", "ttbcr", "dacr", "dfsr", "dfar",
        "ifsr", "ifar", "par", "contextidr", "tpidrurw", "tpidruro", "tpidrprw", "prrr", "nmrr",
        "actlr", "csselr", "cntkctl", "cntp_ctl", "cntp_cval", "cntv_ctl", "cntv_cval", "cntvoff",
        "excl_addr", "excl_val", "excl_size", "event_reg", "fpexc", "fp_tbf",
    )

    def __init__(self, index: int) -> None:
        self.index = index
        self.mpidr = 0x80000000 | (index & 0xFF) | ((index >> 8) << 8 & 0xFF00)
        self.midr = 0x414FC0F0
        self.R: List[int] = [0] * NREGS
        self.reset(0)

    def reset(self, entry: int, thumb: bool = False) -> None:
        """Reset state as on virt: SVC mode, A/I/F masked, MMU off."""
        self.R[:] = [0] * NREGS  # in place: translated code and run loops hold this list
        self.R[15] = entry & ~1
        self.bank_sp: Dict[int, int] = {m: 0 for m in map(bank_of, VALID_MODES)}
        self.bank_lr: Dict[int, int] = dict(self.bank_sp)
        self.spsr: Dict[int, int] = dict(self.bank_sp)
        self.fiq_r8_12 = [0] * 5
        self.usr_r8_12 = [0] * 5
        self.cpsr_ctl = MODE_SVC | PSR_A | PSR_I | PSR_F | (PSR_T if thumb else 0)
        self.sctlr = 0x00C50078
        self.vbar = self.cpacr = self.ttbr0 = self.ttbr1 = self.ttbcr = self.dacr = 0
        self.dfsr = self.dfar = self.ifsr = self.ifar = self.par = self.contextidr = 0
        self.tpidrurw = self.tpidruro = self.tpidrprw = 0
        self.prrr, self.nmrr, self.actlr, self.csselr = 0x098AA4, 0x44E048E0, 0, 0
        self.cntkctl = self.cntp_ctl = self.cntv_ctl = 0
        self.cntp_cval = self.cntv_cval = self.cntvoff = 0
        self.excl_addr = -1
        self.excl_val = 0
        self.excl_size = 0
        self.event_reg = 0
        self.fpexc = 0
        self.update_fp_access()

    # ---- CPSR -------------------------------------------------------------
    @property
    def mode(self) -> int:
        return self.cpsr_ctl & 0x1F

    @property
    def thumb(self) -> bool:
        return bool(self.cpsr_ctl & PSR_T)

    def get_cpsr(self) -> int:
        R = self.R
        return (self.cpsr_ctl | (R[NF] & PSR_N) | (PSR_Z if R[ZF] == 0 else 0) | (R[CF] << 29)
                | ((R[VF] >> 3) & PSR_V) | (R[QF] << 27) | ((R[GE] & 0xF) << 16))

    def set_cpsr(self, value: int, mask: int = 0xFFFFFFFF) -> None:
        """Write CPSR bits under ``mask``; a mode change switches register banks."""
        value = (self.get_cpsr() & ~mask) | (value & mask)
        R = self.R
        R[NF] = value & PSR_N
        R[ZF] = 0 if value & PSR_Z else 1
        R[CF] = (value >> 29) & 1
        R[VF] = (value << 3) & PSR_N
        R[QF] = (value >> 27) & 1
        R[GE] = (value >> 16) & 0xF
        new_mode = value & 0x1F
        if new_mode not in VALID_MODES:
            new_mode = self.cpsr_ctl & 0x1F  # UNPREDICTABLE; keep the old mode
        self.switch_mode(new_mode)
        self.cpsr_ctl = (value & CTL_MASK & ~0x1F) | new_mode
        self._update_flags()

    def switch_mode(self, new_mode: int) -> None:
        """Bank out r13/r14 (and r8-r12 for FIQ) of the old mode, bank in the new."""
        old = self.cpsr_ctl & 0x1F
        if old == new_mode:
            return
        R = self.R
        ob, nb = bank_of(old), bank_of(new_mode)
        if ob != nb:
            self.bank_sp[ob], self.bank_lr[ob] = R[13], R[14]
            R[13], R[14] = self.bank_sp[nb], self.bank_lr[nb]
        if (old == MODE_FIQ) != (new_mode == MODE_FIQ):
            save, load = (self.fiq_r8_12, self.usr_r8_12) if old == MODE_FIQ else (
                self.usr_r8_12, self.fiq_r8_12)
            save[:] = R[8:13]
            R[8:13] = load
        self.cpsr_ctl = (self.cpsr_ctl & ~0x1F) | new_mode

    def _update_flags(self) -> None:
        c = self.cpsr_ctl
        flags = TBF_THUMB if c & PSR_T else 0
        if (c & 0x1F) != MODE_USR:
            flags |= TBF_PRIV | self.fp_tbf[1]
        else:
            flags |= self.fp_tbf[0]
        self.tb_flags = flags | (itstate(c) << TBF_IT_SHIFT)

    def update_fp_access(self) -> None:
        """Recompute the FP TB flags after CPACR, FPEXC or FPSCR.Len/Stride changed. CPACR.cp10
        decides (cp11 must equal it): 0b01 grants PL1 only, 0b11 every privilege."""
        on = 0
        if self.fpexc & FPEXC_EN:
            on = TBF_VFP | (0 if self.cpacr & CPACR_ASEDIS else TBF_NEON)
            if self.R[FPSCR] & FPSCR_VEC_MASK:
                on |= TBF_FPVEC
        cp10 = (self.cpacr >> 20) & 3
        self.fp_tbf = (on if cp10 == 3 else 0, on if cp10 in (1, 3) else 0)
        self._update_flags()

    def set_itstate(self, it: int) -> None:
        self.cpsr_ctl = (self.cpsr_ctl & ~PSR_IT_MASK) | itstate_bits(it)
        self._update_flags()

    def set_thumb(self, thumb: bool) -> None:
        self.cpsr_ctl = (self.cpsr_ctl | PSR_T) if thumb else (self.cpsr_ctl & ~PSR_T)
        self._update_flags()

    @property
    def current_spsr(self) -> int:
        return self.spsr.get(bank_of(self.mode), 0)

    def has_spsr(self) -> bool:
        return self.mode not in (MODE_USR, MODE_SYS)

    # ---- banked register access for debuggers and MSR (banked) ------------
    def banked_reg(self, mode: int, n: int) -> int:
        """r``n`` as seen from ``mode`` without switching to it."""
        cur = self.mode
        if n == 15 or n < 8:
            return self.R[n]
        if 8 <= n <= 12:
            if (cur == MODE_FIQ) == (mode == MODE_FIQ):
                return self.R[n]
            return (self.fiq_r8_12 if mode == MODE_FIQ else self.usr_r8_12)[n - 8]
        if bank_of(cur) == bank_of(mode):
            return self.R[n]
        return (self.bank_sp if n == 13 else self.bank_lr)[bank_of(mode)]

    def set_banked_reg(self, mode: int, n: int, value: int) -> None:
        cur = self.mode
        value &= 0xFFFFFFFF
        if n == 15 or n < 8:
            self.R[n] = value
        elif 8 <= n <= 12:
            if (cur == MODE_FIQ) == (mode == MODE_FIQ):
                self.R[n] = value
            else:
                (self.fiq_r8_12 if mode == MODE_FIQ else self.usr_r8_12)[n - 8] = value
        elif bank_of(cur) == bank_of(mode):
            self.R[n] = value
        else:
            (self.bank_sp if n == 13 else self.bank_lr)[bank_of(mode)] = value
