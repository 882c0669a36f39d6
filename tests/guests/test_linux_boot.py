"""Debian 12's stock ARMv7 kernel boots on 2 vCPUs to busybox: /init prints its line, runs a command
pinned to each CPU with taskset, and powers off through PSCI SYSTEM_OFF (exit status 0).

The kernel, busybox and the initramfs come from tools/linux/fetch-and-build.sh (apt; .ci/run runs
it). When they are missing the test runs the script itself, and skips, saying why, only if the
packages cannot be fetched. The boot runs under an instruction bound, in each threading mode: about
210 M guest instructions to power-off.
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Dict

import pytest

from ..conftest import REPO, Run, run_cli

LINUX = Path(os.environ.get("TUIEMU_LINUX_DIR") or REPO / ".cache" / "linux")
FETCH = REPO / "tools" / "linux" / "fetch-and-build.sh"
CMDLINE = "cryptomgr.notests console=ttyAMA0"
MAX_INSNS = 400_000_000  # twice what the boot takes: a hang ends as a failure, not a timeout
# Through SMP bring-up (cpu1 starts at about 81 M) and the first timer interrupts; by 30 M the kernel
# has not started its clock (every timestamp 0.000000), taken an interrupt or started cpu1.
EARLY_INSNS = 85_000_000


def linux_files() -> Path:
    if not (LINUX / "uImage").is_file() or not (LINUX / "initramfs.cpio").is_file():
        r = subprocess.run(["bash", str(FETCH), str(LINUX)], capture_output=True, text=True, timeout=900)
        if r.returncode != 0:
            last = (r.stderr.strip().splitlines() or ["no output"])[-1]
            pytest.skip(f"Debian's kernel and busybox packages could not be fetched ({FETCH.name}: {last})")
    return LINUX


def boot(*args: str, cmdline: str = CMDLINE, timeout: float = 1500) -> Run:
    files = linux_files()
    return run_cli(files / "uImage", "-initrd", str(files / "initramfs.cpio"), "-append", cmdline, "-smp", "2",
                   "-m", "256", "--stats", *args, timeout=timeout)


@pytest.mark.slow
@pytest.mark.parametrize("threads", ["single", "multi"])
def test_linux_boots_on_two_vcpus_to_init_and_powers_off(threads: str) -> None:
    r = boot("--threads", threads, "--max-insns", str(MAX_INSNS))
    out = r.out.decode(errors="replace")
    tail = out[-3000:] + r.err[-2000:]
    assert "smp: Brought up 1 node, 2 CPUs" in out, tail
    assert "tuiemu-init: hello from /init" in out, tail
    for cpu in (0, 1):
        assert f"tuiemu-init: taskset -c {cpu}: running on cpu {cpu}" in out, tail
    assert "reboot: Power down" in out and r.code == 0, tail


def vcpu_stats(err: str) -> Dict[str, Dict[str, str]]:
    """The per-vCPU table of --stats, as {vcpu: {column: value}} (columns are 2+ spaces apart)."""
    lines = err.splitlines()
    head = next(i for i, line in enumerate(lines) if line.split()[:1] == ["vcpu"])
    columns = re.split(r"\s{2,}", lines[head].strip())
    rows = {}
    for line in lines[head + 1:]:
        cells = re.split(r"\s{2,}", line.strip())
        if not cells[0].startswith("cpu"):
            break
        rows[cells[0]] = dict(zip(columns, cells))
    return rows


@pytest.mark.slow
def test_deterministic_mode_boots_the_same_way_twice() -> None:
    """The boot's first instructions twice in --threads single, with earlycon so the kernel prints from
    its start: the same console text (printk stamps come from guest time, so from instruction counts)
    and the same per-vCPU counts, both vCPUs having run."""
    runs = [boot("--threads", "single", "--max-insns", str(EARLY_INSNS), timeout=600,
                 cmdline=CMDLINE + " earlycon=pl011,0x9000000") for _ in range(2)]
    for r in runs:
        assert r.code == 124, r.err[-2000:]  # stopped by --max-insns
    first, second = runs
    text = first.out.decode(errors="replace")
    assert "Booting Linux on physical CPU 0x0" in text and "smp: Brought up 1 node, 2 CPUs" in text, text[-2000:]
    assert first.out == second.out
    counts = [{cpu: (row["state"], int(row["insns"]), int(row["irqs"])) for cpu, row in vcpu_stats(r.err).items()}
              for r in runs]
    assert counts[0] == counts[1]
    assert sorted(counts[0]) == ["cpu0", "cpu1"] and counts[0]["cpu1"][1] > 0 and counts[0]["cpu0"][2] > 0
