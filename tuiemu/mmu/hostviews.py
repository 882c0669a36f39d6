"""Byte, halfword and word views of host memory, in the form each runtime indexes fastest.

Translated code, the soft TLB's store path and the exclusive monitor index RAM as ``M32[i]``
(word ``i``), ``M16[i]``, ``M8[i]`` and slice ``M8[a:b]``. On CPython a memoryview cast does that
in C. On PyPy the JIT does not see through memoryview indexing (about 100 ns an access, measured
side by side with the other forms), while ``struct.unpack_from``/``pack_into`` on the same buffer
become a plain load or store in its traces: 30-100x faster on PyPy, a little slower on CPython.
So PyPy gets small view classes over ``struct``, CPython the casts; both index the same buffer,
so a write through either is seen by every other view and by slice reads of the buffer itself.
"""
from __future__ import annotations

import os
import struct
import sys
from typing import Any, Tuple

# "cast" (memoryview casts) or "struct" (the classes below). TUIEMU_MEMORY_VIEWS picks one, so that
# tests run the other runtime's form and bench/ can time both on one runtime.
FORM = os.environ.get("TUIEMU_MEMORY_VIEWS") or ("struct" if sys.implementation.name == "pypy" else "cast")
if FORM not in ("cast", "struct"):
    raise ValueError(f"TUIEMU_MEMORY_VIEWS={FORM!r}: expected 'cast' or 'struct'")


def _view_class(fmt: str, shift: int) -> type:
    """A view indexing ``buf`` in units of ``struct`` format ``fmt`` (1 << shift bytes); a slice
    (bytes only, for bulk copies) goes to the buffer itself."""
    unpack = struct.Struct(fmt).unpack_from
    pack = struct.Struct(fmt).pack_into

    class View:
        __slots__ = ("buf",)

        def __init__(self, buf: Any) -> None:
            self.buf = buf

        def __getitem__(self, i: Any) -> Any:
            if type(i) is int:
                return unpack(self.buf, i << shift)[0]
            return self.buf[i]

        def __setitem__(self, i: Any, value: Any) -> None:
            if type(i) is int:
                pack(self.buf, i << shift, value)
            else:
                self.buf[i] = value

        def __len__(self) -> int:
            return len(self.buf) >> shift

    View.__name__ = View.__qualname__ = f"View{8 << shift}"
    return View


_U8, _U16, _U32 = _view_class("B", 0), _view_class("<H", 1), _view_class("<I", 2)


def views(buf: Any, form: str = "") -> Tuple[Any, Any, Any]:
    """(bytes, halfwords, words) views of ``buf`` (an mmap or bytes); ``form`` overrides FORM.
    A cast needs a whole number of units: a buffer of odd size keeps byte views for the others."""
    if (form or FORM) == "struct":
        return _U8(buf), _U16(buf), _U32(buf)
    m8 = memoryview(buf)
    n = len(buf)
    return m8, m8.cast("H") if n % 2 == 0 else m8, m8.cast("I") if n % 4 == 0 else m8
