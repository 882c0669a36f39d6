"""Small modal screens: a one-line prompt, a text view (help, event details), a confirmation."""
from __future__ import annotations

from typing import Any, Optional

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static


class Prompt(ModalScreen[Optional[str]]):
    """Ask for one line (an address, a symbol, a filter); escape cancels (None)."""

    DEFAULT_CSS = """
    Prompt { align: center middle; }
    Prompt > Vertical { width: 70; max-width: 95%; height: auto; border: thick $accent; padding: 0 1;
                        background: $surface; }
    Prompt Label { width: 100%; }
    """
    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, question: str, value: str = "", hint: str = "") -> None:
        super().__init__()
        self.question = question
        self.value = value
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self.question, style="bold"))
            yield Input(value=self.value, id="answer")
            if self.hint:
                yield Label(Text(self.hint, style="dim"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class TextView(ModalScreen[None]):
    """A scrollable text (help, an event's details); escape or q closes it."""

    DEFAULT_CSS = """
    TextView { align: center middle; }
    TextView > VerticalScroll { width: 96; max-width: 98%; height: auto; max-height: 95%; border: thick $accent;
                                padding: 0 1; background: $surface; }
    """
    BINDINGS = [Binding("escape,q", "close", "close")]

    def __init__(self, body: Any, title: str = "") -> None:
        super().__init__()
        self.body = body
        self.title_text = title

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = self.title_text
            yield Static(self.body)

    def action_close(self) -> None:
        self.dismiss(None)
