"""Instruction encodings for the generated-instruction tests, written from the ARM ARM independently
of tuiemu's decoder tables (and parsed here, not by tuiemu's decodetree, so that a mistake there
cannot hide itself).

A spec is MSB first: ``0``/``1`` fixed bits and ``name:W`` fields, 16 or 32 bits in all (a T32
spec is both halfwords).
"""
from __future__ import annotations

from functools import cache
from typing import Callable, Dict, NamedTuple, Optional, Tuple

from hypothesis import strategies as st


class Spec(NamedTuple):
    width: int
    fixed: int
    fields: Tuple[Tuple[str, int, int], ...]  # (name, shift, width)


@cache
def parse(spec: str) -> Spec:
    fixed, fields, pos = 0, [], 0
    for tok in reversed(spec.split()):
        if ":" in tok:
            name, w = tok.split(":")
            fields.append((name, pos, int(w)))
            pos += int(w)
        else:
            for ch in reversed(tok):
                fixed |= int(ch) << pos
                pos += 1
    assert pos in (16, 32), spec
    return Spec(pos, fixed, tuple(reversed(fields)))


def encode(spec: str, **vals: int) -> int:
    s = parse(spec)
    word = s.fixed
    for name, shift, w in s.fields:
        v = vals[name]
        assert 0 <= v < 1 << w, (name, v)
        word |= v << shift
    return word


def words(spec: str, default: Callable[[str, int], st.SearchStrategy],
          check: Optional[Callable[[Dict[str, int]], object]] = None, **over: st.SearchStrategy) -> st.SearchStrategy:
    """Instruction words of one class: each field from ``over`` or ``default(name, width)``; ``check``
    rejects combinations the class must not produce (UNPREDICTABLE ones, mostly)."""
    strats = {name: over[name] if name in over else default(name, w) for name, _, w in parse(spec).fields}
    s = st.fixed_dictionaries(strats)
    if check is not None:
        s = s.filter(check)
    return s.map(lambda d: encode(spec, **d))
