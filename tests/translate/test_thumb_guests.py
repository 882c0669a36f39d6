"""The Thumb conformance guests run through the CLI to exit status 0 with QEMU's recorded output:
thumb.elf (Thumb-2 code next to ARM code, interworking, IT blocks, SVC and semihosting from Thumb)
and newlib.elf (newlib's Thumb-2 library and startup code)."""
from __future__ import annotations

import pytest

from ..conftest import expected, guest, run_cli

THUMB_GUESTS = ["thumb", "newlib"]


@pytest.mark.parametrize("name", THUMB_GUESTS)
@pytest.mark.parametrize("mode", [[], ["--interp"], ["--threads", "single"]], ids=["translator", "interp", "single"])
def test_thumb_guest_matches_qemu(name: str, mode: list) -> None:
    r = run_cli(guest(name), *mode)
    assert r.out == expected(name), r.err
    assert r.code == 0, r.err
