"""The pattern tables are consistent: every named handler exists, every pattern is reachable."""
from __future__ import annotations

from tuiemu.translate import sem  # noqa: F401
from tuiemu.translate.a32_table import A32_DECODER, A32_PATTERNS
from tuiemu.translate.sem.registry import HANDLERS


def test_every_a32_handler_is_registered() -> None:
    missing = sorted({p.handler for p in A32_PATTERNS} - set(HANDLERS))
    assert not missing


def test_every_a32_pattern_decodes_to_itself() -> None:
    """The pattern's own fixed bits (don't-cares zero, fields set to a value no earlier, more specific
    pattern claims) decode to that pattern: no entry is shadowed by an earlier one."""
    for p in A32_PATTERNS:
        found = False
        for fill in (0, 0xFFFFFFFF, 0x55555555, 0xAAAAAAAA, 0x0E0E0E0E):
            word = p.value | (fill & ~p.mask)
            if any(word & m == v for m, v in p.excludes):
                continue
            d = A32_DECODER.decode(word)
            if d is not None and d[0] is p:
                found = True
                break
        assert found, f"{p.name} is never selected"
