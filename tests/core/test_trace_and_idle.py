"""--trace writes a Perfetto-readable file; sleeping vCPUs do not burn host CPU."""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from tuiemu.devices.console import Console
from tuiemu.machine import Machine

from ..conftest import EXAMPLES, run_cli
from ..elfgen import BASE, branch, write_program

WFI = 0xE320F003


def test_trace_file_has_a_track_per_vcpu_and_lock(tmp_path: Path) -> None:
    out = tmp_path / "run.trace.json"
    r = run_cli(EXAMPLES / "smp_hello" / "smp_hello.elf", "-smp", "4", "--trace", str(out))
    assert r.code == 0, r.err
    doc = json.loads(out.read_text())
    events = doc["traceEvents"]
    names = {(e["pid"], e["args"]["name"]) for e in events if e.get("name") == "thread_name"}
    assert {n for _, n in names} >= {"cpu0", "cpu1", "cpu2", "cpu3", "tb", "io", "safe-work", "exclusive"}
    spans = [e for e in events if e.get("ph") == "X"]
    assert any(e["name"] == "running" for e in spans)  # vCPU run-state spans
    assert any(e["name"].startswith("held by cpu") for e in spans)  # lock holds, by whom
    assert all(e["dur"] >= 0 and e["ts"] >= 0 for e in spans)


def test_vcpus_in_wfi_block_their_threads(tmp_path: Path) -> None:
    """CPU0 spins; CPUs 1-3 sleep in WFI: their host threads use (almost) no CPU time."""
    spin = BASE
    sleep = BASE + 8
    code = [0xE2800001, branch(spin + 4, spin), WFI, branch(sleep + 4, sleep)]
    m = Machine(ncpus=4, threads="multi", console=Console(out=None))
    m.load_elf(str(write_program(tmp_path / "idle.elf", code)))
    for v in m.vcpus[1:]:
        v.power_on(sleep)
    m.start()
    try:
        deadline = time.monotonic() + 10
        while not all(v.run_state == "wfi" for v in m.vcpus[1:]):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        threads = {t.name: t for t in threading.enumerate()}
        clocks = {n: time.pthread_getcpuclockid(threads[n].ident) for n in ("cpu1", "cpu2", "cpu3")}
        before = {n: time.clock_gettime(c) for n, c in clocks.items()}
        spun = m.vcpus[0].counters.insns
        time.sleep(1.0)
        used = {n: time.clock_gettime(c) - before[n] for n, c in clocks.items()}
        assert m.vcpus[0].counters.insns > spun + 10000  # CPU0 kept running meanwhile
        assert all(u < 0.05 for u in used.values()), used
    finally:
        m.exit(0)
