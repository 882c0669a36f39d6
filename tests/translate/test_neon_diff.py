"""Differential test: random Advanced SIMD sequences (A32 and T32) against Unicorn (QEMU's front
end, cortex-a15): core and extension registers, FPSCR (QC and the cumulative flags from the
"standard FPSCR value" float operations) and memory, and which encodings are UNDEFINED."""
from __future__ import annotations

from typing import Any, Dict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .neongen import NEON_CLASSES, a32, t32, unicorn_lax
from .vfpgen import FPStart, check, fp_starts

pytest.importorskip("unicorn")

# Index registers (Rm) for the loads and stores: small, 32-byte strides, so three post-indexed
# accesses stay inside the data buffer and aligned, as the base registers are.
STRIDES = st.tuples(*[st.sampled_from([0, 32, 64, 0xFFFFFFE0, 0xFFFFFFC0])] * 9)


def longest(name: str) -> int:
    """Sequences of up to three instructions; loads and stores one at a time: a write-back by the
    transfer size (Rm = 13) can leave the base unaligned for the next one, and Unicorn does not
    check Advanced SIMD alignment (tuiemu, as the ARM ARM, faults)."""
    return 1 if name == "ldst" else 3


def for_class(name: str, start: FPStart, data: st.DataObject) -> FPStart:
    if name != "ldst":
        return start
    regs = start.regs[:4] + data.draw(STRIDES, label="strides") + start.regs[13:]
    return start._replace(regs=regs)


SETTINGS: Dict[str, Any] = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                       HealthCheck.filter_too_much])


@pytest.mark.slow  # the long run; the T32 variant below covers every class quickly
@pytest.mark.parametrize("name", sorted(NEON_CLASSES))
@settings(max_examples=60, **SETTINGS)
@given(data=st.data(), start=fp_starts)
def test_class_a32(name: str, data: st.DataObject, start: FPStart) -> None:
    bodies = data.draw(st.lists(NEON_CLASSES[name], min_size=1, max_size=longest(name)), label="bodies")
    check([a32(b) for b in bodies], for_class(name, start, data), undefined=lambda w: unicorn_lax(w, False))


@pytest.mark.parametrize("name", sorted(NEON_CLASSES))
@settings(max_examples=25, **SETTINGS)
@given(data=st.data(), start=fp_starts)
def test_class_t32(name: str, data: st.DataObject, start: FPStart) -> None:
    bodies = data.draw(st.lists(NEON_CLASSES[name], min_size=1, max_size=longest(name)), label="bodies")
    check([t32(b) for b in bodies], for_class(name, start, data), thumb=True, undefined=lambda w: unicorn_lax(w, True))


def test_vswp_of_two_d_registers_swaps_both() -> None:
    """VSWP d18, d0 (a swap must read both registers before writing either)."""
    regs = (0x40080100,) * 4 + (0,) * 11
    d = tuple(0x8000000000000000 if i == 18 else (0x1234 if i == 0 else 0) for i in range(32))
    check([0xF3F22000], FPStart(regs, 0, d, 0))
    check([t32((1, 0xF22000, False))], FPStart(regs, 0, d, 0), thumb=True)
