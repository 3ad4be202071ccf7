/*
 * mmu_context.h: per-process top tables (arch/x86/mm/pgtable.c) and the
 * context switch of the MMU (arch/x86/mm/tlb.c), as Linux's.
 *
 * pgd_alloc takes one zeroed page and clones the kernel half of
 * swapper_pg_dir into it: entries KERNEL_PGD_BOUNDARY..511, where the
 * boundary is pgd_index(PAGE_OFFSET) in the running paging mode (273 for
 * 4-level and 5-level, 272 with layout=4.7). The user half starts empty.
 *
 * switch_mm_irqs_off loads CR3 = build_cr3(__pa(next->pgd), asid). With PCID
 * (CPUID.1:ECX[17], CR4.PCIDE) an mm gets one of TLB_NR_DYN_ASIDS dynamic
 * ASIDs per CPU, the hardware PCID being ASID + 1 (PCID 0 is never used);
 * when the ASID still holds next's translations (same ctx_id, tlb_gen not
 * stale) CR3 bit 63 (NOFLUSH) keeps them. Without PCID it is a plain CR3
 * load, which flushes every non-global entry. The ASIDs and the generations
 * are per CPU (cpu_tlbstate, asm/tlbflush.h).
 */
#ifndef ASM_MMU_CONTEXT_H
#define ASM_MMU_CONTEXT_H

#include <asm/page.h>
#include <asm/pgtable.h>
#include <asm/sections.h>
#include <asm/tlbflush.h>
#include <linux/mm_types.h>
#include <paging/regs.h>

struct task_struct;

#define swapper_pg_dir       init_top_pgt
#define KERNEL_PGD_BOUNDARY  ((unsigned int)pg_va_index(kernel_ctx.levels, (int)kernel_ctx.levels, PAGE_OFFSET))
#define KERNEL_PGD_PTRS      (PTRS_PER_PGD - KERNEL_PGD_BOUNDARY)

/* pgtable.c */
/* A zeroed top table with the kernel half of swapper_pg_dir. returns: its address, NULL if no memory. */
uint64_t *pgd_alloc(struct mm_struct *mm);
void pgd_free(struct mm_struct *mm, uint64_t *pgd);
/* Page-table pages of process tops in use (also counted in kernel_table_pages). */
extern uint64_t nr_pgds;

/* tlb.c (the TLB state and shootdowns: asm/tlbflush.h) */
#define CR3_NOFLUSH      PG_CR3_NOFLUSH /* Linux's names for paging/regs.h's bits */

extern bool pcid_enabled;

void init_pcid(void);      /* CR4.PCIDE if the CPU has PCID (and not `nopcid`); loads init_mm */
static inline uint16_t kern_pcid(uint16_t asid)
{
	return (uint16_t)(asid + 1);
}
uint64_t build_cr3(const uint64_t *pgd, uint16_t asid);
/*
 * switch_mm_irqs_off - load next's tables on this CPU (Linux's): nothing
 * when next is loaded already and this CPU was not lazy; else CR3 =
 * build_cr3(next->pgd, ASID from choose_new_asid), flushing or not
 * (CR3_NOFLUSH); this CPU leaves prev's mm_cpumask and joins next's.
 * prev and tsk are unused (cpu_tlbstate.loaded_mm says what is loaded).
 */
void switch_mm_irqs_off(struct mm_struct *prev, struct mm_struct *next, struct task_struct *tsk);
/* The ASID slot holding mm on cpu, or -1. */
int mm_asid(const struct mm_struct *mm, unsigned int cpu);
/* Every CPU's switch counters added up. */
void switch_stats_total(struct switch_stats *sum);

#endif /* ASM_MMU_CONTEXT_H */
