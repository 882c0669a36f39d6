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


class PageCopy:
    """A private copy of the guest page a block is decoded from (views as the HostMemory ones)."""

    def __init__(self, region: HostMemory, ppc: int) -> None:
        self.base = ppc & ~0xFFF
        off = self.base - region.base
        self.mm = bytes(region.mm[off:off + 0x1000])
        self.size = len(self.mm)
        self.m8 = memoryview(self.mm)
        self.m16 = self.m8.cast("H") if self.size % 2 == 0 else self.m8
        self.m32 = self.m8.cast("I") if self.size % 4 == 0 else self.m8


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

    def host_region(self, pa: int) -> HostMemory:
        r = self.space.find(pa)
        if not isinstance(r, HostMemory):
            raise GuestAbort(EXC_PABT, FS_EXTERNAL, pa)
        return r

    def translate(self, x: Any, pc: int, flags: int, max_insns: Optional[int] = None,
                  breakpoints: bool = True) -> TB:
        """Translate the block at virtual ``pc`` for vCPU ``x`` (raises a prefetch abort at the start).

        The block is decoded from a copy of its page taken after the page was protected, so the
        bytes it was built from are exactly what it remembers for later IC invalidation."""
        limit = max_insns or self.max_insns
        priv = 1 if flags & TBF_PRIV else 0
        thumb = bool(flags & TBF_THUMB)
        ppc = x.tlb.fetch_phys(pc, priv)
        region = self.host_region(ppc)
        b = Block(pc, thumb, bool(priv))
        b.page_seqs[ppc >> PAGE_SHIFT] = self.code.begin_translation(ppc >> PAGE_SHIFT)
        page = PageCopy(region, ppc)
        b.breakpoints = self.breakpoints if breakpoints else frozenset()
        b.allow_loop = limit > 1
        b.code_reader = self._page_reader(b, page, pc)
        if thumb:
            from .t32 import translate_thumb  # Thumb decoding lives with its tables
            translate_thumb(self, b, x, page, ppc, flags >> TBF_IT_SHIFT & 0xFF, limit)
        else:
            self._translate_arm(b, page, pc, ppc, limit)
        tb = self.compile(b, pc, ppc, flags)
        tb.size = (b.next_pc - pc) & 0xFFFFFFFF
        main = (ppc, min(ppc + tb.size, page.base + page.size))
        tb.ranges = [main] + [(pa, pa + len(data)) for pa, data in b.code_refs]
        tb.code_bytes = page.mm[main[0] - page.base:main[1] - page.base] + b"".join(d for _, d in b.code_refs)
        tb.page_seqs = dict(b.page_seqs)
        tb.insn_it = list(b.insn_it)
        x.counters.translated += 1
        return tb

    def fetch_extra(self, b: Block, pa: int, size: int) -> bytes:
        """Code bytes from another page (a Thumb instruction straddling a page end)."""
        ppn = pa >> PAGE_SHIFT
        if ppn not in b.page_seqs:
            b.page_seqs[ppn] = self.code.begin_translation(ppn)
        data = self.space.read_bytes(pa, size)
        b.code_refs.append((pa, data))
        return data

    @staticmethod
    def _page_reader(b: Block, page: PageCopy, pc: int) -> Callable[[int, int], Optional[int]]:
        """Literal reads from the block's own page, remembered as part of its code."""
        vpage = pc & ~0xFFF

        def read(addr: int, size: int) -> Optional[int]:
            off = addr - vpage
            if not 0 <= off <= page.size - size or addr & (size - 1):
                return None
            data = page.mm[off:off + size]
            b.code_refs.append((page.base + off, data))
            return int.from_bytes(data, "little")
        return read

    def _translate_arm(self, b: Block, region: PageCopy, pc: int, ppc: int, limit: int) -> None:
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
        pages = sorted({ppc >> PAGE_SHIFT} | {pa >> PAGE_SHIFT for pa, _ in b.code_refs})
        return TB(fn, pc, ppc, flags, list(b.insn_pcs), owners, list(b.exits), links, pages, source, 0)
