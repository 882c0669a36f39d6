"""Numbers, addresses and tiny charts as the dashboard prints them: short, aligned, readable."""
from __future__ import annotations

from typing import Any, Iterable, NamedTuple, Optional, Sequence

from rich.text import Text

BARS = " ▁▂▃▄▅▆▇█"


def si(n: float, unit: str = "") -> str:
    """1234 -> '1.2k', 5_600_000 -> '5.6M'; small values as integers."""
    a = abs(n)
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            v = n / div
            return f"{v:.1f}{suffix}{unit}" if abs(v) < 100 else f"{v:.0f}{suffix}{unit}"
    return f"{n:.0f}{unit}" if isinstance(n, float) else f"{n}{unit}"


def count(n: int) -> str:
    """Exact counts with thousands separators (up to a million), k/M/G beyond."""
    return f"{n:,}" if abs(n) < 1_000_000 else si(n)


def duration_ns(ns: float) -> str:
    if ns < 1e3:
        return f"{ns:.0f} ns"
    if ns < 1e6:
        return f"{ns / 1e3:.1f} µs"
    if ns < 1e9:
        return f"{ns / 1e6:.1f} ms"
    return f"{ns / 1e9:.2f} s"


def percent(part: float, whole: float) -> str:
    return f"{100.0 * part / whole:.1f}%" if whole else "-"


def spark(values: Iterable[float], width: int, top: Optional[float] = None) -> str:
    """The last ``width`` values as block characters scaled to ``top`` (default: their maximum)."""
    vals = list(values)[-width:]
    hi = top if top is not None else max(vals, default=0)
    if hi <= 0:
        return (BARS[0] * len(vals)).rjust(width)
    cells = "".join(BARS[min(8, max(0, round(8 * v / hi)))] if v > 0 else BARS[0] for v in vals)
    return cells.rjust(width)


def hex32(v: int) -> str:
    return f"{v & 0xFFFFFFFF:08x}"


def where(image: Any, addr: int) -> str:
    """``symbol+0x1c`` (or the bare address when no symbol covers it)."""
    found = image.symbol_at(addr) if image is not None else None
    if found is None:
        return f"0x{addr:08x}"
    name, off = found
    return f"{name}+{off:#x}" if off else name


class Column(NamedTuple):
    title: str
    width: int
    right: bool = False   # right-aligned (numbers)
    narrow: bool = True   # shown when the pane is narrow


def cells(values: Sequence[Any], columns: Sequence[Column], wide: bool = True) -> Text:
    """One fixed-width row (cheaper to draw ten times a second than a Rich Table)."""
    out = Text()
    for col, value in zip(columns, values):
        if not (wide or col.narrow):
            continue
        cell = value.copy() if isinstance(value, Text) else Text(str(value))
        cell.truncate(col.width, overflow="ellipsis")
        if col.right:
            cell.pad_left(col.width - cell.cell_len)
        else:
            cell.pad_right(col.width - cell.cell_len)
        out.append_text(cell)
        out.append(" ")
    out.rstrip()
    return out


def header(columns: Sequence[Column], wide: bool = True) -> Text:
    row = cells([c.title for c in columns], columns, wide)
    row.stylize("bold")
    return row
