"""Turns guest code at one PC into a compiled translation block.

A block runs from its start PC up to an instruction that ends it (a branch or
PC write, or a system instruction whose handler calls an exit), the end of the
guest page, or the length cap. Handlers come from the pattern table's names.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Optional, Set

from ..core.exceptions import EXC_PABT, GuestAbort, GuestException
from ..core.state import TBF_IT_SHIFT, TBF_PRIV, TBF_THUMB
from ..mmu.address_space import PAGE_SHIFT, AddressSpace, HostMemory
from ..mmu.codepages import CodePages
from ..mmu.pagetable import FS_EXTERNAL
from . import sem  # noqa: F401  (registers the semantic handlers)
from .a32_table import A32_DECODER
from .codegen import Block
from .decodetree import Args
from .sem.registry import HANDLERS
from .tbcache import TB

MAX_INSNS = 48


def rt_breakpoint(x: Any) -> None:
    x.debug_break()


class Translator:
    def __init__(self, space: AddressSpace, code: CodePages, max_insns: int = MAX_INSNS) -> None:
        self.space = space
        self.code = code
        self.max_insns = max_insns
        self.breakpoints: Set[int] = set()  # owned by run control; checked as blocks are translated
        ram = space.ram
        assert ram is not None
        self.base_consts: Dict[str, Any] = {"M8": ram.m8, "M16": ram.m16, "M32": ram.m32,
                                            "GuestException": GuestException}

    def _host_region(self, pa: int) -> HostMemory:
        r = self.space.find(pa)
        if not isinstance(r, HostMemory):
            raise GuestAbort(EXC_PABT, FS_EXTERNAL, pa)
        return r

    def translate(self, x: Any, pc: int, flags: int, max_insns: Optional[int] = None,
                  breakpoints: bool = True) -> TB:
        """Translate the block at virtual ``pc`` for vCPU ``x`` (raises a prefetch abort at the start)."""
        limit = max_insns or self.max_insns
        priv = 1 if flags & TBF_PRIV else 0
        thumb = bool(flags & TBF_THUMB)
        ppc = x.tlb.fetch_phys(pc, priv)
        region = self._host_region(ppc)
        gens = {ppc >> PAGE_SHIFT: self.code.begin_translation(ppc >> PAGE_SHIFT)}
        b = Block(pc, thumb, bool(priv))
        b.breakpoints = self.breakpoints if breakpoints else frozenset()
        b.allow_loop = limit > 1
        b.code_reader = self._page_reader(region, pc, ppc)
        if thumb:
            from .t32 import translate_thumb  # Thumb decoding lives with its tables
            translate_thumb(self, b, x, region, ppc, flags >> TBF_IT_SHIFT & 0xFF, limit)
        else:
            self._translate_arm(b, region, pc, ppc, limit)
        tb = self.compile(b, pc, ppc, flags)
        for ppn in tb.pages:
            if ppn not in gens:  # a Thumb instruction straddling into the next page
                gens[ppn] = self.code.begin_translation(ppn)
        tb.page_gens = gens
        tb.insn_it = list(b.insn_it)
        x.counters.translated += 1
        tb.size = (b.next_pc - pc) & 0xFFFFFFFF
        return tb

    @staticmethod
    def _page_reader(region: HostMemory, pc: int, ppc: int) -> Callable[[int, int], Optional[int]]:
        page, off0 = pc & ~0xFFF, (ppc & ~0xFFF) - region.base

        def read(addr: int, size: int) -> Optional[int]:
            if addr & ~0xFFF != page or addr & (size - 1) or off0 + 0x1000 > region.size:
                return None
            off = off0 + (addr & 0xFFF)
            return int.from_bytes(region.mm[off:off + size], "little")
        return read

    def _translate_arm(self, b: Block, region: HostMemory, pc: int, ppc: int, limit: int) -> None:
        page_end = (pc | 0xFFF) + 1
        off = ppc - region.base
        m32 = region.m32
        n = 0
        while True:
            word = m32[off >> 2]
            b.begin_insn(pc, 4)
            self.emit_insn(b, A32_DECODER.decode(word), word)
            n += 1
            pc += 4
            off += 4
            if b.ended:
                return
            if n >= limit or pc >= page_end or off >= region.size:
                b.exit_static(pc)
                return

    def emit_insn(self, b: Block, decoded: Optional[tuple], word: int, cond: Optional[int] = None) -> None:
        """Emit one instruction, wrapped in its condition; a conditional block-ender also gets
        the fall-through exit."""
        if decoded is None:
            pat_handler, args = "undef", Args()
        else:
            pat, args = decoded
            pat_handler = pat.handler
        args["insn"] = word
        if b.cur_pc in b.breakpoints:  # stop before the instruction, which is not executed
            b.insn_pcs.pop()
            b.exit_helper("BREAK", rt_breakpoint, "X")
            return
        cc = args.get("cond", 14) if cond is None else cond
        expr = b.cond(cc) if cc != 14 else None
        if expr is not None:
            b.open_if(expr)
        HANDLERS[pat_handler](b, args)
        if expr is not None:
            b.emit("pass")
            b.close_if()
            if b.ended:
                b.exit_static(b.next_pc)

    def compile(self, b: Block, pc: int, ppc: int, flags: int) -> TB:
        source, owners = b.source()
        code = compile(source, f"<tb {pc:#010x}>", "exec")
        ns: Dict[str, Any] = {}
        exec(code, ns)
        links: list = [None] * len(b.exits)
        consts = dict(self.base_consts)
        consts.update(b.consts)
        consts["L"] = links
        fn = ns["_make"](consts)
        last = b.insn_pcs[-1] if b.insn_pcs else pc
        pages = sorted({ppc >> PAGE_SHIFT, (ppc + ((last - pc) & 0xFFFFFFFF) + b.cur_size - 1) >> PAGE_SHIFT})
        return TB(fn, pc, ppc, flags, list(b.insn_pcs), owners, list(b.exits), links, pages, source, 0)
