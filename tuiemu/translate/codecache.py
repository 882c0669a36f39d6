"""Compiled code of generated block sources, kept across runs.

``compile()`` is most of what translating a block costs (300-700 us on CPython), and its result
depends on nothing but the source text and the interpreter. So the code is kept, keyed by a hash
of the source, in a SQLite file that every run on the machine shares (one file per interpreter and
bytecode version): a block seen by an earlier run costs a hash, one indexed read and
``marshal.loads``, tens of microseconds. Nothing else about a block is kept, so a cached block
cannot differ from a compiled one: same source, same code.

The file lives in ``$TUIEMU_CODE_CACHE`` (``off`` turns the cache off), else
``$XDG_CACHE_HOME/tuiemu`` or ``~/.cache/tuiemu``. A process has one cache per directory, shared by
its machines and vCPU threads (a lock serialises the connection); new code is written in batches,
and at exit. The file holds at most MAX_ENTRIES blocks: on opening a fuller one, the older half
goes. A file that cannot be opened, read or written costs a warning and the run goes on compiling.
"""
from __future__ import annotations

import atexit
import hashlib
import importlib.util
import marshal
import os
import sqlite3
import sys
import threading
import zlib
from pathlib import Path
from types import CodeType
from typing import Dict, List, Optional, Tuple

MAX_ENTRIES = 120_000  # about 115 MB: a Linux boot's blocks and then some
BATCH = 256            # new entries written together
FILE = f"code-{sys.implementation.cache_tag}-{importlib.util.MAGIC_NUMBER.hex()}.sqlite3"


def default_directory() -> Optional[Path]:
    """Where the cache lives, or None when ``TUIEMU_CODE_CACHE=off``."""
    env = os.environ.get("TUIEMU_CODE_CACHE")
    if env is not None:
        return None if env.lower() in ("off", "0", "no", "") else Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tuiemu"


class CodeCache:
    """Code by source hash: batches not yet written, then the file (``directory`` None: no file)."""

    def __init__(self, directory: Optional[Path]) -> None:
        self.path = directory / FILE if directory is not None else None
        self.lock = threading.Lock()
        self.db: Optional[sqlite3.Connection] = None
        self.opened = False
        self.pending: Dict[bytes, Tuple[CodeType, bytes]] = {}

    def compile(self, source: str, name: str) -> Tuple[CodeType, bool]:
        """The code of ``source`` (a module defining one function), and whether the cache had it."""
        key = hashlib.blake2b(source.encode(), digest_size=20).digest()
        with self.lock:
            code = self._lookup(key)
        if code is not None:
            return code, True
        code = compile(source, name, "exec")
        if self.path is not None:  # else nothing is written: spare the serialising
            blob = zlib.compress(marshal.dumps(code), 1)
            with self.lock:
                if self.path is not None:  # the file may have failed meanwhile (_give_up)
                    self.pending[key] = (code, blob)
                    if len(self.pending) >= BATCH:
                        self._write()
        return code, False

    def flush(self) -> None:
        """Write what is pending (the machine calls it when a run ends; atexit does too)."""
        with self.lock:
            self._write()

    # ---- under the lock ------------------------------------------------------------------------
    def _lookup(self, key: bytes) -> Optional[CodeType]:
        held = self.pending.get(key)
        if held is not None:
            return held[0]
        db = self._connection()
        if db is None:
            return None
        try:
            row = _one(db, "SELECT code FROM code WHERE key = ?", (key,))
            return None if row is None else marshal.loads(zlib.decompress(row[0]))
        except (sqlite3.Error, ValueError, EOFError, TypeError, zlib.error) as e:
            self._give_up(e)
            return None

    def _connection(self) -> Optional[sqlite3.Connection]:
        if not self.opened:
            self.opened = True
            if self.path is not None:
                try:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    db = sqlite3.connect(str(self.path), timeout=10, check_same_thread=False,
                                         isolation_level=None)
                    _one(db, "PRAGMA journal_mode=WAL")
                    _one(db, "PRAGMA synchronous=NORMAL")  # a lost batch is only compiled again
                    _one(db, "CREATE TABLE IF NOT EXISTS code (key BLOB PRIMARY KEY, code BLOB NOT NULL)")
                    self._trim(db)
                    self.db = db
                except (OSError, sqlite3.Error) as e:
                    self._give_up(e)
        return self.db

    @staticmethod
    def _trim(db: sqlite3.Connection) -> None:
        row = _one(db, "SELECT count(*) FROM code")
        count = row[0] if row else 0
        if count > MAX_ENTRIES:
            _one(db, "DELETE FROM code WHERE rowid IN (SELECT rowid FROM code ORDER BY rowid LIMIT ?)",
                 (count - MAX_ENTRIES // 2,))

    def _write(self) -> None:
        if not self.pending:
            return
        rows: List[Tuple[bytes, bytes]] = [(k, blob) for k, (_, blob) in self.pending.items()]
        self.pending.clear()
        db = self._connection()
        if db is None:
            return
        try:
            _one(db, "BEGIN")
            db.executemany("INSERT OR IGNORE INTO code (key, code) VALUES (?, ?)", rows).close()
            _one(db, "COMMIT")
        except sqlite3.Error as e:
            self._give_up(e)

    def _give_up(self, e: Exception) -> None:
        """Run on without the file (the run loses nothing but the speed-up)."""
        print(f"tuiemu: code cache {self.path} unusable ({e}); compiling every block", file=sys.stderr)
        if self.db is not None:
            try:
                self.db.close()
            except sqlite3.Error:
                pass
        self.db, self.path, self.opened = None, None, True
        self.pending.clear()


def _one(db: sqlite3.Connection, query: str, args: Tuple = ()) -> Optional[Tuple]:
    """Run ``query``: its first row, the cursor closed (PyPy's sqlite3 finalises an open one only
    when the garbage collector gets to it, and until then no transaction can commit)."""
    cur = db.execute(query, args)
    try:
        return cur.fetchone()
    finally:
        cur.close()


_shared: Dict[Optional[Path], CodeCache] = {}
_shared_lock = threading.Lock()


def shared(directory: Optional[Path]) -> CodeCache:
    """The process's cache for ``directory`` (None: no file, every block is compiled)."""
    with _shared_lock:
        cache = _shared.get(directory)
        if cache is None:
            cache = _shared[directory] = CodeCache(directory)
            atexit.register(cache.flush)
        return cache
