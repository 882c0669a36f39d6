"""The GICv2 register blocks: the 4 KiB distributor and the 8 KiB CPU interface, with QEMU's values.

Any access size works as it does on QEMU: a read returns the bytes of the containing word, a write
changes only the bytes it covers (registers with a field per interrupt take each byte on its own).
GICD_SGIR acts on word writes only.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List

if TYPE_CHECKING:
    from .gic import GICv2, Irq

DIST_SIZE, CPU_SIZE = 0x1000, 0x2000
GICD_IIDR, GICC_IIDR = 0x0000043B, 0x0002043B
GICC_CTLR_MASK = 0x21F  # EnableGrp0/1, AckCtl, FIQEn, CBPR, EOImode
MIN_BPR, MIN_ABPR = 0, 1
# PIDR4, PIDR0-3, CIDR0-3 (the PIDRs name an ARM GICv2)
DIST_IDS: Dict[int, int] = {0xFD0: 0x04, 0xFE0: 0x90, 0xFE4: 0xB4, 0xFE8: 0x2B,
                            0xFF0: 0x0D, 0xFF4: 0xF0, 0xFF8: 0x05, 0xFFC: 0xB1}
_BIT_REGS = {0x080: "group", 0x100: "enable", 0x180: "enable", 0x200: "pending", 0x280: "pending",
             0x300: "active", 0x380: "active"}


def _bit_reg(offset: int) -> int:
    """The base of the one-bit-per-interrupt register bank holding word ``offset`` (0 if none)."""
    base = offset & ~0x7F
    return base if 0x080 <= base < 0x400 else 0


class Distributor:
    def __init__(self, gic: GICv2) -> None:
        self.gic = gic

    def _irqs(self, cpu: int, first: int, count: int) -> List[Irq]:
        g = self.gic
        return [g.irq(cpu, n) for n in range(first, min(first + count, g.num_irqs))]

    def read(self, offset: int, size: int, cpu: int) -> int:
        with self.gic.lock:
            return self._word(offset & ~3, cpu) >> (8 * (offset & 3))

    def _word(self, offset: int, cpu: int) -> int:
        g = self.gic
        if offset == 0x000:
            return g.ctlr
        if offset == 0x004:
            return ((g.ncpus - 1) << 5) | (g.num_irqs // 32 - 1)
        if offset == 0x008:
            return GICD_IIDR
        base = _bit_reg(offset)
        if base:
            first = (offset - base) * 8
            irqs = self._irqs(cpu, first, 32)
            attr = _BIT_REGS[base]
            if attr == "pending":
                return sum(1 << i for i, irq in enumerate(irqs)
                           if irq.pending(1 << cpu if first + i < 32 else 0xFF))
            return sum(1 << i for i, irq in enumerate(irqs) if self._bit(irq, attr))
        if 0x400 <= offset < 0x800:
            return self._bytes([irq.priority for irq in self._irqs(cpu, offset - 0x400, 4)])
        if 0x800 <= offset < 0xC00:
            first = offset - 0x800
            if g.ncpus == 1:
                return 0
            return self._bytes([1 << cpu if first + i < 32 else irq.targets
                                for i, irq in enumerate(self._irqs(cpu, first, 4))])
        if 0xC00 <= offset < 0xD00:
            first = (offset - 0xC00) * 4
            return sum((2 if irq.edge else 0) << (2 * i) for i, irq in enumerate(self._irqs(cpu, first, 16)))
        if 0xF10 <= offset < 0xF30:
            first = offset & 0xF
            return self._bytes([g.private[cpu][n].sgi_sources for n in range(first, first + 4)])
        return DIST_IDS.get(offset, 0)

    @staticmethod
    def _bit(irq: Irq, attr: str) -> bool:
        return bool(irq.group if attr == "group" else irq.enabled if attr == "enable" else irq.active)

    @staticmethod
    def _bytes(values: List[int]) -> int:
        return sum((v & 0xFF) << (8 * i) for i, v in enumerate(values))

    def write(self, offset: int, size: int, value: int, cpu: int) -> None:
        g = self.gic
        with g.lock:
            if offset == 0xF00 and size == 4:
                g.send_sgi(cpu, value)
                return
            if 0x400 <= offset < 0xC00 or 0xF10 <= offset < 0xF30:
                for i in range(size):
                    self._write_byte(offset + i, (value >> (8 * i)) & 0xFF, cpu)
            else:
                shift = 8 * (offset & 3)
                self._write_word(offset & ~3, value << shift, ((1 << (8 * size)) - 1) << shift, cpu)
            g.update()

    def _write_byte(self, offset: int, value: int, cpu: int) -> None:
        g = self.gic
        if offset < 0x800:
            n = offset - 0x400
            if n < g.num_irqs:
                g.irq(cpu, n).priority = value
        elif offset < 0xC00:
            n = offset - 0x800
            if 32 <= n < g.num_irqs and g.ncpus > 1:
                g.spis[n - 32].targets = value
        else:
            irq = g.private[cpu][offset & 0xF]
            irq.sgi_sources = irq.sgi_sources & ~value if offset < 0xF20 else irq.sgi_sources | value

    def _write_word(self, offset: int, value: int, mask: int, cpu: int) -> None:
        g = self.gic
        if offset == 0x000:
            g.ctlr = (g.ctlr & ~mask | value & mask) & 3
            return
        base = _bit_reg(offset)
        if base:
            first = (offset - base) * 8
            setting = base in (0x100, 0x200, 0x300)
            for i, irq in enumerate(self._irqs(cpu, first, 32)):
                if mask >> i & 1:
                    self._write_bit(irq, base, first + i, cpu, bool(value >> i & 1), setting)
        elif 0xC00 <= offset < 0xD00:
            first = (offset - 0xC00) * 4
            for i, irq in enumerate(self._irqs(cpu, first, 16)):
                if first + i >= 16 and mask >> (2 * i + 1) & 1:
                    irq.edge = bool(value >> (2 * i + 1) & 1)

    def _write_bit(self, irq: Irq, base: int, n: int, cpu: int, bit: bool, setting: bool) -> None:
        if base == 0x080:
            irq.group = int(bit)
        elif not bit:
            return  # a zero in a set or clear register changes nothing
        elif base in (0x100, 0x180):
            if n >= 16:  # SGIs are always enabled
                if setting and not irq.enabled and irq.level and not irq.edge:
                    irq.latch |= self.gic.targets(cpu, n)
                irq.enabled = setting
        elif base in (0x200, 0x280):
            if n >= 16:
                irq.latch = irq.latch | self.gic.targets(cpu, n) if setting else 0
        else:
            irq.active = setting


class CPUInterface:
    def __init__(self, gic: GICv2) -> None:
        self.gic = gic

    def read(self, offset: int, size: int, cpu: int) -> int:
        with self.gic.lock:
            return self._word(offset & ~3, cpu) >> (8 * (offset & 3))

    def _word(self, offset: int, cpu: int) -> int:
        g = self.gic
        if offset == 0x00:
            return g.cpu_ctlr[cpu]
        if offset == 0x04:
            return g.pmr[cpu]
        if offset == 0x08:
            return g.bpr[cpu]
        if offset == 0x0C:
            return g.acknowledge(cpu)
        if offset == 0x14:
            return min(g.running_priority(cpu), 0xFF)
        if offset == 0x18:
            return g.highest_pending(cpu)
        if offset == 0x1C:
            return g.abpr[cpu]
        if 0xD0 <= offset < 0xF0:
            bits = g.apr[cpu] if offset < 0xE0 else g.nsapr[cpu]
            return (bits >> (32 * ((offset >> 2) & 3))) & 0xFFFFFFFF
        if offset == 0xFC:
            return GICC_IIDR
        return 0  # includes the aliased (non-secure) registers: there are no Security Extensions

    def write(self, offset: int, size: int, value: int, cpu: int) -> None:
        g = self.gic
        with g.lock:
            if offset == 0x00:
                g.cpu_ctlr[cpu] = value & GICC_CTLR_MASK
            elif offset == 0x04:
                g.pmr[cpu] = value & 0xFF
            elif offset == 0x08:
                g.bpr[cpu] = max(value & 7, MIN_BPR)
            elif offset == 0x10:
                g.end_of_interrupt(cpu, value)
                return
            elif offset == 0x1C:
                g.abpr[cpu] = max(value & 7, MIN_ABPR)
            elif 0xD0 <= offset < 0xF0:
                shift = 32 * ((offset >> 2) & 3)
                regs = g.apr if offset < 0xE0 else g.nsapr
                regs[cpu] = regs[cpu] & ~(0xFFFFFFFF << shift) | (value & 0xFFFFFFFF) << shift
            elif offset == 0x1000:
                g.deactivate(cpu, value)
                return
            g.update()
