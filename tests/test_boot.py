"""QEMU's boot contract for a Linux kernel (tuiemu/boot.py): where the zImage, uImage, initrd and
device tree go, the stub CPU0 starts in, and the tree `tuiemu dumpdtb` writes, compared with QEMU's."""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from tuiemu import boot
from tuiemu.cli import main
from tuiemu.devices.console import Console
from tuiemu.devices.fdt import DeviceTree
from tuiemu.loader import LoadError
from tuiemu.machine import Machine

from .conftest import REPO
from .devices.test_board import _without_randomness

RAM = 0x40000000
DATA = REPO / "tests" / "devices" / "data"
BX_LR, MOV_R0_5 = 0xE12FFF1E, 0xE3A00005


def uimage(payload: bytes, load: int, entry: int) -> bytes:
    header = struct.pack(">7I4B32s", boot.UIMAGE_MAGIC, 0, 0, len(payload), load, entry, zlib.crc32(payload),
                         5, 2, 2, 0, b"test")
    return header[:4] + struct.pack(">I", zlib.crc32(header)) + header[8:] + payload


def zimage(size: int = 0x100) -> bytes:
    data = bytearray(size)
    struct.pack_into("<I", data, boot.ZIMAGE_MAGIC_AT, boot.ZIMAGE_MAGIC)
    return bytes(data)


def test_a_uimage_boots_through_the_stub_with_initrd_and_tree(tmp_path: Path) -> None:
    kernel, initrd = tmp_path / "uImage", tmp_path / "initrd"
    kernel.write_bytes(uimage(struct.pack("<2I", MOV_R0_5, BX_LR), 0x40208000, 0x40208000))
    initrd.write_bytes(b"initrd" * 1000)
    m = Machine(ncpus=2, ram_size=256 << 20, threads="single", console=Console(None))
    m.load_kernel(str(kernel), initrd=str(initrd), append="console=ttyAMA0")
    v = m.vcpus[0]
    assert v.R[15] == RAM and v.state.cpsr_ctl & 0x1DF == 0x1D3 and not v.state.sctlr & 1  # SVC, AIF, MMU off
    assert m.vcpus[1].run_state.name == "OFF"
    dtb = (RAM + (128 << 20) + 6000 + 0xFFF) & ~0xFFF
    assert m.space.read_bytes(RAM, 28) == boot.boot_stub(0x40208000, dtb)
    assert m.space.read_bytes(0x40208000, 8) == struct.pack("<2I", MOV_R0_5, BX_LR)
    assert m.space.read_bytes(RAM + (128 << 20), 6) == b"initrd"
    header = m.space.read_bytes(dtb, 40)
    assert header[:4] == b"\xd0\x0d\xfe\xed"
    total = struct.unpack(">I", header[4:8])[0]
    assert total < 0x4000  # packed: the kernel maps it through a 2 MiB window
    blob = m.space.read_bytes(dtb, total)
    assert b"console=ttyAMA0\0" in blob and struct.pack(">I", RAM + (128 << 20)) in blob
    m.run(max_insns=4)  # through the stub: r0 = 0, r1 = ~0, r2 = the tree
    assert v.R[15] == 0x40208000 and (v.R[0], v.R[1], v.R[2]) == (0, 0xFFFFFFFF, dtb)


def test_a_zimage_goes_to_ram_plus_64k(tmp_path: Path) -> None:
    kernel = tmp_path / "zImage"
    kernel.write_bytes(zimage())
    m = Machine(console=Console(None))
    image = m.load_kernel(str(kernel))
    assert image.segments[1].paddr == RAM + 0x10000
    dtb = RAM + (64 << 20)  # 128 MiB of RAM, no initrd: the tree where the initrd would go
    assert m.space.read_bytes(RAM, 28) == boot.boot_stub(RAM + 0x10000, dtb)


def test_bad_kernels_are_load_errors(tmp_path: Path) -> None:
    m = Machine(console=Console(None))
    bad = tmp_path / "bad"
    bad.write_bytes(b"\0" * 100)
    with pytest.raises(LoadError, match="not an ELF file, a zImage or a uImage"):
        m.load_kernel(str(bad))
    corrupt = bytearray(uimage(b"abcd", RAM + 0x8000, RAM + 0x8000))
    corrupt[-1] ^= 1
    bad.write_bytes(bytes(corrupt))
    with pytest.raises(LoadError, match="corrupt"):
        m.load_kernel(str(bad))
    bad.write_bytes(uimage(b"abcd", 0x30000000, 0x30000000))
    with pytest.raises(LoadError, match="does not fit in RAM"):
        m.load_kernel(str(bad))
    bad.write_bytes(zimage())
    big = tmp_path / "initrd"
    big.write_bytes(bytes(600 << 10))
    with pytest.raises(LoadError, match="initrd and device tree"):
        Machine(ram_size=1 << 20, console=Console(None)).load_kernel(str(bad), initrd=str(big))


def test_a_user_dtb_gets_chosen(tmp_path: Path) -> None:
    tree = DeviceTree(0x1000)
    tree.add_node("", "memory")
    user = tmp_path / "user.dtb"
    user.write_bytes(tree.packed())
    kernel = tmp_path / "zImage"
    kernel.write_bytes(zimage())
    m = Machine(console=Console(None))
    image = m.load_kernel(str(kernel), append="root=/dev/vda", dtb=str(user))
    blob = image.segments[-1].data
    edited = DeviceTree.from_blob(blob, len(blob))
    assert edited.has_node("/chosen") and edited.has_node("/memory") and b"root=/dev/vda\0" in blob
    user.write_bytes(b"not a tree")
    with pytest.raises(LoadError, match="bad magic"):
        m.load_kernel(str(kernel), dtb=str(user))


def test_dumpdtb_is_qemus_tree_for_a_linux_boot(tmp_path: Path) -> None:
    initrd, out = tmp_path / "initrd", tmp_path / "virt.dtb"
    initrd.write_bytes(bytes(1857024))
    assert main(["dumpdtb", str(out), "-smp", "2", "-m", "256", "-append", "cryptomgr.notests console=ttyAMA0",
                 "-initrd", str(initrd)]) == 0
    ours, qemu = out.read_bytes(), (DATA / "qemu-virt-smp2-256M-linux.dtb").read_bytes()
    assert len(ours) == 0x100000 and not any(ours[len(qemu):])
    assert _without_randomness(ours[:len(qemu)]) == _without_randomness(qemu)
