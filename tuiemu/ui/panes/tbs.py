"""The translation cache: live blocks, translation rate, chaining, jump-cache hit rate,
invalidations by cause, and the hottest blocks (enter opens the TB inspector)."""
from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.containers import Vertical

from ..format import count, duration_ns, percent, si, spark, where
from ..model import Model
from ..rowlist import RowList
from .base import Pane

CAUSES = ("vcpu store", "dma", "debugger write", "cache maintenance", "breakpoint", "full flush")
HEADER = f"{'pc':<8} {'where':<26} {'isa':<3} {'insns':>5} {'execs':>9} {'share':>6}  {'links':>5}  {'in':>3}"


class TBPane(Vertical):
    DEFAULT_CSS = """
    TBPane { height: 1fr; }
    TBPane > #tb-stats { height: auto; padding: 0 1; }
    TBPane > RowList { height: 1fr; padding: 0 1; }
    """

    def __init__(self, model: Model, image: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model = model
        self.image = image
        self.stats = Pane(id="tb-stats")
        self.list = RowList(header=Text(HEADER, style="bold"), id="tb-list")
        self.list.empty = Text("(no blocks yet)", style="dim")

    def compose(self) -> Any:
        yield self.stats
        yield self.list

    def refresh_view(self) -> None:
        snap = self.model.snapshot
        if snap is None:
            return
        tb = snap.tb
        jc = sum(v.counters["jc_hits"] for v in snap.vcpus)
        mh = sum(v.counters["map_hits"] for v in snap.vcpus)
        tr = sum(v.counters["translated"] for v in snap.vcpus)
        looked = jc + mh + tr
        m = self.model
        out = Text(no_wrap=True, overflow="ellipsis")
        out.append("live ", style="bold")
        out.append(f"{count(tb['live'])} TBs on {count(tb['code_pages'])} code pages · ")
        out.append("translated ", style="bold")
        out.append(f"{count(tb['translated'])} ({si(m.translations.now)}/s ")
        out.append(spark(m.translations.history, 12), style="cyan")
        out.append(f") in {duration_ns(tb['translate_ns'])} · raced {count(tb['raced'])}\n")
        cc = snap.code_cache
        out.append("code cache ", style="bold")
        out.append(f"{count(cc['found'])} blocks' code found, {count(cc['compiled'])} compiled, "
                   f"{count(cc['emitted_found'])} not emitted again\n" if cc["file"]
                   else f"off, {count(cc['compiled'])} compiled\n")
        out.append("chained ", style="bold")
        out.append(f"{count(tb['chained'])} exits · ")
        out.append("regions ", style="bold")
        out.append(f"{count(tb['regions'])} · ")
        out.append("jump cache ", style="bold")
        out.append(f"{percent(jc, looked)} hits, shared map {percent(mh, looked)}, translated {percent(tr, looked)}\n")
        out.append("invalidated ", style="bold")
        out.append(f"{count(tb['invalidated'])} TBs ({si(m.invalidations.now)}/s ")
        out.append(spark(m.invalidations.history, 12), style="red")
        out.append("): ")
        drops = snap.tb_dropped
        out.append(" · ".join(f"{c} {count(drops.get(c, 0))}" for c in CAUSES))
        out.append(f" · {count(tb['flushes'])} full flushes")
        self.stats.show(out)
        total = sum(t.execs for t in m.hot_tbs) or 1
        rows = []
        for t in m.hot_tbs:
            linked = sum(1 for x in t.links if x is not None)
            rows.append(Text(f"{t.pc:08x} {where(self.image, t.pc)[:26]:<26} {'T32' if t.thumb else 'A32':<3} "
                             f"{t.ninsns:>5} {count(t.execs):>9} {percent(t.execs, total):>6}  "
                             f"{linked}/{len(t.exits):<3}  {len(t.incoming):>3}"))
        self.list.set_rows(rows, [(t.pc, t.flags) for t in m.hot_tbs])
