"""Differential test of A32 loads, stores, control flow and data aborts: random programs give the
same registers, flags, data memory, instruction count and data aborts in tuiemu's translator, in
its one-instruction-per-block interpreter mode, and in Unicorn (QEMU's ARM front end). Where
Unicorn does not model a data abort (alignment faults of LDRD/STRD/LDM/STM/SWP/STREX, which QEMU
5 does not raise), the expected abort comes from the ARM ARM: see a32mem."""
from __future__ import annotations

import os
from typing import Any, Callable, Dict, List

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .a32gen import Start, any_insn, conds, starts
from .a32mem import (
    DATA,
    EXTRA,
    FAULT_KINDS,
    FS_ALIGN,
    FS_EXTERNAL,
    LDM_STM,
    LDREX,
    LDST_IMM,
    MEM_KINDS,
    RAM_END,
    STREX,
    SUBS_IMM,
    SWP,
    WNR,
    Ctx,
    FaultSpec,
    Op,
    build_cf,
    build_seq,
    cf_program,
    check_program,
    data_bytes,
    dp_word,
    mem_item,
    mov32,
)
from .specs import encode

pytest.importorskip("unicorn")

SETTINGS: Dict[str, Any] = dict(deadline=None, report_multiple_bugs=False,  # one bug, shrunk quickly
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
ALL = tuple(range(15))
CTX = Ctx(ALL, DATA, RAM_END, conds)
QUANTA = st.sampled_from([4096, 4096, 1, 5, 64])
SCALE = float(os.environ.get("A32_DIFF_SCALE", "1"))  # more examples for a bug hunt: A32_DIFF_SCALE=20


def n(examples: int) -> int:
    return max(1, int(examples * SCALE))


def items(kinds: tuple = tuple(MEM_KINDS), most: int = 5) -> st.SearchStrategy:
    """Load/store items of ``kinds`` with data-processing instructions between them."""
    return st.lists(st.one_of(mem_item(CTX, any_insn, kinds), any_insn.map(lambda w: [w])), min_size=1, max_size=most)


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(MEM_KINDS))
@settings(max_examples=n(150), **SETTINGS)
@given(data=st.data(), start=starts, mem=data_bytes(), warm=st.booleans())
def test_mem_kind(kind: str, data: st.DataObject, start: Start, mem: bytes, warm: bool) -> None:
    """A few accesses of one kind, so that every kind gets its share of examples."""
    seq = data.draw(st.lists(mem_item(CTX, any_insn, [kind]), min_size=1, max_size=4), label="items")
    check_program(build_seq(seq, mem, start.regs, start.flags, warm))


@pytest.mark.slow
@settings(max_examples=n(600), **SETTINGS)
@given(seq=items(), start=starts, mem=data_bytes(), warm=st.booleans())
def test_mem_mixed(seq: List, start: Start, mem: bytes, warm: bool) -> None:
    """Mixed accesses (overlapping often: the buffer is small) and data processing in one block."""
    check_program(build_seq(seq, mem, start.regs, start.flags, warm))


@pytest.mark.slow
@settings(max_examples=n(500), **SETTINGS)
@given(prog=cf_program(), start=starts, mem=data_bytes(), quantum=QUANTA, warm=st.booleans())
def test_control_flow(prog: tuple, start: Start, mem: bytes, quantum: int, warm: bool) -> None:
    """Forward branches of every kind (B/BL with every condition, BX/BLX/MOV pc/LDR pc to ARM
    code), calls and returns (BL/BLX/MOV lr, pc; BX lr/MOV pc, lr/POP {pc}/LDR pc, [sp], #4),
    counted loops (self-looping blocks, chained blocks, nested loops, more iterations than a block
    runs in one call) and conditional loads and stores; the instruction counts must agree. Small
    scheduler quanta make the engine leave blocks and loops on its budget."""
    main, subs, offset = prog
    check_program(build_cf(main, subs, offset, mem, start.regs, start.flags, warm), quantum=quantum)


@st.composite
def abort_program(draw: Callable) -> List:
    """Good accesses, then one that must abort (unmapped, or misaligned where the architecture
    requires alignment), then more that must not run."""
    fault = draw(st.sampled_from(["unmapped", "unmapped", "align"]))
    kind = draw(st.sampled_from(FAULT_KINDS[fault]))
    fctx = Ctx(ALL, DATA, RAM_END, st.one_of(st.just(14), conds), fault)
    before = draw(st.lists(st.one_of(mem_item(CTX, any_insn), any_insn.map(lambda w: [w])), max_size=3))
    after = draw(st.lists(st.one_of(mem_item(CTX, any_insn), any_insn.map(lambda w: [w])), max_size=2))
    return before + [draw(mem_item(fctx, any_insn, [kind]))] + after


@pytest.mark.slow
@settings(max_examples=n(600), **SETTINGS)
@given(seq=abort_program(), start=starts, mem=data_bytes(), warm=st.booleans())
def test_data_abort(seq: List, start: Start, mem: bytes, warm: bool) -> None:
    """The abort is taken (Data Abort vector via VBAR, ABT mode, LR = PC + 8, SPSR, DFSR, DFAR)
    with no register effect of the faulting instruction (base writeback included) and no memory
    effect (but for words an STM or STRD had stored before its faulting word)."""
    check_program(build_seq(seq, mem, start.regs, start.flags, warm), may_abort=True)


WALK_POOL = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9)  # r10 walks, r11 counts, r12 holds a register stride


@st.composite
def walker(draw: Callable) -> List:
    """A loop walking a pointer up to the end of RAM, so that an access in a self-looping block
    aborts after some iterations."""
    kind = draw(st.sampled_from(["ldst", "ldst_reg", "extra", "dual", "ldm"]))
    rp, rc, rs = 10, 11, 12
    l = draw(st.booleans())
    if kind in ("ldst", "ldst_reg"):
        b = draw(st.booleans())
        size = 1 if b else 4
        stride = size * draw(st.integers(1, 3))
        p = draw(st.booleans())
        if kind == "ldst":
            word = encode(LDST_IMM, cond=14, p=p, u=1, b=b, w=int(p), l=l, rn=rp,
                          rt=draw(st.sampled_from(WALK_POOL)), imm12=stride)
        else:
            word = encode("1110 011 p:1 1 b:1 w:1 l:1 rn:4 rt:4 00000 00 0 rm:4", p=p, b=b, w=int(p), l=l, rn=rp,
                          rt=draw(st.sampled_from(WALK_POOL)), rm=rs)
    elif kind == "extra":
        op = draw(st.sampled_from([(0, 1), (1, 1), (1, 2), (1, 3)]))  # strh, ldrh, ldrsb, ldrsh
        l = op[0]
        size = 1 if op == (1, 2) else 2
        stride = size * draw(st.integers(1, 3))
        p = draw(st.booleans())
        word = encode(EXTRA, cond=14, p=p, u=1, i=1, w=int(p), l=l, rn=rp, rt=draw(st.sampled_from(WALK_POOL)),
                      hi=stride >> 4, op=op[1], lo=stride & 15)
    elif kind == "dual":
        size = stride = 8
        p = draw(st.booleans())
        word = encode(EXTRA, cond=14, p=p, u=1, i=1, w=int(p), l=0, rn=rp, rt=draw(st.sampled_from([0, 2, 4, 6, 8])),
                      hi=0, op=2 if l else 3, lo=8)
    else:
        regs = sorted(draw(st.sets(st.sampled_from(WALK_POOL), min_size=1, max_size=5)))
        size = stride = 4 * len(regs)
        p = draw(st.booleans())
        word = encode(LDM_STM, cond=14, p=p, u=1, s=0, w=1, l=l, rn=rp, reglist=sum(1 << r for r in regs))
    k = draw(st.integers(1, 200))  # iterations before the one that runs off the end of RAM
    if kind in ("dual", "ldm"):  # word aligned, but the last access may straddle the end of RAM
        mis = 4 * draw(st.integers(0, size // 4 - 1))
    else:  # unaligned words and halfwords straddle it too
        mis = draw(st.integers(0, size - 1))
    first = RAM_END - k * stride - mis - (stride if p else 0)  # address of the first access, minus the pre-increment
    body = draw(st.lists(dp_word(WALK_POOL), max_size=2))
    tail = draw(st.lists(dp_word(WALK_POOL), max_size=1))
    top = object()
    return [mov32(rp, first) + mov32(rc, k + 3) + mov32(rs, stride), [Op("label", (top,))], body, [word], tail,
            [encode(SUBS_IMM, rn=rc, rd=rc, imm8=1), Op("b", (1, 0, top))]]


@pytest.mark.slow
@settings(max_examples=n(200), **SETTINGS)
@given(seq=walker(), start=starts, mem=data_bytes(), quantum=QUANTA, warm=st.booleans())
def test_abort_in_loop(seq: List, start: Start, mem: bytes, quantum: int, warm: bool) -> None:
    """The abort stops a self-looping block at the exact iteration and instruction: the count of
    instructions before it, the registers and the memory must be exact."""
    check_program(build_seq(seq, mem, start.regs, start.flags, warm), quantum=quantum, may_abort=True)


# ---- fixed cases: the alignment faults Unicorn does not raise, and a few others ----
def _fault(dfsr: int, dfar: int, unicorn: bool = False) -> Op:
    return Op("fault", (FaultSpec(dfsr, dfar, unicorn),))


A = DATA + 0x102  # halfword aligned, not word aligned
B = DATA + 0x204  # word aligned, not doubleword aligned
FIXED: Dict[str, List[Any]] = {
    "ldrd_unaligned": [mov32(1, A), [_fault(FS_ALIGN, A), encode(EXTRA, cond=14, p=1, u=1, i=1, w=1, l=0, rn=1, rt=2,
                                                                 hi=0, op=2, lo=0)]],
    "strd_unaligned": [mov32(1, A), [_fault(FS_ALIGN | WNR, A), encode(EXTRA, cond=14, p=0, u=1, i=1, w=0, l=0, rn=1,
                                                                       rt=4, hi=0, op=3, lo=8)]],
    "ldm_unaligned": [mov32(1, A), [_fault(FS_ALIGN, A), encode(LDM_STM, cond=14, p=0, u=1, s=0, w=1, l=1, rn=1,
                                                                reglist=0x00F0)]],
    "stmdb_unaligned": [mov32(1, A + 8), [_fault(FS_ALIGN | WNR, A), encode(LDM_STM, cond=14, p=1, u=0, s=0, w=1, l=0,
                                                                            rn=1, reglist=0x4001)]],
    "swp_unaligned": [mov32(1, A), [_fault(FS_ALIGN, A), encode(SWP, cond=14, b=0, rn=1, rt=2, rt2=3)]],
    "ldrex_unaligned": [mov32(1, A), [_fault(FS_ALIGN, A, True), encode(LDREX, cond=14, sz=0, rn=1, rt=2)]],
    "ldrexd_word_aligned": [mov32(1, B), [_fault(FS_ALIGN, B, True), encode(LDREX, cond=14, sz=1, rn=1, rt=2)]],
    "ldrexh_odd": [mov32(1, A + 1), [_fault(FS_ALIGN, A + 1, True), encode(LDREX, cond=14, sz=3, rn=1, rt=2)]],
    "strex_unaligned": [mov32(1, A), [_fault(FS_ALIGN | WNR, A), encode(STREX, cond=14, sz=0, rn=1, rd=0, rt=2)]],
    "strexd_after_ldrexd": [mov32(1, B + 4), [encode(LDREX, cond=14, sz=1, rn=1, rt=2)],
                            mov32(1, B), [_fault(FS_ALIGN | WNR, B), encode(STREX, cond=14, sz=1, rn=1, rd=0, rt=4)]],
    # an unaligned word load straddling the end of RAM: DFAR is the first unmapped byte
    "ldr_straddle": [mov32(1, RAM_END - 2), [encode(LDST_IMM, cond=14, p=0, u=1, b=0, w=0, l=1, rn=1, rt=2, imm12=4)]],
    # an unaligned store straddling the end of RAM writes nothing (a single access; Unicorn writes the first bytes)
    "str_straddle": [mov32(1, RAM_END - 1), [encode(LDST_IMM, cond=14, p=1, u=1, b=0, w=1, l=0, rn=1, rt=2, imm12=0)]],
    # STM running off the end: the words before the unmapped one may be written
    "stm_straddle": [mov32(1, RAM_END - 8), [encode(LDM_STM, cond=14, p=0, u=1, s=0, w=1, l=0, rn=1, reglist=0x1C)]],
    # LDM loading its base and running off the end: the base must keep its value
    "ldm_base_straddle": [mov32(1, RAM_END - 8), [encode(LDM_STM, cond=14, p=0, u=1, s=0, w=0, l=1, rn=1,
                                                         reglist=0x0E)]],
    "swp_unmapped": [mov32(1, RAM_END), [encode(SWP, cond=14, b=1, rn=1, rt=2, rt2=3)]],
}


@pytest.mark.parametrize("name", sorted(FIXED))
@pytest.mark.parametrize("flags,warm", [(0, False), (0xF80F0000, True)])
def test_fixed_abort(name: str, flags: int, warm: bool) -> None:
    regs = tuple(0x1000 * (i + 1) + i for i in range(15))
    prog = build_seq(FIXED[name] + [[0xE2800001]], bytes(range(256)) * 32, regs, flags, warm)  # then add r0, #1
    out = check_program(prog, may_abort=True)
    assert out.fault is not None
    if name.endswith("straddle") or name.endswith("unmapped"):
        assert out.fault[1] & 0xF == FS_EXTERNAL and out.fault[2] == RAM_END


EDGE: Dict[str, List[Any]] = {
    # STM (User registers) with PC in the list stores PC + 8, as STM does (tuiemu stored the PC)
    "stm_user_pc": [mov32(0, DATA), [encode(LDM_STM, cond=14, p=0, u=1, s=1, w=0, l=0, rn=0, reglist=0xE001)]],
    # LDM (User registers) loads User r13/r14, leaving SVC's alone
    "ldm_user_sp_lr": [mov32(0, DATA + 0x10), [encode(LDM_STM, cond=14, p=1, u=0, s=1, w=0, l=1, rn=0,
                                                      reglist=0x6002)]],
}


@pytest.mark.parametrize("name", sorted(EDGE))
@pytest.mark.parametrize("warm", [False, True])
def test_edge(name: str, warm: bool) -> None:
    regs = tuple(0x1000 * (i + 1) + i for i in range(15))
    check_program(build_seq(EDGE[name], bytes(range(256)) * 32, regs, 0x60000000, warm))
