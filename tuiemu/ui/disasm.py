"""Guest code as text: capstone for instructions (A32 or T32), DWARF line tables for source.

Both are built lazily and cached; the line table is read once per ELF (in a
worker thread by the code pane, since a large ELF takes a moment).
"""
from __future__ import annotations

import bisect
import os
from typing import Dict, List, NamedTuple, Optional, Tuple

import capstone


class Insn(NamedTuple):
    addr: int
    size: int
    text: str    # "mnemonic operands"
    raw: bytes


_CS: Dict[bool, capstone.Cs] = {}


def _cs(thumb: bool) -> capstone.Cs:
    cs = _CS.get(thumb)
    if cs is None:
        cs = _CS[thumb] = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB if thumb else capstone.CS_MODE_ARM)
    return cs


def disassemble(code: bytes, addr: int, thumb: bool) -> List[Insn]:
    """Every instruction of ``code``; bytes capstone cannot decode show as ``.word``/``.short``."""
    out: List[Insn] = []
    step = 2 if thumb else 4
    pos = 0
    while pos < len(code):
        got = False
        for i in _cs(thumb).disasm(code[pos:], addr + pos):
            out.append(Insn(i.address, i.size, f"{i.mnemonic:<7} {i.op_str}".rstrip(), bytes(i.bytes)))
            pos += i.size
            got = True
        if pos < len(code) and (not got or pos % step == 0):
            raw = code[pos:pos + step]
            directive = ".short" if step == 2 else ".word"
            out.append(Insn(addr + pos, len(raw), f"{directive} 0x{raw[::-1].hex()}", raw))
            pos += len(raw)
    return out


class LineTable:
    """Address -> (source file, line) from an ELF's DWARF .debug_line."""

    def __init__(self, entries: List[Tuple[int, str, int]]) -> None:
        self.entries = sorted(entries)
        self._addrs = [e[0] for e in self.entries]

    @classmethod
    def from_elf(cls, path: str) -> Optional[LineTable]:
        from elftools.common.exceptions import ELFError
        from elftools.elf.elffile import ELFFile
        try:
            with open(path, "rb") as f:
                elf = ELFFile(f)
                if not elf.has_dwarf_info():
                    return None
                return cls(list(_line_rows(elf.get_dwarf_info(), os.path.dirname(os.path.abspath(path)))))
        except (OSError, ELFError, ValueError, KeyError, IndexError, AttributeError):
            return None

    def lookup(self, addr: int) -> Optional[Tuple[str, int]]:
        i = bisect.bisect_right(self._addrs, addr) - 1
        if i < 0:
            return None
        a, path, line = self.entries[i]
        if addr - a > 0x1000:  # far past the last row: not code this table describes
            return None
        return path, line


def _line_rows(dwarf: object, elf_dir: str) -> List[Tuple[int, str, int]]:
    rows: List[Tuple[int, str, int]] = []
    for cu in dwarf.iter_CUs():  # type: ignore[attr-defined]
        lp = dwarf.line_program_for_CU(cu)  # type: ignore[attr-defined]
        if lp is None:
            continue
        top = cu.get_top_DIE()
        comp_dir = _text(top.attributes.get("DW_AT_comp_dir"))
        files = lp["file_entry"]
        dirs = lp["include_directory"]
        version = lp["version"]
        for entry in lp.get_entries():
            st = entry.state
            if st is None or st.end_sequence:
                continue
            index = st.file if version >= 5 else st.file - 1
            if not 0 <= index < len(files):
                continue
            fe = files[index]
            name = _text(fe.name)
            d = fe.dir_index if version >= 5 else fe.dir_index - 1
            directory = _text(dirs[d]) if 0 <= d < len(dirs) else ""
            rows.append((st.address, _resolve(name, directory, comp_dir, elf_dir), st.line))
    return rows


def _text(v: object) -> str:
    value = getattr(v, "value", v)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value) if value is not None else ""


def _resolve(name: str, directory: str, comp_dir: str, elf_dir: str) -> str:
    """The first existing candidate: as recorded, under the compilation directory, beside the ELF
    (builds with -ffile-prefix-map record paths relative to the build directory)."""
    candidates = [os.path.join(directory, name)]
    if comp_dir:
        candidates.append(os.path.join(comp_dir, directory, name))
    candidates += [os.path.join(elf_dir, directory, name), os.path.join(elf_dir, name),
                   os.path.join(elf_dir, "..", directory, name)]
    for c in candidates:
        if os.path.isfile(c):
            return os.path.normpath(c)
    return os.path.normpath(candidates[0])


_SOURCES: Dict[str, Optional[List[str]]] = {}


def source_lines(path: str) -> Optional[List[str]]:
    if path not in _SOURCES:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                _SOURCES[path] = f.read().splitlines()
        except OSError:
            _SOURCES[path] = None
    return _SOURCES[path]
