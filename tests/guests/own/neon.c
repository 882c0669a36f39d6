/* neon.c - Advanced SIMD through GCC's arm_neon.h intrinsics, checked against QEMU (neon.expected):
 * integer and saturating arithmetic (QC read back from FPSCR), shifts, widening and narrowing,
 * pairwise, compares and bitwise selects, permutes and table lookups, counts, single-precision
 * arithmetic, reciprocal estimates and steps, conversions, and structure loads and stores. Every
 * result is printed as bits. Built with newlib (hard float) like fp_libm. */
#include <arm_neon.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint32_t fpscr_get(void) { uint32_t v; __asm__ volatile("vmrs %0, fpscr" : "=r"(v)); return v; }
static void fpscr_set(uint32_t v) { __asm__ volatile("vmsr fpscr, %0" :: "r"(v) : "memory"); }

static void show(const char *name, const void *p, unsigned n)
{
    const uint8_t *b = p;
    printf("%-12s", name);
    for (unsigned i = n; i-- > 0;)
        printf("%02x%s", b[i], i % 8 == 0 && i ? " " : "");
    printf("\n");
}
#define SHOW(name, v) do { __typeof__(v) t_ = (v); show(name, &t_, sizeof t_); } while (0)

static volatile uint8_t src8[64];
static volatile float srcf[16];

static void integer(void)
{
    printf("-- integer\n");
    uint8x16_t a = vld1q_u8((const uint8_t *)src8), b = vld1q_u8((const uint8_t *)src8 + 16);
    int16x8_t sa = vreinterpretq_s16_u8(a), sb = vreinterpretq_s16_u8(b);
    int32x4_t wa = vreinterpretq_s32_u8(a), wb = vreinterpretq_s32_u8(b);
    SHOW("vadd.u8", vaddq_u8(a, b));
    SHOW("vsub.i16", vsubq_s16(sa, sb));
    SHOW("vmul.i32", vmulq_s32(wa, wb));
    SHOW("vmla.i16", vmlaq_s16(sa, sb, sa));
    SHOW("vhadd.s8", vhaddq_s8(vreinterpretq_s8_u8(a), vreinterpretq_s8_u8(b)));
    SHOW("vrhadd.u16", vrhaddq_u16(vreinterpretq_u16_u8(a), vreinterpretq_u16_u8(b)));
    SHOW("vabd.s16", vabdq_s16(sa, sb));
    SHOW("vaba.u8", vabaq_u8(a, b, a));
    SHOW("vmax.s32", vmaxq_s32(wa, wb));
    SHOW("vmin.u8", vminq_u8(a, b));
    SHOW("vmul.p8", vmulq_p8(vreinterpretq_p8_u8(a), vreinterpretq_p8_u8(b)));
    SHOW("vaddl.s8", vaddl_s8(vget_low_s8(vreinterpretq_s8_u8(a)), vget_high_s8(vreinterpretq_s8_u8(b))));
    SHOW("vmull.u16", vmull_u16(vget_low_u16(vreinterpretq_u16_u8(a)), vget_low_u16(vreinterpretq_u16_u8(b))));
    SHOW("vmull.p8", vmull_p8(vget_low_p8(vreinterpretq_p8_u8(a)), vget_high_p8(vreinterpretq_p8_u8(b))));
    SHOW("vmlal.s32", vmlal_s32(vreinterpretq_s64_u8(a), vget_low_s32(wa), vget_high_s32(wb)));
    SHOW("vaddw.u8", vaddw_u8(vreinterpretq_u16_u8(a), vget_high_u8(b)));
    SHOW("vsubhn.i32", vsubhn_s32(wa, wb));
    SHOW("vraddhn.i16", vraddhn_s16(sa, sb));
    SHOW("vabdl.u8", vabdl_u8(vget_low_u8(a), vget_high_u8(a)));
    SHOW("vpadd.i16", vpadd_s16(vget_low_s16(sa), vget_high_s16(sb)));
    SHOW("vpaddl.u8", vpaddlq_u8(a));
    SHOW("vpadal.s16", vpadalq_s16(wa, sb));
    SHOW("vpmax.u8", vpmax_u8(vget_low_u8(a), vget_high_u8(b)));
    SHOW("vpmin.s32", vpmin_s32(vget_low_s32(wa), vget_high_s32(wb)));
    SHOW("vmul.s16[2]", vmulq_lane_s16(sa, vget_low_s16(sb), 2));
    SHOW("vmlal.u32[1]", vmlal_lane_u32(vreinterpretq_u64_u8(b), vget_low_u32(vreinterpretq_u32_u8(a)),
                                        vget_high_u32(vreinterpretq_u32_u8(b)), 1));
}

static void saturating(void)
{
    printf("-- saturating (QC read back)\n");
    int8x16_t a = vreinterpretq_s8_u8(vld1q_u8((const uint8_t *)src8)), b = vreinterpretq_s8_u8(vld1q_u8((const uint8_t *)src8 + 32));
    int16x8_t sa = vreinterpretq_s16_s8(a), sb = vreinterpretq_s16_s8(b);
    int32x4_t wa = vreinterpretq_s32_s8(a), wb = vreinterpretq_s32_s8(b);
#define QC(name, expr) do { fpscr_set(0); __typeof__(expr) r_ = (expr); uint32_t f_ = fpscr_get(); \
        show(name, &r_, sizeof r_); printf("%-12sQC=%lu\n", "", (unsigned long)(f_ >> 27 & 1)); } while (0)
    QC("vqadd.s8", vqaddq_s8(a, b));
    QC("vqadd.u16", vqaddq_u16(vreinterpretq_u16_s8(a), vreinterpretq_u16_s8(b)));
    QC("vqsub.s32", vqsubq_s32(wa, wb));
    QC("vqsub.u64", vqsubq_u64(vreinterpretq_u64_s8(b), vreinterpretq_u64_s8(a)));
    QC("vqdmulh.s16", vqdmulhq_s16(sa, sb));
    QC("vqrdmulh.s32", vqrdmulhq_s32(wa, wb));
    QC("vqdmull.s16", vqdmull_s16(vget_low_s16(sa), vget_low_s16(sb)));
    QC("vqdmlal.s32", vqdmlal_s32(vreinterpretq_s64_s8(a), vget_low_s32(wa), vget_high_s32(wb)));
    QC("vqmovn.s32", vqmovn_s32(wa));
    QC("vqmovun.s16", vqmovun_s16(sb));
    QC("vqabs.s8", vqabsq_s8(a));
    QC("vqneg.s16", vqnegq_s16(sb));
    QC("vqshl.s8 #5", vqshlq_n_s8(a, 5));
    QC("vqshlu.s16", vqshluq_n_s16(sa, 3));
    QC("vqrshrn.s32", vqrshrn_n_s32(wb, 7));
    QC("vqshrun.s16", vqshrun_n_s16(sa, 2));
    QC("vqrshl.u32", vqrshlq_u32(vreinterpretq_u32_s8(a), wb));
}

static void shifts_bits(void)
{
    printf("-- shifts, compares, bits\n");
    uint8x16_t a = vld1q_u8((const uint8_t *)src8 + 8), b = vld1q_u8((const uint8_t *)src8 + 40);
    int16x8_t sa = vreinterpretq_s16_u8(a), sb = vreinterpretq_s16_u8(b);
    uint32x4_t ua = vreinterpretq_u32_u8(a), ub = vreinterpretq_u32_u8(b);
    SHOW("vshl.s16", vshlq_s16(sa, sb));
    SHOW("vrshl.u8", vrshlq_u8(a, vreinterpretq_s8_u8(b)));
    SHOW("vshr.s32 #3", vshrq_n_s32(vreinterpretq_s32_u8(a), 3));
    SHOW("vrshr.u8 #7", vrshrq_n_u8(a, 7));
    SHOW("vsra.u16 #4", vsraq_n_u16(vreinterpretq_u16_u8(a), vreinterpretq_u16_u8(b), 4));
    SHOW("vsri.32 #9", vsriq_n_u32(ua, ub, 9));
    SHOW("vsli.8 #3", vsliq_n_u8(a, b, 3));
    SHOW("vshrn.i32", vshrn_n_u32(ua, 5));
    SHOW("vshll.s8 #3", vshll_n_s8(vget_low_s8(vreinterpretq_s8_u8(a)), 3));
    SHOW("vshll.u16 #16", vshll_n_u16(vget_high_u16(vreinterpretq_u16_u8(b)), 16));
    SHOW("vmovl.s16", vmovl_s16(vget_low_s16(sb)));
    SHOW("vmovn.i64", vmovn_u64(vreinterpretq_u64_u8(a)));
    SHOW("vceq.i8", vceqq_u8(a, vdupq_n_u8(0x80)));
    SHOW("vcgt.s16", vcgtq_s16(sa, sb));
    SHOW("vcge.u32", vcgeq_u32(ua, ub));
    SHOW("vtst.8", vtstq_u8(a, b));
    SHOW("vclt.s8 #0", vcltq_s8(vreinterpretq_s8_u8(b), vdupq_n_s8(0)));
    SHOW("vbsl", vbslq_u8(a, b, vmvnq_u8(b)));
    SHOW("vorn/veor", veorq_u8(vornq_u8(a, b), vbicq_u8(b, a)));
    SHOW("vcnt", vcntq_u8(a));
    SHOW("vclz.i16", vclzq_s16(sb));
    SHOW("vcls.s32", vclsq_s32(vreinterpretq_s32_u8(a)));
    SHOW("vabs.s8", vabsq_s8(vreinterpretq_s8_u8(b)));
    SHOW("vneg.s32", vnegq_s32(vreinterpretq_s32_u8(a)));
    SHOW("vmov.i16 imm", vorrq_u16(vdupq_n_u16(0x1200), vdupq_n_u16(0x00ff)));
    SHOW("vbic.i32 imm", vbicq_u32(ub, vdupq_n_u32(0xff00)));
    SHOW("vmvn.i32 imm", vdupq_n_u32(0xffffab00));
    SHOW("vmov.i64 imm", vdupq_n_u64(0xff00ffff0000ff00ull));
}

static void permutes(void)
{
    printf("-- permutes\n");
    uint8x16_t a = vld1q_u8((const uint8_t *)src8), b = vld1q_u8((const uint8_t *)src8 + 16);
    uint16x8x2_t z = vzipq_u16(vreinterpretq_u16_u8(a), vreinterpretq_u16_u8(b));
    SHOW("vzip.16 d", z.val[0]);
    SHOW("vzip.16 m", z.val[1]);
    uint8x8x2_t u = vuzp_u8(vget_low_u8(a), vget_high_u8(b));
    SHOW("vuzp.8 d", u.val[0]);
    SHOW("vuzp.8 m", u.val[1]);
    uint32x4x2_t t = vtrnq_u32(vreinterpretq_u32_u8(a), vreinterpretq_u32_u8(b));
    SHOW("vtrn.32 d", t.val[0]);
    SHOW("vtrn.32 m", t.val[1]);
    SHOW("vext #5", vextq_u8(a, b, 5));
    SHOW("vext.d #3", vext_u8(vget_low_u8(a), vget_high_u8(a), 3));
    SHOW("vrev64.16", vrev64q_u16(vreinterpretq_u16_u8(a)));
    SHOW("vrev32.8", vrev32q_u8(b));
    SHOW("vrev16.8", vrev16_u8(vget_low_u8(a)));
    uint8x8x3_t tab = {{vget_low_u8(a), vget_high_u8(a), vget_low_u8(b)}};
    uint8x8_t idx = vand_u8(vget_high_u8(b), vdup_n_u8(0x1f));
    SHOW("vtbl3", vtbl3_u8(tab, idx));
    SHOW("vtbx1", vtbx1_u8(vget_low_u8(b), vget_high_u8(a), idx));
    SHOW("vdup lane", vdupq_lane_u16(vget_low_u16(vreinterpretq_u16_u8(b)), 3));
    SHOW("vset lane", vsetq_lane_u32(0xcafef00du, vreinterpretq_u32_u8(a), 2));
    printf("vget lane   %08lx %02x\n", (unsigned long)vgetq_lane_u32(vreinterpretq_u32_u8(b), 3), vgetq_lane_u8(a, 11));
}

static void floats(void)
{
    printf("-- float\n");
    float32x4_t a = vld1q_f32((const float *)srcf), b = vld1q_f32((const float *)srcf + 4);
    float32x4_t c = vld1q_f32((const float *)srcf + 8), d = vld1q_f32((const float *)srcf + 12);
    for (unsigned mode = 0; mode < 2; mode++) {
        fpscr_set(mode ? 0x00c00000 : 0);  /* Advanced SIMD ignores the rounding mode */
        SHOW("vadd.f32", vaddq_f32(a, b));
        SHOW("vsub.f32", vsubq_f32(c, d));
        SHOW("vmul.f32", vmulq_f32(a, c));
        SHOW("vmla.f32", vmlaq_f32(d, a, b));
        SHOW("vfma.f32", vfmaq_f32(d, a, b));
        SHOW("vfms.f32", vfmsq_f32(c, b, d));
        SHOW("vabd.f32", vabdq_f32(a, d));
        SHOW("vmax.f32", vmaxq_f32(b, c));
        SHOW("vpmin.f32", vpmin_f32(vget_low_f32(c), vget_high_f32(d)));
        SHOW("vpadd.f32", vpadd_f32(vget_low_f32(a), vget_high_f32(b)));
        SHOW("vcgt.f32", vcgtq_f32(a, c));
        SHOW("vacge.f32", vcageq_f32(b, d));
        SHOW("vrecpe.f32", vrecpeq_f32(a));
        SHOW("vrecps.f32", vrecpsq_f32(a, vrecpeq_f32(a)));
        SHOW("vrsqrte.f32", vrsqrteq_f32(vabsq_f32(c)));
        SHOW("vrsqrts.f32", vrsqrtsq_f32(c, d));
        SHOW("vrecpe.u32", vrecpeq_u32(vreinterpretq_u32_f32(b)));
        SHOW("vrsqrte.u32", vrsqrteq_u32(vreinterpretq_u32_f32(d)));
        SHOW("vcvt.s32", vcvtq_s32_f32(c));
        SHOW("vcvt.u32.f32 #8", vcvtq_n_u32_f32(b, 8));
        SHOW("vcvt.f32.s32", vcvtq_f32_s32(vreinterpretq_s32_f32(a)));
        SHOW("vcvt.f32.u32 #4", vcvtq_n_f32_u32(vreinterpretq_u32_f32(d), 4));
        SHOW("vmul.f32[1]", vmulq_lane_f32(a, vget_low_f32(b), 1));
        SHOW("vneg/vabs", vnegq_f32(vabsq_f32(d)));
        printf("%-12sFPSCR=%08lx\n", "", (unsigned long)fpscr_get());
    }
    fpscr_set(0);
    float16x4_t h = vcvt_f16_f32(c);
    SHOW("vcvt.f16.f32", h);
    SHOW("vcvt.f32.f16", vcvt_f32_f16(h));
}

static void structures(void)
{
    printf("-- structure loads and stores\n");
    static uint8_t buf[96] __attribute__((aligned(16)));
    memcpy(buf, (const void *)src8, 64);
    uint8x8x2_t l2 = vld2_u8(buf + 1);
    SHOW("vld2.8 0", l2.val[0]);
    SHOW("vld2.8 1", l2.val[1]);
    uint16x4x3_t l3 = vld3_u16((uint16_t *)buf + 3);
    SHOW("vld3.16 0", l3.val[0]);
    SHOW("vld3.16 2", l3.val[2]);
    uint32x4x4_t l4 = vld4q_u32((uint32_t *)buf);
    SHOW("vld4.32 1", l4.val[1]);
    SHOW("vld4.32 3", l4.val[3]);
    uint16x8x2_t lane = vld2q_lane_u16((uint16_t *)buf + 5, vld2q_u16((uint16_t *)buf + 16), 6);
    SHOW("vld2 lane", lane.val[1]);
    SHOW("vld1 dup", vld1q_dup_u32((uint32_t *)buf + 7));
    uint8x8x4_t dup4 = vld4_dup_u8(buf + 9);
    SHOW("vld4 dup 3", dup4.val[3]);
    memset(buf, 0, sizeof buf);
    vst3q_u8(buf, (uint8x16x3_t){{vld1q_u8((const uint8_t *)src8), vld1q_u8((const uint8_t *)src8 + 16),
                                   vld1q_u8((const uint8_t *)src8 + 32)}});
    show("vst3.8", buf, 48);
    vst4_lane_u16((uint16_t *)buf + 2, (uint16x4x4_t){{l3.val[0], l3.val[1], l3.val[2], l3.val[0]}}, 2);
    show("vst4 lane", buf, 16);
    vst2_u32((uint32_t *)buf + 8, (uint32x2x2_t){{vget_low_u32(l4.val[0]), vget_high_u32(l4.val[2])}});
    show("vst2.32", buf + 32, 16);
}

static void kernel(void)
{
    enum { N = 16 };
    static float ma[N][N], mb[N][N], mc[N][N];
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            ma[i][j] = (float)((i * 3 + j * 5) % 17) / 8.0f - 1.0f;
            mb[i][j] = (float)((i * 7 + j) % 13) / 5.0f;
        }
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j += 4) {
            float32x4_t acc = vdupq_n_f32(0.0f);
            for (int k = 0; k < N; k++)
                acc = vmlaq_n_f32(acc, vld1q_f32(&mb[k][j]), ma[i][k]);
            vst1q_f32(&mc[i][j], acc);
        }
    uint32_t h = 2166136261u;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            uint32_t u;
            memcpy(&u, &mc[i][j], 4);
            h = (h ^ u) * 16777619u;
        }
    printf("neon matmul %08lx\n", (unsigned long)h);
}

int main(void)
{
    for (unsigned i = 0; i < 64; i++)
        src8[i] = (uint8_t)(i * 37 + (i >> 3) * 101 + (i % 5 == 0 ? 0x80 : 0));
    static const float fs[16] = {1.5f, -0.0f, 3.0e38f, 1e-39f, -2.25f, 7.0f, 0.1f, -1e-20f,
                                 1e30f, 0.333333f, -4096.5f, 65537.0f, 2.0f, -1.0f, 0.0f, 1.17549435e-38f};
    for (unsigned i = 0; i < 16; i++)
        srcf[i] = fs[i];
    integer();
    saturating();
    shifts_bits();
    permutes();
    floats();
    structures();
    kernel();
    return 0;
}
