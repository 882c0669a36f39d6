"""Instruction encodings as data, in the spirit of QEMU's decodetree.

A pattern is written most-significant bit first as space-separated tokens:

* ``0``/``1``/``.`` runs: fixed bits and don't-care bits;
* ``name:W``: a W-bit field handed to the handler (``name:W:s`` sign-extends it);
* ``name:W!V``: a field that must *not* equal the binary value V (e.g. ``cond:4!1111``).

Patterns are tried in table order, so a more specific encoding is listed before
the general one it overlaps. A handler name and constant arguments come with
each pattern; several encodings may share one handler.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple


class Field(NamedTuple):
    name: str
    shift: int
    width: int
    signed: bool


class Pattern(NamedTuple):
    name: str
    handler: str
    mask: int
    value: int
    fields: Tuple[Field, ...]
    excludes: Tuple[Tuple[int, int], ...]  # (mask, value) pairs the instruction must not match
    consts: Dict[str, Any]


class Args(dict):
    """Decoded fields; attribute access for readability in semantic handlers."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def parse_pattern(name: str, spec: str, handler: str, consts: Optional[Dict[str, Any]] = None,
                  width: int = 32) -> Pattern:
    mask = value = 0
    fields: List[Field] = []
    excludes: List[Tuple[int, int]] = []
    pos = width
    for tok in spec.split():
        if ":" in tok:
            fname, rest = tok.split(":", 1)
            not_value = None
            if "!" in rest:
                rest, not_value = rest.split("!", 1)
            signed = rest.endswith(":s")
            w = int(rest[:-2] if signed else rest)
            pos -= w
            fields.append(Field(fname, pos, w, signed))
            if not_value is not None:
                excludes.append((((1 << w) - 1) << pos, int(not_value, 2) << pos))
        else:
            for ch in tok:
                pos -= 1
                if ch in "01":
                    mask |= 1 << pos
                    value |= int(ch) << pos
                elif ch not in ".-":
                    raise ValueError(f"pattern {name}: bad character {ch!r}")
    if pos != 0:
        raise ValueError(f"pattern {name}: {width - pos} bits given, {width} expected")
    return Pattern(name, handler, mask, value, tuple(fields), tuple(excludes), dict(consts or {}))


class Decoder:
    """Matches an instruction word against an ordered pattern table.

    Candidates are pre-sorted into buckets keyed by a few bits (``key_bits``,
    as (shift, width) pairs) so a decode tries only patterns that can match.
    """

    def __init__(self, patterns: Sequence[Pattern], key_bits: Sequence[Tuple[int, int]]) -> None:
        self.patterns = list(patterns)
        self.key_bits = tuple(key_bits)
        nkeys = 1 << sum(w for _, w in key_bits)
        self.buckets: List[List[Pattern]] = [[] for _ in range(nkeys)]
        for p in self.patterns:
            for key in range(nkeys):
                word = self._word_of_key(key)
                kmask = self._key_mask()
                if (word ^ p.value) & p.mask & kmask == 0:
                    self.buckets[key].append(p)

    def _key_mask(self) -> int:
        m = 0
        for shift, w in self.key_bits:
            m |= ((1 << w) - 1) << shift
        return m

    def _word_of_key(self, key: int) -> int:
        word = 0
        for shift, w in reversed(self.key_bits):
            word |= (key & ((1 << w) - 1)) << shift
            key >>= w
        return word

    def key(self, insn: int) -> int:
        k = 0
        for shift, w in self.key_bits:
            k = (k << w) | ((insn >> shift) & ((1 << w) - 1))
        return k

    def decode(self, insn: int) -> Optional[Tuple[Pattern, Args]]:
        for p in self.buckets[self.key(insn)]:
            if insn & p.mask != p.value:
                continue
            if any(insn & m == v for m, v in p.excludes):
                continue
            args = Args(p.consts)
            for f in p.fields:
                v = (insn >> f.shift) & ((1 << f.width) - 1)
                if f.signed and v >> (f.width - 1):
                    v -= 1 << f.width
                args[f.name] = v
            return p, args
        return None


def table(rows: Iterable[Tuple[Any, ...]], width: int = 32) -> List[Pattern]:
    """Build patterns from rows of (name, spec, handler[, consts])."""
    out = []
    for row in rows:
        name, spec, handler = row[:3]
        consts = row[3] if len(row) > 3 else None
        out.append(parse_pattern(name, spec, handler, consts, width))
    return out
