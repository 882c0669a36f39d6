"""Advanced SIMD encodings (ARM ARM A7.4, A7.7) as pattern tables for both instruction sets.

A32 and T32 share the low 24 bits; the top byte differs: data processing is ``1111 001U`` in A32
and ``111U 1111`` in T32, element and structure loads/stores ``1111 0100`` and ``1111 1001``. A
row is written once as (name, top, bits 23:0, handler[, consts]) with ``top`` one of "u" (U is
the field ``u``), "0", "1" (U fixed) or "mem", and ``neon_patterns`` builds either table.

Register operands are split fields, D:Vd, N:Vn and M:Vm, as the formats name them (``@dnm``...).
"""
from __future__ import annotations

from typing import Dict, List, Tuple

from .decodetree import Group, Pattern, table

NEON_FIELDS = {"vd": "22:1 12:4", "vn": "7:1 16:4", "vm": "5:1 0:4"}

_TOPS: Dict[str, Tuple[str, str]] = {
    "u": ("1111 001 u:1", "111 u:1 1111"),
    "0": ("1111 0010", "1110 1111"),
    "1": ("1111 0011", "1111 1111"),
    "mem": ("1111 0100", "1111 1001"),
}

_ANY = "." * 32
NEON_FORMATS = {
    "dnm": f"{_ANY} vd=%vd vn=%vn vm=%vm",
    "dm": f"{_ANY} vd=%vd vm=%vm",
    "d": f"{_ANY} vd=%vd",
}

Row = Tuple  # (name, top, bits 23:0, handler[, consts])

MEM_ROWS: List[Row] = [
    ("VLDST_multiple", "mem", "0 - l:1 0 rn:4 ---- type:4 size:2 align:2 rm:4 @d", "neon_ldst_multiple"),
    *[(f"VLDST{n}_lane", "mem", f"1 - l:1 0 rn:4 ---- size:2!11 {n - 1:02b} index_align:4 rm:4 @d",
       "neon_ldst_lane", {"n": n}) for n in (1, 2, 3, 4)],
    *[(f"VLD{n}_all", "mem", f"1 - 1 0 rn:4 ---- 11 {n - 1:02b} size:2 t:1 a:1 rm:4 @d", "neon_ld_all", {"n": n})
      for n in (1, 2, 3, 4)],
]



def _same(name: str, top: str, a: str, b: str, op: str) -> Row:
    return (name, top, f"0 - size:2 ---- ---- {a} - q:1 - {b} ---- @dnm", "neon_3same", {"op": op})


def _logic(name: str, top: str, size: str, op: str) -> Row:
    return (name, top, f"0 - {size} ---- ---- 0001 - q:1 - 1 ---- @dnm", "neon_3same", {"op": op})


def _float(name: str, top: str, a: str, b: str, ops: Tuple) -> Row:
    """Single precision: bit 21 picks one of ``ops``, bit 20 (sz) must be 0."""
    return (name, top, f"0 - o:1 sz:1 ---- ---- {a} - q:1 - {b} ---- @dnm", "neon_3same_f", {"ops": ops})


def _diff(name: str, top: str, a: str, op: str) -> Row:
    return (name, top, f"1 - size:2!11 ---- ---- {a} - 0 - 0 ---- @dnm", "neon_3diff", {"op": op})


def _scalar(name: str, top: str, a: str, op: str) -> Row:
    return (name, top, f"1 - size:2!11 ---- ---- {a} - 1 - 0 ---- @dnm", "neon_scalar", {"op": op})


def _shift(name: str, top: str, a: str, op: str) -> Row:
    return (name, top, f"1 - imm6:6 ---- {a} l:1 q:1 - 1 ---- @dm", "neon_shift", {"op": op})


def _misc(name: str, a: str, b: str, op: str) -> Row:
    """Two registers, miscellaneous: bits 17:16 ``a``, bits 10:6 ``b``."""
    return (name, "1", f"1 - 11 size:2 {a} ---- 0 {b} - 0 ---- @dm", "neon_misc", {"op": op})


DP_ROWS: List[Row] = [
    # three registers of the same length (A7.4.1)
    _same("VHADD", "u", "0000", "0", "hadd"), _same("VQADD", "u", "0000", "1", "qadd"),
    _same("VRHADD", "u", "0001", "0", "rhadd"),
    _logic("VAND", "0", "00", "and"), _logic("VBIC", "0", "01", "bic"), _logic("VORR", "0", "10", "orr"),
    _logic("VORN", "0", "11", "orn"), _logic("VEOR", "1", "00", "eor"), _logic("VBSL", "1", "01", "bsl"),
    _logic("VBIT", "1", "10", "bit"), _logic("VBIF", "1", "11", "bif"),
    _same("VHSUB", "u", "0010", "0", "hsub"), _same("VQSUB", "u", "0010", "1", "qsub"),
    _same("VCGT", "u", "0011", "0", "cgt"), _same("VCGE", "u", "0011", "1", "cge"),
    _same("VSHL_reg", "u", "0100", "0", "shl"), _same("VQSHL_reg", "u", "0100", "1", "qshl"),
    _same("VRSHL", "u", "0101", "0", "rshl"), _same("VQRSHL", "u", "0101", "1", "qrshl"),
    _same("VMAX", "u", "0110", "0", "max"), _same("VMIN", "u", "0110", "1", "min"),
    _same("VABD", "u", "0111", "0", "abd"), _same("VABA", "u", "0111", "1", "aba"),
    _same("VADD", "0", "1000", "0", "add"), _same("VSUB", "1", "1000", "0", "sub"),
    _same("VTST", "0", "1000", "1", "tst"), _same("VCEQ", "1", "1000", "1", "ceq"),
    _same("VMLA", "0", "1001", "0", "mla"), _same("VMLS", "1", "1001", "0", "mls"),
    _same("VMUL", "0", "1001", "1", "mul"), _same("VMUL_p", "1", "1001", "1", "pmul"),
    _same("VPMAX", "u", "1010", "0", "pmax"), _same("VPMIN", "u", "1010", "1", "pmin"),
    _same("VQDMULH", "0", "1011", "0", "qdmulh"), _same("VQRDMULH", "1", "1011", "0", "qrdmulh"),
    _same("VPADD", "0", "1011", "1", "padd"),
    _float("VFMA_VFMS", "0", "1100", "1", ("fma", "fms")), _float("VADD_VSUB_f", "0", "1101", "0", ("add", "sub")),
    _float("VPADD_VABD_f", "1", "1101", "0", ("padd", "abd")), _float("VMLA_VMLS_f", "0", "1101", "1", ("mla", "mls")),
    _float("VMUL_f", "1", "1101", "1", ("mul", None)), _float("VCEQ_f", "0", "1110", "0", ("ceq", None)),
    _float("VCGE_VCGT_f", "1", "1110", "0", ("cge", "cgt")),
    _float("VACGE_VACGT", "1", "1110", "1", ("acge", "acgt")),
    _float("VMAX_VMIN_f", "0", "1111", "0", ("max", "min")),
    _float("VPMAX_VPMIN_f", "1", "1111", "0", ("pmax", "pmin")),
    _float("VRECPS_VRSQRTS", "0", "1111", "1", ("recps", "rsqrts")),
    # three registers of different lengths (A7.4.2)
    _diff("VADDL", "u", "0000", "addl"), _diff("VADDW", "u", "0001", "addw"), _diff("VSUBL", "u", "0010", "subl"),
    _diff("VSUBW", "u", "0011", "subw"), _diff("VADDHN", "0", "0100", "addhn"), _diff("VRADDHN", "1", "0100", "raddhn"),
    _diff("VABAL", "u", "0101", "abal"), _diff("VSUBHN", "0", "0110", "subhn"), _diff("VRSUBHN", "1", "0110", "rsubhn"),
    _diff("VABDL", "u", "0111", "abdl"), _diff("VMLAL", "u", "1000", "mlal"), _diff("VQDMLAL", "0", "1001", "qdmlal"),
    _diff("VMLSL", "u", "1010", "mlsl"), _diff("VQDMLSL", "0", "1011", "qdmlsl"), _diff("VMULL", "u", "1100", "mull"),
    _diff("VQDMULL", "0", "1101", "qdmull"), _diff("VMULL_p", "0", "1110", "pmull"),
    # two registers and a scalar (A7.4.3)
    _scalar("VMLA_sc", "u", "0000", "mla"), _scalar("VMLA_scf", "u", "0001", "mla_f"),
    _scalar("VMLAL_sc", "u", "0010", "mlal"), _scalar("VQDMLAL_sc", "0", "0011", "qdmlal"),
    _scalar("VMLS_sc", "u", "0100", "mls"), _scalar("VMLS_scf", "u", "0101", "mls_f"),
    _scalar("VMLSL_sc", "u", "0110", "mlsl"), _scalar("VQDMLSL_sc", "0", "0111", "qdmlsl"),
    _scalar("VMUL_sc", "u", "1000", "mul"), _scalar("VMUL_scf", "u", "1001", "mul_f"),
    _scalar("VMULL_sc", "u", "1010", "mull"), _scalar("VQDMULL_sc", "0", "1011", "qdmull"),
    _scalar("VQDMULH_sc", "u", "1100", "qdmulh"), _scalar("VQRDMULH_sc", "u", "1101", "qrdmulh"),
    # one register and a modified immediate (A7.4.6), before the shifts it sits among
    ("VMOV_VORR_imm", "u", "1 - 000 imm3:3 ---- cmode:4 0 q:1 op:1 1 imm4:4 @d", "neon_imm"),
    # two registers and a shift amount (A7.4.4)
    _shift("VSHR", "u", "0000", "shr"), _shift("VSRA", "u", "0001", "sra"), _shift("VRSHR", "u", "0010", "rshr"),
    _shift("VRSRA", "u", "0011", "rsra"), _shift("VSRI", "1", "0100", "sri"), _shift("VSHL_imm", "0", "0101", "shl"),
    _shift("VSLI", "1", "0101", "sli"), _shift("VQSHLU", "1", "0110", "qshlu"),
    _shift("VQSHL_imm", "u", "0111", "qshl"),
    ("VSHRN", "0", "1 - imm6:6 ---- 1000 0 r:1 - 1 ---- @dm", "neon_shift_narrow", {"op": "shrn"}),
    ("VQSHRUN", "1", "1 - imm6:6 ---- 1000 0 r:1 - 1 ---- @dm", "neon_shift_narrow", {"op": "qshrun"}),
    ("VQSHRN", "u", "1 - imm6:6 ---- 1001 0 r:1 - 1 ---- @dm", "neon_shift_narrow", {"op": "qshrn"}),
    ("VSHLL", "u", "1 - imm6:6 ---- 1010 0 0 - 1 ---- @dm", "neon_shll"),
    ("VCVT_fixed_n", "u", "1 - imm6:6 ---- 111 to_fixed:1 0 q:1 - 1 ---- @dm", "neon_cvt_fixed"),
    # two registers, miscellaneous (A7.4.5)
    _misc("VREV64", "00", "0000 q:1", "rev64"), _misc("VREV32", "00", "0001 q:1", "rev32"),
    _misc("VREV16", "00", "0010 q:1", "rev16"), _misc("VPADDL", "00", "010 u:1 q:1", "paddl"),
    _misc("VCLS", "00", "1000 q:1", "cls"), _misc("VCLZ", "00", "1001 q:1", "clz"),
    _misc("VCNT", "00", "1010 q:1", "cnt"),
    _misc("VMVN", "00", "1011 q:1", "mvn"), _misc("VPADAL", "00", "110 u:1 q:1", "padal"),
    _misc("VQABS", "00", "1110 q:1", "qabs"), _misc("VQNEG", "00", "1111 q:1", "qneg"),
    _misc("VCGT0", "01", "f:1 000 q:1", "cgt0"), _misc("VCGE0", "01", "f:1 001 q:1", "cge0"),
    _misc("VCEQ0", "01", "f:1 010 q:1", "ceq0"), _misc("VCLE0", "01", "f:1 011 q:1", "cle0"),
    _misc("VCLT0", "01", "f:1 100 q:1", "clt0"), _misc("VABS", "01", "f:1 110 q:1", "abs"),
    _misc("VNEG", "01", "f:1 111 q:1", "neg"),
    _misc("VSWP", "10", "0000 q:1", "swp"), _misc("VTRN", "10", "0001 q:1", "trn"),
    _misc("VUZP", "10", "0010 q:1", "uzp"),
    _misc("VZIP", "10", "0011 q:1", "zip"), _misc("VMOVN", "10", "0100 0", "movn"),
    _misc("VQMOVUN", "10", "0100 1", "qmovun"), _misc("VQMOVN", "10", "0101 nu:1", "qmovn"),
    _misc("VSHLL_max", "10", "0110 0", "shll"), _misc("VCVT_half", "10", "11 to_single:1 0 0", "cvt_half"),
    _misc("VRECPE", "11", "10 f:1 0 q:1", "recpe"), _misc("VRSQRTE", "11", "10 f:1 1 q:1", "rsqrte"),
    _misc("VCVT_n", "11", "11 cop:2 q:1", "cvt"),
    # VEXT, VTBL/VTBX, VDUP (scalar)
    ("VEXT", "0", "1 - 11 ---- ---- imm4:4 - q:1 - 0 ---- @dnm", "neon_ext"),
    ("VTBL_VTBX", "1", "1 - 11 ---- ---- 10 len:2 - x:1 - 0 ---- @dnm", "neon_tbl"),
    ("VDUP_scalar", "1", "1 - 11 imm4:4 ---- 11000 q:1 - 0 ---- @dm", "neon_dup_scalar"),
]


def neon_patterns(a32: bool, rows: List[Row]) -> List[Pattern]:
    """``rows`` with the A32 (``a32``) or T32 top byte."""
    out = []
    for name, top, spec, handler, *consts in rows:
        prefix = _TOPS[top][0 if a32 else 1]
        out.append((name, f"{prefix} {spec}", handler, *consts))
    return table(out, fields=NEON_FIELDS, formats=NEON_FORMATS)


def neon_groups(a32: bool) -> List[Group]:
    """Loads/stores and data processing, each built (and its handlers imported) the first time a
    word of its space is decoded: bits 31:24 tell them apart from each other and from the rest."""
    sem = __name__.rpartition(".")[0] + ".sem"
    mem = (0xFF100000, 0xF4000000 if a32 else 0xF9000000)  # 1111 0100 / 1111 1001, bit 20 clear
    dp = (0xFE000000, 0xF2000000) if a32 else (0xEF000000, 0xEF000000)  # 1111 001U / 111U 1111
    return [Group(*mem, lambda: neon_patterns(a32, MEM_ROWS), needs=(f"{sem}.neon_mem",)),
            Group(*dp, lambda: neon_patterns(a32, DP_ROWS), needs=(f"{sem}.neon_dp", f"{sem}.neon_misc"))]
