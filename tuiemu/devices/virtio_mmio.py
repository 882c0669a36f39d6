"""virtio-mmio transports as QEMU 7.2's virt board has them: 32 slots of 0x200 bytes from 0x0a000000
(SPIs 16-47), in the legacy (version 1) register layout QEMU uses by default.

No device is plugged into any of them. An empty transport answers the magic value, the version and
the vendor ID and reads zero everywhere else, device ID 0 included ("no device"), and ignores
writes; a guest's virtio probe sees the transports and passes them by, as under QEMU. Only an
access at a register's own offset sees the register (a byte read of the magic value's first byte
reads 0x76, one at offset 2 reads 0). A device would answer DEVICE_ID and the registers from
HOST_FEATURES on, and the configuration space from CONFIG.
"""
from __future__ import annotations

from typing import Dict

BASE, SLOT_SIZE, SLOTS, FIRST_SPI = 0x0A000000, 0x200, 32, 16
MAGIC_VALUE, VERSION, DEVICE_ID, VENDOR_ID = 0x000, 0x004, 0x008, 0x00C
# the rest of the legacy layout
HOST_FEATURES, HOST_FEATURES_SEL, GUEST_FEATURES, GUEST_FEATURES_SEL = 0x010, 0x014, 0x020, 0x024
GUEST_PAGE_SIZE = 0x028
QUEUE_SEL, QUEUE_NUM_MAX, QUEUE_NUM, QUEUE_ALIGN, QUEUE_PFN, QUEUE_NOTIFY = 0x030, 0x034, 0x038, 0x03C, 0x040, 0x050
INTERRUPT_STATUS, INTERRUPT_ACK, STATUS, CONFIG = 0x060, 0x064, 0x070, 0x100

MAGIC = 0x74726976  # "virt"
LEGACY_VERSION = 1
VENDOR_QEMU = 0x554D4551  # "QEMU"


class VirtioMMIO:
    """One transport slot, with nothing plugged in."""

    device_id = 0

    def __init__(self) -> None:
        self._regs: Dict[int, int] = {MAGIC_VALUE: MAGIC, VERSION: LEGACY_VERSION,
                                      DEVICE_ID: self.device_id, VENDOR_ID: VENDOR_QEMU}

    def read(self, offset: int, size: int, cpu_index: int) -> int:
        return self._regs.get(offset, 0)

    def write(self, offset: int, size: int, value: int, cpu_index: int) -> None:
        """Every register ignores writes while no device is plugged in."""
