"""ARMv7-A short-descriptor translation table walk (sections, supersections, 64 KiB and 4 KiB pages).

``walk`` answers one question for the soft TLB: where does this virtual page
live and what may this privilege level do there. It raises the guest abort an
access would take, with the short-format fault status the architecture gives.
"""
from __future__ import annotations

from typing import NamedTuple, Protocol

from ..core.exceptions import EXC_DABT, EXC_PABT, GuestAbort
from ..core.state import CPUState
from .address_space import BusError


class TableReader(Protocol):
    """Where descriptors are read from (the address space, or a side-effect-free view of it)."""

    def read(self, addr: int, size: int, cpu_index: int = -1) -> int: ...

READ, WRITE, EXEC = 0, 1, 2

# Short-format fault status codes (FS[4:0]).
FS_ALIGNMENT = 0x01
FS_TRANSLATION_SECTION, FS_TRANSLATION_PAGE = 0x05, 0x07
FS_DOMAIN_SECTION, FS_DOMAIN_PAGE = 0x09, 0x0B
FS_PERMISSION_SECTION, FS_PERMISSION_PAGE = 0x0D, 0x0F
FS_ACCESS_FLAG_SECTION, FS_ACCESS_FLAG_PAGE = 0x03, 0x06
FS_EXTERNAL = 0x08
FS_EXTERNAL_WALK_L1, FS_EXTERNAL_WALK_L2 = 0x0C, 0x0E


class Mapping(NamedTuple):
    """A 4 KiB slice of a translation: physical page base, what this privilege may do, and the
    log2 size of the translation it belongs to (12 to 24: a TLB invalidation of any address in a
    section drops the whole section)."""
    ppage: int
    read: bool
    write: bool
    execute: bool
    span: int = 12


def fault(access: int, fs: int, va: int, domain: int = 0) -> GuestAbort:
    fsr = (fs & 0xF) | ((fs & 0x10) << 6) | ((domain & 0xF) << 4)
    if access == WRITE:
        fsr |= 1 << 11
    return GuestAbort(EXC_PABT if access == EXEC else EXC_DABT, fsr, va & 0xFFFFFFFF)


def _ap_allows(cpu: CPUState, ap: int, priv: bool) -> tuple[bool, bool]:
    """(readable, writable) for the AP[2:0] value at this privilege."""
    if cpu.sctlr & (1 << 29):  # AFE: AP[0] is the access flag, AP[2:1] the simplified model
        ap21 = ap >> 1
        if ap21 == 0:
            return (priv, priv)
        if ap21 == 1:
            return (True, True)
        if ap21 == 2:
            return (priv, False)
        return (True, False)
    table = {0: (False, False, False, False), 1: (True, True, False, False),
             2: (True, True, True, False), 3: (True, True, True, True),
             4: (False, False, False, False), 5: (True, False, False, False),
             6: (True, False, True, False), 7: (True, False, True, False)}
    pr, pw, ur, uw = table[ap]
    return (pr, pw) if priv else (ur, uw)


def walk(cpu: CPUState, space: TableReader, va: int, access: int, priv: bool) -> Mapping:
    va &= 0xFFFFFFFF
    if not cpu.sctlr & 1:
        return Mapping(va & ~0xFFF, True, True, True)
    n = cpu.ttbcr & 7
    if n == 0 or (va >> (32 - n)) == 0:
        if cpu.ttbcr & (1 << 4):  # PD0
            raise fault(access, FS_TRANSLATION_SECTION, va)
        base = cpu.ttbr0 & ~((1 << (14 - n)) - 1) & 0xFFFFFFFF
        index = (va & (0xFFFFFFFF >> n)) >> 20
    else:
        if cpu.ttbcr & (1 << 5):  # PD1
            raise fault(access, FS_TRANSLATION_SECTION, va)
        base = cpu.ttbr1 & 0xFFFFC000
        index = va >> 20
    try:
        l1 = space.read(base | (index << 2), 4)
    except BusError:
        raise fault(access, FS_EXTERNAL_WALK_L1, va) from None
    kind = l1 & 3
    if kind == 0:
        raise fault(access, FS_TRANSLATION_SECTION, va)
    if kind == 1:  # page table
        domain = (l1 >> 5) & 0xF
        pxn = bool(l1 & 4)
        try:
            l2 = space.read((l1 & 0xFFFFFC00) | (((va >> 12) & 0xFF) << 2), 4)
        except BusError:
            raise fault(access, FS_EXTERNAL_WALK_L2, va, domain) from None
        if l2 & 3 == 0:
            raise fault(access, FS_TRANSLATION_PAGE, va, domain)
        if l2 & 2:  # small page
            ppage = l2 & 0xFFFFF000
            xn = bool(l2 & 1)
            span = 12
        else:  # large page
            ppage = (l2 & 0xFFFF0000) | (va & 0xF000)
            xn = bool(l2 & (1 << 15))
            span = 16
        ap = ((l2 >> 7) & 4) | ((l2 >> 4) & 3)
        fs_dom, fs_perm, fs_af = FS_DOMAIN_PAGE, FS_PERMISSION_PAGE, FS_ACCESS_FLAG_PAGE
    else:  # section or supersection; bit 0 is PXN
        pxn = bool(l1 & 1)
        xn = bool(l1 & (1 << 4))
        if l1 & (1 << 18):
            domain = 0
            ppage = (l1 & 0xFF000000) | (va & 0x00FFF000)
            span = 24
        else:
            domain = (l1 >> 5) & 0xF
            ppage = (l1 & 0xFFF00000) | (va & 0x000FF000)
            span = 20
        ap = ((l1 >> 13) & 4) | ((l1 >> 10) & 3)
        fs_dom, fs_perm, fs_af = FS_DOMAIN_SECTION, FS_PERMISSION_SECTION, FS_ACCESS_FLAG_SECTION
    dacr = (cpu.dacr >> (2 * domain)) & 3
    if dacr in (0, 2):
        raise fault(access, fs_dom, va, domain)
    if dacr == 3:  # manager: no permission checks
        return Mapping(ppage, True, True, True, span)
    if cpu.sctlr & (1 << 29) and not ap & 1:
        raise fault(access, fs_af, va, domain)
    readable, writable = _ap_allows(cpu, ap, priv)
    executable = readable and not xn and not (priv and pxn)
    allowed = (readable, writable, executable)[access]
    if not allowed:
        raise fault(access, fs_perm, va, domain)
    return Mapping(ppage, readable, writable, executable, span)
