"""The shared conformance guests run to their exit status with QEMU's recorded output."""
from __future__ import annotations

import pytest

from .conftest import expected, guest, guest_cpus, run_cli

SINGLE_CPU = ["hello", "alu", "mem", "bench"]


@pytest.mark.parametrize("name", SINGLE_CPU)
def test_guest_matches_qemu(name: str) -> None:
    r = run_cli(guest(name), "-smp", str(guest_cpus(name)))
    assert r.out == expected(name), r.err
    assert r.code == 0, r.err


@pytest.mark.parametrize("name", ["hello", "mem"])
def test_guest_in_interpreter_mode(name: str) -> None:
    """The reference interpreter path gives the same results as the translator."""
    r = run_cli(guest(name), "--interp")
    assert r.out == expected(name), r.err
    assert r.code == 0, r.err
