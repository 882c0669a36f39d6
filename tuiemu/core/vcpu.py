"""A vCPU: architectural state plus what the engine needs around it.

Translated code calls back into the methods here for everything that changes
the vCPU beyond registers and memory (exceptions, mode changes, system
registers, sleeping). They run with the registers already stored back in
``R`` and R[15] holding the PC of the instruction concerned.
"""
from __future__ import annotations

import collections
import enum
import threading
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Callable, Deque, Dict, Optional, Protocol, Set

from .exceptions import EXC_DABT, EXC_FIQ, EXC_IRQ, EXC_PABT, EXC_SVC, EXC_UND, take_exception
from .runstate import RunState
from .state import MODE_HYP, MODE_MON, MODE_USR, PSR_F, PSR_I, PSR_T, CPUState, bank_of

if TYPE_CHECKING:
    from ..mmu.exclusive import ExclusiveMonitor
    from ..mmu.tlb import SoftTLB


class Platform(Protocol):
    """What the board offers a vCPU (the machine implements it)."""

    def semihost(self, vcpu: VCPU) -> None: ...
    def hvc(self, vcpu: VCPU, imm: int) -> bool: ...
    def sysreg_read(self, vcpu: VCPU, key: tuple) -> Optional[int]: ...
    def sysreg_write(self, vcpu: VCPU, key: tuple, value: int) -> bool: ...
    def unhandled_exception(self, vcpu: VCPU, kind: int, pc: int, detail: str) -> bool: ...
    def event(self, kind: str, vcpu: Optional[VCPU], **info: Any) -> None: ...
    def send_event(self, vcpu: VCPU) -> None: ...
    def debug_stop(self, vcpu: VCPU, reason: Dict[str, Any]) -> None: ...


class Defer(enum.IntEnum):
    """Going to the back of the queue, after the debugger resumed the vCPU that hit a breakpoint
    (or watchpoint): so a person stepping through a contended guest sees every vCPU, not the one
    that is always first to run again. It may hold a lock the others sleep on, so it hands over
    twice: before its next stretch, and after its next SEV or YIELD (releasing that lock)."""

    NONE = 0
    BACK = 1      # before the next stretch, let the others that may run go first; then HANDOVER
    HANDOVER = 2  # the next SEV or YIELD ends the stretch; then AGAIN
    AGAIN = 3     # before the next stretch, let the others go first once more; then NONE


@dataclass
class VCPUCounters:
    """Updated only by the thread running the vCPU; readers copy them (``as_dict``)."""

    insns: int = 0
    tbs: int = 0
    jc_hits: int = 0
    map_hits: int = 0
    translated: int = 0
    exceptions: int = 0
    irqs: int = 0
    fp_traps: int = 0  # Undefined taken because the FPU was off (rt_fp_trap)
    wfi_ns: int = 0
    wfi_count: int = 0
    wfe_count: int = 0

    def as_dict(self) -> Dict[str, int]:
        return asdict(self)


class VCPU:
    """One vCPU. The machine builds its collaborators and hands them over: the soft TLB over
    ``state``, the shared exclusive monitor, and the condition its host thread sleeps on (one
    shared by every vCPU in single-thread mode, where one thread serves them all)."""

    def __init__(self, state: CPUState, platform: Platform, tlb: SoftTLB, exclusive: ExclusiveMonitor,
                 wake: threading.Condition) -> None:
        self.index = state.index
        self.name = f"cpu{state.index}"
        self.state = state
        self.R = state.R
        self.platform = platform
        self.tlb = tlb
        self.fast = tlb.fast          # what translated code receives as F
        self.exclusive = exclusive
        self.wake = wake
        self.jump_cache: Dict[int, Any] = {}  # (flags << 32) | virtual PC -> TB
        # virtual pages the jump cache's entries start on (a superset: the TB cache drops entries
        # without telling), so an invalidation of other pages leaves the cache alone
        self.jump_pages: Set[int] = set()
        self.exit_request = False
        self.extra_insns = 0  # instructions run by self-looping blocks, not yet counted
        self.yielded = False  # executed YIELD: let another thread have the interpreter
        self.defer = Defer.NONE  # set by run control, moved on by the scheduler, SEV and YIELD
        self.run_state = RunState.OFF
        self.irq_line = False
        self.fiq_line = False
        self.work: Deque[Callable[[VCPU], None]] = collections.deque()
        self.counters = VCPUCounters()
        # Run control's: held by a debugger or the dashboard, and why it stopped (see RunControl).
        self.debug_stop = False
        self.stop_reason: Optional[Dict[str, Any]] = None

    # ---- requests from other threads ---------------------------------------
    def kick(self) -> None:
        """Make the vCPU leave translated code at its next block boundary and wake it if asleep."""
        self.exit_request = True
        with self.wake:
            self.wake.notify_all()

    def run_on_cpu(self, fn: Callable[[VCPU], None]) -> None:
        self.work.append(fn)
        self.kick()

    # ---- power -----------------------------------------------------------------
    def power_on(self, entry: int, context: Optional[int] = None) -> None:
        """Reset and start at ``entry`` (bit 0 selects Thumb), r0 = ``context``."""
        s = self.state
        s.reset(entry & ~1, thumb=bool(entry & 1))
        if context is not None:
            s.R[0] = context & 0xFFFFFFFF
        self.flush_translations()
        self.set_run_state(RunState.RUNNING)

    # ---- virtual-address translations (its own thread, or with the world stopped) --------------
    def flush_translations(self) -> int:
        """Forget every virtual-address translation: the soft TLB and the jump cache, whose keys
        are virtual PCs. Returns the TLB entries dropped."""
        self.jump_cache.clear()
        self.jump_pages.clear()
        return self.tlb.flush_all()

    def flush_page_translations(self, va: int) -> int:
        """Forget what translates ``va`` (a whole section if a section did) and, if a jump-cache
        entry may lie on those pages, the jump cache. A block may end on the page after its
        first, hence the page before. Returns the TLB entries dropped."""
        dropped, first, end = self.tlb.flush_page(va)
        if self._jumps_into(first, end):
            self.jump_cache.clear()
            self.jump_pages.clear()
        return dropped

    def _jumps_into(self, first: int, end: int) -> bool:
        """May a jump-cache block lie on pages ``first`` to ``end`` (exclusive)? One that starts on
        the page before may run into them."""
        return not self.jump_pages.isdisjoint(range(first - 1, end))

    def may_hold(self, vpn: int) -> bool:
        """Might this vCPU translate page ``vpn`` without a walk, through its TLB or its jump
        cache? Another vCPU's broadcast invalidation asks, and skips stopping this one when not
        (mmu/tlb.py)."""
        return self.tlb.holds(vpn) or self._jumps_into(vpn, vpn + 1)

    def set_run_state(self, st: RunState) -> None:
        if st != self.run_state:
            self.run_state = st
            self.platform.event("vcpu_state", self, state=st)

    # ---- exceptions ----------------------------------------------------------
    def take(self, kind: int, lr: int) -> None:
        self.counters.exceptions += 1
        pc = self.R[15]
        target = take_exception(self.state, kind, lr)
        self.platform.event("exception", self, exc=kind, pc=pc, vector=target)

    def undefined(self, insn: int) -> None:
        """UDF or an encoding the decoder does not know: the guest's Undefined Instruction exception."""
        pc = self.R[15]
        if self.platform.unhandled_exception(self, EXC_UND, pc,
                                             f"undefined instruction {insn:#010x} at PC {pc:#010x}"):
            return
        self.take(EXC_UND, pc + (2 if self.state.cpsr_ctl & PSR_T else 4))

    def abort(self, kind: int, fsr: int, far: int) -> None:
        s = self.state
        pc = self.R[15]
        if kind == EXC_DABT:
            s.dfsr, s.dfar = fsr, far
            lr = pc + 8
        else:
            s.ifsr, s.ifar = fsr, far
            lr = pc + 4
        what = "data abort" if kind == EXC_DABT else "prefetch abort"
        if self.platform.unhandled_exception(self, kind, pc,
                                             f"{what} at PC {pc:#010x}, address {far:#010x}, FSR {fsr:#x}"):
            return
        self.take(kind, lr)

    def svc(self, imm: int, size: int) -> None:
        s = self.state
        thumb = bool(s.cpsr_ctl & PSR_T)
        if imm == (0xAB if thumb else 0x123456) and s.mode != MODE_USR:
            self.platform.semihost(self)
            self.R[15] = (self.R[15] + size) & 0xFFFFFFFF
            return
        nxt = (self.R[15] + size) & 0xFFFFFFFF
        if self.platform.unhandled_exception(self, EXC_SVC, self.R[15], f"SVC {imm:#x} at PC {self.R[15]:#010x}"):
            return
        self.take(EXC_SVC, nxt)

    def hvc(self, imm: int, size: int) -> None:
        if self.state.mode != MODE_USR and self.platform.hvc(self, imm):
            self.R[15] = (self.R[15] + size) & 0xFFFFFFFF
            return
        self.undefined(0xE1400070 | ((imm >> 4) << 8) | (imm & 0xF))

    def bkpt(self, imm: int) -> None:
        """Without a debugger attached BKPT is a debug-event prefetch abort (IFSR = 2), as in QEMU."""
        self.abort(EXC_PABT, 0x2, self.R[15])

    def debug_break(self) -> None:
        """A breakpoint: stop before the instruction at R[15] (set by run control)."""
        self.platform.debug_stop(self, {"reason": "breakpoint", "pc": self.R[15]})

    def watchpoint_hit(self, hit: Any) -> None:
        """A watchpoint fired before the access; R[15] is the accessing instruction."""
        self.platform.debug_stop(self, {"reason": hit.kind, "addr": hit.addr, "pc": self.R[15]})

    def check_interrupts(self) -> bool:
        """Take a pending unmasked FIQ or IRQ; called at block boundaries. True if one was taken."""
        ctl = self.state.cpsr_ctl
        if self.fiq_line and not ctl & PSR_F:
            self.counters.irqs += 1
            self.take(EXC_FIQ, self.R[15] + 4)
            return True
        if self.irq_line and not ctl & PSR_I:
            self.counters.irqs += 1
            self.take(EXC_IRQ, self.R[15] + 4)
            return True
        return False

    def interrupt_pending(self) -> bool:
        """WFI wakes on a pending interrupt even when CPSR masks it."""
        return self.irq_line or self.fiq_line

    # ---- sleeping and events -------------------------------------------------
    def wfi(self) -> None:
        if not self.interrupt_pending():
            self.counters.wfi_count += 1
            self.set_run_state(RunState.WFI)
        self.exit_request = True

    def wfe(self) -> None:
        s = self.state
        if s.event_reg:
            s.event_reg = 0
            return
        self.counters.wfe_count += 1
        self.set_run_state(RunState.WFE)
        self.exit_request = True

    def sev(self) -> None:
        self.platform.send_event(self)
        self._hand_over()

    def yield_(self) -> None:
        """YIELD: a spin-wait hint; the scheduler switches to another vCPU (or host thread)."""
        self.yielded = True
        self.exit_request = True
        self._hand_over()

    def _hand_over(self) -> None:
        if self.defer is Defer.HANDOVER:
            self.defer = Defer.AGAIN
            self.exit_request = True

    # ---- PSR writes -------------------------------------------------------------
    def write_cpsr(self, value: int, mask: int) -> None:
        """MSR CPSR / CPS: user mode may only change the flags."""
        s = self.state
        if s.mode == MODE_USR:
            mask &= 0xF80F0000
        else:
            mask &= ~(PSR_T | (1 << 24) | 0x0600FC00)  # T, J and IT are not writable by MSR
        s.set_cpsr(value, mask)
        self._recheck_interrupts()

    def _recheck_interrupts(self) -> None:
        """After CPSR changed (possibly unmasking): leave translated code to take a pending interrupt."""
        if self.irq_line or self.fiq_line:
            self.exit_request = True

    def write_spsr(self, value: int, mask: int) -> None:
        s = self.state
        if s.has_spsr():
            b = bank_of(s.mode)
            s.spsr[b] = (s.spsr[b] & ~mask) | (value & mask)

    def exception_return(self, pc: int) -> None:
        """CPSR = SPSR, then branch (SUBS PC, LR / LDM ^ / RFE / ERET)."""
        s = self.state
        spsr = s.current_spsr if s.has_spsr() else s.get_cpsr()
        self.return_to(pc, spsr)

    def return_to(self, pc: int, psr: int) -> None:
        s = self.state
        if (psr & 0x1F) in (MODE_HYP, MODE_MON):
            psr = (psr & ~0x1F) | s.mode
        s.set_cpsr(psr)
        s.excl_addr = -1
        self._recheck_interrupts()
        self.R[15] = (pc & ~1) if psr & PSR_T else (pc & ~3)

    def bx(self, target: int) -> None:
        """BXWritePC: bit 0 selects the instruction set."""
        s = self.state
        if target & 1:
            if not s.cpsr_ctl & PSR_T:
                s.set_thumb(True)
            self.R[15] = target & 0xFFFFFFFE
        else:
            if s.cpsr_ctl & PSR_T:
                s.set_thumb(False)
            self.R[15] = target & 0xFFFFFFFC

    # ---- system registers -----------------------------------------------------
    def mrc(self, key: tuple, rt: int, insn: int) -> None:
        """MRC: rt = system register; rt = 15 sets NZCV from the value's top bits."""
        value = self.platform.sysreg_read(self, key)
        if value is None:
            self.undefined(insn)
            return
        if rt == 15:
            s = self.state
            s.set_cpsr(value & 0xF0000000, 0xF0000000)
        else:
            self.R[rt] = value & 0xFFFFFFFF
        self.R[15] = (self.R[15] + self.insn_size(insn)) & 0xFFFFFFFF

    def mcr(self, key: tuple, value: int, insn: int) -> None:
        if not self.platform.sysreg_write(self, key, value & 0xFFFFFFFF):
            self.undefined(insn)
            return
        self.R[15] = (self.R[15] + self.insn_size(insn)) & 0xFFFFFFFF

    def insn_size(self, insn: int) -> int:
        """Thumb instructions are passed as 16-bit values or 32-bit (hw1 << 16 | hw2)."""
        return 2 if self.state.cpsr_ctl & PSR_T and insn < 0x10000 else 4
