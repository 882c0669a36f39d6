/* boot.S - entry, exception vectors and the self-modifying function of smp_demo.
 * CPU0 enters at _start from the ELF entry; the others are started by main.c
 * through PSCI CPU_ON at secondary_start with r0 = their core number.
 * Each core gets 16 KiB of stack below stack_top - core * 16 KiB: the top
 * 4 KiB for IRQ mode, the rest for SVC mode, where the C code runs. */
    .syntax unified
    .arm
    .section .text.entry, "ax"
    .global _start
_start:
    mov r0, #0
    .global secondary_start
secondary_start:
    cpsid aif
    ldr r1, =stack_top
    sub r1, r1, r0, lsl #14
    cps #0x12                   @ IRQ mode
    mov sp, r1
    cps #0x13                   @ SVC mode
    sub sp, r1, #0x1000
    ldr r1, =vectors
    mcr p15, 0, r1, c12, c0, 0  @ VBAR
    isb
    bl  core_main
1:  wfe
    b   1b

/* Vectors: IRQs go to irq_handler() in C; anything else is a bug in the
 * demo and ends the run through bad_exception(kind, lr). */
    .text
    .align 5
vectors:
    b   .                       @ reset (not used: the ELF entry is _start)
    b   und
    b   svc
    b   pabt
    b   dabt
    b   .
    b   irq
    b   fiq

und:  mov r0, #1
      b   bad
svc:  mov r0, #2
      b   bad
pabt: mov r0, #3
      b   bad
dabt: mov r0, #4
      b   bad
fiq:  mov r0, #7
bad:  mov r1, lr
      bl  bad_exception         @ does not return

irq:
    sub lr, lr, #4
    push {r0-r3, r12, lr}
    bl  irq_handler
    pop {r0-r3, r12, lr}
    movs pc, lr

/* magic(x) = x + IMM. CPU0 rewrites the MOVW's 16-bit immediate every round
 * (see patch_magic in main.c); the other cores call it. It sits alone in its
 * own 4 KiB page, so the rewrite invalidates only its translations. */
    .section .patch, "ax"
    .align 12
    .global magic
magic:
    movw r1, #0
    add r0, r0, r1
    bx  lr
