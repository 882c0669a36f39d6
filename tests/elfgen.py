"""Tiny ELF32 ARM writer and a few A32 encoders, for tests that need hand-made guests."""
from __future__ import annotations

import struct
from pathlib import Path
from typing import List, Sequence, Tuple

BASE = 0x40000000


def elf32_arm(segments: Sequence[Tuple[int, bytes]], entry: int, machine: int = 40) -> bytes:
    """An executable with one PT_LOAD per (address, bytes)."""
    phoff, phentsize = 52, 32
    data_off = phoff + phentsize * len(segments)
    header = b"\x7fELF" + bytes([1, 1, 1, 0]) + bytes(8)
    header += struct.pack("<HHIIIIIHHHHHH", 2, machine, 1, entry, phoff, 0, 0x05000200, 52, phentsize,
                          len(segments), 40, 0, 0)
    phdrs, blobs, off = b"", b"", data_off
    for addr, blob in segments:
        phdrs += struct.pack("<IIIIIIII", 1, off, addr, addr, len(blob), len(blob), 7, 4)
        blobs += blob
        off += len(blob)
    return header + phdrs + blobs


def words(ws: Sequence[int]) -> bytes:
    return b"".join(struct.pack("<I", w & 0xFFFFFFFF) for w in ws)


def movw(rd: int, imm: int) -> int:
    return 0xE3000000 | ((imm >> 12) & 0xF) << 16 | rd << 12 | (imm & 0xFFF)


def movt(rd: int, imm: int) -> int:
    return 0xE3400000 | ((imm >> 12) & 0xF) << 16 | rd << 12 | (imm & 0xFFF)


def mov32(rd: int, value: int) -> List[int]:
    return [movw(rd, value & 0xFFFF), movt(rd, value >> 16)]


def branch(pc: int, target: int, link: bool = False) -> int:
    return (0xEB000000 if link else 0xEA000000) | (((target - pc - 8) >> 2) & 0xFFFFFF)


SVC_SEMIHOST = 0xEF123456
UDF = 0xE7F000F0


def exit_with(code: int, block_addr: int) -> List[int]:
    """SYS_EXIT_EXTENDED with status ``code``; the 8-byte parameter block goes at ``block_addr``."""
    return (mov32(2, 0x20026) + mov32(1, block_addr) + [0xE5812000] + mov32(2, code)
            + [0xE5812004] + mov32(0, 0x20) + [SVC_SEMIHOST])


def write_program(path: Path, code: Sequence[int], base: int = BASE) -> Path:
    path.write_bytes(elf32_arm([(base, words(code))], base))
    return path
