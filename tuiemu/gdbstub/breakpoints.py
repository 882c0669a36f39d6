"""``Z``/``z`` packets: breakpoints (types 0 and 1) and watchpoints (2 write, 3 read, 4 access).

Breakpoints apply to every vCPU (gdb filters thread-specific ones itself) and
stop before the instruction; watchpoints stop before the access. Both kinds
of breakpoint use the same mechanism; the stop reply says ``swbreak`` or
``hwbreak`` after the type gdb inserted. The stub remembers what it inserted
so a detach or a dropped connection removes everything.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Dict, Optional, Set, Tuple

if TYPE_CHECKING:
    from .stub import Stub

WATCH_KINDS = {2: "watch", 3: "rwatch", 4: "awatch"}
MAX_WATCH_LEN = 1 << 16


class Breakpoints:
    """What this connection inserted."""

    def __init__(self) -> None:
        self.code: Dict[int, Set[int]] = {}  # address -> {0, 1}
        self.watch: Set[Tuple[int, int, str]] = set()

    def kind_at(self, addr: int) -> Optional[str]:
        types = self.code.get(addr)
        if not types:
            return None
        return "swbreak" if 0 in types else "hwbreak"


def _parse(args: bytes) -> Optional[Tuple[int, int, int]]:
    parts = args.split(b";", 1)[0].split(b",")
    if len(parts) != 3:
        return None
    try:
        ztype, addr, kind = int(parts[0], 16), int(parts[1], 16), int(parts[2], 16)
    except ValueError:
        return None
    if not 0 <= addr <= 0xFFFFFFFF or kind < 0:
        return None
    return ztype, addr, kind


def cmd_Z(stub: Stub, args: bytes) -> bytes:
    parsed = _parse(args)
    if parsed is None:
        return b"E01"
    ztype, addr, kind = parsed
    rc = stub.m.runctl
    bps = stub.bps
    if ztype in (0, 1):
        types = bps.code.setdefault(addr, set())
        if not types:
            rc.add_breakpoint(addr, owner="gdb")
        types.add(ztype)
        return b"OK"
    if ztype in WATCH_KINDS:
        if not 0 < kind <= MAX_WATCH_LEN:
            return b"E01"
        key = (addr, kind, WATCH_KINDS[ztype])
        if key not in bps.watch:
            rc.add_watchpoint(*key)
            bps.watch.add(key)
        return b"OK"
    return b""  # unsupported type


def cmd_z(stub: Stub, args: bytes) -> bytes:
    parsed = _parse(args)
    if parsed is None:
        return b"E01"
    ztype, addr, kind = parsed
    rc = stub.m.runctl
    bps = stub.bps
    if ztype in (0, 1):
        types = bps.code.get(addr)
        if types is None or ztype not in types:
            return b"E01"
        types.discard(ztype)
        if not types:
            del bps.code[addr]
            rc.remove_breakpoint(addr, owner="gdb")
            stub.execution.cancel_hits(addr)
        return b"OK"
    if ztype in WATCH_KINDS:
        key = (addr, kind, WATCH_KINDS[ztype])
        if key not in bps.watch:
            return b"E01"
        bps.watch.discard(key)
        rc.remove_watchpoint(*key)
        return b"OK"
    return b""


def remove_all(stub: Stub) -> None:
    """Take out everything this connection inserted (detach, disconnect)."""
    rc = stub.m.runctl
    for addr in list(stub.bps.code):
        rc.remove_breakpoint(addr, owner="gdb")
    for key in list(stub.bps.watch):
        rc.remove_watchpoint(*key)
    stub.bps = Breakpoints()
