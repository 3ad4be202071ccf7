/*
 * walk.c: translating one virtual address: the recording walk (pg_walk),
 * the fast path (pg_translate) and entry lookup (pg_entry_lookup); and the
 * child visitor (each_present_) of the subtree recursions of map.c and
 * iter.c.
 *
 * All three descents are the per-level step of pg_internal.h (step_read_,
 * step_enter_) with their own checks in between; every outcome (not
 * present, reserved bits, non-canonical, unreadable table) is returned as
 * data. The MMU model (mmu.c) reuses pg_walk_levels below its PAE PDPTE
 * registers.
 * Depends on: paging.h, pg_internal.h.
 */
#include "pg_internal.h"

void pg_walk_begin(struct pg_walk *w, virt_addr_t va)
{
    memset(w, 0, sizeof(*w));
    w->va = va;
    w->writable = true;
    w->user = true;
}

/* The walk's rights as PTE_W | PTE_U | PTE_NX bits, and back. */
static uint64_t walk_rights_(const struct pg_walk *w)
{
    return (w->writable ? PTE_W : 0) | (w->user ? PTE_U : 0) | (w->nx ? PTE_NX : 0);
}

static void set_walk_rights_(struct pg_walk *w, uint64_t rights)
{
    w->writable = (rights & PTE_W) != 0;
    w->user = (rights & PTE_U) != 0;
    w->nx = (rights & PTE_NX) != 0;
}

/* One recorded level: the step's entry decoded, its outcome (0: go on or leaf). */
static int walk_record_(const struct step_ *s, struct pg_walk *w)
{
    struct pg_walk_step *rec = &w->step[w->nsteps++];
    rec->level = s->level;
    rec->table_pa = s->table;
    rec->entry_pa = step_entry_pa_(s);
    rec->index = s->index;
    rec->entry = s->e;
    pg_entry_decode(s->ctx, s->level, s->e, &rec->dec);
    if (!rec->dec.present)
        return -PG_ENOTMAPPED;
    uint64_t rsvd = pg_entry_reserved(s->ctx, s->level, s->e);
    if (!rsvd)
        return 0;
    w->rsvd_bits = rsvd;
    return -PG_ERSVD;
}

int pg_walk_levels(const struct pg_ctx *ctx, phys_addr_t table, int top, struct pg_walk *w)
{
    const struct pg_mode_desc *m = ctx_mode_(ctx);
    if (!m || top < 1 || top > (int)m->levels || w->nsteps + (unsigned)top > PG_MAX_LEVELS)
        return w->status = -PG_EINVAL;

    struct step_ s;
    step_begin_(&s, ctx, m, w->va, top, table, walk_rights_(w));
    int status;
    for (;;) {
        status = step_read_(&s);
        if (!status)
            status = walk_record_(&s, w);
        if (status) {
            w->fault_level = s.level;
            break;
        }
        if (step_enter_(&s)) {
            const struct pg_entry *leaf = &w->step[w->nsteps - 1].dec;
            w->leaf_level = s.level;
            w->page_size = leaf->page_size;
            w->pa = leaf->addr + (s.lin & (leaf->page_size - 1));
            w->leaf_prot = leaf->prot;
            break;
        }
    }
    set_walk_rights_(w, s.rights);
    return w->status = status;
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

    struct step_ s;
    step_begin_(&s, ctx, m, va, (int)m->levels, root, PTE_W | PTE_U);
    do {
        if (step_read_(&s))
            return -PG_EIO;
        if (!(s.e & PTE_P))
            return -PG_ENOTMAPPED;
    } while (!step_enter_(&s));

    if (pa)
        *pa = entry_addr_(ctx, m, s.level, s.e, true) +
              (s.lin & ((1ULL << m->level[s.level].shift) - 1));
    if (prot)
        *prot = (entry_prot_(m, s.level, s.e, true) & ~(PTE_W | PTE_U | PTE_NX)) | s.rights;
    if (level_out)
        *level_out = s.level;
    return 0;
}

int pg_entry_lookup(const struct pg_ctx *ctx, phys_addr_t root, virt_addr_t va, int level,
                    phys_addr_t *entry_pa)
{
    const struct pg_mode_desc *m = ctx_mode_(ctx);
    if (!m || level < 1 || level > (int)m->levels)
        return -PG_EINVAL;
    if (!va_ok_(m, va))
        return -PG_ERANGE;

    struct step_ s;
    step_begin_(&s, ctx, m, va, (int)m->levels, root, 0);
    for (;;) {
        if (step_read_(&s))
            return -PG_EIO;
        if (s.level == level) {
            *entry_pa = step_entry_pa_(&s);
            return 0;
        }
        if (!(s.e & PTE_P))
            return -PG_ENOTMAPPED;
        if (step_enter_(&s)) {
            *entry_pa = step_entry_pa_(&s);     /* the large leaf's entry */
            return -PG_EHUGE;
        }
    }
}

int each_present_(const struct pg_ctx *ctx, const struct pg_mode_desc *m, int level,
                  const void *t, entry_fn_ fn, void *arg)
{
    const struct pg_level_desc *d = &m->level[level];
    for (unsigned i = 0; i < (1u << d->index_bits); i++) {
        uint64_t e = load_entry_(t, d->entry_size, i);
        if (!(e & PTE_P))
            continue;
        bool leaf = entry_leaf_(ctx, m, level, e);
        int r = fn(arg, level, i, e, leaf, entry_addr_(ctx, m, level, e, leaf));
        if (r)
            return r;
    }
    return 0;
}
