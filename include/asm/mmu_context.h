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
 * load, which flushes every non-global entry.
 */
#ifndef ASM_MMU_CONTEXT_H
#define ASM_MMU_CONTEXT_H

#include <asm/page.h>
#include <asm/pgtable.h>
#include <asm/sections.h>
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

/* tlb.c */
#define TLB_NR_DYN_ASIDS 6
#define CR3_NOFLUSH      PG_CR3_NOFLUSH /* Linux's names for paging/regs.h's bits */

struct tlb_context {
	uint64_t ctx_id;
	uint64_t tlb_gen;
};

struct tlb_state {
	struct mm_struct *loaded_mm;
	uint16_t loaded_mm_asid;
	uint16_t next_asid;
	struct tlb_context ctxs[TLB_NR_DYN_ASIDS];
};

struct switch_stats {
	uint64_t switches;    /* context switches (task changes) */
	uint64_t same_mm;     /* ... between tasks of one mm: no CR3 write */
	uint64_t cr3_loads;   /* CR3 writes by switch_mm */
	uint64_t flushing;    /* ... that flushed the (new) ASID's / all non-global entries */
	uint64_t noflush;     /* ... with CR3 bit 63: the ASID's entries kept */
	uint64_t cr3_same;    /* switches where the CR3 value did not change (must stay 0) */
	uint64_t asid_reuse;  /* ASID found by ctx_id */
	uint64_t asid_new;    /* ASID slot taken over (round robin) */
};

extern struct tlb_state cpu_tlbstate;
extern struct switch_stats switch_stats;
extern bool pcid_enabled;

void init_pcid(void);      /* CR4.PCIDE if the CPU has PCID (and not `nopcid`); loads init_mm */
uint64_t new_ctx_id(void);
static inline uint16_t kern_pcid(uint16_t asid)
{
	return (uint16_t)(asid + 1);
}
uint64_t build_cr3(const uint64_t *pgd, uint16_t asid);
void switch_mm_irqs_off(struct mm_struct *prev, struct mm_struct *next, struct task_struct *tsk);
/* The ASID slot holding mm, or -1. */
int mm_asid(const struct mm_struct *mm);
/* After changing mm's tables: flush them from the TLB (now if loaded, else at its next switch). */
void flush_tlb_mm_range(struct mm_struct *mm, const struct pg_flush *f);
/*
 * flush_tlb_kernel_range - after unmapping or changing kernel addresses
 * [start, end) (end == 0: the top): drop them from the TLB, global entries
 * included (INVLPG page by page for a short range, else a full flush).
 */
void flush_tlb_kernel_range(uint64_t start, uint64_t end);

#endif /* ASM_MMU_CONTEXT_H */
