"""Regions (translate/region.py): a hot loop through several blocks runs as one function and gives
the same results as blocks, as the one-instruction reference mode and as the loop's own arithmetic;
a leaf function it calls is part of it (its return goes on inside the region), it stops at a
breakpoint set inside it, leaves when code it covers is rewritten while it runs, and takes timer
interrupts."""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import List, Tuple

import pytest

from tuiemu.core.state import TBF_THUMB
from tuiemu.devices.console import Console
from tuiemu.machine import Machine
from tuiemu.translate.tbcache import TB

from ..elfgen import BASE, branch, exit_with, mov32, write_program

EXAMPLES = Path(__file__).parent.parent.parent / "examples"
SUBS = 0xE2511001  # subs r1, r1, #1


def loop_program(n: int) -> Tuple[List[int], dict]:
    """r1 = n down to 1: odd r1 adds 3 to r0 and counts in r2; even r1 calls a leaf that folds r0
    (r0 += r0 >> 3; r0 ^= 0x55) and returns with BX LR into the middle of the loop. Then r4, r5 =
    r0, r2 and exit 0. Returns the code and the addresses of its parts."""
    code = mov32(1, n) + [0xE3A00000, 0xE3A02000]  # r1 = n, r0 = 0, r2 = 0
    at = {"loop": BASE + 4 * len(code)}
    code += [0xE3110001, 0]  # tst r1, #1; beq even (patched below)
    at["odd"] = BASE + 4 * len(code)
    code += [0xE2800003, 0xE2822001, 0]  # add r0, r0, #3; add r2, r2, #1; b join
    at["even"] = BASE + 4 * len(code)
    code += [0]  # bl leaf
    at["join"] = BASE + 4 * len(code)
    code += [SUBS, 0]  # subs r1, r1, #1; bne loop
    code += [0xE1A04000, 0xE1A05002] + exit_with(0, BASE + 0x8000)  # r4, r5 = r0, r2; exit
    at["leaf"] = BASE + 4 * len(code)
    code += [0xE08001A0, 0xE2200055, 0xE12FFF1E]  # add r0, r0, r0, lsr #3; eor r0, r0, #0x55; bx lr

    def put(addr: int, word: int) -> None:
        code[(addr - BASE) // 4] = word
    put(at["loop"] + 4, (branch(at["loop"] + 4, at["even"]) & 0x0FFFFFFF) | 0x00000000)  # beq
    put(at["odd"] + 8, branch(at["odd"] + 8, at["join"]))
    put(at["even"], branch(at["even"], at["leaf"], link=True))
    put(at["join"] + 4, (branch(at["join"] + 4, at["loop"]) & 0x0FFFFFFF) | 0x10000000)  # bne
    return code, at


def expected(n: int) -> Tuple[int, int]:
    r0 = r2 = 0
    for r1 in range(n, 0, -1):
        if r1 & 1:
            r0, r2 = (r0 + 3) & 0xFFFFFFFF, r2 + 1
        else:
            r0 = ((r0 + (r0 >> 3)) & 0xFFFFFFFF) ^ 0x55
    return r0, r2


def machine(tmp_path: Path, n: int, threads: str = "single", interp: bool = False) -> Tuple[Machine, dict]:
    code, at = loop_program(n)
    m = Machine(threads=threads, interp=interp, console=Console(out=None))
    m.load_elf(str(write_program(tmp_path / "loop.elf", code)))
    return m, at


@pytest.mark.parametrize("threads", ["single", "multi"])
def test_a_loop_through_several_blocks_becomes_a_region_and_computes_the_same(tmp_path: Path,
                                                                             threads: str) -> None:
    n = 5000
    m, at = machine(tmp_path, n, threads)
    ref, _ = machine(tmp_path, n, interp=True)
    check_loop_run(m, ref, n, expected(n), {at["loop"], at["odd"] + 4, at["join"], at["leaf"]})
    assert loop_region(m, at).execs > 0


def check_loop_run(m: Machine, ref: Machine, n: int, results: Tuple[int, int], pcs: set) -> None:
    """Run the loop (``n`` iterations) translated and in the one-instruction mode: r4, r5 are ``results``, one
    region holds the instructions at ``pcs`` (the leaf's too, so its return stays inside and the
    region leaves only at its limit: else about n / 2 + 800 blocks), and both modes agree."""
    assert m.run() == 0
    v = m.vcpus[0]
    assert (v.R[4], v.R[5]) == results
    regions = [tb for tb in m.cache.map.values() if tb.local is not None]
    assert any(pcs <= set(tb.insn_pcs) for tb in regions)
    assert v.counters.tbs < n // 4
    assert ref.run() == 0
    assert ref.vcpus[0].R[:15] == v.R[:15] and ref.vcpus[0].counters.insns == v.counters.insns


# The same shape in Thumb-2, with an IT block inside the loop (source in the comments; entered
# with BLX from ARM code, r6 keeps the return address):
THUMB_LOOP = [
    0x4676,          # loop_entry: mov r6, lr
    0xF011, 0x0F01,  # loop: tst.w r1, #1
    0xD004,          #   beq even
    0x3003,          #   adds r0, #3
    0x2964,          #   cmp r1, #100
    0xBF38,          #   it lo
    0x3207,          #   addlo r2, #7
    0xE001,          #   b join
    0xF000, 0xF803,  # even: bl leaf
    0x3901,          # join: subs r1, #1
    0xD1F3,          #   bne loop
    0x4730,          #   bx r6
    0xEB00, 0x00D0,  # leaf: add.w r0, r0, r0, lsr #3
    0xF080, 0x0055,  #   eor.w r0, r0, #0x55
    0x4770,          #   bx lr
    0xBF00,          #   (nop: pads to a word)
]


def thumb_machine(tmp_path: Path, n: int, threads: str = "single", interp: bool = False) -> Tuple[Machine, int]:
    """The Thumb loop run from ARM code for r1 = n; r4, r5 = r0, r2 at the exit. Returns the
    machine and the loop's address."""
    tail = [0xE12FFF33, 0xE1A04000, 0xE1A05002] + exit_with(0, BASE + 0x8000)  # blx r3; r4, r5 = r0, r2
    code = mov32(1, n) + [0xE3A00000, 0xE3A02000]  # r1 = n, r0 = 0, r2 = 0
    entry = BASE + 4 * (len(code) + 2 + len(tail))  # the Thumb code follows the ARM part
    code += mov32(3, entry | 1) + tail
    assert BASE + 4 * len(code) == entry
    code += [THUMB_LOOP[i] | THUMB_LOOP[i + 1] << 16 for i in range(0, len(THUMB_LOOP), 2)]
    m = Machine(threads=threads, interp=interp, console=Console(out=None))
    m.load_elf(str(write_program(tmp_path / "thumb_loop.elf", code)))
    return m, entry + 2


def thumb_expected(n: int) -> Tuple[int, int]:
    r0 = r2 = 0
    for r1 in range(n, 0, -1):
        if r1 & 1:
            r0 = (r0 + 3) & 0xFFFFFFFF
            r2 += 7 if r1 < 100 else 0
        else:
            r0 = ((r0 + (r0 >> 3)) & 0xFFFFFFFF) ^ 0x55
    return r0, r2


@pytest.mark.parametrize("threads", ["single", "multi"])
def test_a_thumb_loop_with_an_it_block_becomes_a_region_and_computes_the_same(tmp_path: Path,
                                                                             threads: str) -> None:
    n = 5000
    m, loop = thumb_machine(tmp_path, n, threads)
    ref, _ = thumb_machine(tmp_path, n, interp=True)
    check_loop_run(m, ref, n, thumb_expected(n), {loop, loop + 0x14, loop + 0x1A})  # loop, join, leaf
    assert all(tb.flags & TBF_THUMB for tb in m.cache.map.values() if tb.local is not None)


def loop_region(m: Machine, at: dict) -> TB:
    """The region made of the loop's blocks (its head is whichever of them got hot first)."""
    found = [tb for tb in m.cache.map.values() if tb.local is not None and at["join"] in tb.insn_pcs]
    assert len(found) == 1
    return found[0]


def wait_for(cond, timeout: float = 30.0) -> None:
    t0 = time.monotonic()
    while not cond():
        assert time.monotonic() - t0 < timeout, "timed out"
        time.sleep(0.005)


@pytest.mark.parametrize("threads", ["single", "multi"])
def test_a_breakpoint_set_inside_a_running_region_stops_there(tmp_path: Path, threads: str) -> None:
    n = 2_000_000
    m, at = machine(tmp_path, n, threads)
    hits = []
    hit = threading.Event()
    m.runctl.listeners.append(lambda v, reason: (hits.append((v.R[15], reason)), hit.set()))
    m.start()
    wait_for(lambda: m.cache.stats.regions >= 1)
    m.runctl.add_breakpoint(at["odd"] + 4)  # add r2, r2, #1: inside the region, not its head
    assert hit.wait(30)
    v = m.vcpus[0]
    assert v.R[15] == at["odd"] + 4
    r1, r2 = v.R[1], v.R[2]
    m.runctl.remove_breakpoint(at["odd"] + 4)
    m.runctl.resume()
    m._thread.join(120)
    assert m.exit_code == 0 and (v.R[4], v.R[5]) == expected(n)
    assert r1 & 1 and r2 == (n - r1) // 2  # stopped before counting the current odd r1


@pytest.mark.parametrize("threads", ["single", "multi"])
def test_rewriting_code_a_running_region_covers_takes_effect(tmp_path: Path, threads: str) -> None:
    """The loop would run for ever; rewriting its decrement while it runs as a region ends it."""
    m, at = machine(tmp_path, 0x7FFFFFFF, threads)
    m.start()
    wait_for(lambda: m.cache.stats.regions >= 1)
    region = loop_region(m, at)
    m.write_memory(at["join"], (0xE0511001).to_bytes(4, "little"))  # subs r1, r1, r1: Z set, loop ends
    m._thread.join(60)
    assert m.exit_code == 0 and not region.valid


@pytest.mark.parametrize("threads", ["single", "multi"])
def test_timer_interrupts_and_cross_modified_code_meet_regions(threads: str) -> None:
    """The shipped demo's short run (hot prime-counting loops, timer interrupts and SGIs on four
    vCPUs, a function rewritten every round) with its loops run as regions: QEMU's output."""
    demo = EXAMPLES / "smp_demo"
    console = Console(out=None)
    console.capture = True
    m = Machine(ncpus=4, threads=threads, console=console, cmdline="smp_demo.elf rounds=2")
    m.load_elf(str(demo / "smp_demo.elf"))
    assert m.run() == 0
    assert bytes(console.captured) == (demo / "expected_rounds2.txt").read_bytes()
    # its three outer loops run as regions (the inner ones are single blocks that loop on
    # themselves, having gone on past their conditional branches)
    assert m.cache.stats.regions >= 3 and all(v.counters.irqs > 0 for v in m.vcpus)
