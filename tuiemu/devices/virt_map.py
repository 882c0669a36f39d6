"""The rest of QEMU 7.2's virt memory map (cortex-a15, no -machine options), around the GIC and UART
the Machine wires itself, and the device tree QEMU leaves in flash.

    0x00000000  flash: the device tree blob at 0 (as QEMU places it when the ELF covers RAM's start)
    0x08020000  GICv2m MSI frame, SPIs 80-143              (gicv2m.py)
    0x09010000  PL031 RTC, SPI 2                            (pl031.py)
    0x09020000  fw_cfg                                      (fw_cfg.py)
    0x09030000  PL061 GPIO, SPI 7                           (pl061.py)
    0x0a000000  32 virtio-mmio transports, SPIs 16-47: disks from the last down (virtio_mmio.py)
    0x10000000  PCIe MMIO window, 0x3eff0000 PCIe I/O window: nothing decodes (pcie_windows.py)

Everything else outside RAM aborts, as it does under QEMU: the GICv3 and hypervisor GIC frames,
the secure UART, SMMU, platform bus, secure memory and the low ECAM are not mapped there either.
"""
from __future__ import annotations

import os
import random
from typing import Any, Callable, List, NamedTuple, Sequence

from ..core.clock import GuestClock
from ..mmu.address_space import AddressSpace, MMIORegion
from . import gicv2m, pcie_windows, pl031, pl061, virt_dtb, virtio_mmio
from .fw_cfg import BASE as FW_CFG_BASE
from .fw_cfg import SIZE as FW_CFG_SIZE
from .fw_cfg import FwCfg
from .gicv2m import GICv2m
from .pcie_windows import EmptyWindow
from .pl031 import PL031
from .pl061 import PL061
from .virtio_mmio import VirtioMMIO

FLASH_BASE = 0x00000000


class Peripherals(NamedTuple):
    v2m: GICv2m
    rtc: PL031
    fw_cfg: FwCfg
    gpio: PL061
    virtio: List[VirtioMMIO]


def map_peripherals(space: AddressSpace, gic: Any, ncpus: int, ram_size: int, clock: GuestClock,
                    deterministic: bool, virtio_devices: Sequence[Any] = ()) -> Peripherals:
    """Create the devices, map them into ``space`` and write the device tree into flash. With
    ``deterministic`` the tree's random seeds come from a fixed generator and the RTC counts guest
    time from ``clock`` (single-thread mode's promise of identical runs); otherwise the seeds are
    random, as on every QEMU boot, and the RTC counts host time. The virtio devices
    (disks) are plugged into the transports from the last one down; their DMA goes through
    ``space``."""
    rtc = PL031(pl031.derived_time(clock)) if deterministic else PL031()
    p = Peripherals(v2m=GICv2m(gic.set_irq), rtc=rtc, fw_cfg=FwCfg(ncpus, space.read_bytes, space.write_bytes),
                    gpio=PL061(irq=lambda level: gic.set_irq(pl061.SPI + 32, level)),
                    virtio=virtio_mmio.transports(list(virtio_devices), space, gic.set_irq))
    space.add(MMIORegion("gicv2m", gicv2m.BASE, gicv2m.SIZE, p.v2m))
    space.add(MMIORegion("rtc", pl031.BASE, pl031.SIZE, p.rtc))
    space.add(MMIORegion("fw_cfg", FW_CFG_BASE, FW_CFG_SIZE, p.fw_cfg))
    space.add(MMIORegion("gpio", pl061.BASE, pl061.SIZE, p.gpio))
    for i, transport in enumerate(p.virtio):
        space.add(MMIORegion(f"virtio-mmio.{i}", virtio_mmio.BASE + i * virtio_mmio.SLOT_SIZE,
                             virtio_mmio.SLOT_SIZE, transport))
    window = EmptyWindow()
    space.add(MMIORegion("pcie-mmio", pcie_windows.MMIO_BASE, pcie_windows.MMIO_SIZE, window))
    space.add(MMIORegion("pcie-pio", pcie_windows.PIO_BASE, pcie_windows.PIO_SIZE, window))
    space.write_bytes(FLASH_BASE, virt_dtb.build(ncpus, ram_size, seed_source(deterministic)).blob(), force=True)
    return p


def seed_source(deterministic: bool) -> Callable[[int], bytes]:
    """Where the device tree's random seeds come from: a fixed generator for identical runs."""
    return random.Random(0).randbytes if deterministic else os.urandom
