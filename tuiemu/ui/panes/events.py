"""The engine's event log, newest first, coloured by kind; filter by kind and vCPU, freeze it,
and open one event's details."""
from __future__ import annotations

from typing import Any, Dict

from rich.text import Text
from textual.containers import Vertical

from ...core.events import Event
from ...core.exceptions import EXC_NAMES
from ..model import Model
from ..rowlist import RowList
from .base import Pane

KIND_STYLE: Dict[str, str] = {
    "tb_invalidate": "bold red", "tb_flush": "bold red", "tlb_flush": "magenta", "safe_work": "bold yellow",
    "exception": "cyan", "fp_trap": "bold cyan", "vcpu_state": "green", "debug_stop": "bold white on red",
    "exit": "bold white on blue",
}


def summary(e: Event) -> str:
    """The event's details in one line."""
    i = e.info
    if e.kind == "tb_invalidate":
        where = f" page {i['page']:#010x}" if "page" in i else (f" at {i['addr']:#010x}" if "addr" in i else "")
        return f"{i.get('tbs', 0)} TBs{where} ({i.get('cause', '?')})"
    if e.kind == "tb_flush":
        return f"{i.get('tbs', 0)} TBs ({i.get('cause', '?')})"
    if e.kind == "tlb_flush":
        targets = ",".join(str(t) for t in i.get("targets", []))
        arrow = f"⇒ cpus {{{targets}}}" if i.get("broadcast") else "local"
        stopped = ", world stopped" if i.get("stopped") else ""
        return f"{i.get('op')} {i.get('kind')} {arrow} dropped {i.get('dropped', 0)}{stopped}"
    if e.kind == "safe_work":
        return f"{i.get('what', '')}: world stopped {i.get('stopped_ns', 0) / 1e3:.0f} µs " \
               f"(waited {i.get('wait_ns', 0) / 1e3:.0f} µs)"
    if e.kind == "exception":
        name = EXC_NAMES.get(i.get("exc", -1), i.get("exc"))
        return f"{name} at {i.get('pc', 0):#010x} -> {i.get('vector', 0):#010x}"
    if e.kind == "fp_trap":
        return f"FPU off: {i.get('insn', 0):#010x} at {i.get('pc', 0):#010x}"
    if e.kind == "vcpu_state":
        return str(i.get("state"))
    return " ".join(f"{k}={v:#x}" if isinstance(v, int) and k in ("pc", "addr", "va") else f"{k}={v}"
                    for k, v in i.items())


def event_line(e: Event) -> Text:
    t = Text(f"{e.t_ns / 1e9:10.4f} ", style="dim")
    t.append(f"{'cpu' + str(e.vcpu) if e.vcpu >= 0 else '  - ':<5}", style="bold")
    t.append(f"{e.kind:<14}", style=KIND_STYLE.get(e.kind, ""))
    t.append(summary(e))
    return t


class EventsPane(Vertical):
    DEFAULT_CSS = """
    EventsPane { height: 1fr; }
    EventsPane > #events-status { height: 1; padding: 0 1; }
    EventsPane > RowList { height: 1fr; padding: 0 1; }
    """

    def __init__(self, model: Model, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model = model
        self.status = Pane(id="events-status")
        self.list = RowList(id="event-list")
        self._lines: Dict[int, Text] = {}  # rendered once per event (seq -> line)

    def compose(self) -> Any:
        yield self.status
        yield self.list

    def refresh_view(self) -> None:
        m = self.model
        evs = m.visible_events(max(200, self.list.size.height * 4))
        state = Text("FROZEN (z) " if m.frozen is not None else "live ", style="bold reverse" if m.frozen else "bold")
        state.append(f"· {m.filter.describe()} (f) · {len(m.events)} kept")
        if m.missed_events:
            state.append(f" · {m.missed_events} missed (ring overflow)", style="yellow")
        self.status.show(state)
        lines = self._lines
        rows = []
        for e in evs:
            line = lines.get(e.seq)
            if line is None:
                line = lines[e.seq] = event_line(e)
            rows.append(line)
        if len(lines) > 4 * len(m.events) + 1000:  # forget lines of events the log no longer holds
            keep = {e.seq for e in m.events}
            self._lines = {k: v for k, v in lines.items() if k in keep}
        self.list.set_rows(rows, [e.seq for e in evs])
