"""QEMU's firmware configuration device (fw_cfg) at 0x09020000, as its virt board maps it.

Three registers, big-endian as on QEMU: a data port at +0 (reads of 1, 2 or 4 bytes return the
selected item's next bytes in order; other offsets abort), a 16-bit selector at +8 (write-only)
and a DMA address at +0x10 (reads return "QEMU CFG"; writing the low word starts a transfer).
The gaps abort like the unmapped bytes between QEMU's three regions.

Items: the signature, the interface ID (traditional and DMA access), a zero UUID, the number of
CPUs, and a file directory with the files whose contents are fixed: bios-geometry, bootorder,
etc/boot-fail-wait and etc/tpm/log. QEMU also lists ACPI and SMBIOS tables (etc/acpi/*,
etc/smbios/*, etc/table-loader) that firmware reads; they are not provided.

A DMA transfer reads a control block {be32 control, be32 length, be64 address} from guest memory,
selects, reads or skips as asked (reads past an item's end give zeros; writes are refused with
the error bit) and writes the control word back: 0, or 1 on error.
"""
from __future__ import annotations

import struct
from typing import Callable, Dict

from ..mmu.address_space import BusError

BASE, SIZE = 0x09020000, 0x18
DATA, SELECTOR, DMA = 0x00, 0x08, 0x10
SIGNATURE, ID, UUID, NB_CPUS, FILE_DIR, FIRST_FILE = 0x00, 0x01, 0x02, 0x05, 0x19, 0x20
WRITE_CHANNEL = 0x4000
DMA_ERROR, DMA_READ, DMA_SKIP, DMA_SELECT, DMA_WRITE = 1, 2, 4, 8, 16
DMA_SIGNATURE = b"QEMU CFG"
FILES = (("bios-geometry", b""), ("bootorder", b""), ("etc/boot-fail-wait", struct.pack("<i", -1)),
         ("etc/tpm/log", b""))


def _items(ncpus: int) -> Dict[int, bytes]:
    items = {SIGNATURE: b"QEMU", ID: struct.pack("<I", 3), UUID: bytes(16), NB_CPUS: struct.pack("<H", ncpus)}
    directory = struct.pack(">I", len(FILES))
    for i, (name, data) in enumerate(FILES):
        items[FIRST_FILE + i] = data
        directory += struct.pack(">IHH56s", len(data), FIRST_FILE + i, 0, name.encode())
    items[FILE_DIR] = directory
    return items


class FwCfg:
    def __init__(self, ncpus: int, read_memory: Callable[[int, int], bytes],
                 write_memory: Callable[[int, bytes], None]) -> None:
        self.items = _items(ncpus)
        self.read_memory = read_memory  # physical memory, for DMA (raises BusError outside RAM and flash)
        self.write_memory = write_memory
        self.key = SIGNATURE
        self.pos = 0
        self.dma_high = 0

    def _select(self, key: int) -> None:
        self.key = key & ~WRITE_CHANNEL
        self.pos = 0

    def _take(self, n: int) -> bytes:
        data = self.items.get(self.key, b"")[self.pos:self.pos + n]
        self.pos += n
        return data + bytes(n - len(data))

    def read(self, offset: int, size: int, cpu_index: int) -> int:
        if offset == DATA:
            return int.from_bytes(self._take(size), "little")
        if DMA <= offset < DMA + 8:
            return int.from_bytes(DMA_SIGNATURE[offset - DMA:offset - DMA + size], "little")
        raise BusError(BASE + offset)

    def write(self, offset: int, size: int, value: int, cpu_index: int) -> None:
        data = value.to_bytes(size, "little")
        if offset == SELECTOR and size == 2:
            self._select(int.from_bytes(data, "big"))
        elif offset == DMA and size == 4:
            self.dma_high = int.from_bytes(data, "big")
        elif offset == DMA + 4 and size == 4:
            self._dma((self.dma_high << 32) | int.from_bytes(data, "big"))
        elif offset != DATA:  # data writes are accepted and ignored (no item is writable)
            raise BusError(BASE + offset)

    def _dma(self, addr: int) -> None:
        try:
            control, length, target = struct.unpack(">IIQ", self.read_memory(addr, 16))
        except BusError:
            return
        if control & DMA_SELECT:
            self._select(control >> 16)
        status = 0
        try:
            if control & DMA_WRITE:
                status = DMA_ERROR
            elif control & DMA_READ:
                self.write_memory(target, self._take(length))
            elif control & DMA_SKIP:
                self.pos += length
        except BusError:
            status = DMA_ERROR
        try:
            self.write_memory(addr, struct.pack(">I", status))
        except BusError:
            pass
