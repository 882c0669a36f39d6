"""The event bus: a bounded ring of timestamped engine events.

Producers never wait on consumers: ``emit`` numbers the event and appends it to
a deque with a maximum length under a tiny lock of its own (held for two
operations; no consumer ever holds it while doing work), and the oldest events
fall off. Consumers (--stats, the trace writer, the dashboard, gdb monitor
commands) poll with ``since(seq)`` from their own threads and keep their own
cursor; a gap in the sequence numbers tells them how many they missed.
"""
from __future__ import annotations

import collections
import threading
import time
from typing import Any, Deque, Dict, List, NamedTuple, Optional


class Event(NamedTuple):
    seq: int
    t_ns: int
    kind: str
    vcpu: int  # -1 when not from a vCPU
    info: Dict[str, Any]


class EventBus:
    def __init__(self, capacity: int = 4096) -> None:
        self.ring: Deque[Event] = collections.deque(maxlen=capacity)
        self.seq = 0  # of the newest event
        self.t0 = time.perf_counter_ns()
        self.totals: Dict[str, int] = collections.Counter()
        self._lock = threading.Lock()

    def emit(self, kind: str, vcpu: Optional[int] = -1, /, **info: Any) -> Event:
        t = time.perf_counter_ns() - self.t0
        with self._lock:
            self.seq += 1
            ev = Event(self.seq, t, kind, -1 if vcpu is None else vcpu, info)
            self.ring.append(ev)
            self.totals[kind] += 1
        return ev

    def since(self, seq: int) -> List[Event]:
        """Events newer than ``seq``, oldest first (those that already fell off are missing)."""
        with self._lock:
            if self.seq <= seq:
                return []
            n = min(self.seq - seq, len(self.ring))
            return list(self.ring)[-n:]

    def recent(self, n: int = 50, kinds: Optional[set] = None) -> List[Event]:
        with self._lock:
            evs = list(self.ring)
        if kinds:
            evs = [e for e in evs if e.kind in kinds]
        return evs[-n:]
