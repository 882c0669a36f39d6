/* boot.S - entry for every core of the virt board.
 * CPU0 enters at _start from the ELF entry; the others are started by main()
 * through PSCI CPU_ON at secondary_start with r0 = their core number.
 * Each core gets a 16 KiB stack below stack_top. */
    .syntax unified
    .arm
    .section .text.entry, "ax"
    .global _start
_start:
    mov r0, #0
    .global secondary_start
secondary_start:
    cpsid if
    ldr sp, =stack_top
    sub sp, sp, r0, lsl #14
    bl  core_main
1:  wfe
    b   1b
