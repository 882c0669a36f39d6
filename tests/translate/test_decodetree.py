"""The decodetree pattern language: fields (plain, signed, scaled, excluded values), split fields,
shared definitions, formats, and the errors a malformed table is rejected with."""
from __future__ import annotations

from typing import Any, Dict, Optional, Sequence, Tuple

import pytest

from tuiemu.translate.decodetree import Decoder, Group, table


def decode(rows: Sequence[Tuple[Any, ...]], word: int, fields: Optional[Dict[str, str]] = None,
           formats: Optional[Dict[str, str]] = None) -> Tuple[str, Dict[str, Any]]:
    """(pattern name, arguments) of a 16-bit ``word`` under a table of ``rows``."""
    dec = Decoder(table(rows, width=16, fields=fields, formats=formats), key_bits=[(12, 4)])
    got = dec.decode(word)
    assert got is not None, f"{word:#06x} not decoded"
    return got[0].name, dict(got[1])


def test_plain_signed_and_constant_fields() -> None:
    rows = [("P", "1010 rd:4 imm:s8", "h", {"k": 7})]
    assert decode(rows, 0xA37F) == ("P", {"rd": 3, "imm": 0x7F, "k": 7})
    assert decode(rows, 0xA380)[1]["imm"] == -0x80


def test_scaled_fields() -> None:
    """``name#k:W``: the field shifted left by k, after sign extension."""
    rows = [("W", "0001 rt:4 imm#2:8", "h"), ("B", "0010 .... imm#1:s8", "h")]
    assert decode(rows, 0x1340)[1] == {"rt": 3, "imm": 0x100}
    assert decode(rows, 0x20FF)[1] == {"imm": -2}
    assert decode(rows, 0x207F)[1] == {"imm": 0xFE}


def test_split_fields() -> None:
    """``%def`` concatenates the definition's segments, most significant first."""
    rows = [("S", "1111 .... rd:4 .... %imm", "h")]
    assert decode(rows, 0xF5A3, fields={"imm": "8:4 0:4"})[1] == {"rd": 0xA, "imm": 0x53}
    # segments in any bit order, a signed leading segment, renamed and scaled
    rows = [("J", "11 .. .. ......... . off#1=%jump", "h")]
    fields = {"jump": "0:s1 12:2 1:9"}
    assert decode(rows, 0xC000, fields)[1] == {"off": 0}
    assert decode(rows, 0xC001, fields)[1] == {"off": -(1 << 12)}  # the sign bit alone
    assert decode(rows, 0xC000 | 2 << 12 | 0x1FF << 1, fields)[1] == {"off": (2 << 9 | 0x1FF) << 1}


def test_one_definition_under_several_names() -> None:
    """``rd=%rdn rn=%rdn``: one register field that is both a source and the destination."""
    got = decode([("ADD", "0100 .... rm:4 . ... rd=%dn rn=%dn", "h")], 0x40AD, {"dn": "3:1 0:3"})
    assert got[1] == {"rm": 0xA, "rd": 0xD, "rn": 0xD}


FORMATS = {"rri": "0... rd:4 rn:4 imm#1:4", "dual": "1... .... rt:4 .... off=%off"}
FIELDS = {"off": "8:4 0:4"}
ROWS = [
    ("ADD", "-000 ---- ---- ---- @rri", "h", {"op": "add"}),
    ("SUB", "-001 ---- ---- ---- @rri", "h", {"op": "sub"}),
    ("LDD", "-111 ---- ---- ---- @dual", "h"),
    ("STD", "1110 ---- ---- ---- @dual", "h"),  # a format's fixed bit may also be written out
]


def test_formats_share_a_field_layout() -> None:
    assert decode(ROWS, 0x0123, FIELDS, FORMATS) == ("ADD", {"op": "add", "rd": 1, "rn": 2, "imm": 6})
    assert decode(ROWS, 0x1FED, FIELDS, FORMATS) == ("SUB", {"op": "sub", "rd": 0xF, "rn": 0xE, "imm": 0x1A})
    assert decode(ROWS, 0xF5A3, FIELDS, FORMATS) == ("LDD", {"rt": 0xA, "off": 0x53})
    assert decode(ROWS, 0xE5A3, FIELDS, FORMATS) == ("STD", {"rt": 0xA, "off": 0x53})


def test_order_and_excluded_values() -> None:
    """The first matching pattern wins; ``!V`` steps over one value of a field."""
    rows = [("SPECIAL", "0000 1111 imm:8", "h"), ("COND", "0000 c:4!1110 imm:8", "h"),
            ("ANY", "0000 ........ ....", "h")]
    assert decode(rows, 0x0F12)[0] == "SPECIAL"
    assert decode(rows, 0x0312) == ("COND", {"c": 3, "imm": 0x12})
    assert decode(rows, 0x0E12)[0] == "ANY"
    dec = Decoder(table(rows, width=16), key_bits=[(12, 4)])
    assert dec.decode(0x1000) is None


@pytest.mark.parametrize("rows,fields,formats,error", [
    ([("P", "1010 rd:4 imm:4", "h")], {}, {}, "12 bits given, 16 expected"),
    ([("P", "1010 rd:4 ---- ....", "h")], {}, {}, "'-' without a format"),
    ([("P", "1010 rd:4 imm:8 %nope", "h")], {}, {}, "no field definition %nope"),
    ([("P", "1010 rd:4 imm:8 @nope", "h")], {}, {}, "no format @nope"),
    ([("P", "1010 rd:4 imm:7 x", "h")], {}, {}, "bad token 'x'"),
    ([("P", "1010 rd:4 .... .... imm=%i", "h")], {"i": "12:4"}, {}, "a field reads fixed bits"),
    ([("P", "1010 rd:4 imm:8", "h", {"rd": 1})], {}, {}, r"\['rd'\] given twice"),
    ([("P", "1010 rd:4 .... .... rd=%i", "h")], {"i": "0:4"}, {}, r"\['rd'\] given twice"),
    ([("P", "---- ---- ---- ---. @f", "h")], {}, {"f": "1010 rd:4 imm:8"}, "does not write '-'"),
    ([("P", "---- ---- ---- ---- - @f", "h")], {}, {"f": "1010 rd:4 imm:8"}, "more than 16 bits"),
    ([("P", "1010 rd:4 imm:9", "h")], {}, {}, "more than 16 bits"),
    ([("P", "---- ---- ---- ---- @f", "h")], {}, {"f": "1010 rd:4 imm:4 ...."}, "defines nothing"),
    ([("P", "--0- ---- ---- ---- @f", "h")], {}, {"f": "1010 rd:4 imm:8"}, "disagree"),
    ([("P", ".--- ---- ---- ---- @f", "h")], {}, {"f": "1010 rd:4 imm:8"}, "disagree"),
    ([("P", "---- ---- ---- ---- x=%i @f", "h")], {"i": "0:4"}, {"f": "1010 rd:4 imm:8"}, "overlaps format"),
    ([("P", "1010 rd:4 imm:8", "h")], {"i": "0:4 2:4"}, {}, "overlapping"),
    ([("P", "1010 rd:4 imm:8", "h")], {"i": "0:4 4:s4"}, {}, "bad segment"),
    ([("P", "1010 rd:4 imm:8", "h")], {}, {"f": "1010 ---- imm:8"}, "formats do not nest"),
])
def test_malformed_tables_are_rejected(rows: list, fields: dict, formats: dict, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        table(rows, width=16, fields=fields, formats=formats)


def test_pattern_names_are_unique() -> None:
    rows = [("P", "1010 rd:4 imm:8", "h"), ("P", "1011 rd:4 imm:8", "h")]
    with pytest.raises(ValueError, match="duplicate pattern names"):
        Decoder(table(rows, width=16), key_bits=[(12, 4)])


def test_groups_are_built_when_a_word_they_guard_is_decoded() -> None:
    """A group stays unbuilt until a word with its guard bits is decoded; then its patterns take
    their place in table order, ahead of the general row after them."""
    built = []

    def group(name: str, spec: str) -> Group:
        def build() -> list:
            built.append(name)
            return table([(name, spec, "h")], width=16)
        return Group(0xF000, int(spec[:4], 2) << 12, build)

    general = table([("ANY", "1... ............", "h")], width=16)
    dec = Decoder([group("A", "1010 ........ imm:4"), group("B", "1011 ............"), *general],
                  key_bits=[(12, 4)])
    got = dec.decode(0x8000)
    assert got is not None and got[0].name == "ANY" and built == []
    got = dec.decode(0xA123)
    assert got is not None and (got[0].name, got[1]["imm"]) == ("A", 3) and built == ["A"]
    got = dec.decode(0xB000)
    assert got is not None and got[0].name == "B" and built == ["A", "B"]
    assert [p.name for p in dec.patterns] == ["A", "B", "ANY"]


def test_a_group_pattern_outside_its_guard_is_rejected() -> None:
    dec = Decoder([Group(0xF000, 0xA000, lambda: table([("P", "1011 ............", "h")], width=16))],
                  key_bits=[(12, 4)])
    with pytest.raises(ValueError, match="do not fix the bits their group's guard tests"):
        dec.decode(0xA000)
