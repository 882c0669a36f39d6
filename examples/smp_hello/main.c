/* A small SMP program for tuiemu (and QEMU -M virt -cpu cortex-a15):
 * CPU0 starts three more cores with PSCI; each core adds its share of a sum
 * under an LDREX/STREX spinlock; CPU0 waits for all (WFE/SEV), prints every
 * core's part in core order and the total, and exits through semihosting
 * with status 0 if the total is right. */
#include <stdint.h>

#define UART_DR   (*(volatile uint32_t *)0x09000000)
#define UART_FR   (*(volatile uint32_t *)0x09000018)
#define NCORES    4
#define PER_CORE  1000

extern void secondary_start(void);

static volatile uint32_t lock;
static volatile uint32_t done;
static volatile uint32_t total;
static volatile uint32_t sums[NCORES];

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

static void putu(uint32_t v)
{
    char buf[11];
    int i = 10;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    puts_(&buf[i]);
}

static void spin_lock(volatile uint32_t *l)
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
    __asm__ volatile("dmb ish" ::: "memory");
    *l = 0;
    __asm__ volatile("dsb ish\n sev" ::: "memory");
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

static void semihosting_exit(uint32_t code)
{
    static volatile uint32_t block[2];
    block[0] = 0x20026;
    block[1] = code;
    register uint32_t r0 __asm__("r0") = 0x20;
    register uint32_t r1 __asm__("r1") = (uint32_t)block;
    __asm__ volatile("svc 0x123456" : "+r"(r0) : "r"(r1) : "memory");
}

void core_main(uint32_t core)
{
    uint32_t sum = 0;
    for (uint32_t i = 1; i <= PER_CORE; i++)
        sum += i * (core + 1);
    spin_lock(&lock);
    total += sum;
    sums[core] = sum;
    done++;
    spin_unlock(&lock);
    if (core != 0)
        return;
    for (uint32_t c = 1; c < NCORES; c++) {
        int32_t rc = psci_cpu_on(c, (uint32_t)secondary_start, c);
        if (rc != 0) {
            puts_("CPU_ON failed: ");
            putu((uint32_t)-rc);
            puts_("\n");
            semihosting_exit(2);
        }
    }
    while (done != NCORES)
        __asm__ volatile("wfe");
    for (uint32_t c = 0; c < NCORES; c++) {
        puts_("core ");
        putu(c);
        puts_(" added ");
        putu(sums[c]);
        puts_("\n");
    }
    puts_("total ");
    putu(total);
    puts_(total == 500500u * 10u ? " ok\n" : " WRONG\n");
    semihosting_exit(total == 500500u * 10u ? 0 : 1);
}
