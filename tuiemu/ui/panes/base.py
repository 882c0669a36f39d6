"""What every pane shares: redraw only when what it shows changed, and relayout only when its
height did (a relayout of the screen costs more than drawing a pane)."""
from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static


class Pane(Static):
    _shown_key: Any = None
    _shown_lines = -1

    def show(self, content: Any) -> None:
        """Display ``content`` (Rich Text, or any renderable) unless the same text is shown already."""
        key = (content.plain, tuple(content.spans)) if isinstance(content, Text) else None
        if key is not None and key == self._shown_key:
            return
        self._shown_key = key
        lines = content.plain.count("\n") + 1 if isinstance(content, Text) else -2
        self.update(content, layout=lines != self._shown_lines or lines == -2)
        self._shown_lines = lines
