"""The event bus: a bounded ring of timestamped engine events.

Producers never wait on consumers: ``emit`` appends to a deque with a maximum
length (an atomic operation), and the oldest events fall off. Consumers
(--stats, the trace writer, the dashboard, gdb monitor commands) read with
``since(seq)`` and keep their own cursor.
"""
from __future__ import annotations

import collections
import itertools
import time
from typing import Any, Callable, Deque, Dict, List, NamedTuple, Optional


class Event(NamedTuple):
    seq: int
    t_ns: int
    kind: str
    vcpu: int  # -1 when not from a vCPU
    info: Dict[str, Any]


class EventBus:
    def __init__(self, capacity: int = 4096) -> None:
        self.ring: Deque[Event] = collections.deque(maxlen=capacity)
        self._seq = itertools.count(1)
        self.t0 = time.perf_counter_ns()
        self.totals: Dict[str, int] = collections.Counter()
        self.listeners: List[Callable[[Event], None]] = []

    def emit(self, kind: str, vcpu: Optional[int] = -1, /, **info: Any) -> Event:
        ev = Event(next(self._seq), time.perf_counter_ns() - self.t0, kind, -1 if vcpu is None else vcpu, info)
        self.ring.append(ev)
        self.totals[kind] += 1
        for fn in self.listeners:
            fn(ev)
        return ev

    def since(self, seq: int) -> List[Event]:
        return [e for e in list(self.ring) if e.seq > seq]

    def recent(self, n: int = 50, kinds: Optional[set] = None) -> List[Event]:
        evs = list(self.ring)
        if kinds:
            evs = [e for e in evs if e.kind in kinds]
        return evs[-n:]
