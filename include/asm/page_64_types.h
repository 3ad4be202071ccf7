/*
 * page_64_types.h: the kernel's virtual layout constants (docs/memlayout.md),
 * usable from C and assembly.
 */
#ifndef ASM_PAGE_64_TYPES_H
#define ASM_PAGE_64_TYPES_H

#ifdef __ASSEMBLER__
#define _AC(x, y) x
#else
#define _AC(x, y) x##y
#endif

#define __START_KERNEL_map        _AC(0xffffffff80000000, UL) /* kernel image window, pgd 511 pud 510 */
#define __START_KERNEL            _AC(0xffffffff81000000, UL) /* where vmlinux is linked */
#define KERNEL_IMAGE_SIZE         _AC(0x20000000, UL)         /* 512 MiB: level2_kernel_pgt's reach */
#define EARLY_DYNAMIC_PAGE_TABLES 64
#define MAX_PHYSMEM_BITS          46

#endif /* ASM_PAGE_64_TYPES_H */
