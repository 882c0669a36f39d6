/*
 * nbody (1 CPU, hard float: -mfpu=neon-vfpv4 -mfloat-abi=hard): the benchmarks game's n-body in
 * double precision (five bodies, STEPS steps: VFP add/mul/div/sqrt in short dependent chains) and
 * a single-precision matrix multiply (MATN x MATN, ROUNDS times, multiply-accumulate), self-checking:
 * the bit patterns of the final energy and of the matrix checksum are compared with the values
 * recorded under QEMU.
 *
 * The conformance runtime (built hard-float here) does not turn the FPU on; fpu_start, the ELF
 * entry, grants CPACR cp10/cp11 and sets FPEXC.EN before the runtime's _start, as a boot loader
 * would, so compiled code may use VFP registers from its first instruction.
 */
#include "guest.h"

#ifndef STEPS
#define STEPS 6000
#endif
#ifndef MATN
#define MATN 24
#endif
#ifndef ROUNDS
#define ROUNDS 12
#endif
#define EXPECT_ENERGY 0xbfc5a3e7f01a382dull /* recorded under qemu-system-arm 7.2 */
#define EXPECT_MATRIX 0xc9050170u

__asm__(".text\n .global fpu_start\n"
        "fpu_start: mrc p15, 0, r0, c1, c0, 2\n orr r0, r0, #(0xF << 20)\n mcr p15, 0, r0, c1, c0, 2\n isb\n"
        " mov r0, #0x40000000\n vmsr fpexc, r0\n b _start\n");

#define PI 3.141592653589793
#define SOLAR_MASS (4 * PI * PI)
#define DAYS_PER_YEAR 365.24

struct body { double x, y, z, vx, vy, vz, mass; };

static struct body bodies[5] = {
    {0, 0, 0, 0, 0, 0, SOLAR_MASS},
    {4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01,
     1.66007664274403694e-03 * DAYS_PER_YEAR, 7.69901118419740425e-03 * DAYS_PER_YEAR,
     -6.90460016972063023e-05 * DAYS_PER_YEAR, 9.54791938424326609e-04 * SOLAR_MASS},
    {8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01,
     -2.76742510726862411e-03 * DAYS_PER_YEAR, 4.99852801234917238e-03 * DAYS_PER_YEAR,
     2.30417297573763929e-05 * DAYS_PER_YEAR, 2.85885980666130812e-04 * SOLAR_MASS},
    {1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01,
     2.96460137564761618e-03 * DAYS_PER_YEAR, 2.37847173959480950e-03 * DAYS_PER_YEAR,
     -2.96589568540237556e-05 * DAYS_PER_YEAR, 4.36624404335156298e-05 * SOLAR_MASS},
    {1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01,
     2.68067772490389322e-03 * DAYS_PER_YEAR, 1.62824170038242295e-03 * DAYS_PER_YEAR,
     -9.51592254519715870e-05 * DAYS_PER_YEAR, 5.15138902046611451e-05 * SOLAR_MASS},
};

static void offset_momentum(void)
{
    double px = 0, py = 0, pz = 0;
    for (int i = 0; i < 5; i++) {
        px += bodies[i].vx * bodies[i].mass;
        py += bodies[i].vy * bodies[i].mass;
        pz += bodies[i].vz * bodies[i].mass;
    }
    bodies[0].vx = -px / SOLAR_MASS;
    bodies[0].vy = -py / SOLAR_MASS;
    bodies[0].vz = -pz / SOLAR_MASS;
}

static double energy(void)
{
    double e = 0;
    for (int i = 0; i < 5; i++) {
        struct body *b = &bodies[i];
        e += 0.5 * b->mass * (b->vx * b->vx + b->vy * b->vy + b->vz * b->vz);
        for (int j = i + 1; j < 5; j++) {
            struct body *c = &bodies[j];
            double dx = b->x - c->x, dy = b->y - c->y, dz = b->z - c->z;
            e -= b->mass * c->mass / __builtin_sqrt(dx * dx + dy * dy + dz * dz);
        }
    }
    return e;
}

static void advance(double dt)
{
    for (int i = 0; i < 5; i++) {
        struct body *b = &bodies[i];
        for (int j = i + 1; j < 5; j++) {
            struct body *c = &bodies[j];
            double dx = b->x - c->x, dy = b->y - c->y, dz = b->z - c->z;
            double d2 = dx * dx + dy * dy + dz * dz;
            double mag = dt / (d2 * __builtin_sqrt(d2));
            b->vx -= dx * c->mass * mag;
            b->vy -= dy * c->mass * mag;
            b->vz -= dz * c->mass * mag;
            c->vx += dx * b->mass * mag;
            c->vy += dy * b->mass * mag;
            c->vz += dz * b->mass * mag;
        }
    }
    for (int i = 0; i < 5; i++) {
        bodies[i].x += dt * bodies[i].vx;
        bodies[i].y += dt * bodies[i].vy;
        bodies[i].z += dt * bodies[i].vz;
    }
}

static float ma[MATN][MATN], mb[MATN][MATN], mc[MATN][MATN];

static float matmul(uint32_t round)
{
    uint32_t s = round * 2654435761u + 1;
    for (int i = 0; i < MATN; i++)
        for (int j = 0; j < MATN; j++) {
            s = s * 1103515245u + 12345u;
            ma[i][j] = (float)(int32_t)(s >> 16 & 0xff) / 64.0f - 2.0f;
            s = s * 1103515245u + 12345u;
            mb[i][j] = (float)(int32_t)(s >> 16 & 0xff) / 32.0f + 0.25f;
        }
    for (int i = 0; i < MATN; i++)
        for (int j = 0; j < MATN; j++) {
            float acc = 0.0f;
            for (int k = 0; k < MATN; k++)
                acc += ma[i][k] * mb[k][j];
            mc[i][j] = acc;
        }
    float sum = 0.0f;
    for (int i = 0; i < MATN; i++)
        for (int j = 0; j < MATN; j++)
            sum += mc[i][j] * (float)(i + 2 * j + 1);
    return sum;
}

static uint64_t bits64(double d) { uint64_t u; g_memcpy(&u, &d, 8); return u; }
static uint32_t bits32(float f) { uint32_t u; g_memcpy(&u, &f, 4); return u; }

int main(void)
{
    offset_momentum();
    double e0 = energy();
    for (int i = 0; i < STEPS; i++)
        advance(0.01);
    double e1 = energy();
    float total = 0.0f;
    for (uint32_t r = 0; r < ROUNDS; r++)
        total += matmul(r);
    uint64_t eb = bits64(e1);
    uint32_t mbits = bits32(total);
    kprintf("nbody: %d steps, energy %lld -> %lld (x1e-9), bits %016llx\n", STEPS,
            (long long)(e0 * 1e9), (long long)(e1 * 1e9), (unsigned long long)eb);
    kprintf("sgemm: %d rounds of %dx%d, checksum %d, bits %08x\n", ROUNDS, MATN, MATN, (int)total, mbits);
    return test_result("nbody", (eb != EXPECT_ENERGY) + (mbits != EXPECT_MATRIX));
}
