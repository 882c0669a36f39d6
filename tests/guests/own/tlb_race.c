/* tlb_race.c - broadcast TLB invalidation while the other CPU is running: after CPU0 remaps a page,
 * invalidates it with TLBIMVAAIS, completes that with DSB and then publishes the round, CPU1 must
 * not translate the page the old way once it has seen the round. Two CPUs.
 *
 * A window of 64 small pages; 5 physical frames. Round i remaps page p = i % 64 to frame i % 5
 * after storing i in that frame's slot for p (word 4p), so the page's old frame holds an older
 * round in that slot. CPU1 follows the rounds (it may skip some): having seen round s, it reads
 * page s % 64's slot and must find s. After odd rounds it also reads the slot of the page CPU0
 * remaps next, to hold (or be walking) that page while CPU0 changes it; that value is not checked. CPU0 runs at
 * most two rounds ahead of what CPU1 has seen, so a page is never remapped again while checked.
 * Sometimes CPU1's TLB holds a page when it is invalidated, sometimes not (the rounds it skipped). */
#include "rt.h"
#include "mmu.h"

extern void secondary_start(void);
void core_main(uint32_t core);

#define REG32(a) (*(volatile uint32_t *)(a))

#define WIN      0x80000000u
#define PAGES    64u
#define FRAMES   5u
#define FRAME(f) (0x41000000u + (f) * 0x1000u)
#define ROUNDS   3000u

static uint32_t l1[4096] __attribute__((aligned(16384)));
static uint32_t l2[256] __attribute__((aligned(1024)));
static volatile uint32_t round_, seen, started;
static volatile uint32_t errors, first_bad, bad_value;

static inline void sev(void) { __asm__ volatile("sev" ::: "memory"); }
static inline void wfe(void) { __asm__ volatile("wfe" ::: "memory"); }

static uint32_t slot(uint32_t page) { return WIN + page * 0x1000u + page * 4u; }

static void secondary(void)
{
    mmu_on(l1);
    dsb();
    started = 1;
    dsb();
    sev();
    uint32_t last = 0xffffffffu;
    for (;;) {
        uint32_t s = round_;
        if (s == last) {
            wfe();
            continue;
        }
        dsb();
        uint32_t v = REG32(slot(s % PAGES));
        if (v != s && errors++ == 0) {
            first_bad = s;
            bad_value = v;
        }
        if (s & 1)
            (void)REG32(slot((s + 1) % PAGES));   /* the page CPU0 may be remapping now */
        last = s;
        dsb();
        seen = s;
        dsb();
        sev();
        if (s == ROUNDS)
            break;
    }
    for (;;)
        wfe();
}

void core_main(uint32_t core)
{
    if (core != 0) {
        secondary();
        return;
    }
    flat_map(l1);
    l1[WIN >> 20] = (uint32_t)l2 | L1_TABLE;
    for (uint32_t p = 0; p < PAGES; p++) {      /* round 0's state: every page on frame 0, slot 0 */
        REG32(FRAME(0) + p * 4u) = 0;
        l2[p] = FRAME(0) | PAGE_SMALL;
    }
    dsb();
    psci(0x84000003, 1, (uint32_t)secondary_start, 1);
    mmu_on(l1);
    while (!started)
        wfe();

    for (uint32_t i = 1; i <= ROUNDS; i++) {
        while (seen + 2 < i)
            wfe();
        uint32_t p = i % PAGES, f = i % FRAMES;
        REG32(FRAME(f) + p * 4u) = i;
        dsb();
        l2[p] = FRAME(f) | PAGE_SMALL;
        dsb();
        CP15_W(0, c8, c3, 3, WIN + p * 0x1000u);   /* TLBIMVAAIS */
        dsb();
        isb();
        round_ = i;
        dsb();
        sev();
    }
    while (seen != ROUNDS)
        wfe();
    put_kv("rounds", ROUNDS);
    put_kv("errors", errors);
    if (errors) {
        put_kv("first bad round", first_bad);
        put_kv("value there", bad_value);
    }
    puts_("done\n");
    semihost_exit(0);
}
