"""The engine's locks as first-class rows: who holds each one and who waits right now,
acquisitions, contention and waiting, a contention-rate sparkline, and the per-thread
breakdown of the lock under the cursor."""
from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.containers import Vertical

from ..format import Column, cells, count, duration_ns, header, percent, si, spark
from ..model import Model
from ..rowlist import RowList
from .base import Pane

COLUMNS = (Column("lock", 9), Column("held by", 8), Column("wait", 4, True), Column("acquired", 9, True),
           Column("acq/s", 6, True, False), Column("cont.", 6, True), Column("cont/s", 6, True),
           Column("contention 12s", 14), Column("total wait", 10, True, False), Column("max wait", 9, True),
           Column("held", 9, True, False))
THREAD_COLUMNS = (Column("thread", 12), Column("acquired", 9, True), Column("contended", 9, True),
                  Column("cont.", 6, True), Column("total wait", 10, True), Column("max wait", 9, True),
                  Column("held", 9, True))
WIDE = 112


class LocksPane(Vertical):
    DEFAULT_CSS = """
    LocksPane { height: 1fr; }
    LocksPane > RowList { height: 6; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    LocksPane > #breakdown { height: 1fr; padding: 0 1; }
    """

    def __init__(self, model: Model, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model = model
        self.list = RowList(header=Text(""), id="lock-list")
        self.breakdown = Pane(id="breakdown")

    def compose(self) -> Any:
        yield self.list
        yield self.breakdown

    def refresh_view(self) -> None:
        snap = self.model.snapshot
        if snap is None:
            return
        wide = self.size.width >= WIDE
        self.list.header = header(COLUMNS, wide)
        rows = []
        for lk in snap.locks:
            t = lk.totals
            acq, cont = self.model.lock_acq[lk.name], self.model.lock_contended[lk.name]
            rows.append(cells([
                lk.name, Text(lk.holder or "-", style="bold yellow" if lk.holder else "dim"),
                Text(str(len(lk.waiters)), style="bold red" if lk.waiters else ""), count(t["acquired"]), si(acq.now),
                percent(t["contended"], t["acquired"]), si(cont.now), Text(spark(cont.history, 14), style="red"),
                duration_ns(t["wait_ns"]), duration_ns(t["max_wait_ns"]), duration_ns(t["hold_ns"])], COLUMNS, wide))
        self.list.set_rows(rows, [lk.name for lk in snap.locks])
        self._breakdown(self.list.chosen_key)

    def _breakdown(self, name: Any) -> None:
        snap = self.model.snapshot
        lk = next((x for x in snap.locks if x.name == name), None) if snap is not None else None
        if lk is None:
            self.breakdown.show(Text(""))
            return
        out = Text(f"{lk.name}: per thread", style="bold underline")
        out.append(f"   now: held by {lk.holder or 'nobody'}, waiting: {', '.join(lk.waiters) or 'nobody'}"
                   "  (up/down: another lock)\n", style="dim")
        out.append_text(header(THREAD_COLUMNS))
        for thread, st in sorted(lk.per_thread.items()):
            out.append("\n")
            out.append_text(cells([thread, count(st["acquired"]), count(st["contended"]),
                                   percent(st["contended"], st["acquired"]), duration_ns(st["wait_ns"]),
                                   duration_ns(st["max_wait_ns"]), duration_ns(st["hold_ns"])], THREAD_COLUMNS))
        self.breakdown.show(out)
