"""QEMU's boot contract for a Linux kernel on virt: ``-kernel zImage|uImage``, ``-initrd``, the DTB.

QEMU (hw/arm/boot.c's observable behaviour, for a 32-bit guest):

* a zImage (magic 0x016f2818 at offset 0x24) is loaded at RAM + 0x10000 and decompresses itself;
* a legacy U-Boot uImage is loaded at the load address its header gives and entered at its entry;
* the initrd goes to RAM + min(RAM / 2, 128 MiB), the device tree right after it, 4 KiB aligned;
* CPU0 starts at RAM base in a 4-instruction stub that sets r0 = 0, r1 = 0xffffffff (no machine
  number: device tree only) and r2 = the DTB's address, then jumps to the kernel; SVC mode, A, I and
  F masked, MMU and caches off. The other CPUs stay off until PSCI CPU_ON.

An ELF file is not a Linux image here (as in QEMU): it runs from its own entry point.
"""
from __future__ import annotations

import gzip
import os
import stat
import struct
import zlib
from typing import List, NamedTuple, Optional

from .loader import Image, LoadError, Segment

ZIMAGE_OFFSET = 0x10000
ZIMAGE_MAGIC, ZIMAGE_MAGIC_AT = 0x016F2818, 0x24
UIMAGE_MAGIC, UIMAGE_HEADER = 0x27051956, 64
IH_ARCH_ARM, IH_TYPE_KERNEL, IH_COMP_NONE, IH_COMP_GZIP = 2, 2, 0, 1
INITRD_MAX_OFFSET = 128 << 20
ELF_MAGIC = b"\x7fELF"


class LinuxKernel(NamedTuple):
    """A Linux image placed in RAM: where its bytes go and where it is entered."""
    segment: Segment
    entry: int
    kind: str  # "zImage" or "uImage"


def read_file(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise LoadError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise LoadError(f"{path}: is a directory") from None
    except OSError as e:
        raise LoadError(f"{path}: cannot read the {what} ({e.strerror})") from None


def is_elf(path: str) -> bool:
    """True unless ``path`` is a readable regular file that does not start like an ELF file (the ELF
    loader says what is wrong with anything else; opening a FIFO here would block)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return True
        with open(path, "rb") as f:
            return f.read(4) == ELF_MAGIC
    except OSError:
        return True


def linux_kernel(path: str, ram_base: int) -> Optional[LinuxKernel]:
    """The kernel in ``path`` if it is a zImage or a uImage, else None."""
    data = read_file(path, "kernel")
    if len(data) >= UIMAGE_HEADER and struct.unpack_from(">I", data)[0] == UIMAGE_MAGIC:
        return _uimage(path, data)
    if len(data) >= ZIMAGE_MAGIC_AT + 4 and struct.unpack_from("<I", data, ZIMAGE_MAGIC_AT)[0] == ZIMAGE_MAGIC:
        return LinuxKernel(Segment(ram_base + ZIMAGE_OFFSET, data, len(data)), ram_base + ZIMAGE_OFFSET, "zImage")
    return None


def _uimage(path: str, data: bytes) -> LinuxKernel:
    """A legacy uImage: 64-byte big-endian header (its own CRC, the data's CRC), then the data."""
    magic, hcrc, _time, size, load, entry, dcrc = struct.unpack_from(">7I", data)
    _os, arch, kind, comp = struct.unpack_from(">4B", data, 28)
    header = data[:4] + b"\0\0\0\0" + data[8:UIMAGE_HEADER]
    if zlib.crc32(header) != hcrc:
        raise LoadError(f"{path}: uImage header checksum mismatch")
    payload = data[UIMAGE_HEADER:UIMAGE_HEADER + size]
    if len(payload) != size or zlib.crc32(payload) != dcrc:
        raise LoadError(f"{path}: uImage data truncated or corrupt")
    if arch != IH_ARCH_ARM or kind != IH_TYPE_KERNEL:
        raise LoadError(f"{path}: not an ARM kernel uImage (arch {arch}, type {kind})")
    if comp == IH_COMP_GZIP:
        payload = gzip.decompress(payload)
    elif comp != IH_COMP_NONE:
        raise LoadError(f"{path}: uImage compression {comp} is not supported (none or gzip)")
    return LinuxKernel(Segment(load, payload, len(payload)), entry, "uImage")


def initrd_address(ram_base: int, ram_size: int) -> int:
    return ram_base + min(ram_size // 2, INITRD_MAX_OFFSET)


def dtb_address(ram_base: int, ram_size: int, initrd_size: int) -> int:
    return (initrd_address(ram_base, ram_size) + initrd_size + 0xFFF) & ~0xFFF


def boot_stub(entry: int, dtb: int) -> bytes:
    """mov r0, #0; ldr r1, [pc, #4]; ldr r2, [pc, #4]; ldr pc, [pc, #4]; then the three words."""
    return struct.pack("<7I", 0xE3A00000, 0xE59F1004, 0xE59F2004, 0xE59FF004, 0xFFFFFFFF, dtb, entry)


def linux_image(path: str, kernel: LinuxKernel, ram_base: int, ram_size: int, initrd: Optional[bytes],
                dtb: bytes) -> Image:
    """Everything a Linux boot puts in RAM, as one image entered at the stub."""
    ram_end = ram_base + ram_size
    seg = kernel.segment
    if not ram_base <= seg.paddr or seg.paddr + seg.memsz > ram_end:
        raise LoadError(f"{path}: the {kernel.kind} at {seg.paddr:#010x}-{seg.paddr + seg.memsz:#010x} "
                        f"does not fit in RAM ({ram_base:#010x}-{ram_end:#010x})")
    initrd_at = initrd_address(ram_base, ram_size)
    dtb_at = dtb_address(ram_base, ram_size, len(initrd or b""))
    if seg.paddr + seg.memsz > initrd_at:
        raise LoadError(f"{path}: the kernel ends at {seg.paddr + seg.memsz:#010x}, past where the initrd and "
                        f"device tree go ({initrd_at:#010x}): give more memory (-m)")
    if dtb_at + len(dtb) > ram_end:
        raise LoadError(f"the initrd and device tree ({dtb_at + len(dtb) - initrd_at} bytes from {initrd_at:#010x}) "
                        "do not fit in RAM: give more memory (-m)")
    stub = boot_stub(kernel.entry, dtb_at)
    segments: List[Segment] = [Segment(ram_base, stub, len(stub)), seg]
    if initrd:
        segments.append(Segment(initrd_at, initrd, len(initrd)))
    segments.append(Segment(dtb_at, dtb, len(dtb)))
    return Image(path, ram_base, segments, [])
