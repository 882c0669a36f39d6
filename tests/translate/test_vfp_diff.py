"""Differential test: random VFP sequences (A32 and T32) give the same core registers, flags,
D0-D31, FPSCR and memory in tuiemu's translator, its interpreter mode and Unicorn (QEMU's ARM
front end, cortex-a15). Operands and FPSCR settings (rounding modes, flush-to-zero, default NaN,
alternative half precision, cumulative flags set or clear) are drawn by vfpgen."""
from __future__ import annotations

from typing import Any, Dict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .vfpgen import VFP_CLASSES, FPStart, a32_word, check, conds, fp_starts, thumb_word

pytest.importorskip("unicorn")

SETTINGS: Dict[str, Any] = dict(deadline=None, derandomize=False,
                               suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@pytest.mark.slow  # the long run; the T32 variant below covers every class quickly
@pytest.mark.parametrize("name", sorted(VFP_CLASSES))
@settings(max_examples=200, **SETTINGS)
@given(data=st.data(), start=fp_starts)
def test_class_a32(name: str, data: st.DataObject, start: FPStart) -> None:
    bodies = data.draw(st.lists(VFP_CLASSES[name], min_size=1, max_size=3), label="bodies")
    words = [a32_word(b, data.draw(conds)) for b in bodies]
    check(words, start)


@pytest.mark.parametrize("name", sorted(VFP_CLASSES))
@settings(max_examples=20, **SETTINGS)
@given(data=st.data(), start=fp_starts)
def test_class_t32(name: str, data: st.DataObject, start: FPStart) -> None:
    bodies = data.draw(st.lists(VFP_CLASSES[name], min_size=1, max_size=3), label="bodies")
    check([thumb_word(b) for b in bodies], start, thumb=True)
