"""SMP engine properties through the Python API: racing translation, safe work under stress."""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Dict

from tuiemu.devices.console import Console
from tuiemu.machine import Machine

from ..elfgen import BASE, branch, mov32, write_program

WFI = 0xE320F003
WFE = 0xE320F002


def counting_loop(iterations: int) -> list:
    """r0 counts to ``iterations`` through several blocks, then the CPU sleeps in WFI forever."""
    code = [0xE3A00000] + mov32(1, iterations)            # 0: mov r0,#0; 4,8: r1 = n
    loop = BASE + 4 * len(code)
    code += [0xE2800001, 0xE2511001]                       # add r0,r0,#1; subs r1,r1,#1
    code += [(branch(BASE + 4 * len(code), loop) & 0x0FFFFFFF) | 0x10000000]  # bne loop
    sleep = BASE + 4 * len(code)
    code += [WFI, branch(sleep + 4, sleep)]
    return code


def power_on_all(m: Machine) -> None:
    for v in m.vcpus:
        v.power_on(BASE)


def wait_for(cond, timeout: float = 30.0) -> None:
    t0 = time.monotonic()
    while not cond():
        assert time.monotonic() - t0 < timeout, "timed out"
        time.sleep(0.005)


def test_racing_translation_publishes_one_tb_per_block(tmp_path: Path) -> None:
    """Four vCPUs start at the same code at once: every block exists once and all run that TB."""
    m = Machine(ncpus=4, threads="multi", console=Console(out=None))
    m.load_elf(str(write_program(tmp_path / "race.elf", counting_loop(20000))))
    translate = m.translator.translate
    translating: Dict[tuple, int] = {}  # (pc, flags) -> how many vCPUs have translated that block
    arrived = threading.Condition()

    def racing_translate(x, pc, flags, *args, **kwargs):
        """Hold each fresh TB back until a second vCPU has translated the same block as well, so
        that both publish it: the vCPUs race for every block however late their threads start
        (the timeout only keeps a broken engine from hanging the test)."""
        tb = translate(x, pc, flags, *args, **kwargs)
        with arrived:
            translating[pc, flags] = translating.get((pc, flags), 0) + 1
            arrived.notify_all()
            arrived.wait_for(lambda: translating[pc, flags] >= 2, timeout=10)
        return tb
    m.translator.translate = racing_translate
    power_on_all(m)
    m.start()
    try:
        wait_for(lambda: all(v.run_state == "wfi" for v in m.vcpus))
        m.runctl.stop()
        cache = m.cache
        tbs = list(cache.map.values())
        assert len({(tb.ppc, tb.pc, tb.flags) for tb in tbs}) == len(tbs) == cache.stats.translated
        assert sum(v.counters.translated for v in m.vcpus) == cache.stats.translated + cache.stats.raced
        assert cache.stats.raced > 0, "the vCPUs never raced: the test proves nothing"
        by_key = {tb.jc_key: tb for tb in tbs}
        for v in m.vcpus:
            assert v.R[0] == 20000
            for key, tb in v.jump_cache.items():
                assert tb is by_key[key]
    finally:
        m.exit(0)
        m.runctl.resume()


def test_safe_work_stress_with_sleepers(tmp_path: Path) -> None:
    """Many stop-the-world requests from vCPUs and outside threads while others run, sleep in WFI or
    WFE, or stay powered off."""
    code = [0xE3A00000]                                   # all: r0 = 0
    spin = BASE + 4
    code += [0xE2800001, branch(spin + 4, spin)]          # CPUs 0,1 spin: r0 += 1 forever
    wfi_at = BASE + 4 * len(code)
    code += [WFI, branch(wfi_at + 4, wfi_at)]
    wfe_at = BASE + 4 * len(code)
    code += [WFE, branch(wfe_at + 4, wfe_at)]
    m = Machine(ncpus=5, threads="multi", console=Console(out=None))
    m.load_elf(str(write_program(tmp_path / "stress.elf", code)))  # cpu4 stays powered off
    for v, entry in zip(m.vcpus, (spin, spin, wfi_at, wfe_at)):
        v.power_on(entry)
    done = []
    lock = threading.Lock()

    def work(tag: str) -> None:
        # nobody may be inside translated code while this runs
        inside = {i for i, r in enumerate(m.safe.running) if r}
        assert not inside - {int(tag[-1])} if tag.startswith("vcpu") else not inside
        with lock:
            done.append(tag)

    m.start()
    try:
        wait_for(lambda: m.vcpus[0].counters.insns > 1000 and m.vcpus[1].counters.insns > 1000
                 and m.vcpus[2].run_state == "wfi" and m.vcpus[3].run_state == "wfe")
        rounds = 60
        for i in range(rounds):
            for v in m.vcpus[:2]:
                v.run_on_cpu(lambda v, i=i: m.safe.run(lambda: work(f"vcpu{v.index}"), "stress", requester=v))
        outside = [threading.Thread(target=lambda: [m.safe.run(lambda: work("ext"), "stress")
                                                    for _ in range(rounds)]) for _ in range(2)]
        for t in outside:
            t.start()
        for t in outside:
            t.join(60)
            assert not t.is_alive(), "deadlock: an outside requester never finished"
        wait_for(lambda: len(done) == 4 * rounds, timeout=60)
        assert done.count("vcpu0") == done.count("vcpu1") == rounds and done.count("ext") == 2 * rounds
        assert m.vcpus[2].run_state == "wfi" and m.vcpus[3].run_state == "wfe" and m.vcpus[4].run_state == "off"
        before = m.vcpus[0].counters.insns
        wait_for(lambda: m.vcpus[0].counters.insns > before + 1000)  # the world turns again
    finally:
        m.exit(0)
