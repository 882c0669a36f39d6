"""Running the vCPUs: one host thread each (``multi``) or one thread in turn (``single``).

Both modes share ``service``: what a vCPU does between two stretches of
translated code (queued work, interrupts, sleeping and waking, debugger
stops). Single mode is deterministic: fixed instruction quanta in CPU order,
guest time from instruction counts, sleepers fast-forward the clock.
"""
from __future__ import annotations

import sys
import threading
import time
from typing import Callable, List, Optional

from .clock import GuestClock
from .safework import SafeWork
from .state import PSR_F, PSR_I
from .vcpu import RUNNING, VCPU, WFE, WFI

# Multi-thread mode: instructions per stretch of translated code between counter updates, the
# pause after a YIELD, and the interpreter's thread switch interval (CPython's GIL), which bounds
# how long a vCPU spinning on another vCPU's progress keeps the others waiting.
MULTI_BUDGET = 1 << 16
YIELD_SLEEP = 20e-6
SWITCH_INTERVAL = 0.0005


class Scheduler:
    def __init__(self, vcpus: List[VCPU], execute: Callable[[VCPU, int], int], safe: SafeWork,
                 clock: GuestClock, threads: str = "multi", quantum: int = 4096,
                 next_deadline: Optional[Callable[[VCPU], Optional[int]]] = None,
                 update_timers: Optional[Callable[[], None]] = None) -> None:
        self.vcpus = vcpus
        self.execute = execute
        self.safe = safe
        self.clock = clock
        self.threads = threads
        self.quantum = quantum
        self.next_deadline = next_deadline or (lambda v: None)
        self.update_timers = update_timers or (lambda: None)
        self.finished = threading.Event()
        self.max_insns: Optional[int] = None
        self.error: Optional[BaseException] = None
        self._timer_wake = threading.Event()
        if threads == "single":  # one thread serves them all: any kick must wake it
            shared = threading.Condition(threading.Lock())
            for v in vcpus:
                v.wake = shared

    # ---- shared per-vCPU bookkeeping -------------------------------------
    def service(self, v: VCPU) -> None:
        """Between blocks: work, interrupts, wake-ups. Runs on the vCPU's own thread."""
        v.exit_request = False
        while v.work:
            v.work.popleft()(v)
        if v.debug_stop:  # held by the debugger: nothing changes until it lets go
            return
        st = v.run_state
        if st == RUNNING:
            v.check_interrupts()
        elif st == WFI:
            if v.interrupt_pending():
                v.set_run_state(RUNNING)
                v.check_interrupts()
        elif st == WFE:
            ctl = v.state.cpsr_ctl
            if v.state.event_reg or (v.irq_line and not ctl & PSR_I) or (v.fiq_line and not ctl & PSR_F):
                v.state.event_reg = 0
                v.set_run_state(RUNNING)
                v.check_interrupts()

    def stop(self) -> None:
        self.finished.set()
        for v in self.vcpus:
            v.kick()

    def total_insns(self) -> int:
        return sum(v.counters.insns for v in self.vcpus)

    def _over_budget(self) -> bool:
        return self.max_insns is not None and self.total_insns() >= self.max_insns

    # ---- entry point --------------------------------------------------------
    def run(self) -> None:
        if self.threads == "single":
            self._run_single()
        else:
            self._run_multi()
        if self.error is not None:
            raise self.error

    # ---- single thread, round robin ----------------------------------------
    def _run_single(self) -> None:
        while not self.finished.is_set():
            if self._over_budget():
                return
            ran = False
            self.update_timers()
            for v in self.vcpus:
                if self.finished.is_set():
                    return
                self.service(v)
                if v.run_state == RUNNING and not v.debug_stop:
                    budget = self.quantum
                    if self.max_insns is not None:
                        budget = min(budget, self.max_insns - self.total_insns())
                    self.safe.exec_start(v)
                    try:
                        self.execute(v, budget)
                    finally:
                        self.safe.exec_end(v)
                    ran = True
            if not ran and not self.finished.is_set():
                self._idle_single()

    def _idle_single(self) -> None:
        """No vCPU could run: fast-forward guest time to the next timer of a sleeper, or wait for an
        outside event (a debugger letting go, device input, work)."""
        free = [v for v in self.vcpus if not v.debug_stop]
        deadlines = [d for d in (self.next_deadline(v) for v in free) if d is not None]
        if deadlines and any(v.run_state in (WFI, WFE) for v in free):
            self.clock.skip_to(min(deadlines))
            return
        wake = self.vcpus[0].wake
        with wake:
            if not any(v.exit_request or v.work for v in self.vcpus):
                wake.wait(0.05)

    # ---- one host thread per vCPU -------------------------------------------
    def _run_multi(self) -> None:
        threads = []
        for v in self.vcpus:
            t = threading.Thread(target=self._vcpu_thread, args=(v,), name=v.name, daemon=True)
            t.vcpu_name = v.name  # type: ignore[attr-defined]
            threads.append(t)
        for t in threads:
            t.start()
        timer = threading.Thread(target=self._timer_thread, name="timers", daemon=True)
        old_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(old_interval, SWITCH_INTERVAL))
        try:
            timer.start()
            while not self.finished.wait(0.05):
                if self._over_budget():
                    self.stop()
            for t in threads:
                t.join(2.0)
        finally:
            sys.setswitchinterval(old_interval)

    def timers_changed(self) -> None:
        self._timer_wake.set()

    def _timer_thread(self) -> None:
        """Raise timer interrupts on time; sleeps until the earliest deadline or a timer write."""
        while not self.finished.is_set():
            self.update_timers()
            deadlines = [d for d in (self.next_deadline(v) for v in self.vcpus) if d is not None]
            timeout = 0.05 if not deadlines else min(0.05, self.clock.seconds_until(min(deadlines)))
            self._timer_wake.wait(timeout)
            self._timer_wake.clear()

    def _vcpu_thread(self, v: VCPU) -> None:
        try:
            while not self.finished.is_set():
                self.service(v)
                if v.run_state == RUNNING and not v.debug_stop:
                    self.safe.exec_start(v)
                    try:
                        self.execute(v, MULTI_BUDGET)
                    finally:
                        self.safe.exec_end(v)
                    if v.yielded:  # a spin-wait: really hand the interpreter lock to another thread
                        v.yielded = False
                        time.sleep(YIELD_SLEEP)
                elif not self.finished.is_set():
                    self._sleep(v)
        except BaseException as e:  # reported by run() on the main thread
            self.error = e
            self.stop()

    def _sleep(self, v: VCPU) -> None:
        """Block the host thread until a kick (interrupt, work, event, debugger) or the vCPU's next timer."""
        deadline = self.next_deadline(v)
        if deadline is not None and deadline <= self.clock.ticks():
            self.update_timers()  # due already: raise it now rather than wait for the timer thread
            return
        timeout = 0.1 if deadline is None else min(0.1, self.clock.seconds_until(deadline))
        t0 = time.perf_counter_ns()
        with v.wake:
            if not v.exit_request and not v.work:
                v.wake.wait(timeout)
        if v.run_state in (WFI, WFE):
            v.counters.wfi_ns += time.perf_counter_ns() - t0
