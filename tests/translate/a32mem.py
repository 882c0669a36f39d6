"""Random A32 programs with loads, stores and control flow, and a three-way runner (translator,
interpreter, Unicorn) that compares registers, flags, the data buffer, instruction counts and
data aborts.

Memory map (the same in tuiemu and Unicorn): 1 MiB of RAM at 0x40000000; code at its start, a
vector table at ``VECTORS``, and the data buffer in the last two pages, so that the first
address past RAM (``RAM_END``) is unmapped and an access that runs off the buffer aborts.

Every load/store item sets its own base (and offset) register with MOVW/MOVT right before the
access, computed so that the access lands where the item chose inside the buffer (or, for the
abort tests, on purpose outside it); everything else in the registers is random. The encodings
are written here from the ARM ARM (ARMv7-A/R, A8), not from tuiemu's pattern table, and the
generators avoid UNPREDICTABLE forms (writeback to a transferred register and the like).
"""
from __future__ import annotations

import random
import struct
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

from hypothesis import strategies as st

from tuiemu.mmu.pagetable import WRITE

from .a32gen import CODE_BASE, CPSR_CTL, FLAG_MASK, conds, disasm_lines, values
from .specs import encode

M = 0xFFFFFFFF
RAM_BASE = 0x40000000
RAM_SIZE = 1 << 20
RAM_END = RAM_BASE + RAM_SIZE  # first unmapped address
DATA = RAM_END - 0x2000  # the data buffer: two pages
PAGE = DATA + 0x1000  # the page boundary inside it
VECTORS = 0x40008000
STUBS = VECTORS + 0x20  # one stub per vector, ending in a UDF
ABT_RECORD = VECTORS + 0x200  # where the Data Abort handler stores LR, DFSR and DFAR (SP_abt)
EXC_UND_VECTOR, EXC_DABT_VECTOR = 1, 4
USR_SP, USR_LR = 0x55550D0D, 0x55550E0E  # User-mode r13/r14 (LDM/STM ^ reach them)
MODE_USR, MODE_SVC, MODE_ABT, MODE_UND, MODE_SYS = 0x10, 0x13, 0x17, 0x1B, 0x1F
FS_ALIGN, FS_EXTERNAL, WNR = 0x001, 0x008, 0x800

UDF = 0xE7F000F0
CLREX = 0xF57FF01F

# ---- encodings (A8) ----
LDST_IMM = "cond:4 010 p:1 u:1 b:1 w:1 l:1 rn:4 rt:4 imm12:12"
LDST_REG = "cond:4 011 p:1 u:1 b:1 w:1 l:1 rn:4 rt:4 imm5:5 type:2 0 rm:4"
EXTRA = "cond:4 000 p:1 u:1 i:1 w:1 l:1 rn:4 rt:4 hi:4 1 op:2 1 lo:4"
LDM_STM = "cond:4 100 p:1 u:1 s:1 w:1 l:1 rn:4 reglist:16"
LDREX = "cond:4 00011 sz:2 1 rn:4 rt:4 1111 1001 1111"
STREX = "cond:4 00011 sz:2 0 rn:4 rd:4 1111 1001 rt:4"
SWP = "cond:4 00010 b:1 00 rn:4 rt:4 0000 1001 rt2:4"
B_BL = "cond:4 101 l:1 imm24:24"
BX_REG = "cond:4 00010010 1111 1111 1111 00 l:1 1 rm:4"
MOV_REG = "cond:4 0001101 s:1 0000 rd:4 imm5:5 type:2 0 rm:4"
MOVW = "cond:4 00110000 imm4:4 rd:4 imm12:12"
MOVT = "cond:4 00110100 imm4:4 rd:4 imm12:12"
MSR_F = "1110 00110010 1000 1111 0100 imm8:8"  # msr cpsr_f, #imm8 << 24
SUBS_IMM = "1110 0010010 1 rn:4 rd:4 0000 imm8:8"
MCR_VBAR = "1110 1110 000 0 1100 rt:4 1111 000 1 0000"  # mcr p15, 0, rt, c12, c0, 0
UDF_K = "1110 01111111 imm12:12 1111 imm4:4"
EXTRA_OPS = {"strh": (0, 1), "ldrh": (1, 1), "ldrd": (0, 2), "strd": (0, 3), "ldrsb": (1, 2), "ldrsh": (1, 3)}
EXCL_SIZE = {0: 4, 1: 8, 2: 1, 3: 2}  # LDREX/STREX sz field -> bytes


def movw(rd: int, v: int) -> int:
    return encode(MOVW, cond=14, imm4=v >> 12 & 15, rd=rd, imm12=v & 0xFFF)


def movt(rd: int, v: int) -> int:
    return encode(MOVT, cond=14, imm4=v >> 28 & 15, rd=rd, imm12=v >> 16 & 0xFFF)


def mov32(rd: int, v: int) -> List[int]:
    v &= M
    return [movw(rd, v)] + ([movt(rd, v)] if v >> 16 else [])


def msr_flags(nzcvq: int) -> int:
    """msr cpsr_f, #...: N Z C V Q from the five bits of ``nzcvq`` (N first)."""
    return encode(MSR_F, imm8=nzcvq << 3)


def branch(cond: int, link: int, pc: int, target: int) -> int:
    return encode(B_BL, cond=cond, l=link, imm24=((target - pc - 8) >> 2) & 0xFFFFFF)


def udf(k: int) -> int:
    return encode(UDF_K, imm12=k >> 4, imm4=k & 15)


def shift(v: int, typ: int, imm5: int, c: int) -> int:
    """DecodeImmShift + Shift of A8.4.3 (RRX takes the carry ``c``)."""
    if typ == 0:
        return (v << imm5) & M
    if typ == 1:
        return v >> imm5 if imm5 else 0
    if typ == 2:
        return ((v ^ 0x80000000) - 0x80000000 >> min(imm5 or 32, 31)) & M
    if imm5 == 0:
        return (c << 31) | (v >> 1)
    return ((v >> imm5) | (v << (32 - imm5))) & M


def cond_passes(cond: int, cpsr: int) -> bool:
    n, z, c, v = (cpsr >> 31) & 1, (cpsr >> 30) & 1, (cpsr >> 29) & 1, (cpsr >> 28) & 1
    res = [z, c, n, v, c and not z, n == v, n == v and not z, True][cond >> 1]
    return bool(res) != bool(cond & 1 and cond < 14)


# ---- programs ----
class FaultSpec(NamedTuple):
    """The data abort an instruction must take when its condition passes (ARM ARM), and
    whether Unicorn is expected to report one too."""
    dfsr: int
    dfar: int
    unicorn: bool


class Op(NamedTuple):
    """A not-yet-assembled instruction: kind is 'b' (cond, link, label), 'movw'/'movt'
    (rd, label), 'label' (label) or 'fault' (the FaultSpec of the next word)."""
    kind: str
    args: tuple


Item = List[Any]  # ints (instruction words) and Ops


class Program(NamedTuple):
    base: int
    words: Tuple[int, ...]
    end: int  # address of the UDF that ends a normal run
    faults: Dict[int, FaultSpec]
    data: bytes
    regs: Tuple[int, ...]
    flags: int
    warm: bool = False  # start tuiemu with the buffer's pages in the soft TLB (else the first access misses)

    def describe(self) -> str:
        lines = disasm_lines(self.words, self.base)
        marks = {self.end: "   <- end", **{pc: f"   <- must abort ({f.dfsr:#x}, {f.dfar:#x})"
                                                for pc, f in self.faults.items()}}
        out = [ln + marks.get(self.base + 4 * i, "") for i, ln in enumerate(lines)]
        return ("\n".join(out) + f"\nstart regs: {' '.join(f'{x:#x}' for x in self.regs)}  flags: {self.flags:#010x}"
                + f"\ndata: {self.data[:64].hex()}...  TLB {'warm' if self.warm else 'cold'}")


def assemble(items: Sequence[Item], base: int = CODE_BASE, tail: Sequence[Item] = ()) -> Tuple[List[int], int, Dict]:
    """Lay out ``items``, the ending UDF, then ``tail`` (subroutines); returns (words, end, faults)."""
    flat: List[Any] = [x for it in items for x in it] + [UDF] + [x for it in tail for x in it]
    labels: Dict[Any, int] = {}
    pc = base
    for x in flat:
        if isinstance(x, Op):
            if x.kind == "label":
                labels[x.args[0]] = pc
            elif x.kind != "fault":
                pc += 4
        else:
            pc += 4
    words: List[int] = []
    faults: Dict[int, FaultSpec] = {}
    end = base + 4 * sum(1 for it in items for x in it if not isinstance(x, Op) or x.kind not in ("label", "fault"))
    for x in flat:
        pc = base + 4 * len(words)
        if not isinstance(x, Op):
            words.append(x)
        elif x.kind == "fault":
            faults[pc] = x.args[0]
        elif x.kind == "b":
            cond, link, lab = x.args
            words.append(branch(cond, link, pc, labels[lab]))
        elif x.kind == "movw":
            words.append(movw(x.args[0], labels[x.args[1]]))
        elif x.kind == "movt":
            words.append(movt(x.args[0], labels[x.args[1]]))
    return words, end, faults


def vector_code() -> bytes:
    """VBAR table: entry k branches to stub k, which points VBAR at unloaded flash (so that the
    next exception stops tuiemu) and executes ``udf #k``: the stop PC names the vector taken.
    A normal run ends with the UDF after the program, which takes the Undefined vector."""
    words = [branch(14, 0, VECTORS + 4 * k, _stub(k)) for k in range(8)]
    for k in range(8):
        if k == EXC_DABT_VECTOR:  # record what the handler sees, through the banked SP and LR only
            words += [0xE58DE000,  # str lr, [sp]
                      0xEE15EF10, 0xE58DE004,  # mrc p15, 0, lr, c5, c0, 0 (DFSR); str lr, [sp, #4]
                      0xEE16EF10, 0xE58DE008]  # mrc p15, 0, lr, c6, c0, 0 (DFAR); str lr, [sp, #8]
        words += [0xE3A0D000, encode(MCR_VBAR, rt=13), udf(k)]  # mov sp, #0; mcr VBAR, sp; udf #k
    return struct.pack(f"<{len(words)}I", *words)


def _stub(k: int) -> int:
    return STUBS + 12 * k + (20 if k > EXC_DABT_VECTOR else 0)


def stub_stop(k: int) -> int:
    return _stub(k) + (28 if k == EXC_DABT_VECTOR else 8)


def handler_insns(k: int) -> int:
    """Instructions of the handler of vector ``k`` (b stub; ...; udf): not counted in Outcome.insns."""
    return (stub_stop(k) - _stub(k)) // 4 + 2


# ---- generators ----
class Ctx(NamedTuple):
    pool: Tuple[int, ...]  # registers the program may write
    lo: int  # the buffer part items may touch
    hi: int
    cond: st.SearchStrategy
    fault: Optional[str] = None  # None, "unmapped" or "align": where the item's access must go


def pick(draw: Callable, pool: Sequence[int], exclude: Sequence[int] = ()) -> int:
    return draw(st.sampled_from([r for r in pool if r not in exclude]))


def address(draw: Callable, ctx: Ctx, size: int, align: int) -> int:
    """An access address: inside [lo, hi) (the page boundary, the ends and anywhere), or, for a
    fault item, past RAM (straddling RAM_END when the alignment allows, or well beyond)."""
    if ctx.fault == "unmapped":
        kind = draw(st.sampled_from(["cross", "end", "far"]))
        if kind == "cross" and (size - 1) // align:
            return RAM_END - align * draw(st.integers(1, (size - 1) // align))
        if kind == "far":
            a = draw(st.sampled_from([0x50000000, 0x7FFFFF00, 0xC0001000])) + draw(st.integers(0, 64))
        else:
            a = RAM_END + draw(st.integers(0, 0x40))
        return a & ~(align - 1)
    top = ctx.hi - size
    anchors = [ctx.lo, top, None, None] + ([PAGE - size // 2] if ctx.lo < PAGE < ctx.hi else [])
    anchor = draw(st.sampled_from(anchors))
    a = draw(st.integers(ctx.lo, top)) if anchor is None else anchor + draw(st.integers(-12, 12))
    a = min(max(a, ctx.lo), top) & ~(align - 1)
    if ctx.fault == "align":
        a = (a if a + align - 1 <= top else a - align) + draw(st.integers(1, align - 1))
    return a


def word_align(draw: Callable, size: int) -> int:
    """Alignment for LDR/STR/LDRH/STRH (unaligned allowed with SCTLR.A = 0): half of them aligned."""
    return size if draw(st.booleans()) else 1


def fault_op(ctx: Ctx, a: int, size: int, write: bool, unicorn: bool = True) -> List[Op]:
    """The FaultSpec marker for an item's access of ``size`` bytes at ``a`` (nothing if no fault)."""
    if ctx.fault is None:
        return []
    if ctx.fault == "align":
        return [Op("fault", (FaultSpec(FS_ALIGN | (WNR if write else 0), a, unicorn),))]
    far = max(a, RAM_END) if a < RAM_END else a
    return [Op("fault", (FaultSpec(FS_EXTERNAL | (WNR if write else 0), far, True),))]


@st.composite
def ldst_item(draw: Callable, ctx: Ctx) -> Item:
    """LDR/STR/LDRB/STRB (and LDRT/STRT...), immediate or scaled-register offset, all P/U/W."""
    l, b, reg, u = (draw(st.booleans()) for _ in range(4))
    p, w = draw(st.sampled_from([(1, 0), (1, 0), (1, 1), (0, 0), (0, 1)]))
    wb = not p or w
    size = 1 if b else 4
    a = address(draw, ctx, size, 1 if ctx.fault == "unmapped" and size == 4 and draw(st.booleans())
                else (size if ctx.fault else word_align(draw, size)))
    cond = draw(ctx.cond)
    if l and not wb and not reg and ctx.fault is None and draw(st.integers(0, 9)) == 0:  # literal
        return [encode(LDST_IMM, cond=cond, p=1, u=1, b=b, w=0, l=1, rn=15, rt=pick(draw, ctx.pool),
                       imm12=draw(st.integers(0, 4095)))]
    if l:
        rt = pick(draw, ctx.pool)
    else:
        rt = draw(st.sampled_from(list(range(15)) + ([15] if not b else [])))
    rn = pick(draw, ctx.pool, [rt] if wb else [])
    pre: List[Any] = []
    if reg:
        typ, imm5 = draw(st.integers(0, 3)), draw(st.integers(0, 31))
        rm = draw(st.sampled_from(list(ctx.pool) + ([rn] if not (ctx.fault and p) else [])))
        if ctx.fault and p and rm == rn:
            rm = pick(draw, ctx.pool, [rn])
        c = 0
        if rm == rn:
            if p:  # the address is r +/- (r >> big): only a small right shift keeps it near r
                typ, imm5 = draw(st.sampled_from([1, 2])), draw(st.sampled_from([0, 22, 24, 26, 28, 31]))
                r = draw(st.integers(ctx.lo + 0x400, ctx.hi - 0x400 - size))
                off = shift(r, typ, imm5, 0)
                a = (r + off if u else r - off) & M
            else:
                r = a
                if typ == 3 and imm5 == 0:
                    imm5 = 1  # no RRX here: its carry would need an MSR first
            base = r
        else:
            r = draw(values)
            if typ == 3 and imm5 == 0:  # RRX: make the carry known
                nzcvq = draw(st.integers(0, 31))
                pre.append(msr_flags(nzcvq))
                c = nzcvq >> 2 & 1
            off = shift(r, typ, imm5, c)
            base = ((a - off if u else a + off) if p else a) & M
            pre += mov32(rm, r)
        pre += mov32(rn, base)
        word = encode(LDST_REG, cond=cond, p=p, u=u, b=b, w=w, l=l, rn=rn, rt=rt, imm5=imm5, type=typ, rm=rm)
    else:
        imm = draw(st.one_of(st.integers(0, 16), st.integers(0, 4095)))
        base = ((a - imm if u else a + imm) if p else a) & M
        pre += mov32(rn, base)
        word = encode(LDST_IMM, cond=cond, p=p, u=u, b=b, w=w, l=l, rn=rn, rt=rt, imm12=imm)
    return pre + fault_op(ctx, a, size, not l) + [word]


@st.composite
def extra_item(draw: Callable, ctx: Ctx) -> Item:
    """LDRH/STRH/LDRSB/LDRSH (and their T forms), LDRD/STRD: immediate or register offset."""
    op = draw(st.sampled_from(sorted(EXTRA_OPS)))
    l, opc = EXTRA_OPS[op]
    dual = op in ("ldrd", "strd")
    if ctx.fault == "align" and not dual:
        op, l, opc, dual = "ldrd", 0, 2, True
    pw = [(1, 0), (1, 1), (0, 0)] + ([] if dual else [(0, 1)])
    p, w = draw(st.sampled_from(pw))
    wb = not p or w
    u, imm_form = draw(st.booleans()), draw(st.booleans())
    size = {"ldrsb": 1, "ldrd": 8, "strd": 8}.get(op, 2)
    align = 4 if dual else (size if ctx.fault else word_align(draw, size))
    if ctx.fault == "unmapped" and not dual and size == 2 and draw(st.booleans()):
        align = 1
    a = address(draw, ctx, size, align)
    cond = draw(ctx.cond)
    if dual:
        pairs = [r for r in range(0, 14, 2) if r in ctx.pool and r + 1 in ctx.pool] if op == "ldrd" else \
            list(range(0, 14, 2))
        rt = draw(st.sampled_from(pairs))
        written = [rt, rt + 1]
    else:
        rt = pick(draw, ctx.pool) if l else draw(st.integers(0, 14))
        written = [rt]
    if l and not wb and imm_form and ctx.fault is None and draw(st.integers(0, 9)) == 0:  # literal
        imm = draw(st.integers(0, 255)) & (~3 if dual else 0xFF)
        return [encode(EXTRA, cond=cond, p=1, u=1, i=1, w=0, l=l, rn=15, rt=rt, hi=imm >> 4, op=opc, lo=imm & 15)]
    rn = pick(draw, ctx.pool, written if wb else [])
    pre: List[Any] = []
    if imm_form:
        off = draw(st.integers(0, 255))
        hi, lo = off >> 4, off & 15
    else:
        excl = [rn] if p else []
        if op == "ldrd":
            excl += written
        rm = pick(draw, ctx.pool, excl)
        off = a if rm == rn else draw(values)
        if rm != rn:
            pre += mov32(rm, off)
        hi, lo = 0, rm
    base = ((a - off if u else a + off) if p else a) & M
    pre += mov32(rn, base)
    word = encode(EXTRA, cond=cond, p=p, u=u, i=int(imm_form), w=w, l=l, rn=rn, rt=rt, hi=hi, op=opc, lo=lo)
    return pre + fault_op(ctx, a, size, op in ("strh", "strd"), unicorn=ctx.fault != "align") + [word]


def _reglist(draw: Callable, choices: Sequence[int]) -> List[int]:
    return sorted(draw(st.sets(st.sampled_from(list(choices)), min_size=1, max_size=min(6, len(choices)))))


@st.composite
def ldm_item(draw: Callable, ctx: Ctx, user: bool = True) -> Item:
    """LDM/STM IA/IB/DA/DB with and without writeback (and the User-register forms)."""
    l, (p, u), w = draw(st.booleans()), draw(st.sampled_from([(0, 1), (1, 1), (0, 0), (1, 0)])), draw(st.booleans())
    s = user and ctx.fault != "align" and draw(st.integers(0, 7)) == 0
    if s:
        w = 0  # the User-register forms have no writeback
    rn = pick(draw, ctx.pool)
    if l:
        regs = _reglist(draw, ctx.pool)
    else:
        regs = _reglist(draw, list(range(16)) if draw(st.integers(0, 5)) == 0 else range(15))
    if w and rn in regs and (l or rn != regs[0]):
        regs.remove(rn)  # LDM!: the base in the list is UNPREDICTABLE; STM!: only as the lowest
        if not regs:
            regs = [pick(draw, ctx.pool, [rn])] if l else [15]
    n = len(regs)
    a = address(draw, ctx, 4 * n, 4)
    base = {(0, 1): a, (1, 1): a - 4, (0, 0): a + 4 * n - 4, (1, 0): a + 4 * n}[(p, u)] & M
    word = encode(LDM_STM, cond=draw(ctx.cond), p=p, u=u, s=int(s), w=w, l=l, rn=rn,
                  reglist=sum(1 << r for r in regs))
    return mov32(rn, base) + fault_op(ctx, a, 4 * n, not l, unicorn=ctx.fault != "align") + [word]


@st.composite
def pushpop_item(draw: Callable, ctx: Ctx) -> Item:
    """PUSH then POP (the multiple and the single-register encodings) on a stack in the buffer."""
    a = address(draw, Ctx(ctx.pool, ctx.lo + 64, ctx.hi - 64, ctx.cond), 4, 4)
    out = mov32(13, a)
    pushed = 0
    for _ in range(draw(st.integers(1, 2))):
        if draw(st.booleans()):
            regs = _reglist(draw, [r for r in range(15) if r != 13])
            out.append(encode(LDM_STM, cond=draw(ctx.cond), p=1, u=0, s=0, w=1, l=0, rn=13,
                              reglist=sum(1 << r for r in regs)))  # push {regs}
            pushed += len(regs)
        else:
            out.append(encode(LDST_IMM, cond=draw(ctx.cond), p=1, u=0, b=0, w=1, l=0, rn=13,
                              rt=pick(draw, range(15), [13]), imm12=4))  # push {rt}
            pushed += 1
    for _ in range(draw(st.integers(1, 2))):
        if draw(st.booleans()):
            regs = _reglist(draw, [r for r in ctx.pool if r != 13])
            out.append(encode(LDM_STM, cond=draw(ctx.cond), p=0, u=1, s=0, w=1, l=1, rn=13,
                              reglist=sum(1 << r for r in regs)))  # pop {regs}
        else:
            out.append(encode(LDST_IMM, cond=draw(ctx.cond), p=0, u=1, b=0, w=1, l=1, rn=13,
                              rt=pick(draw, ctx.pool, [13]), imm12=4))  # pop {rt}
    return out


@st.composite
def excl_item(draw: Callable, ctx: Ctx, plain: Optional[st.SearchStrategy] = None) -> Item:
    """LDREX{B,H,,D} ... STREX of the same size at the same address (succeeds unless a CLREX came
    between), sometimes a second STREX (fails: the first one cleared the monitor)."""
    sz = draw(st.sampled_from([0, 1, 3] if ctx.fault == "align" else sorted(EXCL_SIZE)))
    size = EXCL_SIZE[sz]
    if ctx.fault:
        a = address(draw, ctx, size, size)
        rn = pick(draw, ctx.pool)
        if draw(st.booleans()) or ctx.fault == "unmapped":
            rt = draw(st.sampled_from([r for r in range(0, 14, 2) if r in ctx.pool and r + 1 in ctx.pool])) \
                if sz == 1 else pick(draw, ctx.pool)
            word = encode(LDREX, cond=draw(ctx.cond), sz=sz, rn=rn, rt=rt)
            return mov32(rn, a) + fault_op(ctx, a, size, False) + [word]
        rt = draw(st.sampled_from(range(0, 14, 2))) if sz == 1 else draw(st.integers(0, 14))
        rd = pick(draw, ctx.pool, [rn, rt, rt + 1])
        # STREX with the monitor open: QEMU checks the monitor first and skips the alignment check
        word = encode(STREX, cond=draw(ctx.cond), sz=sz, rn=rn, rd=rd, rt=rt)
        return mov32(rn, a) + fault_op(ctx, a, size, True, unicorn=False) + [word]
    a = address(draw, ctx, size, size)
    if sz == 1:
        rt = draw(st.sampled_from([r for r in range(0, 14, 2) if r in ctx.pool and r + 1 in ctx.pool]))
        loaded = [rt, rt + 1]
    else:
        rt = pick(draw, ctx.pool)
        loaded = [rt]
    rn = pick(draw, ctx.pool, loaded)
    cond = draw(ctx.cond)
    out = mov32(rn, a) + [encode(LDREX, cond=cond, sz=sz, rn=rn, rt=rt)]
    middle = draw(st.lists(plain, max_size=2)) if plain is not None else []
    for wd in middle:
        if not writes_reg(wd, rn):
            out.append(wd)
    end = draw(st.sampled_from(["strex", "strex", "clrex", "clrex_strex", "strex2"]))
    if end in ("clrex", "clrex_strex"):
        out.append(CLREX)
    if end != "clrex":
        for _ in range(2 if end == "strex2" else 1):
            rt2 = draw(st.sampled_from(range(0, 14, 2))) if sz == 1 else draw(st.integers(0, 14))
            rd = pick(draw, ctx.pool, [rn, rt2] + ([rt2 + 1] if sz == 1 else []))
            out.append(encode(STREX, cond=cond, sz=sz, rn=rn, rd=rd, rt=rt2))
    return out


@st.composite
def swp_item(draw: Callable, ctx: Ctx) -> Item:
    b = draw(st.booleans()) if ctx.fault != "align" else False
    size = 1 if b else 4
    a = address(draw, ctx, size, size)
    rn = pick(draw, ctx.pool)
    rt = pick(draw, ctx.pool, [rn])
    rt2 = pick(draw, range(15), [rn])
    word = encode(SWP, cond=draw(ctx.cond), b=int(b), rn=rn, rt=rt, rt2=rt2)
    # a SWP that faults is a read fault (WnR = 0): the read comes first; Unicorn does not
    # fault on an unaligned SWP (and loops on it), so that case is checked against the ARM ARM only
    return mov32(rn, a) + fault_op(ctx, a, size, False, unicorn=ctx.fault != "align") + [word]


@st.composite
def cas_item(draw: Callable, ctx: Ctx) -> Item:
    """An atomic-increment loop: ldrex; add; strex; cmp; bne back (one pass: nothing intervenes)."""
    sz = draw(st.sampled_from([0, 2, 3]))
    size = EXCL_SIZE[sz]
    a = address(draw, ctx, size, size)
    rn, rv, rs = draw(st.permutations(ctx.pool))[:3]
    top = object()
    return mov32(rn, a) + [Op("label", (top,)), encode(LDREX, cond=14, sz=sz, rn=rn, rt=rv),
                           encode("1110 0010100 1 rn:4 rd:4 0000 imm8:8", rn=rv, rd=rv, imm8=draw(st.integers(0, 255))),
                           encode(STREX, cond=14, sz=sz, rn=rn, rd=rs, rt=rv),
                           encode("1110 00110101 rn:4 0000 0000 imm8:8", rn=rs, imm8=0), Op("b", (1, 0, top))]


def writes_reg(word: int, r: int) -> bool:
    """Conservatively: might this data-processing/multiply/media word write register ``r``?"""
    fields = [(word >> 12) & 15, (word >> 16) & 15]
    return r in fields


MEM_KINDS: Dict[str, Callable[..., st.SearchStrategy]] = {
    "ldst": ldst_item, "extra": extra_item, "ldm": ldm_item, "pushpop": pushpop_item,
    "excl": excl_item, "swp": swp_item,
}
FAULT_KINDS = {  # which items can be made to abort, and how
    "unmapped": ["ldst", "extra", "ldm", "excl", "swp"],
    "align": ["extra", "ldm", "excl", "swp"],
}


def mem_item(ctx: Ctx, plain: st.SearchStrategy, kinds: Sequence[str] = tuple(MEM_KINDS)) -> st.SearchStrategy:
    strats = []
    for k in kinds:
        if k == "excl":
            strats.append(excl_item(ctx, plain))
        elif k == "pushpop" and 13 not in ctx.pool:
            continue
        else:
            strats.append(MEM_KINDS[k](ctx))
    return st.one_of(*strats)


def data_bytes() -> st.SearchStrategy:
    """The buffer's initial contents: seeded random bytes (values with the top bit set included)."""
    return st.integers(0, 2**32 - 1).map(lambda seed: random.Random(seed).getrandbits(8 * 0x2000)
                                         .to_bytes(0x2000, "little"))


# ---- control flow ----
POOL_CF = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12)  # r10/r11 count loops, sp and lr are the call stack's
LOOP_REGS = (10, 11)
STACK_TOP = RAM_END - 0x40
SLOT = DATA + 0x17F8  # where a jump target is stored for LDR pc
CF_HI = DATA + 0x1800  # items stay below; the stack lives above


@st.composite
def dp_word(draw: Callable, pool: Sequence[int]) -> int:
    """A data-processing word that writes only registers of ``pool`` (flag-setting ones often)."""
    rd = draw(st.sampled_from(list(pool)))
    op = draw(st.integers(0, 15))
    s = draw(st.booleans())
    if 8 <= op <= 11:
        s, rd = 1, 0
    rn = 0 if op in (13, 15) else draw(st.integers(0, 15))
    cond = draw(conds)
    if draw(st.booleans()):
        return encode("cond:4 001 op:4 s:1 rn:4 rd:4 rot:4 imm8:8", cond=cond, op=op, s=s, rn=rn, rd=rd,
                      rot=draw(st.integers(0, 15)), imm8=draw(st.integers(0, 255)))
    return encode("cond:4 000 op:4 s:1 rn:4 rd:4 imm5:5 type:2 0 rm:4", cond=cond, op=op, s=s, rn=rn, rd=rd,
                  imm5=draw(st.integers(0, 31)), type=draw(st.integers(0, 3)), rm=draw(st.integers(0, 15)))


class Node(NamedTuple):
    """A piece of a control-flow program: 'item' (words), 'skip' (a forward jump over the next
    ``n`` siblings), 'call' (a subroutine), 'loop' (a counted loop round ``body``), 'ret' (a
    conditional early return, in subroutines)."""
    kind: str
    a: Any = None
    b: Any = None
    c: Any = None
    d: Any = None


SKIP_KINDS = ["b", "b", "bl", "bx", "blx", "movpc", "ldrpc", "ldrpc_post", "eret"]
CALL_KINDS = ["bl", "blx", "blxlr", "movlr"]
RET_STYLES = ["bx", "movpc", "pop", "ldrpc"]


@st.composite
def cf_nodes(draw: Callable, depth: int, in_sub: bool, nsubs: int, budget: List[int]) -> List[Node]:
    """A list of nodes; ``budget`` bounds the loop iterations of the whole program."""
    ctx = Ctx(POOL_CF, DATA, CF_HI, st.one_of(conds, st.integers(0, 14)))
    out: List[Node] = []
    for _ in range(draw(st.integers(0 if depth else 1, 5))):
        kinds = ["dp", "dp", "mem", "mem", "skip", "skip"]
        if not in_sub and nsubs:
            kinds.append("call")
        if in_sub:
            kinds.append("ret")
        if not in_sub and depth < len(LOOP_REGS):
            kinds.append("loop")
        kind = draw(st.sampled_from(kinds))
        if kind == "dp":
            out.append(Node("item", [draw(dp_word(POOL_CF))]))
        elif kind == "mem":
            kinds_cf = ["ldst", "extra", "ldm", "excl", "swp"]
            out.append(Node("item", draw(st.one_of(mem_item(ctx, dp_word(POOL_CF), kinds_cf), cas_item(ctx)))))
        elif kind == "skip":
            k = draw(st.sampled_from([s for s in SKIP_KINDS if not (in_sub and s in ("bl", "blx"))]))
            flags = draw(st.integers(0, 31)) << 27 | draw(st.integers(0, 15)) << 16
            out.append(Node("skip", k, draw(st.integers(0, 14)), draw(st.integers(0, 3)),
                            tuple(draw(st.permutations(POOL_CF))[:3]) + (flags,)))
        elif kind == "call":
            out.append(Node("call", draw(st.sampled_from(CALL_KINDS)), draw(st.integers(0, 14)),
                            draw(st.integers(0, nsubs - 1)), pick(draw, POOL_CF)))
        elif kind == "ret":
            out.append(Node("ret", draw(st.integers(0, 13))))
        else:
            left = budget[0]
            if left < 2:
                continue
            n = draw(st.one_of(st.integers(1, 12), st.integers(1, min(left, 300))))
            n = max(1, min(n, left))
            budget[0] = max(1, left // n)
            body = draw(cf_nodes(depth + 1, in_sub, nsubs, budget))
            budget[0] = max(0, left - n)
            style = draw(st.sampled_from(["subs", "cmp"]))
            out.append(Node("loop", LOOP_REGS[depth], n, body, style))
    return out


class Sub(NamedTuple):
    style: str
    saved: Tuple[int, ...]
    body: List[Node]


@st.composite
def cf_program(draw: Callable) -> Tuple[List[Node], List[Sub], int]:
    nsubs = draw(st.integers(0, 2))
    budget = [draw(st.sampled_from([50, 400, 1500]))]
    subs = []
    for _ in range(nsubs):
        style = draw(st.sampled_from(RET_STYLES))
        saved = tuple(sorted(draw(st.sets(st.sampled_from(POOL_CF), max_size=3)))) if style == "pop" else ()
        subs.append(Sub(style, saved, draw(cf_nodes(0, True, 0, [0]))))
    main = draw(cf_nodes(0, False, nsubs, budget))
    return main, subs, draw(st.sampled_from([0, 0, 0xF40]))  # code sometimes straddles a page


class Layout:
    def __init__(self) -> None:
        self.n = 0

    def label(self) -> int:
        self.n += 1
        return self.n

    def nodes(self, nodes: List[Node], sub_labels: List[int], ret: Optional[Sub]) -> Item:
        out: Item = []
        targets: Dict[int, List[int]] = {}
        for i, nd in enumerate(nodes):
            for lab in targets.pop(i, []):
                out.append(Op("label", (lab,)))
            if nd.kind == "item":
                out += nd.a
            elif nd.kind == "skip":
                lab = self.label()
                targets.setdefault(min(i + 1 + nd.c, len(nodes)), []).append(lab)
                out += self.jump(nd.a, nd.b, lab, nd.d)
            elif nd.kind == "call":
                out += self.call(nd.a, nd.b, sub_labels[nd.c], nd.d)
            elif nd.kind == "ret":
                assert ret is not None
                out += self.ret(ret, nd.a)
            else:
                cnt, n, body, style = nd.a, nd.b, nd.c, nd.d
                top = self.label()
                out += mov32(cnt, n if style == "subs" else 0)
                out.append(Op("label", (top,)))
                out += self.nodes(body, sub_labels, ret)
                if style == "subs":  # subs cnt, cnt, #1; bne top
                    out.append(encode(SUBS_IMM, rn=cnt, rd=cnt, imm8=1))
                    out.append(Op("b", (1, 0, top)))
                else:  # add cnt, cnt, #1; cmp cnt, #n (n <= 300 as rotated immediate); blo top
                    out.append(encode("1110 0010100 0 rn:4 rd:4 0000 imm8:8", rn=cnt, rd=cnt, imm8=1))
                    out += [encode("1110 00110101 rn:4 0000 0000 imm8:8", rn=cnt, imm8=n)] if n < 256 else \
                        mov32(12, n) + [encode("1110 00010101 rn:4 0000 00000 00 0 rm:4", rn=cnt, rm=12)]
                    out.append(Op("b", (3, 0, top)))
        for lab in targets.pop(len(nodes), []):
            out.append(Op("label", (lab,)))
        return out

    @staticmethod
    def jump(kind: str, cond: int, lab: int, regs: Sequence[int]) -> Item:
        rx, ry, rz, flags = regs
        if kind in ("b", "bl"):
            return [Op("b", (cond, int(kind == "bl"), lab))]
        setx = [Op("movw", (rx, lab)), Op("movt", (rx, lab))]
        if kind in ("bx", "blx"):
            return setx + [encode(BX_REG, cond=cond, l=int(kind == "blx"), rm=rx)]
        if kind == "movpc":
            return setx + [encode(MOV_REG, cond=cond, s=0, rd=15, imm5=0, type=0, rm=rx)]
        if kind == "eret":  # SPSR = SVC with other flags; str rx, [ry, #4]; ldm ry!, {rz, pc}^
            return setx + mov32(ry, SLOT) + mov32(rz, CPSR_CTL | flags) + [
                0xE16FF000 | rz,  # msr spsr_fsxc, rz
                encode(LDST_IMM, cond=14, p=1, u=1, b=0, w=0, l=0, rn=ry, rt=rx, imm12=4),
                encode(LDM_STM, cond=cond, p=0, u=1, s=1, w=flags >> 31, l=1, rn=ry, reglist=1 << rz | 0x8000)]
        # str rx, [ry]; ldr pc, [ry] (or post-indexed, writing ry back)
        post = kind == "ldrpc_post"
        return setx + mov32(ry, SLOT) + [
            encode(LDST_IMM, cond=14, p=1, u=1, b=0, w=0, l=0, rn=ry, rt=rx, imm12=0),
            encode(LDST_IMM, cond=cond, p=0 if post else 1, u=1, b=0, w=0, l=1, rn=ry, rt=15, imm12=4 if post else 0)]

    @staticmethod
    def call(kind: str, cond: int, lab: int, rx: int) -> Item:
        if kind == "bl":
            return [Op("b", (cond, 1, lab))]
        if kind in ("blx", "blxlr"):  # blx rx; blx lr (the target is read before LR is written)
            rx = 14 if kind == "blxlr" else rx
            return [Op("movw", (rx, lab)), Op("movt", (rx, lab)), encode(BX_REG, cond=cond, l=1, rm=rx)]
        # mov lr, pc; b sub (LR = this + 8: the instruction after the branch)
        return [encode(MOV_REG, cond=cond, s=0, rd=14, imm5=0, type=0, rm=15), Op("b", (cond, 0, lab))]

    @staticmethod
    def ret(sub: Sub, cond: int) -> Item:
        if sub.style == "bx":
            return [encode(BX_REG, cond=cond, l=0, rm=14)]
        if sub.style == "movpc":
            return [encode(MOV_REG, cond=cond, s=0, rd=15, imm5=0, type=0, rm=14)]
        if sub.style == "pop":  # ldmia sp!, {saved, pc}
            return [encode(LDM_STM, cond=cond, p=0, u=1, s=0, w=1, l=1, rn=13,
                           reglist=sum(1 << r for r in sub.saved) | 0x8000)]
        return [encode(LDST_IMM, cond=cond, p=0, u=1, b=0, w=0, l=1, rn=13, rt=15, imm12=4)]  # ldr pc, [sp], #4

    def sub(self, sub: Sub, lab: int) -> Item:
        out: Item = [Op("label", (lab,))]
        if sub.style == "pop":  # stmdb sp!, {saved, lr}
            out.append(encode(LDM_STM, cond=14, p=1, u=0, s=0, w=1, l=0, rn=13,
                              reglist=sum(1 << r for r in sub.saved) | 0x4000))
        elif sub.style == "ldrpc":  # str lr, [sp, #-4]!
            out.append(encode(LDST_IMM, cond=14, p=1, u=0, b=0, w=1, l=0, rn=13, rt=14, imm12=4))
        out += self.nodes(sub.body, [], sub)
        return out + self.ret(sub, 14)


def build_cf(main: List[Node], subs: List[Sub], offset: int, data: bytes, regs: Tuple[int, ...],
             flags: int, warm: bool = False) -> Program:
    lay = Layout()
    sub_labels = [lay.label() for _ in subs]
    items = [mov32(13, STACK_TOP), lay.nodes(main, sub_labels, None)]
    tail = [lay.sub(s, lab) for s, lab in zip(subs, sub_labels)]
    base = CODE_BASE + offset
    words, end, faults = assemble(items, base, tail)
    return Program(base, tuple(words), end, faults, data, regs, flags, warm)


def build_seq(items: Sequence[Item], data: bytes, regs: Tuple[int, ...], flags: int,
              warm: bool = False) -> Program:
    words, end, faults = assemble(items, CODE_BASE)
    return Program(CODE_BASE, tuple(words), end, faults, data, regs, flags, warm)


# ---- running ----
class Outcome(NamedTuple):
    regs: Tuple[int, ...]  # r0-r14 of the program's mode (SVC)
    flags: int  # NZCVQ and GE
    usr: Tuple[int, int]  # User-mode r13, r14
    data: bytes  # the data buffer
    insns: Optional[int]  # instructions executed (the final UDF included, the handler not)
    fault: Optional[Tuple[int, int, int]]  # (PC, DFSR, DFAR) of a data abort

    def diff(self, other: Outcome, alt_data: Optional[bytes] = None) -> List[str]:
        out = [f"r{i}: {a:#010x} != {b:#010x}" for i, (a, b) in enumerate(zip(self.regs, other.regs)) if a != b]
        if self.flags != other.flags:
            out.append(f"NZCVQ/GE: {self.flags:#010x} != {other.flags:#010x}")
        if self.usr != other.usr:
            out.append(f"User r13/r14: {self.usr[0]:#x}/{self.usr[1]:#x} != {other.usr[0]:#x}/{other.usr[1]:#x}")
        if self.data != other.data and other.data != alt_data:
            bad = [i for i in range(len(self.data)) if self.data[i] != other.data[i]]
            out.append(f"memory differs at {len(bad)} bytes, e.g. " + ", ".join(
                f"[{DATA + i:#x}] {self.data[i]:#04x} != {other.data[i]:#04x}" for i in bad[:8]))
        if self.insns is not None and other.insns is not None and self.insns != other.insns:
            out.append(f"instructions: {self.insns} != {other.insns}")
        if self.fault != other.fault:
            def f(x: Optional[tuple]) -> str:
                return "none" if x is None else f"at {x[0]:#x} DFSR {x[1]:#x} DFAR {x[2]:#x}"
            out.append(f"data abort: {f(self.fault)} != {f(other.fault)}")
        return out


def _code(prog: Program) -> bytes:
    return struct.pack(f"<{len(prog.words)}I", *prog.words)


def run_tuiemu(prog: Program, interp: bool, quantum: int = 4096, max_insns: int = 300000) -> Outcome:
    from tuiemu.core.state import bank_of
    from tuiemu.machine import Machine

    m = Machine(threads="single", interp=interp, ram_size=RAM_SIZE, quantum=quantum)
    m.space.write_bytes(prog.base, _code(prog), force=True)
    m.space.write_bytes(VECTORS, vector_code(), force=True)
    m.space.write_bytes(DATA, prog.data, force=True)
    v = m.vcpus[0]
    s = v.state
    v.power_on(prog.base)
    s.set_cpsr(CPSR_CTL | prog.flags)
    s.set_banked_reg(MODE_USR, 13, USR_SP)
    s.set_banked_reg(MODE_USR, 14, USR_LR)
    v.R[0:15] = list(prog.regs)
    s.vbar = VECTORS
    s.set_banked_reg(MODE_ABT, 13, ABT_RECORD)
    if prog.warm:  # translated code then takes the fast paths (RAM views) from the first access on
        for va in (DATA, PAGE):
            for priv in (0, 1):
                v.tlb.translate(va, WRITE, priv)
    code = m.run(max_insns=max_insns)
    who = "interpreter" if interp else "translator"
    pc = v.R[15]
    assert code == 3, f"tuiemu {who} did not stop (status {code}, PC {pc:#x}, {v.counters.insns} insns)"
    usr = (s.banked_reg(MODE_USR, 13), s.banked_reg(MODE_USR, 14))
    data = m.space.read_bytes(DATA, 0x2000)
    regs = tuple(v.R[0:13]) + (s.banked_reg(MODE_SVC, 13), s.banked_reg(MODE_SVC, 14))
    cpsr = s.get_cpsr()
    if pc == stub_stop(EXC_UND_VECTOR) and v.R[14] == prog.end + 4:  # the UDF that ends the program
        spsr = s.spsr[bank_of(MODE_UND)]
        assert s.mode == MODE_UND and cpsr & 0x1E0 == 0x1C0, f"{who}: undefined entry CPSR {cpsr:#x}"
        assert spsr & ~FLAG_MASK == CPSR_CTL, f"{who}: SPSR_und {spsr:#x}: control bits are not the program's"
        return Outcome(regs, spsr & FLAG_MASK, usr, data, v.counters.insns - handler_insns(EXC_UND_VECTOR), None)
    assert pc == stub_stop(EXC_DABT_VECTOR), (
        f"tuiemu {who} stopped at {pc:#x}, LR {v.R[14]:#x}: {m.stop_message} (vector stubs end at "
        + ", ".join(f"{stub_stop(k):#x}" for k in range(8)) + ")")
    # in the Data Abort handler: check the exception entry, report what the handler sees
    spsr = s.spsr[bank_of(MODE_ABT)]
    lr, dfsr, dfar = struct.unpack("<3I", m.space.read_bytes(ABT_RECORD, 12))
    assert (dfsr, dfar) == (s.dfsr, s.dfar), f"{who}: the handler read DFSR/DFAR {dfsr:#x}/{dfar:#x}"
    fault_pc = (lr - 8) & M
    assert s.mode == MODE_ABT and cpsr & 0x1E0 == 0x1C0, f"{who}: abort entry CPSR {cpsr:#x}"
    assert spsr & ~FLAG_MASK == CPSR_CTL, f"{who}: SPSR_abt {spsr:#x}: control bits are not the program's"
    insns = v.counters.insns - handler_insns(EXC_DABT_VECTOR)
    return Outcome(regs, spsr & FLAG_MASK, usr, data, insns, (fault_pc, dfsr, dfar))


class UnicornError(Exception):
    pass


def run_unicorn(prog: Program, may_abort: bool = False, max_steps: int = 300000) -> Tuple[Outcome, Optional[bytes]]:
    """Step Unicorn through the program. A data abort (an unmapped access Unicorn reports, or an
    instruction the program marks as faulting whose condition passes) ends the run with the
    state before that instruction: the ARM ARM's base-restored abort model. Returns the outcome
    and, for an aborted multi-word store, the memory as Unicorn left it (partly written)."""
    from unicorn import UC_ARCH_ARM, UC_HOOK_INTR, UC_HOOK_MEM_UNMAPPED, UC_MEM_WRITE_UNMAPPED, UC_MODE_ARM, Uc, UcError
    from unicorn import arm_const as A

    mu = Uc(UC_ARCH_ARM, UC_MODE_ARM)
    mu.ctl_set_cpu_model(A.UC_CPU_ARM_CORTEX_A15)
    mu.mem_map(RAM_BASE, RAM_SIZE)
    mu.mem_write(prog.base, _code(prog))
    mu.mem_write(VECTORS, vector_code())
    mu.mem_write(DATA, prog.data)
    mu.reg_write(A.UC_ARM_REG_CPSR, CPSR_CTL & ~0x1F | MODE_SYS)
    mu.reg_write(A.UC_ARM_REG_SP, USR_SP)
    mu.reg_write(A.UC_ARM_REG_LR, USR_LR)
    mu.reg_write(A.UC_ARM_REG_CPSR, CPSR_CTL | prog.flags)
    ids = [getattr(A, f"UC_ARM_REG_R{i}") for i in range(13)] + [A.UC_ARM_REG_SP, A.UC_ARM_REG_LR]
    for r, val in zip(ids, prog.regs):
        mu.reg_write(r, val)
    events: List[tuple] = []

    def on_unmapped(uc: Any, access: int, addr: int, size: int, value: int, ud: Any) -> bool:
        events.append(("unmapped", access == UC_MEM_WRITE_UNMAPPED, addr))
        return False

    def on_intr(uc: Any, intno: int, ud: Any) -> None:
        events.append(("intr", intno))
        uc.emu_stop()

    mu.hook_add(UC_HOOK_MEM_UNMAPPED, on_unmapped)
    mu.hook_add(UC_HOOK_INTR, on_intr)

    def state(insns: int, fault: Optional[tuple]) -> Outcome:
        cpsr = mu.reg_read(A.UC_ARM_REG_CPSR)
        regs = tuple(mu.reg_read(r) for r in ids)
        mu.reg_write(A.UC_ARM_REG_CPSR, cpsr & ~0x1F | MODE_SYS)
        usr = (mu.reg_read(A.UC_ARM_REG_SP), mu.reg_read(A.UC_ARM_REG_LR))
        mu.reg_write(A.UC_ARM_REG_CPSR, cpsr)
        return Outcome(regs, cpsr & FLAG_MASK, usr, bytes(mu.mem_read(DATA, 0x2000)), insns, fault)

    pc = prog.base
    steps = 0
    while pc != prog.end:
        if steps >= max_steps:
            raise UnicornError(f"Unicorn ran {steps} instructions without reaching the end (PC {pc:#x})")
        word = struct.unpack("<I", mu.mem_read(pc, 4))[0]
        spec = prog.faults.get(pc)
        cpsr = mu.reg_read(A.UC_ARM_REG_CPSR)
        if spec is not None and cond_passes(word >> 28, cpsr):
            at_fault = state(steps, (pc, spec.dfsr, spec.dfar))
            if not spec.unicorn:
                return at_fault, None
            mark = len(events)
            try:
                mu.emu_start(pc, RAM_END, count=1)
            except UcError:
                pass
            got = events[mark] if len(events) > mark else None
            if got is None or got[0] == "intr" and got[1] != 4 or got[0] == "unmapped" and got[2] != spec.dfar:
                raise UnicornError(f"Unicorn does not abort at {pc:#x} as expected ({spec}): {events}")
            return at_fault, bytes(mu.mem_read(DATA, 0x2000))
        before = state(steps, None) if may_abort else None
        mark = len(events)
        try:
            mu.emu_start(pc, RAM_END, count=1)
        except UcError as e:
            if len(events) > mark and events[mark][0] == "unmapped" and before is not None:
                _, write, addr = events[mark]  # the first unmapped byte or word
                fault = (pc, FS_EXTERNAL | (WNR if write else 0), addr)
                return before._replace(fault=fault), bytes(mu.mem_read(DATA, 0x2000))
            raise UnicornError(f"Unicorn stopped at {pc:#x}: {e} {events}") from None
        if events and events[-1][0] == "intr":
            raise UnicornError(f"Unicorn took exception {events[-1][1]} at {pc:#x}")
        pc = mu.reg_read(A.UC_ARM_REG_PC)
        steps += 1
    return state(steps + 1, None), None


def is_multi_store(word: int) -> bool:
    """STM or STRD: memory they had written before the abort may stay written (ARM ARM B1.9.7)."""
    if (word >> 25) & 7 == 4:
        return not word & (1 << 20)
    return (word >> 25) & 7 == 0 and word & 0xF0 == 0xF0 and not word & (1 << 20)


def check_program(prog: Program, quantum: int = 4096, may_abort: bool = False) -> Outcome:
    """Run ``prog`` in Unicorn and in tuiemu's translator and interpreter; fail on any difference."""
    try:
        ref, partial = run_unicorn(prog, may_abort or bool(prog.faults))
    except UnicornError as e:
        raise AssertionError(f"{e}\n{prog.describe()}") from None
    alt = None
    if ref.fault is not None:
        word = prog.words[(ref.fault[0] - prog.base) // 4]
        alt = partial if is_multi_store(word) else None  # a single access, unaligned too, writes nothing
    for interp in (False, True):
        got = run_tuiemu(prog, interp, quantum, max_insns=(ref.insns or 0) + 100)  # a runaway stops soon
        d = ref.diff(got, alt)
        assert not d, (f"tuiemu {'interpreter' if interp else 'translator'} differs from the reference "
                       f"(left: Unicorn / ARM ARM, right: tuiemu), quantum {quantum}\n{prog.describe()}\n  "
                       + "\n  ".join(d))
    return ref
