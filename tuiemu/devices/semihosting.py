"""ARM semihosting (the 32-bit interface), with QEMU's answers on virt.

r0 = operation, r1 = argument or pointer to a parameter block; the result goes
to r0. Console handles (":tt") write to the shared console; other names open
host files, as QEMU does. Exit requests end the run with QEMU's status rules.
"""
from __future__ import annotations

import errno
import os
import sys
import time
from typing import Any, Callable, Dict, Optional, Protocol

SYS_OPEN, SYS_CLOSE, SYS_WRITEC, SYS_WRITE0, SYS_WRITE, SYS_READ, SYS_READC = 1, 2, 3, 4, 5, 6, 7
SYS_ISERROR, SYS_ISTTY, SYS_SEEK, SYS_FLEN, SYS_TMPNAM, SYS_REMOVE, SYS_RENAME = 8, 9, 0xA, 0xC, 0xD, 0xE, 0xF
SYS_CLOCK, SYS_TIME, SYS_SYSTEM, SYS_ERRNO, SYS_GET_CMDLINE, SYS_HEAPINFO = 0x10, 0x11, 0x12, 0x13, 0x15, 0x16
SYS_EXIT, SYS_EXIT_EXTENDED, SYS_ELAPSED, SYS_TICKFREQ = 0x18, 0x20, 0x30, 0x31
ADP_STOPPED_APPLICATION_EXIT = 0x20026
FEATURES = b"SHFB\x03"  # EXIT_EXTENDED and STDOUT_STDERR
OPEN_MODES = ("rb", "rb", "rb+", "rb+", "wb", "wb", "wb+", "wb+", "ab", "ab", "ab+", "ab+")


class ConsoleInput(Protocol):
    """Where console reads come from (the host's stdin, through ``HostInput``)."""

    def read(self, __size: int) -> bytes: ...
    def readline(self, __size: int) -> bytes: ...


class _ConsoleHandle:
    def __init__(self, kind: str) -> None:
        self.kind = kind  # "in", "out", "err"


class _FeaturesHandle:
    def __init__(self) -> None:
        self.pos = 0


class Semihosting:
    def __init__(self, console: Any, exit_fn: Callable[[int], None], heap: Callable[[], tuple],
                 cmdline: str = "", stdin: Optional[ConsoleInput] = None) -> None:
        self.console = console
        self.exit_fn = exit_fn
        self.heap = heap
        self.cmdline = cmdline
        self.stdin = stdin
        self.handles: Dict[int, Any] = {}
        self.next_handle = 1
        self.errno = 0
        self.t0 = time.monotonic()

    # ---- guest memory through the calling vCPU -------------------------------
    @staticmethod
    def _word(x: Any, addr: int) -> int:
        return x.tlb.load(addr & 0xFFFFFFFF, 4, 1)

    def _args(self, x: Any, addr: int, n: int) -> list:
        return [self._word(x, addr + 4 * i) for i in range(n)]

    @staticmethod
    def _cstring(x: Any, addr: int, limit: int = 1 << 16) -> bytes:
        out = bytearray()
        while len(out) < limit:
            chunk = x.tlb.read_bytes(addr, 64 - (addr & 63))
            nul = chunk.find(b"\0")
            if nul >= 0:
                out += chunk[:nul]
                break
            out += chunk
            addr = (addr + len(chunk)) & 0xFFFFFFFF
        return bytes(out)

    def _new_handle(self, obj: Any) -> int:
        h = self.next_handle
        self.next_handle += 1
        self.handles[h] = obj
        return h

    def _fail(self, err: int) -> int:
        self.errno = err
        return 0xFFFFFFFF

    # ---- entry -------------------------------------------------------------
    def call(self, x: Any) -> None:
        R = x.R
        op, arg = R[0], R[1]
        fn = self._OPS.get(op)
        if fn is None:
            R[0] = self._fail(errno.ENOSYS)
            return
        result = fn(self, x, arg)
        if result is not None:
            R[0] = result & 0xFFFFFFFF

    def _open(self, x: Any, arg: int) -> int:
        name_ptr, mode, length = self._args(x, arg, 3)
        name = x.tlb.read_bytes(name_ptr, length).decode("latin-1") if length else ""
        if mode > 11:
            return self._fail(errno.EINVAL)
        if name == ":tt":
            return self._new_handle(_ConsoleHandle("in" if mode < 4 else "out" if mode < 8 else "err"))
        if name == ":semihosting-features":
            return self._new_handle(_FeaturesHandle()) if mode < 4 else self._fail(errno.EACCES)
        try:
            return self._new_handle(open(name, OPEN_MODES[mode]))  # noqa: SIM115 (closed by SYS_CLOSE)
        except OSError as e:
            return self._fail(e.errno or errno.EIO)

    def _close(self, x: Any, arg: int) -> int:
        h = self._word(x, arg)
        obj = self.handles.pop(h, None)
        if obj is None:
            return self._fail(errno.EBADF)
        if hasattr(obj, "close"):
            obj.close()
        return 0

    def _writec(self, x: Any, arg: int) -> None:
        self.console.write(x.tlb.read_bytes(arg, 1))

    def _write0(self, x: Any, arg: int) -> None:
        self.console.write(self._cstring(x, arg))

    def _write(self, x: Any, arg: int) -> int:
        h, buf, length = self._args(x, arg, 3)
        obj = self.handles.get(h)
        data = x.tlb.read_bytes(buf, length) if length else b""
        if isinstance(obj, _ConsoleHandle):
            if obj.kind == "err":
                sys.stderr.buffer.write(data)
                sys.stderr.flush()
            else:
                self.console.write(data)
            return 0
        if obj is None or isinstance(obj, _FeaturesHandle):
            self.errno = errno.EBADF
            return length
        try:
            return length - (obj.write(data) or 0)
        except OSError as e:
            self.errno = e.errno or errno.EIO
            return length

    def _read(self, x: Any, arg: int) -> int:
        h, buf, length = self._args(x, arg, 3)
        obj = self.handles.get(h)
        if isinstance(obj, _ConsoleHandle):
            data = self.stdin.readline(length) if self.stdin is not None else b""
        elif isinstance(obj, _FeaturesHandle):
            data = FEATURES[obj.pos:obj.pos + length]
            obj.pos += len(data)
        elif obj is None:
            self.errno = errno.EBADF
            return 0xFFFFFFFF
        else:
            try:
                data = obj.read(length)
            except OSError as e:
                self.errno = e.errno or errno.EIO
                return 0xFFFFFFFF
        if data:
            x.tlb.write_bytes(buf, data)
        return length - len(data)

    def _readc(self, x: Any, arg: int) -> int:
        data = self.stdin.read(1) if self.stdin is not None else b""
        return data[0] if data else 0xFFFFFFFF

    def _iserror(self, x: Any, arg: int) -> int:
        return 1 if self._word(x, arg) & 0x80000000 else 0

    def _istty(self, x: Any, arg: int) -> int:
        obj = self.handles.get(self._word(x, arg))
        if obj is None:
            return self._fail(errno.EBADF)
        return 1 if isinstance(obj, _ConsoleHandle) and self.console.is_tty else 0

    def _seek(self, x: Any, arg: int) -> int:
        h, pos = self._args(x, arg, 2)
        obj = self.handles.get(h)
        if isinstance(obj, _FeaturesHandle):
            obj.pos = pos
            return 0
        if obj is None or isinstance(obj, _ConsoleHandle):
            return self._fail(errno.EBADF)
        try:
            obj.seek(pos)
            return 0
        except OSError as e:
            return self._fail(e.errno or errno.EIO)

    def _flen(self, x: Any, arg: int) -> int:
        obj = self.handles.get(self._word(x, arg))
        if isinstance(obj, _FeaturesHandle):
            return len(FEATURES)
        if isinstance(obj, _ConsoleHandle):
            return 0
        if obj is None:
            return self._fail(errno.EBADF)
        return os.fstat(obj.fileno()).st_size

    def _clock(self, x: Any, arg: int) -> int:
        return int((time.monotonic() - self.t0) * 100)

    def _time(self, x: Any, arg: int) -> int:
        return int(time.time())

    def _errno(self, x: Any, arg: int) -> int:
        return self.errno

    def _get_cmdline(self, x: Any, arg: int) -> int:
        buf, size = self._args(x, arg, 2)
        data = self.cmdline.encode()[: max(0, size - 1)] + b"\0"
        x.tlb.write_bytes(buf, data)
        x.tlb.store((arg + 4) & 0xFFFFFFFF, 4, len(data) - 1, 1)
        return 0

    def _heapinfo(self, x: Any, arg: int) -> int:
        block = self._word(x, arg)
        for i, v in enumerate(self.heap()):
            x.tlb.store((block + 4 * i) & 0xFFFFFFFF, 4, v & 0xFFFFFFFF, 1)
        return 0

    def _exit(self, x: Any, arg: int) -> None:
        self.exit_fn(0 if arg == ADP_STOPPED_APPLICATION_EXIT else 1)

    def _exit_extended(self, x: Any, arg: int) -> None:
        reason, code = self._args(x, arg, 2)
        self.exit_fn(code & 0xFF if reason == ADP_STOPPED_APPLICATION_EXIT else 1)

    def _elapsed(self, x: Any, arg: int) -> int:
        ticks = int((time.monotonic() - self.t0) * 1_000_000)
        x.tlb.store(arg, 4, ticks & 0xFFFFFFFF, 1)
        x.tlb.store((arg + 4) & 0xFFFFFFFF, 4, ticks >> 32, 1)
        return 0

    def _tickfreq(self, x: Any, arg: int) -> int:
        return 1_000_000

    def _unsupported(self, x: Any, arg: int) -> int:
        return self._fail(errno.ENOSYS)

    _OPS: Dict[int, Callable[[Semihosting, Any, int], Optional[int]]] = {
        SYS_OPEN: _open, SYS_CLOSE: _close, SYS_WRITEC: _writec, SYS_WRITE0: _write0, SYS_WRITE: _write,
        SYS_READ: _read, SYS_READC: _readc, SYS_ISERROR: _iserror, SYS_ISTTY: _istty, SYS_SEEK: _seek,
        SYS_FLEN: _flen, SYS_CLOCK: _clock, SYS_TIME: _time, SYS_ERRNO: _errno,
        SYS_GET_CMDLINE: _get_cmdline, SYS_HEAPINFO: _heapinfo, SYS_EXIT: _exit,
        SYS_EXIT_EXTENDED: _exit_extended, SYS_ELAPSED: _elapsed, SYS_TICKFREQ: _tickfreq,
        SYS_SYSTEM: _unsupported, SYS_TMPNAM: _unsupported, SYS_REMOVE: _unsupported,
        SYS_RENAME: _unsupported,
    }
