"""One line of what matters most: run state, guest time, MIPS, gdb, and the exit status."""
from __future__ import annotations

from typing import Any

from rich.text import Text

from ...core.clock import CNTFRQ
from ..format import count, si, spark
from ..model import Model
from .base import Pane


class StatusBar(Pane):
    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; padding: 0 1; }
    """

    def __init__(self, model: Model, mode: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model = model
        self.mode = mode  # "multi" or "single"
        self.note = ""    # the last action's outcome, shown at the end

    def refresh_view(self) -> None:
        frame = self.model.frame
        if frame is None:
            return
        snap = frame.snapshot
        out = Text(no_wrap=True, overflow="ellipsis")
        if snap.finished:
            code = snap.exit_code
            label = f" EXITED {code} " if code is not None else " STOPPED "
            out.append(label, style="bold white on blue" if code in (0, None) else "bold white on red")
        elif all(v.held for v in snap.vcpus):
            out.append(" PAUSED ", style="bold white on magenta")
        elif any(v.held for v in snap.vcpus):
            out.append(" PARTLY HELD ", style="bold black on yellow")
        else:
            out.append(" RUNNING ", style="bold black on green")
        out.append(f" guest {snap.guest_ticks / CNTFRQ:.3f}s · ")
        if snap.finished:  # the rate is 0 now: what the run averaged says more
            out.append(f"{si(self.model.total_ips.average)} insn/s avg ", style="bold")
        else:
            out.append(f"{si(self.model.total_ips.now)} insn/s ", style="bold")
        out.append(spark(self.model.total_ips.history, 10), style="green")
        out.append(f" · {count(snap.total_insns)} insns · {self.mode}-thread · ")
        out.append("gdb attached" if frame.gdb_connected else "no gdb", style="bold cyan" if frame.gdb_connected
                   else "dim")
        if self.note:
            out.append(f" · {self.note}", style="italic")
        self.show(out)
