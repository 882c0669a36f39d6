/* Board registers a guest can observe, as QEMU's virt board shows them (board_regs.smpN.expected):
 * GICv2 distributor and CPU interface ID and reset values and what reads back after writes, the
 * PL011's registers, the empty virtio-mmio transports, the GICv2m frame, the PL031 RTC, the PL061
 * GPIO, fw_cfg, the PCIe windows, the device tree QEMU leaves at the start of flash, and which
 * addresses abort. Run with -smp 1 and -smp 2 (CPU1 reports its banked GIC registers). */
#include "rt.h"
#include "vectors.h"

extern void secondary_start(void);

volatile uint32_t abort_count, abort_dfsr;
static uint8_t exc_stacks[2][0x2000] __attribute__((aligned(8)));

#define GICD 0x08000000u
#define GICC 0x08010000u
#define UART 0x09000000u
#define RTC 0x09010000u
#define FWCFG 0x09020000u
#define GPIO 0x09030000u
#define V2M 0x08020000u
#define VIRTIO 0x0a000000u

/* The empty asm hides the address from the compiler, which would otherwise object to address 0. */
#define OPAQUE(a) __asm__("" : "+r"(a))
static inline uint32_t rd32(uint32_t a) { OPAQUE(a); return *(volatile uint32_t *)a; }
static inline void wr32(uint32_t a, uint32_t v) { OPAQUE(a); *(volatile uint32_t *)a = v; }
static inline uint32_t rd8(uint32_t a) { OPAQUE(a); return *(volatile uint8_t *)a; }
static inline void wr8(uint32_t a, uint8_t v) { OPAQUE(a); *(volatile uint8_t *)a = v; }
static inline uint32_t rd16(uint32_t a) { OPAQUE(a); return *(volatile uint16_t *)a; }
static inline void wr16(uint32_t a, uint16_t v) { OPAQUE(a); *(volatile uint16_t *)a = v; }

void irq_handler(void) {}

static void putdec(uint32_t v)
{
    char buf[12];
    int i = 0;
    do {
        buf[i++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (i)
        putc_(buf[--i]);
}

/* name@address=value, or name@address=abort(DFSR) */
static void show(const char *name, uint32_t addr, uint32_t size)
{
    uint32_t before = abort_count, v;
    v = size == 1 ? rd8(addr) : size == 2 ? rd16(addr) : rd32(addr);
    puts_(name);
    putc_('@');
    puthex(addr);
    putc_('=');
    if (abort_count != before) {
        puts_("abort(");
        puthex(abort_dfsr);
        putc_(')');
    } else {
        puthex(v);
    }
    putc_('\n');
}

static void show_write(const char *name, uint32_t addr, uint32_t value)
{
    uint32_t before = abort_count;
    wr32(addr, value);
    puts_(name);
    puts_(" write@");
    puthex(addr);
    puts_(abort_count != before ? "=abort(" : "=ok(");
    puthex(abort_count != before ? abort_dfsr : value);
    puts_(")\n");
}

/* write, then show what reads back */
static void wr_show(const char *name, uint32_t addr, uint32_t value)
{
    wr32(addr, value);
    show(name, addr, 4);
}

static void show_range(const char *name, uint32_t base, uint32_t first, uint32_t last)
{
    for (uint32_t off = first; off <= last; off += 4)
        show(name, base + off, 4);
}

/* The device tree at the start of flash: node and property counts and an FNV-1a hash of its
 * content (structure and string table; property padding and the random seeds in /chosen left out) */
static uint32_t be32(uint32_t a)
{
    return __builtin_bswap32(rd32(a));
}

static uint32_t fnv(uint32_t h, uint32_t a, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        h = (h ^ rd8(a + i)) * 16777619u;
    return h;
}

static int streq(uint32_t a, const char *s)
{
    while (*s)
        if (rd8(a++) != (uint8_t)*s++)
            return 0;
    return rd8(a) == 0;
}

static void show_dtb(void)
{
    uint32_t off_struct = be32(8), off_strings = be32(12), size_strings = be32(32);
    uint32_t p = off_struct, nodes = 0, props = 0, h = 2166136261u;
    for (;;) {
        uint32_t tag = be32(p);
        h = fnv(h, p, 4);
        p += 4;
        if (tag == 1) {
            uint32_t n = 0;
            while (rd8(p + n))
                n++;
            h = fnv(h, p, n);
            p += (n + 4) & ~3u;
            nodes++;
        } else if (tag == 3) {
            uint32_t len = be32(p), name = off_strings + be32(p + 4);
            h = fnv(h, p, 8);
            if (!streq(name, "rng-seed") && !streq(name, "kaslr-seed"))
                h = fnv(h, p + 8, len);
            p += 8 + ((len + 3) & ~3u);
            props++;
        } else if (tag != 2) {
            break;
        }
    }
    h = fnv(h, off_strings, size_strings);
    put_kv("dtb end token", be32(p - 4));
    put_kv("dtb nodes", nodes);
    put_kv("dtb properties", props);
    put_kv("dtb hash", h);
}

/* ---- CPU1: its banked view of the GIC ---- */
static volatile uint32_t cpu1_vals[12];
static volatile uint32_t cpu1_done;

void core_main(uint32_t core)
{
    exceptions_init(exc_stacks[core & 1] + sizeof exc_stacks[0]);
    if (core != 0) {
        for (int i = 0; i < 8; i++)
            cpu1_vals[i] = rd32(GICD + 0x800 + 4 * i);        /* ITARGETSR0-7 */
        cpu1_vals[8] = rd32(GICD + 0x100);                    /* ISENABLER0 */
        cpu1_vals[9] = rd32(GICC + 0x04);                     /* PMR */
        cpu1_vals[10] = rd32(GICD + 0x400);                   /* IPRIORITYR0 */
        cpu1_vals[11] = rd32(GICD + 0x820);                   /* ITARGETSR8 */
        __asm__ volatile("dsb ish" ::: "memory");
        cpu1_done = 1;
        __asm__ volatile("dsb ish\n sev" ::: "memory");
        return;
    }
    /* before any UART output: the interrupt status the UART resets to */
    uint32_t ris0 = rd32(UART + 0x3c);
    put_kv("uart RIS at reset", ris0);

    /* ---- PL011 ---- */
    static const char *const uart_names[] = {"DR", "RSR", "?08", "?0c", "?10", "?14", "FR", "?1c", "ILPR",
                                             "IBRD", "FBRD", "LCR_H", "CR", "IFLS", "IMSC", "RIS", "MIS",
                                             "ICR", "DMACR"};
    for (uint32_t i = 1; i < 19; i++)
        show(uart_names[i], UART + 4 * i, 4);
    show("uart 0x4c", UART + 0x4c, 4);
    show("uart 0x50", UART + 0x50, 4);
    show("uart 0xffc-0x1000", UART + 0xfdc, 4);
    show_range("uart id", UART, 0xfe0, 0xffc);
    show("uart id byte", UART + 0xfe1, 1);
    show("uart id byte", UART + 0xfe8, 1);
    show("uart FR byte", UART + 0x18, 1);
    show("uart FR byte+1", UART + 0x19, 1);
    show("uart FR half", UART + 0x18, 2);
    wr_show("IBRD", UART + 0x24, 0xffffffff);
    wr_show("FBRD", UART + 0x28, 0xffffffff);
    wr_show("ILPR", UART + 0x20, 0xffffffff);
    wr_show("IFLS", UART + 0x34, 0xffffffff);
    wr_show("DMACR", UART + 0x48, 0xffffffff);
    wr_show("DMACR", UART + 0x48, 0);
    wr_show("IMSC", UART + 0x38, 0xffffffff);
    show("MIS", UART + 0x40, 4);
    wr_show("IMSC", UART + 0x38, 0);
    wr_show("CR", UART + 0x30, 0xffffffff);
    wr_show("CR", UART + 0x30, 0x301);
    wr_show("LCR_H", UART + 0x2c, 0xffffffff);
    wr_show("LCR_H", UART + 0x2c, 0);
    show("FR", UART + 0x18, 4);
    wr_show("RSR/ECR", UART + 0x04, 0xffffffff);
    wr32(UART + 0x44, 0x7ff);
    show("RIS after ICR", UART + 0x3c, 4);
    wr_show("FR write", UART + 0x18, 0xffffffff);
    show("DR empty", UART, 4);
    show("FR", UART + 0x18, 4);
    puts_("DR stores:");
    wr8(UART + 0, 'a');
    wr8(UART + 1, 'b');
    wr8(UART + 2, 'c');
    wr8(UART + 3, 'd');
    wr16(UART + 0, 'e');
    wr16(UART + 2, 'f');
    wr32(UART + 0, 0x1267);          /* 'g' with bits above the byte */
    puts_("\n");
    show("RIS after DR write", UART + 0x3c, 4);

    /* ---- GIC distributor ---- */
    uint32_t ncpus = ((rd32(GICD + 4) >> 5) & 7) + 1;
    show("GICD_CTLR", GICD, 4);
    show("GICD_TYPER", GICD + 0x4, 4);
    show("GICD_IIDR", GICD + 0x8, 4);
    show("GICD 0x00c", GICD + 0xc, 4);
    show("IGROUPR0", GICD + 0x80, 4);
    show("IGROUPR1", GICD + 0x84, 4);
    wr_show("IGROUPR0", GICD + 0x80, 0xffffffff);
    wr_show("IGROUPR1", GICD + 0x84, 0x0000ffff);
    wr_show("IGROUPR9", GICD + 0xa4, 0xffffffff);
    wr_show("IGROUPR0", GICD + 0x80, 0);
    wr_show("IGROUPR1", GICD + 0x84, 0);
    show("ISENABLER0", GICD + 0x100, 4);
    show("ISENABLER1", GICD + 0x104, 4);
    wr32(GICD + 0x180, 0xffffffff);
    show("ISENABLER0 after ICENABLER0", GICD + 0x100, 4);
    wr_show("ISENABLER1", GICD + 0x104, 0x80000001);
    show("ICENABLER1", GICD + 0x184, 4);
    wr32(GICD + 0x184, 0xffffffff);
    show("ISENABLER1 after clear", GICD + 0x104, 4);
    show("ISPENDR0", GICD + 0x200, 4);
    show("ISACTIVER0", GICD + 0x300, 4);
    show("IPRIORITYR0", GICD + 0x400, 4);
    show("IPRIORITYR8", GICD + 0x420, 4);
    wr_show("IPRIORITYR8", GICD + 0x420, 0xffffffff);
    wr8(GICD + 0x421, 0x5a);
    show("IPRIORITYR8 after byte write", GICD + 0x420, 4);
    show("IPRIORITY byte 33", GICD + 0x421, 1);
    wr_show("IPRIORITYR0", GICD + 0x400, 0xffffffff);
    wr_show("IPRIORITYR7", GICD + 0x41c, 0x12345678);
    wr_show("IPRIORITYR71", GICD + 0x51c, 0xffffffff);
    show("IPRIORITYR72", GICD + 0x520, 4);
    show_range("ITARGETSR", GICD, 0x800, 0x81c);
    show("ITARGETSR8", GICD + 0x820, 4);
    wr_show("ITARGETSR8", GICD + 0x820, 0xffffffff);
    wr_show("ITARGETSR8", GICD + 0x820, 0x01020304);
    wr8(GICD + 0x822, 0x02);
    show("ITARGETSR8 after byte write", GICD + 0x820, 4);
    show("ITARGETSR byte 34", GICD + 0x822, 1);
    wr_show("ITARGETSR0", GICD + 0x800, 0xffffffff);
    show("ICFGR0", GICD + 0xc00, 4);
    show("ICFGR1", GICD + 0xc04, 4);
    show("ICFGR2", GICD + 0xc08, 4);
    wr_show("ICFGR0", GICD + 0xc00, 0);
    wr_show("ICFGR1", GICD + 0xc04, 0xffffffff);
    wr_show("ICFGR2", GICD + 0xc08, 0xffffffff);
    wr_show("ICFGR2", GICD + 0xc08, 0x55555555);
    wr_show("ICFGR1", GICD + 0xc04, 0);
    show("GICD_SGIR", GICD + 0xf00, 4);
    show("CPENDSGIR0", GICD + 0xf10, 4);
    show("SPENDSGIR0", GICD + 0xf20, 4);
    show_range("GICD", GICD, 0xfc0, 0xffc);
    show("GICD id byte", GICD + 0xfe8, 1);
    show("GICD end", GICD + 0xffc, 4);
    show("GICD beyond", GICD + 0x1000, 4);
    show("GICD beyond", GICD + 0xfffc, 4);
    show_write("GICD beyond", GICD + 0x1000, 0);

    /* ---- GIC CPU interface ---- */
    show("GICC_CTLR", GICC, 4);
    show("GICC_PMR", GICC + 0x4, 4);
    show("GICC_BPR", GICC + 0x8, 4);
    show("GICC_IAR", GICC + 0xc, 4);
    show("GICC_RPR", GICC + 0x14, 4);
    show("GICC_HPPIR", GICC + 0x18, 4);
    show("GICC_ABPR", GICC + 0x1c, 4);
    show("GICC_AIAR", GICC + 0x20, 4);
    show("GICC_AHPPIR", GICC + 0x28, 4);
    show_range("GICC_APR", GICC, 0xd0, 0xec);
    show("GICC_IIDR", GICC + 0xfc, 4);
    show("GICC 0x100", GICC + 0x100, 4);
    show("GICC 0xfe0", GICC + 0xfe0, 4);
    show("GICC 0xfe8", GICC + 0xfe8, 4);
    show("GICC_DIR", GICC + 0x1000, 4);
    show("GICC end", GICC + 0x1ffc, 4);
    show("GICC beyond", GICC + 0x2000, 4);
    show("GICC beyond", GICC + 0xfffc, 4);
    wr_show("GICC_PMR", GICC + 0x4, 0xffffffff);
    wr_show("GICC_PMR", GICC + 0x4, 0x12);
    wr_show("GICC_BPR", GICC + 0x8, 0xffffffff);
    wr_show("GICC_BPR", GICC + 0x8, 0);
    wr_show("GICC_ABPR", GICC + 0x1c, 0xffffffff);
    wr_show("GICC_ABPR", GICC + 0x1c, 0);
    wr_show("GICC_CTLR", GICC, 0xffffffff);
    wr_show("GICC_CTLR", GICC, 0);
    wr_show("GICD_CTLR", GICD, 0xffffffff);
    wr_show("GICD_CTLR", GICD, 0);

    /* an SGI to this core, acknowledged with IRQs masked at the core: priorities and APRs */
    wr32(GICD + 0x400, 0x80c0a000);      /* SGI0 0x00, SGI1 0xa0, SGI2 0xc0, SGI3 0x80 */
    wr32(GICC + 0x4, 0xff);
    wr32(GICC + 0x8, 0);
    wr32(GICC, 1);
    wr32(GICD, 1);
    wr32(GICD + 0xf00, (2u << 24) | 3);  /* SGI3 to self */
    wr32(GICD + 0xf00, (2u << 24) | 1);  /* SGI1 to self */
    show("ISPENDR0 with SGIs", GICD + 0x200, 4);
    show("SPENDSGIR0 with SGIs", GICD + 0xf20, 4);
    show("HPPIR", GICC + 0x18, 4);
    show("IAR", GICC + 0xc, 4);
    show("RPR", GICC + 0x14, 4);
    show_range("APR", GICC, 0xd0, 0xdc);
    show("ISACTIVER0", GICD + 0x300, 4);
    show("HPPIR", GICC + 0x18, 4);
    show("IAR (lower priority)", GICC + 0xc, 4);
    wr32(GICC + 0x10, 3);
    show("RPR after EOI", GICC + 0x14, 4);
    show("IAR", GICC + 0xc, 4);
    show("RPR", GICC + 0x14, 4);
    show_range("APR", GICC, 0xd0, 0xdc);
    wr32(GICC + 0x10, 1);
    show("RPR after EOI", GICC + 0x14, 4);
    show("IAR idle", GICC + 0xc, 4);
    /* a group 1 SGI: what the CPU interface does with it without AckCtl */
    wr32(GICD + 0x80, 1u << 2);
    wr32(GICD, 3);
    wr32(GICC, 3);
    wr32(GICD + 0xf00, (2u << 24) | 2);
    show("HPPIR group1", GICC + 0x18, 4);
    show("IAR group1", GICC + 0xc, 4);
    show("AHPPIR group1", GICC + 0x28, 4);
    wr32(GICC, 7);
    show("IAR group1 AckCtl", GICC + 0xc, 4);
    show("RPR", GICC + 0x14, 4);
    wr32(GICC + 0x10, 2);
    show("RPR after EOI", GICC + 0x14, 4);
    wr32(GICC, 0);
    wr32(GICD, 0);
    wr32(GICD + 0x80, 0);

    /* ---- GICv2m ---- */
    show("V2M 0x000", V2M, 4);
    show("V2M_MSI_TYPER", V2M + 0x8, 4);
    show("V2M 0x040", V2M + 0x40, 4);
    show_range("V2M", V2M, 0xfc0, 0xffc);
    show("V2M beyond", V2M + 0x1000, 4);
    wr32(GICD + 0xc14, 0xffffffff);        /* SPIs 80-95 edge-triggered */
    wr32(V2M + 0x40, 80);
    show("ISPENDR2 after SETSPI 80", GICD + 0x208, 4);
    wr32(GICD + 0x288, 0xffffffff);
    wr32(GICD + 0xc14, 0);

    /* ---- virtio-mmio ---- */
    for (uint32_t off = 0; off < 0x200; off += 4) {
        uint32_t v = rd32(VIRTIO + off);
        if (v) {
            puts_("virtio0 ");
            puthex(off);
            putc_('=');
            puthex(v);
            putc_('\n');
        }
    }
    show("virtio0 magic byte", VIRTIO, 1);
    show("virtio0 magic half", VIRTIO + 2, 2);
    show("virtio0 version byte", VIRTIO + 4, 1);
    wr32(VIRTIO + 0x70, 0xf);
    wr32(VIRTIO + 0x28, 0x1000);
    show("virtio0 status after write", VIRTIO + 0x70, 4);
    show("virtio0 page size after write", VIRTIO + 0x28, 4);
    for (uint32_t i = 1; i < 32; i++) {
        uint32_t b = VIRTIO + 0x200 * i;
        if (rd32(b) != 0x74726976 || rd32(b + 4) != 1 || rd32(b + 8) != 0 || rd32(b + 12) != 0x554d4551) {
            puts_("virtio slot ");
            putdec(i);
            puts_(" differs\n");
        }
    }
    show("virtio31 magic", VIRTIO + 0x3e00, 4);
    show("after virtio", VIRTIO + 0x4000, 4);

    /* ---- PL031 RTC ---- */
    show_range("RTC", RTC, 0x4, 0x1c);
    show_range("RTC id", RTC, 0xfe0, 0xffc);
    put_kv("RTC DR plausible", rd32(RTC) > 1600000000u);
    wr32(RTC + 0x8, 1000);
    uint32_t t = rd32(RTC);
    put_kv("RTC DR after LR=1000", t >= 1000 && t <= 1002);
    wr_show("RTC MR", RTC + 0x4, 0x12345678);
    wr_show("RTC IMSC", RTC + 0x10, 0xffffffff);
    wr_show("RTC CR", RTC + 0xc, 0);
    wr_show("RTC IMSC", RTC + 0x10, 0);

    /* ---- PL061 GPIO ---- */
    show("GPIO DATA all", GPIO + 0x3fc, 4);
    show_range("GPIO", GPIO, 0x400, 0x420);
    show_range("GPIO id", GPIO, 0xfe0, 0xffc);
    wr_show("GPIO DIR", GPIO + 0x400, 0xff);
    wr32(GPIO + 0x3fc, 0xa5);
    show("GPIO DATA all", GPIO + 0x3fc, 4);
    show("GPIO DATA bit0", GPIO + 0x004, 4);
    show("GPIO DATA bits0-3", GPIO + 0x03c, 4);
    wr32(GPIO + 0x040, 0xff);            /* only bit 4 */
    show("GPIO DATA all", GPIO + 0x3fc, 4);
    wr_show("GPIO DIR", GPIO + 0x400, 0x0f);
    show("GPIO DATA all", GPIO + 0x3fc, 4);
    wr_show("GPIO IS", GPIO + 0x404, 0xffffffff);
    wr_show("GPIO IBE", GPIO + 0x408, 0xffffffff);
    wr_show("GPIO IEV", GPIO + 0x40c, 0xffffffff);
    wr_show("GPIO IE", GPIO + 0x410, 0xffffffff);
    show("GPIO RIS", GPIO + 0x414, 4);
    show("GPIO MIS", GPIO + 0x418, 4);
    wr_show("GPIO AFSEL", GPIO + 0x420, 0xffffffff);

    /* ---- fw_cfg ---- */
    wr16(FWCFG + 8, 0x0000);             /* select the signature (the selector is big-endian) */
    show("fw_cfg data", FWCFG, 4);
    show("fw_cfg data byte", FWCFG, 1);
    show("fw_cfg data half", FWCFG, 2);
    show("fw_cfg data+4", FWCFG + 4, 4);
    wr16(FWCFG + 8, 0x0100);             /* FW_CFG_ID */
    show("fw_cfg id", FWCFG, 4);
    wr16(FWCFG + 8, 0x0500);             /* FW_CFG_NB_CPUS */
    show("fw_cfg nb_cpus", FWCFG, 2);
    show("fw_cfg selector read", FWCFG + 8, 2);
    show("fw_cfg dma", FWCFG + 0x10, 4);
    show("fw_cfg dma+4", FWCFG + 0x14, 4);
    show("fw_cfg beyond", FWCFG + 0x18, 4);

    /* ---- PCIe windows and holes ---- */
    show("pcie mmio", 0x10000000, 4);
    show("pcie mmio byte", 0x10000003, 1);
    show("pcie mmio end", 0x3efefffc, 4);
    show("pcie pio", 0x3eff0000, 4);
    show("pcie pio end", 0x3efffffc, 4);
    show("pcie ecam (low)", 0x3f000000, 4);
    show("gic hyp", 0x08030000, 4);
    show("gic its", 0x08080000, 4);
    show("secure uart", 0x09040000, 4);
    show("smmu", 0x09050000, 4);
    show("platform bus", 0x0c000000, 4);
    show("secure mem", 0x0e000000, 4);

    /* ---- flash: the device tree QEMU leaves at 0 ---- */
    show_range("flash", 0, 0, 0x24);
    show("flash1", 0x04000000, 4);
    show("flash0 end", 0x03fffffc, 4);
    show("flash1 end", 0x07fffffc, 4);
    show_dtb();

    if (ncpus > 1) {
        psci(0x84000003, 1, (uint32_t)secondary_start, 1);
        while (!cpu1_done)
            __asm__ volatile("wfe");
        for (int i = 0; i < 12; i++) {
            puts_("cpu1 ");
            putdec((uint32_t)i);
            putc_('=');
            puthex(cpu1_vals[i]);
            putc_('\n');
        }
    }
    put_kv("aborts", abort_count);
    semihost_exit(0);
}
