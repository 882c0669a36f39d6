/* vectors.h - the C side of vectors.S. */
#ifndef TEST_VECTORS_H
#define TEST_VECTORS_H
#include <stdint.h>

extern volatile uint32_t abort_count, abort_dfsr;   /* defined by the guest */
void exceptions_init(void *stack_top);              /* this core: ABT/IRQ stacks, VBAR */
void irq_handler(void);                             /* called in IRQ mode */

#endif
