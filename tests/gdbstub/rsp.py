"""A minimal raw GDB remote protocol client, and starting tuiemu with the stub, for the tests."""
from __future__ import annotations

import os
import re
import select
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Optional, Sequence

REPO = Path(__file__).resolve().parents[2]
GUESTS = Path(__file__).resolve().parent / "guests"
SMP_DEBUG = GUESTS / "smp_debug.elf"


class Emulator:
    """``python -m tuiemu run ELF ... --gdb 127.0.0.1:0``; the chosen port is read from stderr."""

    def __init__(self, elf: Path, *args: str, paused: bool = True, timeout: float = 20.0) -> None:
        cmd = [sys.executable, "-m", "tuiemu", "run", str(elf), "--gdb", "127.0.0.1:0", *args]
        if paused:
            cmd.append("-S")
        self.proc = subprocess.Popen(cmd, cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.stderr_head = b""
        deadline = time.monotonic() + timeout
        assert self.proc.stderr is not None
        fd = self.proc.stderr.fileno()
        while b"waiting for gdb" not in self.stderr_head and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            self.stderr_head += chunk
        m = re.search(rb"waiting for gdb on \S+:(\d+)", self.stderr_head)
        if m is None:
            self.kill()
            raise RuntimeError(f"tuiemu did not start its gdb stub: {self.stderr_head!r}")
        self.port = int(m.group(1))
        # The CLI prints the port, then applies -S: give it a moment so a fast client does not
        # see the vCPUs before they are stopped (see the report: cli.py should stop them first).
        time.sleep(0.15)

    def wait(self, timeout: float = 20.0) -> int:
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def output(self) -> str:
        """stderr after exit (the part not read while starting)."""
        assert self.proc.stderr is not None
        rest = self.proc.stderr.read() if self.proc.poll() is not None else b""
        return (self.stderr_head + rest).decode(errors="replace")

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()


def checksum(data: bytes) -> int:
    return sum(data) & 0xFF


def frame(data: bytes) -> bytes:
    return b"$" + data + b"#%02x" % checksum(data)


def escape(data: bytes) -> bytes:
    out = bytearray()
    for b in data:
        if b in b"$#}*":
            out += bytes((0x7D, b ^ 0x20))
        else:
            out.append(b)
    return bytes(out)


class RawClient:
    """Speaks the protocol over a socket; ``ack`` mode by default; keeps notifications aside."""

    def __init__(self, port: int, timeout: float = 30.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.buf = b""
        self.notifications: List[bytes] = []
        self.acks: List[bytes] = []
        self.ack_mode = True

    def close(self) -> None:
        self.sock.close()

    def send_raw(self, raw: bytes) -> None:
        self.sock.sendall(raw)

    def send(self, data: bytes) -> None:
        self.sock.sendall(frame(data))

    def _fill(self, deadline: float) -> bool:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return False
        if not chunk:
            raise ConnectionError("stub closed the connection")
        self.buf += chunk
        return True

    def read_packet(self, timeout: Optional[float] = None) -> bytes:
        """The next ``$`` packet's (unescaped) data; acks and notifications are recorded on the way."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            while self.buf[:1] in (b"+", b"-"):
                self.acks.append(self.buf[:1])
                self.buf = self.buf[1:]
            m = re.match(rb"([$%])([^#]*)#([0-9a-fA-F]{2})", self.buf, re.S)
            if m:
                self.buf = self.buf[m.end():]
                data = m.group(2)
                assert int(m.group(3), 16) == checksum(data), f"bad checksum from the stub: {m.group(0)!r}"
                data = re.sub(rb"}(.)", lambda mm: bytes((mm.group(1)[0] ^ 0x20,)), data, flags=re.S)
                if m.group(1) == b"%":
                    self.notifications.append(data)
                    continue
                if self.ack_mode:
                    self.sock.sendall(b"+")
                return data
            if self.buf and self.buf[:1] not in (b"$", b"%", b"+", b"-"):
                raise AssertionError(f"unexpected bytes from the stub: {self.buf[:40]!r}")
            if not self._fill(deadline):
                raise TimeoutError(f"no packet from the stub (buffer {self.buf[:60]!r})")

    def request(self, data: bytes, timeout: Optional[float] = None) -> bytes:
        """Send a packet and return the reply, skipping ``O`` console packets."""
        self.send(data)
        while True:
            reply = self.read_packet(timeout)
            if not (reply.startswith(b"O") and reply != b"OK" and len(reply) % 2 == 1):
                return reply

    def monitor(self, command: str, timeout: Optional[float] = None) -> str:
        self.send(b"qRcmd," + command.encode().hex().encode())
        text = ""
        while True:
            reply = self.read_packet(timeout)
            if reply.startswith(b"O") and reply != b"OK":
                text += bytes.fromhex(reply[1:].decode()).decode()
            else:
                assert reply == b"OK", reply
                return text

    def poll(self, seconds: float = 0.2) -> List[bytes]:
        """Read for ``seconds``; collect notifications; return any ``$`` packets that arrived."""
        deadline = time.monotonic() + seconds
        packets = []
        while True:
            try:
                packets.append(self.read_packet(timeout=max(0.0, deadline - time.monotonic())))
            except TimeoutError:
                return packets

    def wait_notification(self, prefix: bytes, timeout: float = 20.0) -> bytes:
        """The first notification (so far or within ``timeout``) starting with ``prefix``."""
        deadline = time.monotonic() + timeout
        while True:
            for n in self.notifications:
                if n.startswith(prefix):
                    return n
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {prefix!r} notification; got {self.notifications}")
            try:
                assert self.poll(0.1) == []
            except ConnectionError:  # the stub may hang up after its last notification
                if not any(n.startswith(prefix) for n in self.notifications):
                    raise

    def drain(self, seconds: float = 0.2) -> bytes:
        """Whatever arrives within ``seconds`` (raw)."""
        deadline = time.monotonic() + seconds
        try:
            while self._fill(deadline):
                pass
        except ConnectionError:
            pass
        data, self.buf = self.buf, b""
        return data


def stop_thread(reply: bytes) -> int:
    m = re.search(rb"thread:([0-9a-f]+);", reply)
    assert m, reply
    return int(m.group(1), 16)


def registers(reply: bytes) -> Sequence[int]:
    raw = bytes.fromhex(reply.decode())
    return [int.from_bytes(raw[i:i + 4], "little") for i in range(0, len(raw), 4)]
