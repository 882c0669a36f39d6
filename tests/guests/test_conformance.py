"""The conformance guests (tests/guests/conformance) run to their exit status with QEMU's recorded output."""
from __future__ import annotations

import pytest

from tuiemu.devices.console import Console
from tuiemu.machine import Machine

from ..conftest import expected, guest, guest_cpus, run_cli

SINGLE_CPU = ["hello", "alu", "mem", "thumb", "newlib", pytest.param("bench", marks=pytest.mark.slow)]
MULTI_CPU = ["smp_spinlock", "smp_atomics", "bench_smp", "smc", "mmu", "timer_irq"]


@pytest.mark.parametrize("threads", ["multi", "single"])
@pytest.mark.parametrize("name", SINGLE_CPU)
def test_guest_matches_qemu(name: str, threads: str) -> None:
    """Each one-vCPU guest in both threading modes (their schedulers and guest clocks differ)."""
    r = run_cli(guest(name), "-smp", str(guest_cpus(name)), "--threads", threads)
    assert r.out == expected(name), r.err
    assert r.code == 0, r.err


@pytest.mark.slow
@pytest.mark.parametrize("threads", ["multi", "single"])
@pytest.mark.parametrize("name", MULTI_CPU)
@pytest.mark.parametrize("attempt", [1, 2, 3])
def test_smp_guest_matches_qemu(name: str, threads: str, attempt: int) -> None:
    """Each SMP guest, several times in each threading mode (races show up as flaky runs)."""
    r = run_cli(guest(name), "-smp", str(guest_cpus(name)), "--threads", threads)
    assert r.out == expected(name), r.err
    assert r.code == 0, r.err


@pytest.mark.parametrize("name", ["hello", pytest.param("mem", marks=pytest.mark.slow),
                                  pytest.param("thumb", marks=pytest.mark.slow)])
def test_guest_in_interpreter_mode(name: str) -> None:
    """The reference interpreter path gives the same results as the translator."""
    r = run_cli(guest(name), "--interp")
    assert r.out == expected(name), r.err
    assert r.code == 0, r.err


def run_captured(name: str, threads: str = "single") -> tuple:
    console = Console(out=None)
    console.capture = True
    m = Machine(ncpus=guest_cpus(name), threads=threads, console=console)
    m.load_elf(str(guest(name)))
    code = m.run()
    return code, bytes(console.captured), [v.counters.insns for v in m.vcpus]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["smp_spinlock", "timer_irq", "mmu"])
def test_single_thread_mode_is_deterministic(name: str) -> None:
    """Two runs: identical output and identical instruction counts per vCPU."""
    first, second = run_captured(name), run_captured(name)
    assert first[0] == 0 and first[1] == expected(name)
    assert first == second
