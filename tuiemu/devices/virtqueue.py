"""A split virtqueue (virtio 1.x, 2.6) as the device side walks it, over guest physical memory.

The driver publishes descriptor chains in the available ring; the device consumes them in order,
hands each chain to the device model and returns it through the used ring. Every access goes through
the address space's bulk read and write, so a buffer the device fills is written the way any DMA
is: translated code on those pages is invalidated.
"""
from __future__ import annotations

import struct
from typing import Callable, List, NamedTuple, Protocol

DESC_F_NEXT, DESC_F_WRITE = 1, 2
AVAIL_F_NO_INTERRUPT = 1


class Memory(Protocol):
    def read_bytes(self, addr: int, length: int) -> bytes: ...
    def write_bytes(self, addr: int, data: bytes, force: bool = False) -> None: ...


class Buffer(NamedTuple):
    addr: int
    length: int
    writable: bool


class QueueError(Exception):
    """The driver broke the ring's rules (a loop, a bad index): the device needs a reset."""


class Virtqueue:
    """One queue's registers as the transport sets them, and the device's position in it."""

    def __init__(self, num_max: int) -> None:
        self.num_max = num_max
        self.reset()

    def reset(self) -> None:
        self.num = self.num_max
        self.ready = False
        self.desc = self.avail = self.used = 0
        self.last_avail = 0

    def _u16(self, mem: Memory, addr: int) -> int:
        return int(struct.unpack("<H", mem.read_bytes(addr, 2))[0])

    def chain(self, mem: Memory, head: int) -> List[Buffer]:
        bufs: List[Buffer] = []
        index = head
        for _ in range(self.num):
            if index >= self.num:
                raise QueueError(f"descriptor index {index} out of range")
            addr, length, flags, nxt = struct.unpack("<QIHH", mem.read_bytes(self.desc + 16 * index, 16))
            bufs.append(Buffer(addr, length, bool(flags & DESC_F_WRITE)))
            if not flags & DESC_F_NEXT:
                return bufs
            index = nxt
        raise QueueError("descriptor chain loops")

    def process(self, mem: Memory, handle: Callable[[List[Buffer]], int]) -> bool:
        """Serve every available chain; ``handle`` returns the bytes it wrote into the chain. True if
        the driver wants an interrupt for what was used."""
        if not self.ready:
            return False
        served = False
        avail_idx = self._u16(mem, self.avail + 2)
        while self.last_avail != avail_idx:
            head = self._u16(mem, self.avail + 4 + 2 * (self.last_avail % self.num))
            written = handle(self.chain(mem, head))
            used_idx = self._u16(mem, self.used + 2)
            mem.write_bytes(self.used + 4 + 8 * (used_idx % self.num), struct.pack("<II", head, written))
            mem.write_bytes(self.used + 2, struct.pack("<H", (used_idx + 1) & 0xFFFF))
            self.last_avail = (self.last_avail + 1) & 0xFFFF
            served = True
        return served and not self._u16(mem, self.avail) & AVAIL_F_NO_INTERRUPT
