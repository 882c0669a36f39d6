/* FP system registers and access control as QEMU's cortex-a15 shows them (fp_sysregs.expected):
 * FPSID/MVFR0/MVFR1/FPEXC values, which bits of CPACR, FPEXC and FPSCR are writable, and exactly
 * when a VFP or Advanced SIMD instruction takes the Undefined Instruction exception: CPACR
 * cp10/cp11 off or PL1-only, FPEXC.EN clear, FPSCR.Len/Stride non-zero (no short vectors), the
 * registers only PL1 may touch, unallocated register numbers. The undefined-instruction handler
 * counts and skips. */
#include "rt.h"

volatile uint32_t und_count;
static uint32_t und_stack[256] __attribute__((aligned(8)));

void und_handler(void) { und_count++; }
extern void fp_vectors(void);
__asm__(".align 5\n"
        "fp_vectors: b .\n b und\n b .\n b .\n b .\n b .\n b .\n b .\n"
        "und: push {r0-r3, r12, lr}\n bl und_handler\n pop {r0-r3, r12, lr}\n movs pc, lr\n");

static uint32_t rd_cpacr(void) { uint32_t v; __asm__ volatile("mrc p15, 0, %0, c1, c0, 2" : "=r"(v)); return v; }
static void wr_cpacr(uint32_t v) { __asm__ volatile("mcr p15, 0, %0, c1, c0, 2\n isb" :: "r"(v)); }
/* VMRS/VMSR by register number (the assembler names only some of them) */
#define VMRS(n) ({ register uint32_t v_ __asm__("r0") = 0xdeadbeef; \
                   __asm__ volatile(".inst 0xeef00a10 | (" #n " << 16)" : "+r"(v_)); v_; })
#define VMSR(n, x) ({ register uint32_t v_ __asm__("r0") = (x); \
                      __asm__ volatile(".inst 0xeee00a10 | (" #n " << 16)" :: "r"(v_) : "memory"); })
#define TRAPS(what, stmt) do { uint32_t u_ = und_count; stmt; put_kv(what, und_count - u_); } while (0)

static void reg_numbers(void)
{
    for (uint32_t n = 0; n < 16; n++) {
        uint32_t u = und_count, v = 0;
        switch (n) {
        case 0: v = VMRS(0); break;   case 1: v = VMRS(1); break;   case 2: v = VMRS(2); break;
        case 3: v = VMRS(3); break;   case 4: v = VMRS(4); break;   case 5: v = VMRS(5); break;
        case 6: v = VMRS(6); break;   case 7: v = VMRS(7); break;   case 8: v = VMRS(8); break;
        case 9: v = VMRS(9); break;   case 10: v = VMRS(10); break; case 11: v = VMRS(11); break;
        case 12: v = VMRS(12); break; case 13: v = VMRS(13); break; case 14: v = VMRS(14); break;
        default: v = VMRS(15); break;
        }
        puts_("vmrs reg ");
        puthex(n);
        puts_(u == und_count ? " = " : " undefined, r0 = ");
        puthex(v);
        puts_("\n");
    }
}

void core_main(void)
{
    __asm__ volatile("mcr p15, 0, %0, c12, c0, 0\n isb" :: "r"(fp_vectors));
    __asm__ volatile("mrs r0, cpsr\n msr cpsr_c, #0xdb\n mov sp, %0\n msr cpsr_c, r0"
                     :: "r"(und_stack + 256) : "r0");
    put_kv("CPACR at reset", rd_cpacr());
    TRAPS("VMRS FPSID with cp10 off traps", VMRS(0));
    TRAPS("VMOV with cp10 off traps", __asm__ volatile("vmov s0, r0" ::: "memory"));
    wr_cpacr(0xffffffff);
    put_kv("CPACR after writing ones", rd_cpacr());
    wr_cpacr(0x00f00000);
    put_kv("FPEXC at reset", VMRS(8));
    TRAPS("VMRS FPSCR with EN clear traps", VMRS(1));
    TRAPS("VADD with EN clear traps", __asm__ volatile("vadd.f32 s0, s1, s2" ::: "memory"));
    TRAPS("VLD1 with EN clear traps", __asm__ volatile("vld1.8 {d0}, [%0]" :: "r"(und_stack) : "memory"));
    reg_numbers();
    VMSR(8, 0xffffffff);
    put_kv("FPEXC after writing ones", VMRS(8));
    VMSR(0, 0x12345678);
    VMSR(6, 0);
    VMSR(7, 0);
    put_kv("FPSID after a write", VMRS(0));
    put_kv("MVFR0 after a write", VMRS(7));
    TRAPS("VMSR to reg 9 traps", VMSR(9, 0));
    put_kv("FPSCR at reset", VMRS(1));
    VMSR(1, 0xffffffff);
    put_kv("FPSCR after writing ones", VMRS(1));
    VMSR(1, 0x00010000);
    TRAPS("VADD.F32 with Len=1 traps", __asm__ volatile("vadd.f32 s0, s1, s2" ::: "memory"));
    TRAPS("VMUL.F64 with Len=1 traps", __asm__ volatile("vmul.f64 d0, d1, d2" ::: "memory"));
    TRAPS("VFMA.F64 with Len=1 traps", __asm__ volatile("vfma.f64 d0, d1, d2" ::: "memory"));
    TRAPS("VSQRT.F32 with Len=1 traps", __asm__ volatile("vsqrt.f32 s0, s1" ::: "memory"));
    TRAPS("VMOV.F32 imm with Len=1 traps", __asm__ volatile("vmov.f32 s0, #1.0" ::: "memory"));
    TRAPS("VCMP with Len=1 traps", __asm__ volatile("vcmp.f32 s0, s1" ::: "memory"));
    TRAPS("VCVT with Len=1 traps", __asm__ volatile("vcvt.f64.f32 d0, s1" ::: "memory"));
    TRAPS("VMOV core with Len=1 traps", __asm__ volatile("vmov s0, r0" ::: "memory"));
    TRAPS("NEON VADD with Len=1 traps", __asm__ volatile("vadd.f32 d0, d1, d2" ::: "memory"));
    VMSR(1, 0x00300000);
    TRAPS("VADD.F32 with Stride=3 traps", __asm__ volatile("vadd.f32 s0, s1, s2" ::: "memory"));
    VMSR(1, 0);
    wr_cpacr(0x00500000);
    put_kv("CPACR PL1-only", rd_cpacr());
    TRAPS("VADD at PL1 with PL1-only access traps", __asm__ volatile("vadd.f32 s0, s1, s2" ::: "memory"));
    wr_cpacr(0x00f00000);
    VMSR(8, 0);
    TRAPS("VMRS FPEXC with EN clear traps", VMRS(8));
    TRAPS("VMRS MVFR1 with EN clear traps", VMRS(6));
    TRAPS("conditional VADD that fails with EN clear traps",
          __asm__ volatile("cmp r0, r0\n vaddne.f32 s0, s1, s2" ::: "cc", "memory"));
    VMSR(8, 0x40000000);
    semihost_exit(0);
}
