"""Writes to code and to literals on code pages are seen: by the writer, by the debugger, by DMA."""
from __future__ import annotations

from pathlib import Path

import pytest

from tuiemu.devices.console import Console
from tuiemu.machine import Machine

from ..elfgen import BASE, branch, exit_with, mov32, write_program


def literal_rewrite_program() -> list:
    """Reads a literal with a PC-relative LDR, overwrites it with a store, reads it again."""
    lit = BASE + 0x100
    code = mov32(2, lit) + [0xE3A03000, 0xE3A04000]      # r2 = &lit; r3 = 0; r4 = 0
    loop = BASE + 4 * len(code)
    ldr_off = lit - (loop + 8)
    code += [0xE59F0000 | ldr_off]                        # ldr r0, [pc, #off]
    code += [0xE0844000]                                  # add r4, r4, r0
    code += [0xE3A01055, 0xE5821000]                      # mov r1, #0x55; str r1, [r2]
    code += [0xE2833001, 0xE3530002]                      # add r3, #1; cmp r3, #2
    code += [(branch(BASE + 4 * len(code), loop) & 0x0FFFFFFF) | 0x10000000]  # bne loop
    code += exit_with(0, BASE + 0x1000)
    code += [0] * ((lit - BASE) // 4 - len(code)) + [0x11]
    return code


@pytest.mark.parametrize("interp", [False, True])
def test_literal_pool_rewrite_is_seen(tmp_path: Path, interp: bool) -> None:
    m = Machine(threads="single", interp=interp, console=Console(out=None))
    m.load_elf(str(write_program(tmp_path / "lit.elf", literal_rewrite_program())))
    assert m.run() == 0
    assert m.vcpus[0].R[4] == 0x11 + 0x55


def test_debugger_write_over_translated_code_is_seen(tmp_path: Path) -> None:
    """Patch an instruction after it was translated: the next execution runs the new one."""
    code = [0xE3A00001, 0xE3A01000]                       # 0: mov r0, #1 ; 4: mov r1, #0
    loop = BASE + 8
    code += [0xE2811001, 0xE3510010]                      # add r1, #1 ; cmp r1, #16
    code += [(branch(BASE + 4 * len(code), loop) & 0x0FFFFFFF) | 0x10000000]
    code += [branch(BASE + 4 * len(code), BASE)]          # back to the start: mov r0 runs again
    m = Machine(threads="single", console=Console(out=None))
    m.load_elf(str(write_program(tmp_path / "patch.elf", code)))
    assert m.run(max_insns=200) is None and m.vcpus[0].R[0] == 1
    invalidated = m.cache.stats.invalidated
    m.write_memory(BASE, (0xE3A00007).to_bytes(4, "little"), m.vcpus[0])  # mov r0, #7
    assert m.cache.stats.invalidated > invalidated
    m.run(max_insns=400)
    assert m.vcpus[0].R[0] == 7


def test_debugger_writes_reach_flash(tmp_path: Path) -> None:
    """Debug accesses ignore write protection, as QEMU's do (the guest's own stores to flash are dropped)."""
    m = Machine(threads="single", console=Console(out=None))
    m.load_elf(str(write_program(tmp_path / "p.elf", exit_with(0, BASE + 0x1000))))
    m.write_memory(0x100, b"\x12\x34\x56\x78", physical=True)
    assert m.read_memory(0x100, 4, physical=True) == b"\x12\x34\x56\x78"
    m.write_memory(0x104, b"\xaa", m.vcpus[0])  # MMU off: virtual = physical
    assert m.read_memory(0x104, 1, m.vcpus[0]) == b"\xaa"


def test_data_next_to_code_does_not_invalidate_it(tmp_path: Path) -> None:
    """Stores to data on a page that holds translated code leave its TBs alone."""
    data = BASE + 0x200
    code = mov32(2, data) + mov32(1, 1000) + [0xE3A03000]     # r2 = &data; r1 = 1000; r3 = 0
    loop = BASE + 4 * len(code)
    code += [0xE2833001, 0xE5823000, 0xE2511001]               # add r3, #1; str r3, [r2]; subs r1, #1
    code += [(branch(BASE + 4 * len(code), loop) & 0x0FFFFFFF) | 0x10000000]
    code += exit_with(0, BASE + 0x300)
    m = Machine(threads="single", console=Console(out=None))
    m.load_elf(str(write_program(tmp_path / "mixed.elf", code)))
    assert m.run() == 0
    assert m.read_memory(data, 4, physical=True) == (1000).to_bytes(4, "little")
    assert m.cache.stats.invalidated == 0 and m.cache.stats.translated == len(m.cache.map)
