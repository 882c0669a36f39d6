"""GICv2 (distributor and CPU interfaces) as on QEMU's virt board without Security Extensions.

Every interrupt is in group 0 and signalled as IRQ. IDs 0-15 are SGIs, 16-31
per-CPU PPIs (banked state), 32 and up SPIs. State changes recompute each
CPU's IRQ line and kick a vCPU whose line rose. All entry points take the I/O
lock (recursive: MMIO accesses already hold it).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from ..core.locks import InstrumentedLock

SPURIOUS = 1023
IDLE_PRIORITY = 0x100


class _Irq:
    __slots__ = ("enabled", "pending", "active", "level", "edge", "priority", "targets", "sgi_sources")

    def __init__(self, edge: bool = False) -> None:
        self.enabled = self.pending = self.active = self.level = False
        self.edge = edge
        self.priority = 0
        self.targets = 0
        self.sgi_sources = 0  # SGIs: bit per requesting CPU still pending


class GICv2:
    def __init__(self, vcpus: List[Any], events: Any, io_lock: InstrumentedLock, num_irqs: int = 288) -> None:
        self.vcpus = vcpus
        self.events = events
        self.lock = io_lock
        self.ncpus = len(vcpus)
        self.num_irqs = num_irqs
        self.ctlr = 0
        self.spis = [_Irq() for _ in range(num_irqs - 32)]
        self.private = [[_Irq(edge=i < 16) for i in range(32)] for _ in range(self.ncpus)]
        for c in range(self.ncpus):
            for irq in self.private[c]:
                irq.targets = 1 << c
        self.cpu_ctlr = [0] * self.ncpus
        self.pmr = [0] * self.ncpus
        self.bpr = [0] * self.ncpus
        # per CPU: stack of (id, source, priority) of active (acknowledged, not yet EOI'd) interrupts
        self.active_stack: List[List[tuple]] = [[] for _ in range(self.ncpus)]
        self.distributor = _Distributor(self)
        self.cpu_interface = _CPUInterface(self)

    def irq(self, cpu: int, n: int) -> _Irq:
        return self.private[cpu][n] if n < 32 else self.spis[n - 32]

    # ---- lines from devices ------------------------------------------------
    def set_irq(self, n: int, level: bool, cpu: Optional[int] = None) -> None:
        """Drive SPI ``n`` (or PPI ``n`` of ``cpu``) to ``level``."""
        with self.lock:
            irq = self.irq(cpu if cpu is not None else 0, n)
            if irq.level == level:
                return
            irq.level = level
            if level:
                irq.pending = True
            elif not irq.edge:
                irq.pending = False
            self.update()

    # ---- delivery ---------------------------------------------------------------
    def _running_priority(self, cpu: int) -> int:
        stack = self.active_stack[cpu]
        return min((p for _, _, p in stack), default=IDLE_PRIORITY)

    def _best(self, cpu: int) -> Optional[tuple]:
        """(priority, id, source) of the highest-priority pending interrupt for ``cpu``."""
        best = None
        for n, irq in enumerate(self.private[cpu]):
            if irq.enabled and (irq.pending or irq.sgi_sources) and not irq.active:
                src = (irq.sgi_sources & -irq.sgi_sources).bit_length() - 1 if n < 16 else 0
                cand = (irq.priority, n, max(src, 0))
                if best is None or cand < best:
                    best = cand
        bit = 1 << cpu
        for i, irq in enumerate(self.spis):
            if irq.pending and irq.enabled and not irq.active and irq.targets & bit:
                cand = (irq.priority, i + 32, 0)
                if best is None or cand < best:
                    best = cand
        return best

    def update(self) -> None:
        for cpu, v in enumerate(self.vcpus):
            line = False
            if self.ctlr & 1 and self.cpu_ctlr[cpu] & 1:
                best = self._best(cpu)
                line = best is not None and best[0] < self.pmr[cpu] and best[0] < self._running_priority(cpu)
            if line != v.irq_line:
                v.irq_line = line
                if line:
                    v.kick()

    def acknowledge(self, cpu: int) -> int:
        best = self._best(cpu)
        if (best is None or not self.cpu_ctlr[cpu] & 1 or not self.ctlr & 1 or best[0] >= self.pmr[cpu]
                or best[0] >= self._running_priority(cpu)):
            return SPURIOUS
        prio, n, src = best
        irq = self.irq(cpu, n)
        if n < 16:
            irq.sgi_sources &= ~(1 << src)
            irq.pending = bool(irq.sgi_sources)
        elif irq.edge or not irq.level:
            irq.pending = False
        irq.active = True
        self.active_stack[cpu].append((n, src, prio))
        self.update()
        self.events.emit("irq_ack", cpu, irq=n, source=src)
        return n | (src << 10 if n < 16 else 0)

    def end_of_interrupt(self, cpu: int, value: int) -> None:
        n, src = value & 0x3FF, (value >> 10) & 7
        stack = self.active_stack[cpu]
        for i in range(len(stack) - 1, -1, -1):
            if stack[i][0] == n and (n >= 16 or stack[i][1] == src):
                del stack[i]
                break
        else:
            return
        if n < self.num_irqs:
            irq = self.irq(cpu, n)
            irq.active = False
            if n >= 16 and not irq.edge and irq.level:
                irq.pending = True
        self.update()

    def send_sgi(self, cpu: int, value: int) -> None:
        n = value & 0xF
        mode = (value >> 24) & 3
        if mode == 0:
            targets = (value >> 16) & 0xFF
        elif mode == 1:
            targets = ((1 << self.ncpus) - 1) & ~(1 << cpu)
        elif mode == 2:
            targets = 1 << cpu
        else:
            return
        for t in range(self.ncpus):
            if targets & (1 << t):
                irq = self.private[t][n]
                irq.sgi_sources |= 1 << cpu
                irq.pending = True
        self.events.emit("sgi", cpu, irq=n, targets=targets)
        self.update()

    def snapshot(self) -> Dict[str, Any]:
        return {"enabled": bool(self.ctlr & 1),
                "lines": [v.irq_line for v in self.vcpus],
                "active": [[n for n, _, _ in st] for st in self.active_stack]}


def _bitfield_read(irqs: List[_Irq], attr: str) -> int:
    return sum(1 << i for i, irq in enumerate(irqs) if getattr(irq, attr))


class _Distributor:
    def __init__(self, gic: GICv2) -> None:
        self.gic = gic

    def _irqs(self, cpu: int, first: int, count: int) -> List[_Irq]:
        g = self.gic
        return [g.irq(cpu, n) for n in range(first, min(first + count, g.num_irqs))]

    def read(self, offset: int, size: int, cpu: int) -> int:
        g = self.gic
        with g.lock:
            if offset == 0x000:
                return g.ctlr
            if offset == 0x004:
                return ((g.ncpus - 1) << 5) | (g.num_irqs // 32 - 1)
            if offset == 0x008:
                return 0x0100143B
            if 0x080 <= offset < 0x100:
                return 0  # IGROUPR: everything in group 0
            for base, attr in ((0x100, "enabled"), (0x180, "enabled"), (0x200, "pending"), (0x280, "pending"),
                               (0x300, "active"), (0x380, "active")):
                if base <= offset < base + 0x80:
                    first = (offset - base) * 8
                    irqs = self._irqs(cpu, first, 32)
                    if attr == "pending":
                        return sum(1 << i for i, irq in enumerate(irqs) if irq.pending or irq.sgi_sources)
                    return _bitfield_read(irqs, attr)
            if 0x400 <= offset < 0x800:
                first = offset - 0x400
                return sum(irq.priority << (8 * i) for i, irq in enumerate(self._irqs(cpu, first, size)))
            if 0x800 <= offset < 0xC00:
                first = offset - 0x800
                return sum((irq.targets & 0xFF) << (8 * i) for i, irq in enumerate(self._irqs(cpu, first, size)))
            if 0xC00 <= offset < 0xD00:
                first = (offset - 0xC00) * 4
                return sum((2 if irq.edge else 0) << (2 * i) for i, irq in enumerate(self._irqs(cpu, first, 16)))
            if 0xF10 <= offset < 0xF30:
                first = offset & 0xF
                return sum((g.private[cpu][n].sgi_sources & 0xFF) << (8 * i)
                           for i, n in enumerate(range(first, min(first + size, 16))))
            if offset == 0xFE8:
                return 0x2B  # PIDR2: GICv2
            return 0

    def write(self, offset: int, size: int, value: int, cpu: int) -> None:
        g = self.gic
        with g.lock:
            if offset == 0x000:
                g.ctlr = value & 3
            elif 0x100 <= offset < 0x200:
                set_ = offset < 0x180
                first = ((offset - 0x100) & 0x7F) * 8
                for i, irq in enumerate(self._irqs(cpu, first, 32)):
                    if value >> i & 1:
                        irq.enabled = set_
            elif 0x200 <= offset < 0x300:
                set_ = offset < 0x280
                first = ((offset - 0x200) & 0x7F) * 8
                for i, irq in enumerate(self._irqs(cpu, first, 32)):
                    if value >> i & 1 and first + i >= 16:
                        irq.pending = set_ or (not irq.edge and irq.level)
            elif 0x300 <= offset < 0x400:
                set_ = offset < 0x380
                first = ((offset - 0x300) & 0x7F) * 8
                for i, irq in enumerate(self._irqs(cpu, first, 32)):
                    if value >> i & 1:
                        irq.active = set_
            elif 0x400 <= offset < 0x800:
                for i, irq in enumerate(self._irqs(cpu, offset - 0x400, size)):
                    irq.priority = (value >> (8 * i)) & 0xF8  # 5 priority bits, as QEMU's GIC
            elif 0x800 <= offset < 0xC00:
                first = offset - 0x800
                for i, irq in enumerate(self._irqs(cpu, first, size)):
                    if first + i >= 32:
                        irq.targets = (value >> (8 * i)) & ((1 << g.ncpus) - 1)
            elif 0xC00 <= offset < 0xD00:
                first = (offset - 0xC00) * 4
                for i, irq in enumerate(self._irqs(cpu, first, 16)):
                    if first + i >= 16:
                        irq.edge = bool((value >> (2 * i + 1)) & 1)
            elif offset == 0xF00:
                g.send_sgi(cpu, value)
                return
            elif 0xF10 <= offset < 0xF30:
                first = offset & 0xF
                clear = offset < 0xF20
                for i, n in enumerate(range(first, min(first + size, 16))):
                    bits = (value >> (8 * i)) & 0xFF
                    irq = g.private[cpu][n]
                    irq.sgi_sources = irq.sgi_sources & ~bits if clear else irq.sgi_sources | bits
                    irq.pending = bool(irq.sgi_sources)
            g.update()


class _CPUInterface:
    def __init__(self, gic: GICv2) -> None:
        self.gic = gic

    def read(self, offset: int, size: int, cpu: int) -> int:
        g = self.gic
        with g.lock:
            if offset == 0x00:
                return g.cpu_ctlr[cpu]
            if offset == 0x04:
                return g.pmr[cpu]
            if offset == 0x08:
                return g.bpr[cpu]
            if offset == 0x0C:
                return g.acknowledge(cpu)
            if offset == 0x14:
                return g._running_priority(cpu) & 0xFF
            if offset == 0x18:
                best = g._best(cpu)
                return SPURIOUS if best is None else best[1] | (best[2] << 10 if best[1] < 16 else 0)
            if offset == 0xFC:
                return 0x0202043B
            return 0

    def write(self, offset: int, size: int, value: int, cpu: int) -> None:
        g = self.gic
        with g.lock:
            if offset == 0x00:
                g.cpu_ctlr[cpu] = value & 0x3
            elif offset == 0x04:
                g.pmr[cpu] = value & 0xF8
            elif offset == 0x08:
                g.bpr[cpu] = value & 7
            elif offset == 0x10:
                g.end_of_interrupt(cpu, value)
                return
            g.update()
