"""Guest time for the generic timer.

In deterministic (single-thread) mode time is derived from executed
instructions: one tick per instruction, summed over all vCPUs, plus the time
skipped while every vCPU sleeps. In multi-thread mode it follows the host's
monotonic clock. Either way it never goes backwards.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

CNTFRQ = 62_500_000


class GuestClock:
    def __init__(self, deterministic: bool, insn_count: Callable[[], int]) -> None:
        self.deterministic = deterministic
        self._insns = insn_count
        self._skipped = 0
        self._t0 = time.perf_counter_ns()
        self._lock = threading.Lock()

    def ticks(self) -> int:
        if self.deterministic:
            return self._insns() + self._skipped
        return (time.perf_counter_ns() - self._t0) * CNTFRQ // 1_000_000_000 + self._skipped

    def skip_to(self, ticks: int) -> None:
        """Jump forward (only used when every vCPU sleeps, waiting for a timer)."""
        with self._lock:
            now = self.ticks()
            if ticks > now:
                self._skipped += ticks - now

    def seconds_until(self, ticks: int) -> float:
        return max(0.0, (ticks - self.ticks()) / CNTFRQ)
