"""virtio-mmio transports as QEMU 7.2's virt board has them: 32 slots of 0x200 bytes from 0x0a000000
(SPIs 16-47).

With no device anywhere, every slot is an empty legacy (version 1) transport, as QEMU's default
is: it answers the magic value, the version and the vendor ID and reads zero everywhere else, device
ID 0 included ("no device"), and ignores writes. Only an access at a register's own offset sees the
register (a byte read of the magic value's first byte reads 0x76, one at offset 2 reads 0).

With a device (a disk), every slot speaks the modern (version 2) layout, as QEMU's do under
``-global virtio-mmio.force-legacy=false``, and devices fill the slots from the last one down (the
first disk answers at 0x0a003e00, where QEMU plugs the first ``virtio-blk-device``). A device's
queues are served on the vCPU thread that writes QueueNotify, under the I/O lock; the interrupt is
raised while InterruptStatus is non-zero.
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Protocol

from ..mmu.address_space import BusError
from .virtqueue import Memory, QueueError, Virtqueue

BASE, SLOT_SIZE, SLOTS, FIRST_SPI = 0x0A000000, 0x200, 32, 16
MAGIC_VALUE, VERSION, DEVICE_ID, VENDOR_ID = 0x000, 0x004, 0x008, 0x00C
DEVICE_FEATURES, DEVICE_FEATURES_SEL, DRIVER_FEATURES, DRIVER_FEATURES_SEL = 0x010, 0x014, 0x020, 0x024
QUEUE_SEL, QUEUE_NUM_MAX, QUEUE_NUM, QUEUE_READY, QUEUE_NOTIFY = 0x030, 0x034, 0x038, 0x044, 0x050
INTERRUPT_STATUS, INTERRUPT_ACK, STATUS = 0x060, 0x064, 0x070
QUEUE_DESC_LOW, QUEUE_DESC_HIGH, QUEUE_DRIVER_LOW, QUEUE_DRIVER_HIGH = 0x080, 0x084, 0x090, 0x094
QUEUE_DEVICE_LOW, QUEUE_DEVICE_HIGH, CONFIG_GENERATION, CONFIG = 0x0A0, 0x0A4, 0x0FC, 0x100

MAGIC = 0x74726976  # "virt"
LEGACY_VERSION, MODERN_VERSION = 1, 2
VENDOR_QEMU = 0x554D4551  # "QEMU"
INT_USED_BUFFER, INT_CONFIG_CHANGE = 1, 2
STATUS_NEEDS_RESET = 0x40
_QUEUE_ADDR = {QUEUE_DESC_LOW: "desc", QUEUE_DRIVER_LOW: "avail", QUEUE_DEVICE_LOW: "used"}


class VirtioDevice(Protocol):
    device_id: int
    features: int
    queues: list

    def config(self) -> bytes: ...
    def notify(self, queue: int, mem: Memory) -> bool: ...
    def reset(self) -> None: ...


class VirtioMMIO:
    """One transport slot, empty (``device`` None) or with a device; ``version`` 1 or 2."""

    def __init__(self, device: Optional[VirtioDevice] = None, version: int = LEGACY_VERSION,
                 mem: Optional[Memory] = None, irq: Callable[[bool], None] = lambda level: None) -> None:
        self.device = device
        self.version = version
        self.mem = mem
        self.irq = irq
        self._reset()

    def _reset(self) -> None:
        self.device_features_sel = self.driver_features_sel = self.queue_sel = 0
        self.driver_features = 0
        self.status = 0
        self.interrupt_status = 0
        if self.device is not None:
            self.device.reset()
        self.irq(False)

    def _queue(self) -> Optional[Virtqueue]:
        if self.device is None or self.queue_sel >= len(self.device.queues):
            return None
        q: Virtqueue = self.device.queues[self.queue_sel]
        return q

    def read(self, offset: int, size: int, cpu_index: int) -> int:
        if offset == MAGIC_VALUE:
            return MAGIC
        if offset == VERSION:
            return self.version
        if offset == VENDOR_ID:
            return VENDOR_QEMU
        dev = self.device
        if dev is None:
            return 0
        if offset >= CONFIG:
            config = dev.config()
            at = offset - CONFIG
            return int.from_bytes(config[at:at + size].ljust(size, b"\0"), "little")
        if offset == DEVICE_ID:
            return dev.device_id
        if offset == DEVICE_FEATURES:
            return (dev.features >> (32 * self.device_features_sel)) & 0xFFFFFFFF if self.device_features_sel < 2 else 0
        q = self._queue()
        if offset == QUEUE_NUM_MAX:
            return q.num_max if q is not None and not q.ready else 0
        if offset == QUEUE_READY:
            return int(q is not None and q.ready)
        if offset == INTERRUPT_STATUS:
            return self.interrupt_status
        if offset == STATUS:
            return self.status
        return 0  # CONFIG_GENERATION (the configuration never changes) and write-only registers

    def write(self, offset: int, size: int, value: int, cpu_index: int) -> None:
        dev = self.device
        if dev is None:
            return  # every register ignores writes while no device is plugged in
        q = self._queue()
        if offset == DEVICE_FEATURES_SEL:
            self.device_features_sel = value
        elif offset == DRIVER_FEATURES_SEL:
            self.driver_features_sel = value
        elif offset == DRIVER_FEATURES and self.driver_features_sel < 2:
            shift = 32 * self.driver_features_sel
            self.driver_features = (self.driver_features & ~(0xFFFFFFFF << shift)) | (value << shift)
        elif offset == QUEUE_SEL:
            self.queue_sel = value
        elif offset == QUEUE_NUM and q is not None and 0 < value <= q.num_max:
            q.num = value
        elif offset == QUEUE_READY and q is not None:
            q.ready = bool(value & 1)
        elif offset in _QUEUE_ADDR and q is not None:
            setattr(q, _QUEUE_ADDR[offset], value)  # the high halves must be 0 in a 32-bit address space
        elif offset == QUEUE_NOTIFY:
            self._notify(value)
        elif offset == INTERRUPT_ACK:
            self.interrupt_status &= ~value
            self.irq(self.interrupt_status != 0)
        elif offset == STATUS:
            if value == 0:
                self._reset()
            else:
                self.status = value

    def _notify(self, queue: int) -> None:
        assert self.device is not None and self.mem is not None
        if self.status & STATUS_NEEDS_RESET:
            return
        try:
            used = self.device.notify(queue, self.mem)
        except (QueueError, BusError):  # a ring or buffer outside RAM, a looping chain
            self.status |= STATUS_NEEDS_RESET
            self._interrupt(INT_CONFIG_CHANGE)
            return
        if used:
            self._interrupt(INT_USED_BUFFER)

    def _interrupt(self, bit: int) -> None:
        self.interrupt_status |= bit
        self.irq(True)


def transports(devices: list, mem: Memory, set_irq: Callable[[int, bool], None]) -> list:
    """The 32 slots, ``devices`` plugged in from the last slot down."""
    version = MODERN_VERSION if devices else LEGACY_VERSION
    slots = []
    for i in range(SLOTS):
        k = SLOTS - 1 - i
        dev: Any = devices[k] if k < len(devices) else None
        slots.append(VirtioMMIO(dev, version, mem, _line(set_irq, 32 + FIRST_SPI + i)))
    return slots


def _line(set_irq: Callable[[int, bool], None], n: int) -> Callable[[bool], None]:
    def drive(level: bool) -> None:
        set_irq(n, level)
    return drive
