"""Command line: ``tuiemu run ELF [options]``, with QEMU's spellings of the common flags."""
from __future__ import annotations

import argparse
import faulthandler
import os
import signal
import sys
import time
import traceback
from typing import List, Optional, Tuple

from .loader import LoadError
from .machine import Machine
from .stats import format_stats

EXIT_LOAD_ERROR = 2
EXIT_MAX_INSNS = 124
EXIT_INTERNAL = 70


def parse_size(text: str) -> int:
    """QEMU's -m: a number of MiB, or a number with a K/M/G suffix."""
    t = text.strip().upper()
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    try:
        if t and t[-1] in mult:
            return int(float(t[:-1]) * mult[t[-1]])
        return int(t) << 20
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad memory size {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tuiemu", description="Multi-core 32-bit ARM (virt board) emulator")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run a bare-metal ELF")
    r.add_argument("elf", nargs="?", help="the program (an ARM ELF file)")
    r.add_argument("-kernel", dest="kernel", help="same as the positional ELF (QEMU spelling)")
    r.add_argument("-smp", type=int, default=1, metavar="N", help="number of vCPUs (1-8)")
    r.add_argument("-m", type=parse_size, default=128 << 20, metavar="SIZE", help="RAM size (default 128M)")
    r.add_argument("--threads", choices=("multi", "single"), default="multi",
                   help="one host thread per vCPU, or one deterministic round-robin thread")
    r.add_argument("--quantum", type=int, default=4096, help="round-robin slice in instructions (single mode)")
    r.add_argument("--interp", action="store_true", help="reference mode: one instruction per block, no chaining")
    r.add_argument("--max-insns", type=int, metavar="N", help=f"stop after N instructions (exit {EXIT_MAX_INSNS})")
    r.add_argument("--stats", action="store_true", help="print counters and lock contention at exit (stderr)")
    r.add_argument("--trace", metavar="FILE", help="write a Chrome/Perfetto trace-event JSON file")
    r.add_argument("--append", default=None, help="command line for SYS_GET_CMDLINE")
    r.add_argument("--gdb", metavar="[HOST:]PORT", help="serve the GDB remote protocol (default host 127.0.0.1)")
    r.add_argument("-s", dest="gdb_default", action="store_true", help="same as --gdb 127.0.0.1:1234 (QEMU)")
    r.add_argument("-S", dest="start_paused", action="store_true",
                   help="start with every vCPU stopped until the debugger continues")
    return p


def parse_endpoint(text: str) -> Tuple[str, int]:
    host, _, port = text.rpartition(":")
    try:
        return host or "127.0.0.1", int(port)
    except ValueError:
        raise SystemExit(f"tuiemu: bad --gdb address {text!r}") from None


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if hasattr(signal, "SIGUSR1"):  # `kill -USR1 <pid>` prints every thread's stack (hang diagnosis)
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    elf = args.elf or args.kernel
    if not elf:
        print("tuiemu: no ELF file given", file=sys.stderr)
        return EXIT_LOAD_ERROR
    if not 1 <= args.smp <= 8:
        print("tuiemu: -smp must be between 1 and 8", file=sys.stderr)
        return EXIT_LOAD_ERROR
    cmdline = elf if args.append is None else f"{elf} {args.append}"
    machine = Machine(ncpus=args.smp, ram_size=args.m, threads=args.threads, interp=args.interp,
                      quantum=args.quantum, cmdline=cmdline)
    try:
        machine.load_elf(elf)
    except LoadError as e:
        print(f"tuiemu: {e}", file=sys.stderr)
        return EXIT_LOAD_ERROR
    tracer = None
    if args.trace:
        from .core.trace import TraceRecorder
        tracer = TraceRecorder(machine.events, [v.name for v in machine.vcpus], machine.locks())
    if args.start_paused:  # before the stub listens, so that no client can see the vCPUs running
        machine.runctl.stop(reason="start")
    server = None
    if args.gdb or args.gdb_default:
        from .gdbstub.server import GdbServer
        host, port = parse_endpoint(args.gdb or "127.0.0.1:1234")
        server = GdbServer(machine, host, port)
        try:
            server.start()
        except OSError as e:
            print(f"tuiemu: cannot listen on {host}:{port}: {e.strerror}", file=sys.stderr)
            return EXIT_LOAD_ERROR
        print(f"tuiemu: waiting for gdb on {host}:{server.port}", file=sys.stderr)
    t0 = time.perf_counter()
    try:
        code = machine.run(max_insns=args.max_insns)
    except KeyboardInterrupt:
        machine.console.flush()
        print("tuiemu: interrupted", file=sys.stderr)
        code = 130
    except Exception as e:  # an emulator bug: say so in one line unless asked for more
        machine.console.flush()
        print(f"tuiemu: internal error: {type(e).__name__}: {e}", file=sys.stderr)
        if os.environ.get("TUIEMU_DEBUG"):
            traceback.print_exc()
        return EXIT_INTERNAL
    wall = time.perf_counter() - t0
    if server is not None:
        server.notify_exit(code)
    if tracer is not None:
        n = tracer.write(args.trace)
        print(f"tuiemu: wrote {n} trace events to {args.trace}", file=sys.stderr)
    if machine.stop_message:
        print(f"tuiemu: {machine.stop_message}", file=sys.stderr)
    if code is None:
        print(f"tuiemu: stopped after {machine.scheduler.total_insns()} instructions (--max-insns)",
              file=sys.stderr)
        code = EXIT_MAX_INSNS
    if args.stats:
        print(format_stats(machine, wall), file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
