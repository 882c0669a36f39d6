"""Run control: the one API through which the CLI, the gdb stub and the dashboard stop, step and
resume vCPUs and set breakpoints and watchpoints.

A vCPU held by run control has ``debug_stop`` set: its thread (or the
round-robin loop) leaves translated code at the next block boundary and runs
nothing until released. ``stop`` waits until the vCPU is really outside
translated code, so its registers can be read and written safely. Stepping
runs one instruction on the caller's thread, bracketed like any other
execution so stop-the-world work still sees it.

Every hold has a reason (a dict: ``reason`` = breakpoint, watch/rwatch/awatch
with ``addr``, step, or the client's own word such as "halt" or "pause", and
``by`` = who asked: "gdb", "ui", ...). Clients read it with ``stop_reason``
and never touch the vCPU's fields.

Breakpoints become a debug exit in front of the instruction when blocks are
translated, so setting or clearing one drops the blocks that cover its address.
Watchpoints keep their pages out of the soft TLBs' fast maps; the slow path
raises the hit before the access is performed.

Fairness: when the vCPUs are resumed together, the first to hit a breakpoint
or watchpoint since the last resume (the one an all-stop debugger reported)
goes to the back of the queue (``vcpu.Defer``). Otherwise it is the first to
run again (it holds the interpreter, or leads the round robin) and, when the
breakpoint sits in a locked region, the only one ever to hit it: the others
sleep on the lock it holds, and it takes the lock back before they wake.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, Dict, List, Optional, Set

from .events import EventBus
from .runstate import RunState
from .safework import SafeWork
from .vcpu import Defer
from .watchpoints import WATCH_KINDS, WATCH_WRITE, Watchpoints

Listener = Callable[[Any, Dict[str, Any]], None]
Reason = Dict[str, Any]

HITS = ("breakpoint",) + WATCH_KINDS


class RunControl:
    def __init__(self, vcpus: List[Any], safe: SafeWork, events: EventBus, breakpoints: Set[int],
                 watchpoints: Watchpoints, step_one: Callable[[Any], None],
                 retranslate: Callable[[int], Any]) -> None:
        self.vcpus = vcpus
        self.safe = safe
        self.events = events
        self.breakpoints = breakpoints  # the translator reads it while translating
        self._bp_owners: Dict[int, Set[str]] = {}  # address -> clients that set it (gdb, ui, ...)
        self.watchpoints = watchpoints
        self._step_one = step_one
        self._retranslate = retranslate  # drop the blocks covering a virtual address
        # Told about every stop but their own: breakpoint and watchpoint hits (on the vCPU's thread)
        # and holds made by another client (on its thread), so a pause in the dashboard reaches gdb.
        self.listeners: List[Listener] = []
        self.lock = threading.RLock()
        self.first_hit: Optional[Any] = None  # the first vCPU to hit since the last resume
        self.step_irqs = False  # deliver interrupts while single-stepping (QEMU's default is off)

    # ---- notifications ---------------------------------------------------
    def on_stop(self, v: Any, reason: Reason) -> None:
        """A vCPU hit a breakpoint or watchpoint (called on its own thread; must not block)."""
        v.debug_stop = True
        v.stop_reason = reason
        v.exit_request = True
        if self.first_hit is None:
            self.first_hit = v
        self.events.emit("debug_stop", v.index, **reason)
        for fn in list(self.listeners):
            fn(v, reason)

    # ---- state -----------------------------------------------------------------
    @staticmethod
    def held(v: Any) -> bool:
        """Held by run control (it may still be finishing its block: see ``is_stopped``)."""
        return bool(v.debug_stop)

    def is_stopped(self, v: Any) -> bool:
        return v.debug_stop and not self.safe.inside(v)

    @staticmethod
    def stop_reason(v: Any) -> Optional[Reason]:
        """Why a held vCPU stopped (None while it runs)."""
        return v.stop_reason if v.debug_stop else None

    @staticmethod
    def at_hit(v: Any) -> bool:
        """Held at a breakpoint or watchpoint it has not stepped past yet."""
        return bool(v.debug_stop and (v.stop_reason or {}).get("reason") in HITS)

    @staticmethod
    def forget_hit(v: Any, reason: Optional[Reason] = None) -> None:
        """A held vCPU's hit no longer counts: when resumed it re-executes the instruction (and
        hits again, if the breakpoint is still there) instead of stepping past it."""
        if v.debug_stop:
            v.stop_reason = dict(reason or {"reason": "request"})

    # ---- stopping and resuming ----------------------------------------------
    def stop(self, vcpus: Optional[List[Any]] = None, reason: str = "request", by: str = "api",
             timeout: float = 5.0) -> None:
        """Hold the vCPUs and wait until none of them is inside translated code."""
        targets = self.vcpus if vcpus is None else vcpus
        newly = []
        for v in targets:
            if not v.debug_stop:
                v.stop_reason = {"reason": reason, "by": by}
                newly.append(v)
            v.debug_stop = True
            v.kick()
        deadline = time.monotonic() + timeout
        while any(self.safe.inside(v) for v in targets) and time.monotonic() < deadline:
            time.sleep(0.0005)
        for v in newly:
            for fn in list(self.listeners):
                fn(v, {"reason": reason, "by": by})

    def resume(self, vcpus: Optional[List[Any]] = None) -> None:
        """Let the vCPUs go; one stopped on a breakpoint or watchpoint first steps past it. The
        first to hit since the last resume lets the others it is resumed with run first."""
        targets = self.vcpus if vcpus is None else vcpus
        first = self.first_hit
        if first is not None and first in targets:
            self.first_hit = None
            if len(targets) > 1:
                first.defer = Defer.BACK
                # released last, so that it finds the others free to run when it looks
                targets = [v for v in targets if v is not first] + [first]
        for v in targets:
            if self.at_hit(v):
                self.step(v)
            v.stop_reason = None
            v.debug_stop = False
            v.kick()

    def step(self, v: Any) -> Reason:
        """Execute one instruction of a held vCPU; returns the stop reason (step, breakpoint, watch...)."""
        assert v.debug_stop, "step only a vCPU held by run control"
        safe = self.safe
        safe.exec_start(v)
        before = v.stop_reason
        try:
            v.stop_reason = None
            while v.work:
                v.work.popleft()(v)
            if self.step_irqs:
                v.check_interrupts()
            if v.run_state.asleep:  # a sleeping vCPU steps by waking up
                v.set_run_state(RunState.RUNNING)
            if v.run_state is RunState.RUNNING:
                if (before or {}).get("reason") in WATCH_KINDS:
                    self.watchpoints.suppressed.add(v.index)  # the access that hit goes through
                self._step_one(v)
        finally:
            self.watchpoints.suppressed.discard(v.index)
            safe.exec_end(v)
        v.debug_stop = True
        reason = v.stop_reason or {"reason": "step"}
        v.stop_reason = reason
        return reason

    # ---- breakpoints ---------------------------------------------------------
    def add_breakpoint(self, addr: int, owner: str = "api") -> None:
        """A breakpoint before the instruction at ``addr``; each client owns its own, so gdb
        removing one leaves the dashboard's at the same address in place. The address is taken as
        given: an odd one (a Thumb bit) matches no instruction, as in QEMU, where gdb never sends
        one (it clears the bit and says Thumb with the kind field)."""
        with self.lock:
            self._bp_owners.setdefault(addr, set()).add(owner)
            if addr not in self.breakpoints:
                self.breakpoints.add(addr)
                self._retranslate(addr)

    def remove_breakpoint(self, addr: int, owner: str = "api") -> bool:
        with self.lock:
            owners = self._bp_owners.get(addr)
            if not owners or owner not in owners:
                return False
            owners.discard(owner)
            if not owners:
                del self._bp_owners[addr]
                self.breakpoints.discard(addr)
                self._retranslate(addr)
            return True

    def breakpoint_list(self) -> Dict[int, Set[str]]:
        """Every breakpoint address with its owners (a copy)."""
        with self.lock:
            return {a: set(o) for a, o in self._bp_owners.items()}

    # ---- watchpoints ----------------------------------------------------------
    def add_watchpoint(self, addr: int, length: int, kind: str = WATCH_WRITE) -> None:
        with self.lock:
            self._edit_watchpoints(lambda: self.watchpoints.add(addr, length, kind))

    def remove_watchpoint(self, addr: int, length: int, kind: str = WATCH_WRITE) -> bool:
        with self.lock:
            found = (addr, length, kind) in self.watchpoints.entries
            self._edit_watchpoints(lambda: self.watchpoints.remove(addr, length, kind))
            return found

    def _edit_watchpoints(self, edit: Callable[[], Any]) -> None:
        """With the world stopped: edit, then empty every TLB so watched pages leave the fast maps."""
        def apply() -> None:
            edit()
            for v in self.vcpus:
                v.flush_translations()
        self.safe.run(apply, "watchpoints")
