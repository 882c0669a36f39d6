"""Random A32 instructions and a three-way runner (translator, interpreter, Unicorn) for
differential tests.

Encodings are written here independently of tuiemu's pattern table, from the ARM ARM
(ARMv7-A/R, chapter A5/A8), as specs (see specs.py). Each field gets a strategy from its name
(registers r0-r14, conditions mostly AL) unless the instruction class overrides it; a ``check``
rejects UNPREDICTABLE combinations.
"""
from __future__ import annotations

import struct
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

from hypothesis import strategies as st

from .specs import words

CODE_BASE = 0x40000000
UDF = 0xE7F000F0  # udf #0: ends every sequence (tuiemu stops: no vector table)

REG_FIELDS = {"rd", "rn", "rm", "ra", "rs", "rdhi", "rdlo"}
regs = st.integers(0, 14)
reg_or_pc = st.one_of(regs, st.just(15))
conds = st.one_of(st.just(14), st.just(14), st.integers(0, 13))

SPECIAL = [0, 1, 2, 7, 8, 16, 24, 31, 32, 33, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x10000,
           0x7FFFFFFF, 0x80000000, 0x80000001, 0xFFFFFFFF, 0xFFFFFFFE, 0x7FFF7FFF, 0x80008000,
           0x7F7F7F7F, 0x80808080, 0xFF00FF00, 0x00FF00FF, 0xFFFF0000, 0x0000FFFF, 0xC0000000]
BYTES = [0x00, 0x01, 0x7F, 0x80, 0x81, 0xFE, 0xFF]
HALVES = [0x0000, 0x0001, 0x7FFF, 0x8000, 0x8001, 0xFFFE, 0xFFFF]
values = st.one_of(
    st.integers(0, 0xFFFFFFFF), st.sampled_from(SPECIAL),
    st.lists(st.sampled_from(BYTES), min_size=4, max_size=4).map(lambda b: int.from_bytes(bytes(b), "little")),
    st.tuples(st.sampled_from(HALVES), st.sampled_from(HALVES)).map(lambda t: t[0] | t[1] << 16),
    st.integers(0, 0xFFFF).map(lambda v: v * 0x10001),  # equal halfwords
    st.integers(0, 0xFFFF).map(lambda v: v << 16),  # products with a zero low word
    st.integers(0, 31).map(lambda k: 1 << k),
    st.integers(-300, 300).map(lambda v: v & 0xFFFFFFFF))


@st.composite
def register_files(draw: Callable) -> Tuple[int, ...]:
    """r0-r14, drawn from a small pool so that operand pairs often repeat (x + x, x - x...)."""
    pool = draw(st.lists(values, min_size=1, max_size=5))
    return tuple(draw(st.one_of(st.sampled_from(pool), values)) for _ in range(15))


def _field(name: str, width: int) -> st.SearchStrategy:
    if name == "cond":
        return conds
    if name in REG_FIELDS:
        return regs
    return st.integers(0, (1 << width) - 1)


def insn(spec: str, check: Optional[Callable[[Dict[str, int]], object]] = None,
         **over: st.SearchStrategy) -> st.SearchStrategy:
    """Strategy for instruction words of one class."""
    return words(spec, _field, check, **over)


def _lohi(d: Dict[str, int]) -> bool:
    return d["rdhi"] != d["rdlo"]


# ---- instruction classes ----
MULTIPLY = {
    "MUL": insn("cond:4 0000000 s:1 rd:4 0000 rm:4 1001 rn:4"),
    "MLA": insn("cond:4 0000001 s:1 rd:4 ra:4 rm:4 1001 rn:4"),
    "UMAAL": insn("cond:4 00000100 rdhi:4 rdlo:4 rm:4 1001 rn:4", _lohi),
    "MLS": insn("cond:4 00000110 rd:4 ra:4 rm:4 1001 rn:4"),
    "xMULL": insn("cond:4 00001 u:1 a:1 s:1 rdhi:4 rdlo:4 rm:4 1001 rn:4", _lohi),
    "SMLAxy": insn("cond:4 00010000 rd:4 ra:4 rm:4 1 m:1 n:1 0 rn:4"),
    "SMLAWy": insn("cond:4 00010010 rd:4 ra:4 rm:4 1 m:1 0 0 rn:4"),
    "SMULWy": insn("cond:4 00010010 rd:4 0000 rm:4 1 m:1 1 0 rn:4"),
    "SMLALxy": insn("cond:4 00010100 rdhi:4 rdlo:4 rm:4 1 m:1 n:1 0 rn:4", _lohi),
    "SMULxy": insn("cond:4 00010110 rd:4 0000 rm:4 1 m:1 n:1 0 rn:4"),
    "SMLAD": insn("cond:4 01110000 rd:4 ra:4 rm:4 0 sub:1 m:1 1 rn:4", ra=reg_or_pc),
    "SMLALD": insn("cond:4 01110100 rdhi:4 rdlo:4 rm:4 0 sub:1 m:1 1 rn:4", _lohi),
    "SDIV": insn("cond:4 01110001 rd:4 1111 rm:4 0001 rn:4"),
    "UDIV": insn("cond:4 01110011 rd:4 1111 rm:4 0001 rn:4"),
    "SMMLA": insn("cond:4 01110101 rd:4 ra:4 rm:4 00 r:1 1 rn:4", ra=reg_or_pc),
    "SMMLS": insn("cond:4 01110101 rd:4 ra:4 rm:4 11 r:1 1 rn:4"),
    "QADDSUB": insn("cond:4 00010 op:2 0 rn:4 rd:4 0000 0101 rm:4"),
}

MEDIA = {
    "PARALLEL": insn("cond:4 01100 op1:3 rn:4 rd:4 1111 op2:3 1 rm:4",
                     op1=st.sampled_from([1, 2, 3, 5, 6, 7]), op2=st.sampled_from([0, 1, 2, 3, 4, 7])),
    "SEL": insn("cond:4 01101000 rn:4 rd:4 1111 1011 rm:4"),
    "PKH": insn("cond:4 01101000 rn:4 rd:4 imm5:5 tb:1 01 rm:4"),
    "SSAT16": insn("cond:4 01101010 sat:4 rd:4 1111 0011 rn:4"),
    "USAT16": insn("cond:4 01101110 sat:4 rd:4 1111 0011 rn:4"),
    "REV": insn("cond:4 011010111111 rd:4 1111 0011 rm:4"),
    "REV16": insn("cond:4 011010111111 rd:4 1111 1011 rm:4"),
    "RBIT": insn("cond:4 011011111111 rd:4 1111 0011 rm:4"),
    "REVSH": insn("cond:4 011011111111 rd:4 1111 1011 rm:4"),
    "SSAT": insn("cond:4 0110101 sat:5 rd:4 imm5:5 sh:1 01 rn:4"),
    "USAT": insn("cond:4 0110111 sat:5 rd:4 imm5:5 sh:1 01 rn:4"),
    "XTEND": insn("cond:4 01101 op:3 rn:4 rd:4 rot:2 00 0111 rm:4",
                  op=st.sampled_from([0, 2, 3, 4, 6, 7]), rn=reg_or_pc),
    "USADA8": insn("cond:4 01111000 rd:4 ra:4 rm:4 0001 rn:4", ra=reg_or_pc),
    "SBFX": insn("cond:4 0111101 w:5 rd:4 lsb:5 101 rn:4", lambda d: d["lsb"] + d["w"] < 32),
    "UBFX": insn("cond:4 0111111 w:5 rd:4 lsb:5 101 rn:4", lambda d: d["lsb"] + d["w"] < 32),
    "BFI": insn("cond:4 0111110 msb:5 rd:4 lsb:5 001 rn:4", lambda d: d["msb"] >= d["lsb"], rn=reg_or_pc),
}


def _dp_ok(d: Dict[str, int]) -> bool:
    """TST/TEQ/CMP/CMN need S (else they are the miscellaneous space) and have Rd = 0;
    MOV/MVN have Rn = 0."""
    if 8 <= d["op"] <= 11:
        return d["s"] == 1 and d["rd"] == 0
    if d["op"] in (13, 15):
        return d["rn"] == 0
    return True


DATAPROC = {
    "DP_imm": insn("cond:4 001 op:4 s:1 rn:4 rd:4 rot:4 imm8:8", _dp_ok, rn=reg_or_pc),
    "DP_reg": insn("cond:4 000 op:4 s:1 rn:4 rd:4 imm5:5 type:2 0 rm:4", _dp_ok, rn=reg_or_pc, rm=reg_or_pc),
    "DP_rsr": insn("cond:4 000 op:4 s:1 rn:4 rd:4 rs:4 0 type:2 1 rm:4", _dp_ok),
    "MOVW": insn("cond:4 00110000 imm4:4 rd:4 imm12:12"),
    "MOVT": insn("cond:4 00110100 imm4:4 rd:4 imm12:12"),
    "CLZ": insn("cond:4 00010110 1111 rd:4 1111 0001 rm:4"),
    "MRS": insn("cond:4 00010000 1111 rd:4 0000 0000 0000"),
}

CLASSES: Dict[str, st.SearchStrategy] = {**MULTIPLY, **MEDIA, **DATAPROC}
any_insn = st.one_of(*CLASSES.values())


class Start(NamedTuple):
    regs: Tuple[int, ...]  # r0-r14
    flags: int  # CPSR bits 31:27 (NZCVQ) and 19:16 (GE), nothing else


FLAG_MASK = 0xF80F0000
PSR_Q = 1 << 27
CPSR_CTL = 0x000001D3  # SVC mode, A/I/F masked: what a vCPU has after power-on

starts = st.builds(Start, register_files(),
                   st.tuples(st.integers(0, 31), st.integers(0, 15)).map(lambda t: t[0] << 27 | t[1] << 16))


class Final(NamedTuple):
    regs: Tuple[int, ...]
    flags: int

    def diff(self, other: Final) -> List[str]:
        out = [f"r{i}: {a:#010x} != {b:#010x}" for i, (a, b) in enumerate(zip(self.regs, other.regs)) if a != b]
        if self.flags != other.flags:
            out.append(f"NZCVQ/GE: {self.flags:#010x} != {other.flags:#010x}")
        return out


def code_bytes(words: Sequence[int]) -> bytes:
    return struct.pack(f"<{len(words) + 1}I", *words, UDF)


def run_tuiemu(words: Sequence[int], start: Start, interp: bool, stop_at: Optional[int] = None) -> Final:
    """Run in tuiemu until the Undefined Instruction stop, which must come at instruction
    ``stop_at`` (default: the UDF after the sequence)."""
    from tuiemu.machine import Machine

    m = Machine(threads="single", interp=interp, ram_size=1 << 20)
    m.space.write_bytes(CODE_BASE, code_bytes(words), force=True)
    v = m.vcpus[0]
    v.power_on(CODE_BASE)
    v.state.set_cpsr(CPSR_CTL | start.flags)
    v.R[0:15] = list(start.regs)
    code = m.run(max_insns=100)
    end = CODE_BASE + 4 * (len(words) if stop_at is None else stop_at)
    assert code == 3 and v.R[15] == end, (
        f"tuiemu ({'interp' if interp else 'translator'}) stopped with {code} at {v.R[15]:#x}, "
        f"expected an undefined instruction at {end:#x}: {m.stop_message}")
    return Final(tuple(v.R[0:15]), v.state.get_cpsr() & FLAG_MASK)


def _sx(v: int, bits: int) -> int:
    return (v ^ 1 << (bits - 1)) - (1 << (bits - 1))


def _unicorn_smlad_q(word: int, before: Sequence[int]) -> bool:
    """True when ``word`` is SMLAD/SMLADX with an accumulator and Unicorn sets Q wrongly.

    Unicorn 2 (QEMU 5.0) sets Q when product1 + product2 overflows *before* Ra is added;
    the ARM ARM tests only the final sum (QEMU fixed this later). The only such overflow is
    0x8000 * 0x8000 twice (2**31), cancelled by a negative Ra."""
    if word & 0x0FF000D0 != 0x07000010 or (word >> 12) & 15 == 15:
        return False
    n, m, a = before[word & 15], before[(word >> 8) & 15], before[(word >> 12) & 15]
    if word & 0x20:
        m = (m >> 16 | m << 16) & 0xFFFFFFFF
    p = _sx(n & 0xFFFF, 16) * _sx(m & 0xFFFF, 16) + _sx(n >> 16, 16) * _sx(m >> 16, 16)
    return p > 0x7FFFFFFF and -0x80000000 <= p + _sx(a, 32) <= 0x7FFFFFFF


def run_unicorn(words: Sequence[int], start: Start) -> Final:
    """Run in Unicorn one instruction at a time, correcting its known deviations from the ARM ARM."""
    from unicorn import UC_ARCH_ARM, UC_MODE_ARM, Uc
    from unicorn import arm_const as A

    mu = Uc(UC_ARCH_ARM, UC_MODE_ARM)
    model = getattr(A, "UC_CPU_ARM_CORTEX_A15", None)
    if model is not None:
        mu.ctl_set_cpu_model(model)
    mu.mem_map(CODE_BASE, 0x1000)
    mu.mem_write(CODE_BASE, code_bytes(words))
    mu.reg_write(A.UC_ARM_REG_CPSR, CPSR_CTL | start.flags)
    reg_ids = [getattr(A, f"UC_ARM_REG_R{i}") for i in range(13)] + [A.UC_ARM_REG_SP, A.UC_ARM_REG_LR]
    for r, val in zip(reg_ids, start.regs):
        mu.reg_write(r, val)
    for i, word in enumerate(words):
        pc = CODE_BASE + 4 * i
        before = [mu.reg_read(r) for r in reg_ids]
        q_before = mu.reg_read(A.UC_ARM_REG_CPSR) & PSR_Q
        mu.emu_start(pc, pc + 4, count=1)
        assert mu.reg_read(A.UC_ARM_REG_PC) == pc + 4
        cpsr = mu.reg_read(A.UC_ARM_REG_CPSR)
        if not q_before and cpsr & PSR_Q and _unicorn_smlad_q(word, before):
            mu.reg_write(A.UC_ARM_REG_CPSR, cpsr & ~PSR_Q)
    return Final(tuple(mu.reg_read(r) for r in reg_ids), mu.reg_read(A.UC_ARM_REG_CPSR) & FLAG_MASK)


def disasm_lines(code: Sequence[int], base: int = CODE_BASE) -> List[str]:
    """One line per A32 word: address, word, capstone's disassembly."""
    import capstone

    md = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_ARM)
    lines = []
    for i, w in enumerate(code):
        got = list(md.disasm(struct.pack("<I", w), base + 4 * i))
        text = f"{got[0].mnemonic} {got[0].op_str}" if got else "?"
        lines.append(f"  {base + 4 * i:#010x}: {w:08x}  {text}")
    return lines


def check_sequence(words: Sequence[int], start: Start) -> None:
    """Run the sequence three ways from the same state; fail with a readable report on any difference."""
    ref = run_unicorn(words, start)
    for interp in (False, True):
        got = run_tuiemu(words, start, interp)
        d = ref.diff(got)
        assert not d, (
            f"tuiemu {'interpreter' if interp else 'translator'} differs from Unicorn "
            "(left: Unicorn, right: tuiemu)\n" + "\n".join(disasm_lines(words))
            + f"\nstart regs: {' '.join(f'{x:#x}' for x in start.regs)}  flags: {start.flags:#010x}\n  "
            + "\n  ".join(d))
