"""The benchmark suite: every workload, side by side in one run, under CPython and PyPy, beside QEMU.

    python bench/suite.py [--quick] [--json OUT.json] [--compare OLD.json] [--pypy PATH] [--no-qemu]

Workloads (each in its own process, so its peak RSS is its own):

* bench         the conformance suite's integer workload (CRC, sieve, matrix, hashing), 1 vCPU
* branchy       bench/guests/branchy.c: linked-list sort, matrix, a byte-driven state machine,
                CRC16 at -O2 (CoreMark-shaped: short blocks, many branches), 1 vCPU
* codeheavy     bench/guests/codeheavy.c: 3000 distinct functions called three times each (the
                shape of an OS boot): first-execution cost, i.e. translation, dominates;
                codeheavy/warm runs it again with the code cache the first run filled
* nbody         bench/guests/nbody.c: n-body in double and a single-precision matrix multiply,
                hard float (VFP), self-checking, 1 vCPU
* smp_spinlock, smp_atomics, bench_smp   4 vCPUs, in --threads multi and --threads single
* startup       `tuiemu run hello.elf`, the whole process

Every run has a code cache of its own, empty unless the case says warm. Figures: guest MIPS
(instructions / seconds of the run itself), blocks translated per second,
peak RSS, and each workload's wall time under qemu-system-arm when it is installed. With
``--json`` the results are written for a later ``--compare``, which prints new/old ratios.
PyPy needs pyelftools: ``pypy3 -m venv .venv-pypy && .venv-pypy/bin/pip install pyelftools``,
then ``--pypy .venv-pypy/bin/pypy3`` (or have ``pypy3`` import it). Nothing here is asserted.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional

REPO = Path(__file__).resolve().parents[1]
CONF = REPO / "tests" / "guests" / "conformance" / "tests"
OWN = Path(__file__).resolve().parent / "guests"


class Case(NamedTuple):
    name: str
    elf: Path
    smp: int = 1
    threads: str = "single"
    warm: bool = False  # run once before, so the code cache holds its blocks (else the cache starts empty)


CASES = [
    Case("bench", CONF / "bench.elf"),
    Case("branchy", OWN / "branchy.elf"),
    Case("codeheavy", OWN / "codeheavy.elf"),
    Case("codeheavy/warm", OWN / "codeheavy.elf", warm=True),
    Case("nbody", OWN / "nbody.elf"),
    *(Case(f"{g}/{t}", CONF / f"{g}.elf", 4, t) for g in ("smp_spinlock", "smp_atomics", "bench_smp")
      for t in ("multi", "single")),
]
QUICK = {"bench", "branchy", "codeheavy", "codeheavy/warm", "smp_spinlock/multi", "smp_spinlock/single"}

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[2])
from tuiemu.cli import gil_enabled, use_one_host_cpu
from tuiemu.devices.console import Console
from tuiemu.machine import Machine
cfg = json.loads(sys.argv[1])
if gil_enabled():
    use_one_host_cpu()  # as `tuiemu run` does
m = Machine(ncpus=cfg["smp"], threads=cfg["threads"], console=Console(out=None))
m.load_elf(cfg["elf"])
t0 = time.perf_counter()
code = m.run()
wall = time.perf_counter() - t0
tb = m.counters()["tb"]
print(json.dumps({"exit": code, "wall": wall, "insns": m.total_insns(), "tbs": tb["translated"],
                  "translate_s": tb["translate_ns"] / 1e9,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_case(python: str, case: Case) -> Dict[str, Any]:
    """One run, with a code cache of its own: empty, or filled by a run before (``case.warm``)."""
    cfg = {"elf": str(case.elf), "smp": case.smp, "threads": case.threads}
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, TUIEMU_CODE_CACHE=cache)
        for _ in range(2 if case.warm else 1):
            p = subprocess.run([python, "-c", CHILD, json.dumps(cfg), str(REPO)], capture_output=True, text=True,
                               cwd=REPO, timeout=3600, env=env)
    if p.returncode != 0:
        return {"error": p.stderr.strip().splitlines()[-1] if p.stderr.strip() else f"status {p.returncode}"}
    r = json.loads(p.stdout.strip().splitlines()[-1])
    r["mips"] = r["insns"] / r["wall"] / 1e6
    r["tbs_per_s"] = r["tbs"] / r["wall"]
    return r


def startup(python: str) -> float:
    """Best of three: the whole `tuiemu run hello.elf` process."""
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run([python, "-m", "tuiemu", "run", str(CONF / "hello.elf")], capture_output=True, cwd=REPO,
                       timeout=120, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
        best = min(best, time.perf_counter() - t0)
    return best


def qemu_wall(case: Case) -> Optional[float]:
    qemu = shutil.which("qemu-system-arm")
    if qemu is None:
        return None
    t0 = time.perf_counter()
    subprocess.run([qemu, "-M", "virt", "-cpu", "cortex-a15", "-smp", str(case.smp), "-nographic", "-semihosting",
                    "-kernel", str(case.elf)], capture_output=True, timeout=600, stdin=subprocess.DEVNULL)
    return time.perf_counter() - t0


def pypy_usable(path: Optional[str]) -> Optional[str]:
    candidates = [path] if path else [str(REPO / ".venv-pypy" / "bin" / "pypy3"), "pypy3"]
    for c in candidates:
        exe = shutil.which(c) if c and "/" not in c else c
        if exe and Path(exe).exists() and subprocess.run([exe, "-c", "import elftools"],
                                                          capture_output=True).returncode == 0:
            return exe
    return None


def commit() -> str:
    p = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO)
    return p.stdout.strip() or "?"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="bench, branchy, codeheavy, smp_spinlock only")
    ap.add_argument("--json", type=Path, help="write the results here")
    ap.add_argument("--compare", type=Path, help="an earlier --json file: print new/old ratios")
    ap.add_argument("--pypy", help="a PyPy interpreter that can import elftools")
    ap.add_argument("--no-qemu", action="store_true")
    args = ap.parse_args()
    cases = [c for c in CASES if not args.quick or c.name in QUICK]
    runtimes = {"cpython": sys.executable}
    pypy = pypy_usable(args.pypy)
    if pypy:
        runtimes["pypy"] = pypy
    doc: Dict[str, Any] = {"meta": {"date": datetime.datetime.now().isoformat(timespec="seconds"),
                                    "commit": commit(), "machine": platform.machine(),
                                    "cpus": os.cpu_count(),
                                    "runtimes": {k: subprocess.run([v, "--version"], capture_output=True,
                                                                   text=True).stdout.strip().splitlines()[-1]
                                                 for k, v in runtimes.items()}},
                           "results": {}, "qemu": {}, "startup": {}}
    rows: List[List[str]] = []
    for case in cases:
        qemu = None if args.no_qemu else qemu_wall(case)
        doc["qemu"][case.name] = qemu
        for rt, exe in runtimes.items():
            r = run_case(exe, case)
            doc["results"][f"{case.name}@{rt}"] = r
            if "error" in r:
                rows.append([case.name, rt, "error: " + r["error"][:60], "", "", "", "", ""])
                continue
            vs_qemu = f"{r['wall'] / qemu:.0f}x" if qemu else "-"
            rows.append([case.name, rt, f"{r['wall']:.2f}", f"{r['mips']:.2f}", f"{r['tbs']}",
                         f"{r['tbs_per_s']:.0f}", f"{r['rss_mb']:.0f}", vs_qemu])
            print(" | ".join(rows[-1]), file=sys.stderr, flush=True)
    for rt, exe in runtimes.items():
        doc["startup"][rt] = startup(exe)
    print(f"commit {doc['meta']['commit']}, {doc['meta']['date']}, {doc['meta']['cpus']} CPUs; "
          + "; ".join(f"{k}: {v}" for k, v in doc["meta"]["runtimes"].items()))
    print("| workload | runtime | run s | guest MIPS | TBs | TBs/s (run) | peak MiB | vs QEMU wall |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print("startup (tuiemu run hello.elf, best of 3): "
          + ", ".join(f"{k} {v:.2f} s" for k, v in doc["startup"].items()))
    if args.json:
        args.json.write_text(json.dumps(doc, indent=1))
    if args.compare:
        old = json.loads(args.compare.read_text())
        print(f"\nnew/old (old: commit {old['meta']['commit']}), guest MIPS:")
        for key, r in doc["results"].items():
            o = old["results"].get(key)
            if o and "mips" in o and "mips" in r:
                print(f"  {key:28} {r['mips'] / o['mips']:.2f}")


if __name__ == "__main__":
    main()
