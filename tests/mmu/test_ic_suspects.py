"""A full IC invalidation checks only freshly protected code pages: a fast-path store that raced with
a page's protection can change its code unseen only until every vCPU that was inside translated code
then has left it. Linux issues ICIALLUIS for every executable page it maps; checking every TB each
time was most of a boot's userland time."""
from __future__ import annotations

from typing import Dict

from tuiemu.devices.console import Console
from tuiemu.machine import Machine
from tuiemu.mmu.codepages import CodePages

RAM = 0x40000000
PPN = RAM >> 12


def test_a_page_stays_suspect_until_the_vcpus_inside_have_left() -> None:
    exits = {0: 5, 1: 7}
    inside: Dict[int, int] = {1: 7}
    code = CodePages(RAM)
    code.in_flight = lambda: dict(inside)
    code.done_since = lambda seen: all(exits[i] > n for i, n in seen.items())
    code.begin_translation(PPN)
    assert code.suspects() == [PPN]
    assert code.suspects() == [PPN]  # vCPU 1 may still be finishing a store it had started
    exits[1] += 1
    assert code.suspects() == [PPN]  # checked once more after its grace period ended...
    assert code.suspects() == []  # ...and then never again
    code.begin_translation(PPN)  # still code: not fresh
    assert code.suspects() == []


def test_iciallu_drops_a_tb_a_racing_store_changed() -> None:
    m = Machine(threads="single", console=Console(None))
    nop, b_self = 0xE1A00000, 0xEAFFFFFE
    m.space.write_bytes(RAM, nop.to_bytes(4, "little") + b_self.to_bytes(4, "little"), force=True)
    m.vcpus[0].power_on(RAM)
    v = m.vcpus[0]
    m.safe.exec_start(v)  # as if the vCPU were running when its code page was protected
    tb = m.engine.find_tb(v, RAM, v.state.tb_flags)
    m.ram.mm[0:4] = (0xE3A00001).to_bytes(4, "little")  # a store that slipped past the protection
    assert m.cache.revalidate(m.space.read_bytes) == 1 and not tb.valid
    m.safe.exec_end(v)
    fresh = m.engine.find_tb(v, RAM, v.state.tb_flags)
    assert m.cache.revalidate(m.space.read_bytes) == 0 and fresh.valid
    assert m.code.suspects() == []  # its grace period is over: later ICIALLUs skip it
