"""The board: a QEMU ``virt``-compatible machine (cortex-a15 cores) and the public Python API.

The CLI, the tests, the gdb stub and the dashboard all drive a ``Machine``:
load an ELF, run (blocking, or in the background), pause, step, read and
write registers and memory, read counters and events.
"""
from __future__ import annotations

import sys
import threading
from typing import Any, Dict, List, Optional

from .core import cp15
from .core.clock import GuestClock
from .core.events import EventBus
from .core.exceptions import GuestAbort, vector_address
from .core.runcontrol import RunControl
from .core.safework import SafeWork
from .core.scheduler import Scheduler
from .core.vcpu import OFF, RUNNING, VCPU
from .devices.console import Console
from .devices.generic_timer import GenericTimer
from .devices.gic import GICv2
from .devices.pl011 import PL011
from .devices.psci import PSCI
from .devices.semihosting import Semihosting
from .loader import Image, LoadError, load_elf
from .mmu.address_space import AddressSpace, HostMemory, MMIORegion
from .mmu.codepages import CAUSE_DMA, CodePages
from .mmu.exclusive import ExclusiveMonitor
from .mmu.pagetable import EXEC, READ, WRITE
from .mmu.tlb import SoftTLB
from .translate.engine import Engine
from .translate.tbcache import TBCache
from .translate.translator import MAX_INSNS, Translator

RAM_BASE = 0x40000000
FLASH_BASE, FLASH_SIZE = 0x00000000, 0x08000000
GICD_BASE, GICC_BASE = 0x08000000, 0x08010000
UART_BASE, UART_IRQ = 0x09000000, 33  # SPI 1
EXIT_UNHANDLED = 3


class Machine:
    def __init__(self, ncpus: int = 1, ram_size: int = 128 << 20, threads: str = "multi",
                 interp: bool = False, console: Optional[Console] = None, quantum: int = 4096,
                 cmdline: str = "") -> None:
        if not 1 <= ncpus <= 8:
            raise ValueError("-smp must be between 1 and 8")
        self.ncpus = ncpus
        self.events = EventBus()
        self.console = console if console is not None else Console(sys.stdout.buffer)
        self.space = AddressSpace()
        self.ram = HostMemory("ram", RAM_BASE, ram_size)
        self.space.add(self.ram)
        self.space.ram = self.ram
        self.flash = HostMemory("flash", FLASH_BASE, FLASH_SIZE, readonly=True)
        self.space.add(self.flash)
        self.code = CodePages(RAM_BASE)
        self.cache = TBCache(self.code, self.events)
        self.space.on_write.append(lambda pa, n: self.code.notify_write(pa, n, CAUSE_DMA))
        self.exclusive = ExclusiveMonitor()
        self.vcpus: List[VCPU] = []
        for i in range(ncpus):
            v = VCPU(i, self)
            v.tlb = SoftTLB(v.state, self.space, self.code)
            v.fast = v.tlb.fast
            v.exclusive = self.exclusive
            self.cache.jump_caches.append(v.jump_cache)
            self.vcpus.append(v)
        self.threads = threads
        self.interp = interp
        self.translator = Translator(self.space, self.code, max_insns=1 if interp else MAX_INSNS)
        self.engine = Engine(self.translator, self.cache, chain=not interp, request_flush=self._request_flush)
        self.safe = SafeWork(self.vcpus, self.events)
        self.clock = GuestClock(threads == "single", self._total_insns)
        self.gic = GICv2(self.vcpus, self.events, self.space.io_lock)
        self.timer = GenericTimer(self.vcpus, self.clock, self.gic)
        self.uart = PL011(self.console, irq=lambda level: self.gic.set_irq(UART_IRQ, level))
        self.space.add(MMIORegion("gicd", GICD_BASE, 0x10000, self.gic.distributor))
        self.space.add(MMIORegion("gicc", GICC_BASE, 0x10000, self.gic.cpu_interface))
        self.space.add(MMIORegion("uart", UART_BASE, 0x1000, self.uart))
        self.semihosting = Semihosting(self.console, self.exit, self._heapinfo, cmdline=cmdline,
                                       stdin=sys.stdin.buffer if sys.stdin is not None else None)
        self.psci = PSCI(self.vcpus, self._cpu_on, self._cpu_off, lambda: self.exit(0), self._system_reset)
        self.scheduler = Scheduler(self.vcpus, self.engine.execute, self.safe, self.clock, threads=threads,
                                   quantum=quantum, next_deadline=self.timer.next_deadline,
                                   update_timers=self.timer.update)
        self.timer.on_change = self.scheduler.timers_changed
        self.runctl = RunControl(self)
        self.image: Optional[Image] = None
        self.exit_code: Optional[int] = None
        self.stop_message: Optional[str] = None
        self._thread: Optional[threading.Thread] = None

    # ---- loading ------------------------------------------------------------
    def load_elf(self, path: str) -> Image:
        image = load_elf(path)
        for seg in image.segments:
            end = seg.paddr + seg.memsz
            region = self.space.find(seg.paddr)
            if not isinstance(region, HostMemory) or end > region.end:
                raise LoadError(f"{path}: segment {seg.paddr:#010x}-{end:#010x} lies outside RAM and flash")
        for seg in image.segments:
            self.space.write_bytes(seg.paddr, seg.data, force=True)
            if seg.memsz > len(seg.data):
                self.space.write_bytes(seg.paddr + len(seg.data), bytes(seg.memsz - len(seg.data)), force=True)
        self.image = image
        self.reset()
        return image

    def reset(self) -> None:
        """CPU0 at the entry point, the others powered off."""
        assert self.image is not None
        for v in self.vcpus:
            v.state.reset(0)
            v.tlb.flush_all()
            v.jump_cache.clear()
            v.set_run_state(OFF)
        self.vcpus[0].power_on(self.image.entry)

    # ---- running ----------------------------------------------------------------
    def run(self, max_insns: Optional[int] = None) -> Optional[int]:
        """Run until the guest exits (returns its status), or ``max_insns`` have executed (returns None)."""
        self.scheduler.max_insns = max_insns
        self.scheduler.finished.clear()
        self.scheduler.run()
        self.console.flush()
        return self.exit_code

    def start(self, max_insns: Optional[int] = None) -> threading.Thread:
        """Run in a background thread (for the dashboard and the gdb stub)."""
        self._thread = threading.Thread(target=self.run, args=(max_insns,), name="machine", daemon=True)
        self._thread.start()
        return self._thread

    def exit(self, code: int) -> None:
        if self.exit_code is None:
            self.exit_code = code
            self.events.emit("exit", None, code=code)
        self.scheduler.stop()

    def _total_insns(self) -> int:
        return sum(v.counters.insns for v in self.vcpus)

    # ---- Platform (called by vCPUs) --------------------------------------------
    def semihost(self, vcpu: VCPU) -> None:
        self.semihosting.call(vcpu)

    def hvc(self, vcpu: VCPU, imm: int) -> bool:
        return imm == 0 and self.psci.call(vcpu)

    def sysreg_read(self, vcpu: VCPU, key: tuple) -> Optional[int]:
        return cp15.read(vcpu.state, key, self, vcpu)

    def sysreg_write(self, vcpu: VCPU, key: tuple, value: int) -> bool:
        return cp15.write(vcpu.state, key, value, self, vcpu, on_context=lambda: self._context_changed(vcpu))

    def unhandled_exception(self, vcpu: VCPU, kind: int, pc: int, detail: str) -> bool:
        """Stop the run (exit status 3) when the guest has no vector table to take the exception to."""
        s = vcpu.state
        vector = vector_address(s, kind)
        try:
            pa: Optional[int] = vcpu.tlb.translate(vector, EXEC, 1)
        except GuestAbort:
            pa = None
        if pa is not None and not (FLASH_BASE <= pa < FLASH_BASE + FLASH_SIZE and not self._flash_loaded()):
            return False
        self.stop_message = f"{vcpu.name}: {detail} (no exception vector at {vector:#010x})"
        self.exit(EXIT_UNHANDLED)
        vcpu.exit_request = True
        vcpu.set_run_state(OFF)
        return True

    def _flash_loaded(self) -> bool:
        return self.image is not None and any(s.paddr < FLASH_BASE + FLASH_SIZE for s in self.image.segments)

    def event(self, kind: str, vcpu: Optional[VCPU], **info: Any) -> None:
        self.events.emit(kind, None if vcpu is None else vcpu.index, **info)

    def send_event(self, vcpu: VCPU) -> None:
        for v in self.vcpus:
            v.state.event_reg = 1
            if v is not vcpu:
                v.kick()

    # ---- PSCI --------------------------------------------------------------------
    def _cpu_on(self, target: VCPU, entry: int, context: int) -> None:
        target.run_on_cpu(lambda v: v.power_on(entry, context))
        target.set_run_state(RUNNING)

    def _cpu_off(self, vcpu: VCPU) -> None:
        vcpu.set_run_state(OFF)
        vcpu.exit_request = True

    def _system_reset(self) -> None:
        if self.image is not None:
            for seg in self.image.segments:
                self.space.write_bytes(seg.paddr, seg.data, force=True)
        for v in self.vcpus:
            v.run_on_cpu(lambda v: None)
        self.cache.flush("reset")
        self.reset()

    def _heapinfo(self) -> tuple:
        end = self.image.end if self.image is not None else RAM_BASE
        top = RAM_BASE + self.ram.size
        return (end, top, top, end)

    # ---- SysregHooks ---------------------------------------------------------------
    def tlb_maintenance(self, vcpu: VCPU, op: str, value: int) -> None:
        broadcast = op.endswith("IS")
        local = op[:-2] if broadcast else op
        kind = {"TLBIALL": "all", "TLBIASID": "asid"}.get(local, "page")

        def flush(v: VCPU) -> int:
            n = v.tlb.flush_all() if kind != "page" else v.tlb.flush_page(value)
            v.jump_cache.clear()
            return n

        targets = self.vcpus if broadcast else [vcpu]

        def work() -> None:
            dropped = sum(flush(v) for v in targets)
            self.events.emit("tlb_flush", vcpu.index, op=op, kind=kind, va=value, broadcast=broadcast,
                             targets=[v.index for v in targets], dropped=dropped)
        self._stop_the_world(vcpu, work, op, needed=broadcast)

    def _stop_the_world(self, vcpu: VCPU, work: Any, what: str, needed: bool = True) -> None:
        """Run ``work`` with every other vCPU halted at a safe point, before ``vcpu`` goes on.

        Called from a helper inside translated code, so the requester only queues the work for
        itself: the block ends at this instruction and the work runs before the next one."""
        if not needed or self.threads == "single" or self.ncpus == 1:
            work()
            return
        vcpu.work.append(lambda v: self.safe.run_safe(v, work, what))
        vcpu.exit_request = True

    def cache_maintenance(self, vcpu: VCPU, op: str, value: int) -> None:
        """IC invalidation: stores to code are caught as they land, so only code changed by a store
        that raced with its translation can be stale; compare TBs with the bytes they came from."""
        if op in ("ICIALLU", "ICIALLUIS"):
            self.cache.revalidate(self.space.read_bytes, who=vcpu.index)
        elif op == "ICIMVAU":
            try:
                ppn = vcpu.tlb.translate(value, READ, 1) >> 12
            except GuestAbort:  # nothing mapped there: no code to invalidate
                return
            self.cache.revalidate(self.space.read_bytes, [ppn], who=vcpu.index)

    def _request_flush(self, vcpu: VCPU, cause: str = "cache full") -> None:
        """A full TB flush; it needs every other vCPU out of translated code."""
        self._stop_the_world(vcpu, lambda: self.cache.flush(cause, vcpu.index), "tb flush")

    def timer_read(self, vcpu: VCPU, reg: str) -> Optional[int]:
        return self.timer.read(vcpu, reg)

    def timer_write(self, vcpu: VCPU, reg: str, value: int) -> bool:
        return self.timer.write(vcpu, reg, value)

    def pending_interrupts(self, vcpu: VCPU) -> int:
        return (0x80 if vcpu.irq_line else 0) | (0x40 if vcpu.fiq_line else 0)

    def translate_address(self, vcpu: VCPU, op: str, va: int) -> int:
        """ATS1C{P,U}{R,W}: PAR gets the physical address or the fault status."""
        priv = 1 if op in ("ATS1CPR", "ATS1CPW") else 0
        access = WRITE if op.endswith("W") else READ
        try:
            pa = vcpu.tlb.translate(va, access, priv)
        except GuestAbort as e:
            return ((e.fsr & 0xF) << 1) | ((e.fsr >> 10 & 1) << 5) | 1
        return pa & ~0xFFF

    def _context_changed(self, vcpu: VCPU) -> None:
        vcpu.tlb.flush_all()
        vcpu.jump_cache.clear()

    # ---- inspection API (debugger, dashboard, tests) ---------------------------------
    def read_memory(self, addr: int, length: int, vcpu: Optional[VCPU] = None, physical: bool = False) -> bytes:
        if physical or vcpu is None:
            return self.space.read_bytes(addr, length)
        return vcpu.tlb.read_bytes(addr, length)

    def write_memory(self, addr: int, data: bytes, vcpu: Optional[VCPU] = None, physical: bool = False) -> None:
        """A debugger's write: page permissions are not checked and flash is written too (as QEMU's
        debug accesses do); translated code it overwrites is invalidated."""
        if physical or vcpu is None:
            self.space.write_bytes(addr, data, force=True)
            return
        pos = 0
        while pos < len(data):
            n = min(len(data) - pos, 0x1000 - (addr & 0xFFF))
            self.space.write_bytes(vcpu.tlb.translate(addr, READ, 1), data[pos:pos + n], force=True)
            addr = (addr + n) & 0xFFFFFFFF
            pos += n

    def counters(self) -> Dict[str, Any]:
        return {
            "vcpus": [dict(v.counters.as_dict(), state=v.run_state, pc=v.R[15]) for v in self.vcpus],
            "tb": self.cache.snapshot(),
            "tlb": [{k: getattr(v.tlb.counters, k) for k in v.tlb.counters.__slots__} for v in self.vcpus],
            "locks": {lk.name: lk.totals() for lk in self.locks()},
            "safe_work": {"count": self.safe.count, "stopped_ns": self.safe.total_stop_ns},
        }

    def locks(self) -> list:
        return [self.cache.lock, self.space.io_lock, self.safe.lock, self.exclusive.lock]

