"""Bad input gets a clear one-line error and a distinct exit status; guest faults reach the guest."""
from __future__ import annotations

from pathlib import Path

from .conftest import run_cli
from .elfgen import BASE, UDF, branch, elf32_arm, exit_with, mov32, words, write_program


def one_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_missing_file(tmp_path: Path) -> None:
    r = run_cli(tmp_path / "nope.elf")
    assert r.code == 2
    assert "nope.elf" in one_line(r.err) and "no such file" in r.err


def test_not_an_elf(tmp_path: Path) -> None:
    f = tmp_path / "text.elf"
    f.write_text("hello\n")
    r = run_cli(f)
    assert r.code == 2
    assert "text.elf" in one_line(r.err)


def test_wrong_architecture(tmp_path: Path) -> None:
    f = tmp_path / "x86.elf"
    f.write_bytes(elf32_arm([(BASE, words([0] * 4))], BASE, machine=3))
    r = run_cli(f)
    assert r.code == 2
    assert "not a 32-bit little-endian ARM ELF" in one_line(r.err)


def test_truncated_elf(tmp_path: Path) -> None:
    f = tmp_path / "cut.elf"
    f.write_bytes(elf32_arm([(BASE, words(range(64)))], BASE)[:90])
    r = run_cli(f)
    assert r.code == 2
    assert "cut.elf" in one_line(r.err)


def test_segment_outside_memory(tmp_path: Path) -> None:
    f = tmp_path / "far.elf"
    f.write_bytes(elf32_arm([(0x20000000, words([0] * 4))], 0x20000000))
    r = run_cli(f)
    assert r.code == 2
    assert "outside RAM" in one_line(r.err)


def test_exit_status_is_the_guests(tmp_path: Path) -> None:
    r = run_cli(write_program(tmp_path / "exit.elf", exit_with(42, BASE + 0x1000)))
    assert r.code == 42 and r.err == ""


def test_undefined_instruction_without_vectors_stops_cleanly(tmp_path: Path) -> None:
    r = run_cli(write_program(tmp_path / "udf.elf", mov32(0, 1) + [UDF]))
    assert r.code == 3
    line = one_line(r.err)
    assert "undefined instruction 0xe7f000f0 at PC 0x40000008" in line


def test_undefined_instruction_reaches_guest_handler(tmp_path: Path) -> None:
    """With a vector table (VBAR = image base) the guest's Undefined handler runs."""
    code = [branch(BASE, BASE + 0x40)] + [branch(BASE + 4, BASE + 0x80)] + [0] * 14
    reset = mov32(0, BASE) + [0xEE0C0F10, 0xF57FF06F, UDF]  # mcr VBAR; isb; udf
    code += reset + [0] * (16 - len(reset))
    code += [0xE1A0400E] + exit_with(7, BASE + 0x1000)  # undef handler: r4 = lr; exit 7
    r = run_cli(write_program(tmp_path / "undef_vec.elf", code))
    assert r.code == 7, r.err


def test_data_abort_on_unmapped_address(tmp_path: Path) -> None:
    """An access to unmapped physical space is an external data abort for the guest."""
    code = [branch(BASE, BASE + 0x40)] + [0] * 3 + [branch(BASE + 0x10, BASE + 0x80)] + [0] * 11
    reset = mov32(0, BASE) + [0xEE0C0F10, 0xF57FF06F] + mov32(1, 0x3F000000) + [0xE5910000]  # nothing there
    code += reset + [0] * (16 - len(reset))
    # abort handler: exit with DFSR's status bits (0x08: synchronous external abort)
    code += [0xEE153F10, 0xE203300F] + mov32(1, BASE + 0x1000) + [0xE5813004] + mov32(2, 0x20026) + [
        0xE5812000] + mov32(0, 0x20) + [0xEF123456]
    r = run_cli(write_program(tmp_path / "dabt.elf", code))
    assert r.code == 8, r.err
