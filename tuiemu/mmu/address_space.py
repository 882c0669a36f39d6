"""The physical address space: RAM and flash as host memory, MMIO regions dispatched to devices.

RAM is an anonymous mmap, so pages cost host memory only once touched. Every
MMIO access runs under the I/O lock, one recursive lock for all devices.
"""
from __future__ import annotations

import bisect
import mmap
from typing import Callable, List, Optional, Protocol

from ..core.locks import InstrumentedLock
from .hostviews import views

PAGE_SHIFT = 12
PAGE_SIZE = 1 << PAGE_SHIFT


class Device(Protocol):
    def read(self, offset: int, size: int, cpu_index: int) -> int: ...
    def write(self, offset: int, size: int, value: int, cpu_index: int) -> None: ...


class Region:
    def __init__(self, name: str, base: int, size: int) -> None:
        self.name, self.base, self.size = name, base, size

    @property
    def end(self) -> int:
        return self.base + self.size

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.base:#x}, {self.size:#x})"


class HostMemory(Region):
    """RAM or flash backed by an anonymous mmap (lazily allocated by the host OS)."""

    def __init__(self, name: str, base: int, size: int, readonly: bool = False) -> None:
        super().__init__(name, base, size)
        self.readonly = readonly
        self.mm = mmap.mmap(-1, size)
        self.m8, self.m16, self.m32 = views(self.mm)


class MMIORegion(Region):
    def __init__(self, name: str, base: int, size: int, device: Device) -> None:
        super().__init__(name, base, size)
        self.device = device


class BusError(Exception):
    """An access to an address no region claims."""

    def __init__(self, addr: int) -> None:
        super().__init__(f"no device or memory at physical address {addr:#010x}")
        self.addr = addr


class AddressSpace:
    def __init__(self, ram: HostMemory) -> None:
        self.regions: List[Region] = []
        self._bases: List[int] = []
        self.ram = ram  # the RAM translated code and the soft TLBs' fast paths index directly
        self.io_lock = InstrumentedLock("io", recursive=True)
        # Called with (paddr, size) after any write that did not come from a vCPU store
        # fast path; the TB cache hooks this to invalidate code (DMA, debugger, loader).
        self.on_write: List[Callable[[int, int], None]] = []
        self.add(ram)

    def add(self, region: Region) -> Region:
        for r in self.regions:
            if region.base < r.end and r.base < region.end:
                raise ValueError(f"{region} overlaps {r}")
        i = bisect.bisect(self._bases, region.base)
        self.regions.insert(i, region)
        self._bases.insert(i, region.base)
        return region

    def find(self, addr: int) -> Optional[Region]:
        i = bisect.bisect(self._bases, addr) - 1
        if i >= 0:
            r = self.regions[i]
            if addr < r.end:
                return r
        return None

    # ---- slow-path access by physical address (devices, loader, debugger, TLB misses) ----
    def read(self, addr: int, size: int, cpu_index: int = -1) -> int:
        r = self.find(addr)
        if isinstance(r, HostMemory):
            off = addr - r.base
            if off + size > r.size:
                raise BusError(r.end)
            return int.from_bytes(r.mm[off:off + size], "little")
        if isinstance(r, MMIORegion):
            with self.io_lock:
                return r.device.read(addr - r.base, size, cpu_index) & ((1 << (8 * size)) - 1)
        raise BusError(addr)

    def write(self, addr: int, size: int, value: int, cpu_index: int = -1) -> None:
        r = self.find(addr)
        if isinstance(r, HostMemory):
            if r.readonly:
                return  # writes to flash are ignored, as on virt without a flash command
            off = addr - r.base
            if off + size > r.size:
                raise BusError(r.end)
            r.mm[off:off + size] = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
            return
        if isinstance(r, MMIORegion):
            with self.io_lock:
                r.device.write(addr - r.base, size, value & ((1 << (8 * size)) - 1), cpu_index)
            return
        raise BusError(addr)

    def read_bytes(self, addr: int, length: int) -> bytes:
        """Bulk read of host memory (not MMIO), e.g. for a debugger or semihosting."""
        out = bytearray()
        while length > 0:
            r = self.find(addr)
            if not isinstance(r, HostMemory):
                raise BusError(addr)
            off = addr - r.base
            n = min(length, r.size - off)
            out += r.mm[off:off + n]
            addr += n
            length -= n
        return bytes(out)

    def write_bytes(self, addr: int, data: bytes, force: bool = False) -> None:
        """Bulk write of host memory; ``force`` also writes flash (the loader)."""
        start, total = addr, len(data)
        pos = 0
        while pos < total:
            r = self.find(addr)
            if not isinstance(r, HostMemory):
                raise BusError(addr)
            off = addr - r.base
            n = min(total - pos, r.size - off)
            if not r.readonly or force:
                r.mm[off:off + n] = data[pos:pos + n]
            addr += n
            pos += n
        for hook in self.on_write:
            hook(start, total)

