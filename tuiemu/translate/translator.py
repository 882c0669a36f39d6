"""Turns guest code at one PC into a compiled translation block.

The front end for the vCPU's instruction set (a32.py or t32.py, chosen by the TB flags' Thumb
bit) decodes the block from a private copy of its page; this module owns what is the same for
both: the page copy and its protection, literal reads, and compiling the block's source.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, FrozenSet, List, Optional, Set, Tuple

from ..core.exceptions import EXC_PABT, GuestAbort
from ..core.state import TBF_PRIV, TBF_THUMB
from ..mmu.address_space import PAGE_SHIFT, PAGE_SIZE, AddressSpace, HostMemory
from ..mmu.codepages import CodePages
from ..mmu.pagetable import FS_EXTERNAL
from . import a32, region, t32
from .codecache import CodeCache
from .codegen import Block
from .frontend import FrontEnd, PageCopy
from .tbcache import TB

MAX_INSNS = 48


class Translator:
    def __init__(self, space: AddressSpace, code: CodePages, codes: CodeCache, max_insns: int = MAX_INSNS) -> None:
        self.space = space
        self.code = code
        self.codes = codes
        self.code_found = self.code_compiled = 0  # blocks whose code the cache had, and did not
        self.max_insns = max_insns
        self.breakpoints: Set[int] = set()  # owned by run control; checked as blocks are translated
        ram = space.ram
        assert ram is not None
        self.base_consts: Dict[str, Any] = {"M8": ram.m8, "M16": ram.m16, "M32": ram.m32}

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
        b, page, ppc = self._emit(x, pc, flags, max_insns or self.max_insns, breakpoints)
        tb = self.compile(b, pc, ppc, flags)
        tb.ranges, tb.code_bytes = self._code_of(b, page, ppc, tb.size)
        tb.page_seqs = dict(b.page_seqs)
        tb.insn_it = list(b.insn_it)
        x.counters.translated += 1
        return tb

    def translate_region(self, x: Any, pcs: List[int], flags: int) -> Optional[TB]:
        """One function for the blocks at ``pcs`` (the first is the entry; region.py), or None when
        they cannot share one (their constants clash)."""
        exits: List[int] = []
        blocks = []
        ranges: List[Tuple[int, int]] = []
        code = b""
        seqs: Dict[int, int] = {}
        inside = frozenset(pcs)
        for pc in pcs:
            b, page, ppc = self._emit(x, pc, flags, self.max_insns, True, inside, exits)
            r, c = self._code_of(b, page, ppc, (b.next_pc - pc) & 0xFFFFFFFF)
            ranges += r
            code += c
            for ppn, seq in b.page_seqs.items():
                seqs[ppn] = min(seq, seqs.get(ppn, seq))
            blocks.append((b, ppc))
        built = region.source(b for b, _ in blocks)
        if built is None:
            return None
        source, owners, local, consts, saves = built
        fn, links, ns = self._function(source, f"<region {pcs[0]:#010x}>", consts, len(exits))
        pages = sorted({p for b, ppc in blocks for p in self._pages(b, ppc)})
        tb = TB(fn, pcs[0], blocks[0][1], flags, [pc for b, _ in blocks for pc in b.insn_pcs], owners, exits, links,
                pages, source, (blocks[0][0].next_pc - pcs[0]) & 0xFFFFFFFF)
        ns["T"] = tb
        tb.count = 0  # the region counts what it runs itself (X.extra_insns)
        tb.local = local
        tb.saves, tb.counter = saves, region.COUNTER
        tb.vspan = (min(pcs), max(b.next_pc for b, _ in blocks))
        tb.ranges, tb.code_bytes, tb.page_seqs = ranges, code, seqs
        tb.insn_it = [it for b, _ in blocks for it in b.insn_it]
        x.counters.translated += 1
        return tb

    def _emit(self, x: Any, pc: int, flags: int, limit: int, breakpoints: bool,
              inside: FrozenSet[int] = frozenset(), exits: Optional[List[int]] = None
              ) -> Tuple[Block, PageCopy, int]:
        """Decode and emit the block at ``pc``; ``inside``: region targets (which a computed
        jump may enter too), ``exits``: the region's shared list of outward static exits (link
        slots)."""
        priv = 1 if flags & TBF_PRIV else 0
        fe: FrontEnd = t32 if flags & TBF_THUMB else a32
        ppc = x.tlb.fetch_phys(pc, priv)
        host = self.host_region(ppc)
        b = fe.block_class(pc, bool(priv))
        b.tb_flags = flags
        b.page_seqs[ppc >> PAGE_SHIFT] = self.code.begin_translation(ppc >> PAGE_SHIFT)
        page = PageCopy(host, ppc)
        b.breakpoints = self.breakpoints if breakpoints else frozenset()
        b.allow_loop = limit > 1 and not inside
        b.internal = inside
        if exits is not None:
            b.exits = exits
        b.code_reader = self._page_reader(b, page, pc)
        fe.translate_block(self, b, x, page, ppc, flags, limit)
        return b, page, ppc

    @staticmethod
    def _code_of(b: Block, page: PageCopy, ppc: int, size: int) -> Tuple[List[Tuple[int, int]], bytes]:
        """The physical ranges a block was built from and what they held."""
        main = (ppc, min(ppc + size, page.base + page.size))
        ranges = [main] + [(pa, pa + len(data)) for pa, data in b.code_refs]
        code = page.mm[main[0] - page.base:main[1] - page.base] + b"".join(d for _, d in b.code_refs)
        return ranges, code

    @staticmethod
    def _pages(b: Block, ppc: int) -> List[int]:
        return sorted({ppc >> PAGE_SHIFT} | {pa >> PAGE_SHIFT for pa, _ in b.code_refs})

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
        fn, links, _ = self._function(source, f"<tb {pc:#010x}>", b.consts, len(b.exits))
        tb = TB(fn, pc, ppc, flags, list(b.insn_pcs), owners, list(b.exits), links, self._pages(b, ppc),
                source, (b.next_pc - pc) & 0xFFFFFFFF)
        tb.saves, tb.counter = b.saves(), b.counter()
        return tb

    def code_cache_stats(self) -> Dict[str, Any]:
        return {"found": self.code_found, "compiled": self.code_compiled,
                "file": str(self.codes.path) if self.codes.path else None}

    def _function(self, source: str, name: str, consts: Dict[str, Any], nexits: int
                  ) -> Tuple[Callable, list, Dict[str, Any]]:
        """Compile generated source defining ``tb`` in a namespace of its constants (its globals):
        the function, its link slots and the namespace."""
        links: list = [None] * nexits
        ns = dict(self.base_consts)
        ns.update(consts)
        ns["L"] = links
        code, found = self.codes.compile(source, name)
        exec(code, ns)
        fn = ns["tb"]
        if found:
            self.code_found += 1
            fn.__code__ = fn.__code__.replace(co_filename=name)  # it came with the first compiler's name
        else:
            self.code_compiled += 1
        return fn, links, ns
