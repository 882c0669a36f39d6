"""Debian 12's stock ARMv7 kernel boots on 2 vCPUs to busybox: /init prints its line, runs a command
pinned to each CPU with taskset, and powers off through PSCI SYSTEM_OFF (exit status 0).

The kernel, busybox and the initramfs come from tools/linux/fetch-and-build.sh (apt; .ci/run runs
it). When they are missing the test runs the script itself, and skips, saying why, only if the
packages cannot be fetched. The boot runs in the deterministic mode with an instruction bound, so
its cost is fixed: about 205 M guest instructions to power-off.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from ..conftest import REPO, run_cli

LINUX = Path(os.environ.get("TUIEMU_LINUX_DIR") or REPO / ".cache" / "linux")
FETCH = REPO / "tools" / "linux" / "fetch-and-build.sh"
CMDLINE = "cryptomgr.notests console=ttyAMA0"
MAX_INSNS = 400_000_000  # twice what the boot takes: a hang ends as a failure, not a timeout


def linux_files() -> Path:
    if not (LINUX / "uImage").is_file() or not (LINUX / "initramfs.cpio").is_file():
        r = subprocess.run(["bash", str(FETCH), str(LINUX)], capture_output=True, text=True, timeout=900)
        if r.returncode != 0:
            last = (r.stderr.strip().splitlines() or ["no output"])[-1]
            pytest.skip(f"Debian's kernel and busybox packages could not be fetched ({FETCH.name}: {last})")
    return LINUX


@pytest.mark.slow
def test_linux_boots_on_two_vcpus_to_init_and_powers_off() -> None:
    files = linux_files()
    r = run_cli(files / "uImage", "-initrd", str(files / "initramfs.cpio"), "-append", CMDLINE, "-smp", "2",
                "-m", "256", "--threads", "single", "--max-insns", str(MAX_INSNS), "--stats", timeout=1500)
    out = r.out.decode(errors="replace")
    tail = out[-3000:] + r.err[-2000:]
    assert "smp: Brought up 1 node, 2 CPUs" in out, tail
    assert "tuiemu-init: hello from /init" in out, tail
    for cpu in (0, 1):
        assert f"tuiemu-init: taskset -c {cpu}: running on cpu {cpu}" in out, tail
    assert "reboot: Power down" in out and r.code == 0, tail
