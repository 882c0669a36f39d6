"""Host input: the pump feeds stdin to the UART once the guest touches it, semihosting console reads
keep stdin when they come first, a terminal goes raw (QEMU's -nographic settings) and comes back,
and Ctrl-A x ends the run."""
from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path
from typing import Callable, Iterator, List

import pytest

from tuiemu.devices.host_input import HostInput

from ..conftest import REPO

ECHO = Path(__file__).resolve().parents[1] / "guests" / "own" / "echo.elf"


class Sink:
    def __init__(self) -> None:
        self.data = bytearray()
        self.quits = 0
        self.changed = threading.Condition()

    def feed(self, data: bytes) -> None:
        with self.changed:
            self.data += data
            self.changed.notify_all()

    def quit(self) -> None:
        with self.changed:
            self.quits += 1
            self.changed.notify_all()

    def wait(self, done: Callable[[], bool]) -> None:
        with self.changed:
            assert self.changed.wait_for(done, timeout=10)


@pytest.fixture(autouse=True)
def keep_signal_handlers() -> Iterator[None]:
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGHUP)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def test_pipe_is_pumped_after_the_uart_is_touched_until_eof() -> None:
    r, w = os.pipe()
    sink = Sink()
    with os.fdopen(r, "rb") as stream:
        h = HostInput(stream, sink.feed, sink.quit)
        h.start()
        os.write(w, b"early")
        time.sleep(0.1)
        assert sink.data == b"" and h.thread is None  # the guest has not touched the UART yet
        h.uart_touched()
        os.write(w, b" late\x01x")  # not a terminal: Ctrl-A is just a byte
        os.close(w)
        sink.wait(lambda: bytes(sink.data) == b"early late\x01x")
        assert h.thread is not None
        h.thread.join(10)
        assert not h.thread.is_alive() and sink.quits == 0
        assert h.read(1) == b"" and h.readline(10) == b""  # the UART owns stdin now


def test_semihosting_reads_first_keep_stdin() -> None:
    sink = Sink()
    h = HostInput(io.BytesIO(b"line one\nline two\n"), sink.feed, sink.quit)
    h.start()
    assert h.readline(100) == b"line one\n"
    h.uart_touched()
    assert h.thread is None and h.read(1) == b"l"


def test_without_start_only_semihosting_reads() -> None:
    sink = Sink()
    h = HostInput(io.BytesIO(b"abc"), sink.feed, sink.quit)
    h.uart_touched()
    assert h.thread is None and h.read(2) == b"ab"
    assert HostInput(None, sink.feed, sink.quit).read(1) == b""


def _lflag(fd: int) -> int:
    return int(termios.tcgetattr(fd)[3])


def test_terminal_goes_raw_keys_are_forwarded_and_ctrl_a_x_quits() -> None:
    master, slave = os.openpty()
    sink = Sink()
    try:
        cooked = termios.tcgetattr(slave)
        with os.fdopen(os.dup(slave), "rb") as stream:
            h = HostInput(stream, sink.feed, sink.quit)
            assert h.is_terminal
            h.start()
            h.uart_touched()
            deadline = time.monotonic() + 10
            while _lflag(slave) & termios.ICANON and time.monotonic() < deadline:
                time.sleep(0.01)
            mode = termios.tcgetattr(slave)
            assert not mode[3] & (termios.ICANON | termios.ECHO) and mode[3] & termios.ISIG
            assert mode[1] & termios.OPOST and not mode[0] & termios.ICRNL
            os.write(master, b"hi\r\x01\x01\x01zok")
            sink.wait(lambda: bytes(sink.data) == b"hi\r\x01ok")  # C-a C-a sends C-a; C-a z is dropped
            os.write(master, b"\x01x")
            sink.wait(lambda: sink.quits == 1)
            assert h.thread is not None
            h.thread.join(10)
            assert termios.tcgetattr(slave) == cooked
    finally:
        os.close(master)
        os.close(slave)


def _run_on_terminal(send: Callable[[subprocess.Popen, int], object]) -> List[int]:
    """Run the echo guest with a terminal as stdin; return the exit status and the terminal's lflag
    before the run and after it."""
    master, slave = os.openpty()
    try:
        before = _lflag(slave)
        p = subprocess.Popen([sys.executable, "-m", "tuiemu", "run", str(ECHO)], cwd=REPO, stdin=slave,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while _lflag(slave) & termios.ICANON and time.monotonic() < deadline and p.poll() is None:
            time.sleep(0.02)
        assert not _lflag(slave) & termios.ICANON, "the terminal never went raw"
        send(p, master)
        p.communicate(timeout=60)
        return [p.returncode, before, _lflag(slave)]
    finally:
        os.close(master)
        os.close(slave)


def test_cli_ctrl_a_x_ends_the_run_and_restores_the_terminal() -> None:
    code, before, after = _run_on_terminal(lambda p, master: os.write(master, b"\x01x"))
    assert code == 0 and after == before


def test_cli_sigterm_restores_the_terminal() -> None:
    code, before, after = _run_on_terminal(lambda p, master: p.send_signal(signal.SIGTERM))
    assert code == -signal.SIGTERM and after == before
