"""ELF loading: PT_LOAD segments at their physical addresses, the entry point, the symbol table."""
from __future__ import annotations

import bisect
import os
import stat
from functools import cached_property
from typing import Callable, List, NamedTuple, Optional, Tuple, Union

from . import elf32

STT_KINDS = {0: "NOTYPE", 1: "OBJECT", 2: "FUNC"}


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


class _SymbolIndex(NamedTuple):
    sized: List[Symbol]  # functions and objects
    addrs: List[int]
    labels: List[Symbol]  # assembly labels: no size
    label_addrs: List[int]


class Image:
    """A loaded program. ``symbols`` may be a function that reads them: it is called the first
    time something asks (the dashboard, gdb's monitor), so a plain run never decodes them."""

    def __init__(self, path: str, entry: int, segments: List[Segment],
                 symbols: Union[List[Symbol], Callable[[], List[Symbol]]],
                 warnings: Optional[List[str]] = None) -> None:
        self.path = path
        self.warnings = warnings or []  # what was wrong but did not stop the load (symbols are optional)
        self.entry = entry
        self.segments = segments
        self._read_symbols = symbols if callable(symbols) else lambda: symbols

    @cached_property
    def symbols(self) -> List[Symbol]:
        """Sorted by address."""
        return sorted(self._read_symbols())

    @cached_property
    def _index(self) -> _SymbolIndex:
        sized = [s for s in self.symbols if s.kind in ("FUNC", "OBJECT")]
        labels = [s for s in self.symbols if s.kind == "NOTYPE"]
        return _SymbolIndex(sized, [s.addr for s in sized], labels, [s.addr for s in labels])

    @property
    def end(self) -> int:
        """First address after the highest loaded segment (memory size, .bss included)."""
        return max(s.paddr + s.memsz for s in self.segments)

    def symbol_at(self, addr: int) -> Optional[Tuple[str, int]]:
        """(name, offset) of the function or object containing ``addr``, else of the nearest
        assembly label before it in the same 4 KiB (as gdb names code in hand-written startup)."""
        a = addr & ~1
        ix = self._index
        i = bisect.bisect_right(ix.addrs, a) - 1
        if i >= 0:
            s = ix.sized[i]
            if a < s.addr + s.size or s.size == 0:
                return s.name, a - s.addr
        j = bisect.bisect_right(ix.label_addrs, a) - 1
        if j >= 0 and a - ix.labels[j].addr < 0x1000 and (i < 0 or ix.labels[j].addr >= ix.sized[i].addr):
            return ix.labels[j].name, a - ix.labels[j].addr
        return None

    def lookup(self, name: str) -> Optional[int]:
        for s in self.symbols:
            if s.name == name:
                return s.addr
        return None


def _symbols(table: elf32.SymbolBytes) -> List[Symbol]:
    """The named, defined functions, objects and labels, less the mapping symbols ($a/$t/$d); a
    function's address without its Thumb bit."""
    out = []
    for sym in elf32.symbols(table):
        kind = STT_KINDS.get(sym.type)
        if kind is not None and sym.name and sym.shndx != 0 and not sym.name.startswith("$"):
            out.append(Symbol(sym.value & ~1 if kind == "FUNC" else sym.value, sym.size, sym.name, kind))
    return out


def load_elf(path: str) -> Image:
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise LoadError(f"{path}: is a directory")
        if not stat.S_ISREG(mode):  # a FIFO or a device would block or never end
            raise LoadError(f"{path}: not a regular file")
        with open(path, "rb") as f:
            h = elf32.header(f)
            if not h.arm32_le:
                raise LoadError(f"{path}: not a 32-bit little-endian ARM ELF file")
            segments = []
            for ph in elf32.program_headers(f, h):
                if ph.type != elf32.PT_LOAD or ph.memsz == 0:
                    continue
                if ph.filesz > ph.memsz:
                    raise LoadError(f"{path}: segment at {ph.paddr:#x} has a file size larger than its "
                                    f"memory size")
                f.seek(ph.offset)
                data = f.read(ph.filesz)
                if len(data) != ph.filesz:
                    raise LoadError(f"{path}: segment at {ph.paddr:#x} is truncated")
                segments.append(Segment(ph.paddr, data, ph.memsz))
            if not segments:
                raise LoadError(f"{path}: no loadable segments")
            warnings = []
            table = elf32.SymbolBytes(b"", elf32.SYM.size, b"")
            symtab = elf32.find_section(f, h, b".symtab")
            if symtab is not None and not elf32.is_symbol_table(symtab):
                warnings.append(f"{path}: .symtab is not a symbol table; no symbols")
            elif symtab is not None:
                table = elf32.symbol_bytes(f, h, symtab)
            return Image(path, h.entry, segments, lambda: _symbols(table), warnings)
    except FileNotFoundError:
        raise LoadError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise LoadError(f"{path}: is a directory") from None
    except PermissionError:
        raise LoadError(f"{path}: permission denied") from None
    except (ValueError, OSError) as e:
        raise LoadError(f"{path}: malformed ELF file ({e})") from None
