"""The bounded TB cache: a full cache is flushed (as safe work) and the guest carries on correctly."""
from __future__ import annotations

from pathlib import Path

import pytest

from tuiemu.devices.console import Console
from tuiemu.machine import Machine

from ..elfgen import BASE, branch, exit_with, mov32, write_program


def many_blocks(n: int, rounds: int) -> list:
    """``rounds`` passes over ``n`` blocks (one add to r5 and a branch each), then exit."""
    code = [0xE3A05000] + mov32(1, rounds)
    top = BASE + 4 * len(code)
    for _ in range(n):
        pc = BASE + 4 * len(code)
        code += [0xE2855001, branch(pc + 4, pc + 8)]
    pc = BASE + 4 * len(code)
    code += [0xE2511001, (branch(pc + 4, top) & 0x0FFFFFFF) | 0x10000000]
    return code + mov32(4, 0) + exit_with(0, BASE + 0x8000)


@pytest.mark.parametrize("threads", ["single", "multi"])
def test_full_cache_is_flushed_and_execution_stays_correct(tmp_path: Path, threads: str) -> None:
    m = Machine(ncpus=2, threads=threads, console=Console(out=None))
    m.cache.max_tbs = 16
    m.load_elf(str(write_program(tmp_path / "blocks.elf", many_blocks(40, 20))))
    assert m.run() == 0
    assert m.vcpus[0].R[5] == 40 * 20
    assert m.cache.stats.flushes > 0
    assert len(m.cache.map) <= 16 + 2
