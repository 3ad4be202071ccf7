/*
 * pgtable_64_types.h: where the kernel's memory regions are (Linux's
 * arch/x86/include/asm/pgtable_64_types.h; docs/memlayout.md).
 *
 * The direct map (page_offset_base, asm/page.h), the vmalloc/ioremap area
 * (vmalloc_base) and the struct page array (vmemmap_base) move at boot:
 * kernel_randomize_memory (arch/x86/mm/kaslr.c) places them in Linux's
 * order with Linux's sizes, or at Linux's fixed bases with `nokaslr`. The
 * sizes are lib/paging's (paging/linux_kaslr.h).
 */
#ifndef ASM_PGTABLE_64_TYPES_H
#define ASM_PGTABLE_64_TYPES_H

#include <asm/page.h>
#include <paging/linux_kaslr.h>

extern uint64_t vmalloc_base, vmemmap_base;

/* vmalloc and ioremap space: 32 TiB (4-level) or 12800 TiB (5-level) from vmalloc_base. */
#define VMALLOC_SIZE_TB (pgtable_l5_enabled ? PG_LINUX_VMALLOC_SIZE_TB_L5 : PG_LINUX_VMALLOC_SIZE_TB_L4)
#define VMALLOC_START   vmalloc_base
#define VMALLOC_END     (VMALLOC_START + (VMALLOC_SIZE_TB << PG_LINUX_TB_SHIFT)) /* exclusive */
#define VMEMMAP_START   vmemmap_base

/* The fixed regions Linux keeps above them (ptlab leaves them empty). */
#define CPU_ENTRY_AREA_BASE PG_LINUX_CPU_ENTRY_AREA_BASE

#endif /* ASM_PGTABLE_64_TYPES_H */
