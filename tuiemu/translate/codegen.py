"""Python code generation for one translation block.

Semantic handlers call into a ``Block`` to read and write guest registers
(Python locals inside the block), access memory, and leave the block. The
finished source defines ``tb(R, F, X)``, executed in a namespace of the block's
constants (its globals: link slots, RAM views, helpers), which runs the block:

* ``R``: the vCPU's register list (see core/state.py), loaded into locals at
  entry and stored back at every exit;
* ``F``: the vCPU's soft-TLB fast tuples (one per privilege), see mmu/tlb.py;
* ``X``: the vCPU object, for helpers that need the whole machine.

It returns the next TB when the exit is chained, else None. A guest exception
raised inside (an abort from a memory helper) leaves the block without storing
anything: the engine copies the written registers from the block's frame in the
traceback and sets R[15] to the faulting instruction, found from the frame's line.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Dict, FrozenSet, Iterable, List, Optional, Set, Tuple

from ..core import state
from .isa import AL, CC, CS, EQ, GE, GT, HI, LE, LS, LT, MI, NE, PL, VC, VS

LOCAL_NAMES = ([f"r{i}" for i in range(15)] + ["pc", "nf", "zf", "cf", "vf", "qf", "ge"]
               + [f"d{i}" for i in range(32)] + ["fpscr"])  # R's layout, see core/state.py
FLAG_INDEX = {"nf": state.NF, "zf": state.ZF, "cf": state.CF, "vf": state.VF, "qf": state.QF, "ge": state.GE}
M = "0xFFFFFFFF"  # the 32-bit mask, as handlers write it into generated code

# Condition code -> Python expression over the flag locals (None = always). Z is set when zf == 0,
# N and V are bit 31 of nf and vf.
COND_EXPR = {
    EQ: "not zf", NE: "zf", CS: "cf", CC: "not cf",
    MI: "nf & 0x80000000", PL: "not nf & 0x80000000", VS: "vf & 0x80000000", VC: "not vf & 0x80000000",
    HI: "cf and zf", LS: "not cf or not zf",
    GE: "not (nf ^ vf) & 0x80000000", LT: "(nf ^ vf) & 0x80000000",
    GT: "zf and not (nf ^ vf) & 0x80000000", LE: "not zf or (nf ^ vf) & 0x80000000",
    AL: None,
}
COND_FLAGS = {EQ: "zf", NE: "zf", CS: "cf", CC: "cf", MI: "nf", PL: "nf", VS: "vf", VC: "vf", HI: "cf zf",
              LS: "cf zf", GE: "nf vf", LT: "nf vf", GT: "zf nf vf", LE: "zf nf vf", AL: ""}

_WB = "\x00WB"  # store the written registers back here (before a helper that reads them)
_EXIT = "\x00EXIT "  # + a return value: leave through the block's write-back (see Block.source)
_WBC = "\x00WBC"  # in a region, at an inner jump: store back, count what ran before this block
_COUNT = "\x00COUNT"  # in a region, at an inner jump: add this block's instructions to the count
_LITERAL_EXPR = re.compile(r"^[0-9a-fA-FxX+\-*&|^~<>() ]+$")
# Iterations a self-looping block runs before it returns to the dispatcher.
LOOP_LIMIT = 128
# Instructions a region runs before it returns to the dispatcher (region.py).
REGION_LIMIT = 1024
# When a region's jump to one of its own blocks goes to the dispatcher instead (region.py).
_LEAVE_REGION = f"X.exit_request or _c >= {REGION_LIMIT} or not T.valid"


def _page_of(addr: str) -> str:
    """The page-number expression of an address (a name or a decimal literal)."""
    return str(int(addr) >> 12) if addr.isdigit() else f"{addr} >> 12"


def _misaligned(addr: str, size: int) -> str:
    """The ``or <misaligned>`` clause of a fast-path test; none for an aligned literal."""
    if addr.isdigit() and not int(addr) & (size - 1):
        return ""
    return f" or {addr} & {size - 1}"


def _bx(x: Any, target: int) -> None:
    x.bx(target)  # placeholder line expanded to the register write-back at finalisation


Saves = Tuple[Tuple[int, str], ...]


def saves_of(written: Iterable[int]) -> Saves:
    """(index in R, local) of written registers, in order: what a block's exits store back, and
    what the engine stores back from the block's frame when a guest exception leaves it."""
    return tuple((i, LOCAL_NAMES[i]) for i in sorted(written))


def write_back(saves: Saves) -> str:
    """The line storing ``saves`` back into R."""
    return "; ".join(f"R[{i}] = {name}" for i, name in saves)


def prologue(regs: Iterable[int], uses_memory: bool, priv: bool) -> List[str]:
    """A block (or region) function's first lines: its registers into locals, the TLB's fast maps."""
    regs = sorted(regs)
    out = []
    if regs:
        out.append("    " + ", ".join(LOCAL_NAMES[i] for i in regs) + " = " + ", ".join(f"R[{i}]" for i in regs))
    if uses_memory:
        out.append(f"    TR, TW, LD, ST = F[{1 if priv else 0}]")
    return out


class Block:
    """The code of one block as it is emitted; an A32 block (the Thumb front end uses a subclass)."""

    thumb = False  # the instruction set, for PC reads and interworking exits (ThumbBlock: True)
    tb_flags = 0  # the TB flags it is translated for (core/state.py TBF_*), set by the translator

    def __init__(self, pc: int, priv: bool) -> None:
        self.start_pc = pc
        self.priv = priv
        self.lines: List[Tuple[int, str]] = []
        self.indent = 2
        self.used: Set[int] = set()
        self.written: Set[int] = set()
        self.consts: Dict[str, Any] = {}
        self.exits: List[int] = []  # static targets, in link-slot order
        self.insn_pcs: List[int] = []
        self.insn_it: List[int] = []  # Thumb: ITSTATE in force at each instruction (0 outside IT blocks)
        self.line_insn: List[int] = []  # per body line: index of its instruction
        self.uses_memory = False
        self.breakpoints: Any = frozenset()  # guest addresses where the block must stop before executing
        self.allow_loop = True  # may a jump to the block's start stay inside the block
        self.internal: FrozenSet[int] = frozenset()  # in a region: the targets that stay inside it
        # Reads guest memory on the block's first page at translation time (None elsewhere). Its
        # page is write-protected while the block lives, so a value read here cannot go stale.
        self.code_reader: Callable[[int, int], Optional[int]] = lambda addr, size: None
        self.code_refs: List[Tuple[int, bytes]] = []  # (physical address, bytes) of code read beyond the block
        self.page_seqs: Dict[int, int] = {}  # code page -> write sequence when its translation began
        self.loops = False
        self.ended = False
        self.last_target = -1  # the last static exit's target (frontend.emit_insn: may the block go on)
        self.cur_pc = pc
        self.cur_size = 4
        self.reads_pc = False  # does the current instruction read PC (a literal pool access)
        self._tmp = 0
        # Registers holding a value known at translation time (set by a literal, unconditionally,
        # earlier in the block): reads of them fold to the literal (MOVW/MOVT pairs, addresses).
        self.known: Dict[int, int] = {}

    # ---- instruction bracketing ------------------------------------------
    def begin_insn(self, pc: int, size: int) -> None:
        self.cur_pc, self.cur_size = pc, size
        self.insn_pcs.append(pc)
        self.reads_pc = False

    @property
    def next_pc(self) -> int:
        return (self.cur_pc + self.cur_size) & 0xFFFFFFFF

    @property
    def pc_read(self) -> int:
        """Value of PC as an operand: this instruction + 8 (ARM) or + 4 (Thumb)."""
        self.reads_pc = True
        return (self.cur_pc + (4 if self.thumb else 8)) & 0xFFFFFFFF

    def emit(self, line: str) -> None:
        self.lines.append((self.indent, line))
        self.line_insn.append(len(self.insn_pcs) - 1)

    def tmp(self, prefix: str = "t") -> str:
        self._tmp += 1
        return f"_{prefix}{self._tmp}"  # never clashes with the register locals r0-r14

    def const(self, name: str, value: Any) -> str:
        """Make ``value`` visible inside the block as ``name`` (a global of its namespace)."""
        old = self.consts.get(name, value)
        if old is not value:
            raise ValueError(f"constant {name} bound twice")
        self.consts[name] = value
        return name

    def as_local(self, expr: str) -> str:
        """A name or literal for ``expr``, evaluating it once into a temporary if needed
        (an expression of literals only is folded at translation time)."""
        if expr.isidentifier() or expr.isdigit():
            return expr
        if _LITERAL_EXPR.match(expr):
            try:
                return str(eval(expr, {"__builtins__": {}}))  # digits and operators only
            except (NameError, SyntaxError, ArithmeticError):
                pass
        t = self.tmp("a")
        self.emit(f"{t} = {expr}")
        return t

    # ---- registers and flags ------------------------------------------------
    def reg(self, n: int) -> str:
        """Register ``n`` as an operand: its local, or a decimal literal when its value is known
        (PC always is)."""
        if n == 15:
            return str(self.pc_read)
        value = self.known.get(n)
        if value is not None:
            return str(value)
        self.used.add(n)
        return LOCAL_NAMES[n]

    def set_reg(self, n: int, expr: str) -> None:
        """``n = expr``; a decimal literal stays known while straight-line code (outside any
        ``if``) does not write ``n`` again (folding other expressions of literals here would cost
        an ``eval`` per write, and Python's compiler folds them anyway)."""
        assert n != 15, "PC writes go through write_pc"
        self.used.add(n)
        self.written.add(n)
        if self.indent == 2 and expr.isdigit():
            self.known[n] = int(expr)
        else:
            self.known.pop(n, None)
        self.emit(f"{LOCAL_NAMES[n]} = {expr}")

    def known_value(self, n: int) -> Optional[int]:
        """The value register ``n`` is known to hold here (see set_reg), else None."""
        return self.known.get(n)

    def reg_dest(self, n: int) -> str:
        """The local of register ``n`` as an assignment target (marks it written)."""
        assert n != 15
        self.used.add(n)
        self.written.add(n)
        self.known.pop(n, None)
        return LOCAL_NAMES[n]

    def flag(self, name: str) -> str:
        self.used.add(FLAG_INDEX[name])
        return name

    def set_flag(self, name: str, expr: str) -> None:
        idx = FLAG_INDEX[name]
        self.used.add(idx)
        self.written.add(idx)
        self.emit(f"{name} = {expr}")

    def set_nz(self, expr: str) -> None:
        """N and Z from a 32-bit result (lazily: both locals hold the result)."""
        for idx in (state.NF, state.ZF):
            self.used.add(idx)
            self.written.add(idx)
        self.emit(f"nf = zf = {expr}")

    def cond(self, cc: int) -> Optional[str]:
        for f in COND_FLAGS[cc].split():
            self.flag(f)
        return COND_EXPR[cc]

    # ---- control flow inside the block --------------------------------------
    def open_if(self, expr: str) -> None:
        self.emit(f"if {expr}:")
        self.indent += 1

    def close_if(self) -> None:
        self.indent -= 1

    # ---- memory ---------------------------------------------------------------
    def _mem(self) -> None:
        self.uses_memory = True

    def load(self, size: int, addr: str, dest: Optional[str] = None) -> str:
        """Emit a zero-extending load of ``size`` bytes; returns the local holding it."""
        self._mem()
        addr = self.as_local(addr)
        dest = dest or self.tmp("v")
        # A literal pool entry (a PC-relative address) on this block's own, write-protected page.
        # Other constant addresses are left alone: a variable written often on a code page would
        # invalidate the block at every store.
        if addr.isdigit() and self.reads_pc:
            value = self.code_reader(int(addr), size)
            if value is not None:
                self.emit(f"{dest} = {value:#x}")
                return dest
        d = self.tmp("d")
        self.emit(f"{d} = TR.get({_page_of(addr)})")
        if size == 1:
            self.emit(f"{dest} = LD({addr}, 1) if {d} is None else M8[{addr} + {d}]")
        else:
            view, sh = ("M32", 2) if size == 4 else ("M16", 1)
            self.emit(f"{dest} = LD({addr}, {size}) if {d} is None{_misaligned(addr, size)} "
                      f"else {view}[({addr} + {d}) >> {sh}]")
        return dest

    def store(self, size: int, addr: str, value: str) -> None:
        self._mem()
        addr = self.as_local(addr)
        d = self.tmp("d")
        self.emit(f"{d} = TW.get({_page_of(addr)})")
        if size == 1:
            self.emit(f"if {d} is None: ST({addr}, 1, {value})")
            self.emit(f"else: M8[{addr} + {d}] = {value}")
        else:
            view, sh = ("M32", 2) if size == 4 else ("M16", 1)
            self.emit(f"if {d} is None{_misaligned(addr, size)}: ST({addr}, {size}, {value})")
            self.emit(f"else: {view}[({addr} + {d}) >> {sh}] = {value}")

    # ---- leaving the block ------------------------------------------------------
    def writeback(self) -> None:
        self.lines.append((self.indent, _WB))
        self.line_insn.append(len(self.insn_pcs) - 1)

    def exit_static(self, target: int) -> None:
        """Leave for a known PC; the exit can be chained to the next TB. A jump back to the
        block's own start loops inside the block (bounded, and only while no exit is requested)."""
        target &= 0xFFFFFFFF
        self.last_target = target
        if target in self.internal:
            self._jump_inside(target)
            return
        if target == self.start_pc and self.allow_loop:
            self.loops = True
            self.emit(f"if _n < {LOOP_LIMIT} and not X.exit_request:")
            self.emit("    _n += 1  # completed iterations, this one included")
            self.emit("    continue")
        slot = len(self.exits)
        self.exits.append(target)
        self.emit(f"R[15] = {target:#x}")
        self._exit(f"L[{slot}]")

    def _jump_inside(self, target: int) -> None:
        """In a region, go on at another of its blocks unless the dispatcher is wanted: an exit
        request, the region's instruction limit, or the region invalidated (``T``: its TB)."""
        at = len(self.insn_pcs) - 1
        self.lines.append((self.indent, _COUNT))
        self.line_insn.append(at)
        self.emit(f"if {_LEAVE_REGION}:")
        self.lines.append((self.indent + 1, _WBC))
        self.line_insn.append(at)
        self.emit(f"    R[15] = {target:#x}")
        self.emit("    return None")
        self.emit(f"_pc = {target:#x}")
        self.emit("continue")
        self.ended = True

    def leave_if(self, expr: str) -> None:
        """Leave for the next instruction when ``expr`` holds at run time (a helper that went on
        asked for the dispatcher); else the block goes on."""
        self.open_if(expr)
        self.emit(f"R[15] = {self.next_pc:#x}")
        self._exit("None")
        self.close_if()
        self.ended = False

    def _exit(self, value: str) -> None:
        """Return ``value`` (the next TB or None) once the registers are stored back."""
        self.lines.append((self.indent, _EXIT + value))
        self.line_insn.append(len(self.insn_pcs) - 1)
        self.ended = True

    def exit_dynamic(self, expr: str) -> None:
        """Leave for a computed PC in the same instruction set (no chaining)."""
        self._exit_computed(expr)

    def _exit_computed(self, expr: str) -> None:
        if self.internal:
            expr = self.as_local(expr)
            self._return_inside(expr)
        self.emit(f"R[15] = {expr}")
        self._exit("None")

    def _return_inside(self, target: str) -> None:
        """In a region, a computed jump to one of its blocks (a leaf function returning into the
        loop that called it) goes on there, unless the dispatcher is wanted."""
        self.const("INSIDE", self.internal)
        self.emit(f"if {target} in INSIDE and not ({_LEAVE_REGION}):")
        self.lines.append((self.indent + 1, _COUNT))
        self.line_insn.append(len(self.insn_pcs) - 1)
        self.emit(f"    _pc = {target}")
        self.emit("    continue")

    def exit_interwork(self, expr: str) -> None:
        """BXWritePC: leave for ``expr``; bit 0 selects Thumb. Same-state targets skip the helper."""
        t = self.tmp("j")
        self.emit(f"{t} = {expr}")
        self.const("BXPC", _bx)
        self.open_if(f"not {t} & 1" if self.thumb else f"{t} & 1")
        self.writeback()
        self.emit(f"BXPC(X, {t})")
        self.emit("return None")
        self.close_if()
        self._exit_computed(f"{t} & {'0xFFFFFFFE' if self.thumb else '0xFFFFFFFC'}")

    def exit_helper(self, name: str, fn: Callable[..., Any], args: str) -> None:
        """Store everything back, then let a helper change the vCPU (PC included) and leave."""
        self.const(name, fn)
        self.writeback()
        self.emit(f"R[15] = {self.cur_pc:#x}")
        self.emit(f"{name}({args})")
        self.emit("return None")
        self.ended = True

    # ---- finalisation --------------------------------------------------------------
    def saves(self) -> Saves:
        """The registers the block writes (see ``saves_of``)."""
        return saves_of(self.written)

    def counter(self) -> Optional[Tuple[str, int]]:
        """(local, instructions per unit) of what a self-looping block counts itself: its
        completed iterations, added to ``X.extra_insns`` on the way out (see TB.counter)."""
        return ("_n", len(self.insn_pcs)) if self.loops else None

    def source(self) -> Tuple[str, List[int]]:
        """Python source of the block function and, per source line, the index of its instruction
        (-1: none). Its constants are the globals of the namespace it is executed in.

        Storing the registers back is the longest line of a block and compiling it costs about
        40 us, so a block with several exits has it once: each exit sets ``_r`` and breaks out of
        a loop around the body, and the write-back after the loop returns ``_r``. No handler
        stores them for a guest exception either: the engine reads the locals from the block's
        frame in the traceback (Engine._fault)."""
        out = ["def tb(R, F, X):"] + prologue(self.used | self.written, self.uses_memory, self.priv)
        owners = [-1] * len(out)
        wb = write_back(self.saves())
        counter = self.counter()
        if counter is not None:  # instructions of the completed iterations, for the dispatcher's count
            wb = (wb + "; " if wb else "") + f"X.extra_insns += {counter[0]} * {counter[1]}"
            out.append(f"    {counter[0]} = 0")
            owners.append(-1)
        tail = bool(wb) and sum(1 for _, text in self.lines if text.startswith(_EXIT)) > 1
        last = len(self.insn_pcs) - 1
        shift = -1  # the body's lines were emitted at indent 2
        if self.loops or tail:
            out.append("    while True:")
            owners.append(-1)
            shift = 0
        for (ind, text), owner in zip(self.lines, self.line_insn):
            pad = "    " * (ind + shift)
            if text == _WB:
                if wb:
                    out.append(pad + wb)
                    owners.append(owner)
                continue
            if text.startswith(_EXIT):
                value = text[len(_EXIT):]
                lines = [f"_r = {value}", "break"] if tail else ([wb] if wb else []) + [f"return {value}"]
                if owner < last:  # a taken branch before the block's end: the dispatcher counts them all
                    lines.insert(0, f"X.extra_insns -= {last - owner}")
                out += [pad + line for line in lines]
                owners += [owner] * len(lines)
                continue
            out.append(pad + text)
            owners.append(owner)
        if tail:
            out += ["    " + wb, "    return _r"]
            owners += [-1, -1]
        return "\n".join(out) + "\n", owners
