"""Random VFP instructions and operands, and a three-way runner (translator, interpreter, Unicorn)
comparing the core registers, flags, D0-D31, FPSCR and a data buffer.

Encodings are written here from the ARM ARM (ARMv7-A/R, A7.5-A7.8, A8.8) as specs (specs.py),
independently of tuiemu's tables; each VFP spec is written once without its top nibble, which is
the condition in A32 and 1110 in T32. Operands come from pools that make the interesting cases
common: signed zeros, infinities, quiet and signalling NaNs with payloads, denormals, the
smallest and largest normals, and values with few significant bits whose sums, products and
quotients often land exactly on (or next to) rounding ties, underflow or overflow.
"""
from __future__ import annotations

import struct
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

from hypothesis import strategies as st

from . import specs

CODE_BASE = 0x40000000
RAM = 1 << 20
DATA = CODE_BASE + 0x80000  # a two-page buffer for loads and stores
DATA_SIZE = 0x2000
DATA_FILL = bytes((i * 151 + 3) & 0xFF for i in range(DATA_SIZE))
UDF_A32, UDF_T16 = 0xE7F000F0, 0xDE00
CPSR_CTL = 0x000001D3  # SVC, A/I/F masked
PSR_T = 1 << 5
FLAG_MASK = 0xF80F0000
CPACR_FULL, FPEXC_EN = 0x00F00000, 0x40000000
FPSCR_MASK = 0xFFF7009F

# ---- operands ----------------------------------------------------------------------------------


def _values(e: int, f: int) -> st.SearchStrategy:
    """Bit patterns of one format (exponent ``e`` bits, fraction ``f`` bits)."""
    n = 1 + e + f
    emax = (1 << e) - 1
    bias = emax >> 1
    sign = st.integers(0, 1)

    def build(s: int, exp: int, frac: int) -> int:
        return s << (n - 1) | exp << f | frac

    few_bits = st.lists(st.integers(0, f - 1), max_size=3).map(lambda ps: sum(1 << p for p in set(ps)))
    top_bits = st.integers(0, 15).map(lambda k: k << (f - 4))
    fracs = st.one_of(few_bits, top_bits, st.integers(0, (1 << f) - 1),
                      st.sampled_from([0, 1, (1 << f) - 1, 1 << (f - 1), (1 << (f - 1)) - 1, (1 << (f - 1)) + 1]))
    specials = [0, 1 << (n - 1), build(0, emax, 0), build(1, emax, 0),  # zeros, infinities
                build(0, emax, 1 << (f - 1)), build(1, emax, 1 << (f - 1) | 5),  # quiet NaNs
                build(0, emax, 1), build(1, emax, (1 << (f - 1)) - 1),  # signalling NaNs
                1, (1 << f) - 1, build(0, 1, 0), build(1, 1, 0), build(0, emax - 1, (1 << f) - 1),
                build(0, bias, 0), build(1, bias, 0), build(0, bias, 1), build(0, bias - 1, (1 << f) - 1),
                build(0, bias + 1, 1 << (f - 1))]
    return st.one_of(
        st.sampled_from(specials),
        st.builds(build, sign, st.integers(bias - 24, bias + 24), fracs),  # ordinary magnitudes
        st.builds(build, sign, st.integers(0, 40), fracs),  # near and below the smallest normal
        st.builds(build, sign, st.integers(emax - 40, emax), fracs),  # near overflow, NaNs
        st.builds(build, sign, st.integers(bias - 2, bias + 2), few_bits),  # ties in sums
        st.integers(0, (1 << n) - 1),
    )


f32_values = _values(8, 23)
f64_values = _values(11, 52)
int_values = st.one_of(st.integers(0, 0xFFFFFFFF), st.sampled_from(
    [0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x7FFF, 0x8000, 0xFFFF, 0x00FFFFFF, 0x01000001, 0x7FFFFFC0]))
d_values = st.one_of(f64_values, st.tuples(f32_values, f32_values).map(lambda t: t[0] | t[1] << 32),
                     st.tuples(int_values, f32_values).map(lambda t: t[0] | t[1] << 32))


@st.composite
def d_files(draw: Callable) -> Tuple[int, ...]:
    """D0-D31 from a small pool, so that operands repeat (x - x, x * x...)."""
    pool = draw(st.lists(d_values, min_size=1, max_size=6))
    return tuple(draw(st.one_of(st.sampled_from(pool), d_values)) for _ in range(32))


# FPSCR: NZCV, QC, AHP, DN, FZ, RMode and the cumulative flags (Len/Stride stay 0)
fpscrs = st.builds(lambda top, ctl, flags: (top << 27 | ctl << 22 | flags) & FPSCR_MASK,
                   st.integers(0, 31), st.one_of(st.just(0), st.integers(0, 31)),
                   st.one_of(st.just(0), st.just(0x10), st.integers(0, 0xFF)))


class FPStart(NamedTuple):
    regs: Tuple[int, ...]  # r0-r14
    flags: int  # CPSR NZCVQ and GE
    d: Tuple[int, ...]  # D0-D31
    fpscr: int


class FPFinal(NamedTuple):
    regs: Tuple[int, ...]
    flags: int
    d: Tuple[int, ...]
    fpscr: int
    data: bytes

    def diff(self, other: FPFinal) -> List[str]:
        out = [f"r{i}: {a:#010x} != {b:#010x}" for i, (a, b) in enumerate(zip(self.regs, other.regs)) if a != b]
        if self.flags != other.flags:
            out.append(f"NZCVQ/GE: {self.flags:#010x} != {other.flags:#010x}")
        out += [f"d{i}: {a:#018x} != {b:#018x}" for i, (a, b) in enumerate(zip(self.d, other.d)) if a != b]
        if self.fpscr != other.fpscr:
            out.append(f"FPSCR: {self.fpscr:#010x} != {other.fpscr:#010x}")
        if self.data != other.data:
            at = next(i for i in range(len(self.data)) if self.data[i] != other.data[i])
            out.append(f"data differs from {DATA + at:#x}")
        return out


def core_values() -> st.SearchStrategy:
    """r0-r14: r0-r3 point into the data buffer (32-byte aligned, so no alignment faults, which
    Unicorn does not raise for VLDn/VSTn; with room either way)."""
    base = st.integers(0x100, DATA_SIZE - 0x100).map(lambda o: DATA + (o & ~31))
    return st.tuples(*([base] * 4 + [int_values] * 11))


fp_starts = st.builds(FPStart, core_values(),
                      st.tuples(st.integers(0, 31), st.integers(0, 15)).map(lambda t: t[0] << 27 | t[1] << 16),
                      d_files(), fpscrs)


# ---- encodings (bits 27:0; the runner adds the condition or 1110) -------------------------------
def body(spec: str, check: Optional[Callable[[Dict[str, int]], object]] = None,
         **over: st.SearchStrategy) -> st.SearchStrategy:
    """Instruction bodies of one class; fields default to any value."""
    return specs.words(f"0000 {spec}", lambda name, w: st.integers(0, (1 << w) - 1), check, **over)


REG = st.integers(0, 12)
BASE = st.integers(0, 3)
DP3 = "1110 o1:1 d:1 o2:2 vn:4 vd:4 101 sz:1 n:1 o3:1 m:1 0 vm:4"
OTHER = "1110 1 d:1 11 opc2:4 vd:4 101 sz:1 o3:1 1 m:1 0 vm:4"


def _dp3_ok(v: Dict[str, int]) -> bool:
    return not v["o1"] or (v["o2"] != 3 and (v["o2"] or not v["o3"]))


def _other_ok(v: Dict[str, int]) -> bool:
    opc2 = v["opc2"]
    if opc2 in (2, 3):
        return v["sz"] == 0  # VCVTB/VCVTT: half <-> single only in ARMv7
    if opc2 == 7:
        return v["o3"] == 1
    if opc2 == 5:
        return v["m"] == 0 and v["vm"] == 0
    return opc2 in (0, 1, 4, 8, 12, 13)


def _fixed_ok(v: Dict[str, int]) -> bool:
    return (v["imm4"] << 1 | v["i"]) <= (32 if v["sx"] else 16)


VFP_CLASSES: Dict[str, st.SearchStrategy] = {
    "dp3": body(DP3, _dp3_ok),
    "other": body(OTHER, _other_ok, opc2=st.sampled_from([0, 1, 2, 3, 4, 5, 7, 8, 12, 13])),
    "cvt_fixed": body("1110 1 d:1 11 1 op:1 1 u:1 vd:4 101 sf:1 sx:1 1 i:1 0 imm4:4", _fixed_ok),
    "mov_imm": body("1110 1 d:1 11 imm4h:4 vd:4 101 sz:1 0000 imm4l:4"),
    "mov_core_s": body("1110 000 op:1 vn:4 rt:4 1010 n:1 00 1 0000", rt=REG),
    "mov_core_2": body("1100 010 op:1 rt2:4 rt:4 101 sz:1 00 m:1 1 vm:4",
                       lambda v: (v["sz"] or (v["vm"] << 1 | v["m"]) != 31) and not (v["op"] and v["rt"] == v["rt2"]),
                       rt=REG, rt2=REG),
    "mov_scalar32": body("1110 0 0 h:1 l:1 vd:4 rt:4 1011 d:1 00 1 0000", rt=REG),
    "vmrs_vmsr": st.one_of(body("1110 1111 0001 rt:4 1010 0001 0000", rt=st.one_of(REG, st.just(15))),
                           body("1110 1110 0001 rt:4 1010 0001 0000", rt=REG)),
    "vldr_vstr": body("1101 u:1 d:1 0 l:1 rn:4 vd:4 101 sz:1 imm8:8", rn=BASE, imm8=st.integers(0, 60)),
    "vldm_vstm": body("110 p:1 u:1 d:1 w:1 l:1 rn:4 vd:4 101 sz:1 imm8:8", lambda v: (
        (v["p"], v["u"], v["w"]) in ((0, 1, 0), (0, 1, 1), (1, 0, 1))
        and 0 < v["imm8"] // (1 + v["sz"]) and (v["vd"] | v["d"] << 4 if v["sz"] else v["vd"] << 1 | v["d"])
        + v["imm8"] // (1 + v["sz"]) <= 32), rn=BASE, imm8=st.integers(1, 33)),
}
conds = st.one_of(st.just(14), st.just(14), st.just(14), st.integers(0, 13))


def a32_word(body_: int, cond: int) -> int:
    return cond << 28 | body_


# ---- runners -----------------------------------------------------------------------------------
def code_bytes(words: Sequence[int], thumb: bool) -> bytes:
    if not thumb:
        return struct.pack(f"<{len(words) + 1}I", *words, UDF_A32)
    hws: List[int] = []
    for w in words:
        hws += [w >> 16, w & 0xFFFF]
    return struct.pack(f"<{len(hws) + 1}H", *hws, UDF_T16)


def thumb_word(body_: int) -> int:
    return 0xE << 28 | body_


def run_tuiemu(words: Sequence[int], start: FPStart, interp: bool, thumb: bool = False,
               stop_at: Optional[int] = None, cpacr: int = CPACR_FULL, fpexc: int = FPEXC_EN) -> FPFinal:
    """Run until the Undefined Instruction stop, which must come at instruction ``stop_at``
    (default: the UDF after the sequence)."""
    from tuiemu.core.state import D0, FPSCR
    from tuiemu.machine import Machine

    m = Machine(threads="single", interp=interp, ram_size=RAM)
    m.space.write_bytes(CODE_BASE, code_bytes(words, thumb), force=True)
    m.space.write_bytes(DATA, DATA_FILL, force=True)
    v = m.vcpus[0]
    v.power_on(CODE_BASE | thumb)
    s = v.state
    s.set_cpsr(CPSR_CTL | (PSR_T if thumb else 0) | start.flags)
    v.R[0:15] = list(start.regs)
    v.R[D0:D0 + 32] = list(start.d)
    v.R[FPSCR] = start.fpscr
    s.cpacr, s.fpexc = cpacr, fpexc
    s.update_fp_access()
    code = m.run(max_insns=200)
    end = CODE_BASE + (4 * (len(words) if stop_at is None else stop_at))
    assert code == 3 and v.R[15] == end, (
        f"tuiemu ({'interp' if interp else 'translator'}) stopped with {code} at {v.R[15]:#x}, "
        f"expected an undefined instruction at {end:#x}: {m.stop_message}")
    return FPFinal(tuple(v.R[0:15]), s.get_cpsr() & FLAG_MASK, tuple(v.R[D0:D0 + 32]), v.R[FPSCR],
                   m.space.read_bytes(DATA, DATA_SIZE))


def run_unicorn(words: Sequence[int], start: FPStart, thumb: bool = False) -> Tuple[FPFinal, int]:
    """Run in Unicorn (QEMU's ARM front end, cortex-a15) one instruction at a time, until the end
    or an UNDEFINED instruction; returns the state and how many instructions completed."""
    from unicorn import UC_ARCH_ARM, UC_ERR_INSN_INVALID, UC_MODE_ARM, UC_MODE_THUMB, Uc, UcError
    from unicorn import arm_const as A

    mu = Uc(UC_ARCH_ARM, UC_MODE_THUMB if thumb else UC_MODE_ARM)
    mu.ctl_set_cpu_model(A.UC_CPU_ARM_CORTEX_A15)
    mu.mem_map(CODE_BASE, RAM)
    mu.mem_write(CODE_BASE, code_bytes(words, thumb))
    mu.mem_write(DATA, DATA_FILL)
    mu.reg_write(A.UC_ARM_REG_C1_C0_2, CPACR_FULL)
    mu.reg_write(A.UC_ARM_REG_FPEXC, FPEXC_EN)
    mu.reg_write(A.UC_ARM_REG_CPSR, CPSR_CTL | (PSR_T if thumb else 0) | start.flags)
    core = [getattr(A, f"UC_ARM_REG_R{i}") for i in range(13)] + [A.UC_ARM_REG_SP, A.UC_ARM_REG_LR]
    dregs = [getattr(A, f"UC_ARM_REG_D{i}") for i in range(32)]
    for r, val in zip(core, start.regs):
        mu.reg_write(r, val)
    for r, val in zip(dregs, start.d):
        mu.reg_write(r, val)
    mu.reg_write(A.UC_ARM_REG_FPSCR, start.fpscr)
    pc = CODE_BASE
    done = 0
    for _ in words:
        try:
            mu.emu_start(pc | thumb, CODE_BASE + 4 * len(words) + 0x100, count=1)
        except UcError as e:
            if e.errno != UC_ERR_INSN_INVALID:
                raise
            break
        pc = mu.reg_read(A.UC_ARM_REG_PC)
        done += 1
    assert pc == CODE_BASE + 4 * done, f"Unicorn ended at {pc:#x}"
    return FPFinal(tuple(mu.reg_read(r) for r in core), mu.reg_read(A.UC_ARM_REG_CPSR) & FLAG_MASK,
                   tuple(mu.reg_read(r) for r in dregs), mu.reg_read(A.UC_ARM_REG_FPSCR),
                   bytes(mu.mem_read(DATA, DATA_SIZE))), done


def disasm(words: Sequence[int], thumb: bool) -> str:
    import capstone

    md = capstone.Cs(capstone.CS_ARCH_ARM, (capstone.CS_MODE_THUMB if thumb else capstone.CS_MODE_ARM)
                     | capstone.CS_MODE_V8)
    lines = []
    for i, w in enumerate(words):
        raw = struct.pack("<HH", w >> 16, w & 0xFFFF) if thumb else struct.pack("<I", w)
        got = list(md.disasm(raw, CODE_BASE + 4 * i))
        lines.append(f"  {w:08x}  {got[0].mnemonic + ' ' + got[0].op_str if got else '?'}")
    return "\n".join(lines)


def describe(start: FPStart) -> str:
    return (f"start fpscr {start.fpscr:#010x} flags {start.flags:#010x}\n  regs "
            + " ".join(f"{x:#x}" for x in start.regs) + "\n  d " + " ".join(f"{x:#x}" for x in start.d))


def check(words: Sequence[int], start: FPStart, thumb: bool = False,
          fix: Optional[Callable[[FPFinal, FPFinal], FPFinal]] = None,
          undefined: Callable[[int], bool] = lambda word: False) -> None:
    """The same sequence three ways; ``fix`` corrects Unicorn's known deviations from the ARM ARM
    (given Unicorn's and tuiemu's results), and ``undefined`` names the words the ARM ARM makes
    UNDEFINED but Unicorn executes (Unicorn's run stops before the first)."""
    cut = next((i for i, w in enumerate(words) if undefined(w)), len(words))
    ref, done = run_unicorn(words[:cut], start, thumb)
    for interp in (False, True):
        got = run_tuiemu(words, start, interp, thumb, stop_at=done)
        want = fix(ref, got) if fix else ref
        d = want.diff(got)
        assert not d, (f"tuiemu {'interpreter' if interp else 'translator'} differs from Unicorn "
                       f"(left: Unicorn, right: tuiemu)\n{disasm(words, thumb)}\n{describe(start)}\n  "
                       + "\n  ".join(d))
