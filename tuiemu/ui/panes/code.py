"""Code of the selected vCPU around its PC: disassembly (A32 or T32 after CPSR.T) with symbol
labels and breakpoint/PC markers, or the C source lines when the ELF has DWARF line info."""
from __future__ import annotations

import re
from typing import Any, Callable, Dict, Optional, Set

from rich.text import Text

from ..disasm import LineTable, disassemble, source_lines
from ..format import where
from ..model import Model
from .base import Pane

PC_MARK, BP_MARK = "▶", "●"
CONDS = "eq|ne|cs|hs|cc|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le|al"
BRANCH = re.compile(rf"(?:bl?x?|cbn?z)(?:{CONDS})?(?:\.w|\.n)?\s.*#0x([0-9a-f]+)$")


class CodePane(Pane):
    DEFAULT_CSS = """
    CodePane { height: 1fr; padding: 0 1; }
    """

    def __init__(self, model: Model, image: Any, peek: Callable[[int, int, int], bytes],
                 breakpoints: Callable[[], Dict[int, Set[str]]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model = model
        self.image = image
        self.peek = peek
        self.breakpoints = breakpoints
        self.lines: Optional[LineTable] = None  # set once the line table is read
        self.source_view = False

    def refresh_view(self) -> None:
        frame = self.model.frame
        if frame is None:
            return
        i = self.model.selected
        v = frame.snapshot.vcpus[i]
        height = max(4, self.size.height)
        bps = self.breakpoints()
        if self.source_view:
            self.show(self._source(v.pc, height, bps))
        else:
            self.show(self._disassembly(i, v.pc, v.thumb, height, bps))

    def _disassembly(self, i: int, pc: int, thumb: bool, height: int, bps: Dict[int, Set[str]]) -> Text:
        step = 2 if thumb else 4
        before = max(2, height // 3)
        start = pc - before * step
        if thumb and self.image is not None:  # T32 is variable-length: start at the function when near
            found = self.image.symbol_at(pc)
            if found is not None and found[1] <= before * 4:
                start = pc - found[1]
        start &= ~(step - 1)
        size = (pc - start) + height * 4
        out = Text(no_wrap=True, overflow="ellipsis")
        out.append(f"cpu{i} {'T32' if thumb else 'A32'} at {where(self.image, pc)}\n", style="bold underline")
        try:
            code = self.peek(start, size, i)
        except Exception:  # the window may begin before the mapping (code at the start of RAM)
            try:
                start, code = pc, self.peek(pc, height * 4, i)
            except Exception as e:  # not mapped, not RAM/flash: say so instead of guessing
                out.append(f"cannot read code at {pc:#010x}: {type(e).__name__}", style="red")
                return out
        lines = 1
        for insn in disassemble(code, start, thumb):
            if lines >= height:
                break
            found = self.image.symbol_at(insn.addr) if self.image is not None else None
            if found is not None and found[1] == 0:
                out.append(f"{found[0]}:\n", style="bold cyan")
                lines += 1
            at_pc = insn.addr == pc
            mark = PC_MARK if at_pc else " "
            bp = BP_MARK if insn.addr in bps else " "
            line = Text(f"{bp}{mark} {insn.addr:08x}  {insn.raw[::-1].hex():<8}  {insn.text}"
                        f"{self._target(insn.text)}\n", style="bold reverse" if at_pc else "")
            if insn.addr in bps:
                line.stylize("bold red", 0, 1)
            out.append_text(line)
            lines += 1
        return out

    def _target(self, text: str) -> str:
        """`` <symbol+off>`` after a direct branch, as objdump prints it."""
        m = BRANCH.match(text)
        if m is None or self.image is None:
            return ""
        found = self.image.symbol_at(int(m.group(1), 16))
        if found is None:
            return ""
        return f" <{found[0]}+{found[1]:#x}>" if found[1] else f" <{found[0]}>"

    def _source(self, pc: int, height: int, bps: Dict[int, Set[str]]) -> Text:
        out = Text(no_wrap=True, overflow="ellipsis")
        if self.lines is None:
            out.append("no DWARF line information (d: disassembly)", style="dim")
            return out
        found = self.lines.lookup(pc)
        if found is None:
            out.append(f"no source line for {pc:#010x} (d: disassembly)", style="dim")
            return out
        path, line = found
        text = source_lines(path)
        out.append(f"{path}:{line}\n", style="bold underline")
        if text is None:
            out.append(f"source file not found: {path}", style="red")
            return out
        bp_lines = {ln for a in bps for p, ln in [self.lines.lookup(a) or ("", 0)] if p == path}
        first = max(1, line - height // 3)
        for n in range(first, min(len(text), first + height - 1) + 1):
            mark = PC_MARK if n == line else " "
            bp = BP_MARK if n in bp_lines else " "
            row = Text(f"{bp}{mark}{n:5} {text[n - 1]}\n", style="bold reverse" if n == line else "")
            if n in bp_lines:
                row.stylize("bold red", 0, 1)
            out.append_text(row)
        return out
