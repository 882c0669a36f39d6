"""Both forms of the RAM views (mmu/hostviews.py) see one buffer, and guests run the same in each."""
from __future__ import annotations

import mmap
import os
import struct
import subprocess
import sys

import pytest

from tuiemu.mmu.hostviews import views

from ..conftest import expected, guest


@pytest.mark.parametrize("form", ["cast", "struct"])
def test_views_share_the_buffer(form: str) -> None:
    mm = mmap.mmap(-1, 4096)
    m8, m16, m32 = views(mm, form)
    m32[3] = 0x11223344
    assert (m8[12], m8[15], m16[6], m16[7]) == (0x44, 0x11, 0x3344, 0x1122)
    m16[7] = 0xBEEF
    m8[12] = 0xAA
    assert m32[3] == 0xBEEF33AA
    assert bytes(m8[12:16]) == mm[12:16] == bytes.fromhex("aa33efbe")
    m8[0:4] = b"\x01\x02\x03\x04"
    assert m32[0] == 0x04030201 and len(m32) == 1024 and len(m16) == 2048
    with pytest.raises((ValueError, TypeError, struct.error)):  # each runtime words it its way
        m32[0] = 1 << 32  # a value wider than the unit is a host bug, never silently truncated


@pytest.mark.parametrize("form", ["cast", "struct"])
def test_views_of_an_odd_sized_buffer_read_bytes(form: str) -> None:
    """A page copy at the end of a region may be cut short (frontend.PageCopy)."""
    m8, m16, m32 = views(b"\x01\x02\x03", form)
    assert m8[2] == 3 and bytes(m8[0:2]) == b"\x01\x02"


@pytest.mark.parametrize("name", ["mem", "thumb", "smp_atomics", "smc"])
def test_guests_match_qemu_in_the_other_form(name: str) -> None:
    """The form this runtime does not pick by default runs the guests to QEMU's output (PyPy's
    struct views under CPython, and the other way round)."""
    other = "cast" if sys.implementation.name == "pypy" else "struct"
    cpus = {"smp_atomics": "4", "smc": "2"}.get(name, "1")
    r = subprocess.run([sys.executable, "-m", "tuiemu", "run", str(guest(name)), "-smp", cpus],
                       capture_output=True, timeout=300, env={**os.environ, "TUIEMU_MEMORY_VIEWS": other})
    assert r.stdout == expected(name), r.stderr.decode(errors="replace")
    assert r.returncode == 0
