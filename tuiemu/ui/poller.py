"""The dashboard's only reader of the engine: about ten times a second it takes a snapshot, the
new events, the new console text and every vCPU's registers, and hands them over as one
immutable ``Frame``. It runs on a thread of its own (a Textual thread worker); vCPU threads
never call it and never wait for it.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, List, Optional, Tuple

from ..core.events import Event
from ..core.snapshot import RegisterView, Snapshot, TBInfo

INTERVAL_S = 0.1
HOT_EVERY = 5  # hottest-TB list every this many frames (it walks the whole cache)


@dataclass(frozen=True)
class Frame:
    snapshot: Snapshot
    events: Tuple[Event, ...]
    missed_events: int               # fell off the ring before this poll
    registers: Tuple[RegisterView, ...]
    console: bytes
    hot_tbs: Optional[Tuple[TBInfo, ...]]  # None in frames that did not refresh it
    gdb_connected: bool


class Poller:
    def __init__(self, machine: Any, gdb_server: Any = None) -> None:
        self.m = machine
        self.gdb = gdb_server
        self._seq = machine.events.seq
        self._console = 0
        self._n = 0

    def poll(self) -> Frame:
        m = self.m
        snap = m.snapshot()
        events: List[Event] = m.events.since(self._seq)
        missed = 0
        if events:
            missed = events[0].seq - self._seq - 1
            self._seq = events[-1].seq
        text, self._console = m.console.read_since(self._console)
        regs = tuple(m.registers(v.index) for v in snap.vcpus)
        hot = tuple(m.hot_tbs(40)) if self._n % HOT_EVERY == 0 else None
        self._n += 1
        return Frame(snap, tuple(events), missed, regs, text, hot,
                     self.gdb is not None and self.gdb.conn is not None)

    def frames(self, cancelled: Any, interval: float = INTERVAL_S) -> Any:
        """Yield frames every ``interval`` seconds until ``cancelled()``."""
        while not cancelled():
            t0 = time.monotonic()
            yield self.poll()
            time.sleep(max(0.0, interval - (time.monotonic() - t0)))
