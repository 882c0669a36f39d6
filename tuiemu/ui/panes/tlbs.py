"""Soft TLBs per vCPU (entries, slow-path lookups and their hit rate, fills, flushes) and every
TLB maintenance operation as an arrow from the issuing vCPU to its targets."""
from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.containers import Vertical

from ...core.events import Event
from ..format import Column, cells, count, header, percent
from ..model import Model
from .base import Pane

COLUMNS = (Column("cpu", 5), Column("entries", 8, True), Column("lookups", 10, True), Column("hit %", 6, True),
           Column("fills", 8, True), Column("flush all", 9, True), Column("flush page", 10, True),
           Column("dropped", 8, True), Column("slow ld/st", 10, True))


def tlb_op_line(e: Event) -> Text:
    """``cpu1 ⇒ cpus {0,1,2,3}  TLBIMVAIS MVA va=0x40001000  dropped 3  world stopped``."""
    info = e.info
    targets = info.get("targets", [])
    t = Text(f"{e.t_ns / 1e9:9.3f}s ", style="dim")
    t.append(f"cpu{e.vcpu}", style="bold")
    if info.get("broadcast"):
        t.append(" ⇒ ", style="bold magenta")
        t.append("cpus {" + ",".join(str(x) for x in targets) + "}", style="magenta")
    else:
        t.append(" → ", style="dim")
        t.append("itself", style="dim")
    t.append(f"  {info.get('op', '?'):<10} {info.get('kind', '?'):<4}")
    if info.get("kind") in ("MVA", "MVAA"):
        t.append(f" va={info.get('va', 0):#010x}")
    t.append(f"  dropped {info.get('dropped', 0)}")
    if info.get("stopped"):  # another vCPU held the page (or it was a flush of everything)
        t.append("  world stopped", style="bold yellow")
    return t


class TLBPane(Vertical):
    DEFAULT_CSS = """
    TLBPane { height: 1fr; padding: 0 1; }
    TLBPane > #tlb-table { height: auto; }
    TLBPane > #tlb-ops { height: 1fr; }
    """

    def __init__(self, model: Model, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model = model
        self.table = Pane(id="tlb-table")
        self.ops = Pane(id="tlb-ops")

    def compose(self) -> Any:
        yield self.table
        yield self.ops

    def refresh_view(self) -> None:
        snap = self.model.snapshot
        if snap is None:
            return
        out = header(COLUMNS)
        for v in snap.vcpus:
            c = v.tlb
            out.append("\n")
            out.append_text(cells([v.name, count(v.tlb_entries), count(c["lookups"]),
                                   percent(c["lookups"] - c["misses"], c["lookups"]), count(c["fills"]),
                                   count(c["flushes"]), count(c["page_flushes"]), count(c["entries_dropped"]),
                                   count(c["slow"])], COLUMNS))
        self.table.show(out)
        ops = list(self.model.tlb_ops)
        broadcast = sum(1 for e in ops if e.info.get("broadcast"))
        text = Text(f"maintenance operations (newest first; {broadcast} of the last {len(ops)} broadcast):\n",
                    style="bold")
        if not ops:
            text.append("(none yet)", style="dim")
        rows = max(1, self.ops.size.height - 1)
        for n, e in enumerate(reversed(ops[-rows:])):
            text.append_text(tlb_op_line(e))
            if n < rows - 1:
                text.append("\n")
        self.ops.show(text)
