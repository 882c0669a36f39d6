/* fpu_on.S - ELF entry for the hard-float newlib guests: newlib's crt0 (rdimon) expects the FPU
 * already on, as an OS or boot loader would leave it. Grants cp10/cp11 full access in CPACR,
 * sets FPEXC.EN, then enters newlib's _start. */
    .syntax unified
    .arm
    .fpu vfpv4
    .text
    .global fpu_on_start
fpu_on_start:
    mrc p15, 0, r0, c1, c0, 2
    orr r0, r0, #(0xF << 20)
    mcr p15, 0, r0, c1, c0, 2
    isb
    mov r0, #0x40000000
    vmsr fpexc, r0
    b   _start
