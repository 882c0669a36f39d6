"""GICv2 register values and behaviour as on QEMU's virt board: IDs, banked and RAZ registers,
8 priority bits, groups, preemption through the active-priority registers, split EOI, and the
4 KiB / 8 KiB register blocks beyond which the windows abort."""
from __future__ import annotations

from typing import Any, List

import pytest

from tuiemu.core.locks import InstrumentedLock
from tuiemu.devices.gic import GICv2
from tuiemu.machine import GICC_BASE, GICD_BASE, Machine
from tuiemu.mmu.address_space import BusError


class FakeVCPU:
    def __init__(self) -> None:
        self.irq_line = self.fiq_line = False
        self.kicks = 0

    def kick(self) -> None:
        self.kicks += 1


class Events:
    def emit(self, kind: str, cpu: Any, **info: Any) -> None:
        pass


class Gic:
    def __init__(self, ncpus: int = 1) -> None:
        self.vcpus: List[FakeVCPU] = [FakeVCPU() for _ in range(ncpus)]
        self.gic = GICv2(self.vcpus, Events(), InstrumentedLock("io", recursive=True))

    def d(self, offset: int, cpu: int = 0, size: int = 4) -> int:
        return self.gic.distributor.read(offset, size, cpu) & ((1 << (8 * size)) - 1)

    def dw(self, offset: int, value: int, cpu: int = 0, size: int = 4) -> None:
        self.gic.distributor.write(offset, size, value, cpu)

    def c(self, offset: int, cpu: int = 0) -> int:
        return self.gic.cpu_interface.read(offset, 4, cpu)

    def cw(self, offset: int, value: int, cpu: int = 0) -> None:
        self.gic.cpu_interface.write(offset, 4, value, cpu)

    def enable(self, ctlr: int = 1, cpu_ctlr: int = 1) -> None:
        self.dw(0x000, ctlr)
        for cpu in range(len(self.vcpus)):
            self.cw(0x00, cpu_ctlr, cpu)
            self.cw(0x04, 0xFF, cpu)


def test_identification_and_reset_values() -> None:
    g = Gic(2)
    assert g.d(0x004) == 0x28 and g.d(0x008) == 0x0000043B and g.c(0xFC) == 0x0002043B
    assert [g.d(off) for off in range(0xFD0, 0x1000, 4)] == [4, 0, 0, 0, 0x90, 0xB4, 0x2B, 0, 0x0D, 0xF0, 5, 0xB1]
    assert g.d(0xFE8, size=1) == 0x2B
    assert g.d(0x100) == 0xFFFF and g.d(0xC00) == 0xAAAAAAAA and g.d(0xC04) == 0
    assert (g.c(0x04), g.c(0x08), g.c(0x1C), g.c(0x0C), g.c(0x14), g.c(0x18)) == (0, 0, 1, 1023, 0xFF, 1023)


def test_sgis_stay_enabled() -> None:
    g = Gic()
    g.dw(0x180, 0xFFFFFFFF)
    assert g.d(0x100) == 0xFFFF
    g.dw(0x104, 0x80000001)
    assert g.d(0x184) == 0x80000001


def test_targets_are_raz_with_one_cpu_and_the_readers_bit_for_private_interrupts() -> None:
    one = Gic(1)
    one.dw(0x820, 0xFFFFFFFF)
    assert one.d(0x800) == 0 and one.d(0x820) == 0
    two = Gic(2)
    assert [two.d(0x800 + 4 * i, cpu=1) for i in range(8)] == [0x02020202] * 8
    assert two.d(0x81C, cpu=0) == 0x01010101
    two.dw(0x820, 0xFFFFFFFF)
    assert two.d(0x820) == 0xFFFFFFFF  # the byte is kept as written
    two.dw(0x822, 0x02, size=1)
    assert two.d(0x820) == 0xFF02FFFF and two.d(0x822, size=1) == 2


def test_eight_priority_bits_and_pmr() -> None:
    g = Gic()
    g.dw(0x420, 0xFFFFFFFF)
    g.dw(0x421, 0x5A, size=1)
    assert g.d(0x420) == 0xFFFF5AFF and g.d(0x421, size=1) == 0x5A
    g.cw(0x04, 0xFFFFFFFF)
    assert g.c(0x04) == 0xFF
    g.cw(0x08, 0xFFFFFFFF)
    g.cw(0x1C, 0)
    assert g.c(0x08) == 7 and g.c(0x1C) == 1  # ABPR has a minimum of 1


def test_groups_keep_writes_and_control_masks() -> None:
    g = Gic()
    g.dw(0x080, 0xFFFFFFFF)
    g.dw(0x084, 0x0000FFFF)
    assert g.d(0x080) == 0xFFFFFFFF and g.d(0x084) == 0xFFFF and g.d(0x0A4) == 0
    g.dw(0x000, 0xFFFFFFFF)
    g.cw(0x00, 0xFFFFFFFF)
    assert g.d(0x000) == 3 and g.c(0x00) == 0x21F
    g.dw(0xC08, 0xFFFFFFFF)
    assert g.d(0xC08) == 0xAAAAAAAA


def test_preemption_by_priority_with_active_priority_bits() -> None:
    g = Gic()
    g.dw(0x400, 0x80C0A000)  # SGI1 0xa0, SGI3 0x80
    g.enable()
    g.dw(0xF00, (2 << 24) | 3)
    g.dw(0xF00, (2 << 24) | 1)
    assert g.d(0x200) == 0b1010 and g.d(0xF20) == 0x01000100
    assert g.c(0x18) == 3 and g.vcpus[0].irq_line
    assert g.c(0x0C) == 3
    assert g.c(0x14) == 0x80 and g.c(0xD8) == 1  # bit 0x80 >> 1 = 64: APR2 bit 0
    assert g.c(0x18) == 1 and not g.vcpus[0].irq_line  # 0xa0 does not preempt 0x80
    assert g.c(0x0C) == 1023
    g.cw(0x10, 3)
    assert g.c(0x14) == 0xFF and g.vcpus[0].irq_line
    assert g.c(0x0C) == 1 and g.c(0x14) == 0xA0 and g.c(0xD8) == 0x10000
    g.cw(0x10, 1)
    assert g.c(0x14) == 0xFF and g.c(0x0C) == 1023


def test_group1_needs_ackctl_and_group0_can_be_fiq() -> None:
    g = Gic()
    g.dw(0x080, 1 << 2)
    g.dw(0x400, 0x00C00000)
    g.enable(ctlr=3, cpu_ctlr=3)
    g.dw(0xF00, (2 << 24) | 2)
    assert g.c(0x18) == 1022 and g.c(0x0C) == 1022 and g.vcpus[0].irq_line
    g.cw(0x00, 7)
    assert g.c(0x0C) == 2 and g.c(0x14) == 0xC0 and g.c(0xEC) == 1  # NSAPR3: a group 1 priority
    g.cw(0x10, 2)
    assert g.c(0x14) == 0xFF
    g.cw(0x00, 1 | 8)  # group 0 only, FIQEn
    g.dw(0xF00, (2 << 24) | 5)
    assert g.vcpus[0].fiq_line and not g.vcpus[0].irq_line


def test_split_eoi_drops_priority_and_dir_deactivates() -> None:
    g = Gic()
    g.enable(cpu_ctlr=1 | (1 << 9))
    g.dw(0xF00, (2 << 24) | 4)
    assert g.c(0x0C) == 4
    g.cw(0x10, 4)
    assert g.c(0x14) == 0xFF and g.d(0x300) == 1 << 4
    g.gic.cpu_interface.write(0x1000, 4, 4, 0)
    assert g.d(0x300) == 0


def test_level_spi_latches_when_enabled_and_pending_follows_targets() -> None:
    g = Gic(2)
    g.gic.set_irq(40, True)  # disabled: only the level makes it pending
    assert g.d(0x204) == 1 << 8
    g.gic.set_irq(40, False)
    assert g.d(0x204) == 0
    g.dw(0x104, 1 << 8)
    g.gic.set_irq(40, True)  # enabled but targeting no CPU: nothing latched
    g.gic.set_irq(40, False)
    assert g.d(0x204) == 0
    g.dw(0x828, 0x01)
    g.gic.set_irq(40, True)
    g.gic.set_irq(40, False)
    assert g.d(0x204) == 1 << 8  # latched for CPU0, as QEMU does
    g.enable()
    assert g.vcpus[0].irq_line and not g.vcpus[1].irq_line
    assert g.c(0x0C) == 40 and g.d(0x204) == 0


@pytest.mark.parametrize("ncpus", [1, 2])
def test_register_blocks_end_where_qemus_do(ncpus: int) -> None:
    m = Machine(ncpus=ncpus)
    assert m.space.read(GICD_BASE + 0xFFC, 4) == 0xB1
    assert m.space.read(GICC_BASE + 0x1FFC, 4) == 0
    for addr in (GICD_BASE + 0x1000, GICD_BASE + 0xFFFC, GICC_BASE + 0x2000, GICC_BASE + 0xFFFC):
        with pytest.raises(BusError):
            m.space.read(addr, 4)
