"""ELF loading: PT_LOAD segments at their physical addresses, the entry point, the symbol table."""
from __future__ import annotations

import bisect
import os
import stat
from typing import List, NamedTuple, Optional, Tuple

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

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
    def __init__(self, path: str, entry: int, segments: List[Segment], symbols: List[Symbol],
                 warnings: Optional[List[str]] = None) -> None:
        self.path = path
        self.warnings = warnings or []  # what was wrong but did not stop the load (symbols are optional)
        self.entry = entry
        self.segments = segments
        self.symbols = sorted(symbols)
        self._sized = [s for s in self.symbols if s.kind in ("FUNC", "OBJECT")]
        self._addrs = [s.addr for s in self._sized]
        self._labels = [s for s in self.symbols if s.kind == "NOTYPE"]  # assembly labels: no size
        self._label_addrs = [s.addr for s in self._labels]

    @property
    def end(self) -> int:
        """First address after the highest loaded segment (memory size, .bss included)."""
        return max(s.paddr + s.memsz for s in self.segments)

    def symbol_at(self, addr: int) -> Optional[Tuple[str, int]]:
        """(name, offset) of the function or object containing ``addr``, else of the nearest
        assembly label before it in the same 4 KiB (as gdb names code in hand-written startup)."""
        a = addr & ~1
        i = bisect.bisect_right(self._addrs, a) - 1
        if i >= 0:
            s = self._sized[i]
            if a < s.addr + s.size or s.size == 0:
                return s.name, a - s.addr
        j = bisect.bisect_right(self._label_addrs, a) - 1
        if j >= 0 and a - self._labels[j].addr < 0x1000 and (i < 0 or self._labels[j].addr >= self._sized[i].addr):
            return self._labels[j].name, a - self._labels[j].addr
        return None

    def lookup(self, name: str) -> Optional[int]:
        for s in self.symbols:
            if s.name == name:
                return s.addr
        return None


def load_elf(path: str) -> Image:
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise LoadError(f"{path}: is a directory")
        if not stat.S_ISREG(mode):  # a FIFO or a device would block or never end
            raise LoadError(f"{path}: not a regular file")
        with open(path, "rb") as f:
            elf = ELFFile(f)
            if elf.elfclass != 32 or not elf.little_endian or elf["e_machine"] not in ("EM_ARM", EM_ARM):
                raise LoadError(f"{path}: not a 32-bit little-endian ARM ELF file")
            segments = []
            for seg in elf.iter_segments():
                if seg["p_type"] != "PT_LOAD" or seg["p_memsz"] == 0:
                    continue
                if seg["p_filesz"] > seg["p_memsz"]:
                    raise LoadError(f"{path}: segment at {seg['p_paddr']:#x} has a file size larger than its "
                                    f"memory size")
                data = seg.data()
                if len(data) != seg["p_filesz"]:
                    raise LoadError(f"{path}: segment at {seg['p_paddr']:#x} is truncated")
                segments.append(Segment(seg["p_paddr"], data, seg["p_memsz"]))
            if not segments:
                raise LoadError(f"{path}: no loadable segments")
            symbols = []
            warnings = []
            symtab = elf.get_section_by_name(".symtab")
            if symtab is not None and not isinstance(symtab, SymbolTableSection):
                warnings.append(f"{path}: .symtab is not a symbol table; no symbols")
            elif symtab is not None:
                for sym in symtab.iter_symbols():
                    kind = sym["st_info"]["type"]
                    if sym.name and kind in ("STT_FUNC", "STT_OBJECT", "STT_NOTYPE") and sym["st_shndx"] != "SHN_UNDEF":
                        if sym.name.startswith("$"):  # mapping symbols $a/$t/$d
                            continue
                        symbols.append(Symbol(sym["st_value"] & ~1 if kind == "STT_FUNC" else sym["st_value"],
                                              sym["st_size"], sym.name, kind[4:]))
            return Image(path, elf["e_entry"], segments, symbols, warnings)
    except FileNotFoundError:
        raise LoadError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise LoadError(f"{path}: is a directory") from None
    except PermissionError:
        raise LoadError(f"{path}: permission denied") from None
    except (ELFError, ValueError, KeyError, IndexError, OSError) as e:
        raise LoadError(f"{path}: malformed ELF file ({e})") from None
