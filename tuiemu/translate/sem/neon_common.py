"""What the Advanced SIMD handlers share: register shapes (a quadword operand must be an even D
register; its halves are Dn and Dn+1) and calls to run-time helpers."""
from __future__ import annotations

from typing import Any, List

from ..codegen import Block
from .fpregs import enabled, fpscr, fpscr_dest, set_dreg


def halves(q: int, n: int) -> List[int]:
    """The D registers of an operand: Dn, or Qn/2 as Dn, Dn+1."""
    return [n, n + 1] if q else [n]


def q_ok(q: int, *regs: int) -> bool:
    """UNDEFINED unless every quadword operand is an even D register."""
    return not q or all(r % 2 == 0 for r in regs)


def start(b: Block, insn: int) -> bool:
    """CheckAdvSIMDEnabled: False if it emitted the trap (the handler is done)."""
    return enabled(b, insn, simd=True)


def call(b: Block, name: str, fn: Any, args: str, outs: int = 1, flags: bool = False) -> List[str]:
    """Emit ``fn(args)`` into ``outs`` temporaries (plus FPSCR when ``flags``: the helper then takes
    FPSCR as its last argument and returns it last)."""
    b.const(name, fn)
    temps = [b.tmp("n") for _ in range(outs)]
    if flags:
        b.emit(f"{', '.join(temps)}, {fpscr_dest(b)} = {name}({args}, {fpscr(b)})")
    else:
        b.emit(f"{', '.join(temps)} = {name}({args})")
    return temps


def write(b: Block, regs: List[int], values: List[str]) -> None:
    """Write results after every operand was read (sources may overlap destinations)."""
    for r, v in zip(regs, values):
        set_dreg(b, r, v)
