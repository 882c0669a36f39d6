"""The cost of a guest exception round trip: a data abort (a load from an address with nothing
there, the handler returning past it with ``subs pc, lr, #4``) beside an SVC (the handler
returning with ``movs pc, lr``), both in a loop of N iterations, in one run, side by side.

    python bench/exceptions.py [N]

An OS takes page faults all the time; an abort should cost about what an SVC costs.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.elfgen import BASE, branch, exit_with, mov32, write_program  # noqa: E402
from tuiemu.devices.console import Console  # noqa: E402
from tuiemu.machine import Machine  # noqa: E402

VECTORS = [branch(BASE, BASE + 0x40), 0, 0xE1B0F00E, 0, 0xE25EF004, 0, 0, 0] + [0] * 8  # svc, dabt return
LOAD_NOTHING, SVC = 0xE5901000, 0xEF000001  # ldr r1, [r0] (r0: an address that aborts); svc #1


def program(path: Path, body: int, n: int) -> Path:
    main = mov32(0, BASE) + [0xEE0C0F10, 0xF57FF06F] + mov32(0, 0x3F000000) + mov32(2, n)  # VBAR; r0; r2 = n
    loop = BASE + 0x40 + 4 * len(main)
    main += [body, 0xE2522001, (branch(loop + 8, loop) & 0x0FFFFFFF) | 0x10000000]  # subs r2; bne loop
    return write_program(path, VECTORS + main + exit_with(0, BASE + 0x1000))


def seconds(elf: Path) -> float:
    m = Machine(threads="single", console=Console(None))
    m.load_elf(str(elf))
    t0 = time.perf_counter()
    assert m.run() == 0
    return time.perf_counter() - t0


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as d:
        abort = seconds(program(Path(d) / "abort.elf", LOAD_NOTHING, n))
        svc = seconds(program(Path(d) / "svc.elf", SVC, n))
    print(f"{n} round trips: data abort {abort / n * 1e6:.1f} us, SVC {svc / n * 1e6:.1f} us "
          f"(abort/SVC {abort / svc:.2f})")


if __name__ == "__main__":
    main()
