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
