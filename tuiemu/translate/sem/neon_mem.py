"""Advanced SIMD element and structure loads and stores (ARM ARM A7.7): VLD1-VLD4 and VST1-VST4,
multiple elements, one lane, and (loads) all lanes.

An instruction's memory is one contiguous run of bytes, so each is a single read or write of that
run (one TLB lookup when it is on one page and element-aligned; element by element otherwise, which
is where SCTLR.A and page crossings are handled) plus, at translation time, the map between its
bytes and register lanes: which register and lane the k-th element in memory belongs to. The
alignment the encoding asks for is checked first; loads complete before any register changes.
"""
from __future__ import annotations

from typing import Any, Dict, List, NamedTuple, Optional, Tuple

from ..codegen import Block, M
from ..decodetree import Args
from ..isa import PC, SP
from .fpregs import dreg, enabled, set_dreg
from .loadstore import rt_align_fault
from .registry import handler

M64 = 0xFFFFFFFFFFFFFFFF


def rt_read(ld: Any, tr: Any, m8: Any, addr: int, n: int, ebytes: int) -> int:
    """``n`` bytes at ``addr`` as a little-endian int."""
    d = tr.get(addr >> 12)
    if d is not None and (addr & 0xFFF) + n <= 0x1000 and not addr & (ebytes - 1):
        return int.from_bytes(m8[addr + d:addr + d + n], "little")
    v = 0
    for k in range(0, n, ebytes):
        v |= ld((addr + k) & 0xFFFFFFFF, ebytes) << (8 * k)
    return v


def rt_write(st: Any, tw: Any, m8: Any, addr: int, n: int, ebytes: int, value: int) -> None:
    d = tw.get(addr >> 12)
    if d is not None and (addr & 0xFFF) + n <= 0x1000 and not addr & (ebytes - 1):
        m8[addr + d:addr + d + n] = value.to_bytes(n, "little")
        return
    mask = (1 << (8 * ebytes)) - 1
    for k in range(0, n, ebytes):
        st((addr + k) & 0xFFFFFFFF, ebytes, value >> (8 * k) & mask)


class Layout(NamedTuple):
    """Where each element in memory goes: ``slots[k]`` = (register, lane) of the k-th element."""
    ebytes: int
    slots: Tuple[Tuple[int, int], ...]
    align: int  # required alignment of the address in bytes (1: none)
    replicate: bool = False  # all lanes: each element fills every lane of its register(s)


def _multiple(a: Args) -> Optional[Layout]:
    """VLDn/VSTn (multiple n-element structures): ``type`` gives n, the register count and spacing."""
    size, align, d = a.size, a.align, a.vd
    kinds = {0b0111: (1, 1, 1), 0b1010: (1, 2, 1), 0b0110: (1, 3, 1), 0b0010: (1, 4, 1),
             0b1000: (2, 1, 1), 0b1001: (2, 1, 2), 0b0011: (2, 2, 2),
             0b0100: (3, 1, 1), 0b0101: (3, 1, 2), 0b0000: (4, 1, 1), 0b0001: (4, 1, 2)}
    kind = kinds.get(a.type)
    if kind is None:
        return None
    n, regs, inc = kind
    if n == 1:
        if (regs in (1, 3) and align & 2) or (regs == 2 and align == 3):
            return None
        nregs = regs
    else:
        if size == 3 or (n == 2 and regs == 1 and align == 3) or (n == 3 and align & 2):
            return None
        nregs = n if regs == 1 else 4
    if n == 3:
        alignment = 8 if align & 1 else 1
    else:
        alignment = 4 << align if align else 1
    ebytes = 1 << size
    elements = 8 // ebytes
    if n == 1:
        slots = [(d + r, e) for r in range(nregs) for e in range(elements)]
    elif n == 2 and regs == 2:  # two pairs: d, d+2 then d+1, d+3
        slots = [(d + r + 2 * k, e) for r in range(2) for e in range(elements) for k in range(2)]
    else:
        slots = [(d + k * inc, e) for e in range(elements) for k in range(n)]
    if max(r for r, _ in slots) > 31:
        return None  # UNPREDICTABLE
    return Layout(ebytes, tuple(slots), alignment)


def _one_lane(a: Args, n: int) -> Optional[Layout]:
    """VLDn/VSTn (single n-element structure to one lane)."""
    size, ia, d = a.size, a.index_align, a.vd
    ebytes = 1 << size
    inc, alignment = 1, 1
    if size == 0:
        index = ia >> 1
        if n == 1 and ia & 1 or n == 3 and ia & 1:
            return None
        if ia & 1:
            alignment = {2: 2, 4: 4}.get(n, 1)
    elif size == 1:
        index = ia >> 2
        if (n == 1 and ia & 2) or (n == 3 and ia & 1):
            return None
        if n > 1:
            inc = 2 if ia & 2 else 1
        if ia & 1:
            alignment = {1: 2, 2: 4, 4: 8}[n]
    else:
        index = ia >> 3
        if (n == 1 and (ia & 4 or ia & 3 in (1, 2))) or (n == 2 and ia & 2) or (n == 3 and ia & 3) \
                or (n == 4 and ia & 3 == 3):
            return None
        if n > 1:
            inc = 2 if ia & 4 else 1
        if n == 1:
            alignment = 4 if ia & 3 else 1
        elif n == 2:
            alignment = 8 if ia & 1 else 1
        elif n == 4:
            alignment = 4 << (ia & 3) if ia & 3 else 1
    slots = tuple((d + k * inc, index) for k in range(n))
    if slots[-1][0] > 31:
        return None
    return Layout(ebytes, slots, alignment)


def _all_lanes(a: Args, n: int) -> Optional[Layout]:
    """VLDn (single n-element structure to all lanes): T gives one or two registers (VLD1) or the
    register spacing (VLD2-4)."""
    size, t, al, d = a.size, a.t, a.a, a.vd
    if n == 4 and size == 3:
        if not al:
            return None
        ebytes, alignment = 4, 16
    else:
        if size == 3 or (n == 1 and size == 0 and al) or (n == 3 and al):
            return None
        ebytes = 1 << size
        if not al:
            alignment = 1
        elif n == 4:
            alignment = 8 if size == 2 else 4 * ebytes
        else:
            alignment = ebytes * n
    if n == 1:
        slots: Tuple[Tuple[int, int], ...] = ((d, 0),) if not t else ((d, 0), (d + 1, 0))
        return Layout(ebytes, slots, alignment, replicate=True)
    inc = t + 1
    slots = tuple((d + k * inc, 0) for k in range(n))
    if slots[-1][0] > 31:
        return None
    return Layout(ebytes, slots, alignment, replicate=True)


def _emit(b: Block, a: Args, lay: Layout, load: bool) -> None:
    rn, rm = a.rn, a.rm
    esize = 8 * lay.ebytes
    emask = (1 << esize) - 1
    vld1_all_two = lay.replicate and len(lay.slots) == 2 and a.n == 1
    nbytes = lay.ebytes * (1 if vld1_all_two else len(lay.slots))
    addr = b.as_local(b.reg(rn))
    if lay.align > 1:
        b.const("AFAULT", rt_align_fault)
        b.emit(f"if {addr} & {lay.align - 1}: AFAULT({addr}, {0 if load else 1})")
    b.uses_memory = True
    if rm != PC:
        step = b.reg(rm) if rm != SP else str(nbytes)
        wb = b.as_local(f"({addr} + {step}) & {M}")
    regs = sorted({r for r, _ in lay.slots})
    if load:
        b.const("VREAD", rt_read)
        v = b.tmp("v")
        b.emit(f"{v} = VREAD(LD, TR, M8, {addr}, {nbytes}, {lay.ebytes})")
        if rm != PC:
            b.set_reg(rn, wb)
        if lay.replicate:
            rep = sum(1 << k for k in range(0, 64, esize))
            for k, (r, _) in enumerate(lay.slots):
                elem = f"({v} >> {esize * k} & {emask:#x})" if not vld1_all_two else v
                set_dreg(b, r, f"{elem} * {rep:#x}")
            return
        whole = {r for r in regs if sum(1 for s in lay.slots if s[0] == r) == 64 // esize}
        parts: Dict[int, List[str]] = {r: [] for r in regs}
        for k, (r, e) in enumerate(lay.slots):
            parts[r].append(f"({v} >> {esize * k} & {emask:#x}) << {esize * e}" if esize * k
                            else f"({v} & {emask:#x}) << {esize * e}")
        for r in regs:
            value = " | ".join(parts[r])
            if r not in whole:
                keep = M64
                for rr, e in lay.slots:
                    if rr == r:
                        keep &= ~(emask << (esize * e))
                value = f"({dreg(b, r)} & {keep:#x}) | {value}"
            set_dreg(b, r, value)
        return
    terms = [f"({dreg(b, r)} >> {esize * e} & {emask:#x}) << {esize * k}" for k, (r, e) in enumerate(lay.slots)]
    value = b.as_local(" | ".join(terms))
    b.const("VWRITE", rt_write)
    b.emit(f"VWRITE(ST, TW, M8, {addr}, {nbytes}, {lay.ebytes}, {value})")
    if rm != PC:
        b.set_reg(rn, wb)


def _transfer(b: Block, a: Args, lay: Optional[Layout], load: bool) -> bool:
    if lay is None or a.rn == PC:
        return False
    if not enabled(b, a.insn, simd=True):
        return True
    _emit(b, a, lay, load)
    return True


@handler("neon_ldst_multiple")
def neon_ldst_multiple(b: Block, a: Args) -> bool:
    return _transfer(b, a, _multiple(a), bool(a.l))


@handler("neon_ldst_lane")
def neon_ldst_lane(b: Block, a: Args) -> bool:
    return _transfer(b, a, _one_lane(a, a.n), bool(a.l))


@handler("neon_ld_all")
def neon_ld_all(b: Block, a: Args) -> bool:
    return _transfer(b, a, _all_lanes(a, a.n), True)

