"""GICv2 group 0 interrupts as FIQs (tests/guests/own/fiq.c) against QEMU's recorded output: FIQEn
gating, CPSR.F masking, priority between an FIQ and an IRQ, an FIQ preempting an IRQ handler, the
virtual timer as an FIQ, and the banked r8-r12 of FIQ mode."""
from __future__ import annotations

from pathlib import Path

import pytest

from ..conftest import run_cli

HERE = Path(__file__).parent / "own"


@pytest.mark.parametrize("threads", ["multi", "single"])
def test_group0_sgi_and_timer_taken_as_fiq_match_qemu(threads: str) -> None:
    r = run_cli(HERE / "fiq.elf", "--threads", threads)
    assert r.out == (HERE / "fiq.expected").read_bytes(), r.err
    assert r.code == 0, r.err


def test_fiq_guest_in_interpreter_mode() -> None:
    """One instruction per block: an FIQ is taken at every instruction boundary, not only at block ends."""
    r = run_cli(HERE / "fiq.elf", "--interp")
    assert r.out == (HERE / "fiq.expected").read_bytes(), r.err
    assert r.code == 0, r.err
