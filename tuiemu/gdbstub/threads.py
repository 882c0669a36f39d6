"""vCPUs as gdb threads: thread ids (vCPU index + 1, in hex) and human-readable states.

Thread id 0 means "any thread" and -1 "all threads". The multiprocess form
``pPID.TID`` is accepted too (the process part is ignored).
"""
from __future__ import annotations

from typing import Any, Optional

from ..core.runstate import STATE_LABELS, RunState

ANY, ALL = 0, -1


def parse_tid(text: bytes) -> int:
    """A thread id from a packet; raises ValueError if malformed."""
    t = text.decode("ascii")
    if t.startswith("p"):
        _, _, t = t[1:].partition(".")
        if not t:
            return ALL
    if t == "-1":
        return ALL
    value = int(t, 16)
    if value < 0:
        raise ValueError(t)
    return value


def format_tid(v: Any) -> str:
    return f"{v.index + 1:x}"


def vcpu_of(machine: Any, tid: int) -> Optional[Any]:
    """The vCPU for a specific thread id, or None."""
    if 1 <= tid <= len(machine.vcpus):
        return machine.vcpus[tid - 1]
    return None


def describe(machine: Any, v: Any) -> str:
    """One vCPU's state for qThreadExtraInfo and ``monitor info cpus``."""
    state = STATE_LABELS[v.run_state]
    if machine.runctl.held(v):
        return "stopped" if v.run_state is RunState.RUNNING else f"stopped, {state}"
    return state


def extra_info(machine: Any, v: Any) -> str:
    return f"{v.name} [{describe(machine, v)}]"
