/* tlb_span.c - a TLB invalidation by address drops the whole entry that translates the address: a
 * section (1 MiB), a supersection (16 MiB) or a large page (64 KiB) goes at once, whichever of its
 * pages is named, as QEMU's virt board shows (tlb_span.expected, two CPUs). Each case maps a window,
 * reads (or runs code from) several of its pages so the TLBs hold them, rewrites the descriptor to
 * point elsewhere, invalidates one address of the entry and reads (or runs) every page again:
 *  - a section of data, then back, by TLBIMVA and by TLBIMVAAIS (CPU1 reads too, before and after);
 *  - a section of code: the function sits on page 5, the invalidation names page 0, CPU0 and CPU1 call it;
 *  - a small page of code, by TLBIMVAIS, both CPUs calling it;
 *  - a large page of data (16 descriptors), by TLBIMVA on its sixth page;
 *  - a supersection of data (16 first-level descriptors), by TLBIMVAIS on an address 10 MiB in. */
#include "rt.h"
#include "mmu.h"

extern void secondary_start(void);
void core_main(uint32_t core);

#define REG32(a) (*(volatile uint32_t *)(a))

#define SUPERSECT   (SECT_NORMAL | (1u << 18))
#define PAGE_LARGE  0x143du    /* large page, TEX=1 C B, S, AP=3 */

#define WIN_DATA  0x80000000u   /* section of data */
#define WIN_CODE  0x80100000u   /* section of code */
#define WIN_L2    0x80200000u   /* second-level table: a small page of code, a large page of data */
#define VA_PAGE   (WIN_L2 + 0x1000)
#define VA_LARGE  (WIN_L2 + 0x10000)
#define WIN_SUPER 0x90000000u

#define PA_DATA(i)  (0x41000000u + (i) * 0x100000u)
#define PA_CODE(i)  (0x41200000u + (i) * 0x100000u)
#define PA_PAGE(i)  (0x41400000u + (i) * 0x1000u)
#define PA_LARGE(i) (0x41410000u + (i) * 0x10000u)
#define PA_SUPER(i) (0x42000000u + (i) * 0x1000000u)

static uint32_t l1[4096] __attribute__((aligned(16384)));
static uint32_t l2[256] __attribute__((aligned(1024)));
static volatile uint32_t step, done1;
static volatile uint32_t seen1[8];

static void tlbimva(uint32_t va) { dsb(); CP15_W(0, c8, c7, 1, va & ~0xfffu); dsb(); isb(); }
static void tlbimvais(uint32_t va) { dsb(); CP15_W(0, c8, c3, 1, va & ~0xfffu); dsb(); isb(); }
static void tlbimvaais(uint32_t va) { dsb(); CP15_W(0, c8, c3, 3, va & ~0xfffu); dsb(); isb(); }

static void put_code(uint32_t pa, uint32_t value)
{
    REG32(pa) = 0xe3a00000u | value;          /* mov r0, #value */
    REG32(pa + 4) = 0xe12fff1eu;              /* bx lr */
}

static uint32_t call(uint32_t va) { return ((uint32_t (*)(void))va)(); }

/* the two CPUs' handshakes: CPU0 moves 'step', CPU1 answers in 'done1' */
static void wait_for(volatile uint32_t *flag, uint32_t s)
{
    while (*flag != s)
        __asm__ volatile("wfe");
}

static void publish(volatile uint32_t *flag, uint32_t s)
{
    dsb();
    *flag = s;
    __asm__ volatile("dsb ish\n sev" ::: "memory");
}

static const uint32_t data_pages[4] = {0x0000, 0x1000, 0x7000, 0xff000};

static uint32_t data_sum(uint32_t base, const uint32_t *offs, int n)
{
    uint32_t s = 0;
    for (int i = 0; i < n; i++)
        s = s * 31 + REG32(base + offs[i]);
    return s;
}

static void secondary(void)
{
    mmu_on(l1);
    wait_for(&step, 1);
    seen1[0] = data_sum(WIN_DATA, data_pages, 4);
    seen1[1] = call(WIN_CODE + 0x5000);
    seen1[2] = call(VA_PAGE);
    publish(&done1, 1);
    wait_for(&step, 2);
    seen1[3] = data_sum(WIN_DATA, data_pages, 4);
    seen1[4] = call(WIN_CODE + 0x5000);
    seen1[5] = call(VA_PAGE);
    publish(&done1, 2);
    while (1)
        __asm__ volatile("wfe");
}

static void show(const char *what, uint32_t v) { put_kv(what, v); }

void core_main(uint32_t core)
{
    if (core != 0) {
        secondary();
        return;
    }
    flat_map(l1);
    l1[WIN_DATA >> 20] = PA_DATA(0) | SECT_NORMAL;
    l1[WIN_CODE >> 20] = PA_CODE(0) | SECT_NORMAL;
    l1[WIN_L2 >> 20] = (uint32_t)l2 | L1_TABLE;
    for (uint32_t i = 0; i < 16; i++)
        l1[(WIN_SUPER >> 20) + i] = PA_SUPER(0) | SUPERSECT;
    l2[(VA_PAGE >> 12) & 0xff] = PA_PAGE(0) | PAGE_SMALL;
    for (uint32_t i = 0; i < 16; i++)
        l2[((VA_LARGE >> 12) & 0xff) + i] = PA_LARGE(0) | PAGE_LARGE;

    /* markers: word 0 of each page says which copy and which page it is */
    for (uint32_t c = 0; c < 2; c++) {
        for (uint32_t p = 0; p < 256; p++)
            REG32(PA_DATA(c) + p * 0x1000) = 0xd0000000u | c << 16 | p;
        for (uint32_t p = 0; p < 16; p++)
            REG32(PA_LARGE(c) + p * 0x1000) = 0xe0000000u | c << 16 | p;
        for (uint32_t p = 0; p < 16; p++)
            REG32(PA_SUPER(c) + p * 0x100000) = 0xf0000000u | c << 16 | p;
        put_code(PA_CODE(c) + 0x5000, 1 + c);
        put_code(PA_PAGE(c), 3 + c);
    }
    dsb();
    CP15_W(0, c7, c5, 0, 0);                  /* ICIALLU */
    dsb();
    isb();

    psci(0x84000003, 1, (uint32_t)secondary_start, 1);
    mmu_on(l1);

    /* a section of data, by TLBIMVA, both ways, then by TLBIMVAAIS */
    show("section before", data_sum(WIN_DATA, data_pages, 4));
    l1[WIN_DATA >> 20] = PA_DATA(1) | SECT_NORMAL;
    tlbimva(WIN_DATA + 0x7000);
    show("section after TLBIMVA page 7", data_sum(WIN_DATA, data_pages, 4));
    l1[WIN_DATA >> 20] = PA_DATA(0) | SECT_NORMAL;
    tlbimva(WIN_DATA + 0xff000);
    show("section back, TLBIMVA page 255", data_sum(WIN_DATA, data_pages, 4));

    /* code in a section and in a small page, CPU1 running it too */
    show("code section before", call(WIN_CODE + 0x5000));
    show("code page before", call(VA_PAGE));
    publish(&step, 1);
    wait_for(&done1, 1);
    l1[WIN_DATA >> 20] = PA_DATA(1) | SECT_NORMAL;
    tlbimvaais(WIN_DATA + 0x1000);
    l1[WIN_CODE >> 20] = PA_CODE(1) | SECT_NORMAL;
    tlbimvais(WIN_CODE);
    l2[(VA_PAGE >> 12) & 0xff] = PA_PAGE(1) | PAGE_SMALL;
    tlbimvais(VA_PAGE);
    show("section after TLBIMVAAIS page 1", data_sum(WIN_DATA, data_pages, 4));
    show("code section after TLBIMVAIS page 0", call(WIN_CODE + 0x5000));
    show("code page after TLBIMVAIS", call(VA_PAGE));
    publish(&step, 2);
    wait_for(&done1, 2);
    show("cpu1 section before", seen1[0]);
    show("cpu1 code section before", seen1[1]);
    show("cpu1 code page before", seen1[2]);
    show("cpu1 section after", seen1[3]);
    show("cpu1 code section after", seen1[4]);
    show("cpu1 code page after", seen1[5]);

    /* a large page of data */
    static const uint32_t large_pages[5] = {0x0000, 0x3000, 0x5000, 0x9000, 0xf000};
    show("large page before", data_sum(VA_LARGE, large_pages, 5));
    for (uint32_t i = 0; i < 16; i++)
        l2[((VA_LARGE >> 12) & 0xff) + i] = PA_LARGE(1) | PAGE_LARGE;
    tlbimva(VA_LARGE + 0x5000);
    show("large page after TLBIMVA page 5", data_sum(VA_LARGE, large_pages, 5));

    /* a supersection of data */
    static const uint32_t super_offs[4] = {0x000000, 0x100000, 0xa00000, 0xf00000};
    show("supersection before", data_sum(WIN_SUPER, super_offs, 4));
    for (uint32_t i = 0; i < 16; i++)
        l1[(WIN_SUPER >> 20) + i] = PA_SUPER(1) | SUPERSECT;
    tlbimvais(WIN_SUPER + 0xa00000);
    show("supersection after TLBIMVAIS +10 MiB", data_sum(WIN_SUPER, super_offs, 4));

    puts_("done\n");
    semihost_exit(0);
}
