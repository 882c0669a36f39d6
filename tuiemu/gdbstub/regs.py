"""Register packets: ``g``/``G`` (all registers) and ``p``/``P`` (one register).

Layout (see target_xml): r0-r15 then cpsr, 4 bytes each, little-endian. Writes
go to the registers of the vCPU's current mode (banked copies are not shown);
a write to pc clears bit 0 and, if it was set, switches to Thumb, as a BX
would. A vCPU must be stopped to have its registers written.
"""
from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any, List, Optional

from .packets import hexlify, unhexlify
from .target_xml import CPSR_REGNUM, REGISTERS

if TYPE_CHECKING:
    from .stub import Stub

NREGS = len(REGISTERS)  # 17 values in a g packet


def register_values(v: Any) -> List[int]:
    """r0-r15 and cpsr, in g-packet order."""
    return [v.R[i] & 0xFFFFFFFF for i in range(16)] + [v.state.get_cpsr() & 0xFFFFFFFF]


def read_register(v: Any, regnum: int) -> Optional[int]:
    if 0 <= regnum <= 15:
        return v.R[regnum] & 0xFFFFFFFF
    if regnum == CPSR_REGNUM:
        return v.state.get_cpsr() & 0xFFFFFFFF
    return None


def write_register(v: Any, regnum: int, value: int) -> bool:
    value &= 0xFFFFFFFF
    if regnum == 15:
        if value & 1:
            v.state.set_thumb(True)
        v.R[15] = value & ~1
    elif 0 <= regnum <= 14:
        v.R[regnum] = value
    elif regnum == CPSR_REGNUM:
        if value != v.state.get_cpsr():
            v.state.set_cpsr(value)
    else:
        return False
    return True


def write_all(v: Any, values: List[int]) -> None:
    """cpsr first (a mode change swaps banks), then r0-r15 of the resulting mode."""
    if len(values) >= NREGS:
        write_register(v, CPSR_REGNUM, values[16])
    for i, value in enumerate(values[:16]):
        write_register(v, i, value)


def le32(value: int) -> bytes:
    return hexlify(struct.pack("<I", value & 0xFFFFFFFF))


# ---- packet handlers --------------------------------------------------------------
def cmd_g(stub: Stub, args: bytes) -> bytes:
    v = stub.general_vcpu()
    return hexlify(struct.pack(f"<{NREGS}I", *register_values(v)))


def cmd_G(stub: Stub, args: bytes) -> bytes:
    v = stub.general_vcpu()
    if not stub.m.runctl.held(v):
        return b"E10"
    try:
        raw = unhexlify(args)
    except ValueError:
        return b"E01"
    if len(raw) < 4 or len(raw) % 4:
        return b"E01"
    values = list(struct.unpack(f"<{len(raw) // 4}I", raw))[:NREGS]
    write_all(v, values)
    return b"OK"


def cmd_p(stub: Stub, args: bytes) -> bytes:
    try:
        regnum = int(args, 16)
    except ValueError:
        return b"E01"
    value = read_register(stub.general_vcpu(), regnum)
    return b"E00" if value is None else le32(value)


def cmd_P(stub: Stub, args: bytes) -> bytes:
    reg, sep, val = args.partition(b"=")
    try:
        regnum = int(reg, 16)
        raw = unhexlify(val)
    except ValueError:
        return b"E01"
    if not sep or len(raw) != 4:
        return b"E01"
    v = stub.general_vcpu()
    if not stub.m.runctl.held(v):
        return b"E10"
    if not write_register(v, regnum, struct.unpack("<I", raw)[0]):
        return b"E00"
    return b"OK"
