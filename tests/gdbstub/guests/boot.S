/* boot.S - entry for every core of smp_debug.elf.
 * CPU0 enters at _start; core_main() starts the others through PSCI CPU_ON
 * at secondary_start with r0 = their core number. 16 KiB of stack each. */
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
