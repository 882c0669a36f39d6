"""One gdb connection's protocol state and the packet dispatcher.

``Stub.handle`` takes an unescaped packet and returns the reply, or None when
the reply comes later (an all-stop continue). The stub talks back through an
``Output`` (the server's connection): asynchronous stop replies, ``%Stop``
notifications, ``O`` console packets. It has no socket or thread of its own,
so it can be driven directly in tests.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Dict, List, Optional, Protocol, Set

from ..exitcodes import EXIT_KILLED
from . import memory, queries, regs
from .breakpoints import Breakpoints, cmd_Z, cmd_z, remove_all
from .execution import VCONT_ACTIONS, Execution
from .packets import hex_encode_text
from .threads import ALL, ANY, parse_tid, vcpu_of

PACKET_SIZE = 0x4000


class Output(Protocol):
    def send_packet(self, data: bytes) -> None: ...
    def send_notification(self, data: bytes) -> None: ...


class Stub:
    def __init__(self, machine: Any, out: Output, packet_size: int = PACKET_SIZE) -> None:
        self.m = machine
        self.out = out
        self.packet_size = packet_size
        self.max_read = (packet_size - 32) // 2
        self.gdb_features: Set[str] = set()
        self.no_ack = False
        self.non_stop = False
        self.physical = False
        self.g_tid = ANY
        self.c_tid = ALL
        self.last_thread: Optional[Any] = None
        self.bps = Breakpoints()
        self.closing = False  # the connection ends after this reply (detach, kill)
        self.killed = False
        self.started = time.monotonic()
        self._after: List[Callable[[], Any]] = []
        self.execution = Execution(self)

    # ---- helpers for the handlers ------------------------------------------------------
    def general_vcpu(self) -> Any:
        """The vCPU for register and memory packets (Hg), else the last one reported."""
        v = vcpu_of(self.m, self.g_tid)
        if v is None:
            v = self.last_thread or self.execution._default_thread()
        return v

    def select(self, v: Any) -> None:
        """Make ``v`` the general and continue thread (what gdb assumes after an all-stop stop)."""
        self.g_tid = self.c_tid = v.index + 1

    def after_reply(self, fn: Callable[[], Any]) -> None:
        """Run ``fn`` once the current reply has been sent (notifications, mode switches)."""
        self._after.append(fn)

    def run_after_reply(self) -> None:
        todo, self._after = self._after, []
        for fn in todo:
            fn()

    def enter_no_ack(self) -> None:
        self.no_ack = True

    def console_output(self, text: str) -> None:
        """Text for gdb's console, as ``O`` packets (sent before the command's final reply)."""
        step = max(64, self.packet_size // 2 - 16)
        for i in range(0, len(text), step):
            self.out.send_packet(b"O" + hex_encode_text(text[i:i + step]))

    # ---- dispatch ---------------------------------------------------------------------
    def handle(self, packet: bytes) -> Optional[bytes]:
        if not packet:
            return b""
        first = packet[:1]
        rest = packet[1:]
        if first in (b"q", b"Q"):
            return queries.dispatch(self, packet)
        if first == b"v":
            return self._v_packet(packet)
        handler = _SIMPLE.get(first)
        if handler is None:
            return b""
        return handler(self, rest)

    def _v_packet(self, packet: bytes) -> Optional[bytes]:
        ex = self.execution
        if packet == b"vCont?":
            return VCONT_ACTIONS
        if packet.startswith(b"vCont;"):
            return ex.vcont(packet[5:])
        if packet == b"vStopped":
            return ex.vstopped()
        if packet == b"vCtrlC":
            return ex.ctrl_c_non_stop() if self.non_stop else self._all_stop_ctrl_c()
        if packet == b"vKill" or packet.startswith(b"vKill;"):
            self.kill()
            return b"OK"
        return b""  # vMustReplyEmpty and everything else

    def _all_stop_ctrl_c(self) -> bytes:
        self.after_reply(self.execution.interrupt)
        return b"OK"

    # ---- connection-level actions ---------------------------------------------------------
    def kill(self) -> None:
        """End the run (exit status EXIT_KILLED) and close the connection."""
        self.killed = True
        self.closing = True
        self.execution.exited = True
        self.m.exit(EXIT_KILLED)

    def detach(self) -> None:
        remove_all(self)
        self.execution.release_all()
        self.closing = True

    def disconnected(self) -> None:
        """The connection dropped: remove breakpoints, leave every vCPU as it is."""
        remove_all(self)


# ---- single-letter packets -------------------------------------------------------------
def _question(stub: Stub, args: bytes) -> bytes:
    return stub.execution.question()


def _set_thread(stub: Stub, args: bytes) -> bytes:
    op, text = args[:1], args[1:]
    try:
        tid = parse_tid(text)
    except ValueError:
        return b"E01"
    if tid not in (ANY, ALL) and vcpu_of(stub.m, tid) is None:
        return b"E02"
    if op == b"g":
        stub.g_tid = tid
    elif op == b"c":
        stub.c_tid = tid
    else:
        return b"E01"
    return b"OK"


def _thread_alive(stub: Stub, args: bytes) -> bytes:
    try:
        tid = parse_tid(args)
    except ValueError:
        return b"E01"
    return b"OK" if vcpu_of(stub.m, tid) is not None else b"E01"


def _detach(stub: Stub, args: bytes) -> bytes:
    stub.detach()
    return b"OK"


def _kill(stub: Stub, args: bytes) -> None:
    stub.kill()
    return None  # 'k' has no reply


_SIMPLE: Dict[bytes, Callable[[Stub, bytes], Optional[bytes]]] = {
    b"?": _question,
    b"g": regs.cmd_g,
    b"G": regs.cmd_G,
    b"p": regs.cmd_p,
    b"P": regs.cmd_P,
    b"m": memory.cmd_m,
    b"M": memory.cmd_M,
    b"X": memory.cmd_X,
    b"c": lambda stub, a: stub.execution.legacy(False, False, a),
    b"C": lambda stub, a: stub.execution.legacy(False, True, a),
    b"s": lambda stub, a: stub.execution.legacy(True, False, a),
    b"S": lambda stub, a: stub.execution.legacy(True, True, a),
    b"H": _set_thread,
    b"T": _thread_alive,
    b"Z": cmd_Z,
    b"z": cmd_z,
    b"D": _detach,
    b"k": _kill,
}
