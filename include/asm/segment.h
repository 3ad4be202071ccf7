/*
 * segment.h: GDT selectors shared by the real-mode setup, the decompressor and
 * the kernel (values as Linux's boot GDT, linux-paging.md §1.4 and §2.1).
 * Safe to include from assembly.
 */
#ifndef ASM_SEGMENT_H
#define ASM_SEGMENT_H

#define __BOOT_CS      0x10
#define __BOOT_DS      0x18
#define __KERNEL32_CS  0x08
#define __KERNEL_CS    0x10
#define __KERNEL_DS    0x18

#define GDT_BOOT_CS    0x00CF9B000000FFFF /* 32-bit flat code */
#define GDT_BOOT_DS    0x00CF93000000FFFF /* flat data */
#define GDT_KERNEL32_CS 0x00CF9A000000FFFF
#define GDT_KERNEL_CS  0x00AF9A000000FFFF /* 64-bit code, L=1 */
#define GDT_KERNEL_DS  0x00CF92000000FFFF

#endif /* ASM_SEGMENT_H */
