/*
 * mmu_internal.h: helpers shared by mmu.c and mmu_cr.c (not installed).
 * Names end in '_' (library-internal).
 * Depends on: mmu.h.
 */
#ifndef PAGING_MMU_INTERNAL_H
#define PAGING_MMU_INTERNAL_H

#include <paging/mmu.h>

/* What a TLB flush selects. */
enum tlb_sel_ {
    SEL_ALL_,               /* everything */
    SEL_ALL_NONGLOBAL_,     /* non-global entries of every PCID */
    SEL_PCID_,              /* every entry filled under pcid, globals too */
    SEL_PCID_NONGLOBAL_,    /* non-global entries of pcid */
    SEL_PAGE_,              /* va's page: pcid's entries and globals of every PCID */
    SEL_PAGE_NONGLOBAL_,    /* va's page: non-global entries of pcid */
};

/* Drop the selected TLB entries (tlb may be NULL). */
void pg_tlb_flush_(struct pg_tlb *tlb, enum tlb_sel_ sel, uint16_t pcid, virt_addr_t va);

/* The current PCID: CR3[11:0] under CR4.PCIDE, else 0. */
static inline uint16_t cur_pcid_(const struct pg_cpu *cpu)
{
    return (cpu->cr4 & PG_CR4_PCIDE) ? (uint16_t)(cpu->cr3 & PG_CR3_PCID) : 0;
}

static inline bool has_(const struct pg_cpu *cpu, unsigned feature)
{
    return (cpu->features & feature) != 0;
}

#endif /* PAGING_MMU_INTERNAL_H */
