"""Instruction encodings as data, in the spirit of QEMU's decodetree.

A table is a list of rows ``(name, spec, handler[, constant args])``. A spec is one encoding,
written most-significant bit first as space-separated tokens:

* ``0``, ``1``, ``.`` (in runs such as ``0110..01``): fixed bits and don't-care bits;
* ``-``: a bit the row's format defines (see ``@fmt``);
* ``name:W``: a W-bit field handed to the handler. ``name:sW`` sign-extends it, ``name#k:W``
  scales it (the value shifted left by k bits: a Thumb word offset is ``imm#2:8``), and
  ``name:W!V`` excludes the instructions whose field holds the binary value V (``cond:4!1111``);
* ``%def``, ``name=%def``, ``name#k=%def``: a split field, the value of field definition ``def``
  (below) handed over as ``name`` (default: ``def``), scaled by k. Several names may share a
  definition (``rd=%rdn rn=%rdn``: one register field that is both operands). The bits it reads
  are written ``.`` (or ``-``);
* ``@fmt``: the named format ``fmt`` supplies the bits the row writes ``-``. Its fixed bits and
  fields join the row's. Every ``-`` must be a bit the format defines, and every bit the format
  defines must be ``-`` in the row (a fixed bit may also be repeated), so that a misaligned row
  is caught when the table is built. Names of fields and constant args must not repeat.

Field definitions (decodetree's ``%name``) map a name to bit segments ``pos:len``, most
significant first, concatenated: ``{"imm12": "26:1 12:3 0:8"}`` is the T32 ``i:imm3:imm8``.
``pos:slen`` on the first segment sign-extends the assembled value.

Formats (decodetree's ``@name``) map a name to a full-width spec of the field layout shared by a
group of rows, with ``.`` where the rows put their own bits:
``{"xreg": "cond:4!1111 000 p:1 u:1 0 w:1 . rn:4 rt:4 0000 1..1 rm:4"}``, then a row
``("STRH_reg", "---- --- - - - - 0 ---- ---- ---- -01- ---- @xreg", "ldst_extra")``.

Patterns are tried in table order, so a more specific encoding is listed before the general one
it overlaps. Several encodings may share one handler; constant args tell them apart.
"""
from __future__ import annotations

import importlib
import re
import threading
from collections import Counter
from typing import Any, Callable, Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union


class Field(NamedTuple):
    """A contiguous field: ``((insn >> shift & mask) ^ sign) - sign << scale``."""
    name: str
    shift: int
    mask: int
    sign: int  # 1 << (width - 1) if sign-extended, else 0
    scale: int


class SplitField(NamedTuple):
    """A field assembled from ``(shift, width, mask)`` segments, most significant first."""
    name: str
    segments: Tuple[Tuple[int, int, int], ...]
    sign: int
    scale: int


class Pattern(NamedTuple):
    name: str
    handler: str
    mask: int
    value: int
    fields: Tuple[Field, ...]
    splits: Tuple[SplitField, ...]
    excludes: Tuple[Tuple[int, int], ...]  # (mask, value) pairs the instruction must not match
    consts: Dict[str, Any]


class Args(dict):
    """Decoded fields; attribute access for readability in semantic handlers."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class FieldDef(NamedTuple):
    segments: Tuple[Tuple[int, int, int], ...]
    sign: int
    bits: int  # the instruction bits it reads


_FIELD = re.compile(r"(\w+)(?:#(\d+))?:(s?)(\d+)(?:!([01]+))?$")
_SPLIT = re.compile(r"(?:(\w+)(?:#(\d+))?=)?%(\w+)$")
_SEGMENT = re.compile(r"(\d+):(s?)(\d+)$")
_BITS = frozenset("01.-")
_MASK, _VALUE, _DASHES = (str.maketrans(dict(zip("01.-", bits))) for bits in ("1100", "0100", "0001"))


def parse_field_def(name: str, text: str, width: int) -> FieldDef:
    segments = []
    sign = bits = total = 0
    for i, tok in enumerate(text.split()):
        m = _SEGMENT.match(tok)
        if m is None or (m.group(2) and i):
            raise ValueError(f"field %{name}: bad segment {tok!r}")
        pos, w = int(m.group(1)), int(m.group(3))
        seg_bits = ((1 << w) - 1) << pos
        if w == 0 or pos + w > width or seg_bits & bits:
            raise ValueError(f"field %{name}: segment {tok!r} outside the word or overlapping")
        segments.append((pos, w, (1 << w) - 1))
        bits |= seg_bits
        total += w
        if m.group(2):
            sign = 1
    if not segments:
        raise ValueError(f"field %{name}: no segments")
    return FieldDef(tuple(segments), sign << (total - 1) if sign else 0, bits)


class _Spec(NamedTuple):
    """A parsed spec before its format (if any) is merged in."""
    mask: int
    value: int
    fields: Tuple[Field, ...]
    splits: Tuple[SplitField, ...]
    excludes: Tuple[Tuple[int, int], ...]
    dashes: int  # bits written '-'
    field_bits: int  # bits read by fields and split fields
    fmt: Optional[str]


def _parse_spec(where: str, spec: str, width: int, defs: Mapping[str, FieldDef]) -> _Spec:
    mask = value = dashes = field_bits = 0
    fields: List[Field] = []
    splits: List[SplitField] = []
    excludes: List[Tuple[int, int]] = []
    fmt = None
    pos = width
    for tok in spec.split():
        if tok[0] == "@":
            if fmt is not None:
                raise ValueError(f"{where}: more than one format")
            fmt = tok[1:]
            continue
        if _BITS.issuperset(tok):  # the common token, whole: fixed, don't-care and format bits
            pos -= len(tok)
            if pos < 0:
                raise ValueError(f"{where}: more than {width} bits")
            mask |= int(tok.translate(_MASK), 2) << pos
            value |= int(tok.translate(_VALUE), 2) << pos
            dashes |= int(tok.translate(_DASHES), 2) << pos
            continue
        m = _SPLIT.match(tok)
        if m is not None:
            name, scale, def_name = m.groups()
            d = defs.get(def_name)
            if d is None:
                raise ValueError(f"{where}: no field definition %{def_name}")
            splits.append(SplitField(name or def_name, d.segments, d.sign, int(scale or 0)))
            field_bits |= d.bits
            continue
        m = _FIELD.match(tok)
        if m is not None:
            name, scale, signed, w_text, not_value = m.groups()
            w = int(w_text)
            pos -= w
            if pos < 0 or w == 0:
                raise ValueError(f"{where}: more than {width} bits, or an empty field")
            fields.append(Field(name, pos, (1 << w) - 1, 1 << (w - 1) if signed else 0, int(scale or 0)))
            field_bits |= ((1 << w) - 1) << pos
            if not_value is not None:
                excludes.append((((1 << w) - 1) << pos, int(not_value, 2) << pos))
            continue
        raise ValueError(f"{where}: bad token {tok!r}")
    if pos:
        raise ValueError(f"{where}: {width - pos} bits given, {width} expected")
    if field_bits & mask:
        raise ValueError(f"{where}: a field reads fixed bits")
    return _Spec(mask, value, tuple(fields), tuple(splits), tuple(excludes), dashes, field_bits, fmt)


def _merge(where: str, row: _Spec, fmt: _Spec) -> _Spec:
    """The row with its format's fixed bits and fields; checks that the row's '-' bits line up."""
    defined = fmt.mask | fmt.field_bits
    if row.dashes & ~defined:
        raise ValueError(f"{where}: '-' where format @{row.fmt} defines nothing")
    if fmt.field_bits & ~row.dashes:
        raise ValueError(f"{where}: format @{row.fmt} has a field where the row does not write '-'")
    if fmt.mask & ~(row.dashes | row.mask) or (row.value ^ fmt.value) & row.mask & fmt.mask:
        raise ValueError(f"{where}: fixed bits disagree with format @{row.fmt}")
    if row.field_bits & defined:
        raise ValueError(f"{where}: a field overlaps format @{row.fmt}")
    return _Spec(row.mask | fmt.mask, row.value | fmt.value, fmt.fields + row.fields, fmt.splits + row.splits,
                 fmt.excludes + row.excludes, 0, row.field_bits | fmt.field_bits, None)


def table(rows: Iterable[Tuple[Any, ...]], width: int = 32, fields: Optional[Mapping[str, str]] = None,
          formats: Optional[Mapping[str, str]] = None) -> List[Pattern]:
    """Build patterns from rows of (name, spec, handler[, consts]), with the field definitions
    and formats the specs refer to."""
    defs = {name: parse_field_def(name, text, width) for name, text in (fields or {}).items()}
    fmts = {}
    for name, spec in (formats or {}).items():
        f = _parse_spec(f"format @{name}", spec, width, defs)
        if f.fmt is not None or f.dashes:
            raise ValueError(f"format @{name}: formats do not nest")
        fmts[name] = f
    out = []
    for row in rows:
        name, spec, handler = row[:3]
        consts = dict(row[3]) if len(row) > 3 else {}
        where = f"pattern {name}"
        s = _parse_spec(where, spec, width, defs)
        if s.fmt is not None:
            if s.fmt not in fmts:
                raise ValueError(f"{where}: no format @{s.fmt}")
            s = _merge(where, s, fmts[s.fmt])
        elif s.dashes:
            raise ValueError(f"{where}: '-' without a format")
        names = [f.name for f in s.fields] + [f.name for f in s.splits]
        clash = {n for n in names if names.count(n) > 1} | (set(names) & set(consts))
        if clash:
            raise ValueError(f"{where}: {sorted(clash)} given twice")
        out.append(Pattern(name, handler, s.mask, s.value, s.fields, s.splits, s.excludes, consts))
    return out


class Group(NamedTuple):
    """Rows whose patterns are built on first need: every one fixes the bits ``mask`` to
    ``value``, so until a word with those bits is decoded the group cannot change any result.
    ``needs`` names the modules whose import registers the handlers its rows name: the VFP and
    Advanced SIMD groups keep their tables and their semantic modules out of start-up."""
    mask: int
    value: int
    build: Callable[[], Sequence[Pattern]]
    needs: Tuple[str, ...] = ()


class _State(NamedTuple):
    """What a decode reads, replaced whole when a group is built (one read is consistent)."""
    pending: Tuple[Group, ...]
    patterns: List[Pattern]
    buckets: List[Optional[List[Pattern]]]


class Decoder:
    """Matches an instruction word against an ordered pattern table.

    Candidates are sorted into buckets keyed by a few bits (``key_bits``, as (shift, width) pairs)
    so a decode tries only patterns that can match. A bucket is filled the first time a word with
    its key is decoded: a program meets a small share of the keys, and filling them all up front
    cost most of start-up once the FP tables arrived. Two threads filling one bucket at once
    compute the same list, so the race is harmless. The table may hold groups (``Group``), built
    in place the first time a word their guard selects is decoded.
    """

    def __init__(self, parts: Sequence[Union[Pattern, Group]], key_bits: Sequence[Tuple[int, int]]) -> None:
        self.key_bits = tuple(key_bits)
        self.groups = tuple(p for p in parts if isinstance(p, Group))
        self._parts: List[Union[Pattern, Group]] = list(parts)
        self._kmask = self._key_mask()
        self._nkeys = 1 << sum(w for _, w in key_bits)
        self._lock = threading.Lock()
        self._state = self._new_state()

    @property
    def patterns(self) -> List[Pattern]:
        """The whole table, every group built."""
        if self._state.pending:
            self._build(lambda g: True)
        return self._state.patterns

    def _new_state(self) -> _State:
        patterns = [p for p in self._parts if not isinstance(p, Group)]
        dup = {name for name, n in Counter(p.name for p in patterns).items() if n > 1}
        if dup:
            raise ValueError(f"duplicate pattern names: {sorted(dup)}")
        return _State(tuple(p for p in self._parts if isinstance(p, Group)), patterns, [None] * self._nkeys)

    def _build(self, wanted: Callable[[Group], bool]) -> None:
        with self._lock:
            if not any(isinstance(part, Group) and wanted(part) for part in self._parts):
                return  # another thread built it first
            parts: List[Union[Pattern, Group]] = []
            for part in self._parts:
                if isinstance(part, Group) and wanted(part):
                    for module in part.needs:
                        importlib.import_module(module)
                    built = list(part.build())
                    stray = [p.name for p in built if p.mask & part.mask != part.mask
                             or p.value & part.mask != part.value]
                    if stray:
                        raise ValueError(f"patterns {stray} do not fix the bits their group's guard tests")
                    parts += built
                else:
                    parts.append(part)
            self._parts = parts
            self._state = self._new_state()

    def _fill(self, state: _State, key: int) -> List[Pattern]:
        """The patterns that can match a word with this key, in table order."""
        word, kmask = self._word_of_key(key), self._kmask
        found = state.buckets[key] = [p for p in state.patterns if (word ^ p.value) & p.mask & kmask == 0]
        return found

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
        state = self._state
        if state.pending:
            if any(insn & g.mask == g.value for g in state.pending):
                self._build(lambda group: insn & group.mask == group.value)
                state = self._state
        key = self.key(insn)
        candidates = state.buckets[key]
        for p in self._fill(state, key) if candidates is None else candidates:
            if insn & p.mask != p.value:
                continue
            if p.excludes and any(insn & m == v for m, v in p.excludes):
                continue
            args = Args(p.consts)
            for name, shift, mask, sign, scale in p.fields:
                args[name] = ((insn >> shift & mask) ^ sign) - sign << scale
            for name, segments, sign, scale in p.splits:
                v = 0
                for shift, width, mask in segments:
                    v = v << width | insn >> shift & mask
                args[name] = (v ^ sign) - sign << scale
            return p, args
        return None
