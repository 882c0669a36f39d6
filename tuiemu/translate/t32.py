"""The Thumb front end: T16 and T32 code, with IT blocks tracked at translation time (see
itblock.py for how the IT state reaches CPSR, and frontend.py for the interface)."""
from __future__ import annotations

from typing import Any, Optional, Tuple

from ..core.state import TBF_IT_SHIFT
from ..mmu.address_space import PAGE_SIZE
from . import sem  # noqa: F401  (registers the handlers the tables name)
from .codegen import Block
from .decodetree import Args, Pattern
from .frontend import CodeSource, PageCopy, emit_insn
from .isa import AL, NV
from .itblock import ThumbBlock, it_advance
from .t32_table import T16_DECODER, T32_DECODER, is_t32

block_class = ThumbBlock


def translate_block(src: CodeSource, b: Block, x: Any, page: PageCopy, ppc: int, flags: int, limit: int) -> None:
    """Ends at a block-ending instruction, at the end of the page, or after ``limit`` instructions
    (extended to the end of an open IT block, except in one-instruction mode)."""
    assert isinstance(b, ThumbBlock)
    it = flags >> TBF_IT_SHIFT & 0xFF
    b.it_entry = b.it_cur = b.it_next = it
    pc = b.start_pc
    page_end = (pc | (PAGE_SIZE - 1)) + 1
    off = ppc - page.base
    m16 = page.m16
    n = 0
    while True:
        hw1 = m16[off >> 1]
        decoded: Optional[Tuple[Pattern, Args]]
        if is_t32(hw1):
            if pc + 2 >= page_end or off + 2 >= page.size:
                if n:  # let the straddling instruction start a block of its own
                    b.exit_static(pc)
                    return
                hw2 = int.from_bytes(src.fetch_beyond(b, x, (pc + 2) & 0xFFFFFFFF, 2), "little")
            else:
                hw2 = m16[(off >> 1) + 1]
            word = (hw1 << 16) | hw2
            size = 4
            decoded = T32_DECODER.decode(word)
        else:
            word = hw1
            size = 2
            decoded = T16_DECODER.decode(hw1)
        in_it = bool(it & 0xF)
        if decoded is not None and decoded[0].handler == "it" and not in_it:
            nxt = (decoded[1].firstcond << 4) | decoded[1].mask
        else:
            nxt = it_advance(it) if in_it else 0
        b.begin_insn(pc, size)
        b.insn_it.append(it if in_it else 0)
        b.it_cur, b.it_next = it, nxt
        cond = None
        if in_it:
            cond = it >> 4
            if cond == NV:
                cond = AL
            if decoded is not None:
                decoded[1]["it"] = 1
        emit_insn(b, decoded, word, cond)
        del b.insn_it[len(b.insn_pcs):]  # a breakpoint stop drops the instruction again
        n += 1
        pc = (pc + size) & 0xFFFFFFFF
        off += size
        it = nxt
        if b.ended:
            return
        if pc >= page_end or off >= page.size or pc == 0:
            b.exit_static(pc)
            return
        if n >= limit and (not it or limit == 1 or n >= limit + 4):
            b.exit_static(pc)
            return
