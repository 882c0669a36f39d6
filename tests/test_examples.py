"""The shipped examples (examples/*: built ELFs beside their sources) against QEMU's recorded output."""
from __future__ import annotations

import pytest

from .conftest import EXAMPLES, run_cli

DEMO = EXAMPLES / "smp_demo"


@pytest.mark.parametrize("threads", ["multi", "single"])
def test_smp_demo_short_run_matches_qemu(threads: str) -> None:
    """Two rounds of the dashboard demo: PSCI, MMU, a remapped page with broadcast TLB maintenance
    (TLBIMVAIS in round 1, TLBIALLIS in round 2), cross-modified code, SGIs, timer interrupts and an
    LDREX/STREX spinlock on four vCPUs. The round count comes from semihosting SYS_GET_CMDLINE."""
    r = run_cli(DEMO / "smp_demo.elf", "-smp", "4", "--threads", threads, "-append", "rounds=2", timeout=60)
    assert r.out.decode(errors="replace") == (DEMO / "expected_rounds2.txt").read_text(), r.err
    assert r.out == (DEMO / "expected_rounds2.txt").read_bytes()
    assert r.code == 0, r.err


@pytest.mark.parametrize("threads", ["multi", "single"])
def test_smp_hello_matches_qemu(threads: str) -> None:
    r = run_cli(EXAMPLES / "smp_hello" / "smp_hello.elf", "-smp", "4", "--threads", threads)
    assert r.out == (EXAMPLES / "smp_hello" / "expected.txt").read_bytes(), r.err
    assert r.code == 0, r.err
