"""Instrumented engine locks: every acquisition is counted, contention and times measured.

The statistics are updated only by the thread that holds (or just obtained) the
lock, so they need no lock of their own; readers take a snapshot.

Lock order (a thread holding one may only take those to its right):

    exclusive monitor -> I/O -> TB -> code pages -> a vCPU's wake lock

* exclusive (mmu/exclusive.py): STREX/SWP compare-and-store; the access may be
  MMIO (I/O lock) or hit a code page (TB lock, to invalidate).
* I/O (mmu/address_space.py): every MMIO access; a device may raise an
  interrupt (kicks a vCPU: wake lock) or write RAM by DMA (TB lock).
* TB (translate/tbcache.py): insertion, chaining, invalidation; takes the
  code-page tracker's lock to unprotect pages.
* safe work (core/safework.py) is never held while work runs or while any
  other engine lock is taken: the world is stopped by flags and waiting.

Contention under the GIL (a performance matter, never a correctness one).
CPython switches threads only at a few points: a function's entry, a backward
jump, after a call, and inside blocking calls. A thread switched out while it
holds a host lock makes every thread that wants the lock block in the kernel;
the one that gets it owns it while it waits for the GIL, so the lock stays held
and the next ones pile up behind (a lock convoy: 4 vCPUs on a contended STREX
once waited 16 s in an 8 s run). Hot paths therefore hold a lock only around a
body with none of those points: ``with lock.raw:`` (taking it calls no Python
code, and BEFORE_WITH does not check for a switch) around subscripts,
comparisons and forward branches, no call, not even a method of a dict. Under
the GIL nobody ever finds such a lock held by a thread that cannot run. The
statistics of such a hold are recorded after it, with ``account``.

What is atomic without a lock, and why it stays so on a free-threaded build:
a single operation on a dict, set or deque (``get``, ``pop``, ``add``,
``discard``, ``in``, ``append``, ``popleft``) is one C call, atomic under the
GIL and under the per-object locks of free-threaded CPython; so is storing a
reference in an attribute (a vCPU's ``exit_request``, ``event_reg``,
``run_state``). Read-modify-write sequences (``n += 1``, check-then-act on a
container) are not: counters are written only by the thread that owns them
(statistics, a vCPU's counters) and everything else takes a lock.
"""
from __future__ import annotations

import collections
import threading
import time
from _thread import LockType
from dataclasses import asdict, dataclass
from typing import Deque, Dict, Optional, Set, Tuple

_now = time.perf_counter_ns

Span = Tuple[str, int, int, int]  # (thread, acquire start ns, wait ns, hold ns)


@dataclass
class LockStats:
    acquired: int = 0
    contended: int = 0
    wait_ns: int = 0
    max_wait_ns: int = 0
    hold_ns: int = 0

    def as_dict(self) -> Dict[str, int]:
        return asdict(self)


_local = threading.local()


def _thread_key() -> str:
    """The holder's name in the statistics: its vCPU (cpu0...) or its thread's name. Cached per
    thread: looking the thread up costs more than the lock itself."""
    key = getattr(_local, "key", None)
    if key is None:
        t = threading.current_thread()
        key = _local.key = getattr(t, "vcpu_name", None) or t.name
    return key


class InstrumentedLock:
    """A (optionally recursive) lock that keeps per-thread acquisition statistics."""

    def __init__(self, name: str, recursive: bool = False) -> None:
        self.name = name
        # The host lock itself, for a hold with no switch point inside (see the module docstring).
        self.raw = threading.RLock() if recursive else threading.Lock()
        self._depth = 0
        self._since = 0
        self._wait = 0
        self.per_thread: Dict[str, LockStats] = {}
        # Who holds it and who waits, right now (for the dashboard; read without the lock, so a
        # reader may see a value one update old). Set operations are atomic, a counter would not be.
        self.holder: Optional[str] = None
        self.waiters: Set[str] = set()
        # When tracing: one Span per outermost hold, appended after the release (a deque append is
        # atomic, so the holder never waits on the reader).
        self.spans: Optional[Deque[Span]] = None

    @property
    def plain(self) -> LockType:
        """``raw`` of a lock that is not recursive, typed so (only it has ``locked()``)."""
        assert isinstance(self.raw, LockType), f"{self.name} is recursive"
        return self.raw

    def record_spans(self, limit: int = 1 << 16) -> Deque[Span]:
        self.spans = collections.deque(maxlen=limit)
        return self.spans

    def acquire(self) -> None:
        lock = self.raw
        if lock.acquire(False):
            wait = 0
            contended = False
        else:
            t0 = _now()
            me = _thread_key()
            self.waiters.add(me)
            lock.acquire()
            self.waiters.discard(me)
            wait = _now() - t0
            contended = True
        self._depth += 1
        if self._depth == 1:
            self._since = _now()
            self._wait = wait
            key = _thread_key()
            self.holder = key
            self._count(key, contended, wait)

    def release(self) -> None:
        self._depth -= 1
        if self._depth:
            self.raw.release()
            return
        key = _thread_key()
        since, wait = self._since, self._wait
        hold = _now() - since
        st = self.per_thread.get(key)
        if st is not None:
            st.hold_ns += hold
        self.holder = None
        self.raw.release()
        spans = self.spans
        if spans is not None:
            spans.append((key, since - wait, wait, hold))

    def _count(self, key: str, contended: bool, wait: int) -> LockStats:
        """One acquisition by thread ``key``, ``wait`` ns of it waiting if ``contended``."""
        st = self.per_thread.get(key)
        if st is None:
            st = self.per_thread.setdefault(key, LockStats())
        st.acquired += 1
        if contended:
            st.contended += 1
            st.wait_ns += wait
            if wait > st.max_wait_ns:
                st.max_wait_ns = wait
        return st

    def account(self, start: int, contended: bool) -> None:
        """Record a hold made directly on ``raw`` and already released: ``start`` is ``_now()``
        before asking, ``contended`` whether it was held then (``raw.locked()``). Timing the
        acquisition would be a call inside the hold, so a contended hold counts whole as wait,
        an uncontended one whole as hold."""
        took = _now() - start
        key = _thread_key()
        st = self._count(key, contended, took)
        if not contended:
            st.hold_ns += took
        spans = self.spans
        if spans is not None:
            spans.append((key, start, took if contended else 0, 0 if contended else took))

    __enter__ = acquire

    def __exit__(self, *exc: object) -> None:
        self.release()

    def totals(self, thread: Optional[str] = None) -> Dict[str, int]:
        out = LockStats()
        for key, st in list(self.per_thread.items()):
            if thread is not None and key != thread:
                continue
            out.acquired += st.acquired
            out.contended += st.contended
            out.wait_ns += st.wait_ns
            out.hold_ns += st.hold_ns
            out.max_wait_ns = max(out.max_wait_ns, st.max_wait_ns)
        return out.as_dict()
