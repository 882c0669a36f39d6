"""Shared fixtures: where the conformance guests are, and running a guest through the CLI."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import List, NamedTuple

import pytest

REPO = Path(__file__).resolve().parents[1]
GUESTS = Path(os.environ.get("TUIEMU_GUESTS", REPO.parent / "shared" / "guests" / "tests"))
EXAMPLES = REPO / "examples"


class Run(NamedTuple):
    code: int
    out: bytes
    err: str


def run_cli(elf: Path, *args: str, timeout: float = 120) -> Run:
    """Run the CLI; on a timeout, dump every thread's stack (SIGUSR1) into the failure message."""
    p = subprocess.Popen([sys.executable, "-m", "tuiemu", "run", str(elf), *args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGUSR1)
        time.sleep(1.0)
        p.kill()
        out, err = p.communicate()
        pytest.fail(f"tuiemu run {elf.name} {' '.join(args)} timed out after {timeout} s; stacks:\n"
                    + err.decode(errors="replace")[-6000:])
    return Run(p.returncode, out, err.decode(errors="replace"))


def guest(name: str) -> Path:
    path = GUESTS / f"{name}.elf"
    if not path.exists():
        pytest.skip(f"conformance guests not found at {GUESTS}")
    return path


def expected(name: str) -> bytes:
    return (GUESTS / f"{name}.expected").read_bytes()


def guest_cpus(name: str) -> int:
    for line in (GUESTS / "tests.txt").read_text().splitlines():
        parts: List[str] = line.split()
        if parts and parts[0] == name:
            return int(parts[1])
    return 1
