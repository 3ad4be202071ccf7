/*
 * pti.h: page-table isolation (Linux's arch/x86/mm/pti.c,
 * arch/x86/include/asm/pti.h; docs/processes.md, "Page-table isolation").
 *
 * With PTI each process has a pair of PGDs in one 8 KiB-aligned block
 * (pgd_alloc): the kernel PGD, which maps everything, and at +4096 the user
 * PGD, which maps user space and, of the kernel, only what an entry from and
 * an exit to ring 3 need before or after the CR3 switch: the entry text
 * (section .entry.text), each CPU's cpu_entry_area and its TSS page. Every
 * entry from ring 3 switches to the kernel PGD (SWITCH_TO_KERNEL_CR3,
 * asm/calling.h), every exit to ring 3 back to the user PGD.
 */
#ifndef ASM_PTI_H
#define ASM_PTI_H

#include <stdbool.h>
#include <stdint.h>

extern bool pti_enabled;
/* Why PTI is on or off, for the boot report and the shell (e.g. "disabled on command line"). */
extern const char *pti_reason;
/* Set by pti_clone_entry_text / setup_cpu_entry_areas: the user twin of swapper_pg_dir. */
extern uint64_t init_top_pgt_user[512];
extern char __entry_text_start[], __entry_text_end[];

/*
 * pti_check_boottime_disable - decide: `pti=on|off|auto` (`nopti` = off;
 * default auto: on unless pg_pti_meltdown_affected says the CPU is not
 * affected) and print the decision as Linux does. returns: nothing.
 */
void pti_check_boottime_disable(void);
/*
 * pti_init - under PTI: the cpu_entry_areas and the entry text in the user
 * twin of swapper_pg_dir, so that every pgd_alloc from here copies them.
 * Before any process exists. returns: nothing.
 */
void pti_init(void);
/*
 * pti_finalize - under pti=auto without PCID (after init_pcid), as Linux's
 * pti_clone_kernel_text: the kernel text and rodata mapped in the user twin
 * too, the text global in both PGDs. Before any process exists.
 */
void pti_finalize(void);
/* This CPU's entry code starts switching CR3 (PTI_FLAG_ON, and PTI_FLAG_PCID when pcid). */
void pti_cpu_init(bool pcid);
/*
 * pti_clone_kernel_page - map the kernel page at va (its 4 KiB page, same
 * PA, prot) in the user twin of swapper_pg_dir too. Panics on failure.
 */
void pti_clone_kernel_page(uint64_t va, uint64_t pa, uint64_t prot);

#endif /* ASM_PTI_H */
