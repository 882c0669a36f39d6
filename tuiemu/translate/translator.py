"""Turns guest code at one PC into a compiled translation block.

The front end for the vCPU's instruction set (a32.py or t32.py, chosen by the TB flags' Thumb
bit) decodes the block from a private copy of its page; this module owns what is the same for
both: the page copy and its protection, literal reads, and compiling the block's source.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Optional, Set

from ..core.exceptions import EXC_PABT, GuestAbort, GuestException
from ..core.state import TBF_PRIV, TBF_THUMB
from ..mmu.address_space import PAGE_SHIFT, PAGE_SIZE, AddressSpace, HostMemory
from ..mmu.codepages import CodePages
from ..mmu.pagetable import FS_EXTERNAL
from . import a32, t32
from .codegen import Block
from .frontend import FrontEnd, PageCopy
from .tbcache import TB

MAX_INSNS = 48


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
        fe: FrontEnd = t32 if flags & TBF_THUMB else a32
        ppc = x.tlb.fetch_phys(pc, priv)
        region = self.host_region(ppc)
        b = fe.block_class(pc, bool(priv))
        b.tb_flags = flags
        b.page_seqs[ppc >> PAGE_SHIFT] = self.code.begin_translation(ppc >> PAGE_SHIFT)
        page = PageCopy(region, ppc)
        b.breakpoints = self.breakpoints if breakpoints else frozenset()
        b.allow_loop = limit > 1
        b.code_reader = self._page_reader(b, page, pc)
        fe.translate_block(self, b, x, page, ppc, flags, limit)
        tb = self.compile(b, pc, ppc, flags)
        tb.size = (b.next_pc - pc) & 0xFFFFFFFF
        main = (ppc, min(ppc + tb.size, page.base + page.size))
        tb.ranges = [main] + [(pa, pa + len(data)) for pa, data in b.code_refs]
        tb.code_bytes = page.mm[main[0] - page.base:main[1] - page.base] + b"".join(d for _, d in b.code_refs)
        tb.page_seqs = dict(b.page_seqs)
        tb.insn_it = list(b.insn_it)
        x.counters.translated += 1
        return tb

    def fetch_beyond(self, b: Block, x: Any, va: int, size: int) -> bytes:
        """Code bytes from another page (a Thumb instruction straddling a page end): see CodeSource."""
        pa = x.tlb.fetch_phys(va, 1 if b.priv else 0)
        self.host_region(pa)  # a prefetch abort if the next page is not memory
        ppn = pa >> PAGE_SHIFT
        if ppn not in b.page_seqs:
            b.page_seqs[ppn] = self.code.begin_translation(ppn)
        data = self.space.read_bytes(pa, size)
        b.code_refs.append((pa, data))
        return data

    @staticmethod
    def _page_reader(b: Block, page: PageCopy, pc: int) -> Callable[[int, int], Optional[int]]:
        """Literal reads from the block's own page, remembered as part of its code."""
        vpage = pc & ~(PAGE_SIZE - 1)

        def read(addr: int, size: int) -> Optional[int]:
            off = addr - vpage
            if not 0 <= off <= page.size - size or addr & (size - 1):
                return None
            data = page.mm[off:off + size]
            b.code_refs.append((page.base + off, data))
            return int.from_bytes(data, "little")
        return read

    def compile(self, b: Block, pc: int, ppc: int, flags: int) -> TB:
        source, owners = b.source()
        code = compile(source, f"<tb {pc:#010x}>", "exec")
        links: list = [None] * len(b.exits)
        ns = dict(self.base_consts)
        ns.update(b.consts)
        ns["L"] = links
        exec(code, ns)
        fn = ns["tb"]
        pages = sorted({ppc >> PAGE_SHIFT} | {pa >> PAGE_SHIFT for pa, _ in b.code_refs})
        return TB(fn, pc, ppc, flags, list(b.insn_pcs), owners, list(b.exits), links, pages, source, 0)
