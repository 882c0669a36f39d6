"""A semantic handler that returns False (the encoding is unallocated) makes the guest take the
Undefined Instruction exception, exactly as UDF does: in ARM and Thumb state, translated and
interpreted."""
from __future__ import annotations

import struct
from typing import Tuple

import pytest

from tuiemu.translate.sem.registry import HANDLERS

CODE = 0x40000000
VBAR = CODE + 0x800
LOOP = 0xEAFFFFFE  # b . : the Undefined vector's handler
MODE_UND, PSR_T = 0x1B, 1 << 5

# instruction set -> (code: a no-op, then the instruction under test; its handler; UDF in its place)
CASES = {
    "A32": (struct.pack("<II", 0xE1A00000, 0xE16F0F11), "clz", struct.pack("<II", 0xE1A00000, 0xE7F000F0)),
    "T16": (struct.pack("<HH", 0xBF00, 0xBA08), "rev", struct.pack("<HH", 0xBF00, 0xDE00)),
    "T32": (struct.pack("<HHH", 0xBF00, 0xF241, 0x2345), "movw", struct.pack("<HHH", 0xBF00, 0xF7F0, 0xA000)),
}


def _run(code: bytes, thumb: bool, interp: bool) -> Tuple[int, int, int, int]:
    """(PC, mode, LR, SPSR) once the vCPU sits in the Undefined vector's handler."""
    from tuiemu.machine import Machine

    m = Machine(threads="single", interp=interp, ram_size=1 << 20)
    m.space.write_bytes(CODE, code, force=True)
    m.space.write_bytes(VBAR + 4, struct.pack("<I", LOOP), force=True)
    v = m.vcpus[0]
    v.power_on(CODE | thumb)
    v.state.vbar = VBAR
    assert m.run(max_insns=20) is None, m.stop_message
    return v.R[15], v.state.mode, v.R[14], v.state.current_spsr


@pytest.mark.parametrize("interp", [False, True], ids=["translator", "interp"])
@pytest.mark.parametrize("isa", sorted(CASES))
def test_handler_returning_false_takes_the_undefined_exception(isa: str, interp: bool,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    code, name, udf = CASES[isa]
    thumb = isa != "A32"
    expected = _run(udf, thumb, interp)
    monkeypatch.setitem(HANDLERS, name, lambda b, a: False)
    got = _run(code, thumb, interp)
    assert got == expected
    pc, mode, lr, spsr = got
    insn = CODE + (2 if thumb else 4)
    assert (pc, mode, lr) == (VBAR + 4, MODE_UND, insn + (2 if thumb else 4))
    assert bool(spsr & PSR_T) == thumb


@pytest.mark.parametrize("interp", [False, True], ids=["translator", "interp"])
@pytest.mark.parametrize("word, passes", [
    (0x6C907700, False),  # ldclvs p7, c7, [r0]: V clear, so the coprocessor access never happens
    (0x17F000F0, False),  # a UDF pattern with cond NE after Z was set: not executed
    (0x0C907700, True),   # ldcleq: the condition passes, there is no coprocessor 7: Undefined
    (0x07F000F0, True),   # UDF pattern with cond EQ (Z set): Undefined
])
def test_failed_condition_comes_before_undefined(word: int, passes: bool, interp: bool) -> None:
    """A conditional A32 instruction in an unallocated or coprocessor encoding is a no-op when its
    condition fails (the condition check comes first, as in QEMU); it is Undefined when it passes."""
    movs = 0xE3B00000  # movs r0, #0: Z set, C and V clear
    done = struct.pack("<II", movs, word) + struct.pack("<I", LOOP)  # b . right after it
    pc, mode, _, _ = _run(done, False, interp)
    if passes:
        assert (pc, mode) == (VBAR + 4, MODE_UND)
    else:
        assert (pc, mode) == (CODE + 8, 0x13)  # still in SVC, looping at the next instruction
