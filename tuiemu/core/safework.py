"""Stop-the-world ("exclusive") work: run a function while no vCPU is inside translated code.

A vCPU brackets every stretch of translated execution with ``exec_start`` and
``exec_end``. ``run`` marks work pending, kicks every vCPU out of
translated code, waits until none is inside, runs the function and lets them
go. A vCPU that is asleep (WFI, powered off, stopped by the debugger) is not
inside, so it never holds the world up; a sleeper that wakes during the work
waits in ``exec_start``. Requests are served one at a time; a requester must
itself be outside translated code (vCPUs ask from their service loop).

Lock order: safe-work lock -> a vCPU's wake lock (kick). Never the reverse.

Every stretch of every vCPU takes the lock twice, so ``exec_start`` and
``exec_end`` hold it raw around subscripts alone when no work is pending (see
core/locks.py): with calls inside, a vCPU preempted there held up the next
vCPU's entry, and the one after it (waits of up to 16 ms).
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, Dict, Iterable, List, Optional

from .events import EventBus
from .locks import InstrumentedLock

_now = time.perf_counter_ns


class SafeWork:
    """``serial``: one host thread runs every vCPU (single-thread mode, or one vCPU), so a vCPU
    asking from inside translated code is the only one that could be inside."""

    def __init__(self, vcpus: Iterable[Any], events: EventBus, serial: bool) -> None:
        self.vcpus = list(vcpus)
        self.events = events
        self.serial = serial
        self.lock = InstrumentedLock("safe-work")
        self._raw = self.lock.plain
        self.cond = threading.Condition(self._raw)
        self.running: List[bool] = [False] * len(self.vcpus)  # per vCPU: inside translated code
        self.exits = [0] * len(self.vcpus)  # per vCPU: stretches of translated code it has left
        self.pending = False
        self.count = 0
        self.total_stop_ns = 0

    def inside(self, v: Any) -> bool:
        """Is ``v`` executing translated code (or a step) right now?"""
        return self.running[v.index]

    def exec_start(self, v: Any) -> None:
        i, raw = v.index, self._raw
        start, contended = _now(), raw.locked()
        with raw:  # no call inside (see the module docstring)
            free = not self.pending
            if free:
                self.running[i] = True
        self.lock.account(start, contended)
        if not free:
            with self.lock:
                while self.pending:
                    self.cond.wait()
                self.running[i] = True

    def in_flight(self) -> Dict[int, int]:
        """The vCPUs inside translated code now, each with its exit count: once a count moved on,
        that vCPU has finished every access it had started (code pages use this as a grace period)."""
        return {i: self.exits[i] for i, inside in enumerate(self.running) if inside}

    def done_since(self, seen: Dict[int, int]) -> bool:
        return all(self.exits[i] > n for i, n in seen.items())

    def exec_end(self, v: Any) -> None:
        i, raw = v.index, self._raw
        start, contended = _now(), raw.locked()
        with raw:  # no call inside (see the module docstring)
            self.exits[i] += 1
            self.running[i] = False
            waited_for = self.pending
        self.lock.account(start, contended)
        if waited_for:
            with self.lock:
                self.cond.notify_all()

    def run(self, fn: Callable[[], Any], what: str, requester: Optional[Any] = None) -> None:
        """The one way to stop the world. ``requester``: the vCPU asking from inside translated
        code (a helper of the instruction that needs it): the work is queued for its next block
        boundary, where its block ends, and runs before its next instruction. Without a requester
        (debugger, dashboard, outside translated code) it runs now and returns when done."""
        if requester is None:
            self._stop_and_run(None, fn, what)
        elif self.serial:
            fn()
        else:
            requester.work.append(lambda v: self._stop_and_run(v, fn, what))
            requester.exit_request = True

    def _stop_and_run(self, requester: Optional[Any], fn: Callable[[], Any], what: str) -> None:
        who = requester.index if requester is not None else -1
        t0 = time.perf_counter_ns()
        with self.lock:
            while self.pending:
                self.cond.wait()
            self.pending = True
            for v in self.vcpus:
                if v.index != who:
                    v.exit_request = True
            while any(inside and i != who for i, inside in enumerate(self.running)):
                for v in self.vcpus:  # kick again: a vCPU may have entered just before `pending` was set
                    if self.running[v.index]:
                        v.exit_request = True
                self.cond.wait(0.01)
        t1 = time.perf_counter_ns()
        try:
            fn()
        finally:
            t2 = time.perf_counter_ns()
            with self.lock:
                self.pending = False
                self.count += 1
                self.total_stop_ns += t2 - t0
                self.cond.notify_all()
            self.events.emit("safe_work", who, what=what, wait_ns=t1 - t0, stopped_ns=t2 - t0)
