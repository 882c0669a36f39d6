"""The dashboard driven with Textual's pilot on shipped guests: what it shows moves with the
engine, and its keys drive the vCPUs through run control."""
from __future__ import annotations

import asyncio
import io
import re
import time
from pathlib import Path
from typing import Any, Callable, List, Optional, Tuple

import pytest
from rich.console import Console as RichConsole
from textual.binding import Binding
from textual.widgets import Footer, Static

from tuiemu.core.events import Event
from tuiemu.core.runstate import RunState
from tuiemu.devices.console import Console
from tuiemu.exitcodes import EXIT_QUIT
from tuiemu.machine import Machine
from tuiemu.ui.app import COMMANDS, HELP, Dashboard
from tuiemu.ui.panes.console import screen_lines
from tuiemu.ui.panes.events import event_line
from tuiemu.ui.panes.tlbs import tlb_op_line
from tuiemu.ui.screens.inspector import TBInspector
from tuiemu.ui.screens.prompt import TextView

from ..conftest import guest
from ..gdbstub.rsp import SMP_DEBUG


def machine_for(elf: Path, ncpus: int, threads: str = "multi", held: bool = False,
                max_insns: Optional[int] = None) -> Machine:
    m = Machine(ncpus=ncpus, threads=threads, console=Console(None))
    m.load_elf(str(elf))
    if held:
        m.runctl.stop(reason="start", by="ui")
    m.start(max_insns)
    return m


async def until(pilot: Any, cond: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.05)


def text_of(widget: Any) -> str:
    """The text a widget (and its children) shows, as plain text."""
    if isinstance(widget, Static):
        console = RichConsole(width=max(40, widget.size.width), record=True, file=io.StringIO())
        console.print(widget.content)
        out = console.export_text()
    elif not widget.children:
        out = str(widget.render())
    else:
        out = ""
    return out + "".join(text_of(child) for child in widget.children)


def grid_text(app: Dashboard) -> str:
    return text_of(app.panes["vcpus"])


def pane_text(app: Dashboard, name: str) -> str:
    return text_of(app.panes[name])


def finish(m: Machine) -> None:
    if not m.finished:
        m.exit(0)
        m.runctl.resume()


@pytest.mark.slow
def test_every_vcpu_appears_and_counters_move() -> None:
    m = machine_for(guest("smp_spinlock"), 4, held=True)  # counted from the start: the guest ends in seconds

    async def body() -> None:
        app = Dashboard(m, line_table=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: app.model.snapshot is not None, what="a frame")
            first = {lk.name: lk.totals["acquired"] for lk in app.model.snapshot.locks}
            m.runctl.resume()
            snap = await until(pilot, lambda: (s := app.model.snapshot) is not None
                               and all(v.run_state is not RunState.OFF for v in s.vcpus) and s, what="four vCPUs")
            text = await until(pilot, lambda: (t := grid_text(app)) and ("running" in t or "WFE" in t) and t,
                               what="the grid to show them run")  # it is drawn a moment after the frame
            for v in snap.vcpus:
                assert v.name in text
            await pilot.press("l")
            await until(pilot, lambda: app.model.snapshot.locks[3].totals["acquired"] > first["exclusive"] + 100,
                        what="the exclusive monitor's lock to move")
            locks = pane_text(app, "locks")
            assert "exclusive" in locks and "tb" in locks and "per thread" in locks
            await pilot.press("t")
            await until(pilot, lambda: app.model.snapshot.tb["translated"] > 10 and app.model.hot_tbs,
                        what="translated blocks")
            assert "worker" in pane_text(app, "tbs")
            stats = text_of(app.panes["tbs"].stats)
            assert "jump cache" in stats
            cached = re.search(r"code cache (\d+) blocks' code found, (\d+) compiled", stats)
            assert cached and sum(map(int, cached.groups())) >= app.model.snapshot.tb["translated"] > 10
    try:
        asyncio.run(body())
    finally:
        finish(m)


def test_a_broadcast_says_whether_it_stopped_the_world() -> None:
    """A broadcast invalidation by address stops the other vCPUs only if one held the page
    (mmu/maintenance.py): the TLB pane's line and the event log say which it was."""
    def flush(stopped: bool) -> Event:
        return Event(1, 5_000_000, "tlb_flush", 0, dict(op="TLBIMVAAIS", kind="MVAA", va=0x1000, broadcast=True,
                                                        targets=[0, 1], dropped=0, stopped=stopped))
    assert tlb_op_line(flush(True)).plain.endswith("dropped 0  world stopped")
    assert tlb_op_line(flush(False)).plain.endswith("dropped 0")
    assert event_line(flush(True)).plain.endswith("dropped 0, world stopped")
    assert event_line(flush(False)).plain.endswith("dropped 0")


def test_tlb_broadcast_appears_with_origin_and_targets() -> None:
    m = machine_for(guest("mmu"), 2)

    async def body() -> None:
        app = Dashboard(m, line_table=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: any(e.info.get("broadcast") for e in app.model.tlb_ops),
                        what="a broadcast TLB flush")
            await pilot.press("T")
            await pilot.pause(0.3)
            text = pane_text(app, "tlb")
            assert "TLBIMVAIS" in text and "⇒ cpus {0,1}" in text, text
            await pilot.press("f")  # the event filter: only TLB maintenance, only cpu1's
            await pilot.pause()
            app.screen.query_one("Input").value = "tlb_flush cpu1"
            await pilot.press("enter")
            await pilot.pause(0.3)
            lines = pane_text(app, "events").splitlines()
            assert "tlb_flush" in lines[0] and "cpu1" in lines[0]  # the filter named in the status line
            assert len(lines) > 1 and all("cpu1 tlb_flush" in line for line in lines[1:]), lines
    try:
        asyncio.run(body())
    finally:
        finish(m)


def test_code_writes_show_tb_invalidations_with_their_cause() -> None:
    m = machine_for(guest("smc"), 2)

    async def body() -> None:
        app = Dashboard(m, line_table=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: app.model.snapshot is not None and app.model.snapshot.finished,
                        what="smc to finish")
            await pilot.pause(0.3)
            assert m.exit_code == 0
            assert any(e.kind == "tb_invalidate" and e.info.get("cause") == "vcpu store" for e in app.model.events)
            await pilot.press("e")
            await pilot.pause(0.3)
            assert "tb_invalidate" in pane_text(app, "events") and "(vcpu store)" in pane_text(app, "events")
            await pilot.press("t")
            await pilot.pause(0.3)
            stats = text_of(app.panes["tbs"].stats)
            assert "vcpu store" in stats and "vcpu store 0 " not in stats
            await pilot.press("q")
        assert app.return_value == 0
    try:
        asyncio.run(body())
    finally:
        finish(m)


def test_pause_step_resume_keys() -> None:
    m = machine_for(SMP_DEBUG, 4)

    async def body() -> None:
        app = Dashboard(m, line_table=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: sum(v.counters.insns > 0 for v in m.vcpus) == 4, what="four busy vCPUs")
            await pilot.press("space")
            await until(pilot, lambda: all(m.runctl.is_stopped(v) for v in m.vcpus), what="a pause")
            await until(pilot, lambda: "paused by UI" in grid_text(app), what="paused shown")
            assert grid_text(app).count("paused by UI") == 4
            await pilot.press("3")  # cpu2
            assert app.model.selected == 2
            counts = [v.counters.insns for v in m.vcpus]
            pcs = [v.R[15] for v in m.vcpus]
            await pilot.press("s")
            await until(pilot, lambda: m.vcpus[2].counters.insns == counts[2] + 1, what="one step on cpu2")
            assert [v.counters.insns for v in m.vcpus] == [c + (i == 2) for i, c in enumerate(counts)]
            assert m.vcpus[2].R[15] != pcs[2] and [v.R[15] for i, v in enumerate(m.vcpus) if i != 2] == \
                [p for i, p in enumerate(pcs) if i != 2]
            await until(pilot, lambda: "stepped" in grid_text(app), what="stepped shown")
            await pilot.press("S")  # each vCPU one instruction, in turn
            await until(pilot, lambda: [v.counters.insns for v in m.vcpus] == [c + 1 + (i == 2) for i, c in
                                                                                enumerate(counts)],
                        what="lockstep")
            # a step is over when its vCPU is stopped again, a moment after its count moved
            await until(pilot, lambda: all(m.runctl.is_stopped(v) for v in m.vcpus), what="the steps to end")
            await pilot.press("p")  # resume cpu2 alone
            await until(pilot, lambda: m.vcpus[2].counters.insns > counts[2] + 1000, what="cpu2 running")
            assert all(m.runctl.held(v) for i, v in enumerate(m.vcpus) if i != 2)
            await pilot.press("space")  # cpu2 runs, so: pause everything
            await until(pilot, lambda: all(m.runctl.held(v) for v in m.vcpus), what="all paused")
            await pilot.press("space")  # and resume everything
            await until(pilot, lambda: not any(m.runctl.held(v) for v in m.vcpus), what="all resumed")
            await until(pilot, lambda: grid_text(app).count("running") == 4, what="running shown")
            await pilot.press("q")
        assert app.return_value == EXIT_QUIT
        assert m.finished
    try:
        asyncio.run(body())
    finally:
        finish(m)


def test_breakpoint_by_symbol_stops_the_guest_there() -> None:
    m = machine_for(SMP_DEBUG, 4, held=True)
    special = m.image.lookup("special")

    async def body() -> None:
        app = Dashboard(m, line_table=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: app.model.snapshot is not None, what="a frame")
            await pilot.press("b")
            await pilot.pause()
            inp = app.screen.query_one("Input")
            inp.value = "special"
            await pilot.press("enter")
            await until(pilot, lambda: special in m.runctl.breakpoint_list(), what="the breakpoint")
            await pilot.press("space")  # run
            v = await until(pilot, lambda: next((v for v in m.vcpus if m.runctl.stop_reason(v) and
                                                 m.runctl.stop_reason(v).get("reason") == "breakpoint"), None),
                            what="a vCPU at the breakpoint")
            assert v.index == 3 and v.R[15] == special  # only core 3 calls special()
            await until(pilot, lambda: "at breakpoint" in grid_text(app), what="at breakpoint shown")
            await pilot.press("4")
            await pilot.pause(0.3)
            assert "special" in pane_text(app, "code")  # the code pane follows cpu3: PC marker on special
            # run to a symbol: every vCPU runs until one reaches bump
            await pilot.press("g")
            await pilot.pause()
            app.screen.query_one("Input").value = "bump"
            await pilot.press("enter")
            bump = {"reason": "breakpoint", "pc": m.image.lookup("bump")}
            # run_to is None until the prompt's answer is handled too: wait for it to be set (or done)
            await until(pilot, lambda: app.run_to is not None or any(m.runctl.stop_reason(v) == bump
                                                                     for v in m.vcpus), what="the run begun")
            await until(pilot, lambda: app.run_to is None, what="a vCPU at bump")
            hit = m.vcpus[app.model.selected]  # the dashboard selects the vCPU that got there
            assert m.runctl.stop_reason(hit) == bump
            assert hit.R[15] == m.image.lookup("bump")
            assert m.image.lookup("bump") not in m.runctl.breakpoint_list()  # the temporary one is gone
            await until(pilot, lambda: all(m.runctl.is_stopped(v) for v in m.vcpus), what="the others held")
    try:
        asyncio.run(body())
    finally:
        finish(m)


async def open_inspector(app: Dashboard, pilot: Any) -> TBInspector:
    """Open the TB inspector on the hottest block, from the TB cache pane."""
    await pilot.press("t")
    await until(pilot, lambda: app.model.hot_tbs, what="hot blocks")
    app.panes["tbs"].list.focus()
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, TBInspector), what="the inspector")
    assert isinstance(app.screen, TBInspector)
    return app.screen


def test_tb_inspector_shows_generated_source() -> None:
    m = machine_for(SMP_DEBUG, 1, threads="single")

    async def body() -> None:
        app = Dashboard(m, line_table=False)
        async with app.run_test(size=(120, 40)) as pilot:
            inspector = await open_inspector(app, pilot)
            python = text_of(inspector.query_one("#python"))
            assert "def " in python and "R[" in python or "R =" in python, python[:400]
            guest_text = text_of(inspector.query_one("#guest"))
            assert f"{inspector.tb.pc:08x}" in guest_text
            assert "executed" in text_of(inspector.query_one("#tb-head"))
            await pilot.press("escape")
            assert not isinstance(app.screen, TBInspector)
    try:
        asyncio.run(body())
    finally:
        finish(m)


def test_the_tb_inspector_footer_fits_100_columns() -> None:
    """Over the inspector the footer shows its own keys (q and esc go back) and the dashboard's
    run/pause, step and help whole (the keys for the code view under it are off there)."""
    m = machine_for(SMP_DEBUG, 1, threads="single")

    async def body() -> None:
        app = Dashboard(m, line_table=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await open_inspector(app, pilot)
            words = ["esc back", "r refresh", "1-9 follow exit N", "space run/pause", "s step", "? help"]
            await until(pilot, lambda: all(f" {w} " in f" {bottom_line(app)} " for w in words),
                        timeout=10, what="the inspector's footer")
            assert "g run to" not in bottom_line(app) and "b break" not in bottom_line(app)
            await pilot.press("b")  # off here: no breakpoint set under the inspector
            assert not m.runctl.breakpoint_list()
    try:
        asyncio.run(body())
    finally:
        finish(m)


def test_help_lists_every_key_in_words() -> None:
    m = machine_for(guest("hello"), 1, held=True)

    async def body() -> None:
        app = Dashboard(m, line_table=False)
        async with app.run_test(size=(120, 60)) as pilot:
            await pilot.press("question_mark")
            await until(pilot, lambda: isinstance(app.screen, TextView), what="the help screen")
            shown = " ".join(text_of(app.screen.query_one(Static)).split())
            for words in HELP.values():
                assert " ".join(words.split()) in shown, words
            assert "select cpu0-cpu7" in shown
            await pilot.press("escape")
            assert not isinstance(app.screen, TextView)
    try:
        asyncio.run(body())
    finally:
        finish(m)


# the keys a user needs most: the footer must show them whole at any width from 80 columns on
FOOTER_MUST_SHOW = ["space run/pause", "p pause cpu", "s step", "g run to", "b break", "? help", "q quit"]
PANE_KEYS_SHOWN = "c r m l t T e o panes"  # from 100 columns on


def bottom_line(app: Dashboard) -> str:
    """The screen's last line as the terminal shows it (the footer, cut where it is cut)."""
    return app.screen._compositor.render_strips()[-1].text


def footer_faults(app: Dashboard, shown: List[str]) -> List[str]:
    """What is wrong with the footer on screen now: keys it lists but cuts off or leaves out."""
    line, width = bottom_line(app), app.size.width
    faults = [f"{words!r} cut off" for words in shown if f" {words} " not in f" {line} "]
    if not line.rstrip().endswith("▏^p palette"):
        faults.append("no ^p palette at the right")
    if (PANE_KEYS_SHOWN in line) != (width >= 100):
        faults.append(f"pane keys {'missing' if width >= 100 else 'shown'}")
    footer = app.screen.query_one(Footer)
    for key in footer.query("FooterKey"):  # none runs past the edge, under the palette key
        if key.display and key.region.width and key.region.right > footer.region.right:
            faults.append(f"key {key.key} runs past the edge")
    return faults


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (120, 30), (200, 60)])
def test_footer_shows_every_key_it_lists_uncut(size: Tuple[int, int]) -> None:
    m = machine_for(guest("hello"), 1, held=True)

    async def body() -> None:
        app = Dashboard(m, line_table=False)
        shown = [f"{app.get_key_display(b)} {b.description}" for b in app.BINDINGS
                 if isinstance(b, Binding) and b.show and b.group is None]
        assert set(FOOTER_MUST_SHOW) <= set(shown), "a key the footer must show is not in it"
        async with app.run_test(size=size) as pilot:
            # the footer draws its keys a moment after the screen (and again when bindings change)
            faults = ["not drawn"]
            deadline = time.monotonic() + 10
            while faults and time.monotonic() < deadline:
                await pilot.pause(0.05)
                faults = footer_faults(app, shown)
            assert not faults, f"at {size[0]} columns: {faults}: {bottom_line(app)!r}"
    try:
        asyncio.run(body())
    finally:
        finish(m)


def test_keys_not_in_the_footer_are_in_the_help_and_the_palette() -> None:
    m = machine_for(guest("hello"), 1, held=True)

    async def body() -> None:
        app = Dashboard(m, line_table=False)
        async with app.run_test(size=(100, 30)):
            titles = {c.title for c in app.get_system_commands(app.screen)}
            help_keys = {key for key, _ in app.key_help_rows()}
            for b in Dashboard.BINDINGS:
                assert isinstance(b, Binding)
                if b.action.startswith(("select", "pane(")):
                    continue  # 1-8, tab and the pane keys: help rows of their own, the tabs
                assert b.action in HELP and COMMANDS[b.action] in titles, b
                assert (b.key_display or b.key) in help_keys, b
            assert {"1-8", "tab", "shift+tab"} <= help_keys
            assert all(f"Show {title}" in titles for title in ("Code", "TB cache", "TLBs"))
    try:
        asyncio.run(body())
    finally:
        finish(m)


def test_a_finished_run_shows_its_average_rate() -> None:
    """Once the guest has stopped the current rate is 0; the status bar shows what the run
    averaged while it ran instead."""
    m = machine_for(guest("bench"), 1, max_insns=4_000_000)

    async def body() -> None:
        app = Dashboard(m, line_table=False)
        async with app.run_test(size=(120, 24)) as pilot:
            await until(pilot, lambda: app.model.snapshot is not None and app.model.snapshot.finished,
                        timeout=120, what="the run to stop")
            await pilot.pause(0.3)
            status = text_of(app.panes["status"])
            assert "STOPPED" in status and app.model.total_ips.now == 0
            found = re.search(r"([0-9.]+)([kM]?) insn/s avg", status)
            assert found and float(found[1]) > 0, status
            assert 0 < app.model.total_ips.average <= max(app.model.total_ips.history)
    try:
        asyncio.run(body())
    finally:
        finish(m)


def test_quit_after_the_guest_ended_returns_its_status() -> None:
    m = machine_for(guest("hello"), 1)

    async def body() -> None:
        app = Dashboard(m, line_table=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.model.snapshot is not None and app.model.snapshot.finished,
                        what="hello to finish")
            await pilot.pause(0.3)
            assert "EXITED 0" in text_of(app.panes["status"])
            grid = text_of(app.panes["vcpus"])
            assert "halted" in grid and "running" not in grid  # cpu0 exited while running
            await pilot.press("o")
            await pilot.pause(0.2)
            assert "Hello" in pane_text(app, "console") or "hello" in pane_text(app, "console")
            await pilot.press("escape")
            await pilot.press("q")
        assert app.return_value == 0
    try:
        asyncio.run(body())
    finally:
        finish(m)


def test_gdb_and_the_dashboard_agree_on_stops() -> None:
    """A pause in the dashboard stops gdb's continue (SIGINT, as QEMU reports a stop from its
    monitor); a breakpoint hit reported to gdb shows in the dashboard."""
    from tuiemu.gdbstub.server import GdbServer

    from ..gdbstub.gdbmi import Gdb, need_gdb

    need_gdb()
    m = machine_for(SMP_DEBUG, 4, held=True)
    server = GdbServer(m, "127.0.0.1", 0)
    server.start()

    async def body() -> None:
        app = Dashboard(m, server, line_table=False)
        with Gdb(SMP_DEBUG) as gdb:
            gdb.connect(server.port)
            async with app.run_test(size=(120, 40)) as pilot:
                await until(pilot, lambda: app.model.frame is not None and app.model.frame.gdb_connected,
                            what="gdb shown as attached")
                assert "gdb attached" in text_of(app.panes["status"])
                gdb.mi("-exec-continue")
                await until(pilot, lambda: sum(v.counters.insns > 0 for v in m.vcpus) == 4, what="a busy guest")
                await pilot.press("space")
                await until(pilot, lambda: all(m.runctl.is_stopped(v) for v in m.vcpus), what="the pause")
                stop = gdb.wait_stopped()
                assert stop["reason"] == "signal-received" and stop["signal-name"] == "SIGINT", stop
                # and the other way: gdb's breakpoint, seen in the dashboard
                gdb.mi("-break-insert special")
                gdb.mi("-exec-continue")
                stop = gdb.wait_stopped()
                assert stop["reason"] == "breakpoint-hit" and stop["thread-id"] == "4"
                # one frame may show cpu3 stopped before the others: the dashboard polls on its own
                await until(pilot, lambda: "at breakpoint" in cpu_row(app, 3) and
                            all("stopped by debugger" in cpu_row(app, n) for n in (0, 1, 2)),
                            what="cpu3 at the breakpoint, the others stopped by the debugger")
                gdb.cli("kill")
    try:
        asyncio.run(body())
    finally:
        server.close()
        finish(m)


def cpu_row(app: Dashboard, n: int) -> str:
    return next(line for line in grid_text(app).splitlines() if f"cpu{n}" in line)


def test_typing_in_the_console_reaches_the_guest_uart() -> None:
    """The echo guest reads the PL011 polled: keys typed into the focused console pane are its
    input, and its echo comes back into the pane."""
    m = machine_for(Path(__file__).resolve().parents[1] / "guests" / "own" / "echo.elf", 1)

    async def body() -> None:
        app = Dashboard(m, line_table=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("o")
            await until(pilot, lambda: b"[1 polled, no FIFO]" in app.model.console, what="the prompt")
            assert app.focused is app.panes["console"]
            await pilot.press("h", "i", "ctrl+j")
            await until(pilot, lambda: b"[1] characters: 003" in app.model.console, what="the echo")
            assert "[1 polled, no FIFO] hi" in pane_text(app, "console")
            assert app.panes["console"].sent == 3
            await pilot.press("q")  # keys go to the guest while the console has the focus...
            await pilot.pause(0.3)
            assert app.is_running and app.panes["console"].sent == 4
            await pilot.press("escape", "q")  # ...escape gives them back to the dashboard
        assert app.return_value == EXIT_QUIT
    try:
        asyncio.run(body())
    finally:
        finish(m)


def test_source_view_follows_the_pc_with_dwarf_lines() -> None:
    m = machine_for(SMP_DEBUG, 4, threads="single", held=True)
    bump = m.image.lookup("bump")
    m.runctl.add_breakpoint(bump, owner="test")

    async def body() -> None:
        app = Dashboard(m)  # reads the ELF's DWARF line table in a worker
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: app.panes["code"].lines is not None, what="the line table")
            await pilot.press("space")
            await until(pilot, lambda: any(m.runctl.at_hit(v) for v in m.vcpus), what="a stop in bump")
            app.model.selected = next(v.index for v in m.vcpus if m.runctl.at_hit(v))
            await pilot.press("d")
            await pilot.pause(0.3)
            text = pane_text(app, "code")
            assert "smp_debug.c:" in text and "void __attribute__((noinline)) bump(uint32_t core)" in text
            marked = [line for line in text.splitlines() if "▶" in line]
            assert len(marked) == 1 and "counters[core] + 1" in marked[0], text
            await pilot.press("d")  # and back to the disassembly, the breakpoint marked
            await pilot.pause(0.3)
            assert "● ▶ " in pane_text(app, "code") or "●▶" in pane_text(app, "code")
    try:
        asyncio.run(body())
    finally:
        finish(m)


def test_console_lines_end_in_cr_lf_as_linux_writes_them() -> None:
    out = b"[    0.000000] Booting Linux\r\n[    0.000000] Linux version 6.1\r\nprogress 10%\rprogress 20%\r\n"
    assert screen_lines(out, 3) == ["[    0.000000] Linux version 6.1", "progress 20%", ""]
