"""The console: where UART and semihosting text goes, in the order the guest produces it."""
from __future__ import annotations

import threading
from typing import BinaryIO, Callable, List, Optional


def _isatty(stream: Optional[BinaryIO]) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):
        return False


class Console:
    def __init__(self, out: Optional[BinaryIO] = None) -> None:
        self.out = out  # None: the text is only captured or passed to listeners
        self.is_tty = _isatty(self.out)  # semihosting SYS_ISTTY answers this for console handles
        self.lock = threading.Lock()
        self.listeners: List[Callable[[bytes], None]] = []  # e.g. the dashboard's console pane
        self.captured = bytearray()
        self.capture = False
        self._pending = bytearray()

    def write(self, data: bytes) -> None:
        with self.lock:
            if self.capture:
                self.captured += data
            if self.out is not None:
                self._pending += data
                if b"\n" in data or len(self._pending) > 4096:
                    self._flush_locked()
            for fn in self.listeners:
                fn(data)

    def _flush_locked(self) -> None:
        if self._pending and self.out is not None:
            self.out.write(bytes(self._pending))
            self.out.flush()
            self._pending.clear()

    def flush(self) -> None:
        with self.lock:
            self._flush_locked()
