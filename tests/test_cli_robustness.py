"""Careless and hostile input to the command line: bad options, odd files, closed or full output.
Each gets one line on stderr and its documented status, and nothing the guest did is lost."""
from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

from tuiemu.exitcodes import EXIT_ASLEEP, EXIT_LOAD_ERROR, EXIT_MAX_INSNS, EXIT_OUTPUT, EXIT_PIPE
from tuiemu.translate.codegen import LOOP_LIMIT
from tuiemu.translate.translator import MAX_INSNS

from .conftest import REPO, expected, guest, run_cli
from .elfgen import BASE, branch, elf32_arm, exit_with, mov32, words, write_program

HELLO = guest("hello")
WFI = 0xE320F003


def one_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize("args, message", [
    (["-m", "-5"], "tuiemu: argument -m: memory size '-5' out of range: from 1M to 3G"),
    (["-m", "1000G"], "tuiemu: argument -m: memory size '1000G' out of range: from 1M to 3G"),
    (["-m", "lots"], "tuiemu: argument -m: bad memory size 'lots'"),
    (["--gdb", "99999"], "tuiemu: bad --gdb address '99999': expected [HOST:]PORT with a port from 0 to 65535"),
    (["--gdb=-1"], "tuiemu: bad --gdb address '-1': expected [HOST:]PORT with a port from 0 to 65535"),
    (["--gdb", "abc"], "tuiemu: bad --gdb address 'abc': expected [HOST:]PORT with a port from 0 to 65535"),
    (["--gdb="], "tuiemu: bad --gdb address '': expected [HOST:]PORT with a port from 0 to 65535"),
    (["-S"], "tuiemu: -S holds the vCPUs until a debugger lets them run: give --gdb PORT or -s (or --ui)"),
    (["-smp", "9"], "tuiemu: -smp must be between 1 and 8"),
    (["-smp", "two"], "tuiemu: argument -smp: invalid int value: 'two'"),
    (["--threads", "many"], "tuiemu: argument --threads: invalid choice: 'many'"),
    (["--trace", "/nonexistent-dir/t.json"],
     "tuiemu: cannot write the trace file /nonexistent-dir/t.json: No such file or directory"),
    (["--trace", "/"], "tuiemu: cannot write the trace file /: Is a directory"),
    (["--frobnicate"], "tuiemu: unrecognized arguments: --frobnicate"),
    (["--ui"], "tuiemu: the dashboard needs a terminal on stdout"),
])
def test_bad_options(args: List[str], message: str) -> None:
    r = run_cli(HELLO, *args, timeout=60)
    assert r.code == EXIT_LOAD_ERROR, r.err
    assert one_line(r.err).startswith(message), r.err
    assert r.out == b""  # rejected before anything ran


def test_memory_size_zero_is_the_default_as_in_qemu() -> None:
    r = run_cli(HELLO, "-m", "0", timeout=60)
    assert r.code == 0 and r.out.startswith(b"hello from the UART")


def test_port_in_use() -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    try:
        r = run_cli(HELLO, "--gdb", f"127.0.0.1:{s.getsockname()[1]}", timeout=60)
    finally:
        s.close()
    assert r.code == EXIT_LOAD_ERROR
    assert "cannot listen on 127.0.0.1:" in one_line(r.err) and "in use" in r.err


def test_segment_file_size_larger_than_memory_size(tmp_path: Path) -> None:
    blob = elf32_arm([(BASE, words(exit_with(0, BASE + 0x100)))], BASE)
    ph = bytearray(blob)
    filesz, = struct.unpack_from("<I", ph, 52 + 16)
    struct.pack_into("<I", ph, 52 + 20, filesz - 8)  # p_memsz < p_filesz
    f = tmp_path / "fat.elf"
    f.write_bytes(bytes(ph))
    r = run_cli(f)
    assert r.code == EXIT_LOAD_ERROR
    assert "file size larger than its memory size" in one_line(r.err)


def test_segment_is_zero_filled_to_its_memory_size(tmp_path: Path) -> None:
    """p_memsz beyond p_filesz reads as zero (the guest checks a word there and exits with it)."""
    block = BASE + 0x300
    code = mov32(0, BASE + 0x200) + [0xE5904000]  # ldr r4, [BASE + 0x200]: past the file's bytes
    code += mov32(2, 0x20026) + mov32(1, block) + [0xE5812000, 0xE5814004]  # block = {0x20026, r4}
    code += mov32(0, 0x20) + [0xEF123456]  # SYS_EXIT_EXTENDED: the status is the word read
    blob = bytearray(elf32_arm([(BASE, words(code))], BASE))
    struct.pack_into("<I", blob, 52 + 20, 0x400)  # p_memsz: 1 KiB, the rest zero-filled
    f = tmp_path / "bss.elf"
    f.write_bytes(bytes(blob))
    r = run_cli(f)
    assert r.code == 0, r.err


def test_symbol_table_of_the_wrong_type_is_a_warning(tmp_path: Path) -> None:
    src = HELLO.read_bytes()
    elf = bytearray(src)
    shoff, = struct.unpack_from("<I", elf, 32)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 46)
    stroff, = struct.unpack_from("<I", elf, shoff + shstrndx * shentsize + 16)
    for i in range(shnum):
        base = shoff + i * shentsize
        name, = struct.unpack_from("<I", elf, base)
        if elf[stroff + name:stroff + name + 8] == b".symtab\0":
            struct.pack_into("<I", elf, base + 4, 1)  # SHT_PROGBITS instead of SHT_SYMTAB
    f = tmp_path / "nosym.elf"
    f.write_bytes(bytes(elf))
    r = run_cli(f)
    assert r.code == 0 and r.out.startswith(b"hello from the UART")
    assert "warning" in one_line(r.err) and ".symtab" in r.err


def test_fifo_as_the_elf_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    r = run_cli(fifo, timeout=30)
    assert r.code == EXIT_LOAD_ERROR and "not a regular file" in one_line(r.err)


def test_directory_as_the_elf(tmp_path: Path) -> None:
    r = run_cli(tmp_path, timeout=30)
    assert r.code == EXIT_LOAD_ERROR and "is a directory" in one_line(r.err)


def chatty(tmp_path: Path) -> Path:
    """A guest that prints 'x\\n' to the UART forever."""
    loop = BASE + 16
    code = mov32(0, 0x09000000) + [0xE3A01078, 0xE3A0200A]  # r0 = UART; r1 = 'x'; r2 = '\n'
    code += [0xE5801000, 0xE5802000, branch(loop + 8, loop)]  # str r1; str r2; b loop
    return write_program(tmp_path / "chatty.elf", code)


def test_reader_closing_the_pipe_ends_the_run_quietly(tmp_path: Path) -> None:
    cmd = f"{sys.executable} -m tuiemu run {chatty(tmp_path)} | head -c 10; echo \"status=${{PIPESTATUS[0]}}\" >&2"
    p = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert p.stdout == "x\nx\nx\nx\nx\n"
    assert p.stderr.strip() == f"status={EXIT_PIPE}", p.stderr  # no traceback, no message


def test_full_disk_is_reported_once(tmp_path: Path) -> None:
    with open("/dev/full", "wb") as full:
        p = subprocess.run([sys.executable, "-m", "tuiemu", "run", str(chatty(tmp_path))], stdout=full,
                           stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, cwd=REPO, timeout=60)
    assert p.returncode == EXIT_OUTPUT
    assert one_line(p.stderr) == "tuiemu: cannot write the guest's output: No space left on device"


def test_closed_stdout() -> None:
    p = subprocess.run(["bash", "-c", f"{sys.executable} -m tuiemu run {HELLO} >&-"], capture_output=True,
                       text=True, cwd=REPO, timeout=60)
    assert p.returncode == EXIT_LOAD_ERROR
    assert one_line(p.stderr) == "tuiemu: stdout is closed: there is nowhere to write the guest's output"


@pytest.mark.parametrize("threads", ["multi", "single"])
@pytest.mark.parametrize("limit", [1, 2_000_000])
def test_max_insns_holds_within_a_block_per_vcpu(threads: str, limit: int) -> None:
    r = run_cli(guest("smp_atomics"), "-smp", "4", "--threads", threads, "--max-insns", str(limit), "--stats",
                timeout=120)
    assert r.code == EXIT_MAX_INSNS, r.err
    executed = int(next(ln for ln in r.err.splitlines() if ln.startswith("instructions executed:")).split()[-1])
    # whole blocks: at most one more block entry per vCPU (a self-looping one iterates LOOP_LIMIT times)
    assert limit <= executed <= limit + 4 * LOOP_LIMIT * MAX_INSNS, executed


@pytest.mark.parametrize("threads", ["multi", "single"])
def test_a_guest_asleep_forever_ends_the_run(tmp_path: Path, threads: str) -> None:
    elf = write_program(tmp_path / "sleep.elf", [WFI, branch(BASE + 4, BASE)])  # 1: wfi; b 1b (no timer)
    r = run_cli(elf, "--threads", threads, timeout=60)
    assert r.code == EXIT_ASLEEP
    assert one_line(r.err) == "tuiemu: every vCPU sleeps and nothing can wake one (cpu0 wfi at 0x40000004)"


def test_an_open_stdin_does_not_abort_the_exit(tmp_path: Path) -> None:
    """stdin stays open and silent while the guest prints and exits: the input pump is blocked in a
    read when the interpreter shuts down, which must not abort it (a buffered stream's lock held
    by a daemon thread did, about one exit in eight)."""
    for _ in range(12):
        with open(tmp_path / "err", "w+b") as err:
            p = subprocess.Popen([sys.executable, "-m", "tuiemu", "run", str(HELLO)], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=err, cwd=REPO)
            assert p.stdout is not None and p.stdin is not None
            out = p.stdout.read()  # to the end: the process has exited, its stdin still open
            p.wait(timeout=60)
            p.stdin.close()
            p.stdout.close()
            err.seek(0)
            assert p.returncode == 0 and out == expected("hello"), err.read().decode(errors="replace")
