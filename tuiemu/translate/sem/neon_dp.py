"""Advanced SIMD data processing with two or three register operands (ARM ARM A7.4.1-A7.4.4):
three registers of the same length, of different lengths, two registers and a scalar, two
registers and a shift amount. Elements are computed by the run-time helpers in neon/; this module
picks the helper, its element size and signedness, and the register shapes.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

from ..codegen import Block
from ..decodetree import Args
from ..neon import fplanes, lanes
from .fpregs import LO32, dreg
from .neon_common import call, halves, q_ok, start, write
from .registry import handler

M64 = "0xFFFFFFFFFFFFFFFF"

# ---- three registers of the same length --------------------------------------------------------
# op -> (helper, shape, sizes allowed): shapes say how the helper is called (see _same_call)
_SAME: Dict[str, Tuple[Any, str, Tuple[int, ...]]] = {
    "hadd": (lanes.hadd, "u", (0, 1, 2)), "rhadd": (lanes.rhadd, "u", (0, 1, 2)),
    "hsub": (lanes.hsub, "u", (0, 1, 2)),
    "qadd": (lanes.qadd, "uq", (0, 1, 2, 3)), "qsub": (lanes.qsub, "uq", (0, 1, 2, 3)),
    "cgt": (lanes.cgt, "u", (0, 1, 2)), "cge": (lanes.cge, "u", (0, 1, 2)),
    "shl": (lanes.shl, "shift", (0, 1, 2, 3)), "qshl": (lanes.shl, "shift", (0, 1, 2, 3)),
    "rshl": (lanes.shl, "shift", (0, 1, 2, 3)), "qrshl": (lanes.shl, "shift", (0, 1, 2, 3)),
    "max": (lanes.max_, "u", (0, 1, 2)), "min": (lanes.min_, "u", (0, 1, 2)),
    "abd": (lanes.abd, "u", (0, 1, 2)), "aba": (lanes.aba, "acc_u", (0, 1, 2)),
    "add": (lanes.add, "es", (0, 1, 2, 3)), "sub": (lanes.sub, "es", (0, 1, 2, 3)),
    "tst": (lanes.tst, "es", (0, 1, 2)), "ceq": (lanes.ceq, "es", (0, 1, 2)),
    "mla": (lanes.mla, "acc_op", (0, 1, 2)), "mls": (lanes.mla, "acc_op", (0, 1, 2)),
    "mul": (lanes.mul, "es", (0, 1, 2)), "pmul": (lanes.pmul, "es", (0,)),
    "pmax": (lanes.pmax, "pair_u", (0, 1, 2)), "pmin": (lanes.pmin, "pair_u", (0, 1, 2)),
    "padd": (lanes.padd, "pair", (0, 1, 2)),
    "qdmulh": (lanes.qdmulh, "qdmulh", (1, 2)), "qrdmulh": (lanes.qdmulh, "qdmulh", (1, 2)),
}

_LOGIC = {  # inline, on whole doublewords: (d, n, m) -> expression
    "and": "{n} & {m}", "bic": "{n} & ~{m} & " + M64, "orr": "{n} | {m}", "orn": "({n} | ~{m}) & " + M64,
    "eor": "{n} ^ {m}", "bsl": "({d} & {n}) | (~{d} & {m} & " + M64 + ")",
    "bit": "({n} & {m}) | ({d} & ~{m} & " + M64 + ")", "bif": "({d} & {m}) | ({n} & ~{m} & " + M64 + ")",
}


def _same_args(op: str, shape: str, d: str, n: str, m: str, es: int, u: int) -> Tuple[str, bool]:
    """(argument text, takes FPSCR) of a helper call."""
    if shape in ("u", "pair_u"):
        return f"{n}, {m}, {es}, {u}", False
    if shape == "uq":
        return f"{n}, {m}, {es}, {u}", True
    if shape in ("es", "pair"):
        return f"{n}, {m}, {es}", False
    if shape == "acc_u":
        return f"{d}, {n}, {m}, {es}, {u}", False
    if shape == "acc_op":
        return f"{d}, {n}, {m}, {es}, {1 if op == 'mls' else 0}", False
    if shape == "shift":  # the value is Vm, the shift amounts Vn
        return f"{m}, {n}, {es}, {u}, {int(op in ('rshl', 'qrshl'))}, {int(op in ('qshl', 'qrshl'))}", True
    return f"{n}, {m}, {es}, {int(op == 'qrdmulh')}", True  # qdmulh


@handler("neon_3same")
def neon_3same(b: Block, a: Args) -> bool:
    op, q = a.op, a.q
    if not q_ok(q, a.vd, a.vn, a.vm):
        return False
    if op in _LOGIC:
        if not start(b, a.insn):
            return True
        vals = []
        for d, n, m in zip(halves(q, a.vd), halves(q, a.vn), halves(q, a.vm)):
            vals.append(b.as_local(_LOGIC[op].format(d=dreg(b, d), n=dreg(b, n), m=dreg(b, m))))
        write(b, halves(q, a.vd), vals)
        return True
    fn, shape, sizes = _SAME[op]
    if a.size not in sizes or (shape.startswith("pair") and q):
        return False
    if not start(b, a.insn):
        return True
    es, u = 8 << a.size, a.get("u", 0)
    name = f"N{op.upper()}"
    outs = []
    for d, n, m in zip(halves(q, a.vd), halves(q, a.vn), halves(q, a.vm)):
        args, flags = _same_args(op, shape, dreg(b, d), dreg(b, n), dreg(b, m), es, u)
        outs += call(b, name, fn, args, flags=flags)
    write(b, halves(q, a.vd), outs)
    return True


# floating point: op -> (two-lane helper, shape)
_FSAME: Dict[str, Tuple[Any, str]] = {
    "add": (fplanes.add, "bin"), "sub": (fplanes.sub, "bin"), "mul": (fplanes.mul, "bin"),
    "abd": (fplanes.abd, "bin"), "max": (fplanes.max_, "bin"), "min": (fplanes.min_, "bin"),
    "ceq": (fplanes.ceq, "bin"), "cge": (fplanes.cge, "bin"), "cgt": (fplanes.cgt, "bin"),
    "acge": (fplanes.acge, "bin"), "acgt": (fplanes.acgt, "bin"), "recps": (fplanes.recps, "bin"),
    "rsqrts": (fplanes.rsqrts, "bin"), "padd": (fplanes.padd, "pair"), "pmax": (fplanes.pmax, "pair"),
    "pmin": (fplanes.pmin, "pair"), "mla": (fplanes.mla, "acc"), "mls": (fplanes.mla, "acc"),
    "fma": (fplanes.fma, "acc"), "fms": (fplanes.fma, "acc"),
}


@handler("neon_3same_f")
def neon_3same_f(b: Block, a: Args) -> bool:
    """Single-precision three-register operations; ``ops`` names the (bit 21 = 0, = 1) pair."""
    op = a.ops[a.o]
    q = a.q
    if op is None or a.sz or not q_ok(q, a.vd, a.vn, a.vm):
        return False
    fn, shape = _FSAME[op]
    if shape == "pair" and q:
        return False
    if not start(b, a.insn):
        return True
    name = f"F{op.upper()}"
    outs = []
    for d, n, m in zip(halves(q, a.vd), halves(q, a.vn), halves(q, a.vm)):
        if shape == "acc":
            outs += call(b, name, fn, f"{dreg(b, d)}, {dreg(b, n)}, {dreg(b, m)}, {int(op in ('mls', 'fms'))}",
                         flags=True)
        else:
            outs += call(b, name, fn, f"{dreg(b, n)}, {dreg(b, m)}", flags=True)
    write(b, halves(q, a.vd), outs)
    return True


# ---- three registers of different lengths ----------------------------------------------------------
def _long(b: Block, a: Args, op: str, es: int, u: int, n_regs: List[int], m_val: Callable[[int], str]) -> List[str]:
    """The quadword result (low, high temporaries) of a long operation on Dn (or, for the W forms,
    Qn) and the doubleword ``m_val(0)``."""
    if op in ("addw", "subw"):
        lo, hi = call(b, "NWIDEN", lanes.widen, f"{m_val(0)}, {es}, {u}", outs=2)
        f = lanes.add if op == "addw" else lanes.sub
        nm = "NADD" if op == "addw" else "NSUB"
        return [call(b, nm, f, f"{dreg(b, n_regs[0])}, {lo}, {2 * es}")[0],
                call(b, nm, f, f"{dreg(b, n_regs[1])}, {hi}, {2 * es}")[0]]
    kind = {"addl": "add", "subl": "sub", "abdl": "abd", "abal": "abd", "mull": "mul", "mlal": "mul",
            "mlsl": "mul", "pmull": "poly"}[op]
    lo, hi = call(b, "NLONG", lanes.long_op, f"{dreg(b, n_regs[0])}, {m_val(0)}, {es}, {u}, {kind!r}", outs=2)
    return [lo, hi]


_DIFF_ACC = {"abal": "add", "mlal": "add", "mlsl": "sub"}


@handler("neon_3diff")
def neon_3diff(b: Block, a: Args) -> bool:
    op, es, u = a.op, 8 << a.size, a.get("u", 0)
    wide_n = op in ("addw", "subw", "addhn", "raddhn", "subhn", "rsubhn")
    narrow = op in ("addhn", "raddhn", "subhn", "rsubhn")
    if op == "pmull" and a.size != 0 or op.startswith("qd") and a.size not in (1, 2):
        return False
    if not q_ok(1, *([a.vn] if wide_n else []), *([] if narrow else [a.vd])) or (narrow and a.vm & 1):
        return False
    if not start(b, a.insn):
        return True
    if narrow:
        f = lanes.add if op in ("addhn", "raddhn") else lanes.sub
        nm = "NADD" if op in ("addhn", "raddhn") else "NSUB"
        lo = call(b, nm, f, f"{dreg(b, a.vn)}, {dreg(b, a.vm)}, {2 * es}")[0]
        hi = call(b, nm, f, f"{dreg(b, a.vn + 1)}, {dreg(b, a.vm + 1)}, {2 * es}")[0]
        r = call(b, "NHIGH", lanes.narrow_high, f"{lo}, {hi}, {es}, {int(op[0] == 'r')}")
        write(b, [a.vd], r)
        return True
    qd = [a.vd, a.vd + 1]
    if op in ("qdmull", "qdmlal", "qdmlsl"):
        _qd_long(b, op, qd, dreg(b, a.vn), dreg(b, a.vm), es)
        return True
    vals = _long(b, a, op, es, u, halves(1, a.vn) if wide_n else [a.vn], lambda _: dreg(b, a.vm))
    _accumulate(b, op, qd, vals, es)
    return True


def _accumulate(b: Block, op: str, qd: List[int], vals: List[str], es: int) -> None:
    acc = _DIFF_ACC.get(op)
    if acc is not None:
        f = lanes.add if acc == "add" else lanes.sub
        nm = "NADD" if acc == "add" else "NSUB"
        vals = [call(b, nm, f, f"{dreg(b, r)}, {v}, {2 * es}")[0] for r, v in zip(qd, vals)]
    write(b, qd, vals)


def _qd_long(b: Block, op: str, qd: List[int], n: str, m: str, es: int) -> None:
    if op == "qdmull":
        lo, hi = call(b, "NQDMULL", lanes.qdmull, f"{n}, {m}, {es}", outs=2, flags=True)
    else:
        lo, hi = call(b, "NQDMLAL", lanes.qdmlal, f"{dreg(b, qd[0])}, {dreg(b, qd[1])}, {n}, {m}, {es}, "
                      f"{int(op == 'qdmlsl')}", outs=2, flags=True)
    write(b, qd, [lo, hi])


# ---- two registers and a scalar ----------------------------------------------------------------------
def _scalar(b: Block, a: Args, es: int) -> str:
    """Dm[x] in every lane of a doubleword (size 01: D0-D7 and a 2-bit index, 10: D0-D15, 1 bit)."""
    reg, index = (a.vm & 7, a.vm >> 3) if es == 16 else (a.vm & 15, a.vm >> 4)
    if es == 32:
        return b.as_local(f"({dreg(b, reg)} >> {32 * index} & {LO32}) * 0x100000001")
    return b.as_local(f"({dreg(b, reg)} >> {16 * index} & 0xFFFF) * 0x0001000100010001")


@handler("neon_scalar")
def neon_scalar(b: Block, a: Args) -> bool:
    """VMLA VMLS VMUL (integer and float) VMLAL VMLSL VMULL VQDMLAL VQDMLSL VQDMULL VQDMULH
    VQRDMULH by a scalar; for the same-length forms the top bit is Q, for the long ones U."""
    op, es = a.op, 8 << a.size
    long_ = op in ("mlal", "mlsl", "mull", "qdmlal", "qdmlsl", "qdmull")
    q = 1 if long_ else a.u
    if a.size == 0 or (op.endswith("_f") and a.size != 2):
        return False
    if not q_ok(q, a.vd) or (not long_ and not q_ok(q, a.vn)):
        return False
    if not start(b, a.insn):
        return True
    s = _scalar(b, a, es)
    if long_:
        qd = [a.vd, a.vd + 1]
        if op.startswith("qd"):
            _qd_long(b, op, qd, dreg(b, a.vn), s, es)
        else:
            vals = call(b, "NLONG", lanes.long_op, f"{dreg(b, a.vn)}, {s}, {es}, {a.u}, 'mul'", outs=2)
            _accumulate(b, op, qd, vals, es)
        return True
    outs = []
    for d, n in zip(halves(q, a.vd), halves(q, a.vn)):
        dv, nv = dreg(b, d), dreg(b, n)
        if op in ("mla_f", "mls_f"):
            outs += call(b, "FMLA", fplanes.mla, f"{dv}, {nv}, {s}, {int(op == 'mls_f')}", flags=True)
        elif op == "mul_f":
            outs += call(b, "FMUL", fplanes.mul, f"{nv}, {s}", flags=True)
        elif op in ("mla", "mls"):
            outs += call(b, "NMLA", lanes.mla, f"{dv}, {nv}, {s}, {es}, {int(op == 'mls')}")
        elif op == "mul":
            outs += call(b, "NMUL", lanes.mul, f"{nv}, {s}, {es}")
        else:
            outs += call(b, "NQDMULH", lanes.qdmulh, f"{nv}, {s}, {es}, {int(op == 'qrdmulh')}", flags=True)
    write(b, halves(q, a.vd), outs)
    return True


# ---- two registers and a shift amount ------------------------------------------------------------------
def element_size(imm6: int) -> int:
    """A7.4.4: a shift by immediate (L = 0) names its element size by imm6's leading one (0: none)."""
    return 32 if imm6 >= 32 else 16 if imm6 >= 16 else 8 if imm6 >= 8 else 0


@handler("neon_shift")
def neon_shift(b: Block, a: Args) -> bool:
    op, q = a.op, a.q
    es = 64 if a.l else element_size(a.imm6)
    if not es:
        return False
    right = es * 2 - a.imm6 if es < 64 else 64 - a.imm6  # shift amount of the right shifts
    left = a.imm6 - es if es < 64 else a.imm6
    u = a.get("u", 0)
    if not q_ok(q, a.vd, a.vm):
        return False
    if not start(b, a.insn):
        return True
    outs = []
    for d, m in zip(halves(q, a.vd), halves(q, a.vm)):
        dv, mv = dreg(b, d), dreg(b, m)
        if op in ("shr", "rshr"):
            outs += call(b, "NSHR", lanes.shr, f"{mv}, {es}, {right}, {u}, {int(op == 'rshr')}")
        elif op in ("sra", "rsra"):
            outs += call(b, "NSRA", lanes.sra, f"{dv}, {mv}, {es}, {right}, {u}, {int(op == 'rsra')}")
        elif op == "sri":
            outs += call(b, "NSRI", lanes.sri, f"{dv}, {mv}, {es}, {right}")
        elif op == "shl":
            outs += call(b, "NSHLI", lanes.shl_imm, f"{mv}, {es}, {left}")
        elif op == "sli":
            outs += call(b, "NSLI", lanes.sli, f"{dv}, {mv}, {es}, {left}")
        elif op == "qshl":
            outs += call(b, "NQSHLI", lanes.qshl_imm, f"{mv}, {es}, {left}, {u}, {u}", flags=True)
        else:  # qshlu: signed in, unsigned out
            outs += call(b, "NQSHLI", lanes.qshl_imm, f"{mv}, {es}, {left}, 0, 1", flags=True)
    write(b, halves(q, a.vd), outs)
    return True


@handler("neon_shift_narrow")
def neon_shift_narrow(b: Block, a: Args) -> bool:
    """VSHRN VRSHRN VQSHRN VQRSHRN VQSHRUN VQRSHRUN: Qm to Dd."""
    es = element_size(a.imm6)
    if not es or a.vm & 1:
        return False
    if not start(b, a.insn):
        return True
    sh = 2 * es - a.imm6
    op, u = a.op, a.get("u", 0)
    src_u, dst_u, sat = {"shrn": (0, 0, 0), "qshrn": (u, u, 1), "qshrun": (0, 1, 1)}[op]
    r = call(b, "NSHRN", lanes.shrn, f"{dreg(b, a.vm)}, {dreg(b, a.vm + 1)}, {es}, {sh}, {src_u}, {dst_u}, "
             f"{a.r}, {sat}", flags=True)
    write(b, [a.vd], r)
    return True


@handler("neon_shll")
def neon_shll(b: Block, a: Args) -> bool:
    """VSHLL (shift below the element size) and VMOVL (shift 0): Dm to Qd."""
    es = element_size(a.imm6)
    if not es or a.vd & 1:
        return False
    if not start(b, a.insn):
        return True
    lo, hi = call(b, "NSHLL", lanes.shll, f"{dreg(b, a.vm)}, {es}, {a.imm6 - es}, {a.u}", outs=2)
    write(b, [a.vd, a.vd + 1], [lo, hi])
    return True


@handler("neon_cvt_fixed")
def neon_cvt_fixed(b: Block, a: Args) -> bool:
    """VCVT between single precision and 32-bit fixed point, 64 - imm6 fraction bits."""
    if a.imm6 < 32 or not q_ok(a.q, a.vd, a.vm):
        return False
    if not start(b, a.insn):
        return True
    fbits = 64 - a.imm6
    fn, nm = (fplanes.to_fixed, "FTOFIXN") if a.to_fixed else (fplanes.from_fixed, "FFROMFIXN")
    outs = []
    for m in halves(a.q, a.vm):
        outs += call(b, nm, fn, f"{dreg(b, m)}, {fbits}, {a.u}", flags=True)
    write(b, halves(a.q, a.vd), outs)
    return True


# ---- one register and a modified immediate ----------------------------------------------------------
def expand_imm(op: int, cmode: int, imm8: int) -> Optional[int]:
    """AdvSIMDExpandImm (None: UNDEFINED)."""
    c = cmode >> 1
    if c == 0:
        return imm8 * 0x0000000100000001
    if c == 1:
        return (imm8 << 8) * 0x0000000100000001
    if c == 2:
        return (imm8 << 16) * 0x0000000100000001
    if c == 3:
        return (imm8 << 24) * 0x0000000100000001
    if c == 4:
        return imm8 * 0x0001000100010001
    if c == 5:
        return (imm8 << 8) * 0x0001000100010001
    if c == 6:
        v = (imm8 << 8 | 0xFF) if not cmode & 1 else (imm8 << 16 | 0xFFFF)
        return v * 0x0000000100000001
    if not cmode & 1:
        if not op:
            return imm8 * 0x0101010101010101
        return sum(0xFF << (8 * i) for i in range(8) if imm8 >> i & 1)
    if op:
        return None
    b6 = imm8 >> 6 & 1
    imm32 = (imm8 >> 7) << 31 | (b6 ^ 1) << 30 | (0x1F if b6 else 0) << 25 | (imm8 & 0x3F) << 19
    return imm32 * 0x0000000100000001


@handler("neon_imm")
def neon_imm(b: Block, a: Args) -> bool:
    """VMOV VMVN VORR VBIC (immediate)."""
    cmode, op = a.cmode, a.op
    imm = expand_imm(op, cmode, a.u << 7 | a.imm3 << 4 | a.imm4)
    if imm is None or not q_ok(a.q, a.vd):
        return False
    if not start(b, a.insn):
        return True
    orr_bic = cmode < 12 and cmode & 1
    for d in halves(a.q, a.vd):
        if not orr_bic:
            value = imm if not op or cmode == 14 else ~imm & 0xFFFFFFFFFFFFFFFF
            write(b, [d], [hex(value)])
        elif op:
            write(b, [d], [f"{dreg(b, d)} & {~imm & 0xFFFFFFFFFFFFFFFF:#x}"])
        else:
            write(b, [d], [f"{dreg(b, d)} | {imm:#x}"])
    return True
