"""Snapshots of the dashboard (pytest-textual-snapshot): the main screen at 80x24 and 200x60 on a
machine held at reset, and the TB inspector after a deterministic run. Run pytest with
--snapshot-update after an intended change of the look, and look at the SVGs before committing."""
from __future__ import annotations

from typing import Any

from tuiemu.ui.app import Dashboard

from ..gdbstub.rsp import SMP_DEBUG
from .test_dashboard import finish, machine_for, until


def test_main_screen_80x24(snap_compare: Any) -> None:
    m = machine_for(SMP_DEBUG, 4, threads="single", held=True)
    app = Dashboard(m, line_table=False)

    async def ready(pilot: Any) -> None:
        await until(pilot, lambda: app.model.frame is not None, what="a frame")
        await pilot.pause(0.3)
    try:
        assert snap_compare(app, terminal_size=(80, 24), run_before=ready)
    finally:
        finish(m)


def test_main_screen_200x60(snap_compare: Any) -> None:
    m = machine_for(SMP_DEBUG, 4, threads="single", held=True)
    app = Dashboard(m, line_table=False)

    async def ready(pilot: Any) -> None:
        await until(pilot, lambda: app.model.frame is not None, what="a frame")
        await pilot.press("t")
        await pilot.pause(0.3)
    try:
        assert snap_compare(app, terminal_size=(200, 60), run_before=ready)
    finally:
        finish(m)


def test_tb_inspector(snap_compare: Any) -> None:
    m = machine_for(SMP_DEBUG, 4, threads="single", max_insns=200_000)  # the same stop every run
    app = Dashboard(m, line_table=False)

    async def ready(pilot: Any) -> None:
        await until(pilot, lambda: m.finished, what="the run to end")
        await pilot.press("t")
        await until(pilot, lambda: app.model.hot_tbs and app.model.snapshot.finished, what="hot blocks")
        await pilot.pause(0.6)  # a frame with the final counts
        app.panes["tbs"].list.focus()
        await pilot.press("enter")
        await pilot.pause(0.3)
        app.clear_notifications()  # the "run stopped" toast would make the picture depend on timing
        await pilot.pause(0.1)
    try:
        assert snap_compare(app, terminal_size=(160, 48), run_before=ready)
    finally:
        finish(m)
