/*
 * policy.c: the decisions the kernel, the host tool and the MMU model take
 * alike, written once: the paging mode from CR0/CR4/EFER, the top table from
 * CR3, Linux's W+X rule over iterated ranges, and the PTI rules (which CPUs
 * need it, the mirror of user-half PGD entries).
 * Depends on: paging.h, regs.h, pg_internal.h.
 */
#include <paging/regs.h>

#include "pg_internal.h"

unsigned pg_mode_from_regs(uint64_t cr0, uint64_t cr4, uint64_t efer)
{
    if (!(cr0 & PG_CR0_PG))
        return 0;
    if (!(cr4 & PG_CR4_PAE))
        return PG_MODE_32BIT;
    /* CR0.PG is set here, so LME alone means IA-32e mode is (being) active. */
    if (!(efer & (PG_EFER_LMA | PG_EFER_LME)))
        return PG_MODE_PAE;
    return (cr4 & PG_CR4_LA57) ? PG_MODE_5LEVEL : PG_MODE_4LEVEL;
}

phys_addr_t pg_cr3_root(unsigned mode, uint64_t cr3)
{
    switch (mode) {
    case PG_MODE_32BIT:
        return cr3 & bits_(31, 12);
    case PG_MODE_PAE:
        return cr3 & bits_(31, 5);
    case PG_MODE_4LEVEL:
    case PG_MODE_5LEVEL:
        return cr3 & bits_(51, 12);
    default:
        return 0;
    }
}

bool pg_range_wx(const struct pg_range *r)
{
    return r->kind == PG_RANGE_MAPPED && (r->eff & PTE_W) && !(r->eff & PTE_NX);
}

static int count_wx_(void *arg, const struct pg_range *r)
{
    if (pg_range_wx(r))
        *(uint64_t *)arg += r->size >> PAGE_SHIFT;
    return 0;
}

int pg_count_wx(const struct pg_ctx *ctx, phys_addr_t root, virt_addr_t start, virt_addr_t end,
                uint64_t *pages)
{
    struct pg_iter_opts opts = { .start = start, .end = end, .merge = PG_MERGE_RIGHTS };
    uint64_t n = 0;
    int r = pg_iterate(ctx, root, &opts, count_wx_, &n);
    *pages = r ? 0 : n;
    return r;
}

uint64_t pg_pti_set_user_pgtbl(uint64_t *user_pgd, unsigned levels, unsigned index, uint64_t pgd, bool nx)
{
    if (!pg_pti_pgdp_maps_userspace(levels, index))
        return pgd;
    user_pgd[index] = pgd;
    if (nx && (pgd & (PTE_P | PTE_U)) == (PTE_P | PTE_U))
        pgd |= PTE_NX;
    return pgd;
}

bool pg_pti_meltdown_affected(const char vendor[12], uint64_t arch_caps)
{
    if (!memcmp(vendor, "AuthenticAMD", 12) || !memcmp(vendor, "HygonGenuine", 12))
        return false;
    return !(arch_caps & PG_ARCH_CAP_RDCL_NO);
}
