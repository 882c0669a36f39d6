"""Whole guests against QEMU's recorded output (tests/guests/own): board_regs dumps the GIC, PL011,
virtio-mmio, GICv2m, PL031, PL061, fw_cfg and flash registers and which addresses abort; echo
reads the UART, polled and through the GIC, from stdin fed by a pipe."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import REPO, run_cli

OWN = Path(__file__).resolve().parents[1] / "guests" / "own"


@pytest.mark.parametrize("threads", ["multi", "single"])
@pytest.mark.parametrize("ncpus", [1, 2])
def test_board_registers_match_qemu(ncpus: int, threads: str) -> None:
    r = run_cli(OWN / "board_regs.elf", "-smp", str(ncpus), "--threads", threads)
    assert r.out == (OWN / f"board_regs.smp{ncpus}.expected").read_bytes(), r.err
    assert r.code == 0, r.err


@pytest.mark.parametrize("threads", ["multi", "single"])
def test_echo_from_a_pipe_matches_qemu(threads: str) -> None:
    with open(OWN / "echo.input", "rb") as stdin:
        p = subprocess.run([sys.executable, "-m", "tuiemu", "run", str(OWN / "echo.elf"), "--threads", threads],
                           cwd=REPO, stdin=stdin, capture_output=True, timeout=120)
    assert p.stdout == (OWN / "echo.expected").read_bytes(), p.stderr.decode(errors="replace")
    assert p.returncode == 0, p.stderr.decode(errors="replace")
