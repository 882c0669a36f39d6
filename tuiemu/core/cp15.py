"""CP15 (and the little of CP14 software touches) as a table of system registers.

Keys are (coproc, opc1, CRn, CRm, opc2) for MRC/MCR and (coproc, opc1, CRm)
for the 64-bit MRRC/MCRR. Plain registers are state attributes; operations
with side effects (cache and TLB maintenance, the generic timer) go to the
``SysregHooks`` the machine wires up (callables of the parts that own them).
Values follow QEMU's cortex-a15 on virt (no Security or Virtualization
Extensions visible).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, NamedTuple, Optional, Tuple

from .state import MODE_USR, CPUState


@dataclass(frozen=True)
class SysregHooks:
    """Side effects of system register accesses, each taking the accessing vCPU first."""

    tlb_maintenance: Callable[[Any, str, int], None]      # TLBI* (mmu.maintenance)
    cache_maintenance: Callable[[Any, str, int], None]    # IC*/BP*/DC* (mmu.maintenance)
    translate_address: Callable[[Any, str, int], int]     # ATS1C* -> PAR value (mmu.maintenance)
    timer_read: Callable[[Any, str], Optional[int]]       # generic timer (devices.generic_timer)
    timer_write: Callable[[Any, str, int], bool]
    pending_interrupts: Callable[[Any], int]              # ISR: bit 7 IRQ, bit 6 FIQ
    context_changed: Callable[[Any], None]                # MMU enable or translation regime changed


class Reg(NamedTuple):
    name: str
    attr: Optional[str] = None       # CPUState attribute holding it
    const: Optional[int] = None      # read-only constant
    user: str = ""                   # "r", "rw" or "" (PL1 only)
    writable: bool = True
    wmask: int = 0xFFFFFFFF
    op: Optional[str] = None         # a maintenance or timer operation


ID_REGS: Dict[Tuple[int, int, int], int] = {
    (0, 0, 1): 0x8444C004,  # CTR
    (0, 0, 2): 0, (0, 0, 3): 0, (0, 0, 6): 0,
    (0, 1, 0): 0x00001131,  # ID_PFR0
    (0, 1, 1): 0x00010001,  # ID_PFR1: generic timer, no Security/Virtualization
    (0, 1, 2): 0x02010555, (0, 1, 3): 0,
    (0, 1, 4): 0x10201105, (0, 1, 5): 0x20000000, (0, 1, 6): 0x01240000, (0, 1, 7): 0x02102211,
    (0, 2, 0): 0x02101110, (0, 2, 1): 0x13112111, (0, 2, 2): 0x21232041, (0, 2, 3): 0x11112131,
    (0, 2, 4): 0x10011142, (0, 2, 5): 0,
}

_TABLE: Dict[tuple, Reg] = {
    (15, 0, 0, 0, 0): Reg("MIDR", attr="midr", writable=False),
    (15, 0, 0, 0, 5): Reg("MPIDR", attr="mpidr", writable=False),
    (15, 1, 0, 0, 1): Reg("CLIDR", const=0x0A200023),
    (15, 1, 0, 0, 7): Reg("AIDR", const=0),
    (15, 2, 0, 0, 0): Reg("CSSELR", attr="csselr", wmask=0xF),
    (15, 0, 1, 0, 0): Reg("SCTLR", attr="sctlr"),
    (15, 0, 1, 0, 1): Reg("ACTLR", attr="actlr"),
    # cp10/cp11 access, D32DIS and ASEDIS (the bits QEMU's cortex-a15 keeps)
    (15, 0, 1, 0, 2): Reg("CPACR", attr="cpacr", wmask=0xC0F00000, op="fp_access"),
    (15, 0, 2, 0, 0): Reg("TTBR0", attr="ttbr0", op="context"),
    (15, 0, 2, 0, 1): Reg("TTBR1", attr="ttbr1", op="context"),
    (15, 0, 2, 0, 2): Reg("TTBCR", attr="ttbcr", wmask=0x37, op="context"),
    (15, 0, 3, 0, 0): Reg("DACR", attr="dacr", op="context"),
    (15, 0, 5, 0, 0): Reg("DFSR", attr="dfsr"),
    (15, 0, 5, 0, 1): Reg("IFSR", attr="ifsr"),
    (15, 0, 5, 1, 0): Reg("ADFSR", const=0, writable=True),
    (15, 0, 5, 1, 1): Reg("AIFSR", const=0, writable=True),
    (15, 0, 6, 0, 0): Reg("DFAR", attr="dfar"),
    (15, 0, 6, 0, 2): Reg("IFAR", attr="ifar"),
    (15, 0, 7, 4, 0): Reg("PAR", attr="par"),
    (15, 0, 10, 2, 0): Reg("PRRR", attr="prrr"),
    (15, 0, 10, 2, 1): Reg("NMRR", attr="nmrr"),
    (15, 0, 10, 3, 0): Reg("AMAIR0", const=0, writable=True),
    (15, 0, 10, 3, 1): Reg("AMAIR1", const=0, writable=True),
    (15, 0, 12, 0, 0): Reg("VBAR", attr="vbar", wmask=0xFFFFFFE0),
    (15, 0, 12, 1, 0): Reg("ISR", op="isr", writable=False),
    (15, 0, 13, 0, 1): Reg("CONTEXTIDR", attr="contextidr", op="context"),
    (15, 0, 13, 0, 2): Reg("TPIDRURW", attr="tpidrurw", user="rw"),
    (15, 0, 13, 0, 3): Reg("TPIDRURO", attr="tpidruro", user="r"),
    (15, 0, 13, 0, 4): Reg("TPIDRPRW", attr="tpidrprw"),
    (15, 0, 14, 0, 0): Reg("CNTFRQ", op="timer", user="r"),
    (15, 0, 14, 1, 0): Reg("CNTKCTL", attr="cntkctl", wmask=0x3FF),
    (15, 0, 14, 2, 0): Reg("CNTP_TVAL", op="timer", user="rw"),
    (15, 0, 14, 2, 1): Reg("CNTP_CTL", op="timer", user="rw"),
    (15, 0, 14, 3, 0): Reg("CNTV_TVAL", op="timer", user="rw"),
    (15, 0, 14, 3, 1): Reg("CNTV_CTL", op="timer", user="rw"),
    (15, 4, 15, 0, 0): Reg("CBAR", const=0x08000000, writable=False),
    # 64-bit registers (MRRC/MCRR)
    (15, 0, 14): Reg("CNTPCT", op="timer", user="r", writable=False),
    (15, 1, 14): Reg("CNTVCT", op="timer", user="r", writable=False),
    (15, 2, 14): Reg("CNTP_CVAL", op="timer", user="rw"),
    (15, 3, 14): Reg("CNTV_CVAL", op="timer", user="rw"),
}

# Write-only maintenance operations: key -> (kind, op name)
_MAINT: Dict[tuple, Tuple[str, str]] = {
    (15, 0, 7, 1, 0): ("cache", "ICIALLUIS"), (15, 0, 7, 1, 6): ("cache", "BPIALLIS"),
    (15, 0, 7, 5, 0): ("cache", "ICIALLU"), (15, 0, 7, 5, 1): ("cache", "ICIMVAU"),
    (15, 0, 7, 5, 6): ("cache", "BPIALL"), (15, 0, 7, 5, 7): ("cache", "BPIMVA"),
    (15, 0, 7, 6, 1): ("cache", "DCIMVAC"), (15, 0, 7, 6, 2): ("cache", "DCISW"),
    (15, 0, 7, 10, 1): ("cache", "DCCMVAC"), (15, 0, 7, 10, 2): ("cache", "DCCSW"),
    (15, 0, 7, 11, 1): ("cache", "DCCMVAU"), (15, 0, 7, 14, 1): ("cache", "DCCIMVAC"),
    (15, 0, 7, 14, 2): ("cache", "DCCISW"),
    (15, 0, 7, 5, 4): ("barrier", "CP15ISB"), (15, 0, 7, 10, 4): ("barrier", "CP15DSB"),
    (15, 0, 7, 10, 5): ("barrier", "CP15DMB"),
    (15, 0, 7, 8, 0): ("ats", "ATS1CPR"), (15, 0, 7, 8, 1): ("ats", "ATS1CPW"),
    (15, 0, 7, 8, 2): ("ats", "ATS1CUR"), (15, 0, 7, 8, 3): ("ats", "ATS1CUW"),
    (15, 0, 8, 3, 0): ("tlb", "TLBIALLIS"), (15, 0, 8, 3, 1): ("tlb", "TLBIMVAIS"),
    (15, 0, 8, 3, 2): ("tlb", "TLBIASIDIS"), (15, 0, 8, 3, 3): ("tlb", "TLBIMVAAIS"),
    (15, 0, 8, 7, 0): ("tlb", "TLBIALL"), (15, 0, 8, 7, 1): ("tlb", "TLBIMVA"),
    (15, 0, 8, 7, 2): ("tlb", "TLBIASID"), (15, 0, 8, 7, 3): ("tlb", "TLBIMVAA"),
    (15, 0, 8, 5, 0): ("tlb", "TLBIALL"), (15, 0, 8, 5, 1): ("tlb", "TLBIMVA"),
    (15, 0, 8, 5, 2): ("tlb", "TLBIASID"), (15, 0, 8, 6, 0): ("tlb", "TLBIALL"),
    (15, 0, 8, 6, 1): ("tlb", "TLBIMVA"), (15, 0, 8, 6, 2): ("tlb", "TLBIASID"),
}

_USER_BARRIERS = {"CP15ISB", "CP15DSB", "CP15DMB"}


def _ccsidr(s: CPUState) -> int:
    level, ind = (s.csselr >> 1) & 7, s.csselr & 1
    if level == 0:
        return 0x701FE00A if not ind else 0x201FE00A  # 32 KiB L1 D and I, 64-byte lines
    if level == 1 and not ind:
        return 0x711FE07A  # 2 MiB L2
    return 0


def _allowed(reg_user: str, priv: bool, write: bool) -> bool:
    return priv or (reg_user == "rw" or (reg_user == "r" and not write))


# Maintenance that has nothing to do in an emulator without caches or branch predictors: data
# cache operations (guest memory is always coherent) and branch predictor invalidation.
_NO_EFFECT = {"DCIMVAC", "DCISW", "DCCMVAC", "DCCSW", "DCCMVAU", "DCCIMVAC", "DCCISW",
              "BPIALLIS", "BPIALL", "BPIMVA", "CP15DSB", "CP15DMB"}


def _id_reg(key: tuple) -> Optional[int]:
    """The value of an ID register (CRn = 0, opc1 = 0, other than MIDR), else None."""
    if len(key) == 5 and key[:3] == (15, 0, 0) and (key[3], key[4]) != (0, 0):
        return ID_REGS.get((0, key[3], key[4]))
    return None


def _maint_allowed(op: str, priv: bool) -> bool:
    return priv or op in _USER_BARRIERS


def plain_read(key: tuple, priv: bool) -> Optional[Tuple[str, Any]]:
    """How translated code may read a register itself, with no helper and no end of block:
    ("const", value) or ("attr", CPUState attribute); None when ``read`` must run (side
    effects, a value computed from other state, or UNDEFINED at this privilege)."""
    ident = _id_reg(key)
    if ident is not None:
        return ("const", ident) if priv else None
    if key == (15, 1, 0, 0, 0) or key[0] == 14:
        return None
    reg = _TABLE.get(key)
    if reg is None or not _allowed(reg.user, priv, False) or reg.op is not None:
        return None
    if reg.attr is not None:
        return ("attr", reg.attr)
    return ("const", reg.const) if reg.const is not None else None


def plain_write(key: tuple, priv: bool) -> Optional[Tuple[Any, ...]]:
    """How translated code may perform a write itself: ("nop",) for maintenance with no effect
    here, ("isb",) for CP15ISB (the next instruction starts a block, as after ISB), ("call",)
    for TLB and instruction cache maintenance (``write`` changes no register: the block goes on
    unless the operation asked for the dispatcher), ("attr", attribute, write
    mask) for a register that is only stored; None when ``write`` must run and end the block
    (other side effects, or UNDEFINED at this privilege)."""
    maint = _MAINT.get(key)
    if maint is not None:
        kind, op = maint
        if op == "CP15ISB":
            return ("isb",)
        if kind in ("tlb", "cache") and op not in _NO_EFFECT and _maint_allowed(op, priv):
            return ("call",)
        return ("nop",) if op in _NO_EFFECT and _maint_allowed(op, priv) else None
    if key[0] == 14:
        return None
    reg = _TABLE.get(key)
    if (reg is None or not reg.writable or not _allowed(reg.user, priv, True) or reg.op is not None
            or reg.attr is None or reg.attr == "sctlr"):
        return None
    return ("attr", reg.attr, reg.wmask)


def read(s: CPUState, key: tuple, hooks: SysregHooks, vcpu: Any) -> Optional[int]:
    """The value of a register, or None when the access is UNDEFINED."""
    priv = (s.cpsr_ctl & 0x1F) != MODE_USR
    ident = _id_reg(key)
    if ident is not None:
        return ident if priv else None
    if key == (15, 1, 0, 0, 0):
        return _ccsidr(s) if priv else None
    if key[0] == 14:  # debug registers: DBGDIDR and friends read as zero at PL1
        return 0 if priv else None
    reg = _TABLE.get(key)
    if reg is None or not _allowed(reg.user, priv, False):
        return None
    if reg.attr is not None:
        return getattr(s, reg.attr)
    if reg.const is not None:
        return reg.const
    if reg.op == "timer":
        return hooks.timer_read(vcpu, reg.name)  # None where CNTKCTL denies PL0
    if reg.op == "isr":
        return hooks.pending_interrupts(vcpu)
    return None


def write(s: CPUState, key: tuple, value: int, hooks: SysregHooks, vcpu: Any) -> bool:
    """Perform the write; False when the access is UNDEFINED."""
    priv = (s.cpsr_ctl & 0x1F) != MODE_USR
    maint = _MAINT.get(key)
    if maint is not None:
        kind, op = maint
        if not _maint_allowed(op, priv):
            return False
        if kind == "cache":
            hooks.cache_maintenance(vcpu, op, value)
        elif kind == "tlb":
            hooks.tlb_maintenance(vcpu, op, value)
        elif kind == "ats":
            s.par = hooks.translate_address(vcpu, op, value)
        return True
    if key[0] == 14:
        return priv
    reg = _TABLE.get(key)
    if reg is None or not reg.writable or not _allowed(reg.user, priv, True):
        return False
    if reg.op == "timer":
        return hooks.timer_write(vcpu, reg.name, value)
    if reg.attr is not None:
        old = getattr(s, reg.attr)
        setattr(s, reg.attr, (old & ~reg.wmask) | (value & reg.wmask))
        if reg.attr == "sctlr" and (old ^ value) & 1 or reg.op == "context":
            hooks.context_changed(vcpu)
        elif reg.op == "fp_access":
            s.update_fp_access()
    return True

