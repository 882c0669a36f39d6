"""The target description gdb reads with ``qXfer:features:read:target.xml``.

``org.gnu.gdb.arm.core``: r0-r12, sp, lr, pc (regnums 0-15) and cpsr at regnum 25, where gdb
expects it because the old FPA registers once sat between pc and cpsr. ``org.gnu.gdb.arm.vfp``:
d0-d31 (regnums 26-57, each also readable as lanes: ``$d0.u32[1]``), q0-q15 (58-73, the same bits
as d pairs) and fpscr (74), the layout QEMU's cortex-a15 stub sends; gdb makes s0-s31 from the d
registers. The ``g`` packet carries the core registers
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
Q0_REGNUM = D0_REGNUM + 32  # q0-q15 as registers of their own, as QEMU sends them: gdb 13 makes no
FPSCR_REGNUM = Q0_REGNUM + 16  # q pseudo-registers for a remote target, only s ones

_TYPES = {"sp": "data_ptr", "pc": "code_ptr"}


def _reg(regnum: int, name: str) -> str:
    kind = _TYPES.get(name, "uint32" if name != "cpsr" else "int")
    return f'    <reg name="{name}" bitsize="32" regnum="{regnum}" type="{kind}"/>'


# The d registers as gdb's NEON view of them: the same 64 bits as lanes of each width or a double.
NEON_D_TYPE = [
    '    <vector id="neon_uint8x8" type="uint8" count="8"/>',
    '    <vector id="neon_uint16x4" type="uint16" count="4"/>',
    '    <vector id="neon_uint32x2" type="uint32" count="2"/>',
    '    <vector id="neon_float32x2" type="ieee_single" count="2"/>',
    '    <union id="neon_d">',
    *(f'      <field name="{n}" type="{t}"/>' for n, t in (
        ("u8", "neon_uint8x8"), ("u16", "neon_uint16x4"), ("u32", "neon_uint32x2"), ("u64", "uint64"),
        ("f32", "neon_float32x2"), ("f64", "ieee_double"))),
    '    </union>',
]
NEON_Q_TYPE = [
    '    <vector id="neon_uint8x16" type="uint8" count="16"/>',
    '    <vector id="neon_uint16x8" type="uint16" count="8"/>',
    '    <vector id="neon_uint32x4" type="uint32" count="4"/>',
    '    <vector id="neon_uint64x2" type="uint64" count="2"/>',
    '    <vector id="neon_float32x4" type="ieee_single" count="4"/>',
    '    <vector id="neon_float64x2" type="ieee_double" count="2"/>',
    '    <union id="neon_q">',
    *(f'      <field name="{n}" type="neon_{t}"/>' for n, t in (
        ("u8", "uint8x16"), ("u16", "uint16x8"), ("u32", "uint32x4"), ("u64", "uint64x2"),
        ("f32", "float32x4"), ("f64", "float64x2"))),
    '    </union>',
]

TARGET_XML = "\n".join([
    '<?xml version="1.0"?>',
    '<!DOCTYPE target SYSTEM "gdb-target.dtd">',
    '<target version="1.0">',
    "  <architecture>armv7</architecture>",
    '  <feature name="org.gnu.gdb.arm.core">',
    *(_reg(n, name) for n, name in REGISTERS),
    "  </feature>",
    '  <feature name="org.gnu.gdb.arm.vfp">',
    *NEON_D_TYPE,
    *(f'    <reg name="d{i}" bitsize="64" regnum="{D0_REGNUM + i}" type="neon_d"/>' for i in range(32)),
    *NEON_Q_TYPE,
    *(f'    <reg name="q{i}" bitsize="128" regnum="{Q0_REGNUM + i}" type="neon_q"/>' for i in range(16)),
    f'    <reg name="fpscr" bitsize="32" regnum="{FPSCR_REGNUM}" type="int" group="float"/>',
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
