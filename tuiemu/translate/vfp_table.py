"""VFP encodings (ARM ARM A7.5, A7.6, A7.8) as pattern tables for both instruction sets.

The VFP encodings are the same 28 bits in A32 and T32; only the top nibble differs (the
condition in A32, 1110 in T32, where the IT block supplies the condition). So each row is
written once, without that nibble, and ``vfp_patterns`` prefixes it for either table.

Register numbers are split fields: a single-precision register is Vx:X (the extra bit lowest),
a double-precision one X:Vx, so each operation has one row per precision, each with its own
format naming the operands (``@s3``: Sd, Sn, Sm; ``@d3``: Dd, Dn, Dm; ``@ds``: Dd and Sm...).
"""
from __future__ import annotations

from typing import List, Tuple

from .decodetree import Group, Pattern, table

VFP_FIELDS = {
    "sd": "12:4 22:1", "dd": "22:1 12:4",
    "sn": "16:4 7:1", "dn": "7:1 16:4",
    "sm": "0:4 5:1", "dm": "5:1 0:4",
    "imm4_i": "0:4 5:1",  # VCVT fixed-point imm4:i
    "imm8h_l": "16:4 0:4",  # VMOV immediate imm4H:imm4L
}

_REGS = {"s": ("sd", "sn", "sm"), "d": ("dd", "dn", "dm")}


def _fmt(d: str, n: str, m: str) -> str:
    """A format naming the register operands; its bits are what the rows write '-'."""
    parts = [f"vd=%{_REGS[d][0]}"]
    if n:
        parts.append(f"vn=%{_REGS[n][1]}")
    if m:
        parts.append(f"vm=%{_REGS[m][2]}")
    return "." * 32 + " " + " ".join(parts)


_FORMATS = {
    "s3": _fmt("s", "s", "s"), "d3": _fmt("d", "d", "d"),
    "s2": _fmt("s", "", "s"), "d2": _fmt("d", "", "d"),
    "ds": _fmt("d", "", "s"), "sd": _fmt("s", "", "d"),
    "s1": _fmt("s", "", ""), "d1": _fmt("d", "", ""),
}

# Operand bits as the rows write them: D (22), Vn (19:16), Vd (15:12), N (7), M (5), Vm (3:0)
_DP3 = [  # (name, bit 23, bits 21:20, bit 6, handler op)
    ("VMLA", 0, 0b00, 0, "mla"), ("VMLS", 0, 0b00, 1, "mls"),
    ("VNMLS", 0, 0b01, 0, "nmls"), ("VNMLA", 0, 0b01, 1, "nmla"),
    ("VMUL", 0, 0b10, 0, "mul"), ("VNMUL", 0, 0b10, 1, "nmul"),
    ("VADD", 0, 0b11, 0, "add"), ("VSUB", 0, 0b11, 1, "sub"),
    ("VDIV", 1, 0b00, 0, "div"),
    ("VFNMS", 1, 0b01, 0, "fnms"), ("VFNMA", 1, 0b01, 1, "fnma"),
    ("VFMA", 1, 0b10, 0, "fma"), ("VFMS", 1, 0b10, 1, "fms"),
]

_DP2 = [  # (name, opc2 (19:16), bit 7, handler op): 11101 D 11 opc2 Vd 101 sz op 1 M 0 Vm
    ("VMOV_reg", 0b0000, 0, "mov"), ("VABS", 0b0000, 1, "abs"),
    ("VNEG", 0b0001, 0, "neg"), ("VSQRT", 0b0001, 1, "sqrt"),
]


def _rows() -> List[Tuple]:
    rows: List[Tuple] = []
    for sz, p in ((0, "s"), (1, "d")):
        for name, b23, opc, b6, op in _DP3:
            rows.append((f"{name}_{p}", f"1110 {b23}-{opc:02b} -------- 101{sz} -{b6}-0 ---- @{p}3", "vfp_3op",
                         {"op": op, "dp": sz}))
        for name, opc2, b7, op in _DP2:
            rows.append((f"{name}_{p}", f"1110 1-11 {opc2:04b}---- 101{sz} {b7}1-0 ---- @{p}2", "vfp_2op",
                         {"op": op, "dp": sz}))
        rows += [
            (f"VMOV_imm_{p}", f"1110 1-11 .... ---- 101{sz} 0000 .... imm=%imm8h_l @{p}1", "vfp_mov_imm",
             {"dp": sz}),
            (f"VCMP_{p}", f"1110 1-11 0100 ---- 101{sz} e:1 1-0 ---- @{p}2", "vfp_cmp", {"dp": sz}),
            (f"VCMP_zero_{p}", f"1110 1-11 0101 ---- 101{sz} e:1 1.0 .... @{p}1", "vfp_cmp", {"dp": sz}),
            # Sd <- Sm or Dm
            (f"VCVT_to_int_{p}", f"1110 1-11 110 signed:1 ---- 101{sz} rz:1 1-0 ---- @{'sd' if sz else 's2'}",
             "vfp_cvt_int", {"dp": sz, "to_int": 1}),
            # Sd or Dd <- Sm
            (f"VCVT_from_int_{p}", f"1110 1-11 1000 ---- 101{sz} signed:1 1-0 ---- @{'ds' if sz else 's2'}",
             "vfp_cvt_int", {"dp": sz, "to_int": 0}),
            (f"VCVT_fixed_{p}", f"1110 1-11 1 to_fixed:1 1 u:1 ---- 101{sz} sx:1 1 . 0 .... imm=%imm4_i @{p}1",
             "vfp_cvt_fixed", {"dp": sz}),
        ]
    rows += [
        ("VCVT_f64_f32", "1110 1-11 0111 ---- 1010 11-0 ---- @ds", "vfp_cvt_fp", {"dp": 0}),
        ("VCVT_f32_f64", "1110 1-11 0111 ---- 1011 11-0 ---- @sd", "vfp_cvt_fp", {"dp": 1}),
        ("VCVTB_VCVTT", "1110 1-11 001 to_half:1 ---- 1010 t:1 1-0 ---- @s2", "vfp_cvt_half"),
        # moves and system registers
        ("VMOV_core_s", "1110 000 to_core:1 .... rt:4 1010 . .. 1 .... vn=%sn", "vmov_core_s"),
        ("VMOV_to_scalar", "1110 0 opc1:2 0 .... rt:4 1011 . opc2:2 1 .... vd=%dn", "vmov_to_scalar"),
        ("VMOV_from_scalar", "1110 u:1 opc1:2 1 .... rt:4 1011 . opc2:2 1 .... vn=%dn", "vmov_from_scalar"),
        ("VDUP_core", "1110 1 b:1 q:1 0 .... rt:4 1011 . 0 e:1 1 .... vd=%dn", "vdup_core"),
        ("VMSR", "1110 1110 reg:4 rt:4 1010 ...1 ....", "vmsr"),
        ("VMRS", "1110 1111 reg:4 rt:4 1010 ...1 ....", "vmrs"),
        ("VMOV_core_2s", "1100 010 to_core:1 rt2:4 rt:4 1010 00 . 1 .... vm=%sm", "vmov_core_2s"),
        ("VMOV_core_d", "1100 010 to_core:1 rt2:4 rt:4 1011 00 . 1 .... vm=%dm", "vmov_core_d"),
    ]
    for sz, p in ((0, "s"), (1, "d")):
        rows += [
            (f"VLDR_VSTR_{p}", f"1101 u:1 - 0 l:1 rn:4 ---- 101{sz} imm:8 @{p}1", "vldr_vstr", {"dp": sz}),
            (f"VLDM_VSTM_{p}", f"110 p:1 u:1 - w:1 l:1 rn:4 ---- 101{sz} imm:8 @{p}1", "vldm_vstm", {"dp": sz}),
        ]
    return rows


def vfp_patterns(prefix: str) -> List[Pattern]:
    """The VFP rows with ``prefix`` as bits 31:28 ("cond:4!1111" for A32, "1110" for T32)."""
    return table([(name, f"{prefix} {spec}", h, *rest) for name, spec, h, *rest in _rows()],
                 fields=VFP_FIELDS, formats=_FORMATS)


def vfp_group(prefix: str) -> Group:
    """The VFP rows, built (and their handlers imported) the first time a word in coprocessor 10
    or 11's space (bits 27:26 = 11, 11:9 = 101) is decoded."""
    sem = __name__.rpartition(".")[0] + ".sem"
    return Group(0x0C000E00, 0x0C000A00, lambda: vfp_patterns(prefix), needs=(f"{sem}.vfp", f"{sem}.vfp_move"))
