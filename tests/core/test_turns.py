"""Letting the other vCPUs go first (core/turns.py), on stand-in vCPUs driven by the test's threads."""
from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any, List

from tuiemu.core.runstate import RunState
from tuiemu.core.turns import Turns


def vcpus(n: int) -> List[Any]:
    return [SimpleNamespace(index=i, debug_stop=False, run_state=RunState.RUNNING, work=[], irq_line=False,
                            fiq_line=False, exit_request=False, state=SimpleNamespace(event_reg=0, cpsr_ctl=0),
                            wake=threading.Condition(threading.Lock())) for i in range(n)]


def stretch(turns: Turns, v: Any) -> None:
    """What the scheduler does when ``v`` ends a stretch of translated code."""
    turns.exits[v.index] += 1
    turns.done(v)


def waiting(turns: Turns, v: Any, timeout: float = 5.0) -> threading.Thread:
    t = threading.Thread(target=turns.let_others_run, args=(v, timeout))
    t.start()
    until(lambda: v.index in turns.waiting)
    return t


def until(cond: Any) -> None:
    deadline = time.monotonic() + 5
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_nothing_to_wait_for_when_no_other_vcpu_may_run() -> None:
    vs = vcpus(3)
    vs[1].run_state = RunState.WFE
    vs[2].debug_stop = True
    turns = Turns(vs, [0, 0, 0], lambda: False)
    assert turns.let_others_run(vs[0], 5.0) is False
    vs[1].state.event_reg = 1  # an event wakes it at its next service: it may run
    t0 = time.monotonic()
    assert turns.let_others_run(vs[0], 0.05) is True and time.monotonic() - t0 >= 0.04


def test_waits_until_every_other_vcpu_has_had_a_turn() -> None:
    vs = vcpus(3)
    turns = Turns(vs, [0, 0, 0], lambda: False)
    t = waiting(turns, vs[0])
    stretch(turns, vs[1])
    time.sleep(0.02)
    assert t.is_alive()  # vCPU 2 has not run yet
    vs[2].run_state = RunState.WFI  # going to sleep counts as well
    turns.done(vs[2])
    t.join(5)
    assert not t.is_alive() and not turns.waiting


def test_waiters_never_wait_for_each_other() -> None:
    """Three vCPUs each let the others go first: they take turns, as in a round robin."""
    vs = vcpus(3)
    turns = Turns(vs, [0, 0, 0], lambda: False)
    a = waiting(turns, vs[0])
    b = waiting(turns, vs[1])  # its wait is its turn: vCPU 0 now waits for vCPU 2 alone
    until(lambda: turns.waiting[0] == {2})
    c = waiting(turns, vs[2])  # releases vCPU 0, and waits for it
    a.join(5)
    assert not a.is_alive() and b.is_alive() and c.is_alive()
    stretch(turns, vs[0])  # vCPU 0 runs: vCPU 1 goes on (and 2 when 1 has run)
    b.join(5)
    assert not b.is_alive() and c.is_alive()
    stretch(turns, vs[1])
    c.join(5)
    assert not c.is_alive()


def test_a_kick_or_the_end_of_the_run_ends_the_wait() -> None:
    vs = vcpus(2)
    finished = threading.Event()
    turns = Turns(vs, [0, 0], finished.is_set)
    t = waiting(turns, vs[0])
    vs[0].work.append(lambda v: None)
    with vs[0].wake:
        vs[0].wake.notify_all()
    t.join(5)
    assert not t.is_alive()
    vs[0].work.clear()
    t = waiting(turns, vs[0])
    finished.set()
    with vs[0].wake:
        vs[0].wake.notify_all()
    t.join(5)
    assert not t.is_alive()


def test_the_wait_is_bounded() -> None:
    vs = vcpus(2)
    turns = Turns(vs, [0, 0], lambda: False)
    t0 = time.monotonic()
    assert turns.let_others_run(vs[0], 0.05)
    assert 0.04 <= time.monotonic() - t0 < 2.0
