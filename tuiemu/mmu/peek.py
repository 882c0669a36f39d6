"""Viewer reads: memory as a vCPU sees it, from any thread, with no side effect.

The dashboard reads code and memory while vCPUs run. It must not fill a vCPU's
soft TLB (only the owning vCPU does that) nor touch a device register (a read
can pop a FIFO), so translation walks the vCPU's page tables afresh and only
RAM and flash are read; anything else reads as unavailable.
"""
from __future__ import annotations

from ..core.state import CPUState
from .address_space import AddressSpace
from .pagetable import READ, walk


class _HostMemoryOnly:
    """A table reader that refuses MMIO (BusError) instead of performing the access."""

    def __init__(self, space: AddressSpace) -> None:
        self.space = space

    def read(self, addr: int, size: int, cpu_index: int = -1) -> int:
        return int.from_bytes(self.space.read_bytes(addr, size), "little")


def peek(space: AddressSpace, cpu: CPUState, addr: int, length: int, physical: bool = False) -> bytes:
    """``length`` bytes at ``addr`` (virtual through ``cpu``'s translation at PL1, or physical).
    Raises GuestAbort if a page is not mapped, BusError if it is not RAM or flash."""
    reader = _HostMemoryOnly(space)
    out = bytearray()
    while length > 0:
        n = min(length, 0x1000 - (addr & 0xFFF))
        pa = addr if physical else walk(cpu, reader, addr, READ, True).ppage | (addr & 0xFFF)
        out += space.read_bytes(pa, n)
        addr = (addr + n) & 0xFFFFFFFF
        length -= n
    return bytes(out)
