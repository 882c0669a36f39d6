"""ELF loading: PT_LOAD segments at their physical addresses, the entry point, the symbol table."""
from __future__ import annotations

import bisect
from typing import List, NamedTuple, Optional, Tuple

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

EM_ARM = 40


class LoadError(Exception):
    """The file cannot be run: the message names the file and the reason."""


class Segment(NamedTuple):
    paddr: int
    data: bytes
    memsz: int


class Symbol(NamedTuple):
    addr: int
    size: int
    name: str
    kind: str


class Image:
    def __init__(self, path: str, entry: int, segments: List[Segment], symbols: List[Symbol]) -> None:
        self.path = path
        self.entry = entry
        self.segments = segments
        self.symbols = sorted(symbols)
        self._sized = [s for s in self.symbols if s.kind in ("FUNC", "OBJECT")]
        self._addrs = [s.addr for s in self._sized]

    @property
    def end(self) -> int:
        """First address after the highest loaded segment (memory size, .bss included)."""
        return max(s.paddr + s.memsz for s in self.segments)

    def symbol_at(self, addr: int) -> Optional[Tuple[str, int]]:
        """(name, offset) of the function or object containing ``addr``."""
        a = addr & ~1
        i = bisect.bisect_right(self._addrs, a) - 1
        if i >= 0:
            s = self._sized[i]
            if a < s.addr + s.size or s.size == 0:
                return s.name, a - s.addr
        return None

    def lookup(self, name: str) -> Optional[int]:
        for s in self.symbols:
            if s.name == name:
                return s.addr
        return None


def load_elf(path: str) -> Image:
    try:
        with open(path, "rb") as f:
            elf = ELFFile(f)
            if elf.elfclass != 32 or not elf.little_endian or elf["e_machine"] not in ("EM_ARM", EM_ARM):
                raise LoadError(f"{path}: not a 32-bit little-endian ARM ELF file")
            segments = []
            for seg in elf.iter_segments():
                if seg["p_type"] != "PT_LOAD" or seg["p_memsz"] == 0:
                    continue
                data = seg.data()
                if len(data) != seg["p_filesz"]:
                    raise LoadError(f"{path}: segment at {seg['p_paddr']:#x} is truncated")
                segments.append(Segment(seg["p_paddr"], data, seg["p_memsz"]))
            if not segments:
                raise LoadError(f"{path}: no loadable segments")
            symbols = []
            symtab = elf.get_section_by_name(".symtab")
            if symtab is not None:
                for sym in symtab.iter_symbols():
                    kind = sym["st_info"]["type"]
                    if sym.name and kind in ("STT_FUNC", "STT_OBJECT", "STT_NOTYPE") and sym["st_shndx"] != "SHN_UNDEF":
                        if sym.name.startswith("$"):  # mapping symbols $a/$t/$d
                            continue
                        symbols.append(Symbol(sym["st_value"] & ~1 if kind == "STT_FUNC" else sym["st_value"],
                                              sym["st_size"], sym.name, kind[4:]))
            return Image(path, elf["e_entry"], segments, symbols)
    except FileNotFoundError:
        raise LoadError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise LoadError(f"{path}: is a directory") from None
    except PermissionError:
        raise LoadError(f"{path}: permission denied") from None
    except (ELFError, ValueError, KeyError, IndexError, OSError) as e:
        raise LoadError(f"{path}: malformed ELF file ({e})") from None
