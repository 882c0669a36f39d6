"""A live hex view of memory at an address or symbol the user types, through the selected vCPU's
MMU (virtual) or by physical address."""
from __future__ import annotations

from typing import Any, Callable, Optional

from rich.text import Text

from ..format import where
from ..model import Model
from .base import Pane


class MemoryPane(Pane):
    DEFAULT_CSS = """
    MemoryPane { height: 1fr; padding: 0 1; }
    """

    def __init__(self, model: Model, image: Any, peek: Callable[[int, int, int, bool], bytes], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model = model
        self.image = image
        self.peek = peek
        self.addr: Optional[int] = None
        self.physical = False
        self._last: Optional[bytes] = None  # previous read, to highlight bytes that changed

    def goto(self, addr: int) -> None:
        self.addr = addr & 0xFFFFFFFF
        self._last = None
        self.refresh_view()

    def refresh_view(self) -> None:
        if self.model.frame is None:
            return
        i = self.model.selected
        out = Text(no_wrap=True, overflow="ellipsis")
        if self.addr is None:
            out.append("m: show memory at an address or symbol (v: virtual/physical)", style="dim")
            self.show(out)
            return
        width = 16 if self.size.width >= 76 else 8
        rows = max(1, self.size.height - 1)
        how = "physical" if self.physical else f"virtual (cpu{i})"
        out.append(f"{self.addr:#010x} {where(self.image, self.addr)}  [{how}]\n", style="bold underline")
        try:
            data = self.peek(self.addr, width * rows, i, self.physical)
        except Exception as e:
            out.append(f"cannot read {self.addr:#010x}: {type(e).__name__}", style="red")
            self.show(out)
            return
        last = self._last if self._last is not None and len(self._last) == len(data) else data
        for r in range(rows):
            base = self.addr + r * width
            chunk = data[r * width:(r + 1) * width]
            out.append(f"{base & 0xFFFFFFFF:08x}  ", style="bold")
            for k, b in enumerate(chunk):
                style = "bold black on yellow" if b != last[r * width + k] else ("dim" if b == 0 else "")
                out.append(f"{b:02x}", style=style)
                out.append("  " if k % 8 == 7 else " ")
            out.append(" " + "".join(chr(b) if 32 <= b < 127 else "." for b in chunk))
            if r < rows - 1:
                out.append("\n")
        self._last = data
        self.show(out)
