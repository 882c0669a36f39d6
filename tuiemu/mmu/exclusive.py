"""The global exclusive monitor: LDREX/STREX (B, H, word, D) and SWP across host threads.

Each vCPU's local monitor is its (address, size, value) triple in its state.
A STREX succeeds only if that vCPU's monitor holds the address and memory
still holds the value it read; compare and store run under one lock shared by
every STREX and SWP, so two of them never interleave. Plain stores from other
vCPUs do not take the lock: as with QEMU, a store that writes back the value
LDREX saw (ABA) is not detected.
"""
from __future__ import annotations

from typing import Any

from ..core.locks import InstrumentedLock
from .pagetable import FS_ALIGNMENT, READ, WRITE, fault


class ExclusiveMonitor:
    def __init__(self) -> None:
        self.lock = InstrumentedLock("exclusive")

    @staticmethod
    def _read(x: Any, addr: int, size: int, priv: int) -> int:
        if size == 8:
            lo = x.tlb.load(addr, 4, priv)
            return lo | (x.tlb.load((addr + 4) & 0xFFFFFFFF, 4, priv) << 32)
        return x.tlb.load(addr, size, priv)

    @staticmethod
    def _write(x: Any, addr: int, size: int, value: int, priv: int) -> None:
        if size == 8:
            x.tlb.translate((addr + 4) & 0xFFFFFFFF, WRITE, priv)  # fault before the first half lands
            x.tlb.store(addr, 4, value & 0xFFFFFFFF, priv)
            x.tlb.store((addr + 4) & 0xFFFFFFFF, 4, value >> 32, priv)
        else:
            x.tlb.store(addr, size, value, priv)

    def load(self, x: Any, addr: int, size: int, priv: int) -> int:
        if addr & (size - 1):
            raise fault(READ, FS_ALIGNMENT, addr)
        value = self._read(x, addr, size, priv)
        s = x.state
        s.excl_addr, s.excl_size, s.excl_val = addr, size, value
        return value

    def store(self, x: Any, addr: int, size: int, value: int, priv: int) -> int:
        """0 if the store was performed, 1 if not."""
        if addr & (size - 1):
            raise fault(WRITE, FS_ALIGNMENT, addr)
        s = x.state
        ok = s.excl_addr == addr and s.excl_size == size
        s.excl_addr = -1
        if not ok:
            return 1
        with self.lock:
            if self._read(x, addr, size, priv) != s.excl_val:
                return 1
            self._write(x, addr, size, value, priv)
        return 0

    def swap(self, x: Any, addr: int, size: int, value: int, priv: int) -> int:
        if size == 4 and addr & 3:
            raise fault(READ, FS_ALIGNMENT, addr)
        with self.lock:
            old = self._read(x, addr, size, priv)
            self._write(x, addr, size, value, priv)
        return old
