"""Guests of our own (tests/guests/own, built with arm-none-eabi-gcc) against QEMU's recorded output."""
from __future__ import annotations

from pathlib import Path

import pytest

from ..conftest import run_cli

HERE = Path(__file__).parent / "own"


@pytest.mark.parametrize("threads", ["multi", "single"])
def test_psci_and_semihosting_answers_match_qemu(threads: str) -> None:
    r = run_cli(HERE / "psci_semi.elf", "-smp", "2", "--threads", threads)
    assert r.out == (HERE / "psci_semi.expected").read_bytes(), r.err
    assert r.code == 0, r.err


@pytest.mark.parametrize("threads", ["multi", "single"])
def test_tlb_invalidation_by_address_drops_the_whole_section_or_large_page(threads: str) -> None:
    """A section, supersection or large page goes from the TLBs (and its code from the jump caches)
    whichever of its pages a TLBIMVA* names, on the issuing CPU and, for the IS forms, the other."""
    r = run_cli(HERE / "tlb_span.elf", "-smp", "2", "--threads", threads)
    assert r.out == (HERE / "tlb_span.expected").read_bytes(), r.err
    assert r.code == 0, r.err


@pytest.mark.parametrize("threads", ["multi", "single"])
def test_a_page_invalidated_everywhere_is_not_translated_the_old_way_by_the_other_cpu(threads: str) -> None:
    """CPU0 remaps pages and invalidates them with TLBIMVAAIS while CPU1 reads them, holding some
    of them in its TLB and walking others (in multi mode both run at once): what CPU1 reads after
    seeing a round comes through that round's mapping."""
    r = run_cli(HERE / "tlb_race.elf", "-smp", "2", "--threads", threads)
    assert r.out == (HERE / "tlb_race.expected").read_bytes(), r.err
    assert r.code == 0, r.err


@pytest.mark.parametrize("mode", ["translated", "interp"])
def test_system_registers_accessed_inline_match_qemu(mode: str) -> None:
    """Thread ID registers written and read back in one block, ID registers, a set/way clean loop,
    and which CP15 accesses User mode may make (the rest UNDEFINED), as QEMU answers them; the
    one-instruction mode checks the same answers without blocks."""
    r = run_cli(HERE / "sysregs.elf", *(["--interp"] if mode == "interp" else []))
    assert r.out == (HERE / "sysregs.expected").read_bytes(), r.err
    assert r.code == 0, r.err
