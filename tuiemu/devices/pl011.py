"""ARM PrimeCell PL011 UART as a guest sees it on QEMU 7.2's virt board.

Registers are selected by ``offset >> 2`` whatever the access size, as QEMU does: a byte or
halfword store anywhere in the data register prints its low byte, a byte read of FR returns FR.

Receive: host input waits in a host-side backlog and enters the receive FIFO as room appears
(host input arrives, or the guest reads the data register), so nothing is lost. The FIFO holds 16
characters with LCR_H.FEN set, 1 without. It is QEMU's 16-slot ring: reading an empty FIFO returns
the slot at the read position again (a stale character), and toggling FEN empties the FIFO without
updating FR, as QEMU 7.2 does. RSR and the error bits of DR read 0 (host input has no line errors).

Interrupts (RIS, MIS = RIS & IMSC, ICR clears): TX is set by every transmitted character (the
transmit FIFO never fills and FR.BUSY never sets). RX uses QEMU's trigger level of 1 character:
it is set when a character enters the FIFO and cleared when a read empties it. RT, the receive
timeout, is set and cleared with RX: host input carries no line timing, so "no character for 32
bit periods" is taken as already true whenever the FIFO holds data. A driver that enables both,
as Linux's amba-pl011 does, drains the FIFO on either; a guest that enables only RTIM still hears
of trailing input. (QEMU 7.2 never sets RT, so its RIS shows 0x10 where this one shows 0x50.)
As on the hardware, a condition cleared through ICR while data remains is raised again by the
next character that arrives (QEMU only raises RX when the FIFO goes from empty to one character).
"""
from __future__ import annotations

import collections
import threading
from typing import Any, Callable, ContextManager, Deque, List, Optional

from .console import Console

# register index (offset >> 2)
DR, RSR, FR, ILPR, IBRD, FBRD, LCR_H, CR, IFLS, IMSC, RIS, MIS, ICR, DMACR = (
    0, 1, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18)
FR_RXFE, FR_TXFF, FR_RXFF, FR_TXFE = 1 << 4, 1 << 5, 1 << 6, 1 << 7
LCR_FEN = 1 << 4
INT_RX, INT_TX, INT_RT = 1 << 4, 1 << 5, 1 << 6
FIFO_SLOTS = 16
ID_BYTES = (0x11, 0x10, 0x14, 0x00, 0x0D, 0xF0, 0x05, 0xB1)  # PeriphID0-3, PCellID0-3 at 0xFE0-0xFFC
_RESET = {ILPR: 0, IBRD: 0, FBRD: 0, LCR_H: 0, CR: 0x300, IFLS: 0x12, IMSC: 0, DMACR: 0}


class PL011:
    def __init__(self, console: Console, irq: Optional[Callable[[bool], None]] = None,
                 lock: Optional[ContextManager[Any]] = None,
                 on_first_access: Optional[Callable[[], None]] = None) -> None:
        self.console = console
        self.irq = irq
        self.lock: ContextManager[Any] = lock if lock is not None else threading.RLock()
        self.on_first_access = on_first_access  # called once, at the guest's first register access
        self.regs = dict(_RESET)
        self.fifo: List[int] = [0] * FIFO_SLOTS
        self.read_pos = 0
        self.count = 0
        self.flags = FR_TXFE | FR_RXFE
        self.ris = 0
        self.backlog: Deque[int] = collections.deque()

    # ---- host side ------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        """Host input (the terminal, a pipe, the dashboard) arriving on the receive line."""
        with self.lock:
            self.backlog.extend(data)
            self._accept()
            self._update()

    def _capacity(self) -> int:
        return FIFO_SLOTS if self.regs[LCR_H] & LCR_FEN else 1

    def _accept(self) -> None:
        """Move waiting host input into the FIFO while it has room."""
        while self.backlog and self.count < self._capacity():
            self.fifo[(self.read_pos + self.count) % FIFO_SLOTS] = self.backlog.popleft()
            self.count += 1
            self.flags &= ~FR_RXFE
            if self.count == self._capacity():
                self.flags |= FR_RXFF
            self.ris |= INT_RX | INT_RT  # the FIFO holds at least the trigger level (1)

    def _update(self) -> None:
        if self.irq is not None:
            self.irq(bool(self.ris & self.regs[IMSC]))

    def _touch(self) -> None:
        hook, self.on_first_access = self.on_first_access, None
        if hook is not None:
            hook()

    # ---- guest side -----------------------------------------------------------------
    def _read_data(self) -> int:
        self.flags &= ~FR_RXFF
        value = self.fifo[self.read_pos]
        if self.count:
            self.count -= 1
            self.read_pos = (self.read_pos + 1) % FIFO_SLOTS
        if not self.count:
            self.flags |= FR_RXFE
            self.ris &= ~(INT_RX | INT_RT)
        self._accept()
        self._update()
        return value

    def read(self, offset: int, size: int, cpu_index: int) -> int:
        with self.lock:
            self._touch()
            if 0xFE0 <= offset < 0x1000:
                return ID_BYTES[(offset - 0xFE0) >> 2]
            reg = offset >> 2
            if reg == DR:
                return self._read_data()
            if reg == FR:
                return self.flags
            if reg == RIS:
                return self.ris
            if reg == MIS:
                return self.ris & self.regs[IMSC]
            return self.regs.get(reg, 0)  # RSR (no receive errors), ICR (write-only) and gaps read 0

    def write(self, offset: int, size: int, value: int, cpu_index: int) -> None:
        with self.lock:
            self._touch()
            reg = offset >> 2
            if reg == DR:
                self.console.write(bytes((value & 0xFF,)))
                self.ris |= INT_TX
            elif reg == ICR:
                self.ris &= ~value
            elif reg == LCR_H:
                if (self.regs[LCR_H] ^ value) & LCR_FEN:
                    self.read_pos = self.count = 0
                self.regs[LCR_H] = value
            elif reg in _RESET:
                self.regs[reg] = value
            else:
                return  # RSR/ECR (clears errors: there are none), FR, RIS, MIS and gaps ignore writes
            self._update()
