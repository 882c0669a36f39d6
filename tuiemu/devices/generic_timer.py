"""The ARM generic timer: per-vCPU physical (PPI 30) and virtual (PPI 27) timers over the guest clock.

Compare values and controls live in each vCPU's CP15 state. A timer's output
is level-sensitive: asserted while it is enabled, not masked and the counter
has reached the compare value.
"""
from __future__ import annotations

import threading
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..core.clock import CNTFRQ, GuestClock

PPI_PHYS, PPI_VIRT = 30, 27
CTL_ENABLE, CTL_IMASK, CTL_ISTATUS = 1, 2, 4
# CNTKCTL bits that let PL0 reach a register
_PL0 = {"CNTPCT": 1, "CNTVCT": 2, "CNTFRQ": 3, "CNTV_TVAL": 1 << 8, "CNTV_CTL": 1 << 8, "CNTV_CVAL": 1 << 8,
        "CNTP_TVAL": 1 << 9, "CNTP_CTL": 1 << 9, "CNTP_CVAL": 1 << 9}


class GenericTimer:
    def __init__(self, vcpus: List[Any], clock: GuestClock, gic: Any) -> None:
        self.vcpus = vcpus
        self.clock = clock
        self.gic = gic
        self.on_change: Callable[[], None] = lambda: None  # wakes the scheduler's timer thread
        self._last: Dict[int, Tuple[bool, bool]] = {}
        # every vCPU thread and the timer thread update levels: a stale level computed before the
        # clock moved must not overwrite a newer one (order: this lock, then the GIC's)
        self._lock = threading.Lock()

    def _count(self, which: str, s: Any) -> int:
        now = self.clock.ticks()
        return now - s.cntvoff if which == "v" else now

    def read(self, v: Any, name: str) -> Optional[int]:
        s = v.state
        if s.mode == 0x10 and not s.cntkctl & _PL0.get(name, 0):
            return None
        if name == "CNTFRQ":
            return CNTFRQ
        if name == "CNTPCT":
            return self._count("p", s)
        if name == "CNTVCT":
            return self._count("v", s)
        which = name[3].lower()  # "p" or "v" from CNTP_/CNTV_
        ctl, cval = (s.cntp_ctl, s.cntp_cval) if which == "p" else (s.cntv_ctl, s.cntv_cval)
        count = self._count(which, s)
        if name.endswith("CTL"):
            return (ctl & 3) | (CTL_ISTATUS if ctl & CTL_ENABLE and count >= cval else 0)
        if name.endswith("CVAL"):
            return cval
        return (cval - count) & 0xFFFFFFFF  # TVAL

    def write(self, v: Any, name: str, value: int) -> bool:
        s = v.state
        if s.mode == 0x10 and not s.cntkctl & _PL0.get(name, 0):
            return False
        which = name[3].lower()
        if name.endswith("CTL"):
            setattr(s, f"cnt{which}_ctl", value & 3)
        elif name.endswith("CVAL"):
            setattr(s, f"cnt{which}_cval", value & 0xFFFFFFFFFFFFFFFF)
        elif name.endswith("TVAL"):
            tval = value - (1 << 32) if value & 0x80000000 else value
            setattr(s, f"cnt{which}_cval", (self._count(which, s) + tval) & 0xFFFFFFFFFFFFFFFF)
        else:
            return False
        self.update_vcpu(v)
        self.on_change()
        return True

    def _levels(self, v: Any) -> tuple[bool, bool]:
        s = v.state
        now = self.clock.ticks()
        p = s.cntp_ctl & 3 == CTL_ENABLE and now >= s.cntp_cval
        vt = s.cntv_ctl & 3 == CTL_ENABLE and now - s.cntvoff >= s.cntv_cval
        return p, vt

    def update_vcpu(self, v: Any) -> None:
        with self._lock:
            levels = self._levels(v)
            if self._last.get(v.index) != levels:  # the GIC (and its lock) only hears about changes
                self._last[v.index] = levels
                self.gic.set_irq(PPI_PHYS, levels[0], v.index)
                self.gic.set_irq(PPI_VIRT, levels[1], v.index)

    def update(self) -> None:
        for v in self.vcpus:
            self.update_vcpu(v)

    def next_deadline(self, v: Any) -> Optional[int]:
        """Earliest future tick at which one of v's timers will fire (None: none armed)."""
        s = v.state
        now = self.clock.ticks()
        out = None
        if s.cntp_ctl & 3 == CTL_ENABLE and s.cntp_cval > now:
            out = s.cntp_cval
        if s.cntv_ctl & 3 == CTL_ENABLE and s.cntv_cval + s.cntvoff > now:
            d = s.cntv_cval + s.cntvoff
            out = d if out is None else min(out, d)
        return out
