"""The virt memory map around the GIC and UART, as QEMU 7.2 lays it out: empty virtio-mmio transports,
PCIe windows that read all ones, the GICv2m frame, PL031, PL061, fw_cfg (with DMA), the holes that
abort, and the device tree QEMU leaves at the start of flash."""
from __future__ import annotations

import struct
from pathlib import Path
from typing import Iterator, Tuple

import pytest

from tuiemu.devices import virt_dtb
from tuiemu.machine import Machine
from tuiemu.mmu.address_space import BusError

DATA = Path(__file__).parent / "data"
RAM = 0x40000000


@pytest.fixture(scope="module")
def m() -> Machine:
    return Machine(ncpus=2)


def test_virtio_mmio_transports_are_empty(m: Machine) -> None:
    for slot in range(32):
        base = 0x0A000000 + 0x200 * slot
        assert [m.space.read(base + off, 4) for off in (0, 4, 8, 0xC)] == [0x74726976, 1, 0, 0x554D4551]
        assert all(m.space.read(base + off, 4) == 0 for off in range(0x10, 0x200, 4))
    assert m.space.read(0x0A000000, 1) == 0x76 and m.space.read(0x0A000002, 2) == 0
    m.space.write(0x0A000070, 4, 0xF)
    assert m.space.read(0x0A000070, 4) == 0


def test_pcie_windows_read_all_ones_and_holes_abort(m: Machine) -> None:
    assert m.space.read(0x10000000, 4) == 0xFFFFFFFF and m.space.read(0x10000003, 1) == 0xFF
    assert m.space.read(0x3EFEFFFC, 4) == 0xFFFFFFFF and m.space.read(0x3EFF0000, 4) == 0xFFFFFFFF
    m.space.write(0x20000000, 4, 0)
    for addr in (0x3F000000, 0x08030000, 0x08080000, 0x09040000, 0x09050000, 0x0C000000, 0x0E000000,
                 0x0A004000, 0x08021000, 0x09020018):
        with pytest.raises(BusError):
            m.space.read(addr, 4)


def test_gicv2m_frame_pulses_spis(m: Machine) -> None:
    assert m.space.read(0x08020008, 4) == 0x00500040 and m.space.read(0x08020FCC, 4) == 0x05100000
    m.space.write(0x08000828 + 80 - 40, 1, 1)  # ITARGETSR of ID 80: CPU0
    m.space.write(0x08000C14, 4, 0xFFFFFFFF)  # IDs 80-95 edge-triggered
    m.space.write(0x08020040, 4, 80)
    assert m.space.read(0x08000208, 4) == 1 << 16
    m.space.write(0x08000288, 4, 0xFFFFFFFF)


def test_pl031_counts_host_seconds_and_keeps_registers(m: Machine) -> None:
    assert [m.space.read(0x09010FE0 + 4 * i, 4) for i in range(8)] == [0x31, 0x10, 0x14, 0, 0x0D, 0xF0, 5, 0xB1]
    assert m.space.read(0x09010000, 4) > 1600000000 and m.space.read(0x0901000C, 4) == 1
    m.space.write(0x09010008, 4, 1000)
    assert 1000 <= m.space.read(0x09010000, 4) <= 1001 and m.space.read(0x09010008, 4) == 1000
    m.space.write(0x09010010, 4, 0xFFFFFFFF)
    assert m.space.read(0x09010010, 4) == 1


def test_pl031_counts_guest_time_in_the_deterministic_mode() -> None:
    """Single-thread mode: DR starts at a fixed date and advances one second per CNTFRQ ticks of
    guest time (instructions plus skipped sleep), whatever the host clock does."""
    from tuiemu.core.clock import CNTFRQ
    from tuiemu.devices.pl031 import DERIVED_EPOCH
    det = Machine(threads="single")
    assert det.space.read(0x09010000, 4) == DERIVED_EPOCH
    det.clock.skip_to(3 * CNTFRQ + 1)
    assert det.space.read(0x09010000, 4) == DERIVED_EPOCH + 3
    det.vcpus[0].counters.insns += 2 * CNTFRQ  # executed instructions count as ticks too
    assert det.space.read(0x09010000, 4) == DERIVED_EPOCH + 5
    det.space.write(0x09010008, 4, 1000)
    det.clock.skip_to(det.clock.ticks() + CNTFRQ)
    assert det.space.read(0x09010000, 4) == 1001


def test_pl061_masked_data_and_interrupt_status() -> None:
    m = Machine()
    gpio = 0x09030000
    assert [m.space.read(gpio + 0xFE0 + 4 * i, 4) for i in range(4)] == [0x61, 0x10, 0x04, 0]
    m.space.write(gpio + 0x400, 4, 0xFF)
    m.space.write(gpio + 0x3FC, 4, 0xA5)
    assert m.space.read(gpio + 0x004, 4) == 1 and m.space.read(gpio + 0x03C, 4) == 5
    m.space.write(gpio + 0x040, 4, 0xFF)  # only pin 4
    assert m.space.read(gpio + 0x3FC, 4) == 0xB5
    for reg in (0x404, 0x408, 0x40C, 0x410):
        m.space.write(gpio + reg, 4, 0xFFFFFFFF)
    assert m.space.read(gpio + 0x414, 4) == 0xFF and m.space.read(gpio + 0x418, 4) == 0xFF
    assert m.vcpus[0].irq_line is False  # the GIC is not enabled; the SPI is pending
    assert m.space.read(0x08000204, 4) & (1 << 7)


def _select(m: Machine, key: int) -> None:
    m.space.write(0x09020008, 2, int.from_bytes(key.to_bytes(2, "big"), "little"))


def test_fw_cfg_traditional_interface(m: Machine) -> None:
    _select(m, 0)
    assert m.space.read(0x09020000, 4) == 0x554D4551  # "QEMU"
    _select(m, 1)
    assert m.space.read(0x09020000, 4) == 3
    _select(m, 5)
    assert m.space.read(0x09020000, 2) == 2
    assert m.space.read(0x09020010, 4) == 0x554D4551 and m.space.read(0x09020014, 4) == 0x47464320
    for addr, size in ((0x09020004, 4), (0x09020001, 1), (0x09020008, 2), (0x0902000C, 4)):
        with pytest.raises(BusError):
            m.space.read(addr, size)
    with pytest.raises(BusError):
        m.space.write(0x09020008, 4, 0)


def _files(directory: bytes) -> Iterator[Tuple[str, int, int]]:
    (count,) = struct.unpack(">I", directory[:4])
    for i in range(count):
        size, key, _, name = struct.unpack(">IHH56s", directory[4 + 64 * i:68 + 64 * i])
        yield name.rstrip(b"\0").decode(), key, size


def test_fw_cfg_dma_reads_the_file_directory(m: Machine) -> None:
    control, target = RAM + 0x1000, RAM + 0x2000
    m.space.write_bytes(control, struct.pack(">IIQ", (0x19 << 16) | 0x08 | 0x02, 4 + 64 * 4, target))
    m.space.write(0x09020010, 4, 0)
    m.space.write(0x09020014, 4, int.from_bytes(control.to_bytes(4, "big"), "little"))
    assert m.space.read_bytes(control, 4) == bytes(4)
    files = list(_files(m.space.read_bytes(target, 4 + 64 * 4)))
    assert [name for name, _, _ in files] == ["bios-geometry", "bootorder", "etc/boot-fail-wait", "etc/tpm/log"]
    key = files[2][1]
    m.space.write_bytes(control, struct.pack(">IIQ", (key << 16) | 0x08 | 0x02, 4, target))
    m.space.write(0x09020014, 4, int.from_bytes(control.to_bytes(4, "big"), "little"))
    assert m.space.read_bytes(target, 4) == b"\xff\xff\xff\xff"
    m.space.write_bytes(control, struct.pack(">IIQ", 0x10, 4, target))  # a write: refused
    m.space.write(0x09020014, 4, int.from_bytes(control.to_bytes(4, "big"), "little"))
    assert m.space.read_bytes(control, 4) == b"\0\0\0\1"


def _without_randomness(blob: bytes) -> bytes:
    """The blob with /chosen's random seeds and every property's padding zeroed."""
    out = bytearray(blob)
    off_struct, off_strings = struct.unpack(">II", blob[8:16])
    p = off_struct
    while True:
        (tag,) = struct.unpack(">I", blob[p:p + 4])
        p += 4
        if tag == 1:
            p = (blob.index(b"\0", p) + 4) & ~3
        elif tag == 3:
            length, name = struct.unpack(">II", blob[p:p + 8])
            p += 8
            end = (p + length + 3) & ~3
            label = blob[off_strings + name:blob.index(b"\0", off_strings + name)]
            start = p if label in (b"rng-seed", b"kaslr-seed") else p + length
            out[start:end] = bytes(end - start)
            p = end
        elif tag == 9:
            return bytes(out)


@pytest.mark.parametrize("ncpus, ram_mib", [(1, 128), (2, 256)])
def test_device_tree_is_qemus(ncpus: int, ram_mib: int) -> None:
    qemu = (DATA / f"qemu-virt-smp{ncpus}-{ram_mib}M.dtb").read_bytes()
    ours = virt_dtb.build(ncpus, ram_mib << 20, bytes).blob()
    assert len(ours) == 0x100000 and not any(ours[len(qemu):])
    assert _without_randomness(ours[:len(qemu)]) == _without_randomness(qemu)


def test_device_tree_is_in_flash_with_random_seeds() -> None:
    first, second = Machine(ncpus=1), Machine(ncpus=1)
    header = first.space.read_bytes(0, 40)
    assert header[:4] == b"\xd0\x0d\xfe\xed" and header == second.space.read_bytes(0, 40)
    assert first.space.read_bytes(0, 0x2000) != second.space.read_bytes(0, 0x2000)
    single = [Machine(ncpus=1, threads="single").space.read_bytes(0, 0x2000) for _ in range(2)]
    assert single[0] == single[1]  # single-thread mode: identical runs
