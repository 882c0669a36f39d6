/* Echoes PL011 input until '~', then exits through semihosting (status 0; 1 if the input is not
 * what echo.input holds). Run with echo.input on stdin; echo.expected is QEMU's output.
 *   1. polled, FIFO disabled (the reset state): echo one line
 *   2. polled, FIFO enabled: skip the '#'s that pad the FIFO switch (the character waiting in the
 *      1-deep FIFO when FEN changes is dropped, or a stale one read back, depending on timing),
 *      echo one line
 *   3. wait until the FIFO is full (RXFF) and echo the 16 characters it holds
 *   4. interrupt-driven through the GIC (SPI 1 = ID 33, RXIM and RTIM): the handler drains the FIFO
 *      into a ring, the main loop echoes from it with WFI in between */
#include "rt.h"
#include "vectors.h"

#define UART 0x09000000u
#define GICD 0x08000000u
#define GICC 0x08010000u
#define UART_IRQ 33
#define REG(a) (*(volatile uint32_t *)(a))

volatile uint32_t abort_count, abort_dfsr;
static uint8_t exc_stack[0x2000] __attribute__((aligned(8)));
static volatile char ring[1024];
static volatile uint32_t ring_w, irqs, stray;

static int getc_polled(void)
{
    while (REG(UART + 0x18) & (1 << 4))     /* RXFE */
        ;
    return (int)(REG(UART) & 0xff);
}

static uint32_t echo_line(int c)
{
    uint32_t n = 0;
    for (;;) {
        putc_((char)c);
        n++;
        if (c == '\n')
            return n;
        c = getc_polled();
    }
}

void irq_handler(void)
{
    uint32_t iar = REG(GICC + 0x0c);
    if ((iar & 0x3ff) == UART_IRQ) {
        irqs++;
        while (!(REG(UART + 0x18) & (1 << 4)))
            ring[ring_w++ % sizeof ring] = (char)REG(UART);
    } else if ((iar & 0x3ff) < 1020) {
        stray++;
    }
    REG(GICC + 0x10) = iar;
}

static void put_count(const char *what, uint32_t n)
{
    puts_(what);
    putc_((char)('0' + n / 100 % 10));
    putc_((char)('0' + n / 10 % 10));
    putc_((char)('0' + n % 10));
    putc_('\n');
}

void core_main(uint32_t core)
{
    (void)core;
    uint32_t bad = 0;
    exceptions_init(exc_stack + sizeof exc_stack);

    puts_("[1 polled, no FIFO] ");
    put_count("[1] characters: ", echo_line(getc_polled()));

    REG(UART + 0x2c) = 0x70;                    /* LCR_H: 8 bits, FIFO enabled */
    int c;
    while ((c = getc_polled()) != '#')
        ;
    while ((c = getc_polled()) == '#')
        ;
    puts_("[2 polled, FIFO] ");
    put_count("[2] characters: ", echo_line(c));

    while (!(REG(UART + 0x18) & (1 << 6)))      /* RXFF */
        ;
    puts_("[3 FIFO full] ");
    for (int i = 0; i < 16; i++)
        putc_((char)getc_polled());
    bad |= getc_polled() != '\n';
    putc_('\n');

    /* GIC: SPI 33, level-sensitive, priority 0x80, to CPU0 */
    REG(GICD + 0x104) = 1u << (UART_IRQ - 32);
    *(volatile uint8_t *)(GICD + 0x400 + UART_IRQ) = 0x80;
    *(volatile uint8_t *)(GICD + 0x800 + UART_IRQ) = 0x01;
    REG(GICD) = 1;
    REG(GICC + 0x04) = 0xff;
    REG(GICC) = 1;
    REG(UART + 0x38) = (1 << 4) | (1 << 6);     /* IMSC: RXIM, RTIM */
    puts_("[4 interrupts] ");
    uint32_t r = 0, n = 0;
    for (;;) {
        __asm__ volatile("cpsid i" ::: "memory");
        if (r == ring_w)
            __asm__ volatile("dsb\n wfi" ::: "memory");
        __asm__ volatile("cpsie i\n isb" ::: "memory");
        while (r != ring_w) {
            c = ring[r++ % sizeof ring];
            n++;
            putc_((char)c);
            if (c == '~')
                goto done;
        }
    }
done:
    __asm__ volatile("cpsid i" ::: "memory");
    REG(UART + 0x38) = 0;
    putc_('\n');
    put_count("[4] characters: ", n);
    puts_(irqs ? "[4] interrupts: yes\n" : "[4] interrupts: none\n");
    bad |= stray != 0;
    puts_(bad ? "FAIL\n" : "done\n");
    semihost_exit(bad);
}
