/*
 * pat.h: the memory type of a leaf (Intel SDM Vol. 3A, 12.12.3): the PAT
 * index a leaf selects with its PAT, PCD and PWT bits, the type IA32_PAT
 * holds at that index, and, the other way round, the bits that select a
 * wanted type (Linux's cachemode2protval over the PAT it programmed). The
 * MMU model (mmu.c) and the kernel's ioremap use these; there is no other
 * copy of the rule.
 * Depends on: mmu.h (PG_MT_* memory types).
 */
#ifndef PAGING_PAT_H
#define PAGING_PAT_H

#include <paging/mmu.h>

/*
 * pg_pat_index - the PAT entry a leaf selects: PAT * 4 + PCD * 2 + PWT.
 * @prot: canonical protection (PAT at bit 12, PTE_PAT_LARGE, whatever the
 *        page size: paging.h)
 * returns: 0..7.
 */
unsigned pg_pat_index(uint64_t prot);

/*
 * pg_pat_mem_type - the memory type (PG_MT_*) a leaf gets from the PAT
 * value pat (IA32_PAT, eight 8-bit entries, entry i in bits 8i+2..8i).
 * returns: the type in entry pg_pat_index(prot).
 */
unsigned pg_pat_mem_type(uint64_t pat, uint64_t prot);

/*
 * pg_pat_prot - the cache bits (PTE_PWT, PTE_PCD, PTE_PAT_LARGE, canonical)
 * that select memory type mem_type with the PAT value pat: those of the
 * lowest entry holding it, among the first n_entries (8, or 4 when the PAT
 * bit may not be used: no PAT, or Linux's PAT errata).
 * @prot: receives the bits (0 for entry 0)
 * returns: 0; -PG_EINVAL (no entry holds mem_type, or n_entries is not 1..8).
 */
int pg_pat_prot(uint64_t pat, unsigned mem_type, unsigned n_entries, uint64_t *prot);

#endif /* PAGING_PAT_H */
