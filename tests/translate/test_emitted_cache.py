"""What emitting a block produced, kept in the code cache (translate/codecache.py, ``remember`` and
``recall``): a later machine gets back exactly the block it would have emitted, and a block whose
code or literals changed, or that a breakpoint on its page would change, is emitted again."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from tuiemu.devices.console import Console
from tuiemu.machine import Machine
from tuiemu.translate import codecache

from ..conftest import guest, guest_cpus
from ..elfgen import BASE, exit_with, mov32, write_program

LITERAL = 32  # the word index of the literal the LDR reads


def program(add: int, literal: int, far_word: int = 0) -> List[int]:
    """r4 = 5 + ``add`` + a literal from the page; exit 0. One page of code: ``far_word`` is its last
    word, read by nothing."""
    code = [0xE3A00005, 0xE2800000 | add, 0xE59F3000 | (4 * LITERAL - 16),  # mov r0, #5; add; ldr r3, lit
            0xE0800003, 0xE1A04000] + exit_with(0, BASE + 0x8000)  # add r0, r0, r3; mov r4, r0
    code += [0] * (1024 - len(code))
    code[LITERAL], code[-1] = literal, far_word
    return code


def run(tmp_path: Path, code: List[int], name: str) -> Tuple[int, Machine]:
    m = Machine(threads="single", console=Console(out=None))
    m.load_elf(str(write_program(tmp_path / f"{name}.elf", code)))
    assert m.run() == 0, m.stop_message
    return m.vcpus[0].R[4], m


def blocks(m: Machine) -> Dict[Tuple[int, int, int], tuple]:
    """Everything a TB is built from, per cache key (regions left out: they are always emitted);
    its source as the TB inspector gets it (a recalled block's is emitted again then)."""
    return {key: (m.tb_info(tb.pc, tb.flags).source, tb.owners, tb.insn_pcs, tb.exits, tb.size, tb.saves,
                  tb.counter, tb.insn_it, tb.ranges, tb.code_bytes, tb.pages, tb.count)
            for key, tb in m.cache.map.items() if tb.local is None}


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache file of the test's own, and no process-wide cache object kept from another test."""
    d = tmp_path / "cache"
    monkeypatch.setenv("TUIEMU_CODE_CACHE", str(d))
    monkeypatch.setattr(codecache, "_shared", {})
    return d


def emitted_found(m: Machine) -> int:
    return m.translator.emitted_found


def test_a_recalled_block_is_the_block_emitting_gives(tmp_path: Path, cache_dir: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    code = program(3, 100)
    r4, first = run(tmp_path, code, "first")
    assert r4 == 108 and emitted_found(first) == 0
    again, held = run(tmp_path, code, "held")  # from the entries not yet written to the file
    assert again == 108 and emitted_found(held) == len(blocks(held)) > 0
    codecache.shared(cache_dir).flush()
    monkeypatch.setattr(codecache, "_shared", {})  # a new process: from the file
    again, read = run(tmp_path, code, "read")
    assert all(not tb.source for tb in read.cache.map.values())  # the cache keeps no source
    assert again == 108 and emitted_found(read) == len(blocks(read))
    assert blocks(read) == blocks(first) == blocks(held)
    assert all(tb.source for tb in read.cache.map.values())


def test_a_block_whose_code_or_literal_changed_is_emitted_again(tmp_path: Path, cache_dir: Path) -> None:
    assert run(tmp_path, program(3, 100), "a")[0] == 108
    r4, m = run(tmp_path, program(4, 100), "b")  # another immediate
    assert r4 == 109 and emitted_found(m) == 0
    r4, m = run(tmp_path, program(4, 7), "c")  # another literal
    assert r4 == 16 and emitted_found(m) == 0
    r4, m = run(tmp_path, program(4, 7, far_word=0xE7F000F0), "d")  # a word on the page no block reads
    assert r4 == 16 and emitted_found(m) == len(blocks(m)) > 0
    r4, m = run(tmp_path, program(3, 100), "e")  # the first version again: the cache holds both
    assert r4 == 108 and emitted_found(m) == len(blocks(m))


def test_a_breakpoint_on_the_page_is_not_given_a_recalled_block(tmp_path: Path, cache_dir: Path) -> None:
    code = program(3, 100)
    run(tmp_path, code, "first")
    m = Machine(threads="single", console=Console(out=None))
    m.load_elf(str(write_program(tmp_path / "bp.elf", code)))
    hit = threading.Event()
    m.runctl.listeners.append(lambda v, reason: hit.set())
    m.runctl.add_breakpoint(BASE + 4)  # the ADD: the first block stops before it
    m.start()
    assert hit.wait(30)
    v = m.vcpus[0]
    assert v.R[15] == BASE + 4 and v.R[0] == 5 and emitted_found(m) == 0
    m.runctl.remove_breakpoint(BASE + 4)
    m.runctl.resume()
    m._thread.join(60)
    assert m.exit_code == 0 and v.R[4] == 108


def test_without_a_cache_file_nothing_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUIEMU_CODE_CACHE", "off")
    monkeypatch.setattr(codecache, "_shared", {})
    code = program(3, 100)
    assert run(tmp_path, code, "a")[0] == 108
    r4, m = run(tmp_path, code, "b")
    assert r4 == 108 and emitted_found(m) == 0


def test_constants_are_kept_by_reference() -> None:
    """A block's constants come back as the very objects it was emitted with (code compares some
    by identity, as ``fmt is F64``); an object tuiemu does not hold at module level is not kept."""
    from tuiemu.translate.fp.softfloat import F32, F64
    from tuiemu.translate.sem.loadstore import rt_ldrex

    consts = {"F64": F64, "F32": F32, "LDREX": rt_ldrex}
    refs = codecache.refer(consts)
    assert refs is not None
    back = codecache.resolve(refs)
    assert all(back[k] is v for k, v in consts.items())
    assert codecache.refer({"X": (1, 2, 3)}) is None
    assert codecache.refer({"f": lambda: None}) is None


@pytest.mark.parametrize("name", ["thumb", "newlib", "mmu"])
def test_a_conformance_guest_gets_back_every_block_as_emitted(name: str, cache_dir: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A guest's blocks (ARM and Thumb, IT blocks, literal pools, MMU on) from the file are the
    blocks emitting gives, sources included."""
    def boot() -> Machine:
        m = Machine(ncpus=guest_cpus(name), threads="single", console=Console(out=None))
        m.load_elf(str(guest(name)))
        assert m.run() == 0, m.stop_message
        return m
    first = boot()
    codecache.shared(cache_dir).flush()
    monkeypatch.setattr(codecache, "_shared", {})
    second = boot()
    assert emitted_found(first) == 0 and emitted_found(second) > 0.9 * len(blocks(second))
    before, again = blocks(first), blocks(second)
    common = set(before) & set(again)
    assert len(common) > 0.9 * len(again) > 0 and all(again[k] == before[k] for k in common)


def straddle_program() -> List[int]:
    """ARM code calls Thumb code whose last block on the page ends where a 32-bit instruction
    (mov.w r0, #1) straddles the page end (the front end decided that from the halfword after the block); the
    next halfwords add 5 and return: r4 = 6, exit 0."""
    entry = BASE + 0xF00
    code = mov32(3, entry | 1) + [0xE12FFF33, 0xE1A04000] + exit_with(0, BASE + 0x8000)  # blx r3; r4 = r0
    halves = [0x2000] + [0xBF00] * ((0xFFE - 0xF02) // 2) + [0xF04F, 0x0001, 0x3005, 0x4770, 0xBF00]  # movs, nops
    code += [0] * ((entry - BASE) // 4 - len(code))
    return code + [halves[i] | halves[i + 1] << 16 for i in range(0, len(halves), 2)]


def test_a_thumb_block_cut_before_a_straddling_instruction_gets_its_source_back(
        tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = run(tmp_path, straddle_program(), "first")
    codecache.shared(cache_dir).flush()
    monkeypatch.setattr(codecache, "_shared", {})
    second = run(tmp_path, straddle_program(), "second")
    assert first[0] == second[0] == 6
    cut = [tb for tb in second[1].cache.map.values() if tb.pc + tb.size == BASE + 0xFFE]
    assert len(cut) == 1 and not cut[0].source  # recalled
    assert blocks(second[1]) == blocks(first[1])

