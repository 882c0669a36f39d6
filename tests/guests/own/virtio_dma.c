/* virtio-blk DMA over code that already ran (virtio_dma.expected, virtio_dma.ro.expected).
 *
 * Runs a function from a RAM page, writes new code for it to sector 0 of the disk, reads sector 0
 * back over that page by DMA and calls the function again: it must run the new code. No cache
 * maintenance separates the DMA from the call, on purpose: QEMU and tuiemu both drop translated
 * code when the device writes it, and an IC IALLU here would hide a missing invalidation. Then a
 * marker goes to sector 1 (the host checks the image) and the machine powers off through PSCI.
 * On a read-only disk the write fails with VIRTIO_BLK_S_IOERR and nothing is executed. */
#include "rt.h"

#define VIO 0x0a003e00u  /* the last transport: where the first disk sits */
#define REG(off) (*(volatile uint32_t *)(VIO + (off)))
#define MAGIC 0x000
#define VERSION 0x004
#define DEVICE_ID 0x008
#define DEV_FEATURES 0x010
#define DEV_FEATURES_SEL 0x014
#define DRV_FEATURES 0x020
#define DRV_FEATURES_SEL 0x024
#define QUEUE_SEL 0x030
#define QUEUE_NUM 0x038
#define QUEUE_READY 0x044
#define QUEUE_NOTIFY 0x050
#define INT_STATUS 0x060
#define INT_ACK 0x064
#define STATUS 0x070
#define Q_DESC 0x080
#define Q_DRIVER 0x090
#define Q_DEVICE 0x0a0
#define CONFIG 0x100

#define QSIZE 8
struct desc { uint64_t addr; uint32_t len; uint16_t flags, next; };
struct used_elem { uint32_t id, len; };

static struct desc descs[QSIZE] __attribute__((aligned(16)));
static volatile struct { uint16_t flags, idx, ring[QSIZE]; } avail __attribute__((aligned(4)));
static volatile struct { uint16_t flags, idx; struct used_elem ring[QSIZE]; } used __attribute__((aligned(4)));
static struct { uint32_t type, reserved; uint64_t sector; } hdr;
static volatile uint8_t status_byte;
static uint32_t code_page[1024] __attribute__((aligned(4096)));
static uint8_t sector_buf[512] __attribute__((aligned(16)));

static void dsb(void) { __asm__ volatile("dsb sy" ::: "memory"); }

static uint32_t request(uint32_t type, uint32_t sector, void *buf, int device_writes)
{
    hdr.type = type;
    hdr.reserved = 0;
    hdr.sector = sector;
    status_byte = 0xff;
    descs[0] = (struct desc){(uint32_t)&hdr, sizeof hdr, 1, 1};
    descs[1] = (struct desc){(uint32_t)buf, 512, (uint16_t)(1 | (device_writes ? 2 : 0)), 2};
    descs[2] = (struct desc){(uint32_t)&status_byte, 1, 2, 0};
    if (type == 4) {  /* FLUSH: no data buffer */
        descs[0].next = 2;
    }
    uint16_t seen = used.idx;
    avail.ring[avail.idx % QSIZE] = 0;
    dsb();
    avail.idx++;
    dsb();
    REG(QUEUE_NOTIFY) = 0;
    while (used.idx == seen)
        ;
    REG(INT_ACK) = REG(INT_STATUS);
    return status_byte;
}

static uint32_t call_code_page(void)
{
    return ((uint32_t (*)(void))code_page)();
}

void core_main(uint32_t core)
{
    (void)core;
    code_page[0] = 0xe3a00001;  /* mov r0, #1 */
    code_page[1] = 0xe12fff1e;  /* bx lr */
    __asm__ volatile("dsb sy\n mcr p15, 0, %0, c7, c5, 0\n isb" :: "r"(0) : "memory");  /* ICIALLU */
    put_kv("payload before", call_code_page());

    put_kv("magic", REG(MAGIC));
    put_kv("version", REG(VERSION));
    put_kv("device id", REG(DEVICE_ID));
    REG(STATUS) = 0;
    REG(STATUS) = 1 | 2;  /* ACKNOWLEDGE, DRIVER */
    REG(DEV_FEATURES_SEL) = 1;
    uint32_t hi = REG(DEV_FEATURES);
    REG(DEV_FEATURES_SEL) = 0;
    uint32_t lo = REG(DEV_FEATURES);
    put_kv("VERSION_1", hi & 1);
    put_kv("RO", (lo >> 5) & 1);
    put_kv("FLUSH", (lo >> 9) & 1);
    REG(DRV_FEATURES_SEL) = 1;
    REG(DRV_FEATURES) = 1;
    REG(DRV_FEATURES_SEL) = 0;
    REG(DRV_FEATURES) = lo & (1 << 9);
    REG(STATUS) = 1 | 2 | 8;  /* FEATURES_OK */
    put_kv("features ok", (REG(STATUS) >> 3) & 1);
    put_kv("capacity", REG(CONFIG));
    REG(QUEUE_SEL) = 0;
    REG(QUEUE_NUM) = QSIZE;
    REG(Q_DESC) = (uint32_t)descs;
    REG(Q_DESC + 4) = 0;
    REG(Q_DRIVER) = (uint32_t)&avail;
    REG(Q_DRIVER + 4) = 0;
    REG(Q_DEVICE) = (uint32_t)&used;
    REG(Q_DEVICE + 4) = 0;
    REG(QUEUE_READY) = 1;
    REG(STATUS) = 1 | 2 | 8 | 4;  /* DRIVER_OK */

    uint32_t *new_code = (uint32_t *)sector_buf;
    new_code[0] = 0xe3a00002;  /* mov r0, #2 */
    new_code[1] = 0xe12fff1e;  /* bx lr */
    uint32_t st = request(1, 0, sector_buf, 0);
    put_kv("write sector 0", st);
    if (st == 0) {
        put_kv("flush", request(4, 0, 0, 0));
        put_kv("read sector 0 over the code", request(0, 0, code_page, 1));
        put_kv("payload after DMA", call_code_page());
        static const char marker[] = "tuiemu virtio-blk: written by the guest\n";
        for (unsigned i = 0; i < 512; i++)
            sector_buf[i] = i < sizeof marker - 1 ? (uint8_t)marker[i] : 0;
        put_kv("write sector 1", request(1, 1, sector_buf, 0));
    } else {
        puts_("read-only: no new code\n");
    }
    psci(0x84000008, 0, 0, 0);  /* SYSTEM_OFF */
}
