/* Every vCPU runs floating point under its own FPSCR (fp_smp.expected, QEMU with -smp 4): CPU n
 * uses rounding mode n, CPUs 2 and 3 flush to zero, CPU 3 also sets default NaN; each iterates
 * double- and single-precision arithmetic, square roots, fused multiply-adds and NEON (which
 * ignores the rounding mode), yielding often so that the vCPUs interleave. If any FP state were
 * shared between vCPUs, the results or the sticky exception flags would show it. CPU0 prints
 * everyone's results in CPU order. */
#include "rt.h"

#include <arm_neon.h>

extern void secondary_start(void);

#define NCPU 4
static volatile uint32_t done[NCPU];
static volatile uint64_t result_d[NCPU][3];
static volatile uint32_t result_f[NCPU][3], result_fpscr[NCPU], result_neon[NCPU][4];

static void fpu_on(void)
{
    uint32_t v;
    __asm__ volatile("mrc p15, 0, %0, c1, c0, 2" : "=r"(v));
    __asm__ volatile("mcr p15, 0, %0, c1, c0, 2\n isb" :: "r"(v | 0xF << 20));
    __asm__ volatile("vmsr fpexc, %0" :: "r"(1u << 30));
}

static void work(uint32_t core)
{
    uint32_t ctl = core << 22 | (core >= 2 ? 1u << 24 : 0) | (core == 3 ? 1u << 25 : 0);
    __asm__ volatile("vmsr fpscr, %0" :: "r"(ctl) : "memory");
    volatile double x = 1.0 + core, y = 3.0, tiny = 2.2250738585072014e-308;
    volatile float fx = 1.0f + (float)core, fy = 7.0f;
    double acc = 0.0, root = 0.0;
    float facc = 0.0f;
    float32x4_t v = vdupq_n_f32(0.1f * (float)(core + 1)), w = vdupq_n_f32(1.0f / 3.0f);
    for (int i = 0; i < 300; i++) {
        acc += x / y;
        acc = __builtin_fma(acc, 1.0000001, -x / 7.0);
        root += __builtin_sqrt(acc < 0 ? -acc : acc);
        facc += fx / fy;
        facc = facc * 0.999f + tiny * 1e300;
        v = vmlaq_f32(v, w, v);
        v = vmulq_n_f32(v, 0.75f);
        if (i % 16 == 0)
            __asm__ volatile("yield");
    }
    uint32_t fpscr;
    __asm__ volatile("vmrs %0, fpscr" : "=r"(fpscr));
    union { double d; uint64_t u; } a = {acc}, r = {root}, t = {tiny / y};
    union { float f; uint32_t u; } fa = {facc}, fb = {fx / fy}, fc = {(float)(tiny * 1e10)};
    result_d[core][0] = a.u;
    result_d[core][1] = r.u;
    result_d[core][2] = t.u;
    result_f[core][0] = fa.u;
    result_f[core][1] = fb.u;
    result_f[core][2] = fc.u;
    result_fpscr[core] = fpscr;
    uint32x4_t bits = vreinterpretq_u32_f32(v);
    result_neon[core][0] = vgetq_lane_u32(bits, 0);
    result_neon[core][1] = vgetq_lane_u32(bits, 1);
    result_neon[core][2] = vgetq_lane_u32(bits, 2);
    result_neon[core][3] = vgetq_lane_u32(bits, 3);
    __asm__ volatile("dmb ish" ::: "memory");
    done[core] = 1;
    __asm__ volatile("dsb ish\n sev" ::: "memory");
}

void core_main(uint32_t core)
{
    fpu_on();
    if (core != 0) {
        work(core);
        for (;;)
            __asm__ volatile("wfe");
    }
    for (uint32_t c = 1; c < NCPU; c++)
        psci(0x84000003, c, (uint32_t)secondary_start, c);
    work(0);
    for (uint32_t c = 0; c < NCPU; c++)
        while (!done[c])
            __asm__ volatile("wfe");
    __asm__ volatile("dmb ish" ::: "memory");
    for (uint32_t c = 0; c < NCPU; c++) {
        puts_("cpu");
        putc_((char)('0' + c));
        puts_(": fpscr ");
        puthex(result_fpscr[c]);
        for (int i = 0; i < 3; i++) {
            puts_(" d");
            puthex((uint32_t)(result_d[c][i] >> 32));
            puthex((uint32_t)result_d[c][i]);
        }
        for (int i = 0; i < 3; i++) {
            puts_(" f");
            puthex(result_f[c][i]);
        }
        puts_(" neon");
        for (int i = 0; i < 4; i++) {
            putc_(' ');
            puthex(result_neon[c][i]);
        }
        puts_("\n");
    }
    semihost_exit(0);
}
