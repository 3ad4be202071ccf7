/*
 * policy.c: the decisions the kernel, the host tool and the MMU model take
 * alike, written once: the paging mode from CR0/CR4/EFER, the top table from
 * CR3, Linux's W+X rule over iterated ranges, and the PTI rules (which CPUs
 * need it, the mirror of user-half PGD entries, what a user PGD may map of
 * the kernel).
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

struct pti_region_ {
    virt_addr_t start, end;     /* end 0: the top of the address space */
    enum pg_pti_clone clone;
};

enum pg_pti_clone pg_pti_user_clone(unsigned levels, virt_addr_t va, uint64_t size, uint64_t eff,
                                    bool cea_alias)
{
    /* The read-only regions, Linux's fixed addresses (see paging.h). */
    const struct pti_region_ ro[] = {
        { 0xffffff0000000000ULL, 0xffffff8000000000ULL, PG_PTI_ESPFIX },
        { 0xffffffff80000000ULL, 0xffffffffc0000000ULL, PG_PTI_KERNEL_IMAGE },
        { levels == PG_MODE_5LEVEL ? 0xff10000000000000ULL : 0xffff880000000000ULL,
          levels == PG_MODE_5LEVEL ? 0xff11000000000000ULL : 0xffff888000000000ULL, PG_PTI_LDT },
        { 0xffffffffff600000ULL, 0xffffffffff601000ULL, PG_PTI_VSYSCALL },
    };
    virt_addr_t last = va + size - 1;   /* inclusive: a range may end at the top */
    if (!(va >> 63))
        return PG_PTI_USER_SPACE;
    if (va >= PG_PTI_CPU_ENTRY_AREA_BASE && last < PG_PTI_CPU_ENTRY_AREA_END)
        return PG_PTI_CPU_ENTRY_AREA;
    bool w = eff & PTE_W, x = !(eff & PTE_NX), u = eff & PTE_U;
    if (!w)
        for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
            if (va >= ro[i].start && last < ro[i].end && (!u || ro[i].clone == PG_PTI_VSYSCALL))
                return x && ro[i].clone == PG_PTI_KERNEL_IMAGE ? PG_PTI_ENTRY_TEXT : ro[i].clone;
    if (u)
        return PG_PTI_NOT_CLONED;
    if (!w && x)
        return PG_PTI_ENTRY_TEXT;
    if (!x && cea_alias)
        return PG_PTI_TSS;
    return PG_PTI_NOT_CLONED;
}

const char *pg_pti_clone_name(enum pg_pti_clone c)
{
    static const char *const name[] = {
        [PG_PTI_NOT_CLONED] = "not a PTI clone",
        [PG_PTI_USER_SPACE] = "user space",
        [PG_PTI_CPU_ENTRY_AREA] = "cpu_entry_area",
        [PG_PTI_ENTRY_TEXT] = "entry text (read-only, executable)",
        [PG_PTI_TSS] = "a CPU's TSS page at its per-CPU address",
        [PG_PTI_ESPFIX] = "ESPfix area",
        [PG_PTI_KERNEL_IMAGE] = "kernel image, read-only",
        [PG_PTI_LDT] = "LDT remap",
        [PG_PTI_VSYSCALL] = "vsyscall page",
    };
    return (unsigned)c < sizeof(name) / sizeof(name[0]) ? name[c] : "?";
}
