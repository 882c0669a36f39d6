"""The console: where UART and semihosting text goes, in the order the guest produces it.

Besides the host stream, the console keeps the last ``TAIL`` bytes it saw with
their absolute offset, so readers that poll from their own thread (the
dashboard) take what is new with ``read_since`` and no writer ever calls them.

If the host stream fails (a closed pipe, a full disk), the console stops
writing to it, keeps the error and tells ``on_error`` once: the machine ends
the run, and the CLI says why (quietly for a closed pipe, as ``head`` expects).
"""
from __future__ import annotations

import threading
from typing import BinaryIO, Callable, Optional, Tuple

TAIL = 1 << 20


def _isatty(stream: Optional[BinaryIO]) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):
        return False


class Console:
    def __init__(self, out: Optional[BinaryIO] = None) -> None:
        self.out = out  # None: the text is only kept (tail, capture)
        self.is_tty = _isatty(self.out)  # semihosting SYS_ISTTY answers this for console handles
        self.lock = threading.Lock()
        self.captured = bytearray()
        self.capture = False
        self.error: Optional[OSError] = None
        self.on_error: Callable[[OSError], None] = lambda e: None  # the machine ends the run
        self._pending = bytearray()
        self._tail = bytearray()
        self._end = 0  # absolute offset of the byte after the last one written

    def write(self, data: bytes) -> None:
        failed = self.error is None
        with self.lock:
            if self.capture:
                self.captured += data
            self._tail += data
            if len(self._tail) > TAIL:
                del self._tail[:len(self._tail) - TAIL]
            self._end += len(data)
            if self.out is not None:
                self._pending += data
                if b"\n" in data or len(self._pending) > 4096:
                    self._flush_locked()
            failed = failed and self.error is not None
        if failed:  # this write found the stream broken: once, outside the lock
            assert self.error is not None
            self.on_error(self.error)

    def read_since(self, offset: int) -> Tuple[bytes, int]:
        """What was written after absolute ``offset`` (as much as the tail still holds), and the
        offset to ask from next time."""
        with self.lock:
            n = min(self._end - offset, len(self._tail))
            return (bytes(self._tail[-n:]) if n > 0 else b""), self._end

    def _flush_locked(self) -> None:
        if not self._pending or self.out is None:
            return
        try:
            self.out.write(bytes(self._pending))
            self.out.flush()
            self._pending.clear()
        except OSError as e:  # the reader went away or the disk is full: stop writing
            self.error, self.out = e, None
            self._pending.clear()

    def flush(self) -> None:
        with self.lock:
            self._flush_locked()
