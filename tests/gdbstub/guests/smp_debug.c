/* smp_debug: a guest for the gdb stub tests (no multiply or divide, so it
 * runs on a bare A32 core model).
 *
 * Every core loops calling bump(core), which increments counters[core].
 * Only core 2 writes `watched` (every 64 bumps); only core 3 calls special()
 * (every 256 bumps). The loop ends when the debugger sets stop_request;
 * core 0 then exits through semihosting with status exit_status (7 unless
 * the debugger changed it). With fewer than 4 vCPUs the missing cores are
 * simply not started. */
#include <stdint.h>

#define MAX_CORES 4

extern void secondary_start(void);

volatile uint32_t counters[MAX_CORES];
volatile uint32_t watched;
volatile uint32_t specials;
volatile uint32_t stop_request;
volatile uint32_t exit_status = 7;
volatile uint32_t cores_up = 1;

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

void __attribute__((noinline)) bump(uint32_t core)
{
    uint32_t n = counters[core] + 1;
    counters[core] = n;
    if (core == 2 && (n & 63) == 0)
        watched = n;
}

void __attribute__((noinline)) special(uint32_t core)
{
    specials = specials + core;
}

void __attribute__((noinline)) worker(uint32_t core)
{
    while (!stop_request) {
        bump(core);
        if (core == 3 && (counters[core] & 255) == 0)
            special(core);
    }
}

void core_main(uint32_t core)
{
    if (core == 0) {
        for (uint32_t c = 1; c < MAX_CORES; c++)
            if (psci_cpu_on(c, (uint32_t)secondary_start, c) == 0)
                cores_up = cores_up + 1;
    }
    worker(core);
    if (core == 0)
        semihosting_exit(exit_status);
}
