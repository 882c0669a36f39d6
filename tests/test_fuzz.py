"""Bounded fuzzing with fixed seeds: corrupted ELF headers and random A32/T32 code, with and without
a vector table. The emulator may refuse the file or the guest may fault, but nothing may escape as
a Python exception (the CLI's exit status 70), and every run ends."""
from __future__ import annotations

import random
import struct
from pathlib import Path

import pytest

from tuiemu.devices.console import Console
from tuiemu.loader import LoadError
from tuiemu.machine import Machine

from .conftest import guest, run_cli
from .elfgen import BASE, elf32_arm, mov32, words

pytestmark = pytest.mark.slow

HEADER_CASES = 200
CODE_CASES = 150
SEMIHOSTING = {0xEF123456}  # random code must not call the host (it could touch files)


def corrupt(data: bytes, rng: random.Random) -> bytes:
    """1-4 random bytes changed in the ELF header, the program headers or the section headers."""
    out = bytearray(data)
    phoff, shoff = struct.unpack_from("<II", data, 28)
    phnum = struct.unpack_from("<H", data, 44)[0]
    regions = [(0, 52), (phoff, phoff + 32 * phnum), (shoff, min(len(data), shoff + 40 * 8))]
    for _ in range(rng.randint(1, 4)):
        lo, hi = rng.choice(regions)
        pos = rng.randrange(lo, hi)
        out[pos] = rng.choice([0, 0xFF, rng.randrange(256), out[pos] ^ (1 << rng.randrange(8))])
    return bytes(out)


def test_corrupted_elf_headers_load_or_say_why(tmp_path: Path) -> None:
    rng = random.Random(1234)
    good = guest("hello").read_bytes()
    outcomes = {"refused": 0, "ran": 0}
    for case in range(HEADER_CASES):
        f = tmp_path / f"c{case}.elf"
        f.write_bytes(corrupt(good, rng))
        m = Machine(threads="single", console=Console(None))
        try:
            m.load_elf(str(f))
        except LoadError as e:
            assert str(e).startswith(str(f)), e  # the message names the file
            outcomes["refused"] += 1
            continue
        m.run(max_insns=20_000)  # a fault, an exit or the budget: anything but a Python exception
        outcomes["ran"] += 1
    assert outcomes["refused"] > 10 and outcomes["ran"] > 10, outcomes  # both paths were exercised


def random_program(rng: random.Random, thumb: bool, vectors: bool) -> bytes:
    """Random code at BASE + 0x100, entered in ARM or Thumb state; with ``vectors``, VBAR points at a
    table whose handlers return past the faulting instruction."""
    table = [0xEAFFFFFE] * 8
    if vectors:  # undef: movs pc, lr; svc: movs pc, lr; pabt/dabt: subs pc, lr, #4 / #8; irq/fiq: subs #4
        table = [0xEAFFFFFE, 0xE1B0F00E, 0xE1B0F00E, 0xE25EF004, 0xE25EF004, 0xEAFFFFFE, 0xE25EF004, 0xE25EF004]
    head = table + [0] * (0x40 // 4 - len(table))
    setup = mov32(0, BASE) + [0xEE0C0F10, 0xF57FF06F] if vectors else []  # VBAR = BASE (else none: 0)
    code_at = BASE + 0x100
    setup += [0xE59FC000, 0xE12FFF1C, code_at | thumb]  # ldr ip, [pc]; bx ip; .word target
    body = [w for w in (rng.getrandbits(32) for _ in range(32)) if w not in SEMIHOSTING]
    if thumb:  # Thumb SVC 0xab is semihosting too
        body = [w if (w & 0xFFFF) != 0xDFAB and (w >> 16) != 0xDFAB else 0xBF00BF00 for w in body]
    blob = head + setup
    blob += [0] * ((code_at - BASE) // 4 - len(blob)) + body
    return elf32_arm([(BASE, words(blob))], BASE + 0x40)


@pytest.mark.parametrize("thumb", [False, True], ids=["A32", "T32"])
@pytest.mark.parametrize("vectors", [False, True], ids=["no-vectors", "vectors"])
def test_random_code_never_crashes_the_emulator(tmp_path: Path, thumb: bool, vectors: bool) -> None:
    rng = random.Random(hash((thumb, vectors)) & 0xFFFF or 7)
    ended = {}
    for case in range(CODE_CASES // 2):
        f = tmp_path / f"r{case}.elf"
        f.write_bytes(random_program(rng, thumb, vectors))
        m = Machine(threads="single", console=Console(None), ram_size=4 << 20)
        m.load_elf(str(f))
        code = m.run(max_insns=5_000)
        ended[code] = ended.get(code, 0) + 1
    if not vectors:
        assert ended.get(3, 0) > 0, ended  # most random code faults, with nowhere to go: status 3


def test_random_code_through_the_cli(tmp_path: Path) -> None:
    """A few of them as a user runs them: one line on stderr at most, never an internal error."""
    rng = random.Random(99)
    for case in range(6):
        f = tmp_path / f"cli{case}.elf"
        f.write_bytes(random_program(rng, bool(case & 1), bool(case & 2)))
        r = run_cli(f, "--max-insns", "5000", "--threads", "single", timeout=60)
        assert r.code != 70 and "Traceback" not in r.err and "internal error" not in r.err, r.err
        assert len([ln for ln in r.err.splitlines() if ln.strip()]) <= 1, r.err
