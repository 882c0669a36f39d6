"""The vCPU grid: one line per vCPU, coloured by state, always on screen (htop's CPU bars)."""
from __future__ import annotations

from typing import Any, List

from rich.text import Text
from textual.message import Message

from ...core.runstate import RunState
from ..format import Column, cells, count, header, si, spark, where
from ..model import Model
from .base import Pane

STATUS_STYLE = {
    "running": "bold green", "WFI": "yellow", "WFE": "yellow", "powered off": "grey50",
    "stopped by debugger": "bold red", "paused by UI": "bold magenta", "at breakpoint": "bold red",
    "at watchpoint": "bold red", "stepped": "bold cyan", "halted": "grey50",
}


def columns(width: int) -> List[Column]:
    wide = width >= 110
    spark_w = 40 if width >= 180 else 16 if wide else 8
    fixed = [Column("cpu", 5), Column("state", 19 if wide else 13), Column("mode", 7)]
    if wide:
        fixed.append(Column("pc", 8))
    tail = [Column("insn/s", 6, right=True), Column("activity", spark_w), Column("exc", 5, right=True),
            Column("irq", 5, right=True)]
    used = sum(c.width + 1 for c in fixed + tail)
    return fixed + [Column("where", max(8, width - used - 1))] + tail


class VCPUGrid(Pane):
    DEFAULT_CSS = """
    VCPUGrid { height: auto; padding: 0 1; }
    """

    class Selected(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, model: Model, image: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model = model
        self.image = image

    def refresh_view(self) -> None:
        snap = self.model.snapshot
        if snap is None:
            return
        cols = columns(self.size.width - 2)
        wide = any(c.title == "pc" for c in cols)
        spark_w = next(c.width for c in cols if c.title == "activity")
        top = max((max(r.history, default=0.0) for r in self.model.vcpu_ips), default=0.0)
        out = header(cols)
        for v in snap.vcpus:
            sel = v.index == self.model.selected
            rates = self.model.vcpu_ips[v.index]
            off = v.run_state is RunState.OFF
            # the run is over: a vCPU caught running (the one that exited, say) runs no more
            status = "halted" if snap.finished and v.status == "running" else v.status
            row: List[Any] = [Text(("▸" if sel else " ") + v.name, style="bold reverse" if sel else "bold"),
                              Text(status, style=STATUS_STYLE.get(status, "")),
                              "-" if off else f"{v.mode}·{'T32' if v.thumb else 'A32'}"]
            if wide:
                row.append("-" if off else f"{v.pc:08x}")
            row += ["" if off else where(self.image, v.pc), si(0 if snap.finished else rates.now),
                    Text(spark(rates.history, spark_w, top), style="green"),
                    count(v.counters["exceptions"]), count(v.counters["irqs"])]
            out.append("\n")
            out.append_text(cells(row, cols))
        self.show(out)

    def on_click(self, event: Any) -> None:
        row = event.y - 1  # below the header line
        snap = self.model.snapshot
        if snap is not None and 0 <= row < len(snap.vcpus):
            self.post_message(self.Selected(row))
