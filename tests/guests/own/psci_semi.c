/* PSCI answers and semihosting calls, checked against QEMU's output (psci_semi.expected). */
#include "rt.h"

extern void secondary_start(void);
extern char __image_end[];

static volatile uint32_t started, context_seen, please_off;

void core_main(uint32_t core)
{
    if (core != 0) {
        context_seen = core;
        __asm__ volatile("dsb ish\n sev" ::: "memory");
        while (!please_off)
            __asm__ volatile("wfe");
        psci(0x84000002, 0, 0, 0);          /* CPU_OFF: never returns */
        puts_("CPU_OFF returned\n");
        return;
    }
    put_kv("PSCI_VERSION", (uint32_t)psci(0x84000000, 0, 0, 0));
    put_kv("FEATURES(CPU_ON)", (uint32_t)psci(0x8400000A, 0x84000003, 0, 0));
    put_kv("FEATURES(bogus)", (uint32_t)psci(0x8400000A, 0x8400ffff, 0, 0));
    put_kv("AFFINITY_INFO(1) before", (uint32_t)psci(0x84000004, 1, 0, 0));
    put_kv("CPU_ON(1)", (uint32_t)psci(0x84000003, 1, (uint32_t)secondary_start, 1));
    put_kv("CPU_ON(1) again", (uint32_t)psci(0x84000003, 1, (uint32_t)secondary_start, 1));
    put_kv("CPU_ON(7)", (uint32_t)psci(0x84000003, 7, (uint32_t)secondary_start, 7));
    put_kv("CPU_ON(0x80000001)", (uint32_t)psci(0x84000003, 0x80000001, (uint32_t)secondary_start, 1));
    while (!context_seen)
        __asm__ volatile("wfe");
    put_kv("context seen by cpu1", context_seen);
    put_kv("AFFINITY_INFO(1) on", (uint32_t)psci(0x84000004, 1, 0, 0));
    put_kv("AFFINITY_INFO(5)", (uint32_t)psci(0x84000004, 5, 0, 0));
    put_kv("MIGRATE_INFO_TYPE", (uint32_t)psci(0x84000006, 0, 0, 0));
    please_off = 1;
    __asm__ volatile("dsb ish\n sev" ::: "memory");
    while (psci(0x84000004, 1, 0, 0) != 1)
        ;
    puts_("cpu1 is off\n");

    /* semihosting */
    semihost(0x03, (uint32_t)"W");                                /* SYS_WRITEC */
    semihost(0x04, (uint32_t)"RITE0\n");                          /* SYS_WRITE0 */
    static const char tt[] = ":tt";
    static volatile uint32_t blk[4];
    blk[0] = (uint32_t)tt; blk[1] = 4; blk[2] = 3;                /* ":tt", "w" */
    uint32_t h = semihost(0x01, (uint32_t)blk);
    static const char msg[] = "via SYS_WRITE\n";
    blk[0] = h; blk[1] = (uint32_t)msg; blk[2] = sizeof msg - 1;
    put_kv("SYS_WRITE not written", semihost(0x05, (uint32_t)blk));
    blk[0] = h;
    put_kv("SYS_ISTTY", semihost(0x09, (uint32_t)blk));
    static const char nofile[] = "/nonexistent/tuiemu-test";
    blk[0] = (uint32_t)nofile; blk[1] = 0; blk[2] = sizeof nofile - 1;
    put_kv("SYS_OPEN missing", semihost(0x01, (uint32_t)blk));
    put_kv("SYS_ERRNO", semihost(0x13, 0));
    static volatile uint32_t heap[4];
    static volatile uint32_t heapptr;
    heapptr = (uint32_t)heap;
    semihost(0x16, (uint32_t)&heapptr);
    put_kv("heap base is image end", heap[0] == (uint32_t)__image_end);
    put_kv("heap limit", heap[1]);
    put_kv("stack base", heap[2]);
    put_kv("stack limit is image end", heap[3] == (uint32_t)__image_end);
    put_kv("SYS_TIME plausible", semihost(0x11, 0) > 1600000000u);
    put_kv("SYS_CLOCK plausible", semihost(0x10, 0) < 100000u);
    static char cmd[256];
    blk[0] = (uint32_t)cmd; blk[1] = sizeof cmd;
    put_kv("SYS_GET_CMDLINE", semihost(0x15, (uint32_t)blk));
    put_kv("cmdline nonempty", cmd[0] != 0 && blk[1] > 0);
    semihost_exit(0);
}
