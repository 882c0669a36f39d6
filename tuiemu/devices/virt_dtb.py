"""The device tree QEMU 7.2's virt board describes itself with (cortex-a15).

QEMU leaves this blob at address 0, in flash, when the ELF it loads covers the start of RAM; for a
Linux kernel it puts it in RAM after the initrd, with /chosen's bootargs (a non-empty -append) and
initrd range added last, in that order. The nodes and properties are added in QEMU's order, so the
blob has QEMU's bytes apart from /chosen's kaslr-seed and rng-seed, which are random on every boot
there too.
"""
from __future__ import annotations

from typing import Callable, List, Optional, Tuple

from .fdt import DeviceTree, Value
from .virtio_mmio import BASE as VIRTIO_BASE
from .virtio_mmio import FIRST_SPI as VIRTIO_FIRST_SPI
from .virtio_mmio import SLOT_SIZE as VIRTIO_SLOT_SIZE
from .virtio_mmio import SLOTS as VIRTIO_SLOTS

DTB_SIZE = 0x100000
SPI, PPI = 0, 1
LEVEL_HIGH, EDGE_RISING = 4, 1
PCI_INTX_FIRST_SPI = 3
KEY_POWER = 116
PSCI_CPU_SUSPEND, PSCI_CPU_OFF, PSCI_CPU_ON, PSCI_MIGRATE = 0x84000001, 0x84000002, 0x84000003, 0x84000005


def _reg(*values: int) -> List[int]:
    """Addresses and sizes as two cells each."""
    cells: List[int] = []
    for value in values:
        cells += [value >> 32, value & 0xFFFFFFFF]
    return cells


def _node(t: DeviceTree, parent: str, name: str, *props: Tuple[str, Value]) -> str:
    path = t.add_node(parent, name)
    for prop in props:
        t.set(path, *prop)
    return path


def build(ncpus: int, ram_size: int, random_bytes: Callable[[int], bytes], bootargs: str = "",
          initrd: Optional[Tuple[int, int]] = None) -> DeviceTree:
    """The tree; ``initrd`` is its (start, end) in RAM."""
    t = DeviceTree(DTB_SIZE)
    root_props: List[Tuple[str, Value]] = [("compatible", "linux,dummy-virt"), ("#address-cells", 2),
                                           ("#size-cells", 2), ("model", "linux,dummy-virt")]
    for prop in root_props:
        t.set("", *prop)
    chosen = _node(t, "", "chosen", ("kaslr-seed", random_bytes(8)), ("rng-seed", random_bytes(32)))

    clock = t.phandle()
    _node(t, "", "apb-pclk", ("compatible", "fixed-clock"), ("#clock-cells", 0), ("clock-frequency", 24000000),
          ("clock-output-names", "clk24mhz"), ("phandle", clock))
    flags = (((1 << ncpus) - 1) << 8) | LEVEL_HIGH
    _node(t, "", "timer", ("compatible", "arm,armv7-timer"), ("always-on", b""),
          ("interrupts", [PPI, 13, flags, PPI, 14, flags, PPI, 11, flags, PPI, 10, flags]))

    cpus = _node(t, "", "cpus", ("#address-cells", 1), ("#size-cells", 0))
    cpu_phandles = {}
    for i in reversed(range(ncpus)):
        cpu = _node(t, cpus, f"cpu@{i}", ("device_type", "cpu"), ("compatible", "arm,cortex-a15"))
        if ncpus > 1:
            t.set(cpu, "enable-method", "psci")
        cpu_phandles[i] = t.phandle()
        t.set(cpu, "reg", i)
        t.set(cpu, "phandle", cpu_phandles[i])
    cluster = t.add_node(t.add_node(t.add_node(cpus, "cpu-map"), "socket0"), "cluster0")
    for i in reversed(range(ncpus)):
        _node(t, cluster, f"core{i}", ("cpu", cpu_phandles[i]))

    _node(t, "", "flash@0", ("compatible", "cfi-flash"), ("reg", _reg(0, 0x4000000, 0x4000000, 0x4000000)),
          ("bank-width", 4))

    gic = t.phandle()
    intc = t.add_node("", "intc@8000000")
    t.set("", "interrupt-parent", gic)
    gic_props: List[Tuple[str, Value]] = [
        ("#interrupt-cells", 3), ("interrupt-controller", b""), ("#address-cells", 2), ("#size-cells", 2),
        ("ranges", b""), ("compatible", "arm,cortex-a15-gic"), ("reg", _reg(0x08000000, 0x10000, 0x08010000, 0x10000)),
        ("phandle", gic)]
    for prop in gic_props:
        t.set(intc, *prop)
    msi = t.phandle()
    _node(t, intc, "v2m@8020000", ("compatible", "arm,gic-v2m-frame"), ("msi-controller", b""),
          ("reg", _reg(0x08020000, 0x1000)), ("phandle", msi))

    t.add_node("", "pmu")
    _node(t, "", "pl011@9000000", ("compatible", ["arm,pl011", "arm,primecell"]), ("reg", _reg(0x09000000, 0x1000)),
          ("interrupts", [SPI, 1, LEVEL_HIGH]), ("clocks", [clock, clock]), ("clock-names", ["uartclk", "apb_pclk"]))
    t.set(chosen, "stdout-path", "/pl011@9000000")
    _node(t, "", "pl031@9010000", ("compatible", ["arm,pl031", "arm,primecell"]), ("reg", _reg(0x09010000, 0x1000)),
          ("interrupts", [SPI, 2, LEVEL_HIGH]), ("clocks", [clock]), ("clock-names", "apb_pclk"))
    _pcie(t, gic, msi)

    gpio = t.phandle()
    _node(t, "", "pl061@9030000", ("reg", _reg(0x09030000, 0x1000)), ("compatible", ["arm,pl061", "arm,primecell"]),
          ("#gpio-cells", 2), ("gpio-controller", b""), ("interrupts", [SPI, 7, LEVEL_HIGH]), ("clocks", [clock]),
          ("clock-names", "apb_pclk"), ("phandle", gpio))
    keys = _node(t, "", "gpio-keys", ("compatible", "gpio-keys"))
    _node(t, keys, "poweroff", ("label", "GPIO Key Poweroff"), ("linux,code", KEY_POWER), ("gpios", [gpio, 3, 0]))

    for i in reversed(range(VIRTIO_SLOTS)):
        base = VIRTIO_BASE + i * VIRTIO_SLOT_SIZE
        _node(t, "", f"virtio_mmio@{base:x}", ("compatible", "virtio,mmio"), ("reg", _reg(base, VIRTIO_SLOT_SIZE)),
              ("interrupts", [SPI, VIRTIO_FIRST_SPI + i, EDGE_RISING]), ("dma-coherent", b""))
    _node(t, "", "fw-cfg@9020000", ("compatible", "qemu,fw-cfg-mmio"), ("reg", _reg(0x09020000, 0x18)),
          ("dma-coherent", b""))
    _node(t, "", "platform-bus@c000000", ("compatible", ["qemu,platform", "simple-bus"]), ("#size-cells", 1),
          ("#address-cells", 1), ("ranges", [0, 0, 0x0C000000, 0x02000000]), ("interrupt-parent", gic))
    _node(t, "", "memory@40000000", ("device_type", "memory"), ("reg", _reg(0x40000000, ram_size)))
    set_chosen(t, bootargs, initrd)  # QEMU's boot code sets these, then adds the PSCI node
    _node(t, "", "psci", ("compatible", ["arm,psci-1.0", "arm,psci-0.2", "arm,psci"]), ("method", "hvc"),
          ("cpu_suspend", PSCI_CPU_SUSPEND), ("cpu_off", PSCI_CPU_OFF), ("cpu_on", PSCI_CPU_ON),
          ("migrate", PSCI_MIGRATE))
    return t


def set_chosen(t: DeviceTree, bootargs: str, initrd: Optional[Tuple[int, int]]) -> None:
    """What QEMU adds to /chosen (creating it in a tree of the user's) for a Linux boot."""
    if not t.has_node("/chosen"):
        t.add_node("", "chosen")
    if bootargs:
        t.set("/chosen", "bootargs", bootargs)
    if initrd is not None:
        t.set("/chosen", "linux,initrd-start", initrd[0])
        t.set("/chosen", "linux,initrd-end", initrd[1])


def _pcie(t: DeviceTree, gic: int, msi: int) -> None:
    """The generic ECAM host bridge: ECAM in high memory, I/O, 32-bit and 64-bit MMIO windows,
    INTA-D of slots 0-3 swizzled onto SPIs 3-6."""
    imap: List[int] = []
    for slot in range(4):
        for pin in range(4):
            imap += [slot << 11, 0, 0, pin + 1, gic, 0, 0, SPI, PCI_INTX_FIRST_SPI + (slot + pin) % 4, LEVEL_HIGH]
    _node(t, "", "pcie@10000000", ("compatible", "pci-host-ecam-generic"), ("device_type", "pci"),
          ("#address-cells", 3), ("#size-cells", 2), ("linux,pci-domain", 0), ("bus-range", [0, 0xFF]),
          ("dma-coherent", b""), ("msi-map", [0, msi, 0, 0x10000]), ("reg", _reg(0x4010000000, 0x10000000)),
          ("ranges", [0x01000000, 0, 0, *_reg(0x3EFF0000, 0x10000),
                      0x02000000, *_reg(0x10000000, 0x10000000, 0x2EFF0000),
                      0x03000000, *_reg(0x8000000000, 0x8000000000, 0x8000000000)]),
          ("#interrupt-cells", 1), ("interrupt-map", imap), ("interrupt-map-mask", [0x1800, 0, 0, 7]))
