"""Run control: the one API through which the CLI, the gdb stub and the dashboard stop, step and
resume vCPUs and set breakpoints and watchpoints.

A vCPU held by the debugger has ``debug_stop`` set: its thread (or the
round-robin loop) leaves translated code at the next block boundary and runs
nothing until released. ``stop`` waits until the vCPU is really outside
translated code, so its registers can be read and written safely. Stepping
runs one instruction on the caller's thread, bracketed like any other
execution so stop-the-world work still sees it.

Breakpoints become a debug exit in front of the instruction when blocks are
translated, so setting or clearing one drops the blocks that cover its address.
Watchpoints keep their pages out of the soft TLBs' fast maps; the slow path
raises the hit before the access is performed.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from .exceptions import WatchpointHit

Listener = Callable[[Any, Dict[str, Any]], None]

WATCH_WRITE, WATCH_READ, WATCH_ACCESS = "watch", "rwatch", "awatch"


class RunControl:
    def __init__(self, machine: Any) -> None:
        self.m = machine
        self.vcpus = machine.vcpus
        self.breakpoints: Set[int] = machine.translator.breakpoints
        self.watchpoints: Dict[Tuple[int, int, str], None] = {}
        self.listeners: List[Listener] = []
        self.lock = threading.RLock()
        self.step_irqs = False  # deliver interrupts while single-stepping (QEMU's default is off)
        for v in self.vcpus:
            v.on_debug_stop = self._stopped
            v.tlb.watch_check = self._make_watch_check(v)

    # ---- notifications ---------------------------------------------------
    def _stopped(self, v: Any, reason: Dict[str, Any]) -> None:
        """Called on the vCPU's thread when it hits a breakpoint or watchpoint."""
        v.debug_stop = True
        v.stop_reason = reason
        v.exit_request = True
        self.m.events.emit("debug_stop", v.index, **reason)
        for fn in list(self.listeners):
            fn(v, reason)

    # ---- stopping and resuming ----------------------------------------------
    def stop(self, vcpus: Optional[List[Any]] = None, reason: str = "request", timeout: float = 5.0) -> None:
        """Hold the vCPUs and wait until none of them is inside translated code."""
        targets = self.vcpus if vcpus is None else vcpus
        for v in targets:
            if not v.debug_stop:
                v.stop_reason = {"reason": reason}
            v.debug_stop = True
            v.kick()
        deadline = time.monotonic() + timeout
        running = self.m.safe.running
        while any(v.index in running for v in targets) and time.monotonic() < deadline:
            time.sleep(0.0005)

    def resume(self, vcpus: Optional[List[Any]] = None) -> None:
        """Let the vCPUs go; one stopped on a breakpoint or watchpoint first steps past it."""
        targets = self.vcpus if vcpus is None else vcpus
        for v in targets:
            reason = (v.stop_reason or {}).get("reason")
            if v.debug_stop and reason in ("breakpoint", WATCH_WRITE, WATCH_READ, WATCH_ACCESS):
                self.step(v)
            v.stop_reason = None
            v.debug_stop = False
            v.kick()

    def is_stopped(self, v: Any) -> bool:
        return v.debug_stop and v.index not in self.m.safe.running

    def step(self, v: Any) -> Dict[str, Any]:
        """Execute one instruction of a held vCPU; returns the stop reason (step, breakpoint, watch...)."""
        assert v.debug_stop, "step only a vCPU held by the debugger"
        safe = self.m.safe
        safe.exec_start(v)
        before = v.stop_reason
        try:
            v.stop_reason = None
            while v.work:
                v.work.popleft()(v)
            if self.step_irqs:
                v.check_interrupts()
            if v.run_state in ("wfi", "wfe"):  # a sleeping vCPU steps by waking up
                v.set_run_state("running")
            if v.run_state == "running":
                v.watch_suppressed = (before or {}).get("reason") in (WATCH_WRITE, WATCH_READ, WATCH_ACCESS)
                self.m.engine.step(v)
        finally:
            v.watch_suppressed = False
            safe.exec_end(v)
        v.debug_stop = True
        reason = v.stop_reason or {"reason": "step"}
        v.stop_reason = reason
        return reason

    # ---- breakpoints ---------------------------------------------------------
    def _retranslate(self, addr: int) -> None:
        """Blocks covering ``addr`` go; a vCPU inside one finishes it, like any code change."""
        self.m.cache.invalidate_virtual(addr, "breakpoints changed")

    def add_breakpoint(self, addr: int) -> None:
        with self.lock:
            if addr & ~1 not in self.breakpoints:
                self.breakpoints.add(addr & ~1)
                self._retranslate(addr & ~1)

    def remove_breakpoint(self, addr: int) -> bool:
        with self.lock:
            if addr & ~1 not in self.breakpoints:
                return False
            self.breakpoints.discard(addr & ~1)
            self._retranslate(addr & ~1)
            return True

    # ---- watchpoints ----------------------------------------------------------
    def add_watchpoint(self, addr: int, length: int, kind: str = WATCH_WRITE) -> None:
        with self.lock:
            self.watchpoints[(addr, length, kind)] = None
            self._refresh_watched_pages()

    def remove_watchpoint(self, addr: int, length: int, kind: str = WATCH_WRITE) -> bool:
        with self.lock:
            found = self.watchpoints.pop((addr, length, kind), 0) is None
            self._refresh_watched_pages()
            return found

    def _refresh_watched_pages(self) -> None:
        pages = set()
        for addr, length, _ in self.watchpoints:
            pages.update(range(addr >> 12, ((addr + max(length, 1) - 1) >> 12) + 1))

        def apply() -> None:
            for v in self.vcpus:
                v.tlb.watched_pages = pages
                v.tlb.flush_all()
                v.jump_cache.clear()
        self.m.safe.run_safe(None, apply, "watchpoints")

    def _make_watch_check(self, v: Any) -> Callable[[int, int, bool], None]:
        def check(va: int, size: int, is_write: bool) -> None:
            if not self.watchpoints or v.watch_suppressed:
                return
            for addr, length, kind in list(self.watchpoints):
                if va < addr + length and addr < va + size:
                    if kind == WATCH_ACCESS or (kind == WATCH_WRITE) == is_write:
                        raise WatchpointHit(addr, kind)
        return check

