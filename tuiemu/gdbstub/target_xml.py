"""The target description gdb reads with ``qXfer:features:read:target.xml``.

Only ``org.gnu.gdb.arm.core`` for now (the cores have no VFP state yet):
r0-r12, sp, lr, pc (regnums 0-15) and cpsr at regnum 25, where gdb expects it
because the old FPA registers once sat between pc and cpsr. The ``g`` packet
carries the registers in regnum order, so it is r0-r15 then cpsr. The
architecture is "armv7" (cortex-a15) so gdb disassembles MOVW/MOVT and other
v6T2+ encodings even when the ELF file has no build attributes.
"""
from __future__ import annotations

from typing import List, Tuple

CPSR_REGNUM = 25
# (regnum, name) in g-packet order
REGISTERS: List[Tuple[int, str]] = [(i, f"r{i}") for i in range(13)] + [
    (13, "sp"), (14, "lr"), (15, "pc"), (CPSR_REGNUM, "cpsr")]

_TYPES = {"sp": "data_ptr", "pc": "code_ptr"}


def _reg(regnum: int, name: str) -> str:
    kind = _TYPES.get(name, "uint32" if name != "cpsr" else "int")
    return f'    <reg name="{name}" bitsize="32" regnum="{regnum}" type="{kind}"/>'


TARGET_XML = "\n".join([
    '<?xml version="1.0"?>',
    '<!DOCTYPE target SYSTEM "gdb-target.dtd">',
    '<target version="1.0">',
    "  <architecture>armv7</architecture>",
    '  <feature name="org.gnu.gdb.arm.core">',
    *(_reg(n, name) for n, name in REGISTERS),
    "  </feature>",
    "</target>",
    "",
]).encode()

ANNEXES = {"target.xml": TARGET_XML}


def xfer_slice(document: bytes, offset: int, length: int) -> bytes:
    """The reply to a ``qXfer:...:read`` of ``document``: ``m`` + chunk if more follows, else ``l`` + chunk."""
    chunk = document[offset:offset + length]
    more = offset + length < len(document)
    return (b"m" if more else b"l") + chunk
