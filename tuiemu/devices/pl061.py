"""ARM PrimeCell PL061 GPIO as on QEMU's virt board (0x09030000, SPI 7; pin 3 is the power key,
which nothing here presses).

The data register is seen through the address mask (bits 9:2 of the offset select the pins an
access touches); writes change only the masked pins configured as outputs. No pin is driven
from outside, so input pins keep the last value they had. Interrupts follow the register settings:
a level-sensitive pin (IS) latches RIS while it is at the level IEV asks for, an edge-sensitive
one on a change of the right direction (or either, with IBE); IC clears; the line is RIS & IE.
"""
from __future__ import annotations

from typing import Callable, Optional

BASE, SIZE, SPI = 0x09030000, 0x1000, 7
DIR, IS, IBE, IEV, IE, RIS, MIS, IC, AFSEL = 0x400, 0x404, 0x408, 0x40C, 0x410, 0x414, 0x418, 0x41C, 0x420
ID_BYTES = (0x61, 0x10, 0x04, 0x00, 0x0D, 0xF0, 0x05, 0xB1)  # PeriphID0-3, PCellID0-3 at 0xFE0-0xFFC
_PLAIN = (DIR, IS, IBE, IEV, IE, AFSEL)


class PL061:
    def __init__(self, irq: Optional[Callable[[bool], None]] = None) -> None:
        self.irq = irq
        self.data = self.old_data = self.ris = 0
        self.regs = {r: 0 for r in _PLAIN}

    def read(self, offset: int, size: int, cpu_index: int) -> int:
        if offset < 0x400:
            return self.data & (offset >> 2)
        if 0xFE0 <= offset < 0x1000:
            return ID_BYTES[(offset - 0xFE0) >> 2]
        if offset == RIS:
            return self.ris
        if offset == MIS:
            return self.ris & self.regs[IE]
        return self.regs.get(offset, 0)

    def write(self, offset: int, size: int, value: int, cpu_index: int) -> None:
        if offset < 0x400:
            mask = (offset >> 2) & self.regs[DIR]
            self.data = (self.data & ~mask) | (value & mask)
        elif offset in _PLAIN:
            self.regs[offset] = value & 0xFF
        elif offset == IC:
            self.ris &= ~value
        else:
            return
        self._update()

    def _update(self) -> None:
        level, iev = self.regs[IS], self.regs[IEV]
        changed, self.old_data = self.data ^ self.old_data, self.data
        edges = changed & ~level
        self.ris |= edges & (self.regs[IBE] | ~(self.data ^ iev))
        self.ris |= ~(self.data ^ iev) & level & 0xFF
        if self.irq is not None:
            self.irq(bool(self.ris & self.regs[IE]))
