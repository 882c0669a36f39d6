"""Regions: a hot loop that runs through several blocks, compiled as one function.

A chain of small blocks pays, per block, a call, a return to the dispatcher (or a chained jump
through it) and a reload and store of every register it touches. When a block has run
``REGION_AFTER`` times and a path of already-translated blocks on its page leads back to it, the
engine has the translator emit those blocks again into one function (``Translator.translate_region``):
registers stay in locals across them, and a static jump between two of them is an assignment and a
``continue`` of the function's own loop, and so is a computed jump (a leaf function's return) to
one of them. The region leaves at any other exit, at an exit request, after about
``REGION_LIMIT`` instructions, or when it is invalidated (a code write to any of its
blocks drops it like a block); it then stands in the cache in place of its first block, whose
other entries (jumps into the middle of the loop) keep their own blocks.

A region counts the instructions it ran into ``X.extra_insns`` itself (its TB's ``count`` is 0):
``_c`` holds those of the blocks completed so far, and every way out adds the current block's (a
guest exception: the engine adds ``_c`` from the region's frame, see ``TB.counter``).
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Tuple

from ..mmu.address_space import PAGE_SHIFT
from .codegen import _COUNT, _EXIT, _WB, _WBC, Block, Saves, prologue, saves_of, write_back

REGION_AFTER = 256  # entries of a block before the engine tries to make it a region's head
MAX_BLOCKS = 16


def members(lookup: Any, head: Any) -> Optional[List[int]]:
    """The start PCs of the translated blocks on ``head``'s page reachable from it (head first, at
    most MAX_BLOCKS) through static exits and the returns of calls, if one of them leads back to
    ``head``; else None. Blocks that loop on themselves stay out: their own loop is cheaper than
    the region's jumps. ``lookup(key)`` is the TB cache's map lookup."""
    if head.pc in head.exits:  # a block that loops on itself does so inside its own function
        return None
    page = head.pc >> PAGE_SHIFT
    delta = head.ppc - head.pc
    order = [head.pc]
    seen = {head.pc}
    loops = False
    i = 0
    while i < len(order):
        tb = head if i == 0 else lookup((order[i] + delta, order[i], head.flags))
        i += 1
        if tb is None:  # invalidated since it was seen (another vCPU wrote its code): translated anew
            continue
        # its static exits, and where a call it ends with returns to (the next block, when translated)
        for target in tb.exits + [(tb.pc + tb.size) & 0xFFFFFFFF]:
            if target == head.pc:
                loops = True
            if target in seen or target >> PAGE_SHIFT != page or len(order) >= MAX_BLOCKS:
                continue
            nxt = lookup((target + delta, target, head.flags))
            if nxt is not None and nxt.valid and nxt.local is None and target not in nxt.exits:
                seen.add(target)
                order.append(target)
    return order if loops and len(order) > 1 else None


COUNTER = ("_c", 1)  # what a region counts itself: the instructions of its completed blocks (TB.counter)


def source(blocks: Iterable[Block]) -> Optional[Tuple[str, List[int], List[int], Dict[str, Any], Saves]]:
    """The region function's source, per line the (region-wide) index of its instruction, per
    instruction its index inside its own block, the constants and the registers it writes (as
    ``Block.saves``); None if two blocks bind one name to different objects."""
    blocks = list(blocks)
    consts: Dict[str, Any] = {}
    for b in blocks:
        for name, value in b.consts.items():
            if consts.setdefault(name, value) is not value:
                return None
    saves = saves_of(set().union(*(b.written for b in blocks)))
    wb = write_back(saves)
    out = ["def tb(R, F, X):"] + prologue(set().union(*(b.used | b.written for b in blocks)),
                                         any(b.uses_memory for b in blocks), blocks[0].priv)
    out += ["    _c = 0", f"    _pc = {blocks[0].start_pc:#x}", "    while True:"]
    owners = [-1] * len(out)
    local: List[int] = []
    base = 0
    wbc = f"{wb}; X.extra_insns += _c" if wb else "X.extra_insns += _c"
    for k, b in enumerate(blocks):
        n = len(b.insn_pcs)
        out.append(f"        {'if' if k == 0 else 'elif'} _pc == {b.start_pc:#x}:")
        owners.append(-1)
        for (ind, text), at in zip(b.lines, b.line_insn):
            pad = "    " * (ind + 1)
            owner = base + at if at >= 0 else -1
            ran = at + 1  # the block's instructions up to this line's (a block goes on past a branch)
            if text.startswith(_EXIT) or text == _WB:
                leave = f"{wb}; X.extra_insns += _c + {ran}" if wb else f"X.extra_insns += _c + {ran}"
                lines = [leave, "return " + text[len(_EXIT):]] if text != _WB else [leave]
                out += [pad + line for line in lines]
                owners += [owner] * len(lines)
                continue
            out.append(pad + (wbc if text == _WBC else f"_c += {ran}" if text == _COUNT else text))
            owners.append(owner)
        local += range(n)
        base += n
    return "\n".join(out) + "\n", owners, local, consts, saves
