"""Data beside code: stores to granules of a code page that hold no code skip the slow path after the
first one; a store into the code still invalidates it, and a new translation of the page shuts the
granules again."""
from __future__ import annotations

from pathlib import Path

from tuiemu.devices.console import Console
from tuiemu.machine import Machine

from ..elfgen import BASE, branch, exit_with, mov32, write_program

DATA = BASE + 0x200
ITERATIONS = 1000
MOV_R0_7 = 0xE3A00007


def data_then_patch_program() -> list:
    """Stores ITERATIONS times to DATA (on the code's page), then runs the block at P twice, patching
    its first instruction (mov r0, #1 -> mov r0, #7) in between; r4 = r0 of the second run."""
    code = mov32(2, DATA) + mov32(1, ITERATIONS) + [0xE3A03000, 0xE3A07000]  # r3 = 0; r7 = 0
    loop = BASE + 4 * len(code)
    code += [0xE2833001, 0xE5823000, 0xE2511001]               # add r3, #1; str r3, [r2]; subs r1, #1
    code += [(branch(BASE + 4 * len(code), loop) & 0x0FFFFFFF) | 0x10000000]  # bne loop
    p = BASE + 4 * len(code)
    code += [0xE3A00001, 0xE2877001, 0xE3570002]               # P: mov r0, #1; add r7, #1; cmp r7, #2
    beq_at = len(code)
    code += [0]                                                # beq done (patched below)
    code += mov32(5, p) + mov32(6, MOV_R0_7) + [0xE5856000]    # str r6, [r5]: into the code at P
    code += [branch(BASE + 4 * len(code), p)]
    done = BASE + 4 * len(code)
    code[beq_at] = (branch(BASE + 4 * beq_at, done) & 0x0FFFFFFF) | 0x00000000  # beq
    code += [0xE1A04000] + exit_with(0, BASE + 0x300)           # mov r4, r0
    assert BASE + 4 * len(code) <= DATA
    return code


def test_stores_beside_code_stay_fast_and_stores_into_code_invalidate(tmp_path: Path) -> None:
    m = Machine(threads="single", console=Console(out=None))
    m.load_elf(str(write_program(tmp_path / "granules.elf", data_then_patch_program())))
    assert m.run() == 0
    v = m.vcpus[0]
    assert m.read_memory(DATA, 4, physical=True) == ITERATIONS.to_bytes(4, "little")
    assert v.tlb.counters.slow < 10  # the first store to DATA, the patch, the exit's parameter block
    assert v.R[4] == 7 and m.cache.stats.invalidated >= 1
    assert m.cache.dropped_by_cause["vcpu store"] >= 1


def test_a_translation_shuts_the_page_granules(tmp_path: Path) -> None:
    m = Machine(threads="single", console=Console(out=None))
    m.load_elf(str(write_program(tmp_path / "granules.elf", data_then_patch_program())))
    assert m.run() == 0
    gmap = m.vcpus[0].tlb.gmap[1]
    assert BASE >> 12 in gmap
    m.code.begin_translation(BASE >> 12)
    assert gmap == {}
