/*
 * mode.c: the four x86 paging modes as data (level descriptors), VA index
 * arithmetic, entry encoding/decoding, reserved-bit rules and error names.
 *
 * Every other file of lib/paging reads the tables here instead of having
 * per-level or per-mode code.
 * Depends on: paging.h (pg_env.h only).
 */
#include "pg_internal.h"

/* One level; the PAE PDPTE level (its own reserved-bit rule) is the one without rights. */
#define LV_(sh, bits, esz, large, rule, lname, iname) \
    { .shift = (sh), .index_bits = (bits), .entry_size = (esz), .large_ok = (large), \
      .no_rights = (rule) == PG_RSVD_PAE_PDPTE, .rsvd = (rule), .linux_name = (lname), \
      .intel_name = (iname) }

/* The levels below the top in IA-32e paging (4- and 5-level alike). */
#define LM_LOWER_LEVELS_                                       \
    [1] = LV_(12, 9, 8, 0, PG_RSVD_LM, "pte", "PT"),           \
    [2] = LV_(21, 9, 8, 1, PG_RSVD_LM, "pmd", "PD"),           \
    [3] = LV_(30, 9, 8, 1, PG_RSVD_LM, "pud", "PDPT")

static const struct pg_mode_desc modes_[] = {
    {
        .name = "32-bit", .levels = 2, .va_bits = 32, .canonical = false, .has_nx = false,
        .level = {
            [1] = LV_(12, 10, 4, 0, PG_RSVD_32_PT, "pte", "PT"),
            [2] = LV_(22, 10, 4, 1, PG_RSVD_32_PD, "pgd", "PD"),
        },
    },
    {
        .name = "PAE", .levels = 3, .va_bits = 32, .canonical = false, .has_nx = true,
        .level = {
            [1] = LV_(12, 9, 8, 0, PG_RSVD_PAE, "pte", "PT"),
            [2] = LV_(21, 9, 8, 1, PG_RSVD_PAE, "pmd", "PD"),
            [3] = LV_(30, 2, 8, 0, PG_RSVD_PAE_PDPTE, "pgd", "PDPT"),
        },
    },
    {
        .name = "4-level", .levels = 4, .va_bits = 48, .canonical = true, .has_nx = true,
        .level = {
            LM_LOWER_LEVELS_,
            [4] = LV_(39, 9, 8, 0, PG_RSVD_LM_TOP, "pgd", "PML4"),
        },
    },
    {
        .name = "5-level", .levels = 5, .va_bits = 57, .canonical = true, .has_nx = true,
        .level = {
            LM_LOWER_LEVELS_,
            [4] = LV_(39, 9, 8, 0, PG_RSVD_LM_TOP, "p4d", "PML4"),
            [5] = LV_(48, 9, 8, 0, PG_RSVD_LM_TOP, "pgd", "PML5"),
        },
    },
};

static const char *const errors_[PG_NERRORS_] = {
    [0] = "success",
    [PG_ENOMEM] = "out of page-table memory",
    [PG_EEXIST] = "already mapped",
    [PG_EHUGE] = "a large page is in the way",
    [PG_EALIGN] = "misaligned address or size",
    [PG_ERANGE] = "address out of range or not canonical",
    [PG_ENOTMAPPED] = "not mapped",
    [PG_EIO] = "page table unreadable",
    [PG_EINVAL] = "invalid argument",
    [PG_ERSVD] = "reserved bit set in a page-table entry",
    [PG_ENOSPC] = "buffer too small",
    [PG_EGP] = "general-protection fault (#GP)",
    [PG_EUD] = "invalid opcode (#UD)",
};

const char *pg_strerror(int err)
{
    int code = err < 0 ? -err : err;
    if (code >= PG_NERRORS_ || !errors_[code])
        return "unknown error";
    return errors_[code];
}

const struct pg_mode_desc *pg_mode_get(unsigned levels)
{
    if (levels < 2 || levels > 5)
        return NULL;
    return &modes_[levels - 2];
}

const struct pg_mode_desc *ctx_mode_(const struct pg_ctx *ctx)
{
    if (!ctx || !ctx->phys_to_virt)
        return NULL;
    return pg_mode_get(ctx->levels);
}

static const struct pg_level_desc *level_desc_(unsigned levels, int level)
{
    const struct pg_mode_desc *m = pg_mode_get(levels);
    if (!m || level < 1 || level > (int)m->levels)
        return NULL;
    return &m->level[level];
}

const char *pg_level_linux_name(unsigned levels, int level)
{
    const struct pg_level_desc *d = level_desc_(levels, level);
    return d ? d->linux_name : NULL;
}

const char *pg_level_intel_name(unsigned levels, int level)
{
    const struct pg_level_desc *d = level_desc_(levels, level);
    return d ? d->intel_name : NULL;
}

uint64_t pg_level_size(unsigned levels, int level)
{
    const struct pg_level_desc *d = level_desc_(levels, level);
    return d ? 1ULL << d->shift : 0;
}

int pg_va_index(unsigned levels, int level, virt_addr_t va)
{
    const struct pg_level_desc *d = level_desc_(levels, level);
    if (!d)
        return -PG_EINVAL;
    return (int)level_index_(d, va);
}

int pg_va_split(unsigned levels, int leaf_level, virt_addr_t va,
                unsigned idx[PG_MAX_LEVELS + 1], uint64_t *offset)
{
    const struct pg_mode_desc *m = pg_mode_get(levels);
    if (!m || leaf_level < 1 || leaf_level > (int)levels)
        return -PG_EINVAL;
    for (int l = leaf_level; l <= (int)levels; l++)
        idx[l] = (unsigned)pg_va_index(levels, l, va);
    if (offset)
        *offset = va & ((1ULL << m->level[leaf_level].shift) - 1);
    return 0;
}

virt_addr_t pg_canonical(unsigned levels, virt_addr_t va)
{
    const struct pg_mode_desc *m = pg_mode_get(levels);
    if (!m)
        return va;
    return canon_(m, linear_(m, va));
}

bool pg_is_canonical(unsigned levels, virt_addr_t va)
{
    const struct pg_mode_desc *m = pg_mode_get(levels);
    return m && va_ok_(m, va);
}

/* ---- Entries ---- */

phys_addr_t entry_addr_(const struct pg_ctx *ctx, const struct pg_mode_desc *m, int level,
                        uint64_t raw, bool leaf)
{
    if (!leaf || level == 1)
        return pfn_addr_(m, raw);
    if (m->levels == PG_MODE_32BIT) {
        /* A 4 MiB page: bits 31:22, and with PSE-36 bits 39:32 from 20:13. */
        uint64_t pa = raw & 0xFFC00000ULL;
        if (!(ctx->disabled & PG_NO_PSE36))
            pa |= ((raw >> 13) & 0xFFULL) << 32;
        return pa;
    }
    return raw & PTE_PFN_MASK & ~((1ULL << m->level[level].shift) - 1);
}

uint64_t entry_prot_(const struct pg_mode_desc *m, int level, uint64_t raw, bool leaf)
{
    uint64_t flags = entry_flags_(m, raw);
    if (!leaf)
        return flags;
    if (level == 1) {
        /* 4 KiB PTE: bit 7 is PAT; report it at bit 12. */
        return (flags & ~PTE_PAT) | ((flags & PTE_PAT) ? PTE_PAT_LARGE : 0);
    }
    return (flags & ~PTE_PS) | (raw & PTE_PAT_LARGE);
}

int pg_entry_decode(const struct pg_ctx *ctx, int level, uint64_t raw, struct pg_entry *out)
{
    const struct pg_mode_desc *m = pg_mode_get(ctx->levels);
    if (!m || level < 1 || level > (int)m->levels)
        return -PG_EINVAL;
    if (m->levels == PG_MODE_32BIT)
        raw &= 0xFFFFFFFFULL;
    bool leaf = entry_leaf_(ctx, m, level, raw);
    out->raw = raw;
    out->present = (raw & PTE_P) != 0;
    out->leaf = leaf;
    out->addr = entry_addr_(ctx, m, level, raw, leaf);
    out->prot = entry_prot_(m, level, raw, leaf);
    out->page_size = leaf ? 1ULL << m->level[level].shift : 0;
    return 0;
}

/* Bits of canonical prot a mode can store in an entry of `level`. */
static uint64_t storable_prot_(const struct pg_ctx *ctx, const struct pg_mode_desc *m, int level)
{
    if (m->levels == PG_MODE_32BIT)
        return 0xFFFULL | PTE_PAT_LARGE;
    if (m->level[level].rsvd == PG_RSVD_PAE_PDPTE)
        return PTE_P | PTE_PWT | PTE_PCD;
    uint64_t ok = 0xFFFULL | PTE_PAT_LARGE;
    if (nx_enabled_(ctx, m))
        ok |= PTE_NX;
    if (m->levels >= PG_MODE_4LEVEL)
        ok |= bits_(62, 52);    /* software bits 52..58 and the protection key */
    return ok;
}

uint64_t make_leaf_(const struct pg_ctx *ctx, const struct pg_mode_desc *m, int level,
                    phys_addr_t pa, uint64_t prot)
{
    prot &= storable_prot_(ctx, m, level);
    bool pat = (prot & PTE_PAT_LARGE) != 0;
    uint64_t low = prot & ~(PTE_PS | PTE_PAT_LARGE);
    if (level == 1)
        return pa | low | (pat ? PTE_PAT : 0);
    if (m->levels == PG_MODE_32BIT) {
        uint64_t e = (pa & 0xFFC00000ULL) | (((pa >> 32) & 0xFFULL) << 13);
        return e | low | PTE_PS | (pat ? PTE_PAT_LARGE : 0);
    }
    return pa | low | PTE_PS | (pat ? PTE_PAT_LARGE : 0);
}

uint64_t table_entry_flags_(const struct pg_ctx *ctx, const struct pg_mode_desc *m, int level)
{
    uint64_t f = ctx->table_flags ? ctx->table_flags : _PAGE_TABLE;
    f = (f | PTE_P) & storable_prot_(ctx, m, level) & ~(PTE_PS | PTE_PAT_LARGE);
    return f;
}

int pg_entry_encode(const struct pg_ctx *ctx, int level, bool leaf, phys_addr_t addr,
                    uint64_t prot, uint64_t *out)
{
    const struct pg_mode_desc *m = pg_mode_get(ctx->levels);
    if (!m || level < 1 || level > (int)m->levels)
        return -PG_EINVAL;
    if (prot & PTE_PFN_MASK & ~PTE_PAT_LARGE)
        return -PG_EINVAL;
    if (leaf && level > 1 && !large_leaf_creatable_(ctx, m, level))
        return -PG_EINVAL;
    uint64_t size = leaf ? 1ULL << m->level[level].shift : PAGE_SIZE;
    if (addr & (size - 1))
        return -PG_EALIGN;
    unsigned pbits = phys_bits_(ctx);
    if (m->levels == PG_MODE_32BIT) {
        bool big = leaf && level == 2 && !(ctx->disabled & PG_NO_PSE36);
        pbits = big ? (pbits > 40 ? 40 : pbits) : 32;
    }
    if (addr + size - 1 >= (1ULL << pbits))
        return -PG_ERANGE;
    if (leaf) {
        *out = make_leaf_(ctx, m, level, addr, prot);
    } else {
        prot &= storable_prot_(ctx, m, level) & ~(PTE_PS | PTE_PAT_LARGE);
        *out = addr | prot;
    }
    return 0;
}

uint64_t pg_entry_reserved(const struct pg_ctx *ctx, int level, uint64_t raw)
{
    const struct pg_mode_desc *m = pg_mode_get(ctx->levels);
    if (!m || level < 1 || level > (int)m->levels || !(raw & PTE_P))
        return 0;
    unsigned M = phys_bits_(ctx);
    bool no_nx = (ctx->disabled & PG_NO_NX) != 0;
    bool ps = (raw & PTE_PS) != 0;
    uint64_t r = 0;

    switch (m->level[level].rsvd) {
    case PG_RSVD_32_PD:
        if (ps && !(ctx->disabled & PG_NO_PSE)) {
            if (ctx->disabled & PG_NO_PSE36) {
                r |= bits_(21, 13);
            } else {
                unsigned mp = M > 40 ? 40 : M;
                r |= bits_(21, mp - 19);
            }
            if (ctx->disabled & PG_NO_PAT)
                r |= PTE_PAT_LARGE;
        }
        break;
    case PG_RSVD_32_PT:
        if (ctx->disabled & PG_NO_PAT)
            r |= PTE_PAT;
        break;
    case PG_RSVD_PAE_PDPTE:
        r |= bits_(2, 1) | bits_(8, 5) | bits_(63, M);
        break;
    case PG_RSVD_PAE:
        r |= bits_(62, M);
        if (no_nx)
            r |= PTE_NX;
        if (level == 2 && ps)
            r |= bits_(20, 13);
        break;
    case PG_RSVD_LM_TOP:
        r |= bits_(51, M) | PTE_PS;
        if (no_nx)
            r |= PTE_NX;
        break;
    case PG_RSVD_LM:
        r |= bits_(51, M);
        if (no_nx)
            r |= PTE_NX;
        if (level == 3 && ps)
            r |= (ctx->disabled & PG_NO_1G) ? PTE_PS : bits_(29, 13);
        else if (level == 2 && ps)
            r |= bits_(20, 13);
        break;
    }
    return raw & r;
}

int pg_entry_read(const struct pg_ctx *ctx, phys_addr_t table_pa, int level, unsigned index,
                  uint64_t *raw)
{
    const struct pg_level_desc *d = level_desc_(ctx->levels, level);
    if (!d || index >= (1u << d->index_bits))
        return -PG_EINVAL;
    const void *t = ctx->phys_to_virt(ctx->arg, table_pa);
    if (!t)
        return -PG_EIO;
    *raw = load_entry_(t, d->entry_size, index);
    return 0;
}

int pg_entry_write(const struct pg_ctx *ctx, phys_addr_t table_pa, int level, unsigned index,
                   uint64_t raw)
{
    const struct pg_level_desc *d = level_desc_(ctx->levels, level);
    if (!d || index >= (1u << d->index_bits))
        return -PG_EINVAL;
    void *t = ctx->phys_to_virt(ctx->arg, table_pa);
    if (!t)
        return -PG_EIO;
    store_entry_(t, d->entry_size, index, raw);
    return 0;
}
