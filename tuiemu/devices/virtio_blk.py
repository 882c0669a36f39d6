"""virtio-blk (virtio 1.x, 5.2) backed by a host file, one request queue, served synchronously.

A request is a chain: a 16-byte header (type, reserved, sector) the device reads, data buffers,
and a status byte the device writes. Reads fill the guest's buffers through the virtqueue's DMA path;
writes go to the file at once with ``os.pwrite`` (nothing is cached here, so nothing is lost on
power-off) and FLUSH makes them durable. A read-only image (``readonly=on``) is offered with
VIRTIO_BLK_F_RO and refuses writes with an I/O error, as QEMU does.
"""
from __future__ import annotations

import os
import struct
from typing import List, Optional

from .virtqueue import Buffer, Memory, Virtqueue

DEVICE_ID = 2
SECTOR = 512
F_SEG_MAX, F_RO, F_FLUSH, F_VERSION_1 = 1 << 2, 1 << 5, 1 << 9, 1 << 32
T_IN, T_OUT, T_FLUSH, T_GET_ID = 0, 1, 4, 8
S_OK, S_IOERR, S_UNSUPP = 0, 1, 2
QUEUE_SIZE, SEG_MAX = 256, 126
ID_BYTES = 20


class BlockError(Exception):
    """The image cannot be used (the message names the file and why)."""


class VirtioBlk:
    device_id = DEVICE_ID
    num_queues = 1

    def __init__(self, path: str, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        try:
            self.fd = os.open(path, os.O_RDONLY if readonly else os.O_RDWR)
        except OSError as e:
            raise BlockError(f"{path}: cannot open the disk image ({e.strerror})") from None
        self.capacity = os.fstat(self.fd).st_size // SECTOR
        self.features = F_SEG_MAX | F_FLUSH | F_VERSION_1 | (F_RO if readonly else 0)
        self.queues = [Virtqueue(QUEUE_SIZE)]
        self.serial = os.path.basename(path).encode()[:ID_BYTES]

    def config(self) -> bytes:
        """capacity (le64), size_max (unused), seg_max."""
        return struct.pack("<QII", self.capacity, 0, SEG_MAX)

    def notify(self, queue: int, mem: Memory) -> bool:
        """QueueNotify: serve the queue; True if the driver should get an interrupt."""
        return queue == 0 and self.queues[0].process(mem, lambda bufs: self._request(bufs, mem))

    def reset(self) -> None:
        for q in self.queues:
            q.reset()

    def sync(self) -> None:
        """Make every write durable (FLUSH, and the end of a run)."""
        if not self.readonly:
            os.fsync(self.fd)

    def _request(self, bufs: List[Buffer], mem: Memory) -> int:
        out = [b for b in bufs if not b.writable]
        into = [b for b in bufs if b.writable]
        header = b"".join(mem.read_bytes(b.addr, b.length) for b in out)
        if len(header) < 16 or not into or into[-1].length < 1:
            return 0  # no header or no status byte: nothing can be answered
        kind, _, sector = struct.unpack_from("<IIQ", header)
        status_at = into[-1].addr + into[-1].length - 1
        data_in = into[:-1] + ([Buffer(into[-1].addr, into[-1].length - 1, True)] if into[-1].length > 1 else [])
        written = 0
        status = S_OK
        if kind == T_IN:
            size = sum(b.length for b in data_in)
            data = self._read(sector, size)
            if data is None:
                status = S_IOERR
            else:
                written = self._scatter(mem, data_in, data)
        elif kind == T_OUT:
            status = self._write(sector, header[16:])
        elif kind == T_FLUSH:
            self.sync()
        elif kind == T_GET_ID:
            written = self._scatter(mem, data_in, self.serial.ljust(ID_BYTES, b"\0"))
        else:
            status = S_UNSUPP
        mem.write_bytes(status_at, bytes([status]))
        return written + 1

    def _in_range(self, sector: int, size: int) -> bool:
        return size % SECTOR == 0 and sector + size // SECTOR <= self.capacity

    def _read(self, sector: int, size: int) -> Optional[bytes]:
        if not self._in_range(sector, size):
            return None
        return os.pread(self.fd, size, sector * SECTOR)

    def _write(self, sector: int, data: bytes) -> int:
        if self.readonly or not self._in_range(sector, len(data)):
            return S_IOERR
        os.pwrite(self.fd, data, sector * SECTOR)
        return S_OK

    @staticmethod
    def _scatter(mem: Memory, bufs: List[Buffer], data: bytes) -> int:
        pos = 0
        for b in bufs:
            if pos >= len(data):
                break
            chunk = data[pos:pos + b.length]
            mem.write_bytes(b.addr, chunk)
            pos += len(chunk)
        return pos
