"""The GDB remote stub's TCP server: ``GdbServer(machine, host, port).start()``.

Threads (all daemons): an accept thread that serves one client at a time (a
second client is closed if the first is still connected after BUSY_GRACE)
and, per connection, a session thread: it reads the socket, runs the stub and
writes replies; it is the only thread that touches the protocol state. vCPU
threads hand their breakpoint/watchpoint stops over with ``Connection.post``
(run-control listeners must not block), as does ``notify_exit``.

Connection semantics:
- ``D`` (detach) removes this connection's breakpoints and watchpoints and
  lets every vCPU run.
- ``k`` / ``vKill`` end the run with exit status ``EXIT_KILLED`` (137).
- A dropped connection (no ``D``) removes the breakpoints and watchpoints but
  otherwise leaves the guest as it was: vCPUs that were stopped stay stopped
  (so a new gdb can pick up where the old one left), running ones keep
  running. (QEMU resumes the guest instead; we prefer losing nothing.)
- While a client is attached the interpreter's GIL switch interval is lowered
  (see GIL_SWITCH_INTERVAL) so the stub answers promptly under a busy guest.
- ``notify_exit(code)`` (called when the run ends) sends ``W<code>`` (or a
  ``%Stop:W`` notification in non-stop mode), waits briefly for gdb to read
  it, and closes the connection.
"""
from __future__ import annotations

import collections
import os
import queue
import select
import socket
import sys
import threading
import time
import traceback
from typing import Any, Deque, Optional, Tuple

from ..exitcodes import EXIT_MAX_INSNS
from .packets import Event, PacketReader, frame
from .stub import PACKET_SIZE, Stub

READ_SLACK = 1024  # bytes tolerated beyond PacketSize before a packet is refused
# While a client is attached: with N busy vCPU threads, any other thread waits about N times the
# GIL switch interval (5 ms by default) each time it wants the GIL, several times per packet.
# 0.5 ms brings a packet round trip from ~50-100 ms to ~5 ms without costing guest MIPS.
GIL_SWITCH_INTERVAL = 0.0005
BUSY_GRACE = 1.0  # seconds a new client waits for the previous connection to finish closing


class Connection:
    """One client: socket output and the session loop that feeds the stub."""

    def __init__(self, server: GdbServer, sock: socket.socket) -> None:
        self.server = server
        self.sock = sock
        self.stub = Stub(server.machine, self, PACKET_SIZE)
        self.last_sent = b""
        self.closed = False
        self.exit_done: Optional[threading.Event] = None
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()  # from other threads
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_w.setblocking(False)
        self._parser = PacketReader(PACKET_SIZE + READ_SLACK)
        self._wire_events: Deque[Event] = collections.deque()
        self._eof = False
        self._ack_due = False

    # ---- Output (session thread only) -------------------------------------------------------
    def _write(self, raw: bytes) -> None:
        if self._ack_due:  # the '+' for the packet being handled travels with the first reply bytes
            raw = b"+" + raw
            self._ack_due = False
        if self.closed or not raw:
            return
        try:
            self.sock.sendall(raw)
        except OSError:
            self.closed = True
            self._eof = True

    def send_packet(self, data: bytes) -> None:
        raw = frame(data)
        self.last_sent = raw
        self._write(raw)

    def send_notification(self, data: bytes) -> None:
        self._write(frame(data, notification=True))

    # ---- input ---------------------------------------------------------------------------
    def post(self, item: Tuple[Any, ...]) -> None:
        """Hand an event to the session thread (callable from any thread, never blocks)."""
        self._inbox.put(item)
        try:
            self._wake_w.send(b"!")
        except OSError:
            pass  # the wake-up pipe is full (a wake-up is pending anyway) or closed

    def _next(self, timeout: Optional[float] = None) -> Optional[Tuple[Any, ...]]:
        """The next wire event or posted event; ("eof",) at the end; None on timeout.

        The session thread reads the socket itself (no reader thread): under a busy guest every
        thread hand-over costs a wait for the GIL, so one hop per packet matters."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self._wire_events:
                return ("wire", self._wire_events.popleft())
            try:
                return self._inbox.get_nowait()
            except queue.Empty:
                pass
            if self._eof:
                return ("eof",)
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return None
            try:
                ready, _, _ = select.select([self.sock, self._wake_r], [], [], remaining)
            except (OSError, ValueError):
                self._eof = True
                continue
            if self._wake_r in ready:
                try:
                    self._wake_r.recv(4096)
                except OSError:
                    pass
            if self.sock in ready:
                try:
                    chunk = self.sock.recv(65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    self._eof = True
                else:
                    self._wire_events.extend(self._parser.feed(chunk))

    # ---- session loop ----------------------------------------------------------------------
    def serve(self) -> None:
        previous = sys.getswitchinterval()
        if previous > GIL_SWITCH_INTERVAL:
            sys.setswitchinterval(GIL_SWITCH_INTERVAL)
        try:
            while not self.closed:
                item = self._next()
                assert item is not None
                kind = item[0]
                if kind == "eof":
                    break
                if kind == "wire":
                    self._wire(item[1])
                elif kind == "debug":
                    self._guard(self.stub.execution.on_debug_stop, item[1], item[2])
                elif kind == "exit":
                    self._guard(self.stub.execution.on_exit, item[1])
                    self.exit_done = item[2]
                    self._linger()
                    break
                if self.stub.closing:
                    break
        finally:
            self._close()
            if sys.getswitchinterval() == GIL_SWITCH_INTERVAL:
                sys.setswitchinterval(previous)

    def _wire(self, ev: Event) -> None:
        stub = self.stub
        if ev.kind == "packet":
            self._ack_due = not stub.no_ack
            reply = self._guard(stub.handle, ev.data, default=b"E7f")
            if reply is not None:
                self.send_packet(reply)
            self._write(b"")  # the ack alone, if nothing was sent
            self._guard(stub.run_after_reply)
        elif ev.kind in ("bad_checksum", "overflow"):
            if not stub.no_ack:
                self._write(b"-")
        elif ev.kind == "nack":
            if self.last_sent:
                self._write(self.last_sent)
        elif ev.kind == "interrupt":
            self._guard(stub.execution.interrupt)
            self._guard(stub.run_after_reply)

    def _guard(self, fn: Any, *args: Any, default: Any = None) -> Any:
        """Run a stub entry point; a bug in it is reported on stderr, never fatal."""
        try:
            return fn(*args)
        except Exception as e:
            print(f"tuiemu: gdb stub: internal error: {type(e).__name__}: {e}", file=sys.stderr)
            if os.environ.get("TUIEMU_DEBUG"):
                traceback.print_exc()
            return default

    def _linger(self, timeout: float = 1.0) -> None:
        """After W: give gdb a moment to acknowledge or hang up before closing."""
        deadline = time.monotonic() + timeout
        while True:
            item = self._next(deadline - time.monotonic())
            if item is None or item[0] == "eof":
                return
            if item[0] == "wire" and item[1].kind == "ack":
                return
            if item[0] == "wire" and item[1].kind == "packet":
                self._wire(item[1])  # e.g. vStopped after a %Stop:W notification

    def _close(self) -> None:
        stub = self.stub
        if not stub.closing and not stub.killed:
            self._guard(stub.disconnected)
            self._drain()
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self._wake_r.close()
        self._wake_w.close()
        if self.exit_done is not None:
            self.exit_done.set()

    def _drain(self) -> None:
        """Stops that raced with the disconnect: vCPUs gdb thought were running run on."""
        ex = self.stub.execution
        while True:
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                break
            if item[0] == "debug" and item[1].index in ex.resumed:
                rc = self.server.machine.runctl
                rc.forget_hit(item[1])
                rc.resume([item[1]])
            elif item[0] == "exit":
                item[2].set()


class GdbServer:
    def __init__(self, machine: Any, host: str = "127.0.0.1", port: int = 1234) -> None:
        self.machine = machine
        self.host = host
        self.port = port
        self.sock: Optional[socket.socket] = None
        self.conn: Optional[Connection] = None
        self._lock = threading.Lock()
        self._thread: Optional[threading.Thread] = None
        self._stopping = False
        self._idle = threading.Event()
        self._idle.set()
        machine.runctl.listeners.append(self._on_debug_stop)

    def start(self) -> None:
        """Bind and listen (raises OSError), then accept clients in a daemon thread."""
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
            sock.listen(4)
        except OSError:
            sock.close()
            raise
        self.sock = sock
        self.port = sock.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, name="gdb-server", daemon=True)
        self._thread.start()

    def _accept_loop(self) -> None:
        assert self.sock is not None
        while not self._stopping:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            self._idle.wait(BUSY_GRACE)  # a client that just hung up may still be closing
            with self._lock:
                busy = self.conn is not None
                if not busy:
                    self.conn = Connection(self, client)
                    conn = self.conn
                    self._idle.clear()
            if busy or (self.machine.finished and self.machine.exit_code is not None):
                client.close()  # one client at a time; none once the run is over
                continue
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._serve, args=(conn,), name="gdb-session", daemon=True).start()

    def _serve(self, conn: Connection) -> None:
        try:
            conn.serve()
        finally:
            with self._lock:
                if self.conn is conn:
                    self.conn = None
                    self._idle.set()

    def _on_debug_stop(self, v: Any, reason: dict) -> None:
        """Run-control listener (a vCPU's thread, or another client's): hand the stop to the
        session. The stub's own holds are its business already."""
        if reason.get("by") == "gdb":
            return
        with self._lock:
            conn = self.conn
        if conn is not None:
            conn.post(("debug", v, dict(reason)))

    def notify_exit(self, code: Optional[int], timeout: float = 2.0) -> None:
        """The run ended: tell a connected gdb (``W``), wait briefly, close; stop listening."""
        code = EXIT_MAX_INSNS if code is None else code
        with self._lock:
            conn = self.conn
        if conn is not None and not conn.stub.killed:
            done = threading.Event()
            conn.post(("exit", code, done))
            done.wait(timeout)
        self.close()

    def close(self) -> None:
        self._stopping = True
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
