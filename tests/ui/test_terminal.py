"""The dashboard in a real terminal: tmux runs ``tuiemu run ... --ui`` at 120x40, keys go in with
send-keys (as a person types them) and the screen comes back with capture-pane."""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Callable, Iterator

import pytest

from ..conftest import REPO
from ..gdbstub.rsp import SMP_DEBUG


class Tmux:
    def __init__(self, command: str, width: int = 120, height: int = 40) -> None:
        self.socket = f"tuiemu-test-{uuid.uuid4().hex[:8]}"
        self.tmux(["new-session", "-d", "-s", "t", "-x", str(width), "-y", str(height), command])

    def tmux(self, args: list) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], check=True, capture_output=True, text=True,
                              cwd=REPO).stdout

    def keys(self, *keys: str) -> None:
        self.tmux(["send-keys", "-t", "t", *keys])

    def screen(self) -> str:
        return self.tmux(["capture-pane", "-p", "-t", "t"])

    def wait_for(self, cond: Callable[[str], bool], timeout: float = 30.0, what: str = "") -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if cond(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; the screen:\n{text}")
            time.sleep(0.2)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def status_file(tmp_path: Path) -> Iterator[Path]:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed (.ci/run installs it)")
    yield tmp_path / "status"


def cpu_line(screen: str, n: int) -> str:
    return next(line for line in screen.splitlines() if f"cpu{n} " in line)


def test_dashboard_in_tmux(status_file: Path) -> None:
    cmd = f"{sys.executable} -m tuiemu run {SMP_DEBUG} -smp 4 --ui; echo $? > {status_file}"
    t = Tmux(cmd)
    try:
        t.wait_for(lambda s: s.count("running") >= 4, what="four running vCPUs")
        t.keys("Space")
        screen = t.wait_for(lambda s: s.count("paused by UI") == 4, what="the pause")
        assert "PAUSED" in screen
        t.keys("3")  # select cpu2
        screen = t.wait_for(lambda s: "▸cpu2" in s, what="cpu2 selected")
        assert "cpu2 A32 at" in screen  # the code pane follows the selection
        before = cpu_line(screen, 2)
        t.keys("s")
        screen = t.wait_for(lambda s: "stepped" in cpu_line(s, 2), what="the step")
        assert cpu_line(screen, 2) != before
        assert all("paused by UI" in cpu_line(screen, n) for n in (0, 1, 3))
        t.keys("l")
        t.wait_for(lambda s: "exclusive" in s and "held by" in s, what="the locks pane")
        t.keys("q")
        deadline = time.monotonic() + 20
        while not status_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert status_file.read_text().strip() == "130"  # quit before the guest ended
    finally:
        t.close()


def test_stdout_not_a_terminal_is_an_error(tmp_path: Path) -> None:
    p = subprocess.run([sys.executable, "-m", "tuiemu", "run", str(SMP_DEBUG), "--ui"], capture_output=True,
                       text=True, cwd=REPO, timeout=60)
    assert p.returncode == 2
    assert p.stderr.count("\n") == 1 and "terminal" in p.stderr
