"""General queries and settings: ``q...`` and ``Q...`` packets.

Unknown queries get the empty reply (gdb's "not supported").
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Dict, Optional
from xml.sax.saxutils import escape as xml_escape

from . import monitor
from .packets import hex_encode_text, unhexlify
from .target_xml import ANNEXES, xfer_slice
from .threads import extra_info, format_tid, parse_tid, vcpu_of

if TYPE_CHECKING:
    from .stub import Stub

FEATURES = ("qXfer:features:read+", "qXfer:threads:read+", "vContSupported+", "swbreak+", "hwbreak+",
            "QStartNoAckMode+", "QNonStop+")


def q_supported(stub: Stub, args: bytes) -> bytes:
    for feature in args.lstrip(b":").split(b";"):
        if feature.endswith(b"+"):
            stub.gdb_features.add(feature[:-1].decode("ascii", "replace"))
    return ";".join((f"PacketSize={stub.packet_size:x}",) + FEATURES).encode()


def threads_xml(stub: Stub) -> bytes:
    rows = [f'  <thread id="{format_tid(v)}" core="{v.index}" name="{v.name}">'
            f"{xml_escape(extra_info(stub.m, v))}</thread>" for v in stub.m.vcpus]
    return ("\n".join(['<?xml version="1.0"?>', "<threads>", *rows, "</threads>", ""])).encode()


def q_xfer(stub: Stub, args: bytes) -> bytes:
    """``qXfer:OBJECT:read:ANNEX:OFFSET,LENGTH``."""
    parts = args.lstrip(b":").split(b":")
    if len(parts) != 4 or parts[1] != b"read":
        return b""
    obj, _, annex, window = parts
    off, sep, length = window.partition(b",")
    try:
        offset, size = int(off, 16), int(length, 16)
    except ValueError:
        return b"E01"
    if not sep or offset < 0 or size < 0:
        return b"E01"
    size = min(size, stub.packet_size // 2)
    if obj == b"features":
        doc = ANNEXES.get(annex.decode("ascii", "replace"))
        if doc is None:
            return b"E00"
    elif obj == b"threads":
        if annex:
            return b"E00"
        doc = threads_xml(stub)
    else:
        return b""
    return xfer_slice(doc, offset, size)


def qf_thread_info(stub: Stub, args: bytes) -> bytes:
    return b"m" + ",".join(format_tid(v) for v in stub.m.vcpus).encode()


def qs_thread_info(stub: Stub, args: bytes) -> bytes:
    return b"l"


def q_thread_extra_info(stub: Stub, args: bytes) -> bytes:
    try:
        v = vcpu_of(stub.m, parse_tid(args.lstrip(b",")))
    except ValueError:
        return b"E01"
    if v is None:
        return b"E02"
    return hex_encode_text(extra_info(stub.m, v))


def q_c(stub: Stub, args: bytes) -> bytes:
    if args:
        return b""
    return b"QC" + format_tid(stub.general_vcpu()).encode()


def q_attached(stub: Stub, args: bytes) -> bytes:
    return b"1"  # gdb attached to a machine that exists without it: detach, never kill, on quit


def q_rcmd(stub: Stub, args: bytes) -> bytes:
    try:
        line = unhexlify(args.lstrip(b",")).decode("utf-8", "replace")
    except ValueError:
        return b"E01"
    text = monitor.run(stub, line)
    stub.console_output(text)
    return b"OK"


def q_symbol(stub: Stub, args: bytes) -> bytes:
    return b"OK"  # no symbol lookups needed


def start_no_ack(stub: Stub, args: bytes) -> bytes:
    stub.after_reply(stub.enter_no_ack)
    return b"OK"


def q_non_stop(stub: Stub, args: bytes) -> bytes:
    flag = args.lstrip(b":")
    if flag not in (b"0", b"1"):
        return b"E01"
    stub.execution.set_non_stop(flag == b"1")
    return b"OK"


Handler = Callable[["Stub", bytes], Optional[bytes]]

# name (up to the first ':' or ',') -> handler receiving the rest
QUERIES: Dict[bytes, Handler] = {
    b"qSupported": q_supported,
    b"qXfer": q_xfer,
    b"qfThreadInfo": qf_thread_info,
    b"qsThreadInfo": qs_thread_info,
    b"qThreadExtraInfo": q_thread_extra_info,
    b"qC": q_c,
    b"qAttached": q_attached,
    b"qRcmd": q_rcmd,
    b"qSymbol": q_symbol,
    b"QStartNoAckMode": start_no_ack,
    b"QNonStop": q_non_stop,
}


def dispatch(stub: Stub, packet: bytes) -> Optional[bytes]:
    end = len(packet)
    for sep in (b":", b","):
        i = packet.find(sep)
        if 0 <= i < end:
            end = i
    handler = QUERIES.get(packet[:end])
    if handler is None:
        return b""
    return handler(stub, packet[end:])
