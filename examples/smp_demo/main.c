/* smp_demo - a multi-core workout to watch on tuiemu's dashboard. It runs the
 * same under qemu-system-arm -M virt -cpu cortex-a15 -smp 4 -semihosting.
 *
 * CPU0 starts the other cores with PSCI; every core turns its MMU on with the
 * same page tables, enables its timer and SGI interrupts, and then all of them
 * run the rounds. In each round:
 *  - CPU0 fills a spare physical page with data that depends on the round and
 *    remaps the virtual page WINDOW to it, then broadcasts the TLB maintenance
 *    (TLBIMVAIS; TLBIALLIS in rounds 2, 6, 10...): the other cores' TLBs still
 *    hold the old translation, since they all read WINDOW in the last round.
 *  - CPU0 rewrites the immediate of magic() (boot.S) and makes the new code
 *    visible to every core (DCCMVAU, DSB, ICIALLUIS, BPIALLIS, DSB, ISB).
 *  - CPU0 wakes the others, asleep in WFI, with an SGI.
 *  - Every core counts the primes in its own range, chunk by chunk: after each
 *    chunk it calls magic() and adds what it found to the shared totals under
 *    an LDREX/STREX spinlock (WFE while it is taken, SEV on release). Then it
 *    naps in WFI until its generic-timer interrupt, computes the CRC-32 of
 *    WINDOW (it must be the page CPU0 just filled), naps, sorts a small array,
 *    naps, and waits for the others at a barrier (WFE).
 *  - CPU0 prints the round's totals.
 * Everything printed depends on the round and the number of cores only, never
 * on timing, so the output is the same on every run. rounds=N on the command
 * line (semihosting SYS_GET_CMDLINE, which returns -append's text) sets the
 * number of rounds. The exit status is 0 if every check passed. */
#include <stdint.h>

#define MAX_CPUS       8
#define DEFAULT_ROUNDS 40
#define PRIME_BASE     1000000u
#define PRIME_CHUNK    16u          /* numbers tested between two turns at the lock */
#define SORT_N         128
#define NAP_TICKS      250000u      /* 4 ms of the 62.5 MHz generic timer */
#define NPAGES         4
#define WINDOW         0x80000000u  /* the virtual page CPU0 remaps every round */

/* The virt board: PL011 UART, GICv2, generic timer PPI. */
#define REG(a)     (*(volatile uint32_t *)(a))
#define UART_DR    REG(0x09000000u)
#define UART_FR    REG(0x09000018u)
#define GICD       0x08000000u
#define GICC       0x08010000u
#define GICD_CTLR      (GICD + 0x000)
#define GICD_ISENABLER (GICD + 0x100)
#define GICD_SGIR      (GICD + 0xf00)
#define GICC_CTLR  (GICC + 0x00)
#define GICC_PMR   (GICC + 0x04)
#define GICC_IAR   (GICC + 0x0c)
#define GICC_EOIR  (GICC + 0x10)
#define IRQ_TIMER  30               /* CNTP, the non-secure physical timer */
#define SGI_GO     1

extern void secondary_start(void);
extern uint32_t magic(uint32_t x);

/* Functions stay out of line so that the dashboard's "where" column names them. */
#define NOINLINE __attribute__((noinline, noclone))

/* ---- CPU helpers ---- */
#define CP15_WRITE(op1, crn, crm, op2, val) \
    __asm__ volatile("mcr p15, " #op1 ", %0, " #crn ", " #crm ", " #op2 :: "r"((uint32_t)(val)) : "memory")
#define CP15_READ(op1, crn, crm, op2) ({ uint32_t v_; \
    __asm__ volatile("mrc p15, " #op1 ", %0, " #crn ", " #crm ", " #op2 : "=r"(v_)); v_; })

static inline void dsb(void) { __asm__ volatile("dsb ish" ::: "memory"); }
static inline void dmb(void) { __asm__ volatile("dmb ish" ::: "memory"); }
static inline void isb(void) { __asm__ volatile("isb" ::: "memory"); }
static inline void wfi(void) { __asm__ volatile("wfi" ::: "memory"); }
static inline void wfe(void) { __asm__ volatile("wfe" ::: "memory"); }
static inline void sev(void) { __asm__ volatile("sev" ::: "memory"); }
static inline void irq_on(void) { __asm__ volatile("cpsie i" ::: "memory"); }
static inline void irq_off(void) { __asm__ volatile("cpsid i" ::: "memory"); }
static inline unsigned cpu_id(void) { return CP15_READ(0, c0, c0, 5) & 0xff; }   /* MPIDR.Aff0 */

/* ---- console and semihosting ---- */
static void putc_(char c)
{
    while (UART_FR & (1 << 5))
        ;
    UART_DR = (uint32_t)c;
}

static void puts_(const char *s)
{
    while (*s)
        putc_(*s++);
}

/* v in decimal, right-aligned in width characters */
static void putu(uint32_t v, int width)
{
    char buf[11];
    int i = 10;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (width-- > 10 - i)
        putc_(' ');
    puts_(&buf[i]);
}

static void puthex(uint32_t v, int digits)
{
    while (digits--)
        putc_("0123456789abcdef"[(v >> (4 * digits)) & 15]);
}

static uint32_t semihost(uint32_t op, uint32_t arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register uint32_t r1 __asm__("r1") = arg;
    __asm__ volatile("svc 0x123456" : "+r"(r0) : "r"(r1) : "memory", "lr");
    return r0;
}

static void semihost_exit(uint32_t code)
{
    static volatile uint32_t block[2];
    block[0] = 0x20026;                 /* ADP_Stopped_ApplicationExit */
    block[1] = code;
    for (;;)
        semihost(0x20, (uint32_t)block);    /* SYS_EXIT_EXTENDED */
}

static int32_t psci_cpu_on(uint32_t mpidr, uint32_t entry, uint32_t context)
{
    register uint32_t r0 __asm__("r0") = 0x84000003;
    register uint32_t r1 __asm__("r1") = mpidr;
    register uint32_t r2 __asm__("r2") = entry;
    register uint32_t r3 __asm__("r3") = context;
    __asm__ volatile("hvc #0" : "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r3) :: "memory");
    return (int32_t)r0;
}

/* ---- spinlock and barrier ---- */
static volatile uint32_t lock;

static NOINLINE void spin_lock(volatile uint32_t *l)
{
    uint32_t tmp, busy;
    __asm__ volatile(
        "1: ldrex %0, [%2]\n"
        "   teq %0, #0\n"
        "   wfene\n"
        "   bne 1b\n"
        "   strex %1, %3, [%2]\n"
        "   teq %1, #0\n"
        "   bne 1b\n"
        "   dmb ish\n"
        : "=&r"(tmp), "=&r"(busy) : "r"(l), "r"(1) : "cc", "memory");
}

static void spin_unlock(volatile uint32_t *l)
{
    dmb();
    *l = 0;
    dsb();
    sev();
}

static unsigned ncpus = 1;
static volatile uint32_t bar_count, bar_gen;

static NOINLINE void barrier(void)
{
    uint32_t gen = bar_gen;
    dmb();
    if (__atomic_add_fetch(&bar_count, 1, __ATOMIC_SEQ_CST) == ncpus) {
        bar_count = 0;
        dmb();
        bar_gen = gen + 1;
        dsb();
        sev();
    } else {
        while (bar_gen == gen)
            wfe();
    }
    dmb();
}

/* ---- MMU: short-descriptor tables, TTBR0 only ---- */
#define SECT_NORMAL (0x2u | (1u << 12) | (1u << 3) | (1u << 2) | (1u << 16) | (3u << 10))  /* WBWA, shareable, RW */
#define SECT_DEVICE (0x2u | (1u << 2) | (3u << 10) | (1u << 4))                           /* device, RW, XN */
#define PAGE_NORMAL (0x2u | (1u << 6) | (1u << 3) | (1u << 2) | (1u << 10) | (3u << 4))

static uint32_t l1[4096] __attribute__((aligned(16384)));
static uint32_t l2[256] __attribute__((aligned(1024)));
static uint32_t pages[NPAGES][1024] __attribute__((aligned(4096)));

static NOINLINE void mmu_build(void)
{
    for (uint32_t i = 0; i < 4096; i++) {
        uint32_t va = i << 20;
        l1[i] = va < 0x40000000u ? (va | SECT_DEVICE) : va < 0x80000000u ? (va | SECT_NORMAL) : 0;
    }
    l1[WINDOW >> 20] = (uint32_t)l2 | 0x1;          /* a second-level table for WINDOW's MiB */
    l2[0] = (uint32_t)pages[0] | PAGE_NORMAL;
    dsb();
}

static NOINLINE void mmu_enable(void)
{
    CP15_WRITE(0, c2, c0, 2, 0);                    /* TTBCR: TTBR0 only, short descriptors */
    CP15_WRITE(0, c2, c0, 0, (uint32_t)l1 | 0x4a);  /* TTBR0: write-back walks, shareable */
    CP15_WRITE(0, c3, c0, 0, 0x55555555);           /* DACR: every domain client */
    CP15_WRITE(0, c8, c7, 0, 0);                    /* TLBIALL */
    CP15_WRITE(0, c7, c5, 0, 0);                    /* ICIALLU */
    dsb();
    isb();
    uint32_t s = CP15_READ(0, c1, c0, 0);
    s |= (1u << 0) | (1u << 2) | (1u << 11) | (1u << 12);  /* M, C, Z, I */
    s &= ~((1u << 28) | (1u << 29));                       /* TRE and AFE off */
    CP15_WRITE(0, c1, c0, 0, s);
    isb();
}

/* ---- generic timer and GIC ---- */
static volatile uint32_t ticks[MAX_CPUS], sgis[MAX_CPUS], strays[MAX_CPUS];

static void gic_cpu_init(void)
{
    REG(GICD_ISENABLER) = (1u << SGI_GO) | (1u << IRQ_TIMER);  /* banked: this core's SGIs and PPIs */
    REG(GICC_PMR) = 0xff;
    REG(GICC_CTLR) = 1;
    dsb();
}

void irq_handler(void)
{
    uint32_t iar = REG(GICC_IAR);
    uint32_t id = iar & 0x3ff;
    unsigned cpu = cpu_id();
    if (id >= 1020)
        return;                                     /* spurious */
    if (id == IRQ_TIMER) {
        CP15_WRITE(0, c14, c2, 1, 0);               /* CNTP_CTL: off, so the line drops */
        isb();
        ticks[cpu]++;
    } else if (id == SGI_GO) {
        sgis[cpu]++;
    } else {
        strays[cpu]++;
    }
    REG(GICC_EOIR) = iar;
}

/* Sleep in WFI until *v moves. Interrupts stay masked around the check so
 * that one cannot slip in between the check and WFI (WFI wakes up on a
 * pending interrupt even while it is masked). */
static inline __attribute__((always_inline)) void sleep_until_changed(volatile uint32_t *v, uint32_t old)
{
    irq_off();
    while (*v == old) {
        wfi();
        irq_on();
        isb();
        irq_off();
    }
    irq_on();
}

/* One-shot timer: the handler counts the tick and turns the timer off. */
static NOINLINE void nap(unsigned cpu)
{
    uint32_t t = ticks[cpu];
    CP15_WRITE(0, c14, c2, 0, NAP_TICKS);           /* CNTP_TVAL */
    CP15_WRITE(0, c14, c2, 1, 1);                   /* CNTP_CTL: enabled, unmasked */
    isb();
    sleep_until_changed(&ticks[cpu], t);
}

/* ---- the work ---- */
static NOINLINE int is_prime(uint32_t n)
{
    if (n % 2 == 0)
        return n == 2;
    for (uint32_t d = 3; d * d <= n; d += 2)
        if (n % d == 0)
            return 0;
    return n > 1;
}

static NOINLINE uint32_t crc32(const uint8_t *p, uint32_t n)
{
    uint32_t c = ~0u;
    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & -(c & 1));
    }
    return ~c;
}

static uint32_t xorshift(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

/* Core c tests (48 + 16c) chunks of numbers a round, so the cores finish at
 * different times and the early ones wait at the barrier. */
static uint32_t span_chunks(unsigned c) { return 48 + 16 * c; }

static uint32_t prime_start(uint32_t round, unsigned cpu)
{
    uint32_t before = 0, total = 0;
    for (unsigned c = 0; c < ncpus; c++) {
        if (c < cpu)
            before += span_chunks(c);
        total += span_chunks(c);
    }
    return PRIME_BASE + ((round - 1) * total + before) * PRIME_CHUNK;
}

/* ---- shared state ---- */
static uint32_t rounds = DEFAULT_ROUNDS;
static volatile uint32_t go;            /* the round CPU0 has released */
static volatile uint32_t ready;         /* secondaries set up and waiting */
static volatile uint32_t want_crc;      /* CRC-32 of the page behind WINDOW this round */
static volatile uint32_t magic_imm;     /* magic()'s immediate this round */

/* Secondaries: sleep until CPU0 releases round r (its SGI wakes them up). */
static NOINLINE void wait_for_round(uint32_t r)
{
    sleep_until_changed(&go, r - 1);
}

/* This round's totals, under the lock; CPU0 reads and clears them after the barrier. */
static struct {
    uint32_t primes, largest, digits[10];
    uint32_t crc_ok, sort_ok, smc_calls, smc_ok, sections;
} rnd;

/* The whole run's totals (CPU0 only). */
static struct {
    uint32_t primes, largest, digits[10];
    uint32_t crc_ok, sort_ok, smc_calls, smc_ok, sections, tlbi_mva, tlbi_all;
} all;

static NOINLINE void work_primes(unsigned cpu, uint32_t r)
{
    uint32_t start = prime_start(r, cpu);
    uint32_t found[PRIME_CHUNK];
    for (uint32_t chunk = 0; chunk < span_chunks(cpu); chunk++) {
        uint32_t n = 0, base = start + chunk * PRIME_CHUNK;
        for (uint32_t k = 0; k < PRIME_CHUNK; k++)
            if (is_prime(base + k))
                found[n++] = base + k;
        uint32_t m = magic(cpu);
        spin_lock(&lock);
        rnd.sections++;
        rnd.primes += n;
        for (uint32_t i = 0; i < n; i++) {
            rnd.digits[found[i] % 10]++;
            if (found[i] > rnd.largest)
                rnd.largest = found[i];
        }
        rnd.smc_calls++;
        rnd.smc_ok += m == magic_imm + cpu;
        spin_unlock(&lock);
    }
}

static NOINLINE void work_crc(void)
{
    uint32_t c = crc32((const uint8_t *)WINDOW, 4096);
    spin_lock(&lock);
    rnd.sections++;
    rnd.crc_ok += c == want_crc;
    spin_unlock(&lock);
}

static NOINLINE void work_sort(unsigned cpu, uint32_t r)
{
    uint32_t a[SORT_N], s = (r * MAX_CPUS + cpu) * 2654435761u | 1;
    for (int i = 0; i < SORT_N; i++)
        a[i] = xorshift(&s) % 100000;
    for (int i = 1; i < SORT_N; i++) {
        uint32_t v = a[i];
        int j = i - 1;
        while (j >= 0 && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
    int ok = 1;
    for (int i = 1; i < SORT_N; i++)
        ok &= a[i - 1] <= a[i];
    spin_lock(&lock);
    rnd.sections++;
    rnd.sort_ok += ok;
    spin_unlock(&lock);
}

/* CPU0, while the others sleep: new page behind WINDOW, new magic(), go. */
static NOINLINE void prepare_round(uint32_t r)
{
    uint32_t *page = pages[r % NPAGES], s = r * 0x9e3779b9u | 1;
    for (int i = 0; i < 1024; i++)
        page[i] = xorshift(&s);
    want_crc = crc32((const uint8_t *)page, 4096);
    l2[0] = (uint32_t)page | PAGE_NORMAL;
    dsb();
    if (r % 4 == 2) {
        CP15_WRITE(0, c8, c3, 0, 0);                /* TLBIALLIS */
        all.tlbi_all++;
    } else {
        CP15_WRITE(0, c8, c3, 1, WINDOW);           /* TLBIMVAIS */
        all.tlbi_mva++;
    }
    dsb();
    isb();

    uint32_t imm = (r * 0x2f1du) & 0xffff;          /* MOVW r1, #imm */
    magic_imm = imm;
    volatile uint32_t *movw = (volatile uint32_t *)(uintptr_t)magic;
    *movw = 0xe3001000u | ((imm & 0xf000) << 4) | (imm & 0xfff);
    CP15_WRITE(0, c7, c11, 1, (uint32_t)movw);      /* DCCMVAU */
    dsb();
    CP15_WRITE(0, c7, c1, 0, 0);                    /* ICIALLUIS */
    CP15_WRITE(0, c7, c1, 6, 0);                    /* BPIALLIS */
    dsb();
    isb();

    go = r;
    dsb();
    if (ncpus > 1)
        REG(GICD_SGIR) = ((((1u << ncpus) - 1) & ~1u) << 16) | SGI_GO;
}

static NOINLINE void report_round(uint32_t r)
{
    uint32_t n = ncpus;
    puts_("round ");
    putu(r, 3);
    puts_("/");
    putu(rounds, 0);
    puts_("  primes ");
    putu(rnd.primes, 4);
    puts_("  crc32 ");
    puthex(want_crc, 8);
    puts_(rnd.crc_ok == n ? " ok" : " STALE");
    puts_("  sort");
    puts_(rnd.sort_ok == n ? " ok" : " BAD");
    puts_("  magic ");
    puthex(magic_imm, 4);
    puts_(rnd.smc_ok == rnd.smc_calls ? " ok\n" : " OLD\n");
    all.primes += rnd.primes;
    if (rnd.largest > all.largest)
        all.largest = rnd.largest;
    for (int d = 0; d < 10; d++)
        all.digits[d] += rnd.digits[d];
    all.crc_ok += rnd.crc_ok;
    all.sort_ok += rnd.sort_ok;
    all.smc_calls += rnd.smc_calls;
    all.smc_ok += rnd.smc_ok;
    all.sections += rnd.sections;
    for (uint32_t *w = (uint32_t *)&rnd; w < (uint32_t *)(&rnd + 1); w++)
        *w = 0;
}

static NOINLINE int summary(void)
{
    uint32_t n = ncpus, reads = rounds * n;
    uint32_t sgi_total = 0, stray_total = 0, want_sgis = rounds * (n - 1);
    int ok = 1;
    puts_("done: ");
    putu(rounds, 0);
    puts_(" rounds on ");
    putu(n, 0);
    puts_(n == 1 ? " core\n" : " cores\n");
    puts_("  primes     ");
    putu(all.primes, 0);
    puts_(" found, largest ");
    putu(all.largest, 0);
    puts_(", last digit");
    for (int d = 1; d < 10; d += 2)
        if (d != 5) {
            puts_(" ");
            putu(d, 0);
            puts_(":");
            putu(all.digits[d], 0);
        }
    puts_("\n  crc32      ");
    putu(all.crc_ok, 0);
    puts_("/");
    putu(reads, 0);
    puts_(" reads of the remapped page saw the new page\n");
    puts_("  tlb        ");
    putu(all.tlbi_mva, 0);
    puts_(" TLBIMVAIS + ");
    putu(all.tlbi_all, 0);
    puts_(" TLBIALLIS broadcast by core 0\n");
    puts_("  sort       ");
    putu(all.sort_ok, 0);
    puts_("/");
    putu(reads, 0);
    puts_(" arrays sorted\n");
    puts_("  magic      ");
    putu(all.smc_ok, 0);
    puts_("/");
    putu(all.smc_calls, 0);
    puts_(" calls ran the rewritten code\n");
    puts_("  lock       ");
    putu(all.sections, 0);
    puts_(" critical sections\n");
    puts_("  timer irqs");
    for (unsigned c = 0; c < n; c++) {
        puts_(" ");
        putu(ticks[c], 0);
        ok &= ticks[c] == 3 * rounds;
    }
    puts_(" (per core)\n");
    for (unsigned c = 0; c < n; c++) {
        sgi_total += sgis[c];
        stray_total += strays[c];
    }
    puts_("  sgis       ");
    putu(sgi_total, 0);
    puts_(" from core 0\n");
    ok &= sgi_total == want_sgis && sgis[0] == 0 && stray_total == 0;
    ok &= all.crc_ok == reads && all.sort_ok == reads && all.smc_ok == all.smc_calls;
    ok &= all.tlbi_mva + all.tlbi_all == rounds;
    puts_(ok ? "result: ok\n" : "result: FAILED\n");
    return ok;
}

/* rounds=N anywhere on the command line (QEMU and tuiemu put the program's
 * name first, then -append's text). */
static NOINLINE void parse_cmdline(void)
{
    static char buf[1024];
    static volatile uint32_t block[2];
    block[0] = (uint32_t)buf;
    block[1] = sizeof buf;
    if (semihost(0x15, (uint32_t)block) != 0)      /* SYS_GET_CMDLINE */
        return;
    for (const char *p = buf; *p;) {
        while (*p == ' ')
            p++;
        const char *t = p;
        while (*p && *p != ' ')
            p++;
        if (p - t > 7 && t[0] == 'r' && t[1] == 'o' && t[2] == 'u' && t[3] == 'n' && t[4] == 'd' &&
            t[5] == 's' && t[6] == '=') {
            uint32_t v = 0;
            const char *q = t + 7;
            while (q < p && *q >= '0' && *q <= '9' && v < 100000)
                v = v * 10 + (uint32_t)(*q++ - '0');
            if (q == p && v >= 1 && v <= 100000) {
                rounds = v;
            } else {
                puts_("smp_demo: rounds= wants a number from 1 to 100000; using ");
                putu(rounds, 0);
                puts_("\n");
            }
        }
    }
}

void bad_exception(uint32_t kind, uint32_t lr)
{
    puts_("smp_demo: unexpected exception ");
    putu(kind, 0);
    puts_(" on core ");
    putu(cpu_id(), 0);
    puts_(", lr=");
    puthex(lr, 8);
    puts_("\n");
    semihost_exit(3);
}

void core_main(uint32_t cpu)
{
    if (cpu == 0) {
        parse_cmdline();
        mmu_build();
        REG(GICD_CTLR) = 1;
    }
    mmu_enable();
    gic_cpu_init();
    irq_on();
    if (cpu == 0) {
        while (ncpus < MAX_CPUS && psci_cpu_on(ncpus, (uint32_t)secondary_start, ncpus) == 0)
            ncpus++;
        while (ready != ncpus - 1)
            wfe();
        dmb();
        puts_("smp_demo: ");
        putu(ncpus, 0);
        puts_(ncpus == 1 ? " core, " : " cores, ");
        putu(rounds, 0);
        puts_(" rounds (-append rounds=N to change)\n");
    } else {
        __atomic_add_fetch(&ready, 1, __ATOMIC_SEQ_CST);
        dsb();
        sev();
    }
    for (uint32_t r = 1; r <= rounds; r++) {
        if (cpu == 0)
            prepare_round(r);
        else
            wait_for_round(r);
        isb();                                      /* fetch magic()'s new code */
        work_primes(cpu, r);
        nap(cpu);
        work_crc();
        nap(cpu);
        work_sort(cpu, r);
        nap(cpu);
        barrier();
        if (cpu == 0)
            report_round(r);
    }
    if (cpu == 0)
        semihost_exit(summary() ? 0 : 1);
}
