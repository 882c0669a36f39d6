"""Turns guest code at one PC into a compiled translation block.

The front end for the vCPU's instruction set (a32.py or t32.py, chosen by the TB flags' Thumb
bit) decodes the block from a private copy of its page; this module owns what is the same for
both: the page copy and its protection, literal reads, and compiling the block's source.
"""
from __future__ import annotations

import hashlib
from types import CodeType
from typing import Any, Callable, Dict, FrozenSet, List, NamedTuple, Optional, Set, Tuple

from ..core.exceptions import EXC_PABT, GuestAbort
from ..core.state import TBF_PRIV, TBF_THUMB
from ..mmu.address_space import PAGE_SHIFT, PAGE_SIZE, AddressSpace, HostMemory
from ..mmu.codepages import CodePages
from ..mmu.pagetable import FS_EXTERNAL
from . import a32, codecache, region, t32
from .codecache import EMITTER, CodeCache
from .codegen import Block
from .frontend import FrontEnd, PageCopy
from .tbcache import TB

MAX_INSNS = 48
STEP_KEY = 1 << 30  # in the flags of a single step's block: above every TB flag (core/state.py TBF_*)
T32_PREFIX = 0xF000  # a halfword that starts a 32-bit Thumb instruction


class Emitted(NamedTuple):
    """What the code cache keeps of an emitted block: everything its TB is built from but its
    source (``Translator.source_of``), its code and its literals' bytes (read from the page)."""
    owners: Tuple[int, ...]
    refs: List[Tuple[str, str, str]]  # its constants (codecache.refer)
    insn_pcs: Tuple[int, ...]
    exits: Tuple[int, ...]
    size: int
    saves: Tuple[Tuple[int, str], ...]
    counter: Optional[Tuple[str, int]]
    insn_it: Tuple[int, ...]
    literals: List[Tuple[int, int]]  # (page offset, length) of the literals it folded


class Translator:
    def __init__(self, space: AddressSpace, code: CodePages, codes: CodeCache, max_insns: int = MAX_INSNS) -> None:
        self.space = space
        self.code = code
        self.codes = codes
        self.code_found = self.code_compiled = 0  # blocks whose code the cache had, and did not
        self.emitted_found = 0  # blocks the cache had as emitted (not emitted again)
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
        bytes it was built from are exactly what it remembers for later IC invalidation. What
        emitting it produced is kept in the code cache under its PC, flags and length limit,
        checked by what emitting read of that copy: the same block found again is not emitted
        again."""
        limit = max_insns or self.max_insns
        ppc, page, seq = self._open_page(x, pc, flags)
        key = self._emitted_key(pc, flags, limit, breakpoints)
        found = self.codes.recall(key, lambda entry: self._check(page, pc, Emitted(*entry))) if key else None
        if found is not None:
            tb = self._recalled(found, pc, ppc, flags, page)
            tb.page_seqs = {ppc >> PAGE_SHIFT: seq}
        else:
            b = self._emit(x, pc, flags, limit, breakpoints, ppc, page, seq)
            source, owners = b.source()
            source_key = self.codes.source_key(source)
            tb = self.compile(b, source, owners, pc, ppc, flags, source_key)
            tb.ranges, tb.code_bytes = self._code_of(b.code_refs, page, ppc, tb.size)
            tb.page_seqs = dict(b.page_seqs)
            tb.insn_it = list(b.insn_it)
            if key is not None:
                entry = self._entry(b, owners, tb.size, page)
                if entry is not None:  # kept as a plain tuple: marshal writes no other
                    self.codes.remember(key, self._check(page, pc, entry), source_key, tuple(entry))
        x.counters.translated += 1
        return tb

    def _emitted_key(self, pc: int, flags: int, limit: int, breakpoints: bool) -> Optional[bytes]:
        """The code cache's key for what emitting the block at ``pc`` produces (one per version
        of its code, see ``_check``); None when it is not kept (no cache file, or a breakpoint on
        the page changes what is emitted)."""
        if self.codes.path is None:
            return None
        if breakpoints and any(bp >> PAGE_SHIFT == pc >> PAGE_SHIFT for bp in self.breakpoints):
            return None
        return hashlib.blake2b(EMITTER + f"{pc}:{flags}:{limit}".encode(), digest_size=20).digest()

    @staticmethod
    def _check(page: PageCopy, pc: int, entry: Emitted) -> bytes:
        """A hash of what emitting the block read of ``page``: its code, the 4 bytes after it (the
        Thumb front end looks at the next halfword to decide where a block ends) and its literals."""
        start = pc & (PAGE_SIZE - 1)
        h = hashlib.blake2b(page.mm[start:min(start + entry.size + 4, page.size)], digest_size=16)
        for off, n in entry.literals:
            h.update(page.mm[off:off + n])
        return h.digest()

    @staticmethod
    def _entry(b: Block, owners: List[int], size: int, page: PageCopy) -> Optional[Emitted]:
        """What the code cache keeps of emitted block ``b``; None if a constant cannot be kept
        by reference or the block read code from another page."""
        if (b.start_pc & (PAGE_SIZE - 1)) + size > PAGE_SIZE:  # an instruction straddles the page end
            return None
        refs = codecache.refer(b.consts)
        if refs is None:
            return None
        literals = [(pa - page.base, len(data)) for pa, data in b.code_refs]
        return Emitted(tuple(owners), refs, tuple(b.insn_pcs), tuple(b.exits), size, b.saves(), b.counter(),
                       tuple(b.insn_it), literals)

    def _recalled(self, found: Tuple[Any, CodeType], pc: int, ppc: int, flags: int, page: PageCopy) -> TB:
        """The block the code cache's entry describes, its literals read from this page copy (its
        source is left empty: ``source_of`` emits it again when someone wants to read it)."""
        e, code = Emitted(*found[0]), found[1]
        fn, links, _ = self._function(code, True, f"<tb {pc:#010x}>", codecache.resolve(e.refs), len(e.exits))
        tb = TB(fn, pc, ppc, flags, list(e.insn_pcs), list(e.owners), list(e.exits), links, [ppc >> PAGE_SHIFT],
                "", e.size)
        tb.saves, tb.counter = e.saves, e.counter
        refs_read = [(page.base + off, page.mm[off:off + n]) for off, n in e.literals]
        tb.ranges, tb.code_bytes = self._code_of(refs_read, page, ppc, e.size)
        tb.insn_it = list(e.insn_it)
        self.emitted_found += 1
        return tb

    def source_of(self, tb: TB) -> str:
        """The Python source of ``tb``: a recalled block does not keep it (the cache would hold a
        kilobyte more per block, compressed at a cost every translation pays), so it is emitted
        again, from the code bytes the block remembers, as it was the first time."""
        if tb.source:
            return tb.source
        base = tb.ppc & ~(PAGE_SIZE - 1)
        image = bytearray(PAGE_SIZE)
        pos = 0
        for lo, hi in tb.ranges:
            image[lo - base:hi - base] = tb.code_bytes[pos:pos + hi - lo]
            pos += hi - lo
        if tb.flags & TBF_THUMB and (tb.pc & (PAGE_SIZE - 1)) + tb.size == PAGE_SIZE - 2:
            # the block stopped before a 32-bit instruction that straddles the page end: the front
            # end decided that from its first halfword, which is not part of the block's code
            image[PAGE_SIZE - 2:] = T32_PREFIX.to_bytes(2, "little")
        flags = tb.flags & ~STEP_KEY
        limit = 1 if tb.flags & STEP_KEY else self.max_insns
        b = self._emit(None, tb.pc, flags, limit, False, tb.ppc, PageCopy(base, bytes(image)), 0)
        return b.source()[0]

    def translate_region(self, x: Any, pcs: List[int], flags: int) -> Optional[TB]:
        """One function for the blocks at ``pcs`` (the first is the entry; region.py), or None when
        they cannot share one (their constants clash)."""
        exits: List[int] = []
        blocks = []
        ranges: List[Tuple[int, int]] = []
        code_bytes = b""
        seqs: Dict[int, int] = {}
        inside = frozenset(pcs)
        for pc in pcs:
            ppc, page, seq = self._open_page(x, pc, flags)
            b = self._emit(x, pc, flags, self.max_insns, True, ppc, page, seq, inside, exits)
            r, c = self._code_of(b.code_refs, page, ppc, (b.next_pc - pc) & 0xFFFFFFFF)
            ranges += r
            code_bytes += c
            for ppn, began in b.page_seqs.items():
                seqs[ppn] = min(began, seqs.get(ppn, began))
            blocks.append((b, ppc))
        built = region.source(b for b, _ in blocks)
        if built is None:
            return None
        source, owners, local, consts, saves = built
        code, found = self.codes.compile(source, f"<region {pcs[0]:#010x}>")
        fn, links, ns = self._function(code, found, f"<region {pcs[0]:#010x}>", consts, len(exits))
        pages = sorted({p for b, ppc in blocks for p in self._pages(b, ppc)})
        tb = TB(fn, pcs[0], blocks[0][1], flags, [pc for b, _ in blocks for pc in b.insn_pcs], owners, exits, links,
                pages, source, (blocks[0][0].next_pc - pcs[0]) & 0xFFFFFFFF)
        ns["T"] = tb
        tb.count = 0  # the region counts what it runs itself (X.extra_insns)
        tb.local = local
        tb.saves, tb.counter = saves, region.COUNTER
        tb.vspan = (min(pcs), max(b.next_pc for b, _ in blocks))
        tb.ranges, tb.code_bytes, tb.page_seqs = ranges, code_bytes, seqs
        tb.insn_it = [it for b, _ in blocks for it in b.insn_it]
        x.counters.translated += 1
        return tb

    def _open_page(self, x: Any, pc: int, flags: int) -> Tuple[int, PageCopy, int]:
        """The physical address of ``pc``, a copy of its page taken once the page is protected,
        and the page's write sequence then (CodePages.begin_translation)."""
        ppc = x.tlb.fetch_phys(pc, 1 if flags & TBF_PRIV else 0)
        host = self.host_region(ppc)
        seq = self.code.begin_translation(ppc >> PAGE_SHIFT)
        base = ppc & ~(PAGE_SIZE - 1)
        return ppc, PageCopy(base, bytes(host.mm[base - host.base:base - host.base + PAGE_SIZE])), seq

    def _emit(self, x: Any, pc: int, flags: int, limit: int, breakpoints: bool, ppc: int, page: PageCopy,
              seq: int, inside: FrozenSet[int] = frozenset(), exits: Optional[List[int]] = None) -> Block:
        """Decode and emit the block at ``pc`` (from ``_open_page``); ``inside``: region targets
        (which a computed jump may enter too), ``exits``: the region's shared list of outward
        static exits (link slots)."""
        fe: FrontEnd = t32 if flags & TBF_THUMB else a32
        b = fe.block_class(pc, bool(flags & TBF_PRIV))
        b.tb_flags = flags
        b.page_seqs[ppc >> PAGE_SHIFT] = seq
        b.breakpoints = self.breakpoints if breakpoints else frozenset()
        b.allow_loop = limit > 1 and not inside
        b.internal = inside
        if exits is not None:
            b.exits = exits
        b.code_reader = self._page_reader(b, page, pc)
        fe.translate_block(self, b, x, page, ppc, flags, limit)
        return b

    @staticmethod
    def _code_of(refs: List[Tuple[int, bytes]], page: PageCopy, ppc: int, size: int
                 ) -> Tuple[List[Tuple[int, int]], bytes]:
        """The physical ranges a block was built from (its code on ``page``, then ``refs``: code
        and literals read beyond it) and what they held."""
        main = (ppc, min(ppc + size, page.base + page.size))
        ranges = [main] + [(pa, pa + len(data)) for pa, data in refs]
        code = page.mm[main[0] - page.base:main[1] - page.base] + b"".join(d for _, d in refs)
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

    def compile(self, b: Block, source: str, owners: List[int], pc: int, ppc: int, flags: int,
                source_key: bytes) -> TB:
        code, found = self.codes.compile(source, f"<tb {pc:#010x}>", source_key)
        fn, links, _ = self._function(code, found, f"<tb {pc:#010x}>", b.consts, len(b.exits))
        tb = TB(fn, pc, ppc, flags, list(b.insn_pcs), owners, list(b.exits), links, self._pages(b, ppc),
                source, (b.next_pc - pc) & 0xFFFFFFFF)
        tb.saves, tb.counter = b.saves(), b.counter()
        return tb

    def code_cache_stats(self) -> Dict[str, Any]:
        return {"found": self.code_found, "compiled": self.code_compiled, "emitted_found": self.emitted_found,
                "file": str(self.codes.path) if self.codes.path else None}

    def _function(self, code: CodeType, found: bool, name: str, consts: Dict[str, Any], nexits: int
                  ) -> Tuple[Callable, list, Dict[str, Any]]:
        """Run compiled block source (``found``: the code cache had it) defining ``tb`` in a
        namespace of its constants (its globals): the function, its link slots and the namespace."""
        links: list = [None] * nexits
        ns = dict(self.base_consts)
        ns.update(consts)
        ns["L"] = links
        exec(code, ns)
        fn = ns["tb"]
        if found:
            self.code_found += 1
            fn.__code__ = fn.__code__.replace(co_filename=name)  # it came with the first compiler's name
        else:
            self.code_compiled += 1
        return fn, links, ns
