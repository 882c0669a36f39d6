"""Guest exception entry (ARMv7-A without Security or Virtualization Extensions).

Host-side Python exceptions that carry a guest event out of translated code are
defined here too: they unwind a block, which writes its registers back, and the
run loop turns them into a guest exception or a stop.
"""
from __future__ import annotations

from .state import (
    MODE_ABT,
    MODE_FIQ,
    MODE_IRQ,
    MODE_SVC,
    MODE_UND,
    PSR_A,
    PSR_E,
    PSR_F,
    PSR_I,
    PSR_IT_MASK,
    PSR_J,
    PSR_T,
    CPUState,
    bank_of,
)

EXC_UND, EXC_SVC, EXC_PABT, EXC_DABT, EXC_IRQ, EXC_FIQ = 1, 2, 3, 4, 6, 7
EXC_NAMES = {EXC_UND: "undefined", EXC_SVC: "svc", EXC_PABT: "prefetch abort", EXC_DABT: "data abort",
             EXC_IRQ: "irq", EXC_FIQ: "fiq"}
# kind -> (target mode, vector offset, extra CPSR mask bits)
_ENTRY = {
    EXC_UND: (MODE_UND, 0x04, 0),
    EXC_SVC: (MODE_SVC, 0x08, 0),
    EXC_PABT: (MODE_ABT, 0x0C, PSR_A),
    EXC_DABT: (MODE_ABT, 0x10, PSR_A),
    EXC_IRQ: (MODE_IRQ, 0x18, PSR_A),
    EXC_FIQ: (MODE_FIQ, 0x1C, PSR_A | PSR_F),
}


def vector_base(cpu: CPUState) -> int:
    return 0xFFFF0000 if cpu.sctlr & (1 << 13) else cpu.vbar & ~0x1F


def vector_address(cpu: CPUState, kind: int) -> int:
    return (vector_base(cpu) + _ENTRY[kind][1]) & 0xFFFFFFFF


def take_exception(cpu: CPUState, kind: int, lr: int) -> int:
    """Enter the handler of ``kind`` with LR = ``lr``; returns the vector address."""
    mode, offset, mask = _ENTRY[kind]
    old = cpu.get_cpsr()
    cpu.switch_mode(mode)
    cpu.spsr[bank_of(mode)] = old
    cpu.R[14] = lr & 0xFFFFFFFF
    ctl = cpu.cpsr_ctl & ~(PSR_IT_MASK | PSR_J | PSR_T | PSR_E)
    ctl |= PSR_I | mask
    if cpu.sctlr & (1 << 30):
        ctl |= PSR_T
    if cpu.sctlr & (1 << 25):
        ctl |= PSR_E
    cpu.cpsr_ctl = ctl
    cpu._update_flags()
    cpu.excl_addr = -1
    target = (vector_base(cpu) + offset) & 0xFFFFFFFF
    cpu.R[15] = target
    return target


class GuestException(Exception):
    """Raised inside translated code; the block's PC map says which instruction."""


class GuestAbort(GuestException):
    """A data or prefetch abort with its fault status and address."""

    def __init__(self, kind: int, fsr: int, far: int) -> None:
        super().__init__(kind, fsr, far)
        self.kind, self.fsr, self.far = kind, fsr, far


class WatchpointHit(GuestException):
    """A debugger watchpoint fired before the access completed."""

    def __init__(self, addr: int, kind: str) -> None:
        super().__init__(addr, kind)
        self.addr, self.kind = addr, kind

