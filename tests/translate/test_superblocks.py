"""A block goes on past a plain conditional branch that is not taken (frontend.GOES_ON): the taken
branch leaves from the middle of the block, which then counts only the instructions before it ran,
so results and instruction counts match the one-instruction reference mode on both paths, in ARM
and Thumb, as plain blocks and inside regions. A TLB invalidation does not end its block either:
Linux's page-by-page flush loop runs as one block that loops on itself."""
from __future__ import annotations

from pathlib import Path
from typing import List, Tuple

import pytest

from tuiemu.devices.console import Console
from tuiemu.machine import Machine

from ..elfgen import BASE, exit_with, mov32, write_program

EXIT_BLOCK = BASE + 0x8000


def bcond(pc: int, target: int, cond: int) -> int:
    return cond << 28 | 0x0A000000 | (((target - pc - 8) >> 2) & 0xFFFFFF)


def arm_program(n: int) -> Tuple[List[int], int]:
    """For r1 = n down to 1: r0 += 5 and r0 ^= r1, except when r1 % 3 == 0 (the branch past them is
    taken, to code that adds 7 and rejoins); r3 counts the multiples. Returns the code and the
    loop's address."""
    code = mov32(1, n) + [0xE3A00000, 0xE3A03000]  # r1 = n; r0 = 0; r3 = 0
    loop = BASE + 4 * len(code)
    # loop: r2 = r1 % 3 without a divide, r1 - 3 * (r1 * 0xAAAAAAAB >> 33)
    code += mov32(4, 0xAAAAAAAB)
    code += [
        0xE0865194,  # umull r5, r6, r4, r1   (r6 = high word)
        0xE1A060A6,  # lsr r6, r6, #1
        0xE0866086,  # add r6, r6, r6, lsl #1
        0xE0512006,  # subs r2, r1, r6        (r1 % 3; Z when a multiple)
        0,           # beq multiple           (patched: the branch the block goes on past)
        0xE2800005,  # add r0, r0, #5
        0xE0200001,  # eor r0, r0, r1
    ]
    join = BASE + 4 * len(code)
    code += [0xE2511001, 0]  # join: subs r1, r1, #1; bne loop (patched)
    code += [0xE1A07000, 0xE1A08003] + exit_with(0, EXIT_BLOCK)  # r7, r8 = r0, r3; exit
    multiple = BASE + 4 * len(code)
    code += [0xE2800007, 0xE2833001, 0]  # multiple: add r0, r0, #7; add r3, r3, #1; b join (patched)
    beq_at = join - 12
    code[(beq_at - BASE) // 4] = bcond(beq_at, multiple, 0x0)
    code[(join + 4 - BASE) // 4] = bcond(join + 4, loop, 0x1)
    code[(multiple + 8 - BASE) // 4] = bcond(multiple + 8, join, 0xE)
    return code, loop


def arm_expected(n: int) -> Tuple[int, int]:
    r0 = r3 = 0
    for r1 in range(n, 0, -1):
        if r1 % 3 == 0:
            r0, r3 = (r0 + 7) & 0xFFFFFFFF, r3 + 1
        else:
            r0 = ((r0 + 5) & 0xFFFFFFFF) ^ r1
    return r0, r3


def run_both(tmp_path: Path, code: List[int], threads: str, regions: bool = True,
             ncpus: int = 1) -> Tuple[Machine, Machine]:
    """``code`` run to its exit translated (with or without regions) and in the one-instruction mode."""
    elf = str(write_program(tmp_path / "prog.elf", code))
    m = Machine(ncpus=ncpus, threads=threads, console=Console(out=None))
    m.engine.regions = regions
    ref = Machine(ncpus=ncpus, interp=True, console=Console(out=None))
    m.load_elf(elf)
    ref.load_elf(elf)
    assert m.run() == 0 and ref.run() == 0
    return m, ref


@pytest.mark.parametrize("regions", [False, True], ids=["blocks", "regions"])
@pytest.mark.parametrize("threads", ["single", "multi"])
def test_an_arm_block_goes_on_past_a_branch_not_taken_and_counts_exactly(tmp_path: Path, threads: str,
                                                                         regions: bool) -> None:
    n = 3000
    code, loop = arm_program(n)
    m, ref = run_both(tmp_path, code, threads, regions)
    v = m.vcpus[0]
    assert (v.R[7], v.R[8]) == arm_expected(n)
    assert ref.vcpus[0].R[:15] == v.R[:15]
    assert ref.vcpus[0].counters.insns == v.counters.insns
    # the block at the loop's head runs through the BEQ to the loop's own BNE, and loops on itself
    head = [tb for tb in m.cache.map.values() if tb.pc == loop and tb.local is None]
    if not regions:
        assert head and loop + 4 * 9 in head[0].insn_pcs and head[0].counter is not None
        # per multiple of 3: the head's run up to it, the multiple's block, the join's (blocks ending
        # at the BEQ would enter two blocks more for every other iteration, 7,000 in all)
        assert v.counters.tbs <= n + 10
    else:
        assert any(tb.local is not None for tb in m.cache.map.values())


def thumb_program(n: int) -> Tuple[List[int], int]:
    """For r1 = n down to 1: r0 += r1 unless r1 & 3 == 0, where the taken BEQ adds 100 to r0 and
    counts in r2 (T1 conditional branches, entered by BLX from ARM code; r6 keeps the return
    address). Returns the code and the loop's address."""
    halves = [
        0x4676,  # entry: mov r6, lr
        0x2200,  # movs r2, #0
        0x2000,  # movs r0, #0
        # loop (entry + 6):
        0x078B,  # lsls r3, r1, #30     (Z when r1 & 3 == 0)
        0xD003,  # beq multiple         (+4 + 6 = loop + 12)
        0x1840,  # adds r0, r0, r1
        # join (loop + 6):
        0x3901,  # subs r1, #1
        0xD1FA,  # bne loop             (join + 2 + 4 - 12 = loop)
        0x4730,  # bx r6
        # multiple (loop + 12):
        0x3064,  # adds r0, #100
        0x3201,  # adds r2, #1
        0xE7F9,  # b join
        0xBF00, 0xBF00,  # nops (pad to a word)
    ]
    tail = [0xE12FFF33, 0xE1A07000, 0xE1A08002] + exit_with(0, EXIT_BLOCK)  # blx r3; r7, r8 = r0, r2
    code = mov32(1, n)
    entry = BASE + 4 * (len(code) + 2 + len(tail))
    code += mov32(3, entry | 1) + tail
    assert BASE + 4 * len(code) == entry
    code += [halves[i] | halves[i + 1] << 16 for i in range(0, len(halves), 2)]
    return code, entry + 6


def thumb_expected(n: int) -> Tuple[int, int]:
    r0 = r2 = 0
    for r1 in range(n, 0, -1):
        if r1 & 3 == 0:
            r0, r2 = (r0 + 100) & 0xFFFFFFFF, r2 + 1
        else:
            r0 = (r0 + r1) & 0xFFFFFFFF
    return r0, r2


@pytest.mark.parametrize("regions", [False, True], ids=["blocks", "regions"])
def test_a_thumb_block_goes_on_past_a_branch_not_taken_and_counts_exactly(tmp_path: Path, regions: bool) -> None:
    n = 3000
    code, loop = thumb_program(n)
    m, ref = run_both(tmp_path, code, "single", regions)
    v = m.vcpus[0]
    assert (v.R[7], v.R[8]) == thumb_expected(n)
    assert ref.vcpus[0].R[:15] == v.R[:15]
    assert ref.vcpus[0].counters.insns == v.counters.insns
    if not regions:
        head = [tb for tb in m.cache.map.values() if tb.pc == loop]
        assert head and loop + 6 in head[0].insn_pcs and head[0].counter is not None


TLBIMVAA = 0xEE080F77  # mcr p15, 0, r0, c8, c7, 3
TLBIMVAAIS = 0xEE080F73  # mcr p15, 0, r0, c8, c3, 3


@pytest.mark.parametrize("threads", ["single", "multi"])
@pytest.mark.parametrize("op", [TLBIMVAA, TLBIMVAAIS], ids=["local", "broadcast"])
def test_a_page_by_page_tlb_flush_loop_runs_as_one_block(tmp_path: Path, threads: str, op: int) -> None:
    """The flush every page of a range loop Linux runs (mcr; add; cmp; bcc): each flush is done and
    recorded, the broadcast form on both vCPUs before the next instruction, and the loop stays in
    its block (vCPU 1, powered off, holds none of the pages: nobody is stopped)."""
    pages = 600
    code = mov32(0, 0x10000000) + mov32(1, 0x10000000 + pages * 4096)
    loop = BASE + 4 * len(code)
    code += [op, 0xE2800A01, 0xE1500001, bcond(loop + 12, loop, 0x3)]  # add r0, #4096; cmp r0, r1; bcc
    code += exit_with(0, EXIT_BLOCK)
    m, ref = run_both(tmp_path, code, threads, ncpus=2)
    flushes = [e for e in m.events.recent(10_000, {"tlb_flush"}) if e.vcpu == 0]
    assert len(flushes) == pages
    assert [e.info["va"] for e in flushes] == [0x10000000 + 4096 * i for i in range(pages)]
    broadcast = op == TLBIMVAAIS
    assert all(e.info["targets"] == ([0, 1] if broadcast else [0]) for e in flushes)
    assert m.vcpus[0].counters.insns == ref.vcpus[0].counters.insns
    assert m.vcpus[0].counters.tbs < pages // 10
    assert not any(e.info["stopped"] for e in flushes) and m.safe.count == 0


ICIMVAU = 0xEE070F35  # mcr p15, 0, r0, c7, c5, 1


@pytest.mark.parametrize("threads", ["single", "multi"])
def test_a_line_by_line_icache_invalidation_loop_runs_as_one_block(tmp_path: Path, threads: str) -> None:
    """Linux cleans and invalidates the code it wrote line by line (ICIMVAU every 64 bytes): over
    the loop's own page here. Its code has not changed, so nothing is dropped and the loop stays in
    its block; then code written by a store runs (the store dropped the stale block it replaced)."""
    lines = 4096 // 64
    code = mov32(0, BASE) + mov32(1, BASE + 4096) + [0xE3A04000]  # mov r4, #0
    loop = BASE + 4 * len(code)
    code += [ICIMVAU, 0xE2800040, 0xE1500001, bcond(loop + 12, loop, 0x3)]  # add r0, #64; cmp; bcc loop
    target = BASE + 4 * (len(code) + 6)
    code += mov32(2, target) + mov32(3, 0xE3A04007)  # the word for mov r4, #7
    code += [0xE5823000, ICIMVAU | 2 << 12]  # str r3, [r2]; mcr p15, 0, r2, c7, c5, 1
    assert BASE + 4 * len(code) == target
    code += [0xE3A04001] + exit_with(0, EXIT_BLOCK)  # mov r4, #1 (rewritten to #7 before it runs)
    m, ref = run_both(tmp_path, code, threads, ncpus=2)
    assert m.vcpus[0].R[4] == ref.vcpus[0].R[4] == 7
    assert m.vcpus[0].counters.insns == ref.vcpus[0].counters.insns
    assert m.vcpus[0].counters.tbs < lines // 4
