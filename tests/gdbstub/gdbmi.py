"""Driving ``gdb-multiarch`` through pygdbmi (GDB/MI 3) for the stub tests; every wait is bounded."""
from __future__ import annotations

import itertools
import shutil
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

GDB = "gdb-multiarch"


def need_gdb() -> None:
    """gdb-multiarch is optional (README); pygdbmi is a dev dependency, so its absence is an error."""
    if shutil.which(GDB) is None:
        pytest.skip("gdb-multiarch is not installed")


class GdbError(AssertionError):
    pass


class Gdb:
    """One gdb process. ``mi`` runs an MI command and returns its result record; ``cli`` runs a
    console command and returns its console output; ``wait_stopped`` waits for ``*stopped``."""

    def __init__(self, elf: Path, non_stop: bool = False) -> None:
        from pygdbmi.gdbcontroller import GdbController

        need_gdb()
        self.ctl = GdbController(command=[GDB, "--interpreter=mi3", "-q", "-nx", str(elf)],
                                 time_to_check_for_additional_output_sec=0.02)
        self.tokens = itertools.count(100)
        self.records: List[Dict[str, Any]] = []  # async records not consumed yet
        self.console: List[str] = []
        self.mi("-gdb-set pagination off")
        self.mi("-gdb-set confirm off")
        self.mi("-gdb-set mi-async on")  # commands (-exec-interrupt) while the target runs
        if non_stop:
            self.mi("-gdb-set non-stop on")

    def close(self) -> None:
        try:
            self.ctl.exit()
        except Exception:
            pass

    def __enter__(self) -> Gdb:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- reading ---------------------------------------------------------------------
    def _pump(self, timeout: float = 0.1) -> None:
        for r in self.ctl.get_gdb_response(timeout_sec=timeout, raise_error_on_timeout=False):
            if r["type"] in ("console", "target") and r.get("payload"):
                self.console.append(r["payload"])
            self.records.append(r)

    def _take(self, pred: Any, timeout: float, what: str) -> Dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for i, r in enumerate(self.records):
                if pred(r):
                    del self.records[: i + 1]
                    return r
            if time.monotonic() > deadline:
                raise GdbError(f"timed out after {timeout}s waiting for {what}; recent: {self.records[-8:]}")
            self._pump()

    # ---- commands --------------------------------------------------------------------
    def mi(self, command: str, timeout: float = 20.0, ok: bool = True) -> Dict[str, Any]:
        token = next(self.tokens)
        self.ctl.write(f"{token}{command}", read_response=False)
        rec = self._take(lambda r: r["type"] == "result" and r.get("token") == token, timeout,
                         f"the result of {command!r}")
        if ok and rec["message"] == "error":
            raise GdbError(f"{command!r} failed: {rec['payload']}")
        return rec

    def cli(self, command: str, timeout: float = 20.0, ok: bool = True) -> str:
        """A console command; returns the console text it printed."""
        self.console.clear()
        escaped = command.replace("\\", "\\\\").replace('"', '\\"')
        self.mi(f'-interpreter-exec console "{escaped}"', timeout, ok)
        self._pump(0.05)
        return "".join(self.console)

    def wait_stopped(self, timeout: float = 30.0, thread: Optional[str] = None) -> Dict[str, Any]:
        """The payload of the next ``*stopped`` record (for ``thread`` only, if given)."""
        rec = self._take(lambda r: r["type"] == "notify" and r["message"] == "stopped"
                         and (thread is None or r["payload"].get("thread-id") == thread),
                         timeout, "*stopped")
        return rec["payload"]

    def wait_running(self, timeout: float = 10.0) -> None:
        self._take(lambda r: r["type"] == "notify" and r["message"] == "running", timeout, "*running")

    def connect(self, port: int) -> Dict[str, Any]:
        self.mi(f"-target-select remote 127.0.0.1:{port}", timeout=30)
        return self.records[-1] if self.records else {}

    def value(self, expr: str, thread: Optional[int] = None) -> str:
        opt = f"--thread {thread} " if thread is not None else ""
        return self.mi(f'-data-evaluate-expression {opt}"{expr}"')["payload"]["value"]

    def int_value(self, expr: str, thread: Optional[int] = None) -> int:
        text = self.value(expr, thread).split()[0]
        return int(text, 0)

    def threads(self) -> List[Dict[str, Any]]:
        return self.mi("-thread-info")["payload"]["threads"]
