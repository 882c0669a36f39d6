/* fp_libm.c - newlib built for hard float (-mfpu=neon-vfpv4 -mfloat-abi=hard) doing floating point
 * the way ordinary programs do: printf("%f"/"%e"/"%g"), strtod, libm (sqrt, sin, exp, pow...), float
 * and double arithmetic, int <-> float conversions, fused multiply-add, half precision, and then
 * what only the FPSCR shows: every rounding mode, flush-to-zero, default NaN, NaN payloads and the
 * cumulative exception flags, all printed as bits so that nothing is hidden by printf's rounding. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t get_fpscr(void) { uint32_t v; __asm__ volatile("vmrs %0, fpscr" : "=r"(v)); return v; }
static void set_fpscr(uint32_t v) { __asm__ volatile("vmsr fpscr, %0" :: "r"(v) : "memory"); }
static uint64_t bits64(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }
static uint32_t bits32(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static double from64(uint64_t u) { double d; memcpy(&d, &u, 8); return d; }
static float from32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/* Values the compiler cannot fold. */
static volatile double dv[] = {0.0, -0.0, 1.0, -2.5, 3.141592653589793, 1e-310, 1e300, 0.1, 123456.789,
                               -1e-5, 2.0, 0.5, 1e-320, 7.0};
static volatile float fv[] = {0.0f, -0.0f, 1.0f, -2.5f, 3.1415927f, 1e-40f, 1e30f, 0.1f, 12345.678f, 3.0f};
#define ND (sizeof dv / sizeof dv[0])
#define NF (sizeof fv / sizeof fv[0])

static void libm(void)
{
    printf("-- libm\n");
    for (unsigned i = 0; i < ND; i++) {
        double x = dv[i];
        printf("%g: sqrt %.17g sin %.17g cos %.17g exp %.17g log %.17g\n", x, sqrt(fabs(x)), sin(x), cos(x),
               exp(x), log(fabs(x)));
        printf("   atan2 %.17g pow %.17g fmod %.17g floor %g ceil %g cbrt %.17g hypot %.17g\n", atan2(x, 3.0),
               pow(fabs(x), 1.5), fmod(x, 0.75), floor(x), ceil(x), cbrt(x), hypot(x, 4.0));
    }
    for (unsigned i = 0; i < NF; i++) {
        float x = fv[i];
        printf("%g: sqrtf %.9g sinf %.9g expf %.9g logf %.9g powf %.9g\n", (double)x, (double)sqrtf(fabsf(x)),
               (double)sinf(x), (double)expf(x), (double)logf(fabsf(x)), (double)powf(fabsf(x), 0.3f));
    }
}

static void printing(void)
{
    printf("-- printf and strtod\n");
    for (unsigned i = 0; i < ND; i++)
        printf("%f|%e|%g|%.3f|%10.4e\n", dv[i], dv[i], dv[i], dv[i], dv[i]);
    printf("%f %f %f %f\n", INFINITY, -INFINITY, NAN, -(double)NAN);
    const char *texts[] = {"3.14159", "-0", "1e-320", "0x1.8p3", "2.2250738585072011e-308", "1e400", "nan", "0.1"};
    for (unsigned i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        double d = strtod(texts[i], NULL);
        float f = strtof(texts[i], NULL);
        printf("strtod(%s) = %016llx  strtof = %08lx\n", texts[i], (unsigned long long)bits64(d),
               (unsigned long)bits32(f));
    }
}

static void conversions(void)
{
    printf("-- conversions\n");
    static volatile double big[] = {2147483647.5, -2147483648.9, 4294967296.0, -1.5, 1e20, -1e20, 0.99999, -0.5};
    for (unsigned i = 0; i < sizeof big / sizeof big[0]; i++) {
        double x = big[i];
        printf("%.17g -> int %ld uint %lu float %08lx int64 %lld\n", x, (long)(int32_t)x, (unsigned long)(uint32_t)x,
               (unsigned long)bits32((float)x), (long long)x);
    }
    static volatile int32_t ints[] = {0, 1, -1, 16777217, -16777217, 2147483647, (int32_t)0x80000000};
    for (unsigned i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        printf("%ld -> float %08lx double %016llx ufloat %08lx\n", (long)ints[i], (unsigned long)bits32((float)ints[i]),
               (unsigned long long)bits64((double)ints[i]), (unsigned long)bits32((float)(uint32_t)ints[i]));
    }
    static volatile uint64_t longs[] = {0x123456789ABCDEFull, 0xFFFFFFFFFFFFFFFFull, 0x8000000000000001ull};
    for (unsigned i = 0; i < 3; i++)
        printf("%016llx -> double %016llx float %08lx\n", (unsigned long long)longs[i],
               (unsigned long long)bits64((double)longs[i]), (unsigned long)bits32((float)(int64_t)longs[i]));
    /* half precision: VCVTB/VCVTT through __fp16 */
    static volatile float halves[] = {1.0f, 65504.0f, 65520.0f, 1e-7f, 5.9604645e-8f, -0.333333f, 1e10f};
    for (unsigned i = 0; i < sizeof halves / sizeof halves[0]; i++) {
        __fp16 h = halves[i];
        uint16_t hb;
        memcpy(&hb, &h, 2);
        printf("%g -> half %04x -> %.9g\n", (double)halves[i], hb, (double)(float)h);
    }
}

/* The same operations under each FPSCR setting, results as bits. */
static volatile double da = 1.0, db = 3.0, dtiny = 2.2250738585072014e-308, dhuge = 1.7976931348623157e308;
static volatile float fa = 1.0f, fb = 3.0f, ftiny = 1.17549435e-38f, fhuge = 3.40282347e38f;

static void fpscr_modes(void)
{
    printf("-- FPSCR modes\n");
    static const char *const mode[] = {"RN", "RP", "RM", "RZ"};
    for (unsigned m = 0; m < 16; m++) {
        uint32_t ctl = (m & 3) << 22 | (m & 4 ? 1u << 24 : 0) | (m & 8 ? 1u << 25 : 0);
        set_fpscr(ctl);
        double q = da / db, nq = -da / db, s = sqrt(db), u = dtiny / db, o = dhuge * db, n = (dhuge * 0.0) * 0.0;
        double fz = dtiny * 0.25 + dtiny, f2 = fma(da / db, db, -da), ovf = dhuge + dhuge * 1e-16;
        float fq = fa / fb, fnq = -fa / fb, fu = ftiny / fb, fo = fhuge * fb, ff = fmaf(fa / fb, fb, -fa);
        uint32_t flags = get_fpscr();
        printf("%s%s%s: %016llx %016llx %016llx %016llx %016llx %016llx %016llx %016llx %016llx\n", mode[m & 3],
               m & 4 ? " FZ" : "", m & 8 ? " DN" : "", (unsigned long long)bits64(q), (unsigned long long)bits64(nq),
               (unsigned long long)bits64(s), (unsigned long long)bits64(u), (unsigned long long)bits64(o),
               (unsigned long long)bits64(n), (unsigned long long)bits64(fz), (unsigned long long)bits64(f2),
               (unsigned long long)bits64(ovf));
        printf("   %08lx %08lx %08lx %08lx %08lx flags %08lx\n", (unsigned long)bits32(fq), (unsigned long)bits32(fnq),
               (unsigned long)bits32(fu), (unsigned long)bits32(fo), (unsigned long)bits32(ff), (unsigned long)flags);
    }
    set_fpscr(0);
}

static void nans(void)
{
    printf("-- NaNs\n");
    static volatile uint64_t nb[] = {0x7FF0000000000001ull, 0xFFF4000000000123ull, 0x7FF8000000000abcull,
                                     0xFFF8000000000000ull};
    static volatile uint32_t nf[] = {0x7F800001u, 0xFFA00123u, 0x7FC00abcu, 0xFFC00000u};
    for (unsigned dn = 0; dn < 2; dn++) {
        set_fpscr(dn << 25);
        for (unsigned i = 0; i < 4; i++)
            for (unsigned j = 0; j < 4; j++) {
                double r = from64(nb[i]) + from64(nb[j]);
                float f = from32(nf[i]) * from32(nf[j]);
                printf("%016llx %08lx ", (unsigned long long)bits64(r), (unsigned long)bits32(f));
            }
        double c = (double)from32(nf[1]);
        float d = (float)from64(nb[2]);
        printf("\ncvt %016llx %08lx flags %08lx\n", (unsigned long long)bits64(c), (unsigned long)bits32(d),
               (unsigned long)get_fpscr());
    }
    set_fpscr(0);
}

/* Kernels with a checksum of the result bits. */
static uint32_t mix(uint32_t h, uint32_t v) { return (h ^ v) * 16777619u; }

static void kernels(void)
{
    printf("-- kernels\n");
    enum { N = 12 };
    static double a[N][N], b[N][N], c[N][N];
    static float af[N][N], bf[N][N], cf[N][N];
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            a[i][j] = (i * 7 + j * 3) % 11 / 7.0 - 0.5;
            b[i][j] = (i * 5 + j * 9) % 13 / 3.0 + 0.25;
            af[i][j] = (float)a[i][j];
            bf[i][j] = (float)b[i][j];
        }
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            float sf = 0;
            for (int k = 0; k < N; k++) {
                s += a[i][k] * b[k][j];
                sf += af[i][k] * bf[k][j];
            }
            c[i][j] = s;
            cf[i][j] = sf;
        }
    uint32_t h = 2166136261u, hf = 2166136261u;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            uint64_t u = bits64(c[i][j]);
            h = mix(mix(h, (uint32_t)u), (uint32_t)(u >> 32));
            hf = mix(hf, bits32(cf[i][j]));
        }
    printf("matmul double %08lx float %08lx c[3][5] = %.17g %.9g\n", (unsigned long)h, (unsigned long)hf, c[3][5],
           (double)cf[3][5]);
    double x = 0.5, v = 0.0, dt = 0.01;
    for (int i = 0; i < 1000; i++) {
        double acc = -x - 0.1 * v + sin(i * dt);
        v += acc * dt;
        x += v * dt;
    }
    printf("oscillator %.17g %.17g flags %08lx\n", x, v, (unsigned long)get_fpscr());
}

int main(void)
{
    printf("fpscr at entry %08lx\n", (unsigned long)get_fpscr());
    printing();
    libm();
    conversions();
    fpscr_modes();
    nans();
    kernels();
    return 0;
}
