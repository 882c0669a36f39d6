/*
 * branchy (1 CPU): branch-heavy integer code in the shape of CoreMark, self-checking.
 * A linked list walked and merge-sorted, a small matrix multiply, a byte-driven state
 * machine and a bitwise CRC16, repeated ROUNDS times; the combined checksum is compared with
 * the value recorded under QEMU.
 */
#include "guest.h"

#ifndef ROUNDS
#define ROUNDS 40
#endif
#define EXPECT 0x9bc1f4c9u /* recorded under qemu-system-arm 7.2 */

#define NODES 600
struct node { struct node *next; uint32_t key; uint32_t val; };
static struct node pool[NODES];

static uint32_t lcg(uint32_t *s) { *s = *s * 1103515245u + 12345u; return *s >> 8; }

static struct node *build(uint32_t seed)
{
    struct node *head = 0;
    for (int i = 0; i < NODES; i++) {
        pool[i].key = lcg(&seed) & 0xffff;
        pool[i].val = (uint32_t)i;
        pool[i].next = head;
        head = &pool[i];
    }
    return head;
}

static struct node *merge(struct node *a, struct node *b)
{
    struct node dummy, *t = &dummy;
    while (a && b) {
        if (a->key <= b->key) { t->next = a; a = a->next; }
        else { t->next = b; b = b->next; }
        t = t->next;
    }
    t->next = a ? a : b;
    return dummy.next;
}

static struct node *sort(struct node *h)
{
    if (!h || !h->next)
        return h;
    struct node *slow = h, *fast = h->next;
    while (fast && fast->next) { slow = slow->next; fast = fast->next->next; }
    struct node *b = slow->next;
    slow->next = 0;
    return merge(sort(h), sort(b));
}

static uint32_t walk(const struct node *h)
{
    uint32_t sum = 0, prev = 0, inversions = 0;
    for (; h; h = h->next) {
        if (h->key < prev)
            inversions++;
        sum = sum * 31 + h->key + h->val;
        prev = h->key;
    }
    return sum ^ (inversions << 24);
}

#define M 8
static uint32_t matmul(uint32_t seed)
{
    int32_t a[M][M], b[M][M], c[M][M];
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++) {
            a[i][j] = (int32_t)(lcg(&seed) & 0xff) - 128;
            b[i][j] = (int32_t)(lcg(&seed) & 0xff) - 128;
        }
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++) {
            int32_t s = 0;
            for (int k = 0; k < M; k++)
                s += a[i][k] * b[k][j];
            c[i][j] = s;
        }
    uint32_t h = 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++)
            h = h * 33 + (uint32_t)c[i][j];
    return h;
}

/* a tokenizer: numbers, words, punctuation, whitespace; counts and sums what it sees */
static uint32_t fsm(uint32_t seed)
{
    enum { START, NUM, WORD, PUNCT } st = START;
    uint32_t nums = 0, words = 0, puncts = 0, value = 0, total = 0;
    for (int i = 0; i < 2048; i++) {
        uint32_t r = lcg(&seed) % 100;
        char c = r < 40 ? (char)('a' + r % 26) : r < 70 ? (char)('0' + r % 10) : r < 85 ? ' ' : ".,;:!?"[r % 6];
        switch (st) {
        case NUM:
            if (c >= '0' && c <= '9') { value = value * 10 + (uint32_t)(c - '0'); break; }
            total += value;
            nums++;
            /* fall through */
        case START:
        case WORD:
        case PUNCT:
            if (c >= '0' && c <= '9') { if (st == WORD) words++; st = NUM; value = (uint32_t)(c - '0'); }
            else if (c >= 'a' && c <= 'z') { if (st != WORD && st != NUM) {} st = WORD; }
            else if (c == ' ') { if (st == WORD) words++; st = START; }
            else { if (st == WORD) words++; puncts++; st = PUNCT; }
            break;
        }
    }
    return total ^ (nums << 20) ^ (words << 10) ^ puncts;
}

static uint16_t crc16(uint32_t seed)
{
    uint16_t crc = 0xffff;
    for (int i = 0; i < 512; i++) {
        uint8_t byte = (uint8_t)lcg(&seed);
        crc ^= (uint16_t)(byte << 8);
        for (int k = 0; k < 8; k++)
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

int main(void)
{
    uint32_t sum = 0;
    for (uint32_t r = 0; r < ROUNDS; r++) {
        sum = sum * 3 + walk(sort(build(r + 1)));
        sum = sum * 5 + matmul(r + 7);
        sum = sum * 7 + fsm(r + 11);
        sum = sum * 11 + crc16(r + 13);
    }
    kprintf("branchy: %u rounds, checksum %08x\n", ROUNDS, sum);
    return test_result("branchy", sum != EXPECT);
}
