"""Guest time for the generic timer: one tick per executed instruction.

The counter advances by one tick per instruction, summed over all vCPUs, plus
the time skipped while every vCPU sleeps. Driven by the host clock instead, a
guest running at about one MIPS sees a 62.5 MHz timer pass sixty times faster
than its own progress: a Linux boot took over ten times the interrupts per
instruction and had not reached userland after six minutes. While every vCPU
sleeps the scheduler moves the clock: single-thread mode jumps straight to the
next deadline (deterministic), multi-thread mode lets host time pass (an idle
guest keeps wall-clock time). It never goes backwards.
"""
from __future__ import annotations

import threading
from typing import Callable

CNTFRQ = 62_500_000


class GuestClock:
    def __init__(self, insn_count: Callable[[], int]) -> None:
        self._insns = insn_count
        self._skipped = 0
        self._lock = threading.Lock()

    def ticks(self) -> int:
        return self._insns() + self._skipped

    def skip_to(self, ticks: int) -> None:
        """Jump forward (only while every vCPU sleeps, waiting for a timer)."""
        with self._lock:
            now = self.ticks()
            if ticks > now:
                self._skipped += ticks - now

    @staticmethod
    def host_ns_to_ticks(ns: int) -> int:
        return ns * CNTFRQ // 1_000_000_000

    def seconds_until(self, ticks: int) -> float:
        """Host seconds for the clock to reach ``ticks`` at the counter's nominal rate."""
        return max(0.0, (ticks - self.ticks()) / CNTFRQ)
