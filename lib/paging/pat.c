/*
 * pat.c: a leaf's PAT index and memory type, and the bits that select a
 * memory type (see pat.h).
 * Depends on: pat.h.
 */
#include <paging/pat.h>

unsigned pg_pat_index(uint64_t prot)
{
    return ((prot & PTE_PWT) ? 1u : 0u) | ((prot & PTE_PCD) ? 2u : 0u) | ((prot & PTE_PAT_LARGE) ? 4u : 0u);
}

unsigned pg_pat_mem_type(uint64_t pat, uint64_t prot)
{
    return (unsigned)(pat >> (8 * pg_pat_index(prot))) & 0x7u;
}

int pg_pat_prot(uint64_t pat, unsigned mem_type, unsigned n_entries, uint64_t *prot)
{
    if (n_entries < 1 || n_entries > 8)
        return -PG_EINVAL;
    for (unsigned i = 0; i < n_entries; i++) {
        if (((pat >> (8 * i)) & 0x7u) != mem_type)
            continue;
        *prot = ((i & 1) ? PTE_PWT : 0) | ((i & 2) ? PTE_PCD : 0) | ((i & 4) ? PTE_PAT_LARGE : 0);
        return 0;
    }
    return -PG_EINVAL;
}
