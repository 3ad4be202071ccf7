/*
 * segment.h: GDT selectors shared by the real-mode setup, the decompressor and
 * the kernel (values as Linux's boot GDT; docs/linux.md, "Boot protocol and
 * real-mode setup" and "The decompressor").
 * Safe to include from assembly.
 */
#ifndef ASM_SEGMENT_H
#define ASM_SEGMENT_H

#define __BOOT_CS      0x10
#define __BOOT_DS      0x18
#define __KERNEL32_CS  0x08
#define __KERNEL_CS    0x10
#define __KERNEL_DS    0x18
/* The kernel's own GDT (arch/x86/kernel/gdt.c) adds Linux's user segments and the TSS: */
#define __USER32_CS    0x23 /* entry 4, RPL 3: STAR[63:48], the base SYSRET counts from */
#define __USER_DS      0x2b /* entry 5, RPL 3: SYSRET's SS = STAR[63:48] + 8 */
#define __USER_CS      0x33 /* entry 6, RPL 3: SYSRET's 64-bit CS = STAR[63:48] + 16 */
#define GDT_ENTRY_TSS  8    /* entries 8-9: the 16-byte TSS descriptor */
#define __TSS          (GDT_ENTRY_TSS * 8)

#define GDT_BOOT_CS    0x00CF9B000000FFFF /* 32-bit flat code */
#define GDT_BOOT_DS    0x00CF93000000FFFF /* flat data */
#define GDT_KERNEL32_CS 0x00CF9A000000FFFF
#define GDT_KERNEL_CS  0x00AF9A000000FFFF /* 64-bit code, L=1 */
#define GDT_KERNEL_DS  0x00CF92000000FFFF
#define GDT_USER32_CS  0x00CFFB000000FFFF /* DPL 3 */
#define GDT_USER_DS    0x00CFF3000000FFFF /* DPL 3 */
#define GDT_USER_CS    0x00AFFB000000FFFF /* DPL 3, L=1 */

#ifdef __ASSEMBLER__
/* Load DS, ES, FS, GS and SS with the data selector in \reg (a 32-bit register). */
.macro LOAD_DATA_SEGMENTS reg
	movl	\reg, %ds
	movl	\reg, %es
	movl	\reg, %fs
	movl	\reg, %gs
	movl	\reg, %ss
.endm
#endif

#endif /* ASM_SEGMENT_H */
