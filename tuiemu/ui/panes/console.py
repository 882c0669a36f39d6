"""The guest's console (UART and semihosting output). Focused, it is a terminal: every key typed
goes to the PL011's receive path; escape gives the keys back to the dashboard."""
from __future__ import annotations

from typing import Any, Callable, List

from rich.text import Text
from textual import events
from textual.widget import Widget

from ..model import Model

KEYS = {"enter": b"\r", "backspace": b"\x7f", "tab": b"\t", "up": b"\x1b[A", "down": b"\x1b[B",
        "right": b"\x1b[C", "left": b"\x1b[D", "delete": b"\x1b[3~", "home": b"\x1b[H", "end": b"\x1b[F"}


def screen_lines(data: bytes, height: int) -> List[str]:
    """The last ``height`` lines of console output. Linux ends its lines with CR LF; a line rewritten
    after a lone carriage return (a progress counter) shows what was written last."""
    lines = data.decode("utf-8", "replace").split("\n")[-height:]
    return [line.rstrip("\r").rsplit("\r", 1)[-1] for line in lines]


class ConsolePane(Widget, can_focus=True):
    DEFAULT_CSS = """
    ConsolePane { height: 1fr; padding: 0 1; }
    ConsolePane:focus { background: $boost; }
    """

    def __init__(self, model: Model, send: Callable[[bytes], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model = model
        self.send = send
        self.sent = 0  # bytes typed into the guest

    def refresh_view(self) -> None:
        self.refresh()

    def render(self) -> Text:
        height = max(1, self.size.height - 1)
        body = Text.from_ansi("\n".join(screen_lines(bytes(self.model.console[-64 * 1024:]), height)),
                              no_wrap=True, overflow="crop")
        hint = ("typing goes to the guest's UART · esc: back to dashboard keys" if self.has_focus
                else "i (or click): type into the guest's UART")
        out = Text(hint + f" · {self.sent} bytes sent\n", style="bold reverse" if self.has_focus else "dim")
        out.append_text(body)
        return out

    def on_key(self, event: events.Key) -> None:
        if event.key == "escape":
            self.screen.focus_next()
            event.stop()
            return
        data = KEYS.get(event.key)
        if data is None and event.character is not None:
            data = event.character.encode("utf-8", "replace")
        elif data is None and len(event.key) == 6 and event.key.startswith("ctrl+") and event.key[5].isalpha():
            data = bytes((ord(event.key[5].upper()) - 64,))  # ctrl+j is LF, ctrl+c ETX, as a terminal sends
        if data:
            self.send(data)
            self.sent += len(data)
            event.stop()
            event.prevent_default()
            self.refresh()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
