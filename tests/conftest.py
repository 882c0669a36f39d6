"""Shared helpers: where the test guests are, running a guest through the CLI, and the CI rule
that nothing may skip."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator, List, NamedTuple

import pytest

REPO = Path(__file__).resolve().parents[1]
# The conformance guests (built ELFs, QEMU's recorded output, tests.txt) ship with the tests.
# TUIEMU_GUESTS may point at another folder of the same shape, e.g. a work-in-progress copy.
GUESTS = Path(os.environ.get("TUIEMU_GUESTS") or REPO / "tests" / "guests" / "conformance" / "tests")
EXAMPLES = REPO / "examples"
# The tests' machines and CLI runs share a code cache of their own (translate/codecache.py), not the
# user's; a test of the cache itself sets its own.
os.environ.setdefault("TUIEMU_CODE_CACHE", str(REPO / ".cache" / "code-cache-tests"))
# Under CI (CI=1, set by .ci/run) every tool the tests use is installed: a skip is a failure.
CI = os.environ.get("CI", "").lower() in ("1", "true")


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
    assert path.is_file(), f"conformance guest {path} is missing"
    return path


def expected(name: str) -> bytes:
    return (GUESTS / f"{name}.expected").read_bytes()


def guest_cpus(name: str) -> int:
    for line in (GUESTS / "tests.txt").read_text().splitlines():
        parts: List[str] = line.split()
        if parts and parts[0] == name:
            return int(parts[1])
    return 1


def _no_skips_under_ci(report: pytest.TestReport | pytest.CollectReport) -> None:
    if CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI, where every test must run: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    _no_skips_under_ci(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    """A module-level skip (``pytest.importorskip``) fails collection under CI."""
    outcome = yield
    _no_skips_under_ci(outcome.get_result())
