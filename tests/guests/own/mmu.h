/* mmu.h - what the MMU guests share: descriptors, CP15 writes, barriers, a flat map, and turning
 * the MMU on over a first-level table (TTBR0 only, every domain client, caches on). */
#ifndef TEST_MMU_H
#define TEST_MMU_H
#include <stdint.h>

/* first-level descriptors */
#define SECT_NORMAL 0x11c0eu   /* section, TEX=1 C B, S, AP=3, domain 0 */
#define SECT_DEVICE 0x00c16u   /* section, B, AP=3, XN */
#define L1_TABLE    0x1u
/* second-level descriptor */
#define PAGE_SMALL  0x47eu     /* small page, TEX=1 C B, S, AP=3 */

#define CP15_W(op1, crn, crm, op2, v) \
    __asm__ volatile("mcr p15, " #op1 ", %0, " #crn ", " #crm ", " #op2 :: "r"(v) : "memory")
static inline void dsb(void) { __asm__ volatile("dsb ish" ::: "memory"); }
static inline void isb(void) { __asm__ volatile("isb" ::: "memory"); }

/* the first 2 GiB flat: devices below RAM, RAM (from 1 GiB) normal memory */
static inline void flat_map(uint32_t *l1)
{
    for (uint32_t i = 0; i < 0x400; i++)
        l1[i] = (i << 20) | SECT_DEVICE;
    for (uint32_t i = 0x400; i < 0x800; i++)
        l1[i] = (i << 20) | SECT_NORMAL;
}

static inline void mmu_on(const uint32_t *l1)
{
    CP15_W(0, c8, c7, 0, 0);                  /* TLBIALL */
    CP15_W(0, c2, c0, 2, 0);                  /* TTBCR: TTBR0 only */
    CP15_W(0, c2, c0, 0, (uint32_t)l1);       /* TTBR0 */
    CP15_W(0, c3, c0, 0, 0x55555555u);        /* DACR: every domain client */
    isb();
    uint32_t sctlr;
    __asm__ volatile("mrc p15, 0, %0, c1, c0, 0" : "=r"(sctlr));
    sctlr |= 1u | (1u << 2) | (1u << 12);    /* M, C, I */
    CP15_W(0, c1, c0, 0, sctlr);
    isb();
}

#endif
