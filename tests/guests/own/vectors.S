/* vectors.S - exception vectors for the guests that need them (data aborts, IRQs).
 * A data abort counts itself (abort_count, abort_dfsr) and resumes after the faulting
 * instruction, so a guest can probe addresses; an IRQ calls irq_handler() in C.
 * exceptions_init(top) gives the calling core 4 KiB ABT and IRQ stacks below top and
 * points VBAR at the table. */
    .syntax unified
    .arm
    .text
    .align 5
vectors:
    b   .                   @ reset (not used: the ELF entry is _start)
    b   .                   @ undefined instruction
    b   .                   @ SVC (semihosting calls are intercepted)
    b   .                   @ prefetch abort
    b   dabt
    b   .
    b   irq
    b   .                   @ FIQ

dabt:
    push {r0, r1}
    ldr r0, =abort_count
    ldr r1, [r0]
    add r1, r1, #1
    str r1, [r0]
    mrc p15, 0, r1, c5, c0, 0   @ DFSR
    ldr r0, =abort_dfsr
    str r1, [r0]
    pop {r0, r1}
    subs pc, lr, #4             @ lr = faulting instruction + 8 (ARM state)

irq:
    sub lr, lr, #4
    push {r0-r3, r12, lr}
    bl  irq_handler
    pop {r0-r3, r12, lr}
    movs pc, lr

    .global exceptions_init
exceptions_init:
    mrs r1, cpsr
    msr cpsr_c, #0xD7           @ ABT, IRQ and FIQ masked
    mov sp, r0
    sub r0, r0, #0x1000
    msr cpsr_c, #0xD2           @ IRQ
    mov sp, r0
    msr cpsr_c, r1
    ldr r0, =vectors
    mcr p15, 0, r0, c12, c0, 0  @ VBAR
    isb
    bx  lr
