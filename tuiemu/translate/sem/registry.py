"""Handler registry: the pattern tables name handlers, the semantic modules register them.

The calling convention is decodetree's: a handler gets the block being built and the decoded
fields, and returns True once it has emitted the instruction, or False, before emitting
anything, when the encoding is unallocated (UNDEFINED, or UNPREDICTABLE treated as UNDEFINED).
The translator then emits the Undefined Instruction exception (frontend.emit_insn, the one
place that does).
"""
from __future__ import annotations

from typing import Callable, Dict

from ..codegen import Block
from ..decodetree import Args

Handler = Callable[[Block, Args], bool]
HANDLERS: Dict[str, Handler] = {}


def handler(*names: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for n in names:
            if n in HANDLERS:
                raise ValueError(f"handler {n} registered twice")
            HANDLERS[n] = fn
        return fn
    return register
