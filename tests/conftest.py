"""Shared fixtures: where the conformance guests are, and running a guest through the CLI."""
from __future__ import annotations

import os
import subprocess
import sys
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
    p = subprocess.run([sys.executable, "-m", "tuiemu", "run", str(elf), *args], capture_output=True,
                       timeout=timeout, stdin=subprocess.DEVNULL)
    return Run(p.returncode, p.stdout, p.stderr.decode(errors="replace"))


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
