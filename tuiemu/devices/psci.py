"""PSCI 1.1 over HVC, answering as QEMU's virt board does (no EL2/EL3 firmware)."""
from __future__ import annotations

from typing import Any, Callable, List

from ..core.runstate import RunState

PSCI_VERSION, CPU_SUSPEND, CPU_OFF, CPU_ON = 0x84000000, 0x84000001, 0x84000002, 0x84000003
AFFINITY_INFO, MIGRATE_INFO_TYPE, SYSTEM_OFF, SYSTEM_RESET = 0x84000004, 0x84000006, 0x84000008, 0x84000009
PSCI_FEATURES = 0x8400000A
CPU_SUSPEND_64, CPU_ON_64, AFFINITY_INFO_64 = 0xC4000001, 0xC4000003, 0xC4000004
SUCCESS, NOT_SUPPORTED, INVALID_PARAMETERS, ALREADY_ON = 0, -1, -2, -4
KNOWN = {PSCI_VERSION, CPU_SUSPEND, CPU_OFF, CPU_ON, AFFINITY_INFO, MIGRATE_INFO_TYPE, SYSTEM_OFF,
         SYSTEM_RESET, PSCI_FEATURES, CPU_SUSPEND_64, CPU_ON_64, AFFINITY_INFO_64}


class PSCI:
    """Powers vCPUs on and off itself; ``system_off`` and ``system_reset`` are the board's."""

    def __init__(self, vcpus: List[Any], system_off: Callable[[], None], system_reset: Callable[[], None]) -> None:
        self.vcpus = vcpus
        self.system_off, self.system_reset = system_off, system_reset

    @staticmethod
    def cpu_on(target: Any, entry: int, context: int) -> None:
        """The target resets itself on its own thread; it counts as on from now (AFFINITY_INFO)."""
        target.run_on_cpu(lambda v: v.power_on(entry, context))
        target.set_run_state(RunState.RUNNING)

    @staticmethod
    def cpu_off(vcpu: Any) -> None:
        vcpu.set_run_state(RunState.OFF)
        vcpu.exit_request = True

    def _target(self, mpidr: int) -> Any:
        """The vCPU whose affinity fields (MPIDR without the U/M bits) equal ``mpidr``."""
        for v in self.vcpus:
            if v.state.mpidr & 0xFFFFFF == mpidr:
                return v
        return None

    def call(self, x: Any) -> bool:
        """Handle the call in x's r0-r3; False if r0 is not a PSCI function (the HVC is undefined)."""
        R = x.R
        fn = R[0]
        if fn not in KNOWN:
            return False
        result = NOT_SUPPORTED
        if fn == PSCI_VERSION:
            result = 0x10001
        elif fn in (CPU_ON, CPU_ON_64):
            target = self._target(R[1])
            if target is None:
                result = INVALID_PARAMETERS
            elif target.run_state is not RunState.OFF:
                result = ALREADY_ON
            else:
                self.cpu_on(target, R[2], R[3])
                result = SUCCESS
        elif fn == CPU_OFF:
            self.cpu_off(x)
            return True
        elif fn in (AFFINITY_INFO, AFFINITY_INFO_64):
            target = self._target(R[1])
            if target is None or R[2] != 0:
                result = INVALID_PARAMETERS
            else:
                result = 1 if target.run_state is RunState.OFF else 0
        elif fn in (CPU_SUSPEND, CPU_SUSPEND_64):
            x.wfi()
            result = SUCCESS
        elif fn == MIGRATE_INFO_TYPE:
            result = 2
        elif fn == SYSTEM_OFF:
            self.system_off()
            return True
        elif fn == SYSTEM_RESET:
            self.system_reset()
            return True
        elif fn == PSCI_FEATURES:
            result = SUCCESS if R[1] in KNOWN else NOT_SUPPORTED
        R[0] = result & 0xFFFFFFFF
        return True
