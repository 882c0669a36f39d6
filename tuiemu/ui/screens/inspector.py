"""The TB inspector: one translated block's guest instructions beside the Python source the
translator generated for them, its chain links both ways, how often it ran, and the engine
events that touched its code."""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, List, Optional

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from ...core.events import Event
from ...core.snapshot import TBInfo
from ..disasm import disassemble
from ..format import count, where
from ..panes.events import summary


def touched(tb: TBInfo, events: List[Event]) -> List[Event]:
    """Events about this block's code: invalidations of its pages or address range, flushes."""
    lo, hi = tb.pc, tb.pc + max(tb.size, 1)
    pages = {p << 12 for p in tb.pages}
    out = []
    for e in events:
        i = e.info
        if e.kind == "tb_invalidate" and (i.get("page") in pages or lo <= i.get("addr", -1) < hi):
            out.append(e)
        elif e.kind == "tb_flush" or (e.kind == "debug_stop" and lo <= i.get("pc", -1) < hi):
            out.append(e)
    return out


class TBInspector(Screen[None]):
    DEFAULT_CSS = """
    TBInspector #tb-head { height: auto; padding: 0 1; background: $panel; }
    TBInspector #tb-code { height: 1fr; }
    TBInspector #tb-guest { width: 2fr; border: round $accent; padding: 0 1; }
    TBInspector #tb-python { width: 3fr; border: round $accent; padding: 0 1; }
    TBInspector #tb-links { height: auto; max-height: 40%; border: round $accent; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape,q", "close", "back"),
        Binding("r", "reload", "refresh"),
        Binding("1", "follow(1)", "follow exit N", key_display="1-9"),
        *(Binding(str(n), f"follow({n})", f"follow exit {n}", show=False) for n in range(2, 10)),
    ]

    def __init__(self, tb: TBInfo, image: Any, lookup: Callable[[int, int], Optional[TBInfo]],
                 events: Callable[[], List[Event]]) -> None:
        super().__init__()
        self.tb = tb
        self.image = image
        self.lookup = lookup
        self.events = events

    def compose(self) -> ComposeResult:
        yield Static(id="tb-head")
        with Horizontal(id="tb-code"):
            with VerticalScroll(id="tb-guest") as g:
                g.border_title = "guest instructions"
                yield Static(id="guest")
            with VerticalScroll(id="tb-python") as p:
                p.border_title = "generated Python"
                yield Static(id="python")
        with VerticalScroll(id="tb-links") as links:
            links.border_title = "chain links and events"
            yield Static(id="links")
        yield Footer()

    def on_mount(self) -> None:
        self.show(self.tb)

    def show(self, tb: TBInfo) -> None:
        self.tb = tb
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(f"TB {tb.pc:#010x} ", style="bold")
        head.append(f"{where(self.image, tb.pc)} · phys {tb.ppc:#010x} · {'T32' if tb.thumb else 'A32'} · "
                    f"{'PL1' if tb.privileged else 'PL0'} · flags {tb.flags:#x} · {tb.ninsns} insns, "
                    f"{tb.size} bytes · executed {count(tb.execs)} times")
        if not tb.valid:
            head.append(" · INVALIDATED", style="bold red")
        self.query_one("#tb-head", Static).update(head)
        guest = Text(no_wrap=True)
        for insn in disassemble(tb.code[:tb.size], tb.pc, tb.thumb):
            found = self.image.symbol_at(insn.addr) if self.image is not None else None
            if found is not None and found[1] == 0:
                guest.append(f"{found[0]}:\n", style="bold cyan")
            guest.append(f"{insn.addr:08x}  ", style="dim")
            guest.append(f"{insn.raw[::-1].hex():<8}  ", style="dim")
            guest.append(f"{insn.text}\n")
        self.query_one("#guest", Static).update(guest)
        self.query_one("#python", Static).update(Syntax(tb.source, "python", line_numbers=True, word_wrap=False,
                                                        theme="ansi_dark"))
        links = Text()
        links.append("exits: ", style="bold")
        if not tb.exits:
            links.append("dynamic only (computed branch, exception return or helper)\n", style="dim")
        for n, (target, linked) in enumerate(zip(tb.exits, tb.links), 1):
            links.append(f"\n  {n}: {target:#010x} {where(self.image, target)} ")
            links.append("chained" if linked is not None else "not chained (looked up)",
                         style="green" if linked is not None else "yellow")
        links.append("\nchained into it from: ", style="bold")
        links.append(", ".join(f"{pc:#010x}" for pc in tb.incoming) or "nothing")
        links.append("\nevents that touched it:\n", style="bold")
        evs = touched(tb, self.events())
        if not evs:
            links.append("  none in the log", style="dim")
        for e in evs[-20:]:
            links.append(f"  #{e.seq} {'cpu' + str(e.vcpu) if e.vcpu >= 0 else '-'} {e.kind}: {summary(e)}\n")
        self.query_one("#links", Static).update(links)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_reload(self) -> None:
        """Fresh counts and links; a block that is gone is shown as invalidated."""
        self.show(self.lookup(self.tb.pc, self.tb.flags) or replace(self.tb, valid=False))

    def action_follow(self, n: int) -> None:
        """Open the block that exit ``n`` leads to."""
        if not 0 < n <= len(self.tb.exits):
            return
        target = self.lookup(self.tb.exits[n - 1], self.tb.flags)
        if target is None:
            self.notify(f"exit {n}: no live block at {self.tb.exits[n - 1]:#010x}", severity="warning")
        else:
            self.show(target)
