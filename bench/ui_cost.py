"""What the dashboard costs the emulation: guest MIPS with and without it, side by side.

    python bench/ui_cost.py [--elf PATH] [--smp N] [--threads multi|single] [--pairs N]

Each sample is its own process. "headless" runs the machine alone; "dashboard" runs the
same machine under the Textual dashboard (Textual's headless driver, 120x40, the poller at
10 Hz and every visible pane redrawn: the whole UI but the terminal writes). Samples
alternate (headless, dashboard, headless, ...) and the ratio is taken pair by pair, because
absolute figures on a shared machine drift. The guest's run time is measured from start to
exit on the machine's own clock.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict

REPO = Path(__file__).resolve().parents[1]
GUESTS = REPO / "tests" / "guests" / "conformance" / "tests"

CHILD = r"""
import asyncio, json, sys, time
from tuiemu.machine import Machine
from tuiemu.devices.console import Console
cfg = json.loads(sys.argv[1])
if cfg["one_cpu"]:
    from tuiemu.cli import use_one_host_cpu
    use_one_host_cpu()  # what `tuiemu run` does by default under the GIL
m = Machine(ncpus=cfg["smp"], threads=cfg["threads"], console=Console(out=None))
m.load_elf(cfg["elf"])
if cfg["ui"]:
    from tuiemu.ui.app import Dashboard
    app = Dashboard(m, line_table=False)
    async def main():
        async with app.run_test(size=(120, 40)) as pilot:
            t0 = time.perf_counter()
            m.start()
            while not m.finished:
                await asyncio.sleep(0.05)
            return time.perf_counter() - t0
    wall = asyncio.run(main())
else:
    t0 = time.perf_counter()
    m.run()
    wall = time.perf_counter() - t0
print(json.dumps({"wall": wall, "insns": m.total_insns(), "exit": m.exit_code}))
"""


def sample(elf: Path, smp: int, threads: str, ui: bool, one_cpu: bool) -> Dict[str, Any]:
    cfg = {"elf": str(elf), "smp": smp, "threads": threads, "ui": ui, "one_cpu": one_cpu}
    p = subprocess.run([sys.executable, "-c", CHILD, json.dumps(cfg)], capture_output=True, text=True, cwd=REPO)
    if p.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{p.stderr[-3000:]}")
    out = json.loads(p.stdout.strip().splitlines()[-1])
    out["mips"] = out["insns"] / out["wall"] / 1e6
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--elf", type=Path, default=GUESTS / "bench.elf")
    ap.add_argument("--smp", type=int, default=1)
    ap.add_argument("--threads", default="multi", choices=("multi", "single"))
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--host-cpus", choices=("one", "all"), default="one",
                    help="as tuiemu run's option: 'one' (its default under the GIL) or 'all'")
    args = ap.parse_args()
    ratios, head, dash = [], [], []
    for _ in range(args.pairs):
        a = sample(args.elf, args.smp, args.threads, False, args.host_cpus == "one")
        b = sample(args.elf, args.smp, args.threads, True, args.host_cpus == "one")
        head.append(a["mips"])
        dash.append(b["mips"])
        ratios.append(b["mips"] / a["mips"])
        print(f"headless {a['mips']:6.2f} MIPS  dashboard {b['mips']:6.2f} MIPS  ratio {ratios[-1]:.3f}", flush=True)
    print(f"{args.elf.name} -smp {args.smp} --threads {args.threads} --host-cpus {args.host_cpus}: median headless "
          f"{statistics.median(head):.2f} MIPS, dashboard {statistics.median(dash):.2f} MIPS; dashboard/headless "
          f"median {statistics.median(ratios):.3f} (min {min(ratios):.3f}, max {max(ratios):.3f})")


if __name__ == "__main__":
    main()
