"""Architectural numbering shared by the decoder tables, the front ends and the semantic handlers
(ARM ARM A2, A8): one definition each, so that a table's constant and a handler's test agree.
"""
from __future__ import annotations

# Registers with a fixed role.
SP, LR, PC = 13, 14, 15

# Condition codes (A8.3). NV is the A32 unconditional space; in an IT block it means AL.
EQ, NE, CS, CC, MI, PL, VS, VC, HI, LS, GE, LT, GT, LE, AL, NV = range(16)

# Shift types (DecodeImmShift, A8.4.3): ROR with a zero immediate is RRX.
LSL, LSR, ASR, ROR = range(4)

# Data-processing opcodes in A32 numbering (A5.2); T32 opcodes are mapped onto these.
AND, EOR, SUB, RSB, ADD, ADC, SBC, RSC, TST, TEQ, CMP, CMN, ORR, MOV, BIC, MVN = range(16)
