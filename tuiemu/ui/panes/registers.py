"""Registers of the selected vCPU: r0-r15, CPSR decoded, SPSR, key CP15 registers, and the banked
registers of every mode on demand; what changed since the previous stop is highlighted."""
from __future__ import annotations

from typing import Any, Set

from rich.text import Text

from ...core.snapshot import MODE_LABELS, RegisterView
from ..model import Model
from .base import Pane

NAMES = [f"r{n}" for n in range(13)] + ["sp", "lr", "pc"]
CHANGED = "bold black on yellow"


def decode_psr(psr: int) -> Text:
    """NZCVQ flags, GE, IT, E/A/I/F/T and the mode, the way a debugger shows them."""
    t = Text()
    for bit, name in ((31, "N"), (30, "Z"), (29, "C"), (28, "V"), (27, "Q")):
        t.append(name if psr >> bit & 1 else name.lower(), style="bold" if psr >> bit & 1 else "dim")
    t.append(f" GE={psr >> 16 & 0xF:04b}")
    it = ((psr >> 8) & 0xFC) | ((psr >> 25) & 3)
    if it:
        t.append(f" IT={it:#04x}")
    for bit, name in ((9, "E"), (8, "A"), (7, "I"), (6, "F"), (5, "T")):
        t.append(" " + (name if psr >> bit & 1 else name.lower()), style="bold" if psr >> bit & 1 else "dim")
    t.append(f" {MODE_LABELS.get(psr & 0x1F, hex(psr & 0x1F))}", style="bold cyan")
    return t


def decode_sctlr(v: int) -> str:
    bits = ((0, "M"), (1, "A"), (2, "C"), (11, "Z"), (12, "I"), (13, "V"), (29, "AFE"), (30, "TE"))
    return " ".join(n for b, n in bits if v >> b & 1) or "-"


class RegistersPane(Pane):
    DEFAULT_CSS = """
    RegistersPane { height: auto; padding: 0 1; }
    """

    def __init__(self, model: Model, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model = model
        self.show_banked = False

    def refresh_view(self) -> None:
        frame = self.model.frame
        if frame is None:
            return
        i = self.model.selected
        regs = frame.registers[i]
        changed = self.model.changed(i, regs)
        cols = 4 if self.size.width >= 64 else 2
        self.show(self._text(regs, changed, cols))

    def _text(self, regs: RegisterView, changed: Set[str], cols: int) -> Text:
        out = Text(no_wrap=True)
        out.append(f"cpu{regs.index} registers", style="bold underline")
        out.append("   (highlighted: changed since the previous stop)\n", style="dim")
        for n in range(16):
            style = CHANGED if f"r{n}" in changed else ""
            out.append(f"{NAMES[n]:>4} ", style="bold")
            out.append(f"{regs.r[n]:08x}", style=style)
            out.append("\n" if n % cols == cols - 1 else "  ")
        out.append("cpsr ", style="bold")
        out.append(f"{regs.cpsr:08x}", style=CHANGED if "cpsr" in changed else "")
        out.append(" ")
        out.append_text(decode_psr(regs.cpsr))
        out.append("\nspsr ", style="bold")
        if regs.spsr is None:
            out.append("-", style="dim")
        else:
            out.append(f"{regs.spsr:08x}", style=CHANGED if "spsr" in changed else "")
            out.append(" ")
            out.append_text(decode_psr(regs.spsr))
        out.append("\n")
        cp = regs.cp15
        items = [(k, cp[k]) for k in ("SCTLR", "TTBR0", "TTBR1", "TTBCR", "DACR", "CONTEXTIDR", "VBAR", "DFSR",
                                      "DFAR", "IFSR", "IFAR", "PAR")]
        for n, (k, val) in enumerate(items):
            out.append(f"{k.lower():>10} ", style="bold")
            out.append(f"{val:08x}", style=CHANGED if k in changed else "")
            out.append("\n" if n % (cols // 2 or 1) == (cols // 2 or 1) - 1 else "  ")
        out.append(f"{'':>10} sctlr: {decode_sctlr(cp['SCTLR'])}\n", style="dim")
        if self.show_banked:
            out.append("banked (sp, lr, spsr) per mode:\n", style="bold underline")
            for mode, (sp, lr, spsr) in regs.banked.items():
                out.append(f"  {mode:<4} sp {sp:08x}  lr {lr:08x}  spsr {spsr:08x}\n")
            out.append("  FIQ  r8-r12 " + " ".join(f"{x:08x}" for x in regs.fiq_r8_12) + "\n")
        else:
            out.append("(a: banked registers of every mode)", style="dim")
        return out
