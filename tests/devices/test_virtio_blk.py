"""virtio-blk on modern virtio-mmio transports: a disk's DMA overwrites code that already ran and the
new code runs (the TB cache records the invalidation as DMA), guest writes are in the image after
power-off, a read-only image is honoured. The guest (tests/guests/own/virtio_dma.c) prints what QEMU
printed for it (virtio_dma.{off,on}.expected, recorded with virtio-blk-device on modern transports)."""
from __future__ import annotations

import struct
from pathlib import Path
from typing import List

import pytest

from tuiemu.devices import virtio_mmio
from tuiemu.devices.console import Console
from tuiemu.devices.virtio_blk import BlockError, VirtioBlk
from tuiemu.machine import Machine
from tuiemu.mmu.address_space import BusError

from ..conftest import run_cli

OWN = Path(__file__).parents[1] / "guests" / "own"
GUEST = OWN / "virtio_dma.elf"
MARKER = b"tuiemu virtio-blk: written by the guest\n"
NEW_CODE = struct.pack("<II", 0xE3A00002, 0xE12FFF1E)  # mov r0, #2; bx lr


def blank_disk(tmp_path: Path) -> Path:
    disk = tmp_path / "disk.img"
    disk.write_bytes(bytes(64 << 10))
    return disk


@pytest.mark.parametrize("threads", ["multi", "single"])
def test_dma_over_translated_code_runs_the_new_code(tmp_path: Path, threads: str) -> None:
    disk = blank_disk(tmp_path)
    m = Machine(threads=threads, console=Console(None), disks=[(str(disk), False)])
    m.load_elf(str(GUEST))
    assert m.run() == 0
    out, _ = m.console.read_since(0)
    assert out == (OWN / "virtio_dma.off.expected").read_bytes()
    assert m.cache.dropped_by_cause["dma"] >= 1  # the read over the code page dropped its TB
    image = disk.read_bytes()  # the guest's writes are in the file once the run is over
    assert image[:8] == NEW_CODE and image[512:512 + len(MARKER)] == MARKER


def test_cli_disk_write_back_and_read_only(tmp_path: Path) -> None:
    disk = blank_disk(tmp_path)
    r = run_cli(GUEST, "--disk", str(disk))
    assert (r.code, r.out) == (0, (OWN / "virtio_dma.off.expected").read_bytes()), r.err
    assert disk.read_bytes()[512:512 + len(MARKER)] == MARKER
    blank = blank_disk(tmp_path)
    r = run_cli(GUEST, "-drive", f"file={blank},if=virtio,format=raw,readonly=on", "--threads", "single")
    assert (r.code, r.out) == (0, (OWN / "virtio_dma.on.expected").read_bytes()), r.err
    assert not any(blank.read_bytes())


def test_bad_drive_options_are_one_line_errors(tmp_path: Path) -> None:
    for args in (["--disk", str(tmp_path / "missing.img")], ["-drive", "file=x.img,if=ide"],
                 ["-drive", "file=x.img,format=qcow2"], ["-drive", "if=virtio"]):
        r = run_cli(GUEST, *args)
        assert r.code == 2 and len(r.err.strip().splitlines()) == 1, r.err


class FakeRAM:
    """Guest memory for driving a transport by hand."""

    def __init__(self, base: int = 0x40000000, size: int = 1 << 16) -> None:
        self.base, self.mem = base, bytearray(size)

    def read_bytes(self, addr: int, length: int) -> bytes:
        if not self.base <= addr <= addr + length <= self.base + len(self.mem):
            raise BusError(addr)
        return bytes(self.mem[addr - self.base:addr - self.base + length])

    def write_bytes(self, addr: int, data: bytes, force: bool = False) -> None:
        self.read_bytes(addr, len(data))
        self.mem[addr - self.base:addr - self.base + len(data)] = data


def test_transports_are_modern_with_a_disk_and_fill_from_the_last(tmp_path: Path) -> None:
    disks = [VirtioBlk(str(blank_disk(tmp_path))), VirtioBlk(str(blank_disk(tmp_path)), readonly=True)]
    levels: List[tuple] = []
    slots = virtio_mmio.transports(disks, FakeRAM(), lambda n, level: levels.append((n, level)))
    assert [s.read(4, 4, 0) for s in slots] == [2] * 32
    assert [s.read(8, 4, 0) for s in slots[-3:]] == [0, 2, 2]
    assert slots[31].device is disks[0] and slots[30].device is disks[1]
    slots[30].write(0x014, 4, 0, 0)
    assert slots[30].read(0x010, 4, 0) & (1 << 5)  # VIRTIO_BLK_F_RO
    assert slots[31].read(0x100, 4, 0) == 128 and slots[31].read(0x104, 4, 0) == 0  # capacity in sectors


def test_a_ring_outside_ram_needs_a_reset(tmp_path: Path) -> None:
    ram = FakeRAM()
    slot = virtio_mmio.transports([VirtioBlk(str(blank_disk(tmp_path)))], ram, lambda n, level: None)[31]
    slot.write(0x070, 4, 0xF, 0)
    slot.write(0x044, 4, 1, 0)
    slot.write(0x090, 4, 0x1000, 0)  # the available ring at an address with no memory
    slot.write(0x050, 4, 0, 0)
    assert slot.read(0x070, 4, 0) & 0x40 and slot.read(0x060, 4, 0) == 2
    slot.write(0x070, 4, 0, 0)  # a reset clears it
    assert slot.read(0x070, 4, 0) == 0 and slot.read(0x060, 4, 0) == 0


def test_a_missing_image_is_a_block_error(tmp_path: Path) -> None:
    with pytest.raises(BlockError, match="cannot open"):
        VirtioBlk(str(tmp_path / "none.img"))
