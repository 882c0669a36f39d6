/* fiq.c - GICv2 group 0 interrupts taken as FIQs (GICC_CTLR.FIQEn), as QEMU's virt board shows them
 * (fiq.expected, one CPU). SGIs 2 and 3 and the virtual timer's PPI 27 are in group 0, SGI 1 in
 * group 1. Checked: a group 0 interrupt is an IRQ while FIQEn is clear and an FIQ once it is set;
 * CPSR.F holds it back (and with it a lower-priority group 1 interrupt, the GIC signalling only its
 * best); of two pending the higher-priority FIQ goes first; an FIQ preempts an IRQ handler; the timer
 * fires as an FIQ. The FIQ handler runs in FIQ mode with I and F masked and records its banked
 * r8-r12 as it finds them (each FIQ adds one to them), and the interrupted code finds its own
 * r8-r12 intact after every return. */
#include "rt.h"

#define GICD 0x08000000u
#define GICC 0x08010000u
#define REG(a) (*(volatile uint32_t *)(a))
#define GICD_CTLR REG(GICD)
#define GICD_IGROUPR0 REG(GICD + 0x80)
#define GICD_ISENABLER0 REG(GICD + 0x100)
#define GICD_IPRIORITY(n) (*(volatile uint8_t *)(GICD + 0x400 + (n)))
#define GICD_SGIR REG(GICD + 0xf00)
#define GICC_CTLR REG(GICC)
#define GICC_PMR REG(GICC + 0x4)
#define GICC_IAR REG(GICC + 0xc)
#define GICC_EOIR REG(GICC + 0x10)
#define GICC_HPPIR REG(GICC + 0x18)

#define SGI_GRP1 1   /* priority 0x80, an IRQ */
#define SGI_GRP0 2   /* priority 0x40, an FIQ */
#define SGI_NEST 3   /* priority 0x20, an FIQ sent from inside the IRQ handler */
#define PPI_VTIMER 27 /* priority 0x60 */

struct took {
    char how;       /* 'F' or 'I' */
    uint32_t id, mode, masks, from, extra;
};
volatile struct took took_log[16];
volatile uint32_t nlog;
uint32_t fiq_bank[5];   /* the FIQ bank's r8-r12 as the last FIQ handler found them (fiq_entry) */
static uint64_t fiq_stack[128], irq_stack[128];

uint32_t wait_log(uint32_t count);          /* unmask I and F until nlog >= count; r8-r12 changes */
void modes_init(void *fiq_top, void *irq_top);
void read_fiq_bank(uint32_t *out);
extern void fiq_vectors(void);

__asm__(".align 5\n"
        "fiq_vectors: b .\n b bad\n b bad\n b bad\n b bad\n b bad\n b irq_entry\n"
        /* 0x1C: the FIQ vector, the handler's first instruction in place */
        "fiq_entry: sub lr, lr, #4\n"
        " push {r0, lr}\n ldr r0, =fiq_bank\n stmia r0, {r8-r12}\n pop {r0, lr}\n"
        " add r8, r8, #1\n add r9, r9, #1\n add r10, r10, #1\n add r11, r11, #1\n add r12, r12, #1\n"
        " push {r0-r3, r12, lr}\n bl fiq_handler\n pop {r0-r3, r12, lr}\n movs pc, lr\n"
        "irq_entry: sub lr, lr, #4\n"
        " push {r0-r3, r12, lr}\n bl irq_handler\n pop {r0-r3, r12, lr}\n movs pc, lr\n"
        /* any other exception: exit with status 3 through semihosting (no stack needed) */
        "bad: mov r0, #0x18\n ldr r1, =bad_exit\n svc 0x123456\n b .\n"
        "bad_exit: .word 0x20026, 3\n"
        ".ltorg\n"

        ".global modes_init\n"
        "modes_init: mrs r2, cpsr\n"
        " msr cpsr_c, #0xd1\n mov sp, r0\n"
        " ldr r8, =0xf8000000\n ldr r9, =0xf9000000\n ldr r10, =0xfa000000\n"
        " ldr r11, =0xfb000000\n ldr r12, =0xfc000000\n"
        " msr cpsr_c, #0xd2\n mov sp, r1\n"
        " msr cpsr_c, r2\n bx lr\n"

        ".global read_fiq_bank\n"
        "read_fiq_bank: mrs r2, cpsr\n msr cpsr_c, #0xd1\n stmia r0, {r8-r12}\n msr cpsr_c, r2\n bx lr\n"

        /* The interrupted code: known r8-r12, spin (bounded) with I and F unmasked until the
         * handlers have logged `count` interrupts, then report which of r8-r12 changed. */
        ".global wait_log\n"
        "wait_log: push {r4-r11, lr}\n"
        " ldr r8, =0x88888888\n ldr r9, =0x99999999\n ldr r10, =0xaaaaaaaa\n"
        " ldr r11, =0xbbbbbbbb\n ldr r12, =0xcccccccc\n"
        " ldr r1, =nlog\n ldr r3, =2000000\n cpsie if\n"
        "1: ldr r2, [r1]\n cmp r2, r0\n bhs 2f\n subs r3, r3, #1\n bne 1b\n"
        "2: cpsid if\n mov r0, #0\n"
        " ldr r2, =0x88888888\n cmp r8, r2\n orrne r0, r0, #1\n"
        " ldr r2, =0x99999999\n cmp r9, r2\n orrne r0, r0, #2\n"
        " ldr r2, =0xaaaaaaaa\n cmp r10, r2\n orrne r0, r0, #4\n"
        " ldr r2, =0xbbbbbbbb\n cmp r11, r2\n orrne r0, r0, #8\n"
        " ldr r2, =0xcccccccc\n cmp r12, r2\n orrne r0, r0, #16\n"
        " pop {r4-r11, pc}\n"
        ".ltorg\n");

static uint32_t cpsr(void) { uint32_t v; __asm__ volatile("mrs %0, cpsr" : "=r"(v)); return v; }
static uint32_t spsr(void) { uint32_t v; __asm__ volatile("mrs %0, spsr" : "=r"(v)); return v; }
static uint32_t cntv_ctl(void) { uint32_t v; __asm__ volatile("mrc p15, 0, %0, c14, c3, 1" : "=r"(v)); return v; }
static void set_cntv_ctl(uint32_t v) { __asm__ volatile("mcr p15, 0, %0, c14, c3, 1\n isb" :: "r"(v)); }
static void set_cntv_tval(uint32_t v) { __asm__ volatile("mcr p15, 0, %0, c14, c3, 0\n isb" :: "r"(v)); }
static void sgi_self(uint32_t id) { GICD_SGIR = (2u << 24) | id; }

static void handle(char how)
{
    uint32_t iar = GICC_IAR, id = iar & 0x3ff, n = nlog;
    if (id == 1023)
        return;
    volatile struct took *t = &took_log[n & 15];
    t->how = how;
    t->id = id;
    t->mode = cpsr() & 0x1f;
    t->masks = cpsr() & 0xc0;
    t->from = spsr() & 0x1f;
    t->extra = 0;
    if (id == PPI_VTIMER) {
        t->extra = cntv_ctl();   /* enabled and firing: 5 */
        set_cntv_ctl(0);         /* drop the level before the EOI */
    }
    nlog = n + 1;
    if (how == 'I' && id == SGI_GRP1 && n == 6) {
        /* the nesting step: an FIQ of higher priority preempts this handler (F is still clear) */
        sgi_self(SGI_NEST);
        for (uint32_t i = 0; i < 1000000 && nlog == n + 1; i++)
            ;
        t->extra = nlog - (n + 1);  /* 1: the FIQ came in before this handler finished */
    }
    GICC_EOIR = iar;
}

void fiq_handler(void) { handle('F'); }
void irq_handler(void) { handle('I'); }

static const char *mode_name(uint32_t m)
{
    switch (m) {
    case 0x11: return "fiq";
    case 0x12: return "irq";
    case 0x13: return "svc";
    default: return "???";
    }
}

static uint32_t shown;

static void show_log(void)
{
    for (; shown < nlog; shown++) {
        volatile struct took *t = &took_log[shown & 15];
        puts_(t->how == 'F' ? "  FIQ " : "  IRQ ");
        puthex(t->id);
        puts_(" in ");
        puts_(mode_name(t->mode));
        puts_(t->masks == 0xc0 ? " (I,F masked)" : t->masks == 0x80 ? " (I masked)" : " (?)");
        puts_(" from ");
        puts_(mode_name(t->from));
        if (t->extra) {
            puts_(" extra=");
            puthex(t->extra);
        }
        puts_("\n");
    }
}

static void step(const char *what, uint32_t count)
{
    puts_(what);
    puts_("\n");
    uint32_t changed = wait_log(count);
    show_log();
    put_kv("  logged", nlog);
    put_kv("  interrupted r8-r12 changed", changed);
}

static void show_bank(void)
{
    uint32_t b[5];
    read_fiq_bank(b);
    for (int i = 0; i < 5; i++) {
        puts_(i ? " " : "  FIQ bank r8-r12 now ");
        puthex(b[i]);
    }
    puts_("\n");
    for (int i = 0; i < 5; i++) {
        puts_(i ? " " : "  FIQ bank as the last FIQ found it ");
        puthex(fiq_bank[i]);
    }
    puts_("\n");
}

void core_main(void)
{
    __asm__ volatile("mcr p15, 0, %0, c12, c0, 0\n isb" :: "r"(fiq_vectors));
    modes_init(fiq_stack + 128, irq_stack + 128);

    GICD_CTLR = 3;
    GICC_PMR = 0xff;
    GICC_CTLR = 7;                       /* both groups, AckCtl; FIQEn clear */
    GICD_IGROUPR0 = 1u << SGI_GRP1;
    GICD_IPRIORITY(SGI_GRP1) = 0x80;
    GICD_IPRIORITY(SGI_GRP0) = 0x40;
    GICD_IPRIORITY(SGI_NEST) = 0x20;
    GICD_IPRIORITY(PPI_VTIMER) = 0x60;
    GICD_ISENABLER0 = 1u << PPI_VTIMER;
    put_kv("IGROUPR0", GICD_IGROUPR0);
    put_kv("GICC_CTLR", GICC_CTLR);

    sgi_self(SGI_GRP0);
    step("group 0 SGI with FIQEn clear", 1);

    GICC_CTLR = 0xf;
    put_kv("GICC_CTLR with FIQEn", GICC_CTLR);
    sgi_self(SGI_GRP0);
    put_kv("HPPIR while masked", GICC_HPPIR);
    step("group 0 SGI", 2);
    show_bank();

    sgi_self(SGI_GRP1);
    sgi_self(SGI_GRP0);
    __asm__ volatile("cpsie i");
    for (volatile uint32_t i = 0; i < 10000; i++)
        ;
    __asm__ volatile("cpsid i");
    put_kv("F masked, I clear, group 0 and group 1 pending: taken", nlog - 2);
    put_kv("HPPIR", GICC_HPPIR);
    step("both unmasked", 4);

    sgi_self(SGI_GRP0);
    sgi_self(SGI_GRP1);
    step("group 1 and group 0 pending, sent the other way round", 6);

    sgi_self(SGI_GRP1);
    step("an FIQ preempting an IRQ handler", 8);

    set_cntv_tval(1000);
    set_cntv_ctl(1);
    step("virtual timer in group 0", 9);
    put_kv("CNTV_CTL after", cntv_ctl());
    show_bank();
    put_kv("mode at the end", cpsr() & 0x1f);
    semihost_exit(0);
}
