"""Compiled code of generated block sources, and what emitting a block produced, kept across runs.

``compile()`` is most of what translating a block costs (300-700 us on CPython), and its result
depends on nothing but the source text and the interpreter. So the code is kept, keyed by a hash
of the source, in a SQLite file that every run on the machine shares (one file per interpreter and
bytecode version): a block seen by an earlier run costs a hash, one indexed read and
``marshal.loads``, tens of microseconds. A cached block cannot differ from a compiled one: same
source, same code.

Emitting the source (decoding, the semantic handlers) is most of the rest, and it depends only on
the guest code the block is made of, its PC, TB flags and length limit, and the emitter itself. So
the translator also keeps what it emitted (``remember``), keyed by a hash of the PC, flags, limit
and tuiemu's own sources (``EMITTER``: a changed emitter never meets an older entry), each version
checked by a hash of the guest code it was made of; a block found again (``recall``, by a later
run or by this one after its code was loaded again) skips the emitter too. Its constants (helper
functions, tables) are kept by reference, as the module and name they have in tuiemu (``refer``),
so the block finds the very same objects again.

The file lives in ``$TUIEMU_CODE_CACHE`` (``off`` turns the cache off), else
``$XDG_CACHE_HOME/tuiemu`` or ``~/.cache/tuiemu``. A process has one cache per directory, shared by
its machines and vCPU threads (a lock serialises the connection); new code is written in batches,
and at exit. The file holds at most MAX_ENTRIES blocks: on opening a fuller one, the older half
goes. A file that cannot be opened, read or written costs a warning and the run goes on compiling.
"""
from __future__ import annotations

import atexit
import hashlib
import importlib
import importlib.util
import marshal
import os
import sqlite3
import sys
import threading
import zlib
from pathlib import Path
from types import CodeType
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

MAX_ENTRIES = 120_000  # about 115 MB: a Linux boot's blocks and then some
BATCH = 256            # new entries written together
FILE = f"code3-{sys.implementation.cache_tag}-{importlib.util.MAGIC_NUMBER.hex()}.sqlite3"
# Raw deflate with an 8 KiB window and less state: a block's code (1-3 KB) compresses as well as
# with zlib's defaults, in about half the time.
WBITS, MEMLEVEL = -13, 5
# an emitted block's versions under one key, each with its code
_VERSIONS = ("SELECT b.check_, b.source_key, b.entry, c.code FROM blocks AS b "
             "LEFT JOIN code AS c ON c.key = b.source_key WHERE b.key = ?")


def _pack(obj: Any) -> bytes:
    c = zlib.compressobj(1, zlib.DEFLATED, WBITS, MEMLEVEL)
    return c.compress(marshal.dumps(obj)) + c.flush()


def _unpack(blob: bytes) -> Any:
    return marshal.loads(zlib.decompress(blob, WBITS))


def _package_hash() -> bytes:
    """A hash of tuiemu's own sources: part of every emitted block's key."""
    h = hashlib.blake2b(digest_size=16)
    root = Path(__file__).resolve().parent.parent
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return h.digest()


EMITTER = _package_hash()


def default_directory() -> Optional[Path]:
    """Where the cache lives, or None when ``TUIEMU_CODE_CACHE=off``."""
    env = os.environ.get("TUIEMU_CODE_CACHE")
    if env is not None:
        return None if env.lower() in ("off", "0", "no", "") else Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tuiemu"


class CodeCache:
    """Code by source hash, and emitted blocks by their key: batches not yet written, then the
    file (``directory`` None: no file)."""

    def __init__(self, directory: Optional[Path]) -> None:
        self.path = directory / FILE if directory is not None else None
        self.lock = threading.Lock()
        self.db: Optional[sqlite3.Connection] = None
        self.opened = False
        self.pending: Dict[bytes, Tuple[CodeType, bytes]] = {}
        self.pending_blocks: Dict[bytes, List[Tuple[bytes, bytes, Any, bytes]]] = {}  # key -> versions

    @staticmethod
    def source_key(source: str) -> bytes:
        return hashlib.blake2b(source.encode(), digest_size=20).digest()

    def compile(self, source: str, name: str, key: Optional[bytes] = None) -> Tuple[CodeType, bool]:
        """The code of ``source`` (a module defining one function; ``key``: its ``source_key``),
        and whether the cache had it."""
        if key is None:
            key = self.source_key(source)
        with self.lock:
            code = self._lookup(key)
        if code is not None:
            return code, True
        code = compile(source, name, "exec")
        if self.path is not None:  # else nothing is written: spare the serialising
            blob = _pack(code)
            with self.lock:
                if self.path is not None:  # the file may have failed meanwhile (_give_up)
                    self.pending[key] = (code, blob)
                    if len(self.pending) >= BATCH:
                        self._write()
        return code, False

    def remember(self, key: bytes, check: bytes, source_key: bytes, entry: Any) -> None:
        """Keep ``entry`` (what emitting a block produced, in types ``marshal`` writes; its code
        compiled under ``source_key``) under ``key``, as the version whose guest code hashes to
        ``check`` (a key may have several: other code at the same address)."""
        if self.path is None:
            return
        blob = marshal.dumps(entry)  # a few hundred bytes: not worth compressing
        with self.lock:
            if self.path is not None:
                self.pending_blocks.setdefault(key, []).append((check, source_key, entry, blob))
                if len(self.pending_blocks) >= BATCH:
                    self._write()

    def recall(self, key: bytes, check_of: Callable[[Any], bytes]) -> Optional[Tuple[Any, CodeType]]:
        """The entry ``remember`` kept under ``key`` whose check is ``check_of(entry)`` (the hash
        of the guest code it names, as that code is now), and its code; else None."""
        with self.lock:
            try:
                for check, source_key, entry, code_blob in self._versions(key):
                    if check_of(entry) == check:
                        code = _unpack(code_blob) if code_blob is not None else self._lookup(source_key)
                        return None if code is None else (entry, code)
            except (sqlite3.Error, ValueError, EOFError, TypeError, zlib.error) as e:
                self._give_up(e)
        return None

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
            return None if row is None else _unpack(row[0])
        except (sqlite3.Error, ValueError, EOFError, TypeError, zlib.error) as e:
            self._give_up(e)
            return None

    def _versions(self, key: bytes) -> Iterator[Tuple[bytes, bytes, Any, Optional[bytes]]]:
        """(check, source key, entry, compressed code or None) of each version kept under ``key``:
        the unwritten ones, then the file's, with their code in the same query."""
        for check, source_key, entry, _ in self.pending_blocks.get(key, ()):
            yield check, source_key, entry, None
        db = self._connection()
        if db is not None:
            for check, source_key, blob, code_blob in _all(db, _VERSIONS, (key,)):
                yield check, source_key, marshal.loads(blob), code_blob

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
                    _one(db, "CREATE TABLE IF NOT EXISTS blocks (key BLOB NOT NULL, check_ BLOB NOT NULL,"
                             " source_key BLOB NOT NULL, entry BLOB NOT NULL, PRIMARY KEY (key, check_))")
                    self._trim(db, "code")
                    self._trim(db, "blocks")
                    self.db = db
                except (OSError, sqlite3.Error) as e:
                    self._give_up(e)
        return self.db

    @staticmethod
    def _trim(db: sqlite3.Connection, table: str) -> None:
        row = _one(db, f"SELECT count(*) FROM {table}")
        count = row[0] if row else 0
        if count > MAX_ENTRIES:
            _one(db, f"DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} ORDER BY rowid LIMIT ?)",
                 (count - MAX_ENTRIES // 2,))

    def _write(self) -> None:
        if not self.pending and not self.pending_blocks:
            return
        code_rows = [(k, blob) for k, (_, blob) in self.pending.items()]
        block_rows = [(k, check, sk, blob) for k, versions in self.pending_blocks.items()
                      for check, sk, _, blob in versions]
        self.pending.clear()
        self.pending_blocks.clear()
        db = self._connection()
        if db is None:
            return
        try:
            _one(db, "BEGIN")
            db.executemany("INSERT OR IGNORE INTO code (key, code) VALUES (?, ?)", code_rows).close()
            db.executemany("INSERT OR IGNORE INTO blocks (key, check_, source_key, entry) VALUES (?, ?, ?, ?)",
                           block_rows).close()
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
        self.pending_blocks.clear()


_names: Dict[int, Tuple[str, str]] = {}  # id of a module-level object of tuiemu -> (module, name)
_indexed = [0]  # how many modules were loaded when _names was built


def refer(consts: Dict[str, Any]) -> Optional[List[Tuple[str, str, str]]]:
    """``consts`` as (name, module, attribute) references to objects at module level in tuiemu,
    or None if one of them is not such an object."""
    out = []
    for name, value in consts.items():
        where = _names.get(id(value))
        if where is None or _held(*where) is not value:
            if len(sys.modules) != _indexed[0]:  # a module loaded since may hold it
                _index()
                where = _names.get(id(value))
            if where is None or _held(*where) is not value:
                return None
        out.append((name, *where))
    return out


def _held(module: str, attr: str) -> Any:
    """What ``module.attr`` is now (``_names`` may be stale), without importing anything."""
    return getattr(sys.modules.get(module), attr, None)


def resolve(refs: List[Tuple[str, str, str]]) -> Dict[str, Any]:
    """The constants ``refer`` described (importing their modules if need be)."""
    return {name: _resolve(module, attr) for name, module, attr in refs}


def _resolve(module: str, attr: str) -> Any:
    # import_module, not sys.modules: a module another vCPU thread is importing is in sys.modules
    # before it is complete, and import_module waits for it
    return getattr(importlib.import_module(module), attr)


def _index() -> None:
    _indexed[0] = len(sys.modules)
    _names.clear()
    for modname, mod in list(sys.modules.items()):
        if modname.startswith("tuiemu.") and mod is not None:
            for attr, value in list(vars(mod).items()):
                if not attr.startswith("__"):
                    _names.setdefault(id(value), (modname, attr))


def _all(db: sqlite3.Connection, query: str, args: Tuple = ()) -> List[Tuple]:
    """Every row of ``query``, the cursor closed (see ``_one``)."""
    cur = db.execute(query, args)
    try:
        return cur.fetchall()
    finally:
        cur.close()


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
