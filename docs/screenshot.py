"""Regenerate docs/dashboard.svg, the README's screenshot: the dashboard on a real run of the
smp_spinlock conformance guest (4 vCPUs), saved by Textual itself.

    .venv/bin/python docs/screenshot.py
"""
from __future__ import annotations

import asyncio
from pathlib import Path

from tuiemu.cli import use_one_host_cpu
from tuiemu.devices.console import Console
from tuiemu.machine import Machine
from tuiemu.ui.app import Dashboard

HERE = Path(__file__).resolve().parent
GUEST = HERE.parent / "tests" / "guests" / "conformance" / "tests" / "smp_spinlock.elf"


async def main() -> None:
    use_one_host_cpu()  # as `tuiemu run` does under the GIL
    m = Machine(ncpus=4, threads="multi", console=Console(None))
    m.load_elf(str(GUEST))
    app = Dashboard(m)
    async with app.run_test(size=(160, 48)) as pilot:
        m.start()
        await pilot.pause(1.0)
        await pilot.press("l")
        await pilot.pause(0.8)
        app.save_screenshot(str(HERE / "dashboard.svg"))
    m.exit(0)


if __name__ == "__main__":
    asyncio.run(main())
