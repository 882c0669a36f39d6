"""Letting the other vCPUs go first (multi-thread mode): a vCPU the debugger resumed after a hit
goes to the back of the queue (``vcpu.Defer``).

Its thread waits until every other vCPU that can run has ended one stretch of translated code
(``MULTI_BUDGET`` instructions at most) or gone to sleep, as the round robin would have them
run once before it. Without that, the vCPU that hit a breakpoint is the first to run again
after a continue (under the GIL, the others only get the interpreter when its slice ends) and,
with the breakpoint in a locked region, the only one ever to hit it.

Protocol, correct without the GIL: the waiter registers the set of vCPUs it waits for in
``waiting``, drops those whose exit count (``SafeWork.exits``) moved since it looked, and counts
its own wait as its turn (``done``). A vCPU that ends a stretch, goes to sleep or starts waiting
takes itself out of every set (``set.discard``: one atomic operation) and notifies the waiter
whose set it emptied, under the waiter's wake lock; the waiter tests its set under that lock
before it waits, so no notification is lost. No two waiters wait for each other: the later one
took itself out of the earlier one's set when it registered, so the earliest waiter waits only
for vCPUs that run, and each release frees the next. A timeout bounds the wait all the same.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Dict, List, Set

from .runstate import RunState
from .state import PSR_F, PSR_I


def may_run(v: Any) -> bool:
    """Runs now or will at its next service: awake, or asleep with a reason to wake."""
    if v.debug_stop:
        return False
    st = v.run_state
    if st is RunState.RUNNING or v.work:
        return True
    if st is RunState.OFF:
        return False
    return bool(v.irq_line or v.fiq_line or st is RunState.WFE and v.state.event_reg)


class Turns:
    def __init__(self, vcpus: List[Any], exits: List[int], finished: Callable[[], bool]) -> None:
        self.vcpus = vcpus
        self.exits = exits  # per vCPU: stretches of translated code it has ended (SafeWork's)
        self.finished = finished
        self.waiting: Dict[int, Set[int]] = {}  # waiting vCPU -> the vCPUs it still lets run first

    def let_others_run(self, v: Any, timeout: float) -> bool:
        """Block ``v``'s thread until every other vCPU that may run has ended a stretch or stopped
        being able to run, or something needs ``v`` (work, an unmasked interrupt, the debugger, a
        kick), or ``timeout`` seconds. False at once if no other vCPU may run."""
        exits = self.exits
        seen = {o.index: exits[o.index] for o in self.vcpus if o is not v and may_run(o)}
        if not seen:
            return False
        rest = set(seen)
        v.exit_request = False  # from here on, a kick (work, interrupt, debugger) ends the wait
        self.waiting[v.index] = rest
        deadline = time.monotonic() + timeout
        try:
            for i, n in seen.items():
                if exits[i] != n:
                    rest.discard(i)
            self.done(v)
            with v.wake:
                while rest and not self._needed(v):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    v.wake.wait(left)
        finally:
            del self.waiting[v.index]
        return True

    def _needed(self, v: Any) -> bool:
        ctl = v.state.cpsr_ctl
        return bool(v.exit_request or v.work or v.debug_stop or self.finished()
                    or v.irq_line and not ctl & PSR_I or v.fiq_line and not ctl & PSR_F)

    def done(self, v: Any) -> None:
        """``v`` ended a stretch, is going to sleep or waits: whoever waited on it last goes on."""
        if not self.waiting:
            return
        me = v.index
        for i, rest in list(self.waiting.items()):
            if me in rest:
                rest.discard(me)
                if not rest:
                    w = self.vcpus[i].wake
                    with w:
                        w.notify_all()
