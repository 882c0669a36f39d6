"""The board: a QEMU ``virt``-compatible machine (cortex-a15 cores) and the public Python API.

The CLI, the tests, the gdb stub and the dashboard all drive a ``Machine``:
load an ELF, run (blocking, or in the background), pause, step, read and
write registers and memory, read counters and events.
"""
from __future__ import annotations

import heapq
import sys
import threading
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

from . import boot
from .core import cp15
from .core.clock import GuestClock
from .core.events import EventBus
from .core.exceptions import GuestAbort, vector_address
from .core.runcontrol import RunControl
from .core.runstate import RunState
from .core.safework import SafeWork
from .core.scheduler import Scheduler
from .core.snapshot import LockView, RegisterView, Snapshot, TBInfo, VCPUView, registers_of
from .core.state import TBF_PRIV, TBF_THUMB, CPUState
from .core.vcpu import VCPU
from .core.watchpoints import Watchpoints
from .devices import virt_dtb
from .devices.console import Console
from .devices.fdt import DeviceTree
from .devices.generic_timer import GenericTimer
from .devices.gic import GICv2
from .devices.gic_regs import CPU_SIZE as GICC_SIZE
from .devices.gic_regs import DIST_SIZE as GICD_SIZE
from .devices.host_input import HostInput
from .devices.pl011 import PL011
from .devices.psci import PSCI
from .devices.semihosting import Semihosting
from .devices.virt_map import map_peripherals, seed_source
from .devices.virtio_blk import VirtioBlk
from .exitcodes import EXIT_ASLEEP, EXIT_OUTPUT, EXIT_PIPE, EXIT_UNHANDLED
from .loader import Image, LoadError, load_elf
from .mmu.address_space import AddressSpace, HostMemory, MMIORegion
from .mmu.codepages import CAUSE_DMA, CodePages
from .mmu.exclusive import ExclusiveMonitor
from .mmu.maintenance import Maintenance
from .mmu.pagetable import EXEC, READ
from .mmu.peek import peek
from .mmu.tlb import SoftTLB
from .translate import codecache
from .translate.engine import Engine
from .translate.tbcache import TB, TBCache
from .translate.translator import MAX_INSNS, Translator

RAM_BASE = 0x40000000
FLASH_BASE, FLASH_SIZE = 0x00000000, 0x08000000
GICD_BASE, GICC_BASE = 0x08000000, 0x08010000
UART_BASE, UART_IRQ = 0x09000000, 33  # SPI 1


def _execs(tb: TB) -> int:
    return tb.execs


class Machine:
    """The board. ``__init__`` is the composition root: every part receives its collaborators
    here, and no part reaches into another to connect itself."""

    def __init__(self, ncpus: int = 1, ram_size: int = 128 << 20, threads: str = "multi",
                 interp: bool = False, console: Optional[Console] = None, quantum: int = 4096,
                 cmdline: str = "", disks: Sequence[Tuple[str, bool]] = (), code_cache: bool = True) -> None:
        if not 1 <= ncpus <= 8:
            raise ValueError("-smp must be between 1 and 8")
        self.ncpus = ncpus
        self.threads = threads
        self.interp = interp
        self.events = EventBus()
        if console is None:
            console = Console(sys.stdout.buffer if sys.stdout is not None else None)
        self.console = console
        # the host stream broke: a closed pipe ends the run quietly, anything else with a message
        console.on_error = lambda e: self.exit(EXIT_PIPE if isinstance(e, BrokenPipeError) else EXIT_OUTPUT)

        # memory
        self.ram = HostMemory("ram", RAM_BASE, ram_size)
        self.flash = HostMemory("flash", FLASH_BASE, FLASH_SIZE, readonly=True)
        self.space = AddressSpace(self.ram)
        self.space.add(self.flash)
        self.code = CodePages(RAM_BASE)
        self.exclusive = ExclusiveMonitor(self.code)
        self.watchpoints = Watchpoints()

        # vCPUs: in single-thread mode one thread serves them all, so they share one wake condition
        shared_wake = threading.Condition(threading.Lock()) if threads == "single" else None
        self.vcpus: List[VCPU] = []
        tlb_epoch = [0]  # bumped by broadcast page invalidations (mmu/tlb.py)
        for i in range(ncpus):
            state = CPUState(i)
            tlb = SoftTLB(state, self.space, self.code, self.watchpoints, self.exclusive, tlb_epoch)
            self.code.track_write_maps(tlb.wmap, tlb.gmap)
            wake = shared_wake or threading.Condition(threading.Lock())
            self.vcpus.append(VCPU(state, self, tlb, self.exclusive, wake))
        self.safe = SafeWork(self.vcpus, self.events, serial=threads == "single" or ncpus == 1)
        self.code.in_flight, self.code.done_since = self.safe.in_flight, self.safe.done_since
        self.exclusive.in_flight, self.exclusive.done_since = self.safe.in_flight, self.safe.done_since
        self.exclusive.vcpus, self.exclusive.guards_needed = self.vcpus, not self.safe.serial

        # translation
        self.cache = TBCache(self.code, self.events, [v.jump_cache for v in self.vcpus])
        self.code.invalidate_hook = self._code_written
        self.space.on_write.append(lambda pa, n: self.code.notify_write(pa, n, CAUSE_DMA))
        self.codes = codecache.shared(codecache.default_directory() if code_cache else None)
        self.translator = Translator(self.space, self.code, self.codes, max_insns=1 if interp else MAX_INSNS)
        self.engine = Engine(self.translator, self.cache, chain=not interp, request_flush=self._request_flush)
        self.maintenance = Maintenance(self.vcpus, self.safe, self.events, lambda ppns, who: self._code_dropped(
            self.cache.revalidate(self.space.read_bytes, ppns, who), who))

        # devices
        self.clock = GuestClock(self.total_insns)
        self.gic = GICv2(self.vcpus, self.events, self.space.io_lock)
        self.timer = GenericTimer(self.vcpus, self.clock, self.gic)
        self.uart = PL011(self.console, irq=lambda level: self.gic.set_irq(UART_IRQ, level), lock=self.space.io_lock,
                          on_first_access=lambda: self.host_input.uart_touched())
        # stdin for the UART or semihosting console reads, whichever the guest uses first (cli starts the pump)
        self.host_input = HostInput(sys.stdin.buffer if sys.stdin is not None else None, self.uart.feed,
                                    on_quit=lambda: self.exit(0))
        self.space.add(MMIORegion("gicd", GICD_BASE, GICD_SIZE, self.gic.distributor))
        self.space.add(MMIORegion("gicc", GICC_BASE, GICC_SIZE, self.gic.cpu_interface))
        self.space.add(MMIORegion("uart", UART_BASE, 0x1000, self.uart))
        # virtio-blk disks: (image path, read-only); BlockError if one cannot be opened
        self.disks = [VirtioBlk(path, readonly) for path, readonly in disks]
        self.peripherals = map_peripherals(self.space, self.gic, ncpus, ram_size, self.clock,
                                           deterministic=threads == "single",
                                           virtio_devices=self.disks)
        self.semihosting = Semihosting(self.console, self.exit, self._heapinfo, cmdline=cmdline,
                                       stdin=self.host_input)
        self.psci = PSCI(self.vcpus, system_off=lambda: self.exit(0), system_reset=self._system_reset)
        self.sysregs = cp15.SysregHooks(
            tlb_maintenance=self.maintenance.tlb, cache_maintenance=self.maintenance.cache,
            translate_address=self.maintenance.translate_address, timer_read=self.timer.read,
            timer_write=self.timer.write, pending_interrupts=self._pending_interrupts,
            context_changed=self._context_changed)

        # running
        self.interactive = False  # a debugger or the dashboard may act: an idle guest is not over
        self.scheduler = Scheduler(self.vcpus, self.engine.execute, self.safe, self.clock, threads=threads,
                                   quantum=quantum, next_deadline=self.timer.next_deadline,
                                   update_timers=self.timer.update,
                                   may_wake=lambda: self.interactive or self.host_input.can_deliver())
        self.timer.on_change = self.scheduler.timers_changed
        self.runctl = RunControl(self.vcpus, self.safe, self.events, self.translator.breakpoints,
                                 self.watchpoints, step_one=self.engine.step,
                                 retranslate=lambda addr: self.cache.invalidate_virtual(addr, "breakpoint"))
        self.image: Optional[Image] = None
        self.exit_code: Optional[int] = None
        self.stop_message: Optional[str] = None
        self._thread: Optional[threading.Thread] = None

    # ---- loading ------------------------------------------------------------
    def load_elf(self, path: str) -> Image:
        return self._load(load_elf(path))

    def load_kernel(self, path: str, initrd: Optional[str] = None, append: str = "",
                    dtb: Optional[str] = None) -> Image:
        """QEMU's -kernel: an ELF runs from its entry point (``initrd`` and ``dtb`` do not apply and
        are reported in the image's warnings); a zImage or uImage boots as Linux (``boot.py``)."""
        if boot.is_elf(path):
            image = load_elf(path)
            image.warnings += [f"{what} is ignored: {path} is an ELF file, not a Linux image"
                               for what, given in (("-initrd", initrd), ("-dtb", dtb)) if given]
            return self._load(image)
        kernel = boot.linux_kernel(path, RAM_BASE)
        if kernel is None:
            raise LoadError(f"{path}: not an ELF file, a zImage or a uImage")
        data = boot.read_file(initrd, "initrd") if initrd else None
        start = boot.initrd_address(RAM_BASE, self.ram.size)
        tree = self.device_tree(append, (start, start + len(data)) if data else None, dtb)
        return self._load(boot.linux_image(path, kernel, RAM_BASE, self.ram.size, data, tree.packed()))

    def device_tree(self, bootargs: str = "", initrd: Optional[Tuple[int, int]] = None,
                    path: Optional[str] = None) -> DeviceTree:
        """The tree a Linux boot hands the kernel: the board's own, or the blob in ``path`` (-dtb), with
        /chosen's bootargs and initrd range set as QEMU sets them."""
        if path is None:
            return virt_dtb.build(self.ncpus, self.ram.size, seed_source(self.threads == "single"), bootargs,
                                  initrd)
        try:
            tree = DeviceTree.from_blob(boot.read_file(path, "device tree"), virt_dtb.DTB_SIZE)
        except ValueError as e:
            raise LoadError(f"{path}: {e}") from None
        virt_dtb.set_chosen(tree, bootargs, initrd)
        return tree

    def _load(self, image: Image) -> Image:
        for seg in image.segments:
            end = seg.paddr + seg.memsz
            region = self.space.find(seg.paddr)
            if not isinstance(region, HostMemory) or end > region.end:
                raise LoadError(f"{image.path}: segment {seg.paddr:#010x}-{end:#010x} lies outside RAM and flash")
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
            v.flush_translations()
            v.set_run_state(RunState.OFF)
        self.vcpus[0].power_on(self.image.entry)

    # ---- running ----------------------------------------------------------------
    def run(self, max_insns: Optional[int] = None) -> Optional[int]:
        """Run until the guest exits (returns its status), or ``max_insns`` have executed (returns None)."""
        self.scheduler.max_insns = max_insns
        self.scheduler.finished.clear()
        try:
            self.scheduler.run()
        finally:
            for disk in self.disks:  # what the guest wrote is in the image files when the run ends
                disk.sync()
            self.codes.flush()
        self.console.flush()
        asleep = self.scheduler.asleep_forever
        if asleep is not None and self.exit_code is None:
            self.stop_message = f"every vCPU sleeps and nothing can wake one ({asleep})"
            self.exit(EXIT_ASLEEP)
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

    @property
    def finished(self) -> bool:
        """The run is over (the guest exited, --max-insns was reached, or it was stopped)."""
        return self.scheduler.finished.is_set()

    def total_insns(self) -> int:
        return sum(v.counters.insns for v in self.vcpus)

    def _code_written(self, ppn: int, lo: int, hi: int, cause: str, who: int = -1) -> int:
        """A write landed on translated code: drop its blocks."""
        return self._code_dropped(self.cache.invalidate_code(ppn, lo, hi, cause, who), who)

    def _code_dropped(self, dropped: int, who: int) -> int:
        """When vCPU ``who`` (a store, an IC invalidation) dropped translated code, it leaves its
        block: that may be the block dropped, and one that loops on itself (or went on past a
        branch to the code it rewrites) would run the replaced code again."""
        if dropped and who >= 0:
            self.vcpus[who].exit_request = True
        return dropped

    def _request_flush(self, vcpu: VCPU, cause: str = "cache full") -> None:
        """The TB cache is full: flush it all, with every other vCPU out of translated code."""
        self.safe.run(lambda: self.cache.flush(cause, vcpu.index), "tb flush", requester=vcpu)

    def tb_flush(self, cause: str) -> int:
        """Drop every translated block now (debugger and dashboard; waits for the world to stop)."""
        dropped: List[int] = []
        self.safe.run(lambda: dropped.append(self.cache.flush(cause)), "tb flush")
        return dropped[0]

    # ---- Platform (called by vCPUs) --------------------------------------------
    def semihost(self, vcpu: VCPU) -> None:
        self.semihosting.call(vcpu)

    def hvc(self, vcpu: VCPU, imm: int) -> bool:
        return imm == 0 and self.psci.call(vcpu)

    def sysreg_read(self, vcpu: VCPU, key: tuple) -> Optional[int]:
        return cp15.read(vcpu.state, key, self.sysregs, vcpu)

    def sysreg_write(self, vcpu: VCPU, key: tuple, value: int) -> bool:
        return cp15.write(vcpu.state, key, value, self.sysregs, vcpu)

    def debug_stop(self, vcpu: VCPU, reason: Dict[str, Any]) -> None:
        self.runctl.on_stop(vcpu, reason)

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
        vcpu.set_run_state(RunState.OFF)
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

    @staticmethod
    def _pending_interrupts(vcpu: VCPU) -> int:
        return (0x80 if vcpu.irq_line else 0) | (0x40 if vcpu.fiq_line else 0)

    @staticmethod
    def _context_changed(vcpu: VCPU) -> None:
        vcpu.flush_translations()

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

    def send_input(self, data: bytes) -> None:
        """Host input for the guest's UART (the dashboard's console, the terminal)."""
        self.uart.feed(data)

    def peek(self, addr: int, length: int, index: int = 0, physical: bool = False) -> bytes:
        """Memory as vCPU ``index`` sees it, for viewers on any thread: no TLB fill, no MMIO access
        (raises GuestAbort when unmapped, BusError outside RAM and flash)."""
        return peek(self.space, self.vcpus[index].state, addr, length, physical)

    def counters(self) -> Dict[str, Any]:
        return {
            "vcpus": [dict(v.counters.as_dict(), state=v.run_state, pc=v.R[15]) for v in self.vcpus],
            "tb": self.cache.snapshot(),
            "code_cache": self.translator.code_cache_stats(),
            "tlb": [v.tlb.counters.as_dict() for v in self.vcpus],
            "locks": {lk.name: lk.totals() for lk in self.locks()},
            "safe_work": {"count": self.safe.count, "stopped_ns": self.safe.total_stop_ns},
        }

    def locks(self) -> list:
        return [self.cache.lock, self.space.io_lock, self.safe.lock, self.exclusive.lock]

    # ---- views for consumers (dashboard, --stats, monitor commands) -------------------
    def snapshot(self) -> Snapshot:
        """Everything the dashboard polls, copied without taking an engine lock."""
        vcpus = tuple(VCPUView(v.index, v.name, v.run_state, self.runctl.held(v),
                               dict(v.stop_reason) if v.debug_stop and v.stop_reason else None,
                               v.R[15], v.state.get_cpsr(), v.counters.as_dict(), v.tlb.counters.as_dict(),
                               len(v.tlb.entries)) for v in self.vcpus)
        locks = tuple(LockView(lk.name, lk.totals(), {k: st.as_dict() for k, st in list(lk.per_thread.items())},
                               lk.holder, tuple(sorted(lk.waiters))) for lk in self.locks())
        return Snapshot(time.perf_counter_ns(), self.clock.ticks(), vcpus, locks, self.cache.snapshot(),
                        dict(self.cache.dropped_by_cause), self.translator.code_cache_stats(),
                        {"count": self.safe.count, "stopped_ns": self.safe.total_stop_ns},
                        self.events.seq, self.finished, self.exit_code)

    def registers(self, index: int) -> RegisterView:
        return registers_of(self.vcpus[index])

    def hot_tbs(self, n: int = 50) -> List[TBInfo]:
        """The ``n`` most executed live blocks, hottest first."""
        return [self._tb_info(tb) for tb in heapq.nlargest(n, list(self.cache.map.values()), key=_execs)]

    def tb_at(self, index: int) -> Optional[TBInfo]:
        """The block vCPU ``index`` is about to run (or is running), if it has been translated."""
        v = self.vcpus[index]
        tb = v.jump_cache.get((v.state.tb_flags << 32) | v.R[15])
        if tb is None:
            pc = v.R[15]
            tb = next((t for t in list(self.cache.map.values()) if t.pc <= pc < t.pc + max(t.size, 1)), None)
        return None if tb is None else self._tb_info(tb)

    def tb_info(self, pc: int, flags: int) -> Optional[TBInfo]:
        """The live block starting at virtual ``pc`` with TB ``flags`` (a chain link's target)."""
        tb = next((t for t in list(self.cache.map.values()) if t.pc == pc and t.flags == flags), None)
        return None if tb is None else self._tb_info(tb)

    def _tb_info(self, tb: TB) -> TBInfo:
        if not tb.source:  # a block the code cache gave back: emitted again to be read, once
            tb.source = self.translator.source_of(tb)
        return TBInfo(tb.pc, tb.ppc, tb.flags, bool(tb.flags & TBF_THUMB), bool(tb.flags & TBF_PRIV), tb.ninsns,
                      tb.size, tuple(tb.insn_pcs), tb.code_bytes, tb.source, tuple(tb.exits),
                      tuple(None if t is None else t.pc for t in list(tb.links)),
                      tuple(src.pc for src, _ in list(tb.incoming)), tb.pages, tb.execs, tb.valid)
