"""A focusable list of pre-rendered rows that draws only what fits: the event log and the TB
list hold thousands of rows and change ten times a second, so nothing is kept per row."""
from __future__ import annotations

from typing import Any, List, Optional, Sequence

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget


class RowList(Widget, can_focus=True):
    DEFAULT_CSS = """
    RowList { height: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    """
    BINDINGS = [
        Binding("up", "move(-1)", "up", show=False),
        Binding("down", "move(1)", "down", show=False),
        Binding("pageup", "page(-1)", "page up", show=False),
        Binding("pagedown", "page(1)", "page down", show=False),
        Binding("home", "jump(0)", "first", show=False),
        Binding("end", "jump(-1)", "last", show=False),
        Binding("enter", "choose", "open", show=False),
    ]

    class Chosen(Message):
        """Enter (or a click) on a row."""

        def __init__(self, rowlist: RowList, index: int, key: Any) -> None:
            super().__init__()
            self.rowlist = rowlist
            self.index = index
            self.key = key

    def __init__(self, header: Optional[Text] = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.header = header
        self.rows: List[Text] = []
        self.keys: List[Any] = []
        self.cursor = 0
        self.top = 0
        self.empty = Text("(nothing yet)", style="dim")

    def set_rows(self, rows: Sequence[Text], keys: Sequence[Any]) -> None:
        """Replace the rows; the cursor stays on the same key when it is still there. Nothing is
        redrawn when the rows are the same as before."""
        if list(keys) == self.keys and all(a.plain == b.plain for a, b in zip(rows, self.rows)):
            return
        key = self.keys[self.cursor] if self.keys and self.cursor < len(self.keys) else None
        self.rows, self.keys = list(rows), list(keys)
        if key is not None and key in self.keys and self.cursor != 0:
            self.cursor = self.keys.index(key)
        self.cursor = min(self.cursor, max(0, len(self.rows) - 1))
        self._scroll_to_cursor()
        self.refresh()

    @property
    def chosen_key(self) -> Any:
        return self.keys[self.cursor] if self.keys else None

    def _visible(self) -> int:
        return max(1, self.size.height - (1 if self.header is not None else 0))

    def _scroll_to_cursor(self) -> None:
        h = self._visible()
        if self.cursor < self.top:
            self.top = self.cursor
        elif self.cursor >= self.top + h:
            self.top = self.cursor - h + 1
        self.top = max(0, min(self.top, max(0, len(self.rows) - h)))

    def render(self) -> Text:
        out = Text(no_wrap=True, overflow="ellipsis")
        if self.header is not None:
            out.append_text(self.header)
            out.append("\n")
        if not self.rows:
            out.append_text(self.empty)
            return out
        h = self._visible()
        for i in range(self.top, min(len(self.rows), self.top + h)):
            row = self.rows[i].copy()
            if i == self.cursor and self.has_focus:
                row.stylize("bold on #1f4e79")
            elif i == self.cursor:
                row.stylize("on grey23")
            out.append_text(row)
            if i < self.top + h - 1:
                out.append("\n")
        return out

    def action_move(self, delta: int) -> None:
        if self.rows:
            self.cursor = max(0, min(len(self.rows) - 1, self.cursor + delta))
            self._scroll_to_cursor()
            self.refresh()

    def action_page(self, delta: int) -> None:
        self.action_move(delta * self._visible())

    def action_jump(self, where: int) -> None:
        if self.rows:
            self.cursor = 0 if where == 0 else len(self.rows) - 1
            self._scroll_to_cursor()
            self.refresh()

    def action_choose(self) -> None:
        if self.rows:
            self.post_message(self.Chosen(self, self.cursor, self.keys[self.cursor]))

    def on_click(self, event: Any) -> None:
        row = event.y - (1 if self.header is not None else 0) + self.top
        if 0 <= row < len(self.rows):
            self.cursor = row
            self.refresh()
            if event.chain == 2:
                self.action_choose()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
