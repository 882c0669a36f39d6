"""``monitor`` commands (carried by ``qRcmd``): text in, text out.

Commands name the vCPU selected in gdb (``thread N``) where they concern one.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable, Dict, List

from ..stats import format_stats
from .threads import describe, format_tid

if TYPE_CHECKING:
    from .stub import Stub

HELP = """tuiemu monitor commands:
  help                 this list
  info cpus            every vCPU: thread, state, pc, mode, instructions executed
  info tlb             the selected vCPU's soft TLB entries
  info tbs             translation cache: size, translations, invalidations, flushes
  stats                counters per vCPU and the lock contention table
  phys on|off          memory packets use physical (on) or the vCPU's virtual addresses (off)
  tb-flush             drop every translated block
  step-irqs on|off     deliver interrupts while single-stepping (default off, as QEMU)
"""

MODE_NAMES = {0x10: "usr", 0x11: "fiq", 0x12: "irq", 0x13: "svc", 0x16: "mon", 0x17: "abt", 0x1A: "hyp",
              0x1B: "und", 0x1F: "sys"}


def _symbol(stub: Stub, addr: int) -> str:
    image = stub.m.image
    found = image.symbol_at(addr) if image is not None else None
    if found is None:
        return ""
    name, off = found
    return f"<{name}+{off}>" if off else f"<{name}>"


def _table(rows: List[List[str]]) -> List[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]


def info_cpus(stub: Stub, args: List[str]) -> str:
    selected = stub.general_vcpu()
    rows = [["", "thread", "cpu", "state", "pc", "mode", "insns", "where"]]
    for v in stub.m.vcpus:
        cpsr = v.state.get_cpsr()
        rows.append(["*" if v is selected else "", format_tid(v), v.name, describe(stub.m, v), f"{v.R[15]:#010x}",
                     MODE_NAMES.get(cpsr & 0x1F, f"{cpsr & 0x1F:#x}") + ("/thumb" if cpsr & 0x20 else ""),
                     str(v.counters.insns), _symbol(stub, v.R[15])])
    return "\n".join(_table(rows)) + "\n"


def info_tlb(stub: Stub, args: List[str]) -> str:
    v = stub.general_vcpu()
    entries = v.tlb.snapshot()
    lines = [f"{v.name} soft TLB: {len(entries)} entries"]
    if entries:
        rows = [["vaddr", "paddr", "priv", "perm"]]
        for va, pa, priv, r, w, x in entries:
            perm = ("r" if r else "-") + ("w" if w else "-") + ("x" if x else "-")
            rows.append([f"{va:#010x}", f"{pa:#010x}", "kernel" if priv else "user", perm])
        lines += _table(rows)
    return "\n".join(lines) + "\n"


def info_tbs(stub: Stub, args: List[str]) -> str:
    snap = stub.m.counters()["tb"]
    return "translation cache:\n" + "".join(f"  {k}: {val}\n" for k, val in snap.items())


def stats(stub: Stub, args: List[str]) -> str:
    return format_stats(stub.m, time.monotonic() - stub.started) + "\n"


def _on_off(args: List[str]) -> Any:
    if len(args) == 1 and args[0] in ("on", "off"):
        return args[0] == "on"
    return None


def phys(stub: Stub, args: List[str]) -> str:
    flag = _on_off(args)
    if flag is None and args:
        return "usage: monitor phys on|off\n"
    if flag is not None:
        stub.physical = flag
    return f"memory accesses use {'physical' if stub.physical else 'virtual'} addresses\n"


def tb_flush(stub: Stub, args: List[str]) -> str:
    n = stub.m.tb_flush("gdb tb-flush")
    return f"translation cache flushed ({n} blocks)\n"


def step_irqs(stub: Stub, args: List[str]) -> str:
    rc = stub.m.runctl
    flag = _on_off(args)
    if flag is None and args:
        return "usage: monitor step-irqs on|off\n"
    if flag is not None:
        rc.step_irqs = flag
    return f"interrupts are {'delivered' if rc.step_irqs else 'held off'} while single-stepping\n"


COMMANDS: Dict[str, Callable[[Stub, List[str]], str]] = {
    "help": lambda stub, args: HELP,
    "info cpus": info_cpus,
    "info tlb": info_tlb,
    "info tbs": info_tbs,
    "stats": stats,
    "phys": phys,
    "tb-flush": tb_flush,
    "step-irqs": step_irqs,
}


def run(stub: Stub, line: str) -> str:
    """Run one command line; errors come back as text, never as exceptions."""
    words = line.split()
    if not words:
        return HELP
    for n in (2, 1):
        fn = COMMANDS.get(" ".join(words[:n]))
        if fn is not None:
            try:
                return fn(stub, words[n:])
            except Exception as e:  # a monitor command must never take the stub down
                return f"error: {type(e).__name__}: {e}\n"
    return f"unknown command {line.strip()!r}; try 'monitor help'\n"
