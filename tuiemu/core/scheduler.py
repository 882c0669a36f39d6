"""Running the vCPUs: one host thread each (``multi``) or one thread in turn (``single``).

Both modes share ``service``: what a vCPU does between two stretches of
translated code (queued work, interrupts, sleeping and waking, debugger
stops), and guest time from instruction counts (``clock.py``). Single mode is
deterministic: fixed instruction quanta in CPU order, and when every vCPU
sleeps the clock jumps to the next timer. Multi mode lets host time pass
instead while every vCPU sleeps (QEMU's icount with ``sleep=on``).
"""
from __future__ import annotations

import os
import sys
import threading
import time
from typing import Callable, List, Optional

from .clock import GuestClock
from .runstate import RunState
from .safework import SafeWork
from .state import PSR_F, PSR_I
from .turns import Turns, may_run
from .vcpu import VCPU, Defer

RUNNING, WFI, WFE = RunState.RUNNING, RunState.WFI, RunState.WFE

# Multi-thread mode: instructions per stretch of translated code between counter updates (so also
# the step in which another vCPU sees the clock move, as single mode's quantum), the pause of a
# vCPU whose --max-insns share is used up, the longest a deferred vCPU waits for the others' turns
# (turns.py), and the interpreter's thread switch interval (CPython's GIL), which bounds how long
# a vCPU spinning without YIELD keeps the others waiting.
MULTI_BUDGET = 4096
BUDGET_SLEEP = 20e-6
TURN_WAIT = 0.5
SWITCH_INTERVAL = 0.0005

# YIELD (a spin-wait hint) in multi-thread mode: what the spinner waits for can only come from
# another vCPU, so it gives the host CPU away with the interpreter lock released. sched_yield runs
# the next thread that is ready (one waiting for the GIL, or woken by a kick) and costs nothing
# when none is. A fixed sleep (20 us, 70 us with the kernel's timer slack) left the host idle
# whenever every vCPU spun: a producer/consumer pair handing a flag back and forth ran 4x slower
# than the round robin; waking the others through condition variables costs 3 host context
# switches a hand-off on one core (the woken thread preempts the one still holding the GIL).
_host_yield: Callable[[], None] = getattr(os, "sched_yield", None) or (lambda: time.sleep(0))


class InsnBudget:
    """``--max-insns`` shared by vCPU threads: a vCPU takes its share before each stretch of
    translated code and returns what it did not use, so the run ends within one block per vCPU of
    the limit (whole blocks run; a block is at most 48 instructions, a self-looping one a few
    hundred iterations)."""

    def __init__(self, limit: int) -> None:
        self.left = limit
        self.out = 0  # taken and not settled yet
        self._lock = threading.Lock()

    def take(self, want: int) -> int:
        with self._lock:
            n = max(0, min(want, self.left))
            self.left -= n
            self.out += n
            return n

    def settle(self, taken: int, used: int) -> None:
        with self._lock:
            self.left += taken - used
            self.out -= taken

    def spent(self) -> bool:
        """Nothing left and nobody still running on a share (which may hand some back)."""
        with self._lock:
            return self.left <= 0 and self.out == 0


class Scheduler:
    """In single mode every vCPU must share one wake condition (the machine builds them so):
    any kick has to wake the one thread that serves them all.

    ``may_wake`` says whether anything outside the guest could still wake a vCPU (a debugger,
    the dashboard, host input for the UART); when nothing can and every vCPU sleeps with no
    timer armed, the run ends (``asleep_forever`` names them)."""

    def __init__(self, vcpus: List[VCPU], execute: Callable[[VCPU, int], int], safe: SafeWork,
                 clock: GuestClock, threads: str = "multi", quantum: int = 4096,
                 next_deadline: Optional[Callable[[VCPU], Optional[int]]] = None,
                 update_timers: Optional[Callable[[], None]] = None,
                 may_wake: Callable[[], bool] = lambda: False) -> None:
        self.vcpus = vcpus
        self.execute = execute
        self.safe = safe
        self.clock = clock
        self.threads = threads
        self.quantum = quantum
        self.next_deadline = next_deadline or (lambda v: None)
        self.update_timers = update_timers or (lambda: None)
        self.may_wake = may_wake
        self.finished = threading.Event()
        self.max_insns: Optional[int] = None
        self.asleep_forever: Optional[str] = None  # the vCPUs' states when the run ended that way
        self.error: Optional[BaseException] = None
        self._timer_wake = threading.Event()
        self.turns = Turns(vcpus, safe.exits, self.finished.is_set)
        # multi mode: the earliest timer deadline, recomputed only once a timer changed or came due
        self._due: Optional[int] = None
        self._due_stale = True

    # ---- shared per-vCPU bookkeeping -------------------------------------
    def service(self, v: VCPU) -> None:
        """Between blocks: work, interrupts, wake-ups. Runs on the vCPU's own thread."""
        v.exit_request = False
        while v.work:
            v.work.popleft()(v)
        if v.debug_stop:  # held by the debugger: nothing changes until it lets go
            return
        st = v.run_state
        if st is RUNNING:
            v.check_interrupts()
        elif st is WFI:
            if v.interrupt_pending():
                v.set_run_state(RUNNING)
                v.check_interrupts()
        elif st is WFE:
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

    def _nothing_can_wake(self) -> bool:
        """Every vCPU asleep or off, nothing pending for any, no timer armed, nobody outside."""
        for v in self.vcpus:
            st = v.run_state
            if st is RUNNING or v.debug_stop or v.work or v.irq_line or v.fiq_line:
                return False
            if st is WFE and v.state.event_reg or self.next_deadline(v) is not None:
                return False
        return not self.may_wake()

    def _end_asleep(self) -> None:
        self.asleep_forever = ", ".join(f"{v.name} {v.run_state}" + (f" at {v.R[15]:#010x}" if v.run_state.asleep
                                                                     else "") for v in self.vcpus)
        self.stop()

    # ---- entry point --------------------------------------------------------
    def run(self) -> None:
        try:
            if self.threads == "single":
                self._run_single()
            else:
                self._run_multi()
        finally:
            self.finished.set()  # however it ended (exit, budget, error), the run is over
        if self.error is not None:
            raise self.error

    @staticmethod
    def _goes_last(v: VCPU) -> bool:
        """Before a stretch: should ``v`` let the others run first (``Defer``)? Moves it on."""
        d = v.defer
        if d is Defer.BACK:
            v.defer = Defer.HANDOVER
            return True
        if d is Defer.AGAIN:
            v.defer = Defer.NONE
            return True
        return False

    # ---- single thread, round robin ----------------------------------------
    def _run_single(self) -> None:
        first = 0  # the round's first vCPU: after a debugger stop, the one after the vCPU that stopped
        while not self.finished.is_set():
            if self._over_budget():
                return
            ran = False
            self.update_timers()
            for v in self.vcpus[first:] + self.vcpus[:first]:
                if self.finished.is_set():
                    return
                self.service(v)
                if v.run_state is RUNNING and not v.debug_stop:
                    if self._goes_last(v) and any(may_run(o) for o in self.vcpus if o is not v):
                        continue  # this round without it: the others go first
                    budget = self.quantum
                    if self.max_insns is not None:
                        budget = min(budget, self.max_insns - self.total_insns())
                    self.safe.exec_start(v)
                    try:
                        if not v.debug_stop:  # see the multi-thread loop
                            self.execute(v, budget)
                    finally:
                        self.safe.exec_end(v)
                    if v.debug_stop:  # the round stops here; it goes on from the next vCPU
                        first = (v.index + 1) % len(self.vcpus)
                    ran = True
            if not ran and not self.finished.is_set():
                self._idle_single()

    def _idle_single(self) -> None:
        """No vCPU could run: fast-forward guest time to the next timer of a sleeper, or wait for an
        outside event (a debugger letting go, device input, work)."""
        free = [v for v in self.vcpus if not v.debug_stop]
        deadlines = [d for d in (self.next_deadline(v) for v in free) if d is not None]
        if deadlines and any(v.run_state.asleep for v in free):
            self.clock.skip_to(min(deadlines))
            return
        if self._nothing_can_wake():
            self._end_asleep()
            return
        wake = self.vcpus[0].wake
        with wake:
            if not any(v.exit_request or v.work for v in self.vcpus):
                wake.wait(0.05)

    # ---- one host thread per vCPU -------------------------------------------
    def _run_multi(self) -> None:
        self._budget = InsnBudget(self.max_insns or 0)
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
            idle_checks = 0
            while not self.finished.wait(0.05):
                # asleep forever twice in a row, 50 ms apart: no wake-up was merely in flight
                idle_checks = idle_checks + 1 if self._nothing_can_wake() else 0
                if idle_checks >= 2:
                    self._end_asleep()
            for t in threads:
                t.join(2.0)
        finally:
            sys.setswitchinterval(old_interval)

    def timers_changed(self) -> None:
        self._due_stale = True
        self._timer_wake.set()

    def _timer_thread(self) -> None:
        """Raise timer interrupts nobody else raises, and let guest time pass at host speed while
        every vCPU sleeps, up to the next deadline. While a vCPU runs, its instructions move the
        clock and its own thread raises what came due (``_vcpu_thread``)."""
        while not self.finished.is_set():
            self._timer_wake.clear()  # before looking: a change made from here on wakes the wait
            self.update_timers()
            due = self._earliest_deadline()
            idle = due is not None and self._all_asleep()
            start, t0 = self.clock.ticks(), time.perf_counter_ns()
            self._timer_wake.wait(0.05 if due is None else min(0.05, self.clock.seconds_until(due)))
            if idle and due is not None and self._all_asleep():
                passed = self.clock.host_ns_to_ticks(time.perf_counter_ns() - t0)
                self.clock.skip_to(min(due, start + passed))

    def _earliest_deadline(self) -> Optional[int]:
        return min((d for d in (self.next_deadline(v) for v in self.vcpus) if d is not None), default=None)

    def _all_asleep(self) -> bool:
        """No vCPU that may run is running or about to (a vCPU held by the debugger does not count,
        as in single mode); guest time only moves if someone moves it."""
        free = [v for v in self.vcpus if not v.debug_stop]
        for v in free:
            st = v.run_state
            if st is RUNNING or v.work or v.irq_line or v.fiq_line or st is WFE and v.state.event_reg:
                return False
        return bool(free)

    def _next_due(self) -> Optional[int]:
        """The earliest timer deadline, cached: computing it asks every vCPU's timers, which costs
        more than a short stretch (a vCPU spinning on YIELD ends one every few instructions).
        Levels rise only when the clock reaches a deadline; every other change is a timer write,
        which marks the cache stale (``timers_changed``) after it lands."""
        if self._due_stale:
            self._due_stale = False
            self._due = self._earliest_deadline()
        return self._due

    def _slice(self) -> int:
        """Instructions for the next stretch: no further than the earliest timer deadline, so the
        interrupt is raised when guest time reaches it (a whole block may overshoot)."""
        due = self._next_due()
        if due is None:
            return MULTI_BUDGET
        return max(1, min(MULTI_BUDGET, due - self.clock.ticks()))

    def _vcpu_thread(self, v: VCPU) -> None:
        budget = None if self.max_insns is None else self._budget
        try:
            turns = self.turns
            while not self.finished.is_set():
                self.service(v)
                if v.run_state is RUNNING and not v.debug_stop:
                    if self._goes_last(v) and turns.let_others_run(v, TURN_WAIT):
                        continue
                    want = self._slice()
                    share = want if budget is None else budget.take(want)
                    if share == 0:  # --max-insns reached, or the rest is another vCPU's for now
                        if budget is not None and budget.spent():
                            self.stop()
                            return
                        time.sleep(BUDGET_SLEEP)
                        continue
                    self.safe.exec_start(v)
                    used = 0
                    try:
                        # Checked again once inside: a debugger stop sets debug_stop, then waits until
                        # v is not inside; seen outside before exec_start, v must not run a block now.
                        if not v.debug_stop:
                            used = self.execute(v, share)
                    finally:
                        self.safe.exec_end(v)
                        if budget is not None:
                            budget.settle(share, used)
                    turns.done(v)
                    due = self._next_due()
                    if due is not None and self.clock.ticks() >= due:  # raise what came due
                        self._due_stale = True
                        self.update_timers()
                    if v.yielded:
                        v.yielded = False
                        _host_yield()
                elif not self.finished.is_set():
                    self._sleep(v)
        except BaseException as e:  # reported by run() on the main thread
            self.error = e
            self.stop()

    def _sleep(self, v: VCPU) -> None:
        """Block the host thread until a kick (interrupt, work, event, debugger). Its timer fires
        when another vCPU's instructions, or the timer thread's idle time, bring the clock there."""
        if self._all_asleep():
            self._timer_wake.set()  # the last one to sleep: idle time starts to pass now
        self.turns.done(v)  # a vCPU waiting for this one's turn need not wait any longer
        t0 = time.perf_counter_ns()
        with v.wake:
            if not v.exit_request and not v.work:
                v.wake.wait(0.1)
        if v.run_state.asleep:
            v.counters.wfi_ns += time.perf_counter_ns() - t0
