/*
 * walk.c: translating one virtual address: the recording walk (pg_walk),
 * the fast path (pg_translate) and entry lookup (pg_entry_lookup).
 *
 * One level-generic loop (pg_walk_levels) driven by the mode's level
 * descriptors; every outcome (not present, reserved bits, non-canonical,
 * unreadable table) is returned as data. The MMU model (mmu.c) reuses the
 * loop below its PAE PDPTE registers.
 * Depends on: paging.h, pg_internal.h.
 */
#include "pg_internal.h"

/* Is va a linear address the mode can translate? */
static bool va_ok_(const struct pg_mode_desc *m, virt_addr_t va)
{
    if (!m->canonical)
        return (va >> 32) == 0;
    return canon_(m, linear_(m, va)) == va;
}

void pg_walk_begin(struct pg_walk *w, virt_addr_t va)
{
    memset(w, 0, sizeof(*w));
    w->va = va;
    w->writable = true;
    w->user = true;
}

int pg_walk_levels(const struct pg_ctx *ctx, phys_addr_t table, int top, struct pg_walk *w)
{
    const struct pg_mode_desc *m = ctx_mode_(ctx);
    if (!m || top < 1 || top > (int)m->levels || w->nsteps + (unsigned)top > PG_MAX_LEVELS)
        return w->status = -PG_EINVAL;

    bool nx_on = nx_enabled_(ctx, m);
    uint64_t lin = linear_(m, w->va);

    for (int level = top; level >= 1; level--) {
        const struct pg_level_desc *d = &m->level[level];
        unsigned index = (unsigned)(lin >> d->shift) & ((1u << d->index_bits) - 1);
        const void *t = ctx->phys_to_virt(ctx->arg, table);
        if (!t) {
            w->fault_level = level;
            return w->status = -PG_EIO;
        }
        uint64_t e = load_entry_(t, d->entry_size, index);
        struct pg_walk_step *s = &w->step[w->nsteps++];
        s->level = level;
        s->table_pa = table;
        s->index = index;
        s->entry_pa = table + (uint64_t)index * d->entry_size;
        s->entry = e;
        pg_entry_decode(ctx, level, e, &s->dec);

        if (!s->dec.present) {
            w->fault_level = level;
            return w->status = -PG_ENOTMAPPED;
        }
        uint64_t rsvd = pg_entry_reserved(ctx, level, e);
        if (rsvd) {
            w->fault_level = level;
            w->rsvd_bits = rsvd;
            return w->status = -PG_ERSVD;
        }
        /* PAE PDPTEs take no part in access rights. */
        if (!(m->levels == PG_MODE_PAE && level == 3)) {
            w->writable = w->writable && (e & PTE_W);
            w->user = w->user && (e & PTE_U);
            if (nx_on && (e & PTE_NX))
                w->nx = true;
        }
        if (s->dec.leaf) {
            w->leaf_level = level;
            w->page_size = s->dec.page_size;
            w->pa = s->dec.addr + (lin & (s->dec.page_size - 1));
            w->leaf_prot = s->dec.prot;
            return w->status = 0;
        }
        table = s->dec.addr;
    }
    return w->status = -PG_EINVAL;  /* not reached: level 1 entries are leaves */
}

int pg_walk(const struct pg_ctx *ctx, phys_addr_t root, virt_addr_t va, struct pg_walk *w)
{
    pg_walk_begin(w, va);
    const struct pg_mode_desc *m = ctx_mode_(ctx);
    if (!m)
        return w->status = -PG_EINVAL;
    if (!va_ok_(m, va))
        return w->status = -PG_ERANGE;
    pg_walk_levels(ctx, root, (int)m->levels, w);
    if (w->status != 0)
        w->writable = w->user = w->nx = false;  /* rights are only reported for a mapping */
    return w->status;
}

int pg_translate(const struct pg_ctx *ctx, phys_addr_t root, virt_addr_t va,
                 phys_addr_t *pa, uint64_t *prot, int *level_out)
{
    const struct pg_mode_desc *m = ctx_mode_(ctx);
    if (!m)
        return -PG_EINVAL;
    if (!va_ok_(m, va))
        return -PG_ERANGE;

    uint64_t lin = linear_(m, va);
    uint64_t rights = PTE_W | PTE_U;    /* ANDed */
    uint64_t nx = 0;                    /* ORed */
    uint64_t nx_mask = nx_enabled_(ctx, m) ? PTE_NX : 0;
    bool pae = m->levels == PG_MODE_PAE;
    bool m32 = m->levels == PG_MODE_32BIT;
    bool pse = !(ctx->disabled & PG_NO_PSE);
    phys_addr_t table = root;

    for (int level = (int)m->levels; level >= 1; level--) {
        const struct pg_level_desc *d = &m->level[level];
        unsigned index = (unsigned)(lin >> d->shift) & ((1u << d->index_bits) - 1);
        const void *t = ctx->phys_to_virt(ctx->arg, table);
        if (!t)
            return -PG_EIO;
        uint64_t e = m32 ? ((const uint32_t *)t)[index] : ((const uint64_t *)t)[index];
        if (!(e & PTE_P))
            return -PG_ENOTMAPPED;
        if (!(pae && level == 3)) {
            rights &= e;
            nx |= e & nx_mask;
        }
        bool leaf = level == 1 || ((e & PTE_PS) && d->large_ok && (pse || !m32));
        if (leaf) {
            uint64_t frame = entry_addr_(ctx, m, level, e, true);
            if (pa)
                *pa = frame + (lin & ((1ULL << d->shift) - 1));
            if (prot)
                *prot = (entry_prot_(m, level, e, true) & ~(PTE_W | PTE_U | PTE_NX)) | rights | nx;
            if (level_out)
                *level_out = level;
            return 0;
        }
        table = m32 ? (e & 0xFFFFF000ULL) : (e & PTE_PFN_MASK);
    }
    return -PG_EINVAL;
}

int pg_entry_lookup(const struct pg_ctx *ctx, phys_addr_t root, virt_addr_t va, int level,
                    phys_addr_t *entry_pa)
{
    const struct pg_mode_desc *m = ctx_mode_(ctx);
    if (!m || level < 1 || level > (int)m->levels)
        return -PG_EINVAL;
    if (!va_ok_(m, va))
        return -PG_ERANGE;
    uint64_t lin = linear_(m, va);
    phys_addr_t table = root;
    for (int l = (int)m->levels; l >= level; l--) {
        const struct pg_level_desc *d = &m->level[l];
        unsigned index = (unsigned)(lin >> d->shift) & ((1u << d->index_bits) - 1);
        const void *t = ctx->phys_to_virt(ctx->arg, table);
        if (!t)
            return -PG_EIO;
        phys_addr_t epa = table + (uint64_t)index * d->entry_size;
        if (l == level) {
            *entry_pa = epa;
            return 0;
        }
        uint64_t e = load_entry_(t, d->entry_size, index);
        if (!(e & PTE_P))
            return -PG_ENOTMAPPED;
        struct pg_entry dec;
        pg_entry_decode(ctx, l, e, &dec);
        if (dec.leaf) {
            *entry_pa = epa;
            return -PG_EHUGE;
        }
        table = dec.addr;
    }
    return -PG_EINVAL;
}
