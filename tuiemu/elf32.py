"""What the loader reads of a 32-bit ELF file: the header, the program headers, and the symbol
table's bytes, with ``struct``. pyelftools took a quarter of ``tuiemu run``'s start-up to import
and decoded every symbol at load; here reading the headers costs nothing and the symbols are
decoded from bytes kept aside, when something first asks (see docs/performance.md, Start-up)."""
from __future__ import annotations

import struct
from typing import BinaryIO, List, NamedTuple, Optional

EHDR = struct.Struct("<16sHHIIIIIHHHHHH")
PHDR = struct.Struct("<8I")  # p_type, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_flags, p_align
SHDR = struct.Struct("<10I")  # sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size, sh_link, sh_info, ...
SYM = struct.Struct("<IIIBBH")  # st_name, st_value, st_size, st_info, st_other, st_shndx
PT_LOAD, SHT_SYMTAB, SHT_STRTAB, SHT_DYNSYM, SHN_XINDEX = 1, 2, 3, 11, 0xFFFF
EM_ARM = 40


class FormatError(ValueError):
    """The file is not a well-formed ELF file (the message says where it breaks)."""


class Header(NamedTuple):
    ident: bytes
    machine: int
    entry: int
    phoff: int
    shoff: int
    phentsize: int
    phnum: int
    shentsize: int
    shnum: int
    shstrndx: int

    @property
    def arm32_le(self) -> bool:
        """ELFCLASS32, ELFDATA2LSB, EM_ARM."""
        return self.ident[4] == 1 and self.ident[5] == 1 and self.machine == EM_ARM


class ProgramHeader(NamedTuple):
    type: int
    offset: int
    paddr: int
    filesz: int
    memsz: int


class SymbolBytes(NamedTuple):
    """A symbol table as stored, decoded by ``symbols``: entries and the string table they name into."""
    entries: bytes
    entsize: int
    strings: bytes


def read_at(f: BinaryIO, offset: int, size: int, what: str) -> bytes:
    f.seek(offset)
    data = f.read(size)
    if len(data) != size:
        raise FormatError(f"{what} at {offset:#x} runs past the end of the file")
    return data


def header(f: BinaryIO) -> Header:
    raw = f.read(EHDR.size)
    if raw[:4] != b"\x7fELF":
        raise FormatError("magic number does not match")
    if len(raw) != EHDR.size:
        raise FormatError("the ELF header runs past the end of the file")
    ident, _type, machine, _version, entry, phoff, shoff, _flags, _ehsize, *rest = EHDR.unpack(raw)
    return Header(ident, machine, entry, phoff, shoff, *rest)


def program_headers(f: BinaryIO, h: Header) -> List[ProgramHeader]:
    out = []
    for i in range(h.phnum):
        p_type, offset, _vaddr, paddr, filesz, memsz, _flags, _align = PHDR.unpack(
            read_at(f, h.phoff + i * h.phentsize, PHDR.size, "a program header"))
        out.append(ProgramHeader(p_type, offset, paddr, filesz, memsz))
    return out


class SectionHeader(NamedTuple):
    name: int
    type: int
    offset: int
    size: int
    link: int
    entsize: int


def section(f: BinaryIO, h: Header, index: int) -> SectionHeader:
    name, sh_type, _flags, _addr, offset, size, link, _info, _align, entsize = SHDR.unpack(
        read_at(f, h.shoff + index * h.shentsize, SHDR.size, "a section header"))
    return SectionHeader(name, sh_type, offset, size, link, entsize)


def find_section(f: BinaryIO, h: Header, name: bytes) -> Optional[SectionHeader]:
    """The last section called ``name`` (as pyelftools picks one), or None."""
    if h.shoff == 0:
        return None
    if h.shentsize < SHDR.size:
        raise FormatError(f"section headers of {h.shentsize} bytes")
    count = h.shnum or section(f, h, 0).size  # 0: too many to count here, section 0's sh_size says
    names = section(f, h, section(f, h, 0).link if h.shstrndx == SHN_XINDEX else h.shstrndx)
    found = None
    for i in range(count):
        sec = section(f, h, i)
        f.seek(names.offset + sec.name)
        if f.read(len(name) + 1) == name + b"\0":
            found = sec
    return found


def is_symbol_table(sec: SectionHeader) -> bool:
    return sec.type in (SHT_SYMTAB, SHT_DYNSYM)


def symbol_bytes(f: BinaryIO, h: Header, sec: SectionHeader) -> SymbolBytes:
    """The table's entries and names, read now: a table cut short fails the load, not a later lookup."""
    if sec.entsize < SYM.size or sec.size % sec.entsize:
        raise FormatError(f"a symbol table of {sec.size} bytes in entries of {sec.entsize}")
    entries = read_at(f, sec.offset, sec.size, "the symbol table")
    strings = section(f, h, sec.link)
    if strings.type != SHT_STRTAB:
        raise FormatError(f"the symbol table names section {sec.link}, of type {strings.type}, for its strings")
    f.seek(strings.offset)
    return SymbolBytes(entries, sec.entsize, f.read(strings.size))  # names past the file's end read as ""


class RawSymbol(NamedTuple):
    name: str
    value: int
    size: int
    type: int  # STT_*: st_info's low nibble
    shndx: int


def symbols(table: SymbolBytes) -> List[RawSymbol]:
    """Every entry of the table, in its order, names decoded as UTF-8 (as pyelftools does)."""
    out = []
    strings = table.strings
    for pos in range(0, len(table.entries), table.entsize):
        st_name, value, size, info, _other, shndx = SYM.unpack_from(table.entries, pos)
        end = strings.find(b"\0", st_name)
        name = strings[st_name:end if end >= 0 else None].decode("utf-8", errors="replace")
        out.append(RawSymbol(name, value, size, info & 0xF, shndx))
    return out
