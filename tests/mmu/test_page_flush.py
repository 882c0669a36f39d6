"""A TLB invalidation by address forgets only what it must: the jump cache survives one that names
a page no cached block lies on (an OS does thousands of those), and is emptied by one that does.
That a section goes as a whole, on every CPU, is the tlb_span guest's (tests/guests/own)."""
from __future__ import annotations

from pathlib import Path

from tuiemu.devices.console import Console
from tuiemu.machine import Machine

from ..elfgen import BASE, branch, write_program


def test_page_flush_keeps_the_jump_cache_unless_a_block_lies_on_the_page(tmp_path: Path) -> None:
    loop = BASE + 4
    code = [0xE3A00000, 0xE2800001, branch(loop + 4, loop)]  # mov r0, #0; loop: add r0, #1; b loop
    m = Machine(threads="single", console=Console(out=None))
    m.load_elf(str(write_program(tmp_path / "loop.elf", code)))
    assert m.run(max_insns=1000) is None
    v = m.vcpus[0]
    assert v.jump_cache and v.jump_pages == {BASE >> 12}

    v.flush_page_translations(BASE + 0x5000)  # a page without code: the blocks stay
    assert v.jump_cache
    v.flush_page_translations(BASE + 0x1000)  # the page after: a block there could start on this one
    assert not v.jump_cache and not v.jump_pages

    m.run(max_insns=2000)  # the machine's total
    assert v.jump_cache
    fills = v.tlb.counters.fills
    v.flush_page_translations(BASE + 0x123)   # any address in the page
    assert not v.jump_cache
    m.run(max_insns=3000)
    assert v.tlb.counters.fills > fills       # the code page was walked again
    assert v.jump_cache and v.R[0] > 1000     # still counting: two instructions a turn
