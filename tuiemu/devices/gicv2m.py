"""The GICv2m MSI frame QEMU's virt board puts at 0x08020000: a write of an interrupt ID to
MSI_SETSPI_NS pulses that SPI, for the 64 IDs from 80 that MSI_TYPER announces. Other registers
read 0, except the IIDR, which names QEMU as the product."""
from __future__ import annotations

from typing import Callable

BASE, SIZE = 0x08020000, 0x1000
FIRST_ID, NUM_SPIS = 80, 64
MSI_TYPER, MSI_SETSPI_NS, MSI_IIDR = 0x008, 0x040, 0xFCC
PRODUCT_QEMU = 0x51  # 'Q'


class GICv2m:
    def __init__(self, set_irq: Callable[[int, bool], None]) -> None:
        self.set_irq = set_irq  # drives a GIC interrupt line (ID, level)

    def read(self, offset: int, size: int, cpu_index: int) -> int:
        if offset == MSI_TYPER:
            return (FIRST_ID << 16) | NUM_SPIS
        if offset == MSI_IIDR:
            return PRODUCT_QEMU << 20
        return 0

    def write(self, offset: int, size: int, value: int, cpu_index: int) -> None:
        n = value & 0x3FF
        if offset == MSI_SETSPI_NS and FIRST_ID <= n < FIRST_ID + NUM_SPIS:
            self.set_irq(n, True)
            self.set_irq(n, False)
