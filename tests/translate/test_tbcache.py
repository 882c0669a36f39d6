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


def test_code_bitmap_covers_every_published_block_and_forgets_dropped_ones(tmp_path: Path) -> None:
    """Publishing a block adds its bytes to its page's code map (kept up to date in place); dropping
    one takes exactly its bytes out, so a store to them alone no longer invalidates anything."""
    m = Machine(console=Console(out=None))
    m.load_elf(str(write_program(tmp_path / "blocks.elf", many_blocks(6, 1))))
    assert m.run() == 0
    page = BASE >> 12
    tbs = sorted(m.cache.by_page[page], key=lambda tb: tb.pc)
    bitmap = m.code.bitmaps[page]
    expected = bytearray(4096)
    for tb in tbs:
        for lo, hi in tb.ranges:
            expected[lo - (page << 12):hi - (page << 12)] = b"\x01" * (hi - lo)
    assert bitmap == expected and len(tbs) > 6
    victim = tbs[3]
    lo, hi = victim.ranges[0]
    assert m.cache.invalidate_code(page, lo, hi, "test") >= 1
    assert not victim.valid
    assert all(m.code.bitmaps[page][a - (page << 12)] == 0 for a in range(lo, hi)
               if not any(t.valid and t.overlaps(a, a + 1) for t in tbs))
