"""Chrome / Perfetto trace-event JSON: one track per vCPU and one per engine lock.

vCPU tracks show run-state spans (running, wfi, wfe, off, stopped) and
instant events (exceptions, TB invalidations and flushes, TLB flushes, safe
work). Lock tracks show every hold, and contended waits as their own spans.
The file opens in ui.perfetto.dev or chrome://tracing.

The recorder is a consumer like the dashboard: a thread of its own drains the
event ring and the locks' span queues every few milliseconds, so no vCPU ever
waits on it. Recording is bounded: past ``limit`` trace events the rest are
counted, not kept, as are events that fell off the ring between two polls.
"""
from __future__ import annotations

import json
import threading
import time
from typing import Any, Deque, Dict, List, Tuple

from .events import Event, EventBus
from .locks import InstrumentedLock, Span

PID_VCPUS, PID_LOCKS, PID_ENGINE = 1, 2, 3
POLL_S = 0.01


class TraceRecorder:
    def __init__(self, events: EventBus, vcpu_names: List[str], locks: List[InstrumentedLock],
                 limit: int = 500_000) -> None:
        self.events = events
        self.t0 = events.t0
        self.limit = limit
        self.dropped = 0
        self.missed = 0  # engine events that left the ring before they were read
        self.out: List[Dict[str, Any]] = []
        self._state: Dict[int, tuple] = {}  # vcpu -> (state, since_ns)
        self._seq = events.seq
        self._spans: List[Tuple[int, Deque[Span]]] = [(i, lk.record_spans()) for i, lk in enumerate(locks)]
        self._meta(PID_VCPUS, "vCPUs", {i: n for i, n in enumerate(vcpu_names)})
        self._meta(PID_LOCKS, "engine locks", {i: lk.name for i, lk in enumerate(locks)})
        self._meta(PID_ENGINE, "engine", {0: "events"})
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="trace", daemon=True)
        self._thread.start()

    def _meta(self, pid: int, name: str, threads: Dict[int, str]) -> None:
        self.out.append({"name": "process_name", "ph": "M", "pid": pid, "args": {"name": name}})
        for tid, tname in threads.items():
            self.out.append({"name": "thread_name", "ph": "M", "pid": pid, "tid": tid, "args": {"name": tname}})

    def _add(self, ev: Dict[str, Any]) -> None:
        if len(self.out) >= self.limit:
            self.dropped += 1
        else:
            self.out.append(ev)

    @staticmethod
    def _us(ns: int) -> float:
        return ns / 1000.0

    # ---- consuming (on the recorder's thread, or the caller's at the end) -----------------
    def _poll(self) -> None:
        while not self._stop.wait(POLL_S):
            self.drain()

    def drain(self) -> None:
        evs = self.events.since(self._seq)
        if evs:
            self.missed += evs[0].seq - self._seq - 1
            self._seq = evs[-1].seq
            for e in evs:
                self._on_event(e)
        for tid, spans in self._spans:
            while spans:
                self._lock_span(tid, *spans.popleft())

    def _lock_span(self, tid: int, thread: str, start_ns: int, wait_ns: int, hold_ns: int) -> None:
        t = start_ns - self.t0
        if wait_ns:
            self._add({"name": f"wait ({thread})", "ph": "X", "pid": PID_LOCKS, "tid": tid, "ts": self._us(t),
                       "dur": self._us(wait_ns), "args": {"thread": thread}})
        self._add({"name": f"held by {thread}", "ph": "X", "pid": PID_LOCKS, "tid": tid,
                   "ts": self._us(t + wait_ns), "dur": self._us(hold_ns), "args": {"thread": thread}})

    def _on_event(self, e: Event) -> None:
        if e.kind == "vcpu_state":
            self._close_state(e.vcpu, e.t_ns)
            self._state[e.vcpu] = (str(e.info["state"]), e.t_ns)
            return
        args = {k: (hex(v) if isinstance(v, int) and k in ("pc", "va", "page", "vector", "addr") else v)
                for k, v in e.info.items()}
        if e.kind == "safe_work":
            stopped = e.info.get("stopped_ns", 0)
            self._add({"name": f"safe work: {e.info.get('what', '')}", "ph": "X", "pid": PID_ENGINE, "tid": 0,
                       "ts": self._us(e.t_ns - stopped), "dur": self._us(stopped),
                       "args": dict(args, requester=e.vcpu)})
            return
        pid, tid = (PID_VCPUS, e.vcpu) if e.vcpu >= 0 else (PID_ENGINE, 0)
        self._add({"name": e.kind, "ph": "i", "s": "t", "pid": pid, "tid": tid, "ts": self._us(e.t_ns),
                   "args": args})

    def _close_state(self, vcpu: int, now_ns: int) -> None:
        prev = self._state.pop(vcpu, None)
        if prev is not None:
            state, since = prev
            self._add({"name": state, "ph": "X", "pid": PID_VCPUS, "tid": vcpu, "ts": self._us(since),
                       "dur": self._us(now_ns - since)})

    def stop(self) -> None:
        """Stop polling and take in what is left."""
        self._stop.set()
        self._thread.join()
        self.drain()

    def write(self, path: str) -> int:
        self.stop()
        now = time.perf_counter_ns() - self.t0
        for vcpu in list(self._state):
            self._close_state(vcpu, now)
        doc = {"traceEvents": self.out, "displayTimeUnit": "ns",
               "otherData": {"producer": "tuiemu", "dropped_events": self.dropped, "missed_events": self.missed}}
        with open(path, "w") as f:
            json.dump(doc, f)
        return len(self.out)
