"""Command line: ``tuiemu run ELF [options]`` and ``tuiemu ui ELF [options]``, with QEMU's
spellings of the common flags."""
from __future__ import annotations

import argparse
import faulthandler
import os
import signal
import sys
import time
import traceback
from typing import Any, List, NoReturn, Optional, Tuple

from . import boot
from .devices import virt_dtb
from .devices.console import Console
from .devices.virtio_blk import BlockError
from .exitcodes import EXIT_INTERNAL, EXIT_LOAD_ERROR, EXIT_MAX_INSNS, EXIT_QUIT
from .loader import LoadError
from .machine import RAM_BASE, Machine
from .stats import format_stats

RAM_MIN, RAM_MAX = 1 << 20, 3 << 30  # RAM sits at 0x40000000: at most 3 GiB fits below 4 GiB
DEFAULT_RAM = 128 << 20


class Parser(argparse.ArgumentParser):
    """Option errors are one line on stderr and exit status 2, like every other bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_LOAD_ERROR, f"tuiemu: {message} (tuiemu {self.prog.split()[-1]} --help lists the options)\n")


def parse_size(text: str) -> int:
    """QEMU's -m: a number of MiB, or a number with a K/M/G suffix; 0 means the default, as in QEMU."""
    t = text.strip().upper()
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    try:
        size = int(float(t[:-1]) * mult[t[-1]]) if t and t[-1] in mult else int(t) << 20
    except (ValueError, OverflowError):
        raise argparse.ArgumentTypeError(f"bad memory size {text!r}") from None
    if size == 0:
        return DEFAULT_RAM
    if not RAM_MIN <= size <= RAM_MAX:
        raise argparse.ArgumentTypeError(f"memory size {text!r} out of range: from 1M to 3G (RAM starts at "
                                         "0x40000000 in a 32-bit address space)")
    return size & ~0xFFF


def parse_drive(text: str) -> Tuple[str, bool]:
    """QEMU's -drive, as far as tuiemu has drives: a raw image on virtio, maybe read-only."""
    opts = dict(part.partition("=")[::2] for part in text.split(","))
    unknown = set(opts) - {"file", "if", "format", "readonly", "media", "id"}
    problem = (f"unsupported -drive option {sorted(unknown)[0]!r}" if unknown
               else "-drive needs file=IMAGE" if not opts.get("file")
               else "only if=virtio drives exist here" if opts.get("if", "virtio") != "virtio"
               else "only format=raw images are supported" if opts.get("format", "raw") != "raw"
               else "readonly= takes on or off" if opts.get("readonly", "off") not in ("on", "off") else None)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"{problem} in -drive {text!r}")
    return opts["file"], opts.get("readonly") == "on"


def _add_run_options(r: argparse.ArgumentParser) -> None:
    r.add_argument("elf", nargs="?", help="the program: an ARM ELF file, or a Linux zImage or uImage")
    r.add_argument("-kernel", dest="kernel", help="same as the positional program (QEMU spelling)")
    r.add_argument("-initrd", dest="initrd", metavar="FILE", help="initial ramdisk for a Linux kernel")
    r.add_argument("-dtb", dest="dtb", metavar="FILE", help="device tree blob for a Linux kernel instead of "
                   "the board's own (/chosen gets bootargs and the initrd range)")
    r.add_argument("-drive", dest="drives", action="append", default=[], type=parse_drive,
                   metavar="file=IMG,if=virtio,format=raw[,readonly=on]",
                   help="a virtio-blk disk backed by a raw image file (repeatable)")
    r.add_argument("--disk", dest="drives", action="append", type=lambda path: (path, False), metavar="IMG",
                   help="same as -drive file=IMG,if=virtio,format=raw")
    r.add_argument("-smp", type=int, default=1, metavar="N", help="number of vCPUs (1-8)")
    r.add_argument("-m", type=parse_size, default=DEFAULT_RAM, metavar="SIZE", help="RAM size (default 128M)")
    r.add_argument("--threads", choices=("multi", "single"), default="multi",
                   help="one host thread per vCPU, or one deterministic round-robin thread")
    r.add_argument("--quantum", type=int, default=4096, help="round-robin slice in instructions (single mode)")
    r.add_argument("--interp", action="store_true", help="reference mode: one instruction per block, no chaining")
    r.add_argument("--no-code-cache", dest="code_cache", action="store_false",
                   help="compile every block, neither reading nor writing the code cache (see TUIEMU_CODE_CACHE)")
    r.add_argument("--max-insns", type=int, metavar="N", help=f"stop after N instructions (exit {EXIT_MAX_INSNS})")
    r.add_argument("--stats", action="store_true", help="print counters and lock contention at exit (stderr)")
    r.add_argument("--trace", metavar="FILE", help="write a Chrome/Perfetto trace-event JSON file")
    r.add_argument("-append", "--append", dest="append", default=None, metavar="CMDLINE",
                   help="kernel command line (/chosen bootargs); for an ELF, the command line semihosting's "
                        "SYS_GET_CMDLINE returns after the program's name")
    r.add_argument("--gdb", metavar="[HOST:]PORT", help="serve the GDB remote protocol (default host 127.0.0.1)")
    r.add_argument("-s", dest="gdb_default", action="store_true", help="same as --gdb 127.0.0.1:1234 (QEMU)")
    r.add_argument("-S", dest="start_paused", action="store_true",
                   help="start with every vCPU stopped until the debugger (or the dashboard) lets them run")
    r.add_argument("--host-cpus", choices=("one", "all"), default=None,
                   help="host CPUs the process may use: 'one' (the default under the GIL, where threads take "
                        "turns anyway and moving between cores only costs) or 'all' (the default on free-threaded "
                        "Python)")


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="tuiemu", description="Multi-core 32-bit ARM (virt board) emulator")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    r = sub.add_parser("run", help="run a bare-metal ELF")
    _add_run_options(r)
    r.add_argument("--ui", action="store_true", help="watch and drive the run in the terminal dashboard")
    u = sub.add_parser("ui", help="open the dashboard on an ELF held at reset (space runs it)")
    _add_run_options(u)
    d = sub.add_parser("dumpdtb", help="write the device tree a Linux boot gets (QEMU's -M virt,dumpdtb=FILE)")
    d.add_argument("file", help="where to write the blob")
    d.add_argument("-smp", type=int, default=1, metavar="N", help="number of vCPUs (1-8)")
    d.add_argument("-m", type=parse_size, default=DEFAULT_RAM, metavar="SIZE", help="RAM size (default 128M)")
    d.add_argument("-append", "--append", dest="append", default="", metavar="CMDLINE", help="/chosen bootargs")
    d.add_argument("-initrd", dest="initrd", metavar="FILE", help="an initrd, for /chosen's initrd range")
    return p


def parse_endpoint(text: str) -> Tuple[str, int]:
    """``[HOST:]PORT`` (host 127.0.0.1 unless given; port 0 picks a free one); ValueError if bad."""
    host, _, port = text.rpartition(":")
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"bad --gdb address {text!r}: expected [HOST:]PORT with a port from 0 to 65535")
    return host.strip("[]") or "127.0.0.1", int(port)


def gil_enabled() -> bool:
    check = getattr(sys, "_is_gil_enabled", None)  # Python 3.13+; older builds always have the GIL
    return True if check is None else bool(check())


def use_one_host_cpu() -> Optional[int]:
    """Keep every thread of this process on the CPU it runs on now. Under the GIL only one thread
    runs Python at a time, and handing the GIL to a thread on another core costs a cross-core
    wake-up each time: with 4 busy vCPU threads that halves the speed (smp_spinlock: 11.5 s
    spread over 2 cores, 5.8 s on one). Returns the CPU, or None where affinity is not available."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    try:
        with open("/proc/self/stat") as f:  # field 39: the CPU this thread last ran on
            cpu = int(f.read().rsplit(")", 1)[1].split()[36])
        if cpu not in os.sched_getaffinity(0):
            cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return cpu
    except (OSError, ValueError, IndexError):
        return None


def _check_options(args: argparse.Namespace, ui: bool) -> Optional[str]:
    """What makes the options unusable, before anything runs (so nothing is lost later)."""
    if not (args.elf or args.kernel):
        return "no program given (an ELF file, or a Linux zImage or uImage)"
    if not 1 <= args.smp <= 8:
        return "-smp must be between 1 and 8"
    if sys.stdout is None:
        return "stdout is closed: there is nowhere to write the guest's output"
    if ui and not sys.stdout.isatty():
        return "the dashboard needs a terminal on stdout (run without --ui to print the guest's output)"
    if args.gdb is not None:
        try:
            parse_endpoint(args.gdb)
        except ValueError as e:
            return str(e)
    if args.start_paused and not (args.gdb or args.gdb_default or ui):
        return "-S holds the vCPUs until a debugger lets them run: give --gdb PORT or -s (or --ui)"
    if args.trace:
        try:
            with open(args.trace, "w"):
                pass
        except OSError as e:
            return f"cannot write the trace file {args.trace}: {e.strerror}"
    return None


def dumpdtb(args: argparse.Namespace) -> int:
    """Write the tree as QEMU's dumpdtb does: the whole 1 MiB buffer, random seeds included."""
    if not 1 <= args.smp <= 8:
        print("tuiemu: -smp must be between 1 and 8", file=sys.stderr)
        return EXIT_LOAD_ERROR
    initrd = None
    try:
        if args.initrd:
            start = boot.initrd_address(RAM_BASE, args.m)
            initrd = (start, start + len(boot.read_file(args.initrd, "initrd")))
        blob = virt_dtb.build(args.smp, args.m, os.urandom, args.append, initrd).blob()
        with open(args.file, "wb") as f:
            f.write(blob)
    except LoadError as e:
        print(f"tuiemu: {e}", file=sys.stderr)
        return EXIT_LOAD_ERROR
    except OSError as e:
        print(f"tuiemu: cannot write {args.file}: {e.strerror}", file=sys.stderr)
        return EXIT_LOAD_ERROR
    print(f"tuiemu: dtb dumped to {args.file}", file=sys.stderr)
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "dumpdtb":
        return dumpdtb(args)
    ui = args.command == "ui" or args.ui
    if hasattr(signal, "SIGUSR1"):  # `kill -USR1 <pid>` prints every thread's stack (hang diagnosis)
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    problem = _check_options(args, ui)
    if problem is not None:
        print(f"tuiemu: {problem}", file=sys.stderr)
        return EXIT_LOAD_ERROR
    if (args.host_cpus or ("one" if gil_enabled() else "all")) == "one":
        use_one_host_cpu()  # before any thread starts: they all inherit it
    elf = args.elf or args.kernel
    cmdline = elf if args.append is None else f"{elf} {args.append}"
    console = Console(None) if ui else None  # the dashboard owns the terminal and shows the console itself
    try:
        machine = Machine(ncpus=args.smp, ram_size=args.m, threads=args.threads, interp=args.interp,
                          quantum=args.quantum, cmdline=cmdline, console=console, disks=args.drives,
                          code_cache=args.code_cache)
    except BlockError as e:
        print(f"tuiemu: {e}", file=sys.stderr)
        return EXIT_LOAD_ERROR
    try:
        image = machine.load_kernel(elf, initrd=args.initrd, append=args.append or "", dtb=args.dtb)
    except LoadError as e:
        print(f"tuiemu: {e}", file=sys.stderr)
        return EXIT_LOAD_ERROR
    for warning in image.warnings:
        print(f"tuiemu: warning: {warning}", file=sys.stderr)
    tracer = None
    if args.trace:
        from .core.trace import TraceRecorder
        tracer = TraceRecorder(machine.events, [v.name for v in machine.vcpus], machine.locks())
    machine.interactive = ui or bool(args.gdb or args.gdb_default)
    if args.start_paused or args.command == "ui":  # before the stub listens: no client sees them running
        machine.runctl.stop(reason="start", by="ui" if ui else "gdb")
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
    if not ui:  # the dashboard owns the terminal and feeds the UART itself
        machine.host_input.start()
    t0 = time.perf_counter()
    try:
        code = _run_dashboard(machine, server, args.max_insns) if ui else machine.run(max_insns=args.max_insns)
    except KeyboardInterrupt:
        machine.console.flush()
        print("tuiemu: interrupted", file=sys.stderr)
        code = EXIT_QUIT
    except Exception as e:  # an emulator bug: say so in one line unless asked for more
        machine.console.flush()
        print(f"tuiemu: internal error: {type(e).__name__}: {e}", file=sys.stderr)
        if os.environ.get("TUIEMU_DEBUG"):
            traceback.print_exc()
        return EXIT_INTERNAL
    wall = time.perf_counter() - t0
    if server is not None:
        server.notify_exit(code)
    err = machine.console.error
    if isinstance(err, BrokenPipeError):  # the reader hung up (`| head`): end quietly, as head expects
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    elif err is not None:
        print(f"tuiemu: cannot write the guest's output: {err.strerror or err}", file=sys.stderr)
    if tracer is not None:
        n = tracer.write(args.trace)
        print(f"tuiemu: wrote {n} trace events to {args.trace}", file=sys.stderr)
    if machine.stop_message:
        print(f"tuiemu: {machine.stop_message}", file=sys.stderr)
    if code is None:
        print(f"tuiemu: stopped after {machine.total_insns()} instructions (--max-insns)",
              file=sys.stderr)
        code = EXIT_MAX_INSNS
    if args.stats:
        print(format_stats(machine, wall), file=sys.stderr)
    return code


def _run_dashboard(machine: Machine, server: Any, max_insns: Optional[int]) -> Optional[int]:
    """Run the machine in the background under the dashboard; afterwards the guest's console
    output goes to stdout, so nothing it printed is lost."""
    from .ui.app import Dashboard

    thread = machine.start(max_insns=max_insns)
    code = Dashboard(machine, server).run()
    if not machine.finished:  # the dashboard closed some other way: end the run as quit would
        machine.exit(EXIT_QUIT)
        code = EXIT_QUIT
    thread.join(5.0)
    out, _ = machine.console.read_since(0)
    if out:
        sys.stdout.buffer.write(out)
        sys.stdout.flush()
    if code is None:
        return EXIT_QUIT if machine.exit_code is None else machine.exit_code
    return None if code == EXIT_MAX_INSNS else code
