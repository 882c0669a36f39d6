"""ARM PrimeCell PL031 real-time clock as on QEMU's virt board (0x09010000, SPI 2).

DR counts seconds of host wall-clock time (UTC), as QEMU's default -rtc does. The deterministic
mode passes a clock derived from guest time instead (``derived_time``): a fixed start plus the
generic timer's ticks, so two runs read the same seconds at the same instruction. A write to LR
sets the count from then on. CR reads 1 (the RTC always runs) and ignores writes. MR, IMSC (one bit),
RIS, MIS and ICR are registers a guest can program and read back; the match interrupt itself is
not raised (nothing here wakes up when the count reaches MR).
"""
from __future__ import annotations

import time
from typing import Callable

from ..core.clock import CNTFRQ, GuestClock

BASE, SIZE, SPI = 0x09010000, 0x1000, 2
DR, MR, LR, CR, IMSC, RIS, MIS, ICR = 0x00, 0x04, 0x08, 0x0C, 0x10, 0x14, 0x18, 0x1C
ID_BYTES = (0x31, 0x10, 0x14, 0x00, 0x0D, 0xF0, 0x05, 0xB1)  # PeriphID0-3, PCellID0-3 at 0xFE0-0xFFC
# Where derived time starts: 2026-01-01T00:00:00Z, a date a guest accepts as plausible.
DERIVED_EPOCH = 1_767_225_600


def derived_time(clock: GuestClock, epoch: int = DERIVED_EPOCH) -> Callable[[], float]:
    """Seconds from guest time: ``epoch`` at reset, then one second per CNTFRQ timer ticks."""
    return lambda: epoch + clock.ticks() / CNTFRQ


class PL031:
    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self.now = now
        self.offset = 0  # DR = host seconds + offset
        self.mr = self.lr = self.imsc = self.ris = 0

    def _count(self) -> int:
        return (int(self.now()) + self.offset) & 0xFFFFFFFF

    def read(self, offset: int, size: int, cpu_index: int) -> int:
        if 0xFE0 <= offset < 0x1000:
            return ID_BYTES[(offset - 0xFE0) >> 2]
        regs = {DR: self._count, MR: lambda: self.mr, LR: lambda: self.lr, CR: lambda: 1,
                IMSC: lambda: self.imsc, RIS: lambda: self.ris, MIS: lambda: self.ris & self.imsc}
        reg = regs.get(offset)
        return reg() if reg is not None else 0

    def write(self, offset: int, size: int, value: int, cpu_index: int) -> None:
        if offset == MR:
            self.mr = value
        elif offset == LR:
            self.lr = value
            self.offset += value - self._count()
        elif offset == IMSC:
            self.imsc = value & 1
        elif offset == ICR:
            self.ris &= ~value
