"""The PCIe host bridge's windows on QEMU's virt board, as a 32-bit guest finds them.

QEMU maps the GPEX bridge's 32-bit MMIO window at 0x10000000-0x3efeffff and its I/O port window at
0x3eff0000-0x3effffff. Its ECAM is in high memory (0x4010000000), out of reach without LPAE, so
no guest here can configure a BAR and nothing ever decodes an address in the windows: every read
sees all ones (a master abort) and writes are dropped. The low ECAM slot at 0x3f000000 stays
unmapped and aborts, as under QEMU.
"""
from __future__ import annotations

MMIO_BASE, MMIO_SIZE = 0x10000000, 0x2EFF0000
PIO_BASE, PIO_SIZE = 0x3EFF0000, 0x00010000


class EmptyWindow:
    def read(self, offset: int, size: int, cpu_index: int) -> int:
        return (1 << (8 * size)) - 1

    def write(self, offset: int, size: int, value: int, cpu_index: int) -> None:
        """Nothing decodes the address: the write goes nowhere."""
