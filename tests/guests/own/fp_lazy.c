/* fp_lazy.c - an OS's lazy FP context switch, as QEMU's cortex-a15 runs it (fp_lazy.expected).
 * Two tasks keep live values in d8 and d20 and run with different rounding modes; the scheduler
 * turns the FPU off (FPEXC.EN) at every switch, and the Undefined Instruction handler, on a task's
 * first FP instruction, turns it back on, swaps the register file if another task owns it, and
 * retries the instruction. The same handler also recovers from CPACR cp10/cp11 off and FPSCR.Len
 * non-zero, and skips an unallocated VMRS register (not an FP trap). It counts each cause;
 * tests/guests/test_fp_trap.py checks the emulator counted as many FP traps. (CPACR.ASEDIS is left
 * out: QEMU does not make Advanced SIMD UNDEFINED under it, the ARM ARM and tuiemu do.) */
#include "rt.h"

#define FPEXC_EN 0x40000000u
#define CPACR_CP10_11 0x00f00000u
#define FPSCR_VEC 0x00370000u

struct fpctx {
    uint64_t d[32];
    uint32_t fpscr, pad;
};
static struct fpctx ctx[2];
static int cur_task, fp_owner = -1;
static uint32_t traps_en, traps_cpacr, traps_len, other_und, swaps;
static uint32_t und_stack[256] __attribute__((aligned(8)));

void fp_save(struct fpctx *c);
void fp_load(const struct fpctx *c);
extern void lazy_vectors(void);
__asm__(".align 5\n"
        "lazy_vectors: b .\n b und_entry\n b .\n b .\n b .\n b .\n b .\n b .\n"
        /* und_handler returns 1: retry the instruction (lr - 4), 0: skip it (lr) */
        "und_entry: push {r0-r3, r12, lr}\n bl und_handler\n cmp r0, #0\n pop {r0-r3, r12, lr}\n"
        " subne lr, lr, #4\n movs pc, lr\n"
        ".global fp_save\n"
        "fp_save: vstmia r0!, {d0-d15}\n vstmia r0!, {d16-d31}\n vmrs r1, fpscr\n str r1, [r0]\n bx lr\n"
        ".global fp_load\n"
        "fp_load: vldmia r0!, {d0-d15}\n vldmia r0!, {d16-d31}\n ldr r1, [r0]\n vmsr fpscr, r1\n bx lr\n");

static uint32_t rd_cpacr(void) { uint32_t v; __asm__ volatile("mrc p15, 0, %0, c1, c0, 2" : "=r"(v)); return v; }
static void wr_cpacr(uint32_t v) { __asm__ volatile("mcr p15, 0, %0, c1, c0, 2\n isb" :: "r"(v)); }
static uint32_t rd_fpexc(void) { uint32_t v; __asm__ volatile("vmrs %0, fpexc" : "=r"(v)); return v; }
static void wr_fpexc(uint32_t v) { __asm__ volatile("vmsr fpexc, %0" :: "r"(v) : "memory"); }
static uint32_t rd_fpscr(void) { uint32_t v; __asm__ volatile("vmrs %0, fpscr" : "=r"(v)); return v; }
static void wr_fpscr(uint32_t v) { __asm__ volatile("vmsr fpscr, %0" :: "r"(v) : "memory"); }

/* Integer code only: it runs while the FPU may be off. */
uint32_t und_handler(void)
{
    uint32_t cpacr = rd_cpacr();
    if ((cpacr & CPACR_CP10_11) != CPACR_CP10_11) {
        wr_cpacr(cpacr | CPACR_CP10_11);
        traps_cpacr++;
        return 1;
    }
    if (!(rd_fpexc() & FPEXC_EN)) {
        wr_fpexc(FPEXC_EN);
        if (fp_owner != cur_task) {
            if (fp_owner >= 0)
                fp_save(&ctx[fp_owner]);
            fp_load(&ctx[cur_task]);
            fp_owner = cur_task;
            swaps++;
        }
        traps_en++;
        return 1;
    }
    uint32_t fpscr = rd_fpscr();
    if (fpscr & FPSCR_VEC) {
        wr_fpscr(fpscr & ~FPSCR_VEC);
        traps_len++;
        return 1;
    }
    other_und++;
    return 0;
}

/* Each task's step: d8 += d9 * d10 (two roundings, in the task's rounding mode), and task 1 also
 * keeps a sum in a high register, d20 += d21. */
static void task_step(int t)
{
    if (t == 0)
        __asm__ volatile("vmla.f64 d8, d9, d10" ::: "memory");
    else
        __asm__ volatile("vmla.f64 d8, d9, d10\n vadd.f64 d20, d20, d21" ::: "memory");
}

static void put_ctx(const char *name, const struct fpctx *c)
{
    puts_(name);
    puts_(": d8=");
    puthex((uint32_t)(c->d[8] >> 32));
    puthex((uint32_t)c->d[8]);
    puts_(" d20=");
    puthex((uint32_t)(c->d[20] >> 32));
    puthex((uint32_t)c->d[20]);
    puts_(" fpscr=");
    puthex(c->fpscr);
    puts_("\n");
}

static void run(int t)
{
    cur_task = t;
    wr_fpexc(0);        /* the switch: whoever touches the FPU next traps */
    task_step(t);
}

void core_main(void)
{
    static const uint8_t order[] = {0, 1, 1, 0, 1, 0, 0, 1, 0, 1};
    __asm__ volatile("mcr p15, 0, %0, c12, c0, 0\n isb" :: "r"(lazy_vectors));
    __asm__ volatile("mrs r0, cpsr\n msr cpsr_c, #0xdb\n mov sp, %0\n msr cpsr_c, r0"
                     :: "r"(und_stack + 256) : "r0");
    wr_cpacr(CPACR_CP10_11);
    wr_fpexc(FPEXC_EN);   /* on while the compiler may use it (the initialisation below) */
    /* task 0: round to nearest; task 1: round towards zero. 1/3 and 1/10 as doubles. */
    for (int t = 0; t < 2; t++) {
        ctx[t].d[9] = 0x3fd5555555555555ull;
        ctx[t].d[10] = 0x3fb999999999999aull;
        ctx[t].d[8] = 0x3ff0000000000000ull;
        ctx[t].d[21] = 0x3fb999999999999aull;
        ctx[t].fpscr = t ? 0x00c00000u : 0;
    }
    for (unsigned i = 0; i < sizeof order; i++)
        run(order[i]);
    put_kv("FPEXC.EN traps", traps_en);
    put_kv("context swaps", swaps);

    wr_cpacr(0);
    __asm__ volatile("vadd.f64 d8, d8, d9" ::: "memory");
    put_kv("CPACR cp10/cp11 off traps", traps_cpacr);

    wr_fpscr(rd_fpscr() | 0x00010000u);
    __asm__ volatile("vadd.f64 d8, d8, d9" ::: "memory");
    put_kv("FPSCR.Len traps", traps_len);

    __asm__ volatile(".inst 0xeef90a10" ::: "r0", "memory");   /* VMRS r0, reg 9: unallocated */
    put_kv("other undefined", other_und);

    fp_save(&ctx[fp_owner]);
    put_ctx("task 0", &ctx[0]);
    put_ctx("task 1", &ctx[1]);
    put_kv("fp traps total", traps_en + traps_cpacr + traps_len);
    semihost_exit(0);
}
