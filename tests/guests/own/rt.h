/* rt.h - the few runtime pieces the test guests share: UART output, PSCI, semihosting. */
#ifndef TEST_RT_H
#define TEST_RT_H
#include <stdint.h>

#define UART_DR (*(volatile uint32_t *)0x09000000)
#define UART_FR (*(volatile uint32_t *)0x09000018)

static inline void putc_(char c)
{
    while (UART_FR & (1 << 5))
        ;
    UART_DR = (uint32_t)c;
}

static inline void puts_(const char *s)
{
    while (*s)
        putc_(*s++);
}

static inline void puthex(uint32_t v)
{
    for (int i = 28; i >= 0; i -= 4)
        putc_("0123456789abcdef"[(v >> i) & 15]);
}

static inline void put_kv(const char *k, uint32_t v)
{
    puts_(k);
    puts_("=");
    puthex(v);
    puts_("\n");
}

static inline int32_t psci(uint32_t fn, uint32_t a1, uint32_t a2, uint32_t a3)
{
    register uint32_t r0 __asm__("r0") = fn;
    register uint32_t r1 __asm__("r1") = a1;
    register uint32_t r2 __asm__("r2") = a2;
    register uint32_t r3 __asm__("r3") = a3;
    __asm__ volatile("hvc #0" : "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r3) :: "memory");
    return (int32_t)r0;
}

static inline uint32_t semihost(uint32_t op, uint32_t arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register uint32_t r1 __asm__("r1") = arg;
    __asm__ volatile("svc 0x123456" : "+r"(r0) : "r"(r1) : "memory", "lr");
    return r0;
}

static inline void semihost_exit(uint32_t code)
{
    static volatile uint32_t block[2];
    block[0] = 0x20026;
    block[1] = code;
    semihost(0x20, (uint32_t)block);
}

#endif
