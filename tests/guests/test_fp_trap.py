"""FP traps made visible: a guest's lazy FP context switch (tests/guests/own/fp_lazy.c) against
QEMU's recorded output, and the engine's count of the Undefined exceptions that the disabled FPU
caused (the per-vCPU ``FP traps`` column of --stats, ``fp_trap`` events in --trace) equal to the
guest's own count, an unallocated VMRS (a plain Undefined) not among them; the dashboard's
events pane filters them by kind."""
from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Dict, List

import pytest

from tuiemu.ui.app import Dashboard

from ..conftest import run_cli
from ..ui.test_dashboard import finish, machine_for, pane_text, until

HERE = Path(__file__).parent / "own"


def vcpu_table(stats: str) -> List[Dict[str, str]]:
    """The rows of --stats' per-vCPU table, by column name."""
    lines = stats.splitlines()
    start = lines.index("per vCPU:") + 1
    header = re.split(r"\s{2,}", lines[start].strip())
    rows = []
    for line in lines[start + 1:]:
        if not line.startswith("  cpu"):
            break
        rows.append(dict(zip(header, re.split(r"\s{2,}", line.strip()))))
    return rows


@pytest.mark.parametrize("threads", ["multi", "single"])
def test_lazy_fp_switch_traps_are_counted_and_recorded(threads: str, tmp_path: Path) -> None:
    trace = tmp_path / "trace.json"
    r = run_cli(HERE / "fp_lazy.elf", "--threads", threads, "--stats", "--trace", str(trace))
    assert r.out == (HERE / "fp_lazy.expected").read_bytes(), r.err
    assert r.code == 0, r.err
    out = r.out.decode()
    guest_traps = int(re.search(r"^fp traps total=([0-9a-f]+)$", out, re.M).group(1), 16)
    other = int(re.search(r"^other undefined=([0-9a-f]+)$", out, re.M).group(1), 16)
    assert guest_traps == 12 and other == 1
    (cpu0,) = vcpu_table(r.err)
    assert int(cpu0["FP traps"]) == guest_traps
    assert int(cpu0["exceptions"]) == guest_traps + other
    events = [e for e in json.loads(trace.read_text())["traceEvents"] if e.get("name") == "fp_trap"]
    assert len(events) == guest_traps
    assert {e["tid"] for e in events} == {0}
    assert all(e["args"]["insn"] and e["args"]["pc"].startswith("0x4") for e in events)


def test_dashboard_events_pane_filters_fp_traps() -> None:
    m = machine_for(HERE / "fp_lazy.elf", 1)

    async def body() -> None:
        app = Dashboard(m, line_table=False)
        async with app.run_test(size=(120, 40)) as pilot:
            # the engine counts every trap; the dashboard's event log is a bounded ring it polls, so
            # under load it may hold fewer than all twelve
            # every event of the finished run polled (the newest one in the model's log)
            await until(pilot, lambda: m.finished and app.model.events and app.model.events[-1].seq == m.events.seq,
                        timeout=120, what="the guest's end and all its events")
            assert any(e.kind == "fp_trap" for e in app.model.events)
            assert m.vcpus[0].counters.fp_traps == 12
            shown = sum(e.kind == "fp_trap" for e in app.model.events)
            await pilot.press("f")
            await pilot.pause()
            app.screen.query_one("Input").value = "fp_trap"
            await pilot.press("enter")
            await pilot.pause(0.3)
            assert len(app.model.visible_events()) == shown
            lines = pane_text(app, "events").splitlines()
            assert "fp_trap" in lines[0]  # the filter named in the status line
            assert len(lines) > 1 and all("cpu0 fp_trap" in ln and "FPU off" in ln for ln in lines[1:]), lines
    try:
        asyncio.run(body())
    finally:
        finish(m)
