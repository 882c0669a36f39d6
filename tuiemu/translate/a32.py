"""The A32 front end: ARM-state code, one word per instruction (see frontend.py for the interface)."""
from __future__ import annotations

from typing import Any

from ..mmu.address_space import PAGE_SIZE
from . import sem  # noqa: F401  (registers the handlers the table names)
from .a32_table import A32_DECODER
from .codegen import Block
from .frontend import CodeSource, PageCopy, emit_insn

block_class = Block


def translate_block(src: CodeSource, b: Block, x: Any, page: PageCopy, ppc: int, flags: int, limit: int) -> None:
    """Ends at a block-ending instruction, at the end of the page, or after ``limit`` instructions."""
    pc = b.start_pc
    page_end = (pc | (PAGE_SIZE - 1)) + 1
    off = ppc - page.base
    m32 = page.m32
    decode = A32_DECODER.decode
    n = 0
    while True:
        word = m32[off >> 2]
        b.begin_insn(pc, 4)
        decoded = decode(word)
        # an encoding no pattern knows is still conditional unless it is in the cond=1111 space: a
        # failing condition makes it a no-op, as on the hardware (the check comes first) and in QEMU
        emit_insn(b, decoded, word, None if decoded is not None or word >> 28 == 0xF else word >> 28)
        n += 1
        pc += 4
        off += 4
        if b.ended:
            return
        if n >= limit or pc >= page_end or off >= page.size:
            b.exit_static(pc)
            return
