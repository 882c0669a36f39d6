"""Instruction counts are exact whatever the engine does inside (chaining, self-looping blocks)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tuiemu.devices.console import Console
from tuiemu.machine import Machine

from ..elfgen import BASE, branch, exit_with, mov32, write_program


def loop_program(iterations: int) -> list:
    """A load/add/store loop that ends with a semihosting exit."""
    code = [0xE3A00000] + mov32(1, iterations) + mov32(3, BASE + 0x2000)
    loop = BASE + 4 * len(code)
    code += [0xE5932000, 0xE0822000, 0xE5832004, 0xE2800001, 0xE2511001]
    code += [(branch(BASE + 4 * len(code), loop) & 0x0FFFFFFF) | 0x10000000]
    return code + exit_with(0, BASE + 0x3000)


@pytest.mark.parametrize("iterations", [1, 127, 128, 129, 5000])
def test_translator_and_interpreter_agree(tmp_path: Path, iterations: int) -> None:
    elf = str(write_program(tmp_path / "loop.elf", loop_program(iterations)))
    results = []
    for interp in (False, True):
        m = Machine(threads="single", interp=interp, console=Console(out=None))
        m.load_elf(elf)
        assert m.run() == 0
        v = m.vcpus[0]
        results.append((v.counters.insns, v.R[:15], m.read_memory(BASE + 0x2000, 8, physical=True)))
    assert results[0] == results[1]
    assert results[0][0] == 5 + 6 * iterations + len(exit_with(0, 0))


def test_max_insns_stops_within_a_block_of_the_limit(tmp_path: Path) -> None:
    m = Machine(threads="single", console=Console(out=None))
    m.load_elf(str(write_program(tmp_path / "loop.elf", loop_program(10 ** 6))))
    assert m.run(max_insns=100_000) is None
    assert 100_000 <= m.vcpus[0].counters.insns < 100_000 + 6 * 130
