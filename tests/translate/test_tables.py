"""The pattern tables are consistent: every named handler exists, no pattern is shadowed by an
earlier one, each decodes to exactly the arguments it declares, and the immediates assembled
from split and scaled fields are the ones the ARM ARM defines (checked against capstone)."""
from __future__ import annotations

import importlib
import struct
from typing import Any, Dict

import pytest

from tuiemu.translate import sem
from tuiemu.translate.a32_table import A32_DECODER
from tuiemu.translate.decodetree import Decoder
from tuiemu.translate.sem.registry import HANDLERS
from tuiemu.translate.t32_table import T16_DECODER, T32_DECODER

DECODERS: Dict[str, Decoder] = {"A32": A32_DECODER, "T16": T16_DECODER, "T32": T32_DECODER}
WIDTH = {"A32": 32, "T16": 16, "T32": 32}


@pytest.mark.parametrize("isa", sorted(DECODERS))
def test_every_handler_is_registered(isa: str) -> None:
    patterns = DECODERS[isa].patterns
    names = {p.handler for p in patterns} | {p.consts["via"] for p in patterns if "via" in p.consts}
    assert not sorted(names - set(HANDLERS))


@pytest.mark.parametrize("isa", sorted(DECODERS))
def test_each_group_imports_the_handlers_it_names(isa: str) -> None:
    """A group built alone registers its handlers: each lives in a module the group imports
    first, or in one the sem package imports with the front ends."""
    eager = {f"{sem.__name__}.{name}" for name in sem.__all__}
    for group in DECODERS[isa].groups:
        for module in group.needs:
            importlib.import_module(module)
        patterns = group.build()
        names = {p.handler for p in patterns} | {p.consts["via"] for p in patterns if "via" in p.consts}
        assert not sorted(names - set(HANDLERS))
        home = eager | set(group.needs)
        assert not {n: HANDLERS[n].__module__ for n in names if HANDLERS[n].__module__ not in home}


@pytest.mark.parametrize("isa", sorted(DECODERS))
def test_every_pattern_decodes_to_itself(isa: str) -> None:
    """The pattern's own fixed bits (don't-cares and fields from a fill no earlier, more specific
    pattern claims) decode to that pattern, so no entry is shadowed by an earlier one; and to
    exactly the arguments it declares (its fields, split fields and constants)."""
    decoder, full = DECODERS[isa], (1 << WIDTH[isa]) - 1
    for p in decoder.patterns:
        declared = set(p.consts) | {f.name for f in p.fields} | {f.name for f in p.splits}
        for fill in (0, 0xFFFFFFFF, 0x55555555, 0xAAAAAAAA, 0x0E0E0E0E, 0x12345678, 0xFEDCBA98):
            word = p.value | (fill & full & ~p.mask)
            if any(word & m == v for m, v in p.excludes):
                continue
            d = decoder.decode(word)
            if d is not None and d[0] is p:
                assert set(d[1]) == declared, p.name
                break
        else:
            pytest.fail(f"{p.name} is never selected")


# (instruction set, word, what capstone makes of it at 0x1000, pattern, some of its arguments)
GOLDEN = [
    ("A32", 0xE1C102BA, "strh r0, [r1, #0x2a]", "STRH_imm", {"imm": 0x2A, "p": 1, "u": 1, "rn": 1}),
    ("A32", 0xE14421D8, "ldrd r2, r3, [r4, #-0x18]", "LDRD_imm", {"imm": 0x18, "u": 0, "rt": 2}),
    ("A32", 0xE30B5EEF, "movw r5, #0xbeef", "MOVW", {"imm": 0xBEEF, "rd": 5}),
    ("A32", 0xE3415234, "movt r5, #0x1234", "MOVT", {"imm": 0x1234}),
    ("A32", 0xE1212374, "bkpt #0x1234", "BKPT", {"imm": 0x1234}),
    ("A32", 0xE1412374, "hvc #0x1234", "HVC", {"imm": 0x1234}),
    ("A32", 0xEBFFFFFE, "bl #0x1000", "B", {"imm": -8, "l": 1}),  # imm#2:s24
    ("A32", 0xFB000001, "blx #0x100e", "BLX_imm", {"imm": 6}),  # imm24:H:'0'
    ("T16", 0x9802, "ldr r0, [sp, #8]", "LDR_sp_T2", {"imm": 8, "rn": 13}),  # imm#2:8
    ("T16", 0x8FD1, "ldrh r1, [r2, #0x3e]", "LDRH_imm_T1", {"imm": 0x3E}),
    ("T16", 0xB07F, "add sp, #0x1fc", "ADD_sp_T2", {"imm": 0x1FC}),
    ("T16", 0x4451, "add r1, sl", "ADD_reg_T2", {"rd": 1, "rn": 1, "rm": 10}),  # rd=%dn rn=%dn
    ("T16", 0x4011, "ands r1, r2", "AND_reg_T1", {"rd": 1, "rn": 1, "rm": 2}),  # @rdn_rm
    ("T16", 0xB311, "cbz r1, #0x1048", "CBZ", {"imm": 0x44, "rn": 1}),  # i:imm5:'0'
    ("T16", 0xE7FE, "b #0x1000", "B_T2", {"imm": -4}),
    ("T32", 0xF2412345, "movw r3, #0x1245", "MOVW_T3", {"imm": 0x1245, "rd": 3}),  # imm4:i:imm3:imm8
    ("T32", 0xF2C12345, "movt r3, #0x1245", "MOVT_T1", {"imm": 0x1245}),
    ("T32", 0xF00120FF, "and r0, r1, #0xff00ff00", "DP_mimm", {"imm": 0x2FF}),  # i:imm3:imm8
    ("T32", 0xF43FAFFE, "beq.w #0x1000", "B_T3", {"imm": -4, "cond": 0}),  # S:J2:J1:imm6:imm11:'0'
    ("T32", 0xE9D20104, "ldrd r0, r1, [r2, #0x10]", "LDRD_STRD", {"imm": 0x10}),
    ("T32", 0xF3C11042, "ubfx r0, r1, #5, #3", "UBFX_T1", {"lsb": 5, "widthm1": 2}),  # imm3:imm2
    ("T32", 0xEA4F0CA1, "asr.w ip, r1, #2", "DP_sreg", {"imm5": 2, "type": 2}),
    ("T32", 0xF7E18234, "hvc.w #0x1234", "HVC_T1", {"imm": 0x1234}),  # imm4:imm12
]


@pytest.mark.parametrize("isa,word,text,name,args", GOLDEN, ids=[g[2] for g in GOLDEN])
def test_golden_decodes(isa: str, word: int, text: str, name: str, args: Dict[str, Any]) -> None:
    import capstone

    md = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_ARM if isa == "A32" else capstone.CS_MODE_THUMB)
    if isa == "T32":
        raw = struct.pack("<HH", word >> 16, word & 0xFFFF)
    else:
        raw = struct.pack("<I" if isa == "A32" else "<H", word)
    got = next(md.disasm(raw, 0x1000))
    assert f"{got.mnemonic} {got.op_str}" == text
    d = DECODERS[isa].decode(word)
    assert d is not None and d[0].name == name
    assert {k: d[1][k] for k in args} == args
