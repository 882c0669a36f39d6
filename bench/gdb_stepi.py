"""stepi round trips per second through the gdb stub, with a real gdb-multiarch.

    python bench/gdb_stepi.py [--steps N] [--elf PATH]

Starts ``tuiemu run ELF -smp K --gdb 127.0.0.1:0 -S``, lets gdb run to a
breakpoint in the guest's loop, then times ``stepi N`` inside gdb (its Python
clock). Configurations: one vCPU; four vCPUs in all-stop (gdb sends
``vCont;s:1;c``: the others run around each step); four vCPUs with
``set scheduler-locking step`` (``vCont;s:1``: the others held). Also the raw
protocol round trip (``vCont;s:1`` + ``g``, no gdb) for reference.
"""
from __future__ import annotations

import argparse
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Optional, Tuple

REPO = Path(__file__).resolve().parents[1]
ELF = REPO / "tests" / "gdbstub" / "guests" / "smp_debug.elf"


def start_emulator(elf: Path, smp: int) -> Tuple[subprocess.Popen, int]:
    p = subprocess.Popen([sys.executable, "-m", "tuiemu", "run", str(elf), "-smp", str(smp),
                          "--gdb", "127.0.0.1:0", "-S"], cwd=REPO, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert p.stderr is not None
    line = p.stderr.readline().decode()
    m = re.search(r":(\d+)\s*$", line)
    if m is None:
        p.kill()
        raise SystemExit(f"tuiemu did not start its gdb stub: {line!r}")
    time.sleep(0.2)  # let the CLI apply -S
    return p, int(m.group(1))


def gdb_stepi_rate(elf: Path, smp: int, steps: int, lock: bool) -> float:
    p, port = start_emulator(elf, smp)
    try:
        script = [
            "set pagination off", "set confirm off",
            f"target remote 127.0.0.1:{port}",
            "break bump", "continue", "delete",
        ]
        if lock:
            script.append("set scheduler-locking step")
        script += [
            "python import time; _t0 = time.perf_counter()",
            f"stepi {steps}",
            "python print('STEPI_SECONDS', time.perf_counter() - _t0)",
            "kill",
        ]
        args = ["gdb-multiarch", "-q", "-nx", "-batch", str(elf)]
        for s in script:
            args += ["-ex", s]
        out = subprocess.run(args, capture_output=True, text=True, timeout=600).stdout
        m = re.search(r"STEPI_SECONDS ([0-9.]+)", out)
        if m is None:
            raise SystemExit(f"gdb did not report a time:\n{out}")
        return steps / float(m.group(1))
    finally:
        p.kill()
        p.wait(10)


def raw_rate(elf: Path, smp: int, steps: int) -> float:
    """vCont;s:1 then g, in no-ack mode, as fast as the stub answers."""
    p, port = start_emulator(elf, smp)
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = b""

        def request(data: bytes, ack: bool = False) -> bytes:
            nonlocal buf
            s.sendall(b"$" + data + b"#%02x" % (sum(data) & 0xFF))
            while True:
                m = re.search(rb"\$([^#]*)#..", buf)
                if m:
                    buf = buf[m.end():]
                    if ack:
                        s.sendall(b"+")
                    return m.group(1)
                buf += s.recv(65536)

        request(b"QStartNoAckMode", ack=True)
        request(b"?")
        t0 = time.perf_counter()
        for _ in range(steps):
            request(b"vCont;s:1")
            request(b"g")
        rate = steps / (time.perf_counter() - t0)
        s.sendall(b"$k#6b")
        s.close()
        return rate
    finally:
        p.kill()
        p.wait(10)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--elf", type=Path, default=ELF)
    args = ap.parse_args(argv)
    rows = [
        ("gdb stepi, -smp 1", gdb_stepi_rate(args.elf, 1, args.steps, lock=False)),
        ("gdb stepi, -smp 4 (others run)", gdb_stepi_rate(args.elf, 4, args.steps, lock=False)),
        ("gdb stepi, -smp 4, scheduler-locking step", gdb_stepi_rate(args.elf, 4, args.steps, lock=True)),
        ("raw vCont;s:1 + g, -smp 4", raw_rate(args.elf, 4, args.steps * 3)),
    ]
    width = max(len(name) for name, _ in rows)
    for name, rate in rows:
        print(f"{name.ljust(width)}  {rate:8.0f} stepi/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
