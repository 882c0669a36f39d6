"""ARM PrimeCell PL011 UART: transmit to the console, receive from a host input queue."""
from __future__ import annotations

import collections
from typing import Callable, Deque, Optional

from .console import Console

DR, RSR, FR, ILPR, IBRD, FBRD, LCR_H, CR, IFLS, IMSC, RIS, MIS, ICR, DMACR = (
    0x00, 0x04, 0x18, 0x20, 0x24, 0x28, 0x2C, 0x30, 0x34, 0x38, 0x3C, 0x40, 0x44, 0x48)
FR_RXFE, FR_TXFF, FR_RXFF, FR_TXFE = 1 << 4, 1 << 5, 1 << 6, 1 << 7
INT_RX, INT_TX, INT_RT = 1 << 4, 1 << 5, 1 << 6
ID_BYTES = (0x11, 0x10, 0x14, 0x00, 0x0D, 0xF0, 0x05, 0xB1)  # PeriphID0-3, PCellID0-3


class PL011:
    def __init__(self, console: Console, irq: Optional[Callable[[bool], None]] = None) -> None:
        self.console = console
        self.irq = irq
        self.rx: Deque[int] = collections.deque()
        self.regs = {IBRD: 0, FBRD: 0, LCR_H: 0, CR: 0x300, IFLS: 0x12, IMSC: 0, DMACR: 0, ILPR: 0}
        self.ris = INT_TX  # the transmit FIFO is always empty

    def feed(self, data: bytes) -> None:
        """Host input (a terminal, the dashboard) arriving on the receive line."""
        self.rx.extend(data)
        self.ris |= INT_RX | INT_RT
        self._update()

    def _update(self) -> None:
        if self.irq is not None:
            self.irq(bool(self.ris & self.regs[IMSC]))

    def read(self, offset: int, size: int, cpu_index: int) -> int:
        if offset == DR:
            if not self.rx:
                return 0
            value = self.rx.popleft()
            if not self.rx:
                self.ris &= ~(INT_RX | INT_RT)
                self._update()
            return value
        if offset == FR:
            return FR_TXFE | (FR_RXFE if not self.rx else 0)
        if offset == RSR:
            return 0
        if offset == RIS:
            return self.ris
        if offset == MIS:
            return self.ris & self.regs[IMSC]
        if 0xFE0 <= offset < 0x1000:
            return ID_BYTES[(offset - 0xFE0) >> 2]
        return self.regs.get(offset, 0)

    def write(self, offset: int, size: int, value: int, cpu_index: int) -> None:
        if offset == DR:
            self.console.write(bytes((value & 0xFF,)))
            self.ris |= INT_TX
            self._update()
        elif offset == ICR:
            self.ris &= ~value | INT_TX
            self._update()
        elif offset in self.regs:
            self.regs[offset] = value
            if offset == IMSC:
                self._update()
