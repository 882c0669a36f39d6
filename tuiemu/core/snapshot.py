"""Immutable views of the engine for its consumers (the dashboard, ``--stats``, gdb's monitor).

A consumer asks the machine for a ``Snapshot`` from its own thread, as often
as it likes: building one copies counters and a few fields of each vCPU and
takes no engine lock, so a vCPU never waits for a reader. Values read from a
running vCPU may be a block old; they are exact for a stopped one.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional, Tuple

from .runstate import STATE_LABELS, RunState
from .state import MODE_NAMES, PSR_T

MODE_LABELS = {k: v.upper() for k, v in MODE_NAMES.items()}


@dataclass(frozen=True)
class VCPUView:
    index: int
    name: str
    run_state: RunState
    held: bool                              # held by run control (debugger or dashboard)
    stop_reason: Optional[Mapping[str, Any]]  # why it is held: see RunControl
    pc: int
    cpsr: int
    counters: Mapping[str, int]             # VCPUCounters
    tlb: Mapping[str, int]                  # TLBCounters
    tlb_entries: int

    @property
    def mode(self) -> str:
        return MODE_LABELS.get(self.cpsr & 0x1F, f"{self.cpsr & 0x1F:#x}")

    @property
    def thumb(self) -> bool:
        return bool(self.cpsr & PSR_T)

    @property
    def status(self) -> str:
        """What a person wants to know first: running, asleep, off, or why it is stopped."""
        if not self.held or self.run_state is RunState.OFF:  # held or not, an off vCPU is just off
            return STATE_LABELS[self.run_state]
        reason = (self.stop_reason or {}).get("reason")
        if reason == "breakpoint":
            return "at breakpoint"
        if reason in ("watch", "rwatch", "awatch"):
            return "at watchpoint"
        if (self.stop_reason or {}).get("by") == "ui":
            return "stepped" if reason == "step" else "paused by UI"
        return "stepped" if reason == "step" else "stopped by debugger"


@dataclass(frozen=True)
class LockView:
    name: str
    totals: Mapping[str, int]                 # LockStats summed over threads
    per_thread: Mapping[str, Mapping[str, int]]  # thread name (cpu0.., machine, gdb-session) -> LockStats
    holder: Optional[str]
    waiters: Tuple[str, ...]


@dataclass(frozen=True)
class Snapshot:
    host_ns: int                  # when it was taken (perf_counter_ns)
    guest_ticks: int              # generic timer count
    vcpus: Tuple[VCPUView, ...]
    locks: Tuple[LockView, ...]
    tb: Mapping[str, int]         # TBStats + live, code_pages
    tb_dropped: Mapping[str, int]  # TBs invalidated per cause
    code_cache: Mapping[str, Any]  # blocks whose code was found, compiled; the file (translate/codecache.py)
    safe_work: Mapping[str, int]  # count, stopped_ns
    events_seq: int               # newest event number
    finished: bool
    exit_code: Optional[int]

    @property
    def total_insns(self) -> int:
        return sum(v.counters["insns"] for v in self.vcpus)


@dataclass(frozen=True)
class RegisterView:
    """One vCPU's registers as a debugger shows them (copied at once)."""

    index: int
    r: Tuple[int, ...]            # r0-r15 of the current mode
    cpsr: int
    spsr: Optional[int]           # None in USR/SYS
    banked: Mapping[str, Tuple[int, int, int]]  # mode -> (sp, lr, spsr)
    fiq_r8_12: Tuple[int, ...]
    cp15: Mapping[str, int]


CP15_SHOWN = ("sctlr", "ttbr0", "ttbr1", "ttbcr", "dacr", "contextidr", "vbar", "dfsr", "dfar", "ifsr", "ifar",
              "par", "tpidrprw")


def registers_of(v: Any) -> RegisterView:
    s = v.state
    cpsr = s.get_cpsr()
    banked = {MODE_LABELS[m]: (s.banked_reg(m, 13), s.banked_reg(m, 14), s.spsr.get(m, 0))
              for m in sorted(s.spsr)}
    fiq = tuple(s.banked_reg(0x11, n) for n in range(8, 13))
    return RegisterView(v.index, tuple(v.R[:16]), cpsr, s.current_spsr if s.has_spsr() else None, banked, fiq,
                        {name.upper(): getattr(s, name) for name in CP15_SHOWN})


@dataclass(frozen=True)
class TBInfo:
    """One translated block, for the TB inspector."""

    pc: int
    ppc: int
    flags: int
    thumb: bool
    privileged: bool
    ninsns: int
    size: int
    insn_pcs: Tuple[int, ...]
    code: bytes                    # the guest bytes it was translated from
    source: str                    # the Python it became
    exits: Tuple[int, ...]         # static exit targets
    links: Tuple[Optional[int], ...]  # the chained TB's pc per exit (None: not chained)
    incoming: Tuple[int, ...]      # pcs of TBs chained into this one
    pages: Tuple[int, ...]         # physical page numbers of its code
    execs: int
    valid: bool
