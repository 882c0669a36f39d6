"""Memory packets: ``m`` (read, hex), ``M`` (write, hex) and ``X`` (write, binary).

Addresses go through the selected vCPU's current translation (its MMU
settings and privilege), or are physical after ``monitor phys on``. A guest
fault or an unbacked address gives ``E14`` (EFAULT); a read that fails part
way returns the bytes before the failing page, as gdb allows. Writes through
these calls invalidate any translated code on the pages they touch.

In non-stop mode the selected vCPU may be running: it is held for the
duration of the access (its soft TLB is only ever touched by one thread).
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator, Optional, Tuple

from .packets import hexlify, unhexlify

if TYPE_CHECKING:
    from .stub import Stub

EFAULT = b"E14"
_PAUSE = "gdb memory access"


def parse_addr_len(text: bytes) -> Optional[Tuple[int, int]]:
    addr, sep, length = text.partition(b",")
    try:
        a, n = int(addr, 16), int(length, 16)
    except ValueError:
        return None
    if not sep or a < 0 or n < 0 or a > 0xFFFFFFFF:
        return None
    return a, n


@contextmanager
def held(stub: Stub, v: Any) -> Iterator[None]:
    """Keep ``v`` out of translated code while the body runs (no-op if already stopped)."""
    rc = stub.m.runctl
    if rc.held(v) or stub.physical:
        yield
        return
    rc.stop([v], reason=_PAUSE, by="gdb")
    try:
        yield
    finally:
        # Resume only if nothing else (a breakpoint hit racing with us) stopped it meanwhile.
        if (rc.stop_reason(v) or {}).get("reason") == _PAUSE:
            rc.resume([v])


def read(stub: Stub, addr: int, length: int) -> bytes:
    """Up to ``length`` bytes at ``addr``; shorter if the range runs into a fault."""
    m = stub.m
    v = stub.general_vcpu()
    with held(stub, v):
        try:
            return m.read_memory(addr, length, v, physical=stub.physical)
        except Exception:
            pass
        out = bytearray()  # fall back to the readable prefix, page by page
        while length > 0:
            n = min(length, 0x1000 - (addr & 0xFFF))
            try:
                out += m.read_memory(addr, n, v, physical=stub.physical)
            except Exception:
                break
            addr += n
            length -= n
        return bytes(out)


def write(stub: Stub, addr: int, data: bytes) -> bool:
    m = stub.m
    v = stub.general_vcpu()
    if addr + len(data) > 0x100000000:
        return False
    with held(stub, v):
        try:
            m.write_memory(addr, data, v, physical=stub.physical)
        except Exception:
            return False
    return True


# ---- packet handlers --------------------------------------------------------------
def cmd_m(stub: Stub, args: bytes) -> bytes:
    parsed = parse_addr_len(args)
    if parsed is None:
        return b"E01"
    addr, length = parsed
    length = min(length, stub.max_read, 0x100000000 - addr)
    if length == 0:
        return b""
    data = read(stub, addr, length)
    return hexlify(data) if data else EFAULT


def cmd_M(stub: Stub, args: bytes) -> bytes:
    where, sep, text = args.partition(b":")
    parsed = parse_addr_len(where)
    if parsed is None or not sep:
        return b"E01"
    try:
        data = unhexlify(text)
    except ValueError:
        return b"E01"
    if len(data) != parsed[1]:
        return b"E01"
    return b"OK" if write(stub, parsed[0], data) else EFAULT


def cmd_X(stub: Stub, args: bytes) -> bytes:
    """Binary write; the packet was unescaped by the reader. ``X addr,0:`` probes for support."""
    where, sep, data = args.partition(b":")
    parsed = parse_addr_len(where)
    if parsed is None or not sep:
        return b"E01"
    if len(data) != parsed[1]:
        return b"E01"  # truncated or padded payload
    if not data:
        return b"OK"
    return b"OK" if write(stub, parsed[0], data) else EFAULT
