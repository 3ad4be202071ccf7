/*
 * pgtable_types.h (kernel): the protections every kernel mapping is made
 * with (Linux's arch/x86/include/asm/pgtable_types.h, PAGE_KERNEL and its
 * family). Each is lib/paging's __PAGE_KERNEL* value under
 * __default_kernel_pte_mask, which probe_page_size_mask sets: every bit, or
 * every bit but _PAGE_GLOBAL (PTE_G) under page-table isolation, so that no
 * kernel translation survives a switch to a user PGD in the TLB
 * (docs/processes.md, "Page-table isolation"). The only global kernel pages
 * under PTI are those both PGDs map: the entry text (pti_clone_entry_text)
 * and the cpu_entry_area (cea_set_pte) add PTE_G themselves.
 * Depends on: paging/pgtable.h.
 */
#ifndef ASM_PGTABLE_TYPES_H
#define ASM_PGTABLE_TYPES_H

#include <paging/pgtable.h>
#include <stdint.h>

/* ~0 until probe_page_size_mask (init_mem_mapping) decides, after pti_check_boottime_disable. */
extern uint64_t __default_kernel_pte_mask;

#define PAGE_KERNEL         (__PAGE_KERNEL & __default_kernel_pte_mask)
#define PAGE_KERNEL_RO      (__PAGE_KERNEL_RO & __default_kernel_pte_mask)
#define PAGE_KERNEL_RX      (__PAGE_KERNEL_RX & __default_kernel_pte_mask)
#define PAGE_KERNEL_NOCACHE (__PAGE_KERNEL_NOCACHE & __default_kernel_pte_mask)
#define PAGE_KERNEL_IO      PAGE_KERNEL /* ioremap's base protection; the cache mode is added to it */

#endif /* ASM_PGTABLE_TYPES_H */
