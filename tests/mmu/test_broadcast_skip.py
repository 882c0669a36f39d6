"""A broadcast TLB invalidation by address stops the world only when another vCPU may hold the
page, and a walk or jump-cache fill that races with its look drops what it filled (mmu/tlb.py).
The races are made deterministic here: the invalidation runs inside the other vCPU's walk or
block lookup. That the guest-visible result holds with both vCPUs running is tlb_race's
(tests/guests/own)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, List

import pytest

import tuiemu.mmu.tlb as tlb_module
from tuiemu.devices.console import Console
from tuiemu.machine import Machine
from tuiemu.mmu.pagetable import READ

from ..elfgen import BASE, branch, write_program

PAGE = BASE + 0x20000  # data the test reads through vCPU 1


def machine(tmp_path: Path) -> Machine:
    m = Machine(ncpus=2, threads="multi", console=Console(out=None), code_cache=False)
    m.load_elf(str(write_program(tmp_path / "loop.elf", [branch(BASE, BASE)])))  # b .
    return m


def broadcast(m: Machine, va: int) -> List[Any]:
    """vCPU 0 invalidates ``va`` everywhere (TLBIMVAAIS); returns the stop-the-world work it queued."""
    a = m.vcpus[0]
    before = len(a.work)
    m.maintenance.tlb(a, "TLBIMVAAIS", va)
    return list(a.work)[before:]


def test_a_page_no_other_vcpu_holds_is_invalidated_without_stopping_anyone(tmp_path: Path) -> None:
    m = machine(tmp_path)
    assert broadcast(m, PAGE) == []
    event = m.events.recent(10, {"tlb_flush"})[-1]
    assert event.info["targets"] == [0, 1] and event.info["stopped"] is False

    m.vcpus[1].tlb.translate(PAGE, READ, 1)  # now vCPU 1 holds it: only it may drop its entry
    assert m.vcpus[1].may_hold(PAGE >> 12)
    assert len(broadcast(m, PAGE)) == 1
    assert m.vcpus[1].tlb.holds(PAGE >> 12)  # until the stopped world runs the flush


def racing_walk(monkeypatch: pytest.MonkeyPatch, m: Machine, va: int) -> List[List[Any]]:
    """Make the next page-table walk race with vCPU 0's invalidation of ``va``: the walk reads the
    old translation, the invalidation then looks and finds nothing of the walker's yet. Returns
    the work each racing invalidation queued."""
    walk = tlb_module.walk
    raced: List[List[Any]] = []

    def walk_once(*args: Any, **kwargs: Any) -> Any:
        found = walk(*args, **kwargs)
        if not raced:
            raced.append(broadcast(m, va))
        return found

    monkeypatch.setattr(tlb_module, "walk", walk_once)
    return raced


def test_a_walk_that_races_with_the_look_drops_its_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    m = machine(tmp_path)
    b = m.vcpus[1]
    raced = racing_walk(monkeypatch, m, PAGE)
    assert b.tlb.translate(PAGE + 0x10, READ, 1) == PAGE + 0x10  # this access still completes
    assert raced == [[]]
    assert not b.tlb.holds(PAGE >> 12)  # but the entry it filled is gone
    b.tlb.translate(PAGE, READ, 1)
    assert b.tlb.holds(PAGE >> 12)  # without a race the entry stays


@pytest.mark.parametrize("race", [False, True])
def test_a_jump_cache_fill_that_races_with_the_look_is_dropped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               race: bool) -> None:
    m = machine(tmp_path)
    b = m.vcpus[1]
    b.R[15] = BASE
    if race:
        raced = racing_walk(monkeypatch, m, BASE)
    m.engine.execute(b, 1)  # one lookup, one block
    assert b.counters.tbs == 1
    if race:
        assert raced == [[]]
    assert bool(b.jump_cache) is not race
