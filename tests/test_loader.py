"""The ELF loader reads what pyelftools reads (segments, entry, symbols) from every committed guest,
decodes the symbols only when asked, and refuses a damaged symbol table at load."""
from __future__ import annotations

import struct
from pathlib import Path
from typing import List

import pytest
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from tuiemu import elf32, loader
from tuiemu.loader import LoadError, Symbol, load_elf

from .conftest import REPO, guest

ELFS = sorted(p for folder in ("tests", "examples", "bench") for p in (REPO / folder).rglob("*.elf"))


def pyelftools_symbols(path: Path) -> List[Symbol]:
    """The loader's rules, applied to what pyelftools reads."""
    out = []
    with open(path, "rb") as f:
        symtab = ELFFile(f).get_section_by_name(".symtab")
        assert isinstance(symtab, SymbolTableSection)
        for sym in symtab.iter_symbols():
            kind = sym["st_info"]["type"][4:]
            if sym.name and kind in ("FUNC", "OBJECT", "NOTYPE") and sym["st_shndx"] != "SHN_UNDEF" \
                    and not sym.name.startswith("$"):
                out.append(Symbol(sym["st_value"] & ~1 if kind == "FUNC" else sym["st_value"], sym["st_size"],
                                  sym.name, kind))
    return sorted(out)


@pytest.mark.parametrize("path", ELFS, ids=[str(p.relative_to(REPO)) for p in ELFS])
def test_reads_what_pyelftools_reads(path: Path) -> None:
    image = load_elf(str(path))
    with open(path, "rb") as f:
        elf = ELFFile(f)
        assert image.entry == elf["e_entry"]
        assert [(s.paddr, s.data, s.memsz) for s in image.segments] == [
            (seg["p_paddr"], seg.data(), seg["p_memsz"]) for seg in elf.iter_segments()
            if seg["p_type"] == "PT_LOAD" and seg["p_memsz"]]
    assert image.symbols == pyelftools_symbols(path)
    assert not image.warnings


def test_symbols_are_decoded_when_first_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    decode = elf32.symbols
    monkeypatch.setattr(elf32, "symbols", lambda table: calls.append(1) or decode(table))
    image = load_elf(str(guest("hello")))
    assert calls == []
    main = image.lookup("main")
    assert main is not None and image.symbol_at(main + 4) == ("main", 4)
    assert calls == [1]


def symtab_header_offset(blob: bytes) -> int:
    shoff, = struct.unpack_from("<I", blob, 32)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", blob, 46)
    names, = struct.unpack_from("<I", blob, shoff + shstrndx * shentsize + 16)
    for i in range(shnum):
        base = shoff + i * shentsize
        if blob[names + struct.unpack_from("<I", blob, base)[0]:].startswith(b".symtab\0"):
            return base
    raise AssertionError("no .symtab")


@pytest.mark.parametrize("field, value, error", [
    (36, 7, "entries of 7"),  # sh_entsize
    (20, 17, "symbol table of 17 bytes"),  # sh_size, not a whole number of entries
    (24, 1, "of type 1, for its strings"),  # sh_link: a PROGBITS section
    (16, 0x7FFFFF00, "runs past the end of the file"),  # sh_offset
])
def test_a_damaged_symbol_table_fails_the_load(tmp_path: Path, field: int, value: int, error: str) -> None:
    blob = bytearray(guest("hello").read_bytes())
    struct.pack_into("<I", blob, symtab_header_offset(blob) + field, value)
    f = tmp_path / "bad.elf"
    f.write_bytes(bytes(blob))
    with pytest.raises(LoadError, match=f"{f}: malformed ELF file .*{error}"):
        load_elf(str(f))


def test_the_list_form_of_symbols_is_kept_sorted() -> None:
    image = loader.Image("x", 0, [], [Symbol(8, 4, "b", "FUNC"), Symbol(0, 4, "a", "FUNC")])
    assert [s.name for s in image.symbols] == ["a", "b"] and image.symbol_at(10) == ("b", 2)
