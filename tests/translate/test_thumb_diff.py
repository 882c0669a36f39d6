"""Differential test: random Thumb (T16 and T32) sequences give the same registers, flags and
memory in tuiemu's translator, in its one-instruction-per-block interpreter mode, and in Unicorn
(QEMU's ARM front end, Thumb mode). The sequences mix data processing (immediate, shifted
register, register shifts), multiplies and divides, media instructions, PSR moves, loads and
stores (all based on SP, which nothing else writes), forward branches, and IT blocks with
conditional instructions (and a branch as the last one).

Encodings are written here from the ARM ARM (ARMv7-A/R, chapter A6), independently of
tuiemu's tables, as specs (see specs.py); a T32 spec is both halfwords. UNPREDICTABLE
combinations are filtered out. Sequences sometimes start near the
end of a page, so IT blocks and 32-bit instructions straddle the page boundary, and long ones
cross the translator's block-length cap.
"""
from __future__ import annotations

import struct
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from . import specs
from .a32gen import CPSR_CTL, FLAG_MASK, Final, Start, starts

pytest.importorskip("unicorn")

CODE_BASE = 0x40000000
PAGE = 0x1000
RAM = 1 << 20
SP0 = CODE_BASE + RAM // 2  # loads and stores go to [SP0 - 64K, SP0 + 68K)
SCRATCH = (SP0 - 0x10000, 0x11000 + 0x10000)
SCRATCH_FILL = bytes((i * 131 + 7) & 0xFF for i in range(SCRATCH[1]))
UDF16 = 0xDE00  # udf #0: ends every sequence (tuiemu stops there: no vector table)
PSR_T, PSR_IT = 1 << 5, (3 << 25) | (0x3F << 10)

lo = st.integers(0, 7)
reg = st.integers(0, 12)  # no SP, LR, PC
reg_or_pc = st.one_of(reg, st.just(15))
REG_FIELDS = {"rd", "rn", "rm", "ra", "rdn", "rdlo", "rdhi", "rt", "rt2"}


class Insn(NamedTuple):
    halfwords: Tuple[int, ...]
    it_ok: bool = True  # allowed inside an IT block


def _insn(spec: str, word: int, it_ok: bool = True) -> Insn:
    return Insn((word,) if specs.parse(spec).width == 16 else (word >> 16, word & 0xFFFF), it_ok)


def encode(spec: str, **vals: int) -> Insn:
    return _insn(spec, specs.encode(spec, **vals))


def _field(name: str, width: int) -> st.SearchStrategy:
    if name in REG_FIELDS:
        return reg if width == 4 else lo
    return st.integers(0, (1 << width) - 1)


def insn(spec: str, check: Optional[Callable[[Dict[str, int]], object]] = None, it_ok: bool = True,
         **over: st.SearchStrategy) -> st.SearchStrategy:
    """Strategy for one instruction class; fields default to r0-r12 for registers, any value else."""
    return specs.words(spec, _field, check, **over).map(lambda w: _insn(spec, w, it_ok))


def _split(name: str, value: int, *widths: int) -> Dict[str, int]:
    """Scatter ``value`` over fields name0, name1, ... (most significant first)."""
    out, shift = {}, sum(widths)
    for i, w in enumerate(widths):
        shift -= w
        out[f"{name}{i}"] = (value >> shift) & ((1 << w) - 1)
    return out


# ---- T16 ----
def _hi(d: Dict[str, int]) -> bool:
    return d["rdn"] <= 12 and (d["op"] != 1 or d["rdn"] >= 8 or d["rm"] >= 8)


def _hi_encode(d: Dict[str, int]) -> Insn:
    return encode("010001 op:2 d:1 rm:4 rdn:3", op=d["op"], d=d["rdn"] >> 3, rm=d["rm"], rdn=d["rdn"] & 7)


T16 = {
    "shift_imm": insn("000 type:2 imm5:5 rm:3 rd:3", lambda d: d["type"] or d["imm5"],
                      type=st.integers(0, 2)),
    "movs_reg": insn("000 00 00000 rm:3 rd:3", it_ok=False),  # MOVS rd, rm: not in IT blocks
    "addsub3": insn("000 11 i:1 sub:1 x:3 rn:3 rd:3"),
    "imm8": insn("001 op:2 rd:3 imm8:8"),
    "dp": insn("010000 op:4 rm:3 rdn:3"),
    "hireg": st.fixed_dictionaries({"op": st.integers(0, 2), "rm": reg, "rdn": st.integers(0, 15)})
               .filter(_hi).map(_hi_encode),
    "extend": insn("1011 0010 op:2 rm:3 rd:3"),
    "rev": insn("1011 1010 op:2 rm:3 rd:3", op=st.sampled_from([0, 1, 3])),
    "adr": insn("10100 rd:3 imm8:8"),
}


# ---- T32 ----
def _mimm_ok(d: Dict[str, int]) -> bool:
    imm12 = d["i"] << 11 | d["imm3"] << 8 | d["imm8"]
    return not (imm12 >> 10 == 0 and (imm12 >> 8) & 3 and d["imm8"] == 0)


DP_OPS = [0, 1, 2, 3, 4, 8, 10, 11, 13, 14]  # AND BIC ORR ORN EOR ADD ADC SBC SUB RSB
dp_form = st.one_of(
    st.fixed_dictionaries({"op": st.sampled_from(DP_OPS), "s": st.integers(0, 1), "rn": reg, "rd": reg}),
    st.fixed_dictionaries({"op": st.sampled_from([0, 4, 8, 13]), "s": st.just(1), "rn": reg,
                           "rd": st.just(15)}),  # TST TEQ CMN CMP
    st.fixed_dictionaries({"op": st.sampled_from([2, 3]), "s": st.integers(0, 1), "rn": st.just(15),
                           "rd": reg}),  # MOV MVN
)


def _dp(spec: str, check: Optional[Callable[[Dict[str, int]], object]] = None, **more: st.SearchStrategy
        ) -> st.SearchStrategy:
    d = st.tuples(dp_form, st.fixed_dictionaries(more)).map(lambda t: {**t[0], **t[1]})
    if check is not None:
        d = d.filter(check)
    return d.map(lambda v: encode(spec, **v))


def _sat_ok(d: Dict[str, int]) -> bool:
    return not (d["sh"] and d["imm3"] == 0 and d["imm2"] == 0)


def _bf(d: Dict[str, int], field: str) -> bool:
    lsb = d["imm3"] << 2 | d["imm2"]
    return lsb <= d[field] if field == "msb" else lsb + d[field] <= 31


def _lohi(d: Dict[str, int]) -> bool:
    return d["rdlo"] != d["rdhi"]


u4 = st.integers(0, 15)
T32 = {
    "dp_imm": _dp("11110 i:1 0 op:4 s:1 rn:4 0 imm3:3 rd:4 imm8:8", _mimm_ok,
                  i=st.integers(0, 1), imm3=st.integers(0, 7), imm8=st.integers(0, 255)),
    "dp_reg": _dp("1110101 op:4 s:1 rn:4 0 imm3:3 rd:4 imm2:2 type:2 rm:4",
                  imm3=st.integers(0, 7), imm2=st.integers(0, 3), type=st.integers(0, 3), rm=reg),
    "pkh": insn("111010101100 rn:4 0 imm3:3 rd:4 imm2:2 tb:1 0 rm:4"),
    "shift_reg": insn("11111010 0 type:2 s:1 rn:4 1111 rd:4 0000 rm:4"),
    "addw_subw": insn("11110 i:1 10 sub:1 0 sub2:1 0 rn:4 0 imm3:3 rd:4 imm8:8",
                      lambda d: d["sub"] == d["sub2"], rn=reg_or_pc),
    "movw_movt": insn("11110 i:1 10 t:1 100 imm4:4 0 imm3:3 rd:4 imm8:8"),
    "sat": insn("11110 0 11 u:1 0 sh:1 0 rn:4 0 imm3:3 rd:4 imm2:2 0 sat:5", _sat_ok),
    "sat16": insn("11110 0 11 u:1 010 rn:4 0000 rd:4 0000 sat:4"),
    "bfx": insn("11110 0 11 u:1 100 rn:4 0 imm3:3 rd:4 imm2:2 0 w:5", lambda d: _bf(d, "w")),
    "bfi": insn("11110 0 110110 rn:4 0 imm3:3 rd:4 imm2:2 0 msb:5", lambda d: _bf(d, "msb"), rn=reg_or_pc),
    "extend": insn("11111010 0 op:3 rn:4 1111 rd:4 10 rot:2 rm:4", op=st.integers(0, 5), rn=reg_or_pc),
    "parallel": insn("111110101 op1:3 rn:4 1111 rd:4 0 op2:3 rm:4",
                     op1=st.sampled_from([0, 1, 2, 4, 5, 6]), op2=st.sampled_from([0, 1, 2, 4, 5, 6])),
    "qaddsub": insn("111110101000 rn:4 1111 rd:4 10 op:2 rm:4"),
    "rev_clz": st.fixed_dictionaries({"op1": st.sampled_from([1, 3]), "op2": st.integers(0, 3), "rd": reg,
                                      "rm": reg}).filter(lambda d: d["op1"] == 1 or d["op2"] == 0).map(
        lambda d: encode("111110101 0 op1:2 rm:4 1111 rd:4 10 op2:2 rm2:4", rm2=d["rm"], **d)),
    "sel": insn("111110101010 rn:4 1111 rd:4 1000 rm:4"),
    "mul": insn("111110110000 rn:4 ra:4 rd:4 000 op:1 rm:4", lambda d: not (d["op"] and d["ra"] == 15),
                ra=reg_or_pc),  # MUL, MLA, MLS
    "smlaxy": insn("111110110001 rn:4 ra:4 rd:4 00 n:1 m:1 rm:4", ra=reg_or_pc),
    "smlad": insn("11111011 0 s:1 s2:1 0 rn:4 ra:4 rd:4 000 m:1 rm:4",
                  lambda d: d["s"] != d["s2"], ra=reg_or_pc),  # SMLAD/SMUAD, SMLSD/SMUSD
    "smlawy": insn("111110110011 rn:4 ra:4 rd:4 000 m:1 rm:4", ra=reg_or_pc),
    "smmla": insn("111110110101 rn:4 ra:4 rd:4 000 r:1 rm:4", ra=reg_or_pc),  # SMMLA, SMMUL
    "smmls": insn("111110110110 rn:4 ra:4 rd:4 000 r:1 rm:4"),
    "usada8": insn("111110110111 rn:4 ra:4 rd:4 0000 rm:4", ra=reg_or_pc),
    "mull": insn("11111011 1 a:1 u:1 0 rn:4 rdlo:4 rdhi:4 0000 rm:4", _lohi),  # [SU]MULL, [SU]MLAL
    "smlalxy": insn("111110111100 rn:4 rdlo:4 rdhi:4 10 n:1 m:1 rm:4", _lohi),
    "smlald": insn("11111011110 sub:1 rn:4 rdlo:4 rdhi:4 110 m:1 rm:4", _lohi),
    "umaal": insn("111110111110 rn:4 rdlo:4 rdhi:4 0110 rm:4", _lohi),
    "mrs": insn("11110011111 0 1111 1000 rd:4 00000000"),
    "msr_apsr": insn("11110011100 0 rn:4 1000 mask:2 00 00000000", lambda d: d["mask"]),  # nzcvq, g
    "div": insn("11111011 1 0 u:1 1 rn:4 1111 rd:4 1111 rm:4"),
}


# ---- loads and stores: all based on SP, which nothing else writes (offsets keep it word aligned) ----
def _ldst_ok(d: Dict[str, int]) -> bool:
    return d["sz"] != 3 and not (d["s"] and (not d["l"] or d["sz"] == 2))


def _m4(limit: int) -> st.SearchStrategy:
    return st.integers(0, limit // 4).map(lambda v: v * 4)


MEM = {
    "t16_ldst_sp": insn("1001 l:1 rt:3 imm8:8"),
    "t16_push": insn("1011010 m:1 regs:8", lambda d: d["m"] or d["regs"]),
    "t16_pop": insn("1011110 0 regs:8", lambda d: d["regs"]),
    "t16_ldr_lit": insn("01001 rt:3 imm8:8"),
    "t32_ldst_imm12": insn("1111100 s:1 1 sz:2 l:1 1101 rt:4 imm12:12", _ldst_ok, imm12=_m4(4095)),
    "t32_ldst_imm8": insn("1111100 s:1 0 sz:2 l:1 1101 rt:4 1 p:1 u:1 w:1 imm8:8",
                          lambda d: _ldst_ok(d) and (d["p"] or d["w"]), imm8=_m4(255)),
    "t32_ldr_lit": insn("1111100 s:1 1 sz:2 1 1111 rt:4 imm12:12", lambda d: _ldst_ok({**d, "l": 1})),
    "t32_ldrd": insn("1110100 p:1 u:1 1 w:1 l:1 1101 rt:4 rt2:4 imm8:8",
                     lambda d: (d["p"] or d["w"]) and not (d["l"] and d["rt"] == d["rt2"]), rt2=reg),
    "t32_ldm": insn("1110100 op:2 0 w:1 l:1 1101 0 m:1 0 regs:13",
                    lambda d: bin(d["regs"] << 1 | d["m"]).count("1") > 1, op=st.sampled_from([1, 2])),
    "t32_ldrex": insn("111010000101 1101 rt:4 1111 imm8:8", imm8=st.integers(0, 1)),
    "t32_strex": insn("111010000100 1101 rt:4 rd:4 imm8:8", lambda d: d["rd"] != d["rt"], imm8=st.integers(0, 1)),
    "t32_ldrex_bh": insn("111010001101 1101 rt:4 1111 010 sz:1 1111"),
    "t32_strex_bh": insn("111010001100 1101 rt:4 1111 010 sz:1 rd:4", lambda d: d["rd"] != d["rt"]),
    # classes of their own only: doublewords need SP 8-byte aligned (SP does not move then), and a
    # STREX of another size than the LDREX before it is UNPREDICTABLE
    "t32_ldrexd": insn("111010001101 1101 rt:4 rt2:4 0111 1111", lambda d: d["rt"] != d["rt2"]),
    "t32_strexd": insn("111010001100 1101 rt:4 rt2:4 0111 rd:4", lambda d: d["rd"] not in (d["rt"], d["rt2"])),
}
CLASS_ONLY = {"t32_ldrexd", "t32_strexd", "t32_ldrex_bh", "t32_strex_bh"}

CLASSES: Dict[str, st.SearchStrategy] = {**{f"t16_{k}": v for k, v in T16.items()},
                                         **{f"t32_{k}": v for k, v in T32.items()}, **MEM}
any_insn = st.one_of(*(v for k, v in CLASSES.items() if k not in CLASS_ONLY))
it_body_insn = any_insn.filter(lambda i: i.it_ok)


def it_insn(firstcond: int, elses: Sequence[int]) -> Insn:
    """IT<x><y><z> firstcond for 1 + len(elses) instructions (elses[i]: instruction i + 2 is 'else')."""
    mask = 0
    for i, e in enumerate(elses):
        mask |= ((firstcond & 1) ^ e) << (3 - i)
    mask |= 1 << (3 - len(elses))
    return encode("10111111 firstcond:4 mask:4", firstcond=firstcond, mask=mask)


@st.composite
def it_blocks(draw: st.DrawFn) -> List[Insn]:
    n = draw(st.integers(1, 4))
    firstcond = draw(st.integers(0, 14))
    elses = [0] * (n - 1) if firstcond == 14 else draw(st.lists(st.integers(0, 1), min_size=n - 1,
                                                               max_size=n - 1))
    return [it_insn(firstcond, elses)] + draw(st.lists(it_body_insn, min_size=n, max_size=n))


def _branch(kind: str, skip: int, cond: int = 14, rn: int = 0) -> Insn:
    """A forward branch from the start of an instruction of its own size over ``skip`` bytes."""
    size = 4 if kind in ("b32", "bw", "bl") else 2
    imm = skip + size - 4  # the offset from PC (this instruction + 4)
    if kind == "b16":  # B<c> (T1)
        return encode("1101 cond:4 imm8:8", cond=cond, imm8=imm >> 1)
    if kind == "b":  # B (T2)
        return encode("11100 imm11:11", imm11=imm >> 1)
    if kind == "cbz":
        return encode("1011 nz:1 0 i:1 1 imm5:5 rn:3", nz=cond & 1, i=imm >> 6, imm5=(imm >> 1) & 31, rn=rn)
    if kind == "b32":  # B<c>.W (T3): S:J2:J1:imm6:imm11:0 with S, J1, J2 = 0
        return encode("11110 0 cond:4 imm6:6 10 0 0 0 imm11:11", cond=cond, imm6=imm >> 12,
                      imm11=(imm >> 1) & 0x7FF)
    # B.W (T4) and BL: I1 = I2 = 0 with S = 0 means J1 = J2 = 1
    op = "10" if kind == "bw" else "11"
    return encode(f"11110 0 imm10:10 {op} 1 1 1 imm11:11", imm10=imm >> 12, imm11=(imm >> 1) & 0x7FF)


@st.composite
def branch_over(draw: st.DrawFn) -> List[Insn]:
    """A forward branch (conditional, CBZ/CBNZ, or unconditional ending an IT block) over 1-3
    instructions, which run only when it is not taken."""
    body = draw(st.lists(any_insn, min_size=1, max_size=3))
    skip = sum(2 * len(i.halfwords) for i in body)
    kind = draw(st.sampled_from(["b16", "b32", "cbz", "b", "bw", "bl", "it"]))
    if kind == "it":  # IT block ending with an unconditional-encoding branch, conditional by IT
        n = draw(st.integers(1, 4))
        firstcond = draw(st.integers(0, 13))
        elses = draw(st.lists(st.integers(0, 1), min_size=n - 1, max_size=n - 1))
        inside = draw(st.lists(it_body_insn, min_size=n - 1, max_size=n - 1))
        br = _branch(draw(st.sampled_from(["b", "bw", "bl"])), skip)
        return [it_insn(firstcond, elses)] + inside + [br] + body
    cond = draw(st.integers(0, 13)) if kind in ("b16", "b32", "cbz") else 14
    return [_branch(kind, skip, cond, draw(lo))] + body


items = st.one_of(any_insn.map(lambda i: [i]), any_insn.map(lambda i: [i]), it_blocks(), branch_over())


def flatten(seq: Sequence[List[Insn]]) -> List[Insn]:
    return [i for block in seq for i in block]


# Where sequences start: at a page start, or so close to the page end that they cross it.
offsets = st.one_of(st.just(0), st.integers(1, 40).map(lambda k: PAGE - 2 * k))


# ---- the three runners ----
def code_bytes(insns: Sequence[Insn]) -> bytes:
    hws = [h for i in insns for h in i.halfwords] + [UDF16]
    return struct.pack(f"<{len(hws)}H", *hws)


def initial_regs(start: Start) -> List[int]:
    regs = list(start.regs)
    regs[13] = SP0
    return regs


class Result(NamedTuple):
    final: Final
    scratch: bytes

    def diff(self, other: Result) -> List[str]:
        out = self.final.diff(other.final)
        if self.scratch == other.scratch:
            return out
        for i, (x, y) in enumerate(zip(self.scratch, other.scratch)):
            if x != y:
                out.append(f"memory at {SCRATCH[0] + i:#010x}: {x:#04x} != {y:#04x} (first difference)")
                break
        return out


def run_tuiemu(insns: Sequence[Insn], start: Start, offset: int, interp: bool) -> Result:
    from tuiemu.machine import Machine

    m = Machine(threads="single", interp=interp, ram_size=RAM)
    code = code_bytes(insns)
    base = CODE_BASE + offset
    m.space.write_bytes(SCRATCH[0], SCRATCH_FILL, force=True)
    m.space.write_bytes(base, code, force=True)
    v = m.vcpus[0]
    v.power_on(base | 1)
    v.state.set_cpsr(CPSR_CTL | PSR_T | start.flags)
    v.R[0:15] = initial_regs(start)
    status = m.run(max_insns=len(insns) + 20)
    end = base + len(code) - 2
    cpsr = v.state.get_cpsr()
    assert status == 3 and v.R[15] == end and cpsr & PSR_T and not cpsr & PSR_IT, (
        f"tuiemu ({'interp' if interp else 'translator'}) stopped with {status} at {v.R[15]:#x} "
        f"(CPSR {cpsr:#x}), expected the UDF at {end:#x}: {m.stop_message}\n{disasm(insns, offset)}")
    return Result(Final(tuple(v.R[0:15]), cpsr & FLAG_MASK), m.space.read_bytes(*SCRATCH))


def run_unicorn(insns: Sequence[Insn], start: Start, offset: int) -> Result:
    from unicorn import UC_ARCH_ARM, UC_MODE_THUMB, Uc
    from unicorn import arm_const as A

    mu = Uc(UC_ARCH_ARM, UC_MODE_THUMB)
    model = getattr(A, "UC_CPU_ARM_CORTEX_A15", None)
    if model is not None:
        mu.ctl_set_cpu_model(model)
    mu.mem_map(CODE_BASE, RAM)
    code = code_bytes(insns)
    base = CODE_BASE + offset
    mu.mem_write(SCRATCH[0], SCRATCH_FILL)
    mu.mem_write(base, code)
    mu.reg_write(A.UC_ARM_REG_CPSR, CPSR_CTL | PSR_T | start.flags)
    reg_ids = [getattr(A, f"UC_ARM_REG_R{i}") for i in range(13)] + [A.UC_ARM_REG_SP, A.UC_ARM_REG_LR]
    for r, val in zip(reg_ids, initial_regs(start)):
        mu.reg_write(r, val)
    end = base + len(code) - 2
    mu.emu_start(base | 1, end)
    assert mu.reg_read(A.UC_ARM_REG_PC) == end
    return Result(Final(tuple(mu.reg_read(r) for r in reg_ids), mu.reg_read(A.UC_ARM_REG_CPSR) & FLAG_MASK),
                  bytes(mu.mem_read(*SCRATCH)))


def disasm(insns: Sequence[Insn], offset: int = 0) -> str:
    import capstone

    md = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB)
    lines, addr = [], CODE_BASE + offset
    for i in insns:
        raw = struct.pack(f"<{len(i.halfwords)}H", *i.halfwords)
        got = list(md.disasm(raw, addr))
        text = f"{got[0].mnemonic} {got[0].op_str}" if got else "?"
        lines.append(f"  {addr:#010x}: {' '.join(f'{h:04x}' for h in i.halfwords):9}  {text}")
        addr += len(raw)
    return "\n".join(lines)


def check_sequence(insns: Sequence[Insn], start: Start, offset: int = 0) -> None:
    """Run the sequence three ways from the same state; fail with a readable report on any difference."""
    ref = run_unicorn(insns, start, offset)
    for interp in (False, True):
        got = run_tuiemu(insns, start, offset, interp)
        d = ref.diff(got)
        assert not d, (
            f"tuiemu {'interpreter' if interp else 'translator'} differs from Unicorn "
            f"(left: Unicorn, right: tuiemu)\n{disasm(insns, offset)}\n"
            f"start regs: {' '.join(f'{x:#x}' for x in start.regs)}  flags: {start.flags:#010x}\n  "
            + "\n  ".join(d))


# ---- tests ----
SETTINGS: Dict[str, Any] = dict(deadline=None,
                               suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CLASSES))
@settings(max_examples=25, **SETTINGS)
@given(data=st.data(), start=starts)
def test_class(name: str, data: st.DataObject, start: Start) -> None:
    """Short runs of one instruction class, inside an IT block or not, so every class gets its share."""
    cls = CLASSES[name]
    seq = data.draw(st.lists(cls, min_size=1, max_size=3), label="insns")
    if data.draw(st.booleans(), label="in IT") and all(i.it_ok for i in seq):
        firstcond = data.draw(st.integers(0, 14), label="firstcond")
        elses = [0] * (len(seq) - 1) if firstcond == 14 else data.draw(
            st.lists(st.integers(0, 1), min_size=len(seq) - 1, max_size=len(seq) - 1), label="elses")
        seq = [it_insn(firstcond, elses)] + seq
    check_sequence(seq, start)


@pytest.mark.slow
@settings(max_examples=2000, **SETTINGS)
@given(seq=st.lists(items, min_size=1, max_size=12), start=starts, offset=offsets)
def test_mixed(seq: List[List[Insn]], start: Start, offset: int) -> None:
    """Mixed sequences with IT blocks: flags flow between instructions, conditions come from ITSTATE,
    and near a page end blocks are cut inside IT blocks and 32-bit instructions straddle pages."""
    check_sequence(flatten(seq), start, offset)


@pytest.mark.slow
@settings(max_examples=50, **SETTINGS)
@given(seq=st.lists(items, min_size=40, max_size=60), start=starts)
def test_long(seq: List[List[Insn]], start: Start) -> None:
    """Longer than the translator's block cap: a block is extended to the end of an open IT block."""
    check_sequence(flatten(seq), start)


@pytest.mark.slow
@settings(max_examples=40, **SETTINGS)
@given(seq=st.lists(items, min_size=1, max_size=8), start=starts, offset=offsets)
def test_single_step(seq: List[List[Insn]], start: Start, offset: int) -> None:
    """Debugger single-stepping (one instruction per step, inside IT blocks too) ends where Unicorn does."""
    from tuiemu.machine import Machine

    insns = flatten(seq)
    ref = run_unicorn(insns, start, offset)
    m = Machine(threads="single", ram_size=RAM)
    code = code_bytes(insns)
    base = CODE_BASE + offset
    m.space.write_bytes(SCRATCH[0], SCRATCH_FILL, force=True)
    m.space.write_bytes(base, code, force=True)
    v = m.vcpus[0]
    v.power_on(base | 1)
    v.state.set_cpsr(CPSR_CTL | PSR_T | start.flags)
    v.R[0:15] = initial_regs(start)
    m.runctl.stop()
    end = base + len(code) - 2
    for _ in range(len(insns)):
        if v.R[15] == end:
            break
        m.runctl.step(v)
    assert v.R[15] == end, f"stepped to {v.R[15]:#x}, not {end:#x}\n{disasm(insns, offset)}"
    got = Result(Final(tuple(v.R[0:15]), v.state.get_cpsr() & FLAG_MASK), m.space.read_bytes(*SCRATCH))
    d = ref.diff(got)
    assert not d, f"single-stepping differs from Unicorn\n{disasm(insns, offset)}\n  " + "\n  ".join(d)


# Fixed cases worth pinning down whatever hypothesis draws.
ADDS = encode("0001110 imm:3 rn:3 rd:3", imm=1, rn=0, rd=0)                # adds r0, r0, #1 (add in IT)
CMP0 = encode("00101 rn:3 imm8:8", rn=0, imm8=0)                           # cmp r0, #0
MOVW = encode("11110 i:1 100100 imm4:4 0 imm3:3 rd:4 imm8:8", i=0, imm4=1, imm3=2, rd=1, imm8=3)
ITTEE_EQ = it_insn(0, [0, 1, 1])
EDGE = [
    ("ITTEE over the page end", [CMP0, ITTEE_EQ, ADDS, MOVW, ADDS, MOVW], PAGE - 6),
    ("32-bit instruction straddling the page end", [CMP0, MOVW, ADDS], PAGE - 4),
    ("IT block straddling the page end", [CMP0, ITTEE_EQ, MOVW, ADDS, MOVW, ADDS], PAGE - 8),
    ("flags set outside IT, not inside", [ADDS, it_insn(14, [0, 0]), ADDS, ADDS, ADDS], 0),
    ("IT block across the block cap", [ADDS] * 45 + [CMP0, it_insn(1, [1, 0, 1]), ADDS, MOVW, ADDS, MOVW], 0),
]


@pytest.mark.parametrize("what,insns,offset", EDGE, ids=[e[0] for e in EDGE])
@pytest.mark.parametrize("r0", [0, 5])
def test_edge(what: str, insns: List[Insn], offset: int, r0: int) -> None:
    regs = tuple([r0] + [0x1000 * i for i in range(1, 15)])
    check_sequence(insns, Start(regs, 0x40000000), offset)


def test_detects_a_broken_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison has teeth: a T16 ADD that subtracts, or IT blocks cut short, are caught."""
    from tuiemu.translate import t32

    monkeypatch.setenv("TUIEMU_CODE_CACHE", "off")  # the cache would give back what the good handler emitted
    from tuiemu.translate.codegen import Block
    from tuiemu.translate.decodetree import Args
    from tuiemu.translate.sem.registry import HANDLERS

    good = HANDLERS["t16_alu"]

    def broken(b: Block, a: Args) -> bool:
        if a.op == 4:  # ADD -> SUB
            a = type(a)(a, op=2)
        return good(b, a)

    monkeypatch.setitem(HANDLERS, "t16_alu", broken)
    with pytest.raises(AssertionError, match="differs from Unicorn"):
        check_sequence([ADDS], Start(tuple(range(15)), 0))
    monkeypatch.setitem(HANDLERS, "t16_alu", good)
    check_sequence([ADDS], Start(tuple(range(15)), 0))
    monkeypatch.setattr(t32, "it_advance", lambda it: 0)
    with pytest.raises(AssertionError, match="differs from Unicorn"):
        check_sequence([CMP0, ITTEE_EQ, ADDS, MOVW, ADDS, MOVW], Start(tuple(range(15)), 0))


# ---- the IT state seen by exceptions ----
def _stop_in_it_block(insns: Sequence[Insn], interp: bool) -> Tuple[int, int]:
    """Run until the UDF (no vector table: tuiemu stops there); (PC, CPSR) at the stop."""
    from tuiemu.machine import Machine

    m = Machine(threads="single", interp=interp, ram_size=RAM)
    m.space.write_bytes(CODE_BASE, code_bytes(insns), force=True)
    v = m.vcpus[0]
    v.power_on(CODE_BASE | 1)
    v.R[0] = 0
    assert m.run(max_insns=100) == 3, m.stop_message
    return v.R[15], v.state.get_cpsr()


UDF = Insn((UDF16,))
LDR_BAD = encode("01101 imm:5 rn:3 rt:3", imm=0, rn=2, rt=1)  # ldr r1, [r2]


@pytest.mark.parametrize("interp", [False, True], ids=["translator", "interp"])
@pytest.mark.parametrize("fault", ["udf", "abort"])
def test_exception_inside_it_block_sees_its_itstate(interp: bool, fault: str) -> None:
    """An UNDEFINED instruction or a data abort as the 2nd instruction of ITTE EQ (Z set): the CPSR
    the exception saves carries that instruction's ITSTATE."""
    from tuiemu.core.state import itstate

    movw_r2 = encode("11110 i:1 100100 imm4:4 0 imm3:3 rd:4 imm8:8", i=0, imm4=0, imm3=0, rd=2, imm8=0)
    movt_r2 = encode("11110 i:1 101100 imm4:4 0 imm3:3 rd:4 imm8:8", i=0, imm4=5, imm3=0, rd=2, imm8=0)
    itte = it_insn(0, [0, 1])
    bad = UDF if fault == "udf" else LDR_BAD
    insns = [movw_r2, movt_r2, CMP0, itte, ADDS, bad, ADDS, UDF]  # r2 = 0x50000000: past the 1 MiB of RAM
    pc, cpsr = _stop_in_it_block(insns, interp)
    assert pc == CODE_BASE + 14  # the faulting instruction
    first = itte.halfwords[0] & 0xFF  # ITSTATE of the first instruction in the block
    assert itstate(cpsr) == (first & 0xE0) | ((first << 1) & 0x1F), hex(cpsr)


@pytest.mark.parametrize("interp", [False, True], ids=["translator", "interp"])
@pytest.mark.parametrize("z", [0, 1])
def test_it_block_resumes_after_an_exception_return(interp: bool, z: int) -> None:
    """SVC inside ITTET EQ: the handler's MOVS PC, LR returns into the middle of the IT block
    (the SPSR holds the IT state of the instruction after the SVC), and the rest of the block
    still runs under its conditions."""
    from tuiemu.machine import Machine

    vbar = CODE_BASE + 0x800
    adds = [encode("0001110 imm:3 rn:3 rd:3", imm=1, rn=r, rd=r) for r in range(3)]  # adds rN, rN, #1
    svc = encode("11011111 imm:8", imm=1)
    insns = [CMP0, it_insn(0, [0, 1, 0]), adds[0], svc, adds[1], adds[2], Insn((0xE7FE,))]  # ..., b .
    m = Machine(threads="single", interp=interp, ram_size=RAM)
    m.space.write_bytes(CODE_BASE, code_bytes(insns), force=True)
    m.space.write_bytes(vbar + 8, struct.pack("<I", 0xE1B0F00E), force=True)  # movs pc, lr (ARM)
    v = m.vcpus[0]
    v.power_on(CODE_BASE | 1)
    v.state.vbar = vbar
    v.R[0] = 0 if z else 5
    assert m.run(max_insns=100) is None, m.stop_message
    assert v.R[15] == CODE_BASE + 12 and v.counters.exceptions == z
    if z:  # EQ: r0 + 1, SVC, r1 skipped (else), r2 + 1
        assert v.R[0:3] == [1, 0, 1]
    else:  # NE: only the else instruction runs
        assert v.R[0:3] == [5, 1, 0]
