"""Floating-point and Advanced SIMD guests of our own (tests/guests/own, built with
-mfpu=neon-vfpv4 -mfloat-abi=hard) against QEMU's recorded output, in both threading modes."""
from __future__ import annotations

from pathlib import Path

import pytest

from ..conftest import run_cli

HERE = Path(__file__).parent / "own"
THREADS = pytest.mark.parametrize("threads", ["multi", "single"])


def check(name: str, *args: str) -> None:
    r = run_cli(HERE / f"{name}.elf", *args)
    assert r.out == (HERE / f"{name}.expected").read_bytes(), r.err
    assert r.code == 0, r.err


@THREADS
def test_fp_system_registers_and_traps_match_qemu(threads: str) -> None:
    """FPSID/MVFR/FPEXC/CPACR/FPSCR values and which accesses take Undefined (fp_sysregs.c)."""
    check("fp_sysregs", "--threads", threads)


@THREADS
def test_newlib_printf_strtod_and_libm_match_qemu(threads: str) -> None:
    """printf("%f"), strtod, sqrt/sin/exp/pow..., conversions, half precision, every FPSCR mode,
    NaN payloads and the cumulative flags, from hard-float newlib (fp_libm.c)."""
    check("fp_libm", "--threads", threads)


@THREADS
def test_neon_intrinsics_match_qemu(threads: str) -> None:
    """arm_neon.h: integer, saturating (QC), shifts, widen/narrow, permutes, float, structures."""
    check("neon", "--threads", threads)


@THREADS
def test_each_vcpu_keeps_its_own_fp_state(threads: str) -> None:
    """Four vCPUs, each with its own rounding mode, FZ and DN, interleaving (fp_smp.c)."""
    check("fp_smp", "-smp", "4", "--threads", threads)


@pytest.mark.slow
def test_newlib_fp_guest_in_interpreter_mode() -> None:
    check("fp_libm", "--interp")
