"""Register packets: ``g``/``G`` (the core registers) and ``p``/``P`` (any one register).

Layout (see target_xml): ``g`` is r0-r15 then cpsr, 4 bytes each, little-endian; d0-d31 (8 bytes),
q0-q15 (16: views of d pairs) and fpscr (4) are reached with ``p``/``P`` by their regnums. Writes
go to the registers of the vCPU's current mode (banked copies are not shown); a write to pc clears
bit 0 and, if it was set, switches to Thumb, as a BX would. A vCPU must be stopped to have its
registers written.
"""
from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any, List, Optional

from ..core.state import D0, FPSCR, FPSCR_MASK
from .packets import hexlify, unhexlify
from .target_xml import CPSR_REGNUM, D0_REGNUM, FPSCR_REGNUM, Q0_REGNUM, REGISTERS

if TYPE_CHECKING:
    from .stub import Stub

NREGS = len(REGISTERS)  # 17 values in a g packet


def register_values(v: Any) -> List[int]:
    """r0-r15 and cpsr, in g-packet order."""
    return [v.R[i] & 0xFFFFFFFF for i in range(16)] + [v.state.get_cpsr() & 0xFFFFFFFF]


def register_size(regnum: int) -> int:
    """Bytes of a register in p/P packets (0: no such register)."""
    if 0 <= regnum <= 15 or regnum in (CPSR_REGNUM, FPSCR_REGNUM):
        return 4
    if D0_REGNUM <= regnum < Q0_REGNUM:
        return 8
    return 16 if Q0_REGNUM <= regnum < FPSCR_REGNUM else 0


def read_register(v: Any, regnum: int) -> Optional[int]:
    if 0 <= regnum <= 15:
        return v.R[regnum] & 0xFFFFFFFF
    if regnum == CPSR_REGNUM:
        return v.state.get_cpsr() & 0xFFFFFFFF
    if D0_REGNUM <= regnum < Q0_REGNUM:
        return v.R[D0 + regnum - D0_REGNUM]
    if Q0_REGNUM <= regnum < FPSCR_REGNUM:
        d = D0 + 2 * (regnum - Q0_REGNUM)
        return v.R[d] | v.R[d + 1] << 64
    if regnum == FPSCR_REGNUM:
        return v.R[FPSCR]
    return None


def write_register(v: Any, regnum: int, value: int) -> bool:
    if D0_REGNUM <= regnum < Q0_REGNUM:
        v.R[D0 + regnum - D0_REGNUM] = value & 0xFFFFFFFFFFFFFFFF
        return True
    if Q0_REGNUM <= regnum < FPSCR_REGNUM:
        d = D0 + 2 * (regnum - Q0_REGNUM)
        v.R[d], v.R[d + 1] = value & 0xFFFFFFFFFFFFFFFF, value >> 64 & 0xFFFFFFFFFFFFFFFF
        return True
    value &= 0xFFFFFFFF
    if regnum == FPSCR_REGNUM:
        v.R[FPSCR] = value & FPSCR_MASK
        v.state.update_fp_access()  # Len/Stride are part of the TB flags
        return True
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
    return b"E00" if value is None else hexlify(value.to_bytes(register_size(regnum), "little"))


def cmd_P(stub: Stub, args: bytes) -> bytes:
    reg, sep, val = args.partition(b"=")
    try:
        regnum = int(reg, 16)
        raw = unhexlify(val)
    except ValueError:
        return b"E01"
    if not sep or len(raw) != (register_size(regnum) or 4):
        return b"E01"
    v = stub.general_vcpu()
    if not stub.m.runctl.held(v):
        return b"E10"
    if not write_register(v, regnum, int.from_bytes(raw, "little")):
        return b"E00"
    return b"OK"
