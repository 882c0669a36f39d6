"""Handler registry: the pattern tables name handlers, the semantic modules register them."""
from __future__ import annotations

from typing import Callable, Dict

from ..codegen import Block
from ..decodetree import Args

Handler = Callable[[Block, Args], None]
HANDLERS: Dict[str, Handler] = {}


def handler(*names: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for n in names:
            if n in HANDLERS:
                raise ValueError(f"handler {n} registered twice")
            HANDLERS[n] = fn
        return fn
    return register
