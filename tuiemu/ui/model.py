"""What the dashboard knows, kept on the UI's own thread: the latest frame, rate histories for the
sparklines, the event log, registers at each vCPU's previous stop, and the user's choices
(selected vCPU, event filter, frozen log). Widgets read it and never touch the engine.
"""
from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Deque, Dict, List, Optional, Set, Tuple

from ..core.events import Event
from ..core.snapshot import RegisterView, Snapshot, TBInfo
from .poller import Frame

HISTORY = 120  # samples kept for sparklines (12 s at 10 Hz)
LOG_SIZE = 5000
CONSOLE_SIZE = 1 << 18

EVENT_KINDS = ("tb_invalidate", "tb_flush", "tlb_flush", "safe_work", "exception", "fp_trap", "vcpu_state",
               "debug_stop", "exit")


@dataclass
class EventFilter:
    kinds: Set[str] = field(default_factory=set)  # empty: every kind
    vcpu: Optional[int] = None                     # None: every vCPU

    def accepts(self, e: Event) -> bool:
        return (not self.kinds or e.kind in self.kinds) and (self.vcpu is None or e.vcpu == self.vcpu)

    def describe(self) -> str:
        kinds = ",".join(sorted(self.kinds)) if self.kinds else "all kinds"
        return f"{kinds}; {'all vCPUs' if self.vcpu is None else f'cpu{self.vcpu}'}"


class Rates:
    """Per-second rates of a counter between frames, with a history."""

    def __init__(self) -> None:
        self.history: Deque[float] = collections.deque(maxlen=HISTORY)
        self._last: Optional[Tuple[int, int]] = None  # (value, host ns)
        self._moved = (0, 0)  # (increase, host ns) over the frames in which the counter increased

    def add(self, value: int, host_ns: int) -> float:
        rate = 0.0
        if self._last is not None and host_ns > self._last[1]:
            delta = value - self._last[0]
            rate = max(0.0, delta * 1e9 / (host_ns - self._last[1]))
            if delta > 0:
                self._moved = (self._moved[0] + delta, self._moved[1] + host_ns - self._last[1])
        self._last = (value, host_ns)
        self.history.append(rate)
        return rate

    @property
    def now(self) -> float:
        return self.history[-1] if self.history else 0.0

    @property
    def average(self) -> float:
        """The rate while the counter moved: a finished run's, leaving out pauses and the end."""
        return self._moved[0] * 1e9 / self._moved[1] if self._moved[1] else 0.0


class Model:
    def __init__(self, ncpus: int) -> None:
        self.frame: Optional[Frame] = None
        self.selected = 0
        self.ncpus = ncpus
        self.vcpu_ips = [Rates() for _ in range(ncpus)]
        self.total_ips = Rates()
        self.lock_acq: Dict[str, Rates] = collections.defaultdict(Rates)
        self.lock_contended: Dict[str, Rates] = collections.defaultdict(Rates)
        self.translations = Rates()
        self.invalidations = Rates()
        self.events: Deque[Event] = collections.deque(maxlen=LOG_SIZE)
        self.missed_events = 0
        self.filter = EventFilter()
        self.frozen: Optional[List[Event]] = None  # the log as it was when frozen
        self.console = bytearray()
        self.hot_tbs: Tuple[TBInfo, ...] = ()
        self.tlb_ops: Deque[Event] = collections.deque(maxlen=200)  # tlb_flush events, newest last
        # registers at the stop before the current one, per vCPU (for highlighting changes)
        self.baseline: List[Optional[RegisterView]] = [None] * ncpus
        self._at_stop: List[Optional[RegisterView]] = [None] * ncpus
        self._stop_key: List[Optional[int]] = [None] * ncpus  # instruction count at the current stop

    @property
    def snapshot(self) -> Optional[Snapshot]:
        return self.frame.snapshot if self.frame is not None else None

    def update(self, frame: Frame) -> None:
        self.frame = frame
        snap = frame.snapshot
        t = snap.host_ns
        for v in snap.vcpus:
            self.vcpu_ips[v.index].add(v.counters["insns"], t)
        self.total_ips.add(snap.total_insns, t)
        for lk in snap.locks:
            self.lock_acq[lk.name].add(lk.totals["acquired"], t)
            self.lock_contended[lk.name].add(lk.totals["contended"], t)
        self.translations.add(snap.tb["translated"], t)
        self.invalidations.add(snap.tb["invalidated"] + snap.tb["flushes"], t)
        self.events.extend(frame.events)
        self.missed_events += frame.missed_events
        self.tlb_ops.extend(e for e in frame.events if e.kind == "tlb_flush")
        if frame.console:
            self.console += frame.console
            if len(self.console) > CONSOLE_SIZE:
                del self.console[:len(self.console) - CONSOLE_SIZE]
        if frame.hot_tbs is not None:
            self.hot_tbs = frame.hot_tbs
        for v, regs in zip(snap.vcpus, frame.registers):
            self._note_stop(v.index, v.held, v.counters["insns"], regs)

    def _note_stop(self, i: int, held: bool, insns: int, regs: RegisterView) -> None:
        """A new stop (held again, or held with more instructions done: a step) moves the
        baseline to the registers of the previous stop."""
        if not held:
            self._stop_key[i] = None
        elif insns != self._stop_key[i]:
            self._stop_key[i] = insns
            self.baseline[i] = self._at_stop[i] or regs
            self._at_stop[i] = regs

    def changed(self, i: int, regs: RegisterView) -> Set[str]:
        """Names of registers whose value differs from the previous stop."""
        base = self.baseline[i]
        if base is None:
            return set()
        out = {f"r{n}" for n in range(16) if regs.r[n] != base.r[n]}
        if regs.cpsr != base.cpsr:
            out.add("cpsr")
        if regs.spsr != base.spsr:
            out.add("spsr")
        out.update(k for k, val in regs.cp15.items() if base.cp15.get(k) != val)
        return out

    # ---- the event log ------------------------------------------------------------
    def visible_events(self, limit: int = 500) -> List[Event]:
        """Newest first, filtered; the frozen copy while the log is frozen."""
        source = self.frozen if self.frozen is not None else list(self.events)
        out: List[Event] = []
        for e in reversed(source):
            if self.filter.accepts(e):
                out.append(e)
                if len(out) >= limit:
                    break
        return out

    def toggle_freeze(self) -> bool:
        self.frozen = None if self.frozen is not None else list(self.events)
        return self.frozen is not None
