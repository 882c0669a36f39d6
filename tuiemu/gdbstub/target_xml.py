"""The target description gdb reads with ``qXfer:features:read:target.xml``.

``org.gnu.gdb.arm.core``: r0-r12, sp, lr, pc (regnums 0-15) and cpsr at regnum 25, where gdb
expects it because the old FPA registers once sat between pc and cpsr. ``org.gnu.gdb.arm.vfp``:
d0-d31 (regnums 26-57) and fpscr (58); with it gdb makes s0-s31 from the d registers, and with the
(empty) ``org.gnu.gdb.arm.neon`` feature q0-q15 too. The ``g`` packet carries the core registers
only, r0-r15 then cpsr, as QEMU's does; gdb reads and writes the others with ``p``/``P``. The
architecture is "armv7" (cortex-a15) so gdb disassembles MOVW/MOVT and other v6T2+ encodings even
when the ELF file has no build attributes.
"""
from __future__ import annotations

from typing import List, Tuple

CPSR_REGNUM = 25
# (regnum, name) in g-packet order
REGISTERS: List[Tuple[int, str]] = [(i, f"r{i}") for i in range(13)] + [
    (13, "sp"), (14, "lr"), (15, "pc"), (CPSR_REGNUM, "cpsr")]
D0_REGNUM = 26
FPSCR_REGNUM = D0_REGNUM + 32

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
    '  <feature name="org.gnu.gdb.arm.vfp">',
    *(f'    <reg name="d{i}" bitsize="64" regnum="{D0_REGNUM + i}" type="ieee_double"/>' for i in range(32)),
    f'    <reg name="fpscr" bitsize="32" regnum="{FPSCR_REGNUM}" type="int" group="float"/>',
    "  </feature>",
    '  <feature name="org.gnu.gdb.arm.neon"/>',
    "</target>",
    "",
]).encode()

ANNEXES = {"target.xml": TARGET_XML}


def xfer_slice(document: bytes, offset: int, length: int) -> bytes:
    """The reply to a ``qXfer:...:read`` of ``document``: ``m`` + chunk if more follows, else ``l`` + chunk."""
    chunk = document[offset:offset + length]
    more = offset + length < len(document)
    return (b"m" if more else b"l") + chunk
