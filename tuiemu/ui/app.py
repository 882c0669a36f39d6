"""The dashboard: watch and drive the vCPUs, locks, translation cache and TLBs of a running machine.

Data flows one way: a thread worker polls the machine (``Poller``) and posts a ``Frame`` about
ten times a second; the app folds it into the ``Model`` on its own loop and redraws the panes
that are on screen. Controls go through the machine's run control, the same API the gdb stub
uses; slow ones (stopping, stepping) run in thread workers so the screen never freezes.
"""
from __future__ import annotations

import time
from typing import Any, Dict, Iterable, List, Optional

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, TabbedContent, TabPane

from ..core.runstate import RunState
from ..exitcodes import EXIT_MAX_INSNS, EXIT_QUIT
from .format import where
from .model import EVENT_KINDS, Model
from .panes.code import CodePane
from .panes.console import ConsolePane
from .panes.events import EventsPane, summary
from .panes.locks import LocksPane
from .panes.memory import MemoryPane
from .panes.registers import RegistersPane
from .panes.status import StatusBar
from .panes.tbs import TBPane
from .panes.tlbs import TLBPane
from .panes.vcpus import VCPUGrid
from .poller import Frame, Poller
from .rowlist import RowList
from .screens.inspector import TBInspector
from .screens.prompt import Prompt, TextView

WIDE_COLS, WIDE_ROWS = 150, 40
# seconds between redraws of a pane while what it shows keeps changing (others: every frame)
PERIODS = {"StatusBar": 0.2, "VCPUGrid": 0.2, "CodePane": 1.0, "RegistersPane": 1.0, "MemoryPane": 1.0,
           "LocksPane": 0.5, "TBPane": 0.5, "TLBPane": 0.5, "EventsPane": 0.5, "ConsolePane": 0.2}
UI = "ui"          # run-control owner of the dashboard's breakpoints and holds
RUN_TO = "ui-run-to"

# pane id -> (tab title, key)
PANES = {"code": ("Code", "c"), "regs": ("Registers", "r"), "memory": ("Memory", "m"), "locks": ("Locks", "l"),
         "tbs": ("TB cache", "t"), "tlb": ("TLBs", "T"), "events": ("Events", "e"), "console": ("Console", "o")}
# the footer shows the pane keys together, as "c r m l t T e o panes" (from 100 columns on)
PANE_KEYS = Binding.Group("panes")
MAIN_SCREEN_ONLY = {"pane", "pause_one", "run_to", "breakpoint"}  # see Dashboard.check_action


# the help screen's longer words for the footer's short ones
HELP = {
    "pause_all": "pause every vCPU, or resume them all (one at a breakpoint steps past it first)",
    "pause_one": "pause the selected vCPU, or resume it",
    "step": "step the selected vCPU one instruction, every other vCPU held",
    "lockstep": "step every vCPU that is on one instruction, in turn (to watch an interleaving)",
    "run_to": "run every vCPU until one reaches an address or symbol[+offset]",
    "breakpoint": "set a breakpoint at an address or symbol[+offset], or clear the dashboard's own there",
    "breakpoints": "list every breakpoint and who set it (gdb, the dashboard)",
    "select(1)": "select the next vCPU", "select(-1)": "select the previous vCPU",
    "inspect": "open the TB inspector on the block at the selected vCPU's PC",
    "toggle_source": "code pane: C source (DWARF) or disassembly",
    "toggle_banked": "registers pane: every mode's banked registers too",
    "toggle_physical": "memory pane: physical addresses or the selected vCPU's virtual ones",
    "filter_events": "events pane: show only some kinds, or one vCPU's",
    "freeze_events": "events pane: freeze the log to read it, or let it run again",
    "help": "this screen", "quit_dashboard": "quit: stop the guest; exit with its status (130 if it had not ended)",
}

# the command palette's titles for the keys (the footer's words are short, to fit 80 columns)
COMMANDS = {
    "pause_all": "Pause/resume all vCPUs", "pause_one": "Pause/resume the selected vCPU",
    "step": "Step the selected vCPU", "lockstep": "Step each vCPU in turn", "run_to": "Run to…",
    "breakpoint": "Set/clear a breakpoint", "breakpoints": "List breakpoints", "inspect": "TB inspector",
    "toggle_source": "Toggle source/disassembly", "toggle_banked": "Toggle banked registers",
    "toggle_physical": "Toggle virtual/physical memory", "filter_events": "Filter events",
    "freeze_events": "Freeze/unfreeze the event log", "help": "Help: every key", "quit_dashboard": "Quit",
}


class FrameReady(Message):
    def __init__(self, frame: Frame) -> None:
        super().__init__()
        self.frame = frame


class Dashboard(App[int]):
    """``machine`` is already built, loaded and running (or held, for ``tuiemu ui``)."""

    TITLE = "tuiemu"
    CSS = """
    #body { height: 1fr; }
    #cpu-col { width: 1fr; display: none; }
    #cpu-col > CodePane { height: 1fr; border-top: solid $accent; }
    #cpu-col > RegistersPane { height: auto; border-top: solid $accent; }
    #tabs { width: 1fr; }
    Screen.-wide #cpu-col { display: block; }
    Screen.-wide #tabs { width: 1fr; }
    VCPUGrid { border-bottom: solid $accent; }
    Static { text-wrap: nowrap; text-overflow: ellipsis; }
    Footer.-compact FooterLabel { margin: 0 1 0 0; }
    Footer.-compact KeyGroup { margin: 0; padding: 0; }
    Footer.-compact KeyGroup > FooterKey { margin: 0 1 0 0; }
    Screen.-narrow Footer KeyGroup, Screen.-narrow Footer FooterLabel { display: none; }
    """
    # Under 100 columns the footer leaves out the pane keys (the tabs name the panes).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-normal")]
    # The footer shows only what a user needs most, in words short enough for all of it to fit
    # 80 columns (100 with the pane keys); every other key is on the help screen (?) and in the
    # command palette (ctrl+p). tests/ui/test_dashboard.py checks that nothing is cut off.
    BINDINGS = [
        Binding("space", "pause_all", "run/pause"),
        Binding("p", "pause_one", "pause cpu"),
        Binding("s", "step", "step"),
        Binding("S", "lockstep", "step each cpu", show=False),
        Binding("g", "run_to", "run to"),
        Binding("b", "breakpoint", "break"),
        Binding("B", "breakpoints", "breakpoints", show=False),
        Binding("tab", "select(1)", "next cpu", show=False, priority=True),
        Binding("shift+tab", "select(-1)", "previous cpu", show=False, priority=True),
        *(Binding(str(n), f"select_cpu({n - 1})", f"cpu{n - 1}", show=False) for n in range(1, 9)),
        *(Binding(key, f"pane('{pane}')", title.lower(), group=PANE_KEYS) for pane, (title, key) in PANES.items()),
        Binding("i", "inspect", "TB inspector", show=False),
        Binding("d", "toggle_source", "source/disasm", show=False),
        Binding("a", "toggle_banked", "banked regs", show=False),
        Binding("v", "toggle_physical", "virt/phys memory", show=False),
        Binding("f", "filter_events", "event filter", show=False),
        Binding("z", "freeze_events", "freeze log", show=False),
        Binding("question_mark", "help", "help", key_display="?"),
        Binding("q", "quit_dashboard", "quit"),
    ]

    def __init__(self, machine: Any, gdb_server: Any = None, line_table: bool = True) -> None:
        super().__init__()
        self.m = machine
        self.gdb_server = gdb_server
        self.model = Model(machine.ncpus)
        self.image = machine.image
        self.poller = Poller(machine, gdb_server)
        self.wide = False
        self.panes: Dict[str, Any] = {}
        self._drawn: Dict[int, float] = {}  # pane id -> when it was last redrawn
        self.run_to: Optional[int] = None
        self._want_line_table = line_table
        self._announced_exit = False

    # ---- layout ------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        m, model = self.m, self.model
        bps = m.runctl.breakpoint_list
        p = self.panes = {
            "status": StatusBar(model, m.threads, id="status"),
            "vcpus": VCPUGrid(model, self.image, id="vcpus"),
            "code-wide": CodePane(model, self.image, m.peek, bps, id="code-wide"),
            "regs-wide": RegistersPane(model, id="regs-wide"),
            "code": CodePane(model, self.image, m.peek, bps, id="code-tab"),
            "regs": RegistersPane(model, id="regs-tab"),
            "memory": MemoryPane(model, self.image, m.peek, id="memory-pane"),
            "locks": LocksPane(model, id="locks-pane"),
            "tbs": TBPane(model, self.image, id="tbs-pane"),
            "tlb": TLBPane(model, id="tlb-pane"),
            "events": EventsPane(model, id="events-pane"),
            "console": ConsolePane(model, m.send_input, id="console-pane"),
        }
        yield p["status"]
        yield p["vcpus"]
        with Horizontal(id="body"):
            with Vertical(id="cpu-col"):
                yield p["code-wide"]
                yield p["regs-wide"]
            self.tabs = TabbedContent(id="tabs")
            with self.tabs:
                for pane, (title, _) in PANES.items():
                    with TabPane(title, id=pane):
                        yield p[pane]
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.sub_title = self.image.path if self.image is not None else ""
        self._apply_size()
        self.poll_machine()
        if self._want_line_table and self.image is not None:
            self.load_line_table()

    def on_resize(self, event: Any) -> None:
        self._apply_size()

    def _apply_size(self) -> None:
        wide = self.size.width >= WIDE_COLS and self.size.height >= WIDE_ROWS
        self.wide = wide
        self.screen.set_class(wide, "-wide")
        tabs = self.tabs
        for pane in ("code", "regs"):
            (tabs.hide_tab if wide else tabs.show_tab)(pane)
        if wide and tabs.active in ("code", "regs"):
            tabs.active = "locks"
        self.refresh_views()

    # ---- data ------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="poll")
    def poll_machine(self) -> None:
        from textual.worker import get_current_worker
        worker = get_current_worker()
        for frame in self.poller.frames(lambda: worker.is_cancelled):
            self.post_message(FrameReady(frame))

    @work(thread=True, group="dwarf")
    def load_line_table(self) -> None:
        from .disasm import LineTable
        table = LineTable.from_elf(self.image.path)
        self.call_from_thread(self._set_line_table, table)

    def _set_line_table(self, table: Any) -> None:
        for name in ("code", "code-wide"):
            self.panes[name].lines = table

    def on_frame_ready(self, message: FrameReady) -> None:
        self.model.update(message.frame)
        force = False
        self._check_run_to()
        snap = message.frame.snapshot
        if snap.finished and not self._announced_exit:
            self._announced_exit = True
            code = snap.exit_code
            self.notify(f"the guest ended with status {code}; q quits" if code is not None
                        else "the run stopped (--max-insns); q quits", timeout=8)
            force = True
        self.refresh_views(force)

    def visible_panes(self) -> Iterable[Any]:
        """The panes on screen now (only they are redrawn); none under a full-screen inspector."""
        stack = self.screen_stack
        if not stack or (stack[-1] is not stack[0] and not stack[-1].is_modal):
            return
        p = self.panes
        yield p["status"]
        yield p["vcpus"]
        if self.wide:
            yield p["code-wide"]
            yield p["regs-wide"]
        active = self.tabs.active
        if active in p:
            yield p[active]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> Optional[bool]:
        """The pane keys, and the keys that act on the code view (pause cpu, run to, break), belong
        to the main screen: over the TB inspector they neither act on what is hidden under it nor
        take room in its footer, where its own keys, run/pause, step and help must fit."""
        stack = self.screen_stack
        if action in MAIN_SCREEN_ONLY and stack and self.screen is not stack[0]:
            return False
        return True

    def refresh_views(self, force: bool = True) -> None:
        """Redraw the panes on screen: all of them after a user action (``force``); on a new
        frame, each no more often than its period (drawing is what the dashboard costs the guest,
        and a 30-line disassembly of a PC that moves ten times a second is no use to anyone)."""
        if self.model.frame is None:
            return
        now = time.monotonic()
        held = self.model.frame.snapshot.vcpus[self.model.selected].held
        for pane in self.visible_panes():
            period = 0.0 if force else PERIODS.get(type(pane).__name__, 0.0)
            if held and isinstance(pane, (CodePane, RegistersPane, MemoryPane)):
                period = 0.0  # a stopped vCPU: show what a step did at once
            if now - self._drawn.get(id(pane), 0.0) >= period:
                self._drawn[id(pane)] = now
                pane.refresh_view()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.refresh_views()

    # ---- selection and panes ---------------------------------------------------------
    def _select(self, index: int) -> None:
        if 0 <= index < self.m.ncpus:
            self.model.selected = index
            self.refresh_views()

    def action_select(self, delta: int) -> None:
        self._select((self.model.selected + delta) % self.m.ncpus)

    def action_select_cpu(self, index: int) -> None:
        self._select(index)

    def on_vcpu_grid_selected(self, message: VCPUGrid.Selected) -> None:
        self._select(message.index)

    def action_pane(self, pane: str) -> None:
        if self.wide and pane in ("code", "regs"):
            return  # both are always on screen in the wide layout
        if pane == "memory":
            mem = self.panes["memory"]
            here = where(self.image, mem.addr) if mem.addr is not None else ""
            self._ask("memory at (address or symbol[+off])", here, self.show_memory)
            return
        tabs = self.tabs
        tabs.active = pane
        p = self.panes
        focus = {"events": p["events"].list, "tbs": p["tbs"].list, "locks": p["locks"].list, "console": p["console"]}
        if pane in focus:
            focus[pane].focus()
        self.refresh_views()

    def action_toggle_source(self) -> None:
        for pane in (self.panes["code"], self.panes["code-wide"]):
            pane.source_view = not pane.source_view
        self.refresh_views()

    def action_toggle_banked(self) -> None:
        for pane in (self.panes["regs"], self.panes["regs-wide"]):
            pane.show_banked = not pane.show_banked
        self.refresh_views()

    def action_toggle_physical(self) -> None:
        mem = self.panes["memory"]
        mem.physical = not mem.physical
        self.refresh_views()

    # ---- run control (the same API as the gdb stub) ---------------------------------------
    def _say(self, text: str) -> None:
        self.panes["status"].note = text
        self.refresh_views()

    @work(thread=True, exclusive=True, group="control")
    def action_pause_all(self) -> None:
        rc, vcpus = self.m.runctl, self.m.vcpus
        if any(not rc.held(v) for v in vcpus):
            rc.stop(vcpus, reason="pause", by=UI)
            self.call_from_thread(self._say, "paused every vCPU")
        else:
            rc.resume(vcpus)
            self.call_from_thread(self._say, "resumed every vCPU")

    @work(thread=True, exclusive=True, group="control")
    def action_pause_one(self) -> None:
        rc = self.m.runctl
        v = self.m.vcpus[self.model.selected]
        if rc.held(v):
            rc.resume([v])
            self.call_from_thread(self._say, f"resumed {v.name}")
        else:
            rc.stop([v], reason="pause", by=UI)
            self.call_from_thread(self._say, f"paused {v.name}")

    @work(thread=True, exclusive=True, group="control")
    def action_step(self) -> None:
        """One instruction on the selected vCPU, every other vCPU held."""
        rc = self.m.runctl
        v = self.m.vcpus[self.model.selected]
        running = [x for x in self.m.vcpus if not rc.held(x)]
        if running:
            rc.stop(running, reason="pause", by=UI)
        reason = rc.step(v)
        what = reason.get("reason", "step")
        self.call_from_thread(self._say, f"{v.name} stepped to {where(self.image, v.R[15])}"
                              + ("" if what == "step" else f" ({what})"))

    @work(thread=True, exclusive=True, group="control")
    def action_lockstep(self) -> None:
        """Every vCPU that is on steps one instruction, in index order (to watch an interleaving)."""
        rc = self.m.runctl
        running = [x for x in self.m.vcpus if not rc.held(x)]
        if running:
            rc.stop(running, reason="pause", by=UI)
        stepped = [v.name for v in self.m.vcpus if v.run_state is not RunState.OFF]
        for v in self.m.vcpus:
            if v.run_state is not RunState.OFF:
                rc.step(v)
        self.call_from_thread(self._say, f"stepped {', '.join(stepped) or 'nothing (all off)'}")

    def _resolve(self, text: str) -> Optional[int]:
        """An address (hex with or without 0x, or decimal) or a symbol name (optionally +offset)."""
        text = text.strip()
        if not text:
            return None
        base, _, off = text.partition("+")
        addr = self.image.lookup(base.strip()) if self.image is not None else None
        if addr is None:
            try:
                addr = int(base, 0) if base.lower().startswith(("0x", "0o", "0b")) or base.isdigit() else int(base, 16)
            except ValueError:
                return None
        try:
            return (addr + (int(off, 0) if off else 0)) & 0xFFFFFFFF
        except ValueError:
            return None

    def _ask(self, question: str, value: str, then: Any, hint: str = "") -> None:
        def done(answer: Optional[str]) -> None:
            if answer is not None:
                then(answer)
        self.push_screen(Prompt(question, value, hint), done)

    def action_breakpoint(self) -> None:
        pc = self.m.vcpus[self.model.selected].R[15]
        self._ask("breakpoint at (address or symbol[+off]); an existing one of the dashboard's is removed",
                  where(self.image, pc), self.toggle_breakpoint)

    def toggle_breakpoint(self, text: str) -> None:
        addr = self._resolve(text)
        if addr is None:
            self.notify(f"no such address or symbol: {text!r}", severity="error")
            return
        addr &= ~1  # a Thumb function's address may come with its Thumb bit
        rc = self.m.runctl
        if UI in rc.breakpoint_list().get(addr, set()):
            rc.remove_breakpoint(addr, owner=UI)
            self._say(f"breakpoint removed at {where(self.image, addr)}")
        else:
            rc.add_breakpoint(addr, owner=UI)
            self._say(f"breakpoint at {where(self.image, addr)}")

    def action_breakpoints(self) -> None:
        bps = self.m.runctl.breakpoint_list()
        t = Table(box=None, header_style="bold")
        t.add_column("address")
        t.add_column("where")
        t.add_column("set by")
        for addr, owners in sorted(bps.items()):
            t.add_row(f"{addr:#010x}", where(self.image, addr), ", ".join(sorted(owners)))
        body: Any = t if bps else Text("no breakpoints (b sets one)", style="dim")
        self.push_screen(TextView(body, "breakpoints"))

    def action_run_to(self) -> None:
        self._ask("run every vCPU until one reaches (address or symbol[+off])", "", self.run_to_address)

    def run_to_address(self, text: str) -> None:
        addr = self._resolve(text)
        if addr is None:
            self.notify(f"no such address or symbol: {text!r}", severity="error")
            return
        self.run_to = addr & ~1
        self.m.runctl.add_breakpoint(self.run_to, owner=RUN_TO)
        self._say(f"running to {where(self.image, addr)}")
        self._resume_all()

    @work(thread=True, exclusive=True, group="control")
    def _resume_all(self) -> None:
        self.m.runctl.resume(self.m.vcpus)

    def _check_run_to(self) -> None:
        if self.run_to is None or self.model.snapshot is None:
            return
        for v in self.model.snapshot.vcpus:
            reason = v.stop_reason or {}
            if v.held and reason.get("reason") == "breakpoint" and reason.get("pc", -1) & ~1 == self.run_to:
                self.m.runctl.remove_breakpoint(self.run_to, owner=RUN_TO)
                self._say(f"{v.name} reached {where(self.image, self.run_to)}")
                self._select(v.index)
                self.run_to = None
                self._pause_others(v.index)
                return

    @work(thread=True, exclusive=True, group="control")
    def _pause_others(self, index: int) -> None:
        rc = self.m.runctl
        others = [v for v in self.m.vcpus if v.index != index and not rc.held(v)]
        if others:
            rc.stop(others, reason="pause", by=UI)

    # ---- memory, events, TBs ---------------------------------------------------------------
    def show_memory(self, text: str) -> None:
        addr = self._resolve(text)
        if addr is None:
            self.notify(f"no such address or symbol: {text!r}", severity="error")
            return
        self.tabs.active = "memory"
        self.panes["memory"].goto(addr)

    def action_filter_events(self) -> None:
        f = self.model.filter
        now = " ".join(sorted(f.kinds)) + (f" cpu{f.vcpu}" if f.vcpu is not None else "")
        self._ask("event filter: kinds and/or cpuN, space separated (empty: everything)", now, self.set_filter,
                  hint="kinds: " + " ".join(EVENT_KINDS))

    def set_filter(self, text: str) -> None:
        kinds, vcpu = set(), None
        for word in text.split():
            if word.startswith("cpu") and word[3:].isdigit():
                vcpu = int(word[3:])
            else:
                kinds.add(word)
        self.model.filter.kinds, self.model.filter.vcpu = kinds, vcpu
        self.action_pane("events")

    def action_freeze_events(self) -> None:
        frozen = self.model.toggle_freeze()
        self._say("event log frozen" if frozen else "event log live")

    def on_row_list_chosen(self, message: RowList.Chosen) -> None:
        if message.rowlist.id == "event-list":
            ev = next((e for e in reversed(self.model.events) if e.seq == message.key), None)
            if ev is not None:
                body = Text(f"#{ev.seq} at {ev.t_ns / 1e9:.6f} s, "
                            f"{'cpu' + str(ev.vcpu) if ev.vcpu >= 0 else 'engine'}: {ev.kind}\n{summary(ev)}\n\n",
                            style="bold")
                for k, val in ev.info.items():
                    body.append(f"{k:>12} = {val:#x}\n" if isinstance(val, int) and not isinstance(val, bool)
                                else f"{k:>12} = {val}\n")
                self.push_screen(TextView(body, "event"))
        elif message.rowlist.id == "tb-list":
            pc, flags = message.key
            info = self.m.tb_info(pc, flags)
            if info is not None:
                self._open_inspector(info)
            else:
                self.notify("that block is gone (invalidated)", severity="warning")

    def action_inspect(self) -> None:
        info = self.m.tb_at(self.model.selected)
        if info is None:
            self.notify(f"cpu{self.model.selected} has no translated block at its PC yet", severity="warning")
            return
        self._open_inspector(info)

    def _open_inspector(self, info: Any) -> None:
        self.push_screen(TBInspector(info, self.image, self.m.tb_info, lambda: list(self.model.events)))

    # ---- help, palette, quit ---------------------------------------------------------------
    def key_help_rows(self) -> List[tuple]:
        rows = [(b.key_display or b.key, HELP.get(b.action, b.description)) for b in self.BINDINGS
                if isinstance(b, Binding) and not b.action.startswith(("select_cpu", "pane("))]
        rows.insert(0, ("1-8", "select cpu0-cpu7"))
        rows += [(key, f"show the {title} pane") for pane, (title, key) in PANES.items()]
        rows += [("m", "memory at an address or symbol"), ("enter", "open the event or TB under the cursor"),
                 ("esc", "leave the console (keys go to the dashboard again)"), ("ctrl+p", "command palette")]
        return rows

    def action_help(self) -> None:
        t = Table(box=None, header_style="bold", title="keys", title_justify="left")
        t.add_column("key", style="bold cyan", no_wrap=True)
        t.add_column("does")
        for key, what in self.key_help_rows():
            t.add_row(key, what)
        self.push_screen(TextView(t, "help"))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        keys = {b.action: b.key_display or b.key for b in self.BINDINGS if isinstance(b, Binding)}
        for action, title in COMMANDS.items():
            yield SystemCommand(title, f"key: {keys[action]}", lambda action=action: self.run_action(action))
        for pane, (title, key) in PANES.items():
            yield SystemCommand(f"Show {title}", f"the {title} pane (key: {key})",
                                lambda pane=pane: self.action_pane(pane))

    def action_quit_dashboard(self) -> None:
        """Stop the guest; the process exits with its status, or 130 if it had not ended."""
        m = self.m
        if m.finished:
            code = m.exit_code if m.exit_code is not None else EXIT_MAX_INSNS
        else:
            code = EXIT_QUIT
            m.exit(EXIT_QUIT)
        self.exit(code)
