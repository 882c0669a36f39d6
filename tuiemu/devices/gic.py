"""GICv2 as on QEMU's virt board (no Security Extensions): interrupt state, delivery, acknowledge, EOI.

IDs 0-15 are SGIs (always enabled, edge), 16-31 per-CPU PPIs (banked state), 32 and up SPIs. Each
interrupt is in group 0 or 1 (IGROUPR); group 0 is signalled as FIQ when GICC_CTLR.FIQEn is set,
everything else as IRQ. Priorities have 8 bits. As in QEMU, acknowledged interrupts set a bit at
(group priority >> 1) in the CPU's APRs (group 0) or NSAPRs (group 1); the running priority is the
highest of those, and a pending interrupt preempts when its priority is higher.

Pending state also follows QEMU: a latch, set for the CPUs the interrupt targets by a rising edge,
by a rising level of an enabled interrupt or by GICD_ISPENDR, plus, for a level-sensitive
interrupt, its input level. An SPI is taken by one CPU (1-N). With a single CPU every interrupt
targets it and GICD_ITARGETSR reads as zero. State changes recompute each CPU's IRQ and FIQ lines
and kick a vCPU whose line rose. All entry points take the I/O lock (recursive: MMIO accesses
already hold it).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from ..core.locks import InstrumentedLock
from .gic_regs import MIN_ABPR, MIN_BPR, CPUInterface, Distributor

SPURIOUS, GROUP1_PENDING = 1023, 1022
IDLE_PRIORITY = 0x100
EN_GRP0, EN_GRP1, ACK_CTL, FIQ_EN, CBPR, EOI_MODE = 1, 2, 4, 8, 16, 1 << 9


class Irq:
    __slots__ = ("enabled", "latch", "level", "edge", "active", "priority", "targets", "group", "sgi_sources")

    def __init__(self, edge: bool = False, enabled: bool = False) -> None:
        self.enabled = enabled
        self.latch = 0  # CPUs it is latched pending for
        self.level = False
        self.edge = edge
        self.active = False
        self.priority = 0
        self.targets = 0  # SPIs: GICD_ITARGETSR as written (private interrupts go to their own CPU)
        self.group = 0
        self.sgi_sources = 0  # SGIs: bit per requesting CPU still pending

    def pending(self, cpus: int) -> bool:
        return bool(self.latch & cpus or self.sgi_sources) or (self.level and not self.edge)


class GICv2:
    def __init__(self, vcpus: List[Any], events: Any, io_lock: InstrumentedLock, num_irqs: int = 288) -> None:
        self.vcpus = vcpus
        self.events = events
        self.lock = io_lock
        self.ncpus = len(vcpus)
        self.num_irqs = num_irqs
        self.ctlr = 0
        self.spis = [Irq() for _ in range(num_irqs - 32)]
        self.private = [[Irq(edge=n < 16, enabled=n < 16) for n in range(32)] for _ in range(self.ncpus)]
        self.cpu_ctlr = [0] * self.ncpus
        self.pmr = [0] * self.ncpus
        self.bpr = [MIN_BPR] * self.ncpus
        self.abpr = [MIN_ABPR] * self.ncpus
        self.apr = [0] * self.ncpus  # 128 active-priority bits, group 0
        self.nsapr = [0] * self.ncpus  # group 1
        self.current = [SPURIOUS] * self.ncpus  # highest-priority pending interrupt (GICC_HPPIR)
        self.distributor = Distributor(self)
        self.cpu_interface = CPUInterface(self)

    def irq(self, cpu: int, n: int) -> Irq:
        return self.private[cpu][n] if n < 32 else self.spis[n - 32]

    def targets(self, cpu: int, n: int) -> int:
        """The CPUs interrupt ``n`` (as seen from ``cpu``) goes to."""
        if n < 32:
            return 1 << cpu
        return 1 if self.ncpus == 1 else self.spis[n - 32].targets

    # ---- lines from devices ------------------------------------------------
    def set_irq(self, n: int, level: bool, cpu: Optional[int] = None) -> None:
        """Drive SPI ``n`` (or PPI ``n`` of ``cpu``) to ``level``."""
        with self.lock:
            c = cpu if cpu is not None else 0
            irq = self.irq(c, n)
            if irq.level == level:
                return
            irq.level = level
            if level and (irq.edge or irq.enabled):
                irq.latch |= self.targets(c, n)
            self.update()

    def set_pending(self, n: int, cpu: int = 0) -> None:
        """Latch interrupt ``n`` pending for its targets (GICD_ISPENDR, a GICv2m MSI)."""
        with self.lock:
            self.irq(cpu, n).latch |= self.targets(cpu, n)
            self.update()

    # ---- priorities ---------------------------------------------------------------
    def running_priority(self, cpu: int) -> int:
        bits = self.apr[cpu] | self.nsapr[cpu]
        return ((bits & -bits).bit_length() - 1) << 1 if bits else IDLE_PRIORITY

    def group_priority(self, cpu: int, irq: Irq) -> int:
        bpr = self.abpr[cpu] - 1 if irq.group and not self.cpu_ctlr[cpu] & CBPR else self.bpr[cpu]
        return irq.priority & (0xFF << (bpr + 1)) & 0xFF

    # ---- delivery ---------------------------------------------------------------
    def _best(self, cpu: int) -> Optional[Tuple[int, int]]:
        """(priority, id) of the highest-priority pending interrupt for ``cpu`` (lowest ID on a tie)."""
        best: Optional[Tuple[int, int]] = None
        bit = 1 << cpu
        for n, irq in enumerate(self.private[cpu]):
            if irq.enabled and not irq.active and irq.pending(bit) and (best is None or irq.priority < best[0]):
                best = (irq.priority, n)
        every = 1 if self.ncpus == 1 else 0
        for i, irq in enumerate(self.spis):
            if (irq.enabled and not irq.active and (irq.targets | every) & bit and irq.pending(bit)
                    and (best is None or irq.priority < best[0])):
                best = (irq.priority, i + 32)
        return best

    def update(self) -> None:
        for cpu, v in enumerate(self.vcpus):
            irq_line = fiq_line = False
            current = SPURIOUS
            ctl = self.cpu_ctlr[cpu]
            if self.ctlr & (EN_GRP0 | EN_GRP1) and ctl & (EN_GRP0 | EN_GRP1):
                best = self._best(cpu)
                if best is not None and best[0] < self.pmr[cpu]:
                    current = best[1]
                    if best[0] < self.running_priority(cpu):
                        group = self.irq(cpu, current).group
                        if self.ctlr >> group & 1 and ctl >> group & 1:
                            fiq_line = group == 0 and bool(ctl & FIQ_EN)
                            irq_line = not fiq_line
            self.current[cpu] = current
            rose = (irq_line and not v.irq_line) or (fiq_line and not v.fiq_line)
            v.irq_line, v.fiq_line = irq_line, fiq_line
            if rose:
                v.kick()

    def highest_pending(self, cpu: int) -> int:
        """GICC_HPPIR: reads as a Secure access does (there are no Security Extensions)."""
        n = self.current[cpu]
        if n != SPURIOUS and self.irq(cpu, n).group and not self.cpu_ctlr[cpu] & ACK_CTL:
            return GROUP1_PENDING
        return n

    def acknowledge(self, cpu: int) -> int:
        n = self.current[cpu]
        if n == SPURIOUS:
            return SPURIOUS
        irq = self.irq(cpu, n)
        if irq.priority >= self.running_priority(cpu):
            return SPURIOUS
        if irq.group and not self.cpu_ctlr[cpu] & ACK_CTL:
            return GROUP1_PENDING
        value = n
        if n < 16:
            src = (irq.sgi_sources & -irq.sgi_sources).bit_length() - 1
            irq.sgi_sources &= ~(1 << src)
            value |= src << 10
        else:
            irq.latch = 0
        irq.active = True
        level_bit = 1 << (self.group_priority(cpu, irq) >> 1)
        if irq.group:
            self.nsapr[cpu] |= level_bit
        else:
            self.apr[cpu] |= level_bit
        self.update()
        self.events.emit("irq_ack", cpu, irq=n, source=value >> 10)
        return value

    def end_of_interrupt(self, cpu: int, value: int) -> None:
        """GICC_EOIR: drop the running priority of the interrupt's group and, unless GICC_CTLR.EOImode
        splits the two, deactivate it."""
        n = value & 0x3FF
        if n >= self.num_irqs or self.running_priority(cpu) == IDLE_PRIORITY:
            return
        irq = self.irq(cpu, n)
        if irq.group:
            self.nsapr[cpu] &= self.nsapr[cpu] - 1  # clear the lowest set bit: the highest priority
        else:
            self.apr[cpu] &= self.apr[cpu] - 1
        if not self.cpu_ctlr[cpu] & EOI_MODE:
            irq.active = False
        self.update()

    def deactivate(self, cpu: int, value: int) -> None:
        """GICC_DIR: only does something when GICC_CTLR.EOImode splits priority drop and deactivation."""
        n = value & 0x3FF
        if n < self.num_irqs and self.cpu_ctlr[cpu] & EOI_MODE:
            self.irq(cpu, n).active = False
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
                self.private[t][n].sgi_sources |= 1 << cpu
        self.events.emit("sgi", cpu, irq=n, targets=targets)
        self.update()

    def snapshot(self) -> Dict[str, Any]:
        return {"enabled": bool(self.ctlr & (EN_GRP0 | EN_GRP1)),
                "lines": [v.irq_line for v in self.vcpus],
                "active": [[n for n in range(self.num_irqs) if self.irq(c, n).active] for c in range(self.ncpus)]}
