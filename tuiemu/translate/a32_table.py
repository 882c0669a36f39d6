"""A32 (ARM state) encodings of ARMv7-A as a pattern table (ARM ARM chapter A5).

Rows are (name, bits, handler[, constant args]) in the syntax of decodetree.py; order matters
where encodings overlap: the unconditional space first, then the miscellaneous and multiply
spaces that sit inside data processing, then the general forms.
"""
from __future__ import annotations

from .decodetree import Decoder, Group, table
from .neon_table import neon_groups
from .vfp_table import vfp_group

C = "cond:4!1111"

# Immediates split over the word, most significant part first.
A32_FIELDS = {
    "imm4_12": "16:4 0:12",  # MOVW/MOVT imm4:imm12
    "imm12_4": "8:12 0:4",  # BKPT/HVC imm12:imm4
    "imm4h_l": "8:4 0:4",  # extra load/store imm4H:imm4L
    "imm24_h": "0:s24 24:1",  # BLX (immediate) imm24:H
}

A32_FORMATS = {
    # extra load/store (A5.2.8): P U W, Rn, Rt, and a register or imm4H:imm4L offset;
    # the rows give L (bit 20) and op2 (bits 6:5)
    "xreg": f"{C} 000 p:1 u:1 0 w:1 . rn:4 rt:4 0000 1..1 rm:4",
    "ximm": f"{C} 000 p:1 u:1 1 w:1 . rn:4 rt:4 .... 1..1 .... imm=%imm4h_l",
}

A32_ROWS = [
    # ---- unconditional space (cond = 1111) ----
    ("CPS", "1111 00010000 imod:2 m:1 0 ....... a:1 i:1 f:1 0 mode:5", "cps"),
    ("SETEND", "1111 00010000 0001 .... .. e:1 . 0000 ....", "setend"),
    ("PLI_imm", "1111 0100 . 101 .... 1111 ............", "hint_nop"),
    ("PLD_imm", "1111 0101 . . 01 .... 1111 ............", "hint_nop"),
    ("PLI_reg", "1111 0110 . 101 .... 1111 ..... .. 0 ....", "hint_nop"),
    ("PLD_reg", "1111 0111 . . 01 .... 1111 ..... .. 0 ....", "hint_nop"),
    ("CLREX", "1111 01010111 1111 1111 0000 0001 1111", "clrex"),
    ("DSB", "1111 01010111 1111 1111 0000 0100 option:4", "barrier", {"kind": "dsb"}),
    ("DMB", "1111 01010111 1111 1111 0000 0101 option:4", "barrier", {"kind": "dmb"}),
    ("ISB", "1111 01010111 1111 1111 0000 0110 option:4", "barrier", {"kind": "isb"}),
    ("SRS", "1111 100 p:1 u:1 1 w:1 0 1101 0000 0101 000 mode:5", "srs"),
    ("RFE", "1111 100 p:1 u:1 0 w:1 1 rn:4 0000 1010 0000 0000", "rfe"),
    ("BLX_imm", "1111 101 . ........................ imm#1=%imm24_h", "blx_imm"),

    # ---- miscellaneous (inside data processing, bit 24:23 = 10, S = 0) ----
    ("MRS", f"{C} 00010 r:1 00 1111 rd:4 0000 0000 0000", "mrs"),
    ("MRS_banked", f"{C} 00010 r:1 00 m1:4 rd:4 001 m:1 0000 0000", "mrs_banked"),
    ("MSR_banked", f"{C} 00010 r:1 10 m1:4 1111 001 m:1 0000 rn:4", "msr_banked"),
    ("MSR_reg", f"{C} 00010 r:1 10 mask:4 1111 0000 0000 rn:4", "msr_reg"),
    ("BX", f"{C} 00010010 1111 1111 1111 0001 rm:4", "bx"),
    ("BXJ", f"{C} 00010010 1111 1111 1111 0010 rm:4", "bx"),
    ("BLX_reg", f"{C} 00010010 1111 1111 1111 0011 rm:4", "blx_reg"),
    ("CLZ", f"{C} 00010110 1111 rd:4 1111 0001 rm:4", "clz"),
    ("QADDSUB", f"{C} 00010 op:2 0 rn:4 rd:4 0000 0101 rm:4", "qaddsub"),
    ("BKPT", f"{C} 00010010 ............ 0111 .... imm=%imm12_4", "bkpt"),
    ("HVC", f"{C} 00010100 ............ 0111 .... imm=%imm12_4", "hvc"),
    ("SMC", f"{C} 00010110 0000 0000 0000 0111 ....", "undef"),
    ("ERET", f"{C} 00010110 0000 0000 0000 0110 1110", "eret"),
    ("SMLAxy", f"{C} 00010000 rd:4 ra:4 rm:4 1 m:1 n:1 0 rn:4", "smla_xy"),
    ("SMLAWy", f"{C} 00010010 rd:4 ra:4 rm:4 1 m:1 0 0 rn:4", "smlaw_y"),
    ("SMULWy", f"{C} 00010010 rd:4 0000 rm:4 1 m:1 1 0 rn:4", "smulw_y"),
    ("SMLALxy", f"{C} 00010100 rdhi:4 rdlo:4 rm:4 1 m:1 n:1 0 rn:4", "smlal_xy"),
    ("SMULxy", f"{C} 00010110 rd:4 0000 rm:4 1 m:1 n:1 0 rn:4", "smul_xy"),

    # ---- multiply and synchronisation primitives (bits 7:4 = 1001) ----
    ("MUL", f"{C} 0000000 s:1 rd:4 0000 rm:4 1001 rn:4", "mul"),
    ("MLA", f"{C} 0000001 s:1 rd:4 ra:4 rm:4 1001 rn:4", "mla"),
    ("UMAAL", f"{C} 00000100 rdhi:4 rdlo:4 rm:4 1001 rn:4", "umaal"),
    ("MLS", f"{C} 00000110 rd:4 ra:4 rm:4 1001 rn:4", "mls"),
    ("xMULL", f"{C} 00001 sgn:1 acc:1 s:1 rdhi:4 rdlo:4 rm:4 1001 rn:4", "mull"),
    ("SWP", f"{C} 00010 b:1 00 rn:4 rt:4 0000 1001 rt2:4", "swp"),
    ("STREX", f"{C} 00011 sz:2 0 rn:4 rd:4 1111 1001 rt:4", "strex"),
    ("LDREX", f"{C} 00011 sz:2 1 rn:4 rt:4 1111 1001 1111", "ldrex"),

    # ---- extra load/store (bits 7:4 = 1011, 1101, 1111) ----
    #              cond     P U I W L Rn   Rt           op2
    ("STRH_reg",  "---- --- - - - - 0 ---- ---- ---- -01- ---- @xreg", "ldst_extra", {"op": "strh"}),
    ("LDRH_reg",  "---- --- - - - - 1 ---- ---- ---- -01- ---- @xreg", "ldst_extra", {"op": "ldrh"}),
    ("LDRD_reg",  "---- --- - - - - 0 ---- ---- ---- -10- ---- @xreg", "ldst_extra", {"op": "ldrd"}),
    ("LDRSB_reg", "---- --- - - - - 1 ---- ---- ---- -10- ---- @xreg", "ldst_extra", {"op": "ldrsb"}),
    ("STRD_reg",  "---- --- - - - - 0 ---- ---- ---- -11- ---- @xreg", "ldst_extra", {"op": "strd"}),
    ("LDRSH_reg", "---- --- - - - - 1 ---- ---- ---- -11- ---- @xreg", "ldst_extra", {"op": "ldrsh"}),
    ("STRH_imm",  "---- --- - - - - 0 ---- ---- ---- -01- ---- @ximm", "ldst_extra", {"op": "strh"}),
    ("LDRH_imm",  "---- --- - - - - 1 ---- ---- ---- -01- ---- @ximm", "ldst_extra", {"op": "ldrh"}),
    ("LDRD_imm",  "---- --- - - - - 0 ---- ---- ---- -10- ---- @ximm", "ldst_extra", {"op": "ldrd"}),
    ("LDRSB_imm", "---- --- - - - - 1 ---- ---- ---- -10- ---- @ximm", "ldst_extra", {"op": "ldrsb"}),
    ("STRD_imm",  "---- --- - - - - 0 ---- ---- ---- -11- ---- @ximm", "ldst_extra", {"op": "strd"}),
    ("LDRSH_imm", "---- --- - - - - 1 ---- ---- ---- -11- ---- @ximm", "ldst_extra", {"op": "ldrsh"}),

    # ---- hints, MSR immediate, MOVW/MOVT ----
    ("HINT", f"{C} 00110010 0000 1111 0000 op:8", "hint"),
    ("MSR_imm", f"{C} 00110 r:1 10 mask:4 1111 rot:4 imm8:8", "msr_imm"),
    ("MOVW", f"{C} 00110000 .... rd:4 ............ imm=%imm4_12", "movw"),
    ("MOVT", f"{C} 00110100 .... rd:4 ............ imm=%imm4_12", "movt"),

    # ---- data processing ----
    ("DP_reg", f"{C} 000 op:4 s:1 rn:4 rd:4 imm5:5 type:2 0 rm:4", "dp_reg"),
    ("DP_rsr", f"{C} 000 op:4 s:1 rn:4 rd:4 rs:4 0 type:2 1 rm:4", "dp_rsr"),
    ("DP_imm", f"{C} 001 op:4 s:1 rn:4 rd:4 rot:4 imm8:8", "dp_imm"),

    # ---- media ----
    ("PARALLEL", f"{C} 01100 op1:3 rn:4 rd:4 1111 op2:3 1 rm:4", "parallel"),
    ("SEL", f"{C} 01101000 rn:4 rd:4 1111 1011 rm:4", "sel"),
    ("PKH", f"{C} 01101000 rn:4 rd:4 imm5:5 tb:1 01 rm:4", "pkh"),
    ("SSAT16", f"{C} 01101010 sat:4 rd:4 1111 0011 rn:4", "sat16", {"uns": False}),
    ("USAT16", f"{C} 01101110 sat:4 rd:4 1111 0011 rn:4", "sat16", {"uns": True}),
    ("REV", f"{C} 01101011 1111 rd:4 1111 0011 rm:4", "rev", {"op": "rev"}),
    ("REV16", f"{C} 01101011 1111 rd:4 1111 1011 rm:4", "rev", {"op": "rev16"}),
    ("RBIT", f"{C} 01101111 1111 rd:4 1111 0011 rm:4", "rev", {"op": "rbit"}),
    ("REVSH", f"{C} 01101111 1111 rd:4 1111 1011 rm:4", "rev", {"op": "revsh"}),
    ("SSAT", f"{C} 0110101 sat:5 rd:4 imm5:5 sh:1 01 rn:4", "sat", {"uns": False}),
    ("USAT", f"{C} 0110111 sat:5 rd:4 imm5:5 sh:1 01 rn:4", "sat", {"uns": True}),
    ("XTEND", f"{C} 01101 op:3 rn:4 rd:4 rot:2 00 0111 rm:4", "extend"),
    ("SMLAD", f"{C} 01110000 rd:4 ra:4 rm:4 0 sub:1 m:1 1 rn:4", "smlad"),
    ("SMLALD", f"{C} 01110100 rdhi:4 rdlo:4 rm:4 0 sub:1 m:1 1 rn:4", "smlald"),
    ("SDIV", f"{C} 01110001 rd:4 1111 rm:4 0001 rn:4", "div", {"signed": True}),
    ("UDIV", f"{C} 01110011 rd:4 1111 rm:4 0001 rn:4", "div", {"signed": False}),
    ("SMMLA", f"{C} 01110101 rd:4 ra:4 rm:4 00 r:1 1 rn:4", "smmla", {"sub": False}),
    ("SMMLS", f"{C} 01110101 rd:4 ra:4 rm:4 11 r:1 1 rn:4", "smmla", {"sub": True}),
    ("USADA8", f"{C} 01111000 rd:4 ra:4 rm:4 0001 rn:4", "usada8"),
    ("SBFX", f"{C} 0111101 widthm1:5 rd:4 lsb:5 101 rn:4", "bfx", {"signed": True}),
    ("UBFX", f"{C} 0111111 widthm1:5 rd:4 lsb:5 101 rn:4", "bfx", {"signed": False}),
    ("BFI", f"{C} 0111110 msb:5 rd:4 lsb:5 001 rn:4", "bfi"),
    ("UDF", "1110 01111111 ............ 1111 ....", "undef"),

    # ---- load/store word and unsigned byte ----
    ("LDST_imm", f"{C} 010 p:1 u:1 b:1 w:1 l:1 rn:4 rt:4 imm12:12", "ldst", {"reg": False}),
    ("LDST_reg", f"{C} 011 p:1 u:1 b:1 w:1 l:1 rn:4 rt:4 imm5:5 type:2 0 rm:4", "ldst", {"reg": True}),

    # ---- branches, block transfer ----
    ("LDM_STM", f"{C} 100 p:1 u:1 s:1 w:1 l:1 rn:4 reglist:16", "ldm_stm"),
    ("B", f"{C} 101 l:1 imm#2:s24", "b"),

    # ---- coprocessor, SVC ----
    ("MCRR", f"{C} 1100010 l:1 rt2:4 rt:4 coproc:4 opc1:4 crm:4", "mcrr"),
    ("MCR", f"{C} 1110 opc1:3 l:1 crn:4 rt:4 coproc:4 opc2:3 1 crm:4", "mcr"),
    ("SVC", f"{C} 1111 imm:24", "svc"),
]

# VFP and Advanced SIMD first: VFP rows sit inside the MCR/MCRR space (coprocessors 10 and 11).
# Every part is built on first need (the integer rows at the first decode).
A32_DECODER = Decoder([vfp_group(C), *neon_groups(a32=True),
                       Group(0, 0, lambda: table(A32_ROWS, fields=A32_FIELDS, formats=A32_FORMATS))],
                      key_bits=[(20, 8), (4, 4)])
