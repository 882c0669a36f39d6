"""Guest MIPS, translation rate and memory for one ELF, several engine configurations side by side.

    python bench/run.py [--elf PATH] [--smp-elf PATH] [--repeat N]

Each configuration runs in its own process (so peak RSS is its own) and the
figures are printed together, as ratios to the default translator, because
absolute numbers on a shared machine are noisy.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

REPO = Path(__file__).resolve().parents[1]
GUESTS = REPO / "tests" / "guests" / "conformance" / "tests"

CHILD = r"""
import json, resource, sys, time
from tuiemu.machine import Machine
from tuiemu.devices.console import Console
cfg = json.loads(sys.argv[1])
m = Machine(ncpus=cfg["smp"], threads=cfg["threads"], interp=cfg["interp"], console=Console(out=None))
m.load_elf(cfg["elf"])
t0 = time.perf_counter()
code = m.run(max_insns=cfg["max_insns"])
wall = time.perf_counter() - t0
c = m.counters()
print(json.dumps({"exit": code, "wall": wall, "insns": sum(v["insns"] for v in c["vcpus"]),
                  "tbs": c["tb"]["translated"], "insns_translated": c["tb"]["insns_translated"],
                  "translate_s": c["tb"]["translate_ns"] / 1e9,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_config(elf: Path, smp: int = 1, threads: str = "single", interp: bool = False,
               max_insns: Optional[int] = None) -> Dict[str, Any]:
    cfg = {"elf": str(elf), "smp": smp, "threads": threads, "interp": interp, "max_insns": max_insns}
    p = subprocess.run([sys.executable, "-c", CHILD, json.dumps(cfg)], capture_output=True, text=True, cwd=REPO)
    if p.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{p.stderr}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def qemu_wall(elf: Path, smp: int) -> Optional[float]:
    qemu = shutil.which("qemu-system-arm")
    if qemu is None:
        return None
    t0 = time.perf_counter()
    subprocess.run([qemu, "-M", "virt", "-cpu", "cortex-a15", "-smp", str(smp), "-nographic", "-semihosting",
                    "-kernel", str(elf)], capture_output=True, timeout=600, stdin=subprocess.DEVNULL)
    return time.perf_counter() - t0


def best(runs: List[Dict[str, Any]]) -> Dict[str, Any]:
    return min(runs, key=lambda r: r["wall"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--elf", type=Path, default=GUESTS / "bench.elf")
    ap.add_argument("--smp-elf", type=Path, default=GUESTS / "bench_smp.elf")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--interp-insns", type=int, default=3_000_000)
    args = ap.parse_args()

    print(f"# {args.elf.name}, best of {args.repeat}")
    rows = []
    base = best([run_config(args.elf) for _ in range(args.repeat)])
    rows.append(("translator (single thread)", base))
    rows.append(("translator (multi thread)", best([run_config(args.elf, threads="multi")
                                                    for _ in range(args.repeat)])))
    rows.append((f"interpreter (--interp, first {args.interp_insns} insns)",
                 best([run_config(args.elf, interp=True, max_insns=args.interp_insns)
                       for _ in range(args.repeat)])))
    print(f"{'configuration':48} {'insns':>11} {'wall s':>8} {'MIPS':>7} {'ratio':>6} {'RSS MB':>7}")
    base_mips = base["insns"] / base["wall"] / 1e6
    for name, r in rows:
        mips = r["insns"] / r["wall"] / 1e6
        print(f"{name:48} {r['insns']:>11} {r['wall']:>8.2f} {mips:>7.2f} {mips / base_mips:>6.2f} "
              f"{r['rss_mb']:>7.0f}")
    print(f"translation: {base['tbs']} TBs, {base['insns_translated']} insns in {base['translate_s']:.2f} s "
          f"= {base['insns_translated'] / max(base['translate_s'], 1e-9):.0f} guest insns translated/s")
    q = qemu_wall(args.elf, 1)
    if q is not None:
        print(f"qemu-system-arm wall time {q:.2f} s; tuiemu/qemu wall ratio {base['wall'] / q:.0f}x")

    if args.smp_elf.exists():
        print(f"\n# {args.smp_elf.name}, 4 vCPUs, best of {args.repeat}")
        multi = best([run_config(args.smp_elf, smp=4, threads="multi") for _ in range(args.repeat)])
        single = best([run_config(args.smp_elf, smp=4, threads="single") for _ in range(args.repeat)])
        for name, r in (("--threads multi", multi), ("--threads single", single)):
            print(f"{name:18} wall {r['wall']:.2f} s, {r['insns']} insns, exit {r['exit']}")
        print(f"multi/single wall ratio {multi['wall'] / single['wall']:.2f}")


if __name__ == "__main__":
    main()
