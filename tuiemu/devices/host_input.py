"""Host input: stdin pumped into the guest's UART from a daemon thread, or read through semihosting.

stdin has one reader per run, the one the guest uses first. ``tuiemu run`` arms the pump
(``start``); it then starts at the guest's first PL011 access, and from then on semihosting
console reads (SYS_READC, SYS_READ on ":tt") see end of input. A guest that reads the console
through semihosting before it touches the PL011 (a newlib/rdimon program) keeps stdin for those
reads, and the UART gets no host input. (QEMU gives stdin to the UART and leaves semihosting
console reads waiting forever.) Without ``start`` (a Machine driven from Python) only semihosting
reads stdin, as they always did.

A stdin that is not a terminal is read as is; its end stops the pump. A terminal is put in raw
mode the way QEMU's -nographic sets it (keys reach the guest one at a time and unechoed, output
still turns "\\n" into CR LF, Ctrl-C still interrupts tuiemu), and restored at exit, also after an
exception, SIGTERM or SIGHUP. Ctrl-A x ends the run with status 0, Ctrl-A Ctrl-A sends a Ctrl-A,
Ctrl-A h lists these keys; another key after Ctrl-A is dropped.
"""
from __future__ import annotations

import atexit
import os
import signal
import sys
import termios
import threading
from typing import Any, BinaryIO, Callable, List, Optional, Tuple

ESCAPE = 0x01  # Ctrl-A
KEYS_HELP = "\r\nC-a x    exit tuiemu\r\nC-a C-a  send C-a\r\nC-a h    this help\r\n"
_IFLAG_OFF = (termios.IGNBRK | termios.BRKINT | termios.PARMRK | termios.ISTRIP | termios.INLCR
              | termios.IGNCR | termios.ICRNL | termios.IXON)
_LFLAG_OFF = termios.ECHO | termios.ECHONL | termios.ICANON | termios.IEXTEN


def _is_terminal(stream: Optional[BinaryIO]) -> bool:
    try:
        return stream is not None and os.isatty(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return False


class HostInput:
    def __init__(self, stream: Optional[BinaryIO], sink: Callable[[bytes], None], on_quit: Callable[[], None]) -> None:
        self.stream = stream
        self.sink = sink  # the UART's receive line
        self.on_quit = on_quit
        self.is_terminal = _is_terminal(stream)
        self.thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()
        self._armed = False
        self._uart_touched = False
        self._owner: Optional[str] = None  # "uart" or "semihosting"
        self._escape = False
        self._saved: Optional[Tuple[int, List[Any]]] = None  # terminal settings to restore

    # ---- set up by the CLI --------------------------------------------------------------
    def start(self) -> None:
        """Let the pump take stdin for the UART (from the main thread: it installs signal handlers)."""
        if self.stream is None:
            return
        if self.is_terminal:
            atexit.register(self.restore)
            if threading.current_thread() is threading.main_thread():
                for sig in (signal.SIGTERM, signal.SIGHUP):
                    if signal.getsignal(sig) == signal.SIG_DFL:
                        signal.signal(sig, self._on_signal)
        with self._lock:
            self._armed = True
        if self._uart_touched:
            self.uart_touched()

    def can_deliver(self) -> bool:
        """Could host input still reach the guest's UART (the pump is running)?"""
        return self.thread is not None and self.thread.is_alive()

    def restore(self) -> None:
        """Give the terminal back its settings (idempotent)."""
        saved, self._saved = self._saved, None
        if saved is not None:
            termios.tcsetattr(saved[0], termios.TCSADRAIN, saved[1])

    def _on_signal(self, signum: int, frame: Any) -> None:
        self.restore()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    # ---- the two readers ----------------------------------------------------------------
    def uart_touched(self) -> None:
        """The guest accessed the UART: start the pump unless semihosting already reads stdin."""
        with self._lock:
            self._uart_touched = True
            if not self._armed or self._owner is not None:
                return
            self._owner = "uart"
        self.thread = threading.Thread(target=self._pump, name="host-input", daemon=True)
        self.thread.start()

    def read(self, size: int) -> bytes:
        """A semihosting console read (SYS_READC)."""
        stream = self._for_semihosting()
        return stream.read(size) if stream is not None else b""

    def readline(self, size: int) -> bytes:
        """A semihosting console read (SYS_READ: up to a line, as a terminal gives it)."""
        stream = self._for_semihosting()
        return stream.readline(size) if stream is not None else b""

    def _for_semihosting(self) -> Optional[BinaryIO]:
        with self._lock:
            if self._owner == "uart":
                return None
            self._owner = "semihosting"
        return self.stream

    # ---- the pump -------------------------------------------------------------------------
    def _reader(self) -> Callable[[], bytes]:
        """Whatever input is there, without waiting for more. From the file descriptor when there
        is one: a daemon thread blocked inside a buffered stream's read holds the stream's lock, and
        the interpreter aborts if it has to flush that stream at exit (the pump is stdin's only
        reader, so its buffer is empty)."""
        assert self.stream is not None
        try:
            fd = self.stream.fileno()
        except (OSError, ValueError, AttributeError):
            read1 = getattr(self.stream, "read1", None)
            stream = self.stream
            return (lambda: read1(4096)) if read1 is not None else (lambda: stream.read(1))
        return lambda: os.read(fd, 4096)

    def _pump(self) -> None:
        assert self.stream is not None
        try:
            if self.is_terminal:
                self._raw_mode(self.stream.fileno())
            read = self._reader()
            while True:
                data = read()
                if not data:
                    return
                if self.is_terminal:
                    data, quit_ = self._keys(data)
                    if data:
                        self.sink(data)
                    if quit_:
                        self.restore()
                        sys.stderr.write("tuiemu: terminated (C-a x)\n")
                        self.on_quit()
                        return
                else:
                    self.sink(data)
        except (OSError, ValueError):
            return
        finally:
            self.restore()

    def _raw_mode(self, fd: int) -> None:
        saved = termios.tcgetattr(fd)
        mode = termios.tcgetattr(fd)
        mode[0] &= ~_IFLAG_OFF
        mode[1] |= termios.OPOST
        mode[3] &= ~_LFLAG_OFF  # ISIG stays: Ctrl-C interrupts tuiemu, as it interrupts QEMU
        mode[6][termios.VMIN] = 1
        mode[6][termios.VTIME] = 0
        termios.tcsetattr(fd, termios.TCSANOW, mode)
        self._saved = (fd, saved)

    def _keys(self, data: bytes) -> Tuple[bytes, bool]:
        """Terminal keys with the Ctrl-A escapes taken out; True when Ctrl-A x asked to quit."""
        out = bytearray()
        for b in data:
            if self._escape:
                self._escape = False
                if b == ESCAPE:
                    out.append(b)
                elif b in b"xX":
                    return bytes(out), True
                elif b in b"hH?":
                    sys.stderr.write(KEYS_HELP)
                    sys.stderr.flush()
            elif b == ESCAPE:
                self._escape = True
            else:
                out.append(b)
        return bytes(out), False
