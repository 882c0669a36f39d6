"""Thumb encodings of ARMv7-A as pattern tables (ARM ARM chapter A6): T16 and T32 (Thumb-2).

16-bit patterns are over the halfword; 32-bit patterns over ``(hw1 << 16) | hw2`` and are
written as two specs, one per halfword, in the syntax of decodetree.py. Rows are (name, bits,
handler[, constant args]); order matters where encodings overlap.

Handler names are shared with the A32 table wherever the fields mean the same thing;
the Thumb-only ones live in sem/thumb.py.
"""
from __future__ import annotations

from typing import List, Sequence

from .decodetree import Decoder, Group, Pattern, table
from .isa import (
    ADC,
    ADD,
    AND,
    ASR,
    BIC,
    CMN,
    CMP,
    EOR,
    LSL,
    LSR,
    MOV,
    MVN,
    ORR,
    PC,
    ROR,
    RSB,
    SBC,
    SP,
    SUB,
    TST,
)
from .neon_table import neon_groups
from .vfp_table import vfp_group


def _ldst16(name: str, bits: str, sz: int, l: int, mode: str, **consts: object) -> tuple:
    return (name, bits, "t_ldst", dict(sz=sz, l=l, s=consts.pop("s", 0), mode=mode, **consts))


T16_FIELDS = {
    "rdn": "0:3",  # one register field that is both a source and the destination
    "rdn8": "8:3",  # the same, in bits 10:8
    "dn": "7:1 0:3",  # DN:Rdn (D:Rd, N:Rn) of the high-register forms
    "i_imm5": "9:1 3:5",  # CBZ/CBNZ
}

T16_FORMATS = {
    "rdn_rm": "...... .... rm:3 ... rd=%rdn rn=%rdn",  # two-operand data processing: Rdn op= Rm
}

T16_ROWS = [
    # ---- shift (immediate), add, subtract, move, compare ----
    ("LSL_imm", "00000 imm5:5 rm:3 rd:3", "t16_shift", {"type": LSL}),  # imm5 = 0: MOVS rd, rm
    ("LSR_imm", "00001 imm5:5 rm:3 rd:3", "t16_shift", {"type": LSR}),
    ("ASR_imm", "00010 imm5:5 rm:3 rd:3", "t16_shift", {"type": ASR}),
    ("ADD_reg_T1", "0001100 rm:3 rn:3 rd:3", "t16_alu", {"op": ADD}),
    ("SUB_reg_T1", "0001101 rm:3 rn:3 rd:3", "t16_alu", {"op": SUB}),
    ("ADD_imm_T1", "0001110 imm:3 rn:3 rd:3", "t16_alu", {"op": ADD}),
    ("SUB_imm_T1", "0001111 imm:3 rn:3 rd:3", "t16_alu", {"op": SUB}),
    ("MOV_imm_T1", "00100 rd:3 imm:8", "t16_alu", {"op": MOV, "rn": 0}),
    ("CMP_imm_T1", "00101 rn:3 imm:8", "t16_alu", {"op": CMP, "rd": 0}),
    ("ADD_imm_T2", "00110 ... imm:8 rd=%rdn8 rn=%rdn8", "t16_alu", {"op": ADD}),
    ("SUB_imm_T2", "00111 ... imm:8 rd=%rdn8 rn=%rdn8", "t16_alu", {"op": SUB}),

    # ---- data processing (register) ----
    ("AND_reg_T1", "010000 0000 --- --- @rdn_rm", "t16_alu", {"op": AND}),
    ("EOR_reg_T1", "010000 0001 --- --- @rdn_rm", "t16_alu", {"op": EOR}),
    ("LSL_reg_T1", "010000 0010 --- --- @rdn_rm", "t16_shift_reg", {"type": LSL}),
    ("LSR_reg_T1", "010000 0011 --- --- @rdn_rm", "t16_shift_reg", {"type": LSR}),
    ("ASR_reg_T1", "010000 0100 --- --- @rdn_rm", "t16_shift_reg", {"type": ASR}),
    ("ADC_reg_T1", "010000 0101 --- --- @rdn_rm", "t16_alu", {"op": ADC}),
    ("SBC_reg_T1", "010000 0110 --- --- @rdn_rm", "t16_alu", {"op": SBC}),
    ("ROR_reg_T1", "010000 0111 --- --- @rdn_rm", "t16_shift_reg", {"type": ROR}),
    ("TST_reg_T1", "010000 1000 rm:3 rn:3", "t16_alu", {"op": TST, "rd": 0}),
    ("RSB_imm_T1", "010000 1001 rn:3 rd:3", "t16_alu", {"op": RSB, "imm": 0}),  # NEGS
    ("CMP_reg_T1", "010000 1010 rm:3 rn:3", "t16_alu", {"op": CMP, "rd": 0}),
    ("CMN_reg_T1", "010000 1011 rm:3 rn:3", "t16_alu", {"op": CMN, "rd": 0}),
    ("ORR_reg_T1", "010000 1100 --- --- @rdn_rm", "t16_alu", {"op": ORR}),
    ("MUL_T1", "010000 1101 rn:3 ... rd=%rdn rm=%rdn", "t16_flags", {"via": "mul"}),
    ("BIC_reg_T1", "010000 1110 --- --- @rdn_rm", "t16_alu", {"op": BIC}),
    ("MVN_reg_T1", "010000 1111 rm:3 rd:3", "t16_alu", {"op": MVN, "rn": 0}),

    # ---- special data processing, branch and exchange ----
    ("ADD_reg_T2", "01000100 . rm:4 ... rd=%dn rn=%dn", "t16_alu", {"op": ADD, "flags": "never"}),
    ("CMP_reg_T2", "01000101 . rm:4 ... rn=%dn", "t16_alu", {"op": CMP, "rd": 0}),
    ("MOV_reg_T1", "01000110 . rm:4 ... rd=%dn", "t16_alu", {"op": MOV, "rn": 0, "flags": "never"}),
    ("BX_T1", "010001110 rm:4 ...", "bx"),
    ("BLX_reg_T1", "010001111 rm:4 ...", "blx_reg"),
    _ldst16("LDR_lit_T1", "01001 rt:3 imm#2:8", 2, 1, "imm", rn=PC),

    # ---- load/store single data item ----
    _ldst16("STR_reg_T1", "0101000 rm:3 rn:3 rt:3", 2, 0, "reg", imm2=0),
    _ldst16("STRH_reg_T1", "0101001 rm:3 rn:3 rt:3", 1, 0, "reg", imm2=0),
    _ldst16("STRB_reg_T1", "0101010 rm:3 rn:3 rt:3", 0, 0, "reg", imm2=0),
    _ldst16("LDRSB_reg_T1", "0101011 rm:3 rn:3 rt:3", 0, 1, "reg", imm2=0, s=1),
    _ldst16("LDR_reg_T1", "0101100 rm:3 rn:3 rt:3", 2, 1, "reg", imm2=0),
    _ldst16("LDRH_reg_T1", "0101101 rm:3 rn:3 rt:3", 1, 1, "reg", imm2=0),
    _ldst16("LDRB_reg_T1", "0101110 rm:3 rn:3 rt:3", 0, 1, "reg", imm2=0),
    _ldst16("LDRSH_reg_T1", "0101111 rm:3 rn:3 rt:3", 1, 1, "reg", imm2=0, s=1),
    _ldst16("STR_imm_T1", "01100 imm#2:5 rn:3 rt:3", 2, 0, "imm"),
    _ldst16("LDR_imm_T1", "01101 imm#2:5 rn:3 rt:3", 2, 1, "imm"),
    _ldst16("STRB_imm_T1", "01110 imm:5 rn:3 rt:3", 0, 0, "imm"),
    _ldst16("LDRB_imm_T1", "01111 imm:5 rn:3 rt:3", 0, 1, "imm"),
    _ldst16("STRH_imm_T1", "10000 imm#1:5 rn:3 rt:3", 1, 0, "imm"),
    _ldst16("LDRH_imm_T1", "10001 imm#1:5 rn:3 rt:3", 1, 1, "imm"),
    _ldst16("STR_sp_T2", "10010 rt:3 imm#2:8", 2, 0, "imm", rn=SP),
    _ldst16("LDR_sp_T2", "10011 rt:3 imm#2:8", 2, 1, "imm", rn=SP),
    ("ADR_T1", "10100 rd:3 imm#2:8", "t_addsub_imm", {"rn": PC, "sub": 0}),
    ("ADD_sp_T1", "10101 rd:3 imm#2:8", "t_addsub_imm", {"rn": SP, "sub": 0}),

    # ---- miscellaneous 16-bit instructions ----
    ("ADD_sp_T2", "101100000 imm#2:7", "t_addsub_imm", {"rd": SP, "rn": SP, "sub": 0}),
    ("SUB_sp_T1", "101100001 imm#2:7", "t_addsub_imm", {"rd": SP, "rn": SP, "sub": 1}),
    ("CBZ", "1011 nz:1 0 . 1 ..... rn:3 imm#1=%i_imm5", "cbz"),
    ("SXTH_T1", "1011001000 rm:3 rd:3", "extend", {"op": 3, "rn": PC, "rot": 0}),
    ("SXTB_T1", "1011001001 rm:3 rd:3", "extend", {"op": 2, "rn": PC, "rot": 0}),
    ("UXTH_T1", "1011001010 rm:3 rd:3", "extend", {"op": 7, "rn": PC, "rot": 0}),
    ("UXTB_T1", "1011001011 rm:3 rd:3", "extend", {"op": 6, "rn": PC, "rot": 0}),
    ("PUSH_T1", "1011010 extra:1 regs:8", "t16_pushpop", {"l": 0}),
    ("SETEND_T1", "101101100101 e:1 ...", "setend"),
    ("CPSIE_T1", "10110110011 0 . a:1 i:1 f:1", "cps", {"imod": 2, "m": 0, "mode": 0}),
    ("CPSID_T1", "10110110011 1 . a:1 i:1 f:1", "cps", {"imod": 3, "m": 0, "mode": 0}),
    ("REV_T1", "1011101000 rm:3 rd:3", "rev", {"op": "rev"}),
    ("REV16_T1", "1011101001 rm:3 rd:3", "rev", {"op": "rev16"}),
    ("REVSH_T1", "1011101011 rm:3 rd:3", "rev", {"op": "revsh"}),
    ("POP_T1", "1011110 extra:1 regs:8", "t16_pushpop", {"l": 1}),
    ("BKPT_T1", "10111110 imm:8", "bkpt"),
    ("IT", "10111111 firstcond:4 mask:4!0000", "it"),
    ("HINT_T1", "10111111 op:4 0000", "hint"),  # NOP, YIELD, WFE, WFI, SEV

    # ---- load/store multiple, conditional branch, SVC, unconditional branch ----
    ("STM_T1", "11000 rn:3 reglist:8", "ldm_stm", {"p": 0, "u": 1, "s": 0, "w": 1, "l": 0}),
    ("LDM_T1", "11001 rn:3 reglist:8", "t16_ldm"),  # writeback unless rn is loaded
    ("UDF_T1", "11011110 ........", "undef"),
    ("SVC_T1", "11011111 imm:8", "t_svc"),
    ("B_T1", "1101 cond:4 imm#1:s8", "t_b"),
    ("B_T2", "11100 imm#1:s11", "t_b"),
]


# Positions in (hw1 << 16) | hw2, most significant part first.
T32_FIELDS = {
    "imm12": "26:1 12:3 0:8",  # i:imm3:imm8
    "imm16": "16:4 26:1 12:3 0:8",  # MOVW/MOVT imm4:i:imm3:imm8
    "imm5": "12:3 6:2",  # imm3:imm2: shift amounts, bit positions
    "imm4_12": "16:4 0:12",  # HVC
    "b_t3": "26:s1 11:1 13:1 16:6 0:11",  # B (T3) S:J2:J1:imm6:imm11
}


def _t32(rows: Sequence[tuple]) -> List[Pattern]:
    """Rows written as (name, hw1 bits, hw2 bits, handler[, consts])."""
    return table([(r[0], f"{r[1]} {r[2]}", *r[3:]) for r in rows], width=32, fields=T32_FIELDS)


# Parallel add/subtract: T32 puts the operation in hw1[6:4] and U/saturating/halving in
# hw2[6:4]; A32 numbers them op2 and op1 (op1 = 1 + hw2[6:4] for the six valid prefixes).
_PARALLEL_OPS = {"ADD16": (0b001, 0), "ASX": (0b010, 1), "SAX": (0b110, 2), "SUB16": (0b101, 3),
                 "ADD8": (0b000, 4), "SUB8": (0b100, 7)}
_PARALLEL_KINDS = {"S": 0b000, "Q": 0b001, "SH": 0b010, "U": 0b100, "UQ": 0b101, "UH": 0b110}
_PARALLEL = [(f"{k}{op}", f"111110101 {t1:03b} rn:4", f"1111 rd:4 0 {t2:03b} rm:4", "parallel",
              {"op1": t2 + 1, "op2": a32op})
             for op, (t1, a32op) in _PARALLEL_OPS.items() for k, t2 in _PARALLEL_KINDS.items()]

# Bits the ARM ARM shows as (0) or (1) (should-be) are don't-cares here, as in QEMU.
T32_ROWS = [
    # ---- load/store multiple, SRS, RFE ----
    ("SRSDB_T1", "1110100000 w:1 0 ....", "........... mode:5", "srs", {"p": 1, "u": 0}),
    ("SRSIA_T2", "1110100110 w:1 0 ....", "........... mode:5", "srs", {"p": 0, "u": 1}),
    ("RFEDB_T1", "1110100000 w:1 1 rn:4", "................", "rfe", {"p": 1, "u": 0}),
    ("RFEIA_T2", "1110100110 w:1 1 rn:4", "................", "rfe", {"p": 0, "u": 1}),
    ("STM_T2", "1110100010 w:1 0 rn:4", "reglist:16", "ldm_stm", {"p": 0, "u": 1, "s": 0, "l": 0}),
    ("LDM_T2", "1110100010 w:1 1 rn:4", "reglist:16", "ldm_stm", {"p": 0, "u": 1, "s": 0, "l": 1}),
    ("STMDB_T1", "1110100100 w:1 0 rn:4", "reglist:16", "ldm_stm", {"p": 1, "u": 0, "s": 0, "l": 0}),
    ("LDMDB_T1", "1110100100 w:1 1 rn:4", "reglist:16", "ldm_stm", {"p": 1, "u": 0, "s": 0, "l": 1}),

    # ---- load/store dual and exclusive, table branch ----
    ("STREX_T1", "111010000100 rn:4", "rt:4 rd:4 imm#2:8", "t32_strex", {"size": 4}),
    ("LDREX_T1", "111010000101 rn:4", "rt:4 .... imm#2:8", "t32_ldrex", {"size": 4}),
    ("STREXB_T1", "111010001100 rn:4", "rt:4 .... 0100 rd:4", "t32_strex", {"size": 1, "imm": 0}),
    ("STREXH_T1", "111010001100 rn:4", "rt:4 .... 0101 rd:4", "t32_strex", {"size": 2, "imm": 0}),
    ("STREXD_T1", "111010001100 rn:4", "rt:4 rt2:4 0111 rd:4", "t32_strex", {"size": 8, "imm": 0}),
    ("TBB_TBH", "111010001101 rn:4", "........000 h:1 rm:4", "tbb"),
    ("LDREXB_T1", "111010001101 rn:4", "rt:4 .... 0100 ....", "t32_ldrex", {"size": 1, "imm": 0}),
    ("LDREXH_T1", "111010001101 rn:4", "rt:4 .... 0101 ....", "t32_ldrex", {"size": 2, "imm": 0}),
    ("LDREXD_T1", "111010001101 rn:4", "rt:4 rt2:4 0111 ....", "t32_ldrex", {"size": 8, "imm": 0}),
    ("LDRD_STRD", "1110100 p:1 u:1 1 w:1 l:1 rn:4", "rt:4 rt2:4 imm#2:8", "t32_ldrd"),  # P or W set

    # ---- data processing (shifted register) ----
    ("PKH_T1", "111010101100 rn:4", ". ... rd:4 .. tb:1 0 rm:4 imm5=%imm5", "pkh"),
    ("DP_sreg", "1110101 op:4 s:1 rn:4", ". ... rd:4 .. type:2 rm:4 imm5=%imm5", "t32_dp_reg"),

    # ---- coprocessor moves (cp14/cp15; no VFP/Advanced SIMD) ----
    ("MCRR_T1", "11101100010 l:1 rt2:4", "rt:4 coproc:4 opc1:4 crm:4", "mcrr"),
    ("MCR_T1", "11101110 opc1:3 l:1 crn:4", "rt:4 coproc:4 opc2:3 1 crm:4", "mcr"),

    # ---- data processing (modified immediate, plain binary immediate) ----
    ("DP_mimm", "11110 . 0 op:4 s:1 rn:4", "0 ... rd:4 ........ imm=%imm12", "t32_dp_imm"),
    ("ADDW", "11110 . 1 00000 rn:4", "0 ... rd:4 ........ imm=%imm12", "t_addsub_imm", {"sub": 0}),  # rn = 15: ADR
    ("MOVW_T3", "11110 . 1 00100 ....", "0 ... rd:4 ........ imm=%imm16", "movw"),
    ("SUBW", "11110 . 1 01010 rn:4", "0 ... rd:4 ........ imm=%imm12", "t_addsub_imm", {"sub": 1}),
    ("MOVT_T1", "11110 . 1 01100 ....", "0 ... rd:4 ........ imm=%imm16", "movt"),
    ("SSAT16_T1", "11110 . 1 10010 rn:4", "0 000 rd:4 00.. sat:4", "sat16", {"uns": False}),
    ("SSAT_T1", "11110 . 1 100 sh:1 0 rn:4", "0 ... rd:4 .. . sat:5 imm5=%imm5", "sat", {"uns": False}),
    ("SBFX_T1", "11110 . 1 10100 rn:4", "0 ... rd:4 .. . widthm1:5 lsb=%imm5", "bfx", {"signed": True}),
    ("BFI_T1", "11110 . 1 10110 rn:4", "0 ... rd:4 .. . msb:5 lsb=%imm5", "bfi"),  # rn = 15: BFC
    ("USAT16_T1", "11110 . 1 11010 rn:4", "0 000 rd:4 00.. sat:4", "sat16", {"uns": True}),
    ("USAT_T1", "11110 . 1 110 sh:1 0 rn:4", "0 ... rd:4 .. . sat:5 imm5=%imm5", "sat", {"uns": True}),
    ("UBFX_T1", "11110 . 1 11100 rn:4", "0 ... rd:4 .. . widthm1:5 lsb=%imm5", "bfx", {"signed": False}),

    # ---- branches and miscellaneous control (hw2[15] = 1) ----
    ("MSR_banked_T1", "11110011100 r:1 rn:4", "10.0 m1:4 ..1 m:1 ....", "msr_banked"),
    ("MSR_reg_T1", "11110011100 r:1 rn:4", "10.0 mask:4 ..0. ....", "msr_reg"),
    ("HINT_T2", "111100111010 ....", "10.0.000 op:8", "hint"),
    ("CPS_T2", "111100111010 ....", "10.0. imod:2 m:1 a:1 i:1 f:1 mode:5", "cps"),
    ("CLREX_T1", "111100111011 ....", "10.0 .... 0010 ....", "clrex"),
    ("DSB_T1", "111100111011 ....", "10.0 .... 0100 option:4", "barrier", {"kind": "dsb"}),
    ("DMB_T1", "111100111011 ....", "10.0 .... 0101 option:4", "barrier", {"kind": "dmb"}),
    ("ISB_T1", "111100111011 ....", "10.0 .... 0110 option:4", "barrier", {"kind": "isb"}),
    ("BXJ_T1", "111100111100 rm:4", "10.0 .... .... ....", "bx"),
    ("SUBS_PC_LR", "111100111101 ....", "10.0 .... imm:8", "t32_subs_pc_lr"),  # ERET = imm 0
    ("MRS_banked_T1", "11110011111 r:1 m1:4", "10.0 rd:4 ..1 m:1 ....", "mrs_banked"),
    ("MRS_T1", "11110011111 r:1 ....", "10.0 rd:4 ..0. ....", "mrs"),
    ("HVC_T1", "111101111110 ....", "1000 ............ imm=%imm4_12", "hvc"),
    ("SMC_T1", "111101111111 ....", "1000 0000 0000 0000", "undef"),
    ("UDF_T2", "111101111111 ....", "1010 ............", "undef"),
    ("MISC_unalloc", "11110 . 111 .......", "10.0 ............", "undef"),
    ("B_T3", "11110 . cond:4 ......", "10 . 0 . ........... imm#1=%b_t3", "t_b"),
    ("B_T4", "11110 s:1 imm10:10", "10 j1:1 1 j2:1 imm11:11", "t32_bl", {"link": 0, "x": 0}),
    ("BLX_imm_T2", "11110 s:1 imm10:10", "11 j1:1 0 j2:1 imm11:11", "t32_bl", {"link": 1, "x": 1}),
    ("BL_T1", "11110 s:1 imm10:10", "11 j1:1 1 j2:1 imm11:11", "t32_bl", {"link": 1, "x": 0}),

    # ---- load/store single data item (sz: 0 byte, 1 halfword, 2 word; s: signed load) ----
    ("MEM_HINT", "1111100 . . 0 . 1 ....", "1111 ............", "hint_nop"),  # PLD, PLDW, PLI
    ("LDR_lit", "1111100 s:1 u:1 sz:2 1 1111", "rt:4 imm:12", "t_ldst", {"rn": PC, "l": 1, "mode": "imm"}),
    ("LDST_imm12", "1111100 s:1 1 sz:2 l:1 rn:4", "rt:4 imm:12", "t_ldst", {"u": 1, "mode": "imm"}),
    ("LDST_user", "1111100 s:1 0 sz:2 l:1 rn:4", "rt:4 1110 imm:8", "t_ldst", {"mode": "user"}),
    ("LDST_imm8", "1111100 s:1 0 sz:2 l:1 rn:4", "rt:4 1 p:1 u:1 w:1 imm:8", "t_ldst", {"mode": "imm8"}),
    ("LDST_reg", "1111100 s:1 0 sz:2 l:1 rn:4", "rt:4 000000 imm2:2 rm:4", "t_ldst", {"mode": "reg"}),

    # ---- data processing (register) ----
    ("SHIFT_reg_T2", "11111010 0 type:2 s:1 rn:4", "1111 rd:4 0000 rm:4", "t32_shift_reg"),
    ("SXTAH_T1", "11111010 0000 rn:4", "1111 rd:4 1. rot:2 rm:4", "extend", {"op": 3}),  # rn = 15: SXTH
    ("UXTAH_T1", "11111010 0001 rn:4", "1111 rd:4 1. rot:2 rm:4", "extend", {"op": 7}),
    ("SXTAB16_T1", "11111010 0010 rn:4", "1111 rd:4 1. rot:2 rm:4", "extend", {"op": 0}),
    ("UXTAB16_T1", "11111010 0011 rn:4", "1111 rd:4 1. rot:2 rm:4", "extend", {"op": 4}),
    ("SXTAB_T1", "11111010 0100 rn:4", "1111 rd:4 1. rot:2 rm:4", "extend", {"op": 2}),
    ("UXTAB_T1", "11111010 0101 rn:4", "1111 rd:4 1. rot:2 rm:4", "extend", {"op": 6}),
    *_PARALLEL,
    ("QADD_T1", "111110101000 rn:4", "1111 rd:4 1000 rm:4", "qaddsub", {"op": 0}),
    ("QDADD_T1", "111110101000 rn:4", "1111 rd:4 1001 rm:4", "qaddsub", {"op": 2}),
    ("QSUB_T1", "111110101000 rn:4", "1111 rd:4 1010 rm:4", "qaddsub", {"op": 1}),
    ("QDSUB_T1", "111110101000 rn:4", "1111 rd:4 1011 rm:4", "qaddsub", {"op": 3}),
    ("REV_T2", "111110101001 ....", "1111 rd:4 1000 rm:4", "rev", {"op": "rev"}),
    ("REV16_T2", "111110101001 ....", "1111 rd:4 1001 rm:4", "rev", {"op": "rev16"}),
    ("RBIT_T1", "111110101001 ....", "1111 rd:4 1010 rm:4", "rev", {"op": "rbit"}),
    ("REVSH_T2", "111110101001 ....", "1111 rd:4 1011 rm:4", "rev", {"op": "revsh"}),
    ("SEL_T1", "111110101010 rn:4", "1111 rd:4 1000 rm:4", "sel"),
    ("CLZ_T1", "111110101011 ....", "1111 rd:4 1000 rm:4", "clz"),

    # ---- multiply, multiply accumulate, absolute difference ----
    ("MUL_T2", "111110110000 rn:4", "1111 rd:4 0000 rm:4", "mul", {"s": 0}),
    ("MLA_T1", "111110110000 rn:4", "ra:4 rd:4 0000 rm:4", "mla", {"s": 0}),
    ("MLS_T1", "111110110000 rn:4", "ra:4 rd:4 0001 rm:4", "mls"),
    ("SMULxy_T1", "111110110001 rn:4", "1111 rd:4 00 n:1 m:1 rm:4", "smul_xy"),
    ("SMLAxy_T1", "111110110001 rn:4", "ra:4 rd:4 00 n:1 m:1 rm:4", "smla_xy"),
    ("SMLAD_T1", "111110110010 rn:4", "ra:4 rd:4 000 m:1 rm:4", "smlad", {"sub": 0}),  # ra = 15: SMUAD
    ("SMULWy_T1", "111110110011 rn:4", "1111 rd:4 000 m:1 rm:4", "smulw_y"),
    ("SMLAWy_T1", "111110110011 rn:4", "ra:4 rd:4 000 m:1 rm:4", "smlaw_y"),
    ("SMLSD_T1", "111110110100 rn:4", "ra:4 rd:4 000 m:1 rm:4", "smlad", {"sub": 1}),  # ra = 15: SMUSD
    ("SMMLA_T1", "111110110101 rn:4", "ra:4 rd:4 000 r:1 rm:4", "smmla", {"sub": False}),  # SMMUL
    ("SMMLS_T1", "111110110110 rn:4", "ra:4 rd:4 000 r:1 rm:4", "smmla", {"sub": True}),
    ("USADA8_T1", "111110110111 rn:4", "ra:4 rd:4 0000 rm:4", "usada8"),  # ra = 15: USAD8

    # ---- long multiply, long multiply accumulate, divide ----
    ("SMULL_T1", "111110111000 rn:4", "rdlo:4 rdhi:4 0000 rm:4", "mull", {"sgn": 1, "acc": 0, "s": 0}),
    ("SDIV_T1", "111110111001 rn:4", ".... rd:4 1111 rm:4", "div", {"signed": True}),
    ("UMULL_T1", "111110111010 rn:4", "rdlo:4 rdhi:4 0000 rm:4", "mull", {"sgn": 0, "acc": 0, "s": 0}),
    ("UDIV_T1", "111110111011 rn:4", ".... rd:4 1111 rm:4", "div", {"signed": False}),
    ("SMLAL_T1", "111110111100 rn:4", "rdlo:4 rdhi:4 0000 rm:4", "mull", {"sgn": 1, "acc": 1, "s": 0}),
    ("SMLALxy_T1", "111110111100 rn:4", "rdlo:4 rdhi:4 10 n:1 m:1 rm:4", "smlal_xy"),
    ("SMLALD_T1", "111110111100 rn:4", "rdlo:4 rdhi:4 110 m:1 rm:4", "smlald", {"sub": 0}),
    ("SMLSLD_T1", "111110111101 rn:4", "rdlo:4 rdhi:4 110 m:1 rm:4", "smlald", {"sub": 1}),
    ("UMLAL_T1", "111110111110 rn:4", "rdlo:4 rdhi:4 0000 rm:4", "mull", {"sgn": 0, "acc": 1, "s": 0}),
    ("UMAAL_T1", "111110111110 rn:4", "rdlo:4 rdhi:4 0110 rm:4", "umaal"),
]


# Every part is built on first need: a program that never enters Thumb state builds neither table.
T16_DECODER = Decoder([Group(0, 0, lambda: table(T16_ROWS, width=16, fields=T16_FIELDS, formats=T16_FORMATS))],
                      key_bits=[(8, 8)])
# VFP and Advanced SIMD first: VFP rows sit inside the MCR/MCRR space (coprocessors 10 and 11),
# Advanced SIMD loads and stores in the load/store space (as stores of signed values).
T32_DECODER = Decoder([vfp_group("1110"), *neon_groups(a32=False), Group(0, 0, lambda: _t32(T32_ROWS))],
                      key_bits=[(20, 9), (15, 1)])


def is_t32(hw1: int) -> bool:
    """hw1[15:11] in 0b11101, 0b11110, 0b11111: the first halfword of a 32-bit instruction."""
    return hw1 >= 0xE800
