"""Advanced SIMD two-register miscellaneous operations (ARM ARM A7.4.5), VEXT, VTBL/VTBX and VDUP
(scalar): reversal, pairwise add long, counts, VMVN, saturating absolute/negate, compares with
zero, absolute/negate, permutes (VSWP VTRN VUZP VZIP), narrowing moves, VSHLL by the element size,
half-precision conversions, reciprocal estimates and float/integer conversions.
"""
from __future__ import annotations

from typing import Any, Dict, Tuple

from ..codegen import Block
from ..decodetree import Args
from ..neon import estimate, fplanes, lanes, perm
from .fpregs import LO32, dreg
from .neon_common import call, halves, q_ok, start, write
from .registry import handler

# op -> sizes allowed
_SIZES: Dict[str, Tuple[int, ...]] = {
    "rev64": (0, 1, 2), "rev32": (0, 1), "rev16": (0,), "paddl": (0, 1, 2), "padal": (0, 1, 2),
    "cls": (0, 1, 2), "clz": (0, 1, 2), "cnt": (0,), "mvn": (0,), "qabs": (0, 1, 2), "qneg": (0, 1, 2),
    "cgt0": (0, 1, 2), "cge0": (0, 1, 2), "ceq0": (0, 1, 2), "cle0": (0, 1, 2), "clt0": (0, 1, 2),
    "abs": (0, 1, 2), "neg": (0, 1, 2), "swp": (0,), "trn": (0, 1, 2), "uzp": (0, 1, 2), "zip": (0, 1, 2),
    "movn": (0, 1, 2), "qmovun": (0, 1, 2), "qmovn": (0, 1, 2), "shll": (0, 1, 2), "cvt_half": (1,),
    "recpe": (2,), "rsqrte": (2,), "cvt": (2,),
}

_UNARY: Dict[str, Tuple[Any, str]] = {  # op -> (helper, argument template after the register)
    "rev64": (lanes.rev, "{es}, 64"), "rev32": (lanes.rev, "{es}, 32"), "rev16": (lanes.rev, "{es}, 16"),
    "paddl": (lanes.paddl, "{es}, {u}"), "cls": (lanes.cls, "{es}"), "clz": (lanes.clz, "{es}"),
    "cnt": (lanes.cnt, ""), "abs": (lanes.abs_, "{es}"), "neg": (lanes.neg, "{es}"),
    "cgt0": (lanes.cmpz, "{es}, 'gt'"), "cge0": (lanes.cmpz, "{es}, 'ge'"), "ceq0": (lanes.cmpz, "{es}, 'eq'"),
    "cle0": (lanes.cmpz, "{es}, 'le'"), "clt0": (lanes.cmpz, "{es}, 'lt'"),
}


@handler("neon_misc")
def neon_misc(b: Block, a: Args) -> bool:
    op, q, size = a.op, a.get("q", 0), a.size
    f = a.get("f", 0)
    if size not in _SIZES[op] or (f and size != 2):
        return False
    if op in ("uzp", "zip") and not q and size == 2:
        return False
    if op in ("movn", "qmovun", "qmovn", "shll", "cvt_half"):
        return _resize(b, a)
    if not q_ok(q, a.vd, a.vm):
        return False
    if not start(b, a.insn):
        return True
    es, u = 8 << size, a.get("u", 0)
    ds, ms = halves(q, a.vd), halves(q, a.vm)
    if op in ("swp", "trn", "uzp", "zip"):
        _permute(b, op, es, ds, ms)
        return True
    outs = []
    for d, m in zip(ds, ms):
        dv, mv = dreg(b, d), dreg(b, m)
        if op == "mvn":
            outs.append(b.as_local(f"{mv} ^ 0xFFFFFFFFFFFFFFFF"))
        elif op in ("recpe", "rsqrte"):
            kind = op + ("_f" if f else "")
            outs += call(b, "NEST", estimate.estimate, f"{mv}, {kind!r}", flags=True)
        elif f and op in ("abs", "neg"):
            outs.append(b.as_local(f"{mv} & 0x7FFFFFFF7FFFFFFF" if op == "abs" else f"{mv} ^ 0x8000000080000000"))
        elif f:  # compares with zero
            outs += call(b, "FCMPZ", fplanes.cmpz, f"{mv}, {op[1:-1]!r}", flags=True)
        elif op == "padal":
            outs += call(b, "NPADAL", lanes.padal, f"{dv}, {mv}, {es}, {u}")
        elif op in ("qabs", "qneg"):
            outs += call(b, f"N{op.upper()}", lanes.qabs if op == "qabs" else lanes.qneg, f"{mv}, {es}", flags=True)
        elif op == "cvt":
            fn, nm = (fplanes.to_fixed, "FTOFIXN") if a.cop & 2 else (fplanes.from_fixed, "FFROMFIXN")
            outs += call(b, nm, fn, f"{mv}, 0, {a.cop & 1}", flags=True)
        else:
            fn, tmpl = _UNARY[op]
            extra = tmpl.format(es=es, u=u)
            outs += call(b, f"N{op.upper()}", fn, f"{mv}, {extra}" if extra else mv)
    write(b, ds, outs)
    return True


def _copy(b: Block, value: str) -> str:
    """A temporary holding ``value`` now (as_local would hand back a register's own local, which
    the swap overwrites before reading it)."""
    t = b.tmp("s")
    b.emit(f"{t} = {value}")
    return t


def _permute(b: Block, op: str, es: int, ds: list, ms: list) -> None:
    dv = [dreg(b, r) for r in ds]
    mv = [dreg(b, r) for r in ms]
    if op == "swp":
        new_d, new_m = [_copy(b, v) for v in mv], [_copy(b, v) for v in dv]
    else:
        fn = {"trn": perm.trn, "uzp": perm.uzp, "zip": perm.zip_}[op]
        b.const(f"P{op.upper()}", fn)
        rd, rm = b.tmp("p"), b.tmp("p")
        b.emit(f"{rd}, {rm} = P{op.upper()}(({', '.join(dv)},), ({', '.join(mv)},), {es})")
        new_d = [f"{rd}[{i}]" for i in range(len(ds))]
        new_m = [f"{rm}[{i}]" for i in range(len(ms))]
    write(b, ds + ms, new_d + new_m)


def _resize(b: Block, a: Args) -> bool:
    """The narrowing moves (Qm to Dd), VSHLL by the element size (Dm to Qd) and the
    half-precision conversions (VCVT.F16.F32 Dd, Qm / VCVT.F32.F16 Qd, Dm)."""
    op, es = a.op, 8 << a.size
    to_q = op == "shll" or (op == "cvt_half" and a.to_single)
    if (a.vd if to_q else a.vm) & 1:
        return False
    if not start(b, a.insn):
        return True
    if op == "shll":
        lo, hi = call(b, "NSHLL", lanes.shll, f"{dreg(b, a.vm)}, {es}, {es}, 0", outs=2)
        write(b, [a.vd, a.vd + 1], [lo, hi])
    elif op == "cvt_half" and a.to_single:
        lo, hi = call(b, "FFROMHALF", fplanes.from_half, f"{dreg(b, a.vm)}", outs=2, flags=True)
        write(b, [a.vd, a.vd + 1], [lo, hi])
    elif op == "cvt_half":
        r = call(b, "FTOHALF", fplanes.to_half, f"{dreg(b, a.vm)}, {dreg(b, a.vm + 1)}", flags=True)
        write(b, [a.vd], r)
    else:
        nu = a.get("nu", 0)
        src_u, dst_u, sat = {"movn": (0, 0, 0), "qmovun": (0, 1, 1), "qmovn": (nu, nu, 1)}[op]
        r = call(b, "NNARROW", lanes.narrow, f"{dreg(b, a.vm)}, {dreg(b, a.vm + 1)}, {es}, {src_u}, {dst_u}, {sat}",
                 flags=True)
        write(b, [a.vd], r)
    return True


@handler("neon_ext")
def neon_ext(b: Block, a: Args) -> bool:
    """VEXT: bytes from imm4 on of Vm:Vn."""
    q = a.q
    if not q_ok(q, a.vd, a.vn, a.vm) or (not q and a.imm4 > 7):
        return False
    if not start(b, a.insn):
        return True
    ns, ms = halves(q, a.vn), halves(q, a.vm)
    b.const("PEXT", perm.ext)
    t = b.tmp("p")
    b.emit(f"{t} = PEXT(({', '.join(dreg(b, r) for r in ns)},), ({', '.join(dreg(b, r) for r in ms)},), {a.imm4})")
    write(b, halves(q, a.vd), [f"{t}[{i}]" for i in range(len(ns))])
    return True


@handler("neon_tbl")
def neon_tbl(b: Block, a: Args) -> bool:
    """VTBL / VTBX with a list of 1-4 registers from Dn."""
    n = a.len + 1
    if a.vn + n > 32:
        return False
    if not start(b, a.insn):
        return True
    b.const("PTBL", perm.tbl)
    table = ", ".join(dreg(b, r) for r in range(a.vn, a.vn + n))
    r = b.as_local(f"PTBL(({table},), {dreg(b, a.vm)}, {dreg(b, a.vd)}, {a.x})")
    write(b, [a.vd], [r])
    return True


@handler("neon_dup_scalar")
def neon_dup_scalar(b: Block, a: Args) -> bool:
    """VDUP Dd/Qd, Dm[x]: imm4 = xxx1 bytes, xx10 halfwords, x100 words."""
    imm4 = a.imm4
    if imm4 & 1:
        es, index = 8, imm4 >> 1
    elif imm4 & 2:
        es, index = 16, imm4 >> 2
    elif imm4 & 4:
        es, index = 32, imm4 >> 3
    else:
        return False
    if not q_ok(a.q, a.vd):
        return False
    if not start(b, a.insn):
        return True
    mask = LO32 if es == 32 else hex((1 << es) - 1)
    v = b.as_local(f"({dreg(b, a.vm)} >> {es * index} & {mask}) * {lanes.dup(1, es):#x}")
    write(b, halves(a.q, a.vd), [v] * (1 + a.q))
    return True
