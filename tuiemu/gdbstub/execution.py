"""Resuming, stepping and stopping vCPUs, and the stop replies that report it.

All-stop: a stop of any vCPU (breakpoint, watchpoint, step, Ctrl-C) halts every
vCPU before the stop reply goes out; ``c``/``s`` and ``vCont`` say which vCPUs
run, which one steps (``vCont;s:2;c`` steps thread 2 while the others run
for at least STEP_SLICE, so stepping through a wait for another core ends;
``vCont;s:2`` steps it with the others held). Only the reported event is kept:
another vCPU that hit a breakpoint or watchpoint at the same time re-executes
the instruction when resumed and reports it then (gdb always steps over the
breakpoint it was told about itself, so resuming never skips an instruction).

Non-stop (``QNonStop:1``): every vCPU stops and resumes on its own; ``vCont``
replies ``OK`` at once and each stop becomes a ``%Stop`` notification, queued
until gdb drains it with ``vStopped``. ``vCont;t:N`` stops one vCPU (reported
with signal 0). A wildcard action (``vCont;c``) leaves alone a vCPU whose stop
gdb has not pulled out of the queue yet: gdb still believes it is running, and
resuming it would report a second stop for it before gdb saw the first (gdb 13
dies on an internal assertion then); gdbserver skips such threads too.

The current threads follow gdb's model of them: an all-stop stop reply makes the
reported vCPU the general (``Hg``) and continue (``Hc``) thread, because gdb
records it so (remote.c ``record_currthread``) and sends no ``Hg`` before its
next ``g``/``m``/``s``; QEMU's stub does the same. A non-stop ``%Stop`` or
``vStopped`` reply changes nothing: there gdb keeps its own record and gdb's
remote.c says the stub must not change the current thread.

Single steps run on the stub's thread with interrupts held off unless
``monitor step-irqs on`` (``RunControl.step_irqs``).
"""
from __future__ import annotations

import collections
import time
from typing import TYPE_CHECKING, Any, Deque, Dict, List, Optional, Set, Tuple

from ..core.runstate import RunState
from ..core.watchpoints import WATCH_KINDS
from .threads import ALL, ANY, format_tid, parse_tid, vcpu_of

if TYPE_CHECKING:
    from .stub import Stub

SIG0, SIGINT, SIGTRAP = 0, 2, 5
HITS = ("breakpoint",) + WATCH_KINDS
NEUTRAL = {"reason": "request", "by": "gdb"}
VCONT_ACTIONS = b"vCont;c;C;s;S;t"
STEP_SLICE = 0.001  # vCont;s:N;c: the others run this long (seconds) after the step


class Execution:
    def __init__(self, stub: Stub) -> None:
        self.stub = stub
        self.m = stub.m
        self.rc = stub.m.runctl
        # vCPUs gdb believes are running (all-stop: all or none, save for scheduler-locking)
        self.resumed: Set[int] = {v.index for v in self.m.vcpus if not self.rc.held(v)}
        self.waiting = False  # all-stop: gdb waits for a stop reply
        # non-stop replies not yet acknowledged by vStopped, with the vCPU each reports (None for W)
        self.pending: Deque[Tuple[Optional[int], bytes]] = collections.deque()
        self.in_flight = False  # a %Stop / '?' sequence is being drained with vStopped
        self.exited = False

    # ---- stop replies --------------------------------------------------------------
    def stop_reply(self, v: Any, reason: Dict[str, Any], signal: Optional[int] = None) -> bytes:
        kind = reason.get("reason")
        if signal is None:
            if kind == "interrupt" or (kind == "pause" and not self.stub.non_stop):
                signal = SIGINT  # as QEMU reports a stop made from its monitor
            elif kind in HITS or kind == "step" or not self.stub.non_stop:
                signal = SIGTRAP
            else:
                signal = SIG0
        out = f"T{signal:02x}"
        if kind in WATCH_KINDS:
            out += f"{kind}:{reason.get('addr', 0):x};"
        elif kind == "breakpoint":
            bp = self.stub.bps.kind_at(v.R[15])
            if bp is not None and bp in self.stub.gdb_features:
                out += f"{bp}:;"
        out += f"thread:{format_tid(v)};core:{v.index:x};"
        for regnum in (13, 14, 15):
            out += f"{regnum:02x}:{_le32hex(v.R[regnum])};"
        out += f"19:{_le32hex(v.state.get_cpsr())};"
        self.stub.last_thread = v
        if not self.stub.non_stop:
            self.stub.select(v)
        return out.encode()

    def _report(self, reply: bytes, v: Optional[Any] = None) -> None:
        """All-stop: send now. Non-stop: queue and notify if nothing is in flight."""
        if not self.stub.non_stop:
            self.stub.out.send_packet(reply)
            return
        self.pending.append((None if v is None else v.index, reply))
        if not self.in_flight:
            self.in_flight = True
            self.stub.out.send_notification(b"Stop:" + reply)

    def _queued(self, v: Any) -> bool:
        """Non-stop: ``v`` has a stop reply gdb has not pulled out with vStopped yet."""
        return any(index == v.index for index, _ in self.pending)

    def cancel_hits(self, addr: int) -> None:
        """gdb removed the breakpoint at ``addr``: stops at it that gdb has not been sent yet are
        taken back and those vCPUs run on (they re-execute the instruction, now without a
        breakpoint), as gdbserver does; gdb would otherwise get a SIGTRAP from nowhere."""
        if not self.stub.non_stop:
            return
        for v in self.m.vcpus:  # hit, but the stop is still on its way to this session
            reason = self.rc.stop_reason(v)
            if v.index in self.resumed and reason and reason.get("reason") == "breakpoint" and v.R[15] == addr:
                self.release([v])
        if not self.pending:
            return
        sent = self.pending.popleft() if self.in_flight else None
        keep: Deque[Tuple[Optional[int], bytes]] = collections.deque()
        for index, reply in self.pending:
            v = self.m.vcpus[index] if index is not None else None
            reason = self.rc.stop_reason(v) if v is not None else None
            if v is not None and reason and reason.get("reason") == "breakpoint" and v.R[15] == addr:
                self.release([v])
            else:
                keep.append((index, reply))
        if sent is not None:
            keep.appendleft(sent)
        self.pending = keep

    # ---- holding and releasing -------------------------------------------------------
    def _halt_all(self, keep: Optional[Any] = None) -> None:
        """Stop every vCPU; all but ``keep`` forget a breakpoint/watchpoint hit (they will redo it)."""
        rc = self.rc
        targets = [v for v in self.m.vcpus if not rc.is_stopped(v)]
        if targets:  # kicking vCPUs that are already held only costs them a wake-up
            rc.stop(targets, reason="halt", by="gdb")
        self.resumed.clear()
        for v in self.m.vcpus:
            if v is not keep and rc.at_hit(v):
                rc.forget_hit(v, NEUTRAL)

    def release(self, vcpus: List[Any]) -> None:
        held = [v for v in vcpus if self.rc.held(v)]
        for v in held:
            self.rc.forget_hit(v, NEUTRAL)  # gdb has stepped over any breakpoint it knows of
        if held:
            self.rc.resume(held)
        self.resumed.update(v.index for v in vcpus)

    def _step(self, v: Any) -> Dict[str, Any]:
        if not self.rc.held(v):
            self.rc.stop([v], reason="halt", by="gdb")
        self.resumed.discard(v.index)
        return self.rc.step(v)

    def _default_thread(self) -> Any:
        """The vCPU to name in a stop that has no vCPU of its own (Ctrl-C, attach)."""
        for v in (self.stub.last_thread, vcpu_of(self.m, self.stub.g_tid)):
            if v is not None and v.run_state is not RunState.OFF:
                return v
        for v in self.m.vcpus:
            if v.run_state is not RunState.OFF:
                return v
        return self.m.vcpus[0]

    # ---- '?' -------------------------------------------------------------------------
    def question(self) -> bytes:
        if self.exited:
            return b"W%02x" % (self.m.exit_code or 0)
        if not self.stub.non_stop:
            self.waiting = False
            if any(not self.rc.held(v) for v in self.m.vcpus):
                self._halt_all()
            self.resumed.clear()
            v = next((v for v in self.m.vcpus if self.rc.at_hit(v)), None)
            v = v or self._default_thread()
            return self.stop_reply(v, {"reason": "attach"})
        # Non-stop: the reply starts a new vStopped sequence. gdb (13 at least) trips an internal
        # assertion (remote.c, wait: !async_event_handler_marked) when more than one thread is
        # reported stopped while it connects, so one held vCPU is reported and the others let go.
        self.pending.clear()
        self.resumed = {v.index for v in self.m.vcpus if not self.rc.held(v)}  # what is true now
        held = [v for v in self.m.vcpus if v.index not in self.resumed]
        if not held:
            self.in_flight = False
            return b"OK"
        first = next((v for v in held if self.rc.at_hit(v)), None)
        first = first or next((v for v in held if v.run_state is not RunState.OFF), held[0])
        self.release([v for v in held if v is not first])
        reason = self.rc.stop_reason(first) or {"reason": "attach"}
        self.pending.append((first.index, self.stop_reply(first, reason)))
        self.in_flight = True
        return self.pending[0][1]

    def vstopped(self) -> bytes:
        if self.pending:
            self.pending.popleft()
        if self.pending:
            return self.pending[0][1]
        self.in_flight = False
        return b"OK"

    # ---- resuming ---------------------------------------------------------------------
    def legacy(self, step: bool, with_signal: bool, args: bytes) -> Optional[bytes]:
        """``c [addr]``, ``C sig[;addr]``, ``s [addr]``, ``S sig[;addr]``: continue every vCPU, or
        step the current thread with the others held. Signals are accepted and ignored."""
        if with_signal:
            sig, _, addr_text = args.partition(b";")
            try:
                int(sig, 16)
            except ValueError:
                return b"E01"
        else:
            addr_text = args
        v = vcpu_of(self.m, self.stub.c_tid) or self.stub.general_vcpu()
        if addr_text:
            if not self.rc.held(v):
                return b"E10"
            try:
                v.R[15] = int(addr_text, 16) & 0xFFFFFFFE
            except ValueError:
                return b"E01"
        if step:
            return self.resume({v.index: "s"}, default=None)
        return self.resume({}, default="c")

    def vcont(self, args: bytes) -> Optional[bytes]:
        """``vCont;ACTION[:TID];...``: the first action naming a thread (or none) applies to it."""
        per: Dict[int, str] = {}
        default: Optional[str] = None
        try:
            for item in args.split(b";")[1:]:
                act, _, tid_text = item.partition(b":")
                if not act or act[:1] not in b"cCsSt":
                    return b"E01"
                if act[:1] in b"CS":
                    int(act[1:3], 16)  # the signal is accepted and ignored (no signals on bare metal)
                a = act[:1].decode().lower()  # C and S act as c and s
                if not tid_text:
                    if default is None:
                        default = a
                    continue
                tid = parse_tid(tid_text)
                if tid in (ALL, ANY):
                    if default is None:
                        default = a
                    continue
                v = vcpu_of(self.m, tid)
                if v is None:
                    return b"E02"
                per.setdefault(v.index, a)
        except ValueError:
            return b"E01"
        if not per and default is None:
            return b"E01"
        return self.resume(per, default)

    def resume(self, per: Dict[int, str], default: Optional[str]) -> Optional[bytes]:
        actions: List[Tuple[Any, str]] = []
        for v in self.m.vcpus:
            a = per.get(v.index, default)
            if a is None:
                continue
            if self.stub.non_stop and v.index not in per and self._queued(v):
                continue  # a wildcard action skips a stop gdb has not pulled yet: it is still reported
            actions.append((v, a))
        if self.stub.non_stop:
            return self._resume_non_stop(actions)
        return self._resume_all_stop(actions)

    def _resume_all_stop(self, actions: List[Tuple[Any, str]]) -> Optional[bytes]:
        steps = [v for v, a in actions if a == "s"]
        conts = [v for v, a in actions if a == "c"]
        if not steps and not conts:
            return b"E01"
        if not steps:
            self.release(conts)
            self.waiting = True
            return None  # the stop reply comes when something stops
        # Step first (alone, so no other thread competes with it for the GIL), then let the
        # others run for a real slice: a thread may be stepping through a wait for them.
        results = [(v, self._step(v)) for v in steps]
        if conts:
            self.release(conts)
            time.sleep(STEP_SLICE)
        v, reason = next(((v, r) for v, r in results if r.get("reason") != "step"), results[0])
        self._halt_all(keep=v)
        return self.stop_reply(v, reason)

    def _resume_non_stop(self, actions: List[Tuple[Any, str]]) -> bytes:
        later: List[Tuple[bytes, Any]] = []
        for v, a in actions:
            running = v.index in self.resumed
            if a == "c" and not running:
                self.release([v])
            elif a == "s" and not running:
                later.append((self.stop_reply(v, self._step(v)), v))
            elif a == "t" and running:
                self.rc.stop([v], reason="halt", by="gdb")
                self.resumed.discard(v.index)
                later.append((self.stop_reply(v, {"reason": "halt"}, SIG0), v))
        def report_all() -> None:
            for reply, v in later:
                self._report(reply, v)
        self.stub.after_reply(report_all)
        return b"OK"

    # ---- asynchronous events ------------------------------------------------------------
    def on_debug_stop(self, v: Any, reason: Dict[str, Any]) -> None:
        """A vCPU stopped on its own (breakpoint, watchpoint) or was held by another client (the
        dashboard's pause, reported with SIGINT as QEMU reports a stop from its monitor)."""
        if v.index not in self.resumed or self.exited or not self.rc.held(v):
            return  # stale: gdb already saw it stop (it redoes the instruction when resumed) or it runs again
        if self.stub.non_stop:
            self.resumed.discard(v.index)
            self._report(self.stop_reply(v, reason), v)
            return
        if not self.waiting:
            return
        self.waiting = False
        self._halt_all(keep=v)
        self._report(self.stop_reply(v, reason))

    def interrupt(self) -> None:
        """Ctrl-C (0x03): all-stop halts everything; non-stop stops one running vCPU."""
        if self.exited:
            return
        if self.stub.non_stop:
            self.ctrl_c_non_stop()
            return
        if not self.waiting:
            return
        self.waiting = False
        v = self._default_thread()
        self._halt_all()
        self._report(self.stop_reply(v, {"reason": "interrupt"}))

    def ctrl_c_non_stop(self) -> bytes:
        running = [v for v in self.m.vcpus if v.index in self.resumed]
        if not running:
            return b"OK"
        v = next((v for v in running if v.run_state is not RunState.OFF), running[0])
        self.rc.stop([v], reason="halt", by="gdb")
        self.resumed.discard(v.index)
        reply = self.stop_reply(v, {"reason": "interrupt"})
        self.stub.after_reply(lambda: self._report(reply, v))
        return b"OK"

    def on_exit(self, code: Optional[int]) -> None:
        """The guest ended: ``W`` in all-stop, a ``%Stop:W`` notification in non-stop."""
        if self.exited:
            return
        self.exited = True
        self.waiting = False
        self.resumed.clear()
        self._report(b"W%02x" % ((code if code is not None else 0) & 0xFF))

    def set_non_stop(self, on: bool) -> None:
        if not on and self.stub.non_stop:
            self._halt_all()  # entering all-stop stops everything
        self.stub.non_stop = on
        self.pending.clear()
        self.in_flight = False
        self.waiting = False

    def release_all(self) -> None:
        """Detach: let every vCPU run."""
        self.waiting = False
        self.release(list(self.m.vcpus))


def _le32hex(value: int) -> str:
    return (value & 0xFFFFFFFF).to_bytes(4, "little").hex()
