"""What a vCPU is doing, as the engine, the debugger and the dashboard name it.

``RunState`` is the architectural side (running, asleep in WFI/WFE, powered
off); whether run control holds the vCPU is separate (``RunControl.held``),
because a held vCPU keeps its run state: gdb shows "stopped, WFI".
"""
from __future__ import annotations

import enum


class RunState(str, enum.Enum):
    RUNNING = "running"
    WFI = "wfi"
    WFE = "wfe"
    OFF = "off"

    def __str__(self) -> str:
        return self.value

    @property
    def asleep(self) -> bool:
        return self is RunState.WFI or self is RunState.WFE


STATE_LABELS = {RunState.RUNNING: "running", RunState.WFI: "WFI", RunState.WFE: "WFE", RunState.OFF: "powered off"}
