/* CP15 accesses that translated code performs inline (registers that are only stored, and cache,
 * branch predictor and barrier operations with nothing to do in an emulator), against QEMU's
 * answers (sysregs.expected): values written and read back inside one straight run of code, the
 * ID registers, a set/way clean loop like Linux's, and in User mode which accesses are allowed
 * and which are UNDEFINED (counted by the Undefined Instruction handler, which skips them). */
#include "rt.h"

void core_main(uint32_t core);

volatile uint32_t undef_count;
static uint32_t user_stack[256] __attribute__((aligned(8)));
uint32_t undef_stack[64] __attribute__((aligned(8)));
uint32_t saved_svc_sp;

/* Vectors: Undefined counts and resumes after the instruction; SVC #1 returns from to_user(). */
__asm__(
    "    .text\n"
    "    .set undef_stack_top, undef_stack + 256\n"
    "    .align 5\n"
    "sysregs_vectors:\n"
    "    b .\n"
    "    b undef_entry\n"
    "    b svc_entry\n"
    "    b .\n"
    "    b .\n"
    "    b .\n"
    "    b .\n"
    "    b .\n"
    "undef_entry:\n"
    "    push {r0, r1}\n"
    "    ldr r0, =undef_count\n"
    "    ldr r1, [r0]\n"
    "    add r1, r1, #1\n"
    "    str r1, [r0]\n"
    "    pop {r0, r1}\n"
    "    movs pc, lr\n"               /* ARM state: lr is the next instruction */
    "svc_entry:\n"
    "    ldr r1, =saved_svc_sp\n"
    "    ldr sp, [r1]\n"
    "    pop {r4-r11, pc}\n"
    /* to_user(fn, sp): run fn in User mode on stack sp; fn ends with SVC #1 */
    "    .global to_user\n"
    "to_user:\n"
    "    push {r4-r11, lr}\n"
    "    ldr r2, =saved_svc_sp\n"
    "    str sp, [r2]\n"
    "    cps #0x1f\n"                 /* System mode: set the User stack */
    "    mov sp, r1\n"
    "    cps #0x13\n"
    "    msr spsr_cxsf, #0x10\n"      /* User, interrupts enabled, ARM */
    "    movs pc, r0\n"
    "    .global set_vectors\n"
    "set_vectors:\n"
    "    cps #0x1b\n"                 /* Undefined mode's own stack */
    "    ldr sp, =undef_stack_top\n"
    "    cps #0x13\n"
    "    ldr r0, =sysregs_vectors\n"
    "    orr r1, r0, #0x1f\n"          /* VBAR's low five bits are RES0 */
    "    mcr p15, 0, r1, c12, c0, 0\n"
    "    isb\n"
    "    mrc p15, 0, r0, c12, c0, 0\n"
    "    bx lr\n");

void to_user(void (*fn)(void), uint32_t *sp);
uint32_t set_vectors(void);

volatile uint32_t results[32];

/* One straight run: write the thread ID registers, then read them back (no branch between). */
static void thread_ids(void)
{
    uint32_t a, b, c;
    __asm__ volatile(
        "movw r0, #0x1234\n movt r0, #0xabcd\n"
        "mcr p15, 0, r0, c13, c0, 2\n"      /* TPIDRURW */
        "add r0, r0, #1\n"
        "mcr p15, 0, r0, c13, c0, 3\n"      /* TPIDRURO */
        "add r0, r0, #1\n"
        "mcr p15, 0, r0, c13, c0, 4\n"      /* TPIDRPRW */
        "mrc p15, 0, %0, c13, c0, 2\n"
        "mrc p15, 0, %1, c13, c0, 3\n"
        "mrc p15, 0, %2, c13, c0, 4\n"
        : "=r"(a), "=r"(b), "=r"(c) : : "r0");
    put_kv("TPIDRURW", a);
    put_kv("TPIDRURO", b);
    put_kv("TPIDRPRW", c);
}

static void id_regs(void)
{
    uint32_t midr, mpidr, ctr, clidr, pfr1, ccsidr;
    __asm__ volatile("mrc p15, 0, %0, c0, c0, 0" : "=r"(midr));
    __asm__ volatile("mrc p15, 0, %0, c0, c0, 5" : "=r"(mpidr));
    __asm__ volatile("mrc p15, 0, %0, c0, c0, 1" : "=r"(ctr));
    __asm__ volatile("mrc p15, 1, %0, c0, c0, 1" : "=r"(clidr));
    __asm__ volatile("mrc p15, 0, %0, c0, c1, 1" : "=r"(pfr1));
    __asm__ volatile("mcr p15, 2, %0, c0, c0, 0" : : "r"(0));      /* CSSELR: L1 data */
    __asm__ volatile("mrc p15, 1, %0, c0, c0, 0" : "=r"(ccsidr));  /* read right after the write */
    put_kv("MIDR", midr);
    put_kv("MPIDR", mpidr);
    put_kv("CTR", ctr);
    put_kv("CLIDR", clidr);
    put_kv("ID_PFR1", pfr1);
    put_kv("CCSIDR(L1D)", ccsidr);
}

/* Clean and invalidate the data caches by set/way, as Linux's v7_flush_dcache_all does, with a
 * store and barriers in the loop: the data must simply stay there. */
static void set_way_loop(void)
{
    static volatile uint32_t data[64];
    uint32_t sum = 0;
    for (uint32_t way = 0; way < 2; way++) {
        for (uint32_t set = 0; set < 256; set++) {
            uint32_t sw = (way << 31) | (set << 6);
            data[set & 63] = set + way;
            __asm__ volatile("mcr p15, 0, %0, c7, c14, 2" : : "r"(sw));   /* DCCISW */
            __asm__ volatile("mcr p15, 0, %0, c7, c10, 2" : : "r"(sw));   /* DCCSW */
            __asm__ volatile("mcr p15, 0, %0, c7, c6, 2" : : "r"(sw));    /* DCISW */
        }
    }
    __asm__ volatile("mcr p15, 0, %0, c7, c10, 1" : : "r"(&data[0]));     /* DCCMVAC */
    __asm__ volatile("mcr p15, 0, %0, c7, c14, 1" : : "r"(&data[0]));     /* DCCIMVAC */
    __asm__ volatile("mcr p15, 0, %0, c7, c11, 1" : : "r"(&data[0]));     /* DCCMVAU */
    __asm__ volatile("mcr p15, 0, %0, c7, c5, 6" : : "r"(0));             /* BPIALL */
    __asm__ volatile("mcr p15, 0, %0, c7, c10, 5" : : "r"(0));            /* CP15DMB */
    __asm__ volatile("mcr p15, 0, %0, c7, c10, 4" : : "r"(0));            /* CP15DSB */
    __asm__ volatile("mcr p15, 0, %0, c7, c5, 4" : : "r"(0));             /* CP15ISB */
    for (int i = 0; i < 64; i++)
        sum += data[i];
    put_kv("set/way sum", sum);
}

/* In User mode: each access's result, or 0xdead0000 + n where it was UNDEFINED. */
#define TRY(n, insn)                                                         \
    do {                                                                     \
        uint32_t before = undef_count, v = 0x5a5a5a5a;                       \
        __asm__ volatile(insn : "+r"(v));                                    \
        results[n] = undef_count != before ? 0xdead0000u + (n) : v;          \
    } while (0)

static void user_part(void)
{
    TRY(0, "mrc p15, 0, %0, c13, c0, 3");    /* TPIDRURO: read-only in User mode */
    TRY(1, "mrc p15, 0, %0, c13, c0, 2");    /* TPIDRURW */
    TRY(2, "mcr p15, 0, %0, c13, c0, 2");    /* TPIDRURW written */
    TRY(3, "mrc p15, 0, %0, c13, c0, 2");
    TRY(4, "mcr p15, 0, %0, c13, c0, 3");    /* TPIDRURO written: UNDEFINED */
    TRY(5, "mrc p15, 0, %0, c13, c0, 4");    /* TPIDRPRW: PL1 only */
    TRY(6, "mcr p15, 0, %0, c7, c10, 5");    /* CP15DMB: allowed */
    TRY(7, "mcr p15, 0, %0, c7, c10, 4");    /* CP15DSB */
    TRY(8, "mcr p15, 0, %0, c7, c5, 4");     /* CP15ISB */
    TRY(9, "mcr p15, 0, %0, c7, c14, 2");    /* DCCISW: PL1 only */
    TRY(10, "mcr p15, 0, %0, c7, c5, 6");    /* BPIALL */
    TRY(11, "mrc p15, 0, %0, c0, c0, 5");    /* MPIDR */
    TRY(12, "mrc p15, 0, %0, c0, c0, 1");    /* CTR */
    TRY(13, "mcr p15, 0, %0, c12, c0, 0");   /* VBAR */
    __asm__ volatile("svc #1");
}

void core_main(uint32_t core)
{
    (void)core;
    uint32_t vbar = set_vectors();
    put_kv("VBAR low bits", vbar & 0x1f);
    thread_ids();
    id_regs();
    set_way_loop();
    to_user(user_part, user_stack + 256);
    for (int i = 0; i < 14; i++) {
        puts_("user ");
        puthex((uint32_t)i);
        puts_(" = ");
        puthex(results[i]);
        puts_("\n");
    }
    uint32_t uro;
    __asm__ volatile("mrc p15, 0, %0, c13, c0, 3" : "=r"(uro));
    put_kv("TPIDRURO after User mode", uro);
    put_kv("undefined", undef_count);
    semihost_exit(0);
}
