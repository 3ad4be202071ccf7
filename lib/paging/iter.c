/*
 * iter.c: visiting every mapping of a page-table tree in VA order.
 *
 * One recursive, level-generic traversal reports elementary ranges (one
 * entry each) to a merger that joins VA-contiguous neighbours under the
 * chosen policy and hands finished ranges to the caller's callback.
 * Graph safety: a pointer to a table on the current path (a recursive slot)
 * is a cycle; with a caller-supplied memo a counting pass first finds tables
 * referenced more than once (shared), which are then reported instead of
 * expanded unless asked. Unreadable tables are reported, never read.
 * pg_count_expanded counts what a fully expanded walk would report, each
 * table once.
 * Depends on: paging.h, pg_internal.h.
 */
#include "pg_internal.h"

#define MEMO_EXPANDED_ 1u

struct it_ {
    const struct pg_ctx *ctx;
    const struct pg_mode_desc *m;
    enum pg_merge merge;
    unsigned flags;
    pg_range_fn fn;
    void *arg;
    uint64_t nx_mask;
    uint64_t half;              /* linear start of the upper canonical half (0: none) */
    /* pending range */
    bool have;
    struct pg_range pend;
    uint64_t pend_lin;          /* linear start of pend */
    uint64_t pend_lin_end;
    uint64_t pend_raw;          /* raw flags of pend (RAW merge) */
    /* graph */
    phys_addr_t path[PG_MAX_LEVELS + 2];
    struct pg_memo_slot *memo;
    size_t memo_slots;
    size_t memo_used;
};

/* ---- memo: open addressing on (table PA, level) ---- */

static struct pg_memo_slot *memo_find_(struct it_ *it, phys_addr_t pa, int level, bool insert)
{
    uint64_t key = (pa << 3) | (uint64_t)level;
    size_t n = it->memo_slots;
    size_t i = (size_t)((key * 0x9E3779B97F4A7C15ULL) >> 32) % n;
    for (;;) {
        struct pg_memo_slot *s = &it->memo[i];
        if (s->key == key)
            return s;
        if (s->key == 0) {
            if (!insert || it->memo_used + 1 >= n)
                return NULL;
            it->memo_used++;
            s->key = key;
            s->refs = 0;
            s->state = 0;
            return s;
        }
        if (++i == n)
            i = 0;
    }
}

static bool on_path_(const struct it_ *it, int level, phys_addr_t pa)
{
    for (int l = level; l <= (int)it->m->levels; l++)
        if (it->path[l] == pa)
            return true;
    return false;
}

static int count_(struct it_ *it, int level, phys_addr_t table, const void *t);

/* Counting pass, one entry: a reference to the table `child` below `level`. */
static int count_child_(void *arg, int level, unsigned index, uint64_t e, bool leaf,
                        phys_addr_t child)
{
    struct it_ *it = arg;
    (void)index;
    (void)e;
    if (leaf || on_path_(it, level, child))
        return 0;
    struct pg_memo_slot *s = memo_find_(it, child, level - 1, true);
    if (!s)
        return -PG_ENOSPC;
    if (++s->refs > 1 || level - 1 == 1)
        return 0;
    const void *ct = it->ctx->phys_to_virt(it->ctx->arg, child);
    return ct ? count_(it, level - 1, child, ct) : 0;
}

/* Counting pass: references to every table from tables at `level` and below. */
static int count_(struct it_ *it, int level, phys_addr_t table, const void *t)
{
    it->path[level] = table;
    int r = each_present_(it->ctx, it->m, level, t, count_child_, it);
    it->path[level] = 0;
    return r;
}

/* ---- merger ---- */

static int flush_pending_(struct it_ *it)
{
    if (!it->have)
        return 0;
    it->have = false;
    return it->fn(it->arg, &it->pend);
}

static inline bool mergeable_(const struct it_ *it, uint64_t lin, enum pg_range_kind kind, int level,
                              uint64_t raw_flags, uint64_t eff, phys_addr_t pa)
{
    const struct pg_range *p = &it->pend;
    if (!it->have || it->merge == PG_MERGE_NONE || it->pend_lin_end != lin || p->kind != kind ||
        lin == it->half)
        return false;
    switch (kind) {
    case PG_RANGE_MAPPED:
        if ((it->flags & PG_ITER_PHYS_CONTIG) && p->pa + p->size != pa)
            return false;
        /* fall through */
    case PG_RANGE_HOLE:
        if (p->eff != eff)
            return false;
        if (it->merge == PG_MERGE_RAW && (p->level != level || it->pend_raw != raw_flags))
            return false;
        return true;
    default:
        return p->pa == pa && p->level == level;
    }
}

/* Add `size` bytes of entries to the pending range. */
static inline void extend_(struct it_ *it, uint64_t size)
{
    it->pend.size += size;
    it->pend.count++;
    it->pend_lin_end += size;
}

static inline int emit_(struct it_ *it, uint64_t lin, uint64_t size, enum pg_range_kind kind, int level,
                        uint64_t e, bool leaf, phys_addr_t pa, uint64_t eff, unsigned refs)
{
    uint64_t raw_flags = entry_flags_(it->m, e);
    if (leaf && level > 1)
        raw_flags |= e & PTE_PAT_LARGE;
    if (mergeable_(it, lin, kind, level, raw_flags, eff, pa)) {
        extend_(it, size);
        return 0;
    }
    int r = flush_pending_(it);
    if (r)
        return r;
    struct pg_range *p = &it->pend;
    p->start = canon_(it->m, lin);
    p->size = size;
    p->kind = kind;
    p->level = level;
    p->entry = e;
    p->prot = entry_prot_(it->m, level, e, leaf);
    p->pa = pa;
    p->page_size = 1ULL << it->m->level[level].shift;
    p->eff = eff;
    p->count = 1;
    p->refs = refs;
    it->pend_lin = lin;
    it->pend_lin_end = lin + size;
    it->pend_raw = raw_flags;
    it->have = true;
    return 0;
}

/* Effective rights after entry e of level d (P from e), given the rights above it. */
static inline uint64_t eff_after_(const struct pg_level_desc *d, uint64_t nx_mask, uint64_t peff,
                                  uint64_t e)
{
    return (e & PTE_P) | rights_after_(d, peff, e, nx_mask);
}

/* ---- traversal ---- */

/* A non-present entry e of `level` covering linear [lin, lin + size). */
static inline int visit_hole_(struct it_ *it, uint64_t lin, uint64_t size, int level, uint64_t e,
                              uint64_t peff)
{
    if (!(it->flags & PG_ITER_HOLES))
        return 0;
    uint64_t eff = e ? eff_after_(&it->m->level[level], it->nx_mask, peff, e) : 0;
    return emit_(it, lin, size, PG_RANGE_HOLE, level, e, level == 1, 0, eff, 0);
}

/* The hot loop: the 4 KiB leaves of the PT t covering linear [lo, hi). */
static int visit_ptes_(struct it_ *it, const void *t, uint64_t base, uint64_t lo, uint64_t hi,
                       uint64_t peff)
{
    /* Local copies: the stores to it->pend below cannot alias them. */
    const struct pg_level_desc d = it->m->level[1];
    const uint64_t fmask = flags_mask_(it->m), amask = pfn_mask_(it->m), nx_mask = it->nx_mask;
    const bool fast = it->merge != PG_MERGE_NONE;
    const bool phys = (it->flags & PG_ITER_PHYS_CONTIG) != 0;
    unsigned last = level_index_(&d, hi - 1);
    int r;

    for (unsigned i = level_index_(&d, lo); i <= last; i++) {
        uint64_t e = load_entry_(t, d.entry_size, i);
        uint64_t lin = base + ((uint64_t)i << PAGE_SHIFT);
        if (!(e & PTE_P)) {
            r = visit_hole_(it, lin, PAGE_SIZE, 1, e, peff);
            if (r)
                return r;
            continue;
        }
        uint64_t eff = eff_after_(&d, nx_mask, peff, e);
        phys_addr_t pa = e & amask;
        /* Fast path: extend the pending range by a leaf equal in raw flags and
         * rights (mergeable under every policy); anything else goes to emit_. */
        if (fast && it->have && it->pend_lin_end == lin && it->pend.kind == PG_RANGE_MAPPED &&
            it->pend.level == 1 && it->pend_raw == (e & fmask) && lin != it->half &&
            it->pend.eff == eff && (!phys || it->pend.pa + it->pend.size == pa)) {
            extend_(it, PAGE_SIZE);
            continue;
        }
        r = emit_(it, lin, PAGE_SIZE, PG_RANGE_MAPPED, 1, e, true, pa, eff, 0);
        if (r)
            return r;
    }
    return 0;
}

static int visit_(struct it_ *it, int level, phys_addr_t table, const void *t, uint64_t base,
                  uint64_t lo, uint64_t hi, uint64_t peff);

/*
 * The table pointer e of `level` (entry at linear ebase, visited over [lo, hi),
 * rights eff after it): a cycle, a shared table, an unreadable one, or the
 * table's own entries.
 */
static int visit_child_(struct it_ *it, int level, uint64_t e, uint64_t ebase, uint64_t lo,
                        uint64_t hi, uint64_t eff)
{
    phys_addr_t child = pfn_addr_(it->m, e);
    if (!(it->flags & PG_ITER_EXPAND_CYCLES) && on_path_(it, level, child))
        return emit_(it, lo, hi - lo, PG_RANGE_CYCLE, level - 1, e, false, child, eff, 0);
    if (it->memo) {
        struct pg_memo_slot *ms = memo_find_(it, child, level - 1, false);
        if (ms && ms->refs > 1 && !(it->flags & PG_ITER_EXPAND_SHARED)) {
            bool first = (it->flags & PG_ITER_EXPAND_FIRST) && !(ms->state & MEMO_EXPANDED_);
            if (!first)
                return emit_(it, lo, hi - lo, PG_RANGE_SHARED, level - 1, e, false, child, eff,
                             ms->refs);
            ms->state |= MEMO_EXPANDED_;
        }
    }
    const void *ct = it->ctx->phys_to_virt(it->ctx->arg, child);
    if (!ct)
        return emit_(it, lo, hi - lo, PG_RANGE_UNREADABLE, level - 1, e, false, child, eff, 0);
    return visit_(it, level - 1, child, ct, ebase, lo, hi, eff);
}

/* Visit the entries of the table t at `level` (linear base `base`) that cover [lo, hi). */
static int visit_(struct it_ *it, int level, phys_addr_t table, const void *t, uint64_t base,
                  uint64_t lo, uint64_t hi, uint64_t peff)
{
    if (level == 1)
        return visit_ptes_(it, t, base, lo, hi, peff);
    const struct pg_mode_desc *m = it->m;
    const struct pg_level_desc *d = &m->level[level];
    uint64_t size = 1ULL << d->shift;
    unsigned last = level_index_(d, hi - 1);
    int r;

    it->path[level] = table;
    for (unsigned i = level_index_(d, lo); i <= last; i++) {
        uint64_t e = load_entry_(t, d->entry_size, i);
        uint64_t ebase = base + ((uint64_t)i << d->shift);
        uint64_t s = ebase > lo ? ebase : lo;
        uint64_t en = ebase + size < hi ? ebase + size : hi;
        if (!(e & PTE_P))
            r = visit_hole_(it, s, en - s, level, e, peff);
        else if (entry_leaf_(it->ctx, m, level, e))
            r = emit_(it, s, en - s, PG_RANGE_MAPPED, level, e, true,
                      entry_addr_(it->ctx, m, level, e, true) + (s - ebase),
                      eff_after_(d, it->nx_mask, peff, e), 0);
        else
            r = visit_child_(it, level, e, ebase, s, en, eff_after_(d, it->nx_mask, peff, e));
        if (r)
            return r;
    }
    it->path[level] = 0;
    return 0;
}

/* The linear range [*ls, *le) that opts' VA range covers. returns: 0; -1 (bad range). */
static int iter_span_(const struct pg_mode_desc *m, const struct pg_iter_opts *opts,
                      uint64_t *ls, uint64_t *le)
{
    if (opts->start == 0 && opts->end == 0) {
        *ls = 0;
        *le = 1ULL << m->va_bits;
        return 0;
    }
    virt_addr_t last = opts->end - 1;
    if (!m->canonical && opts->end == 0)
        last = 0xFFFFFFFFULL;
    if (!pg_is_canonical(m->levels, opts->start) || !pg_is_canonical(m->levels, last))
        return -1;
    *ls = linear_(m, opts->start);
    *le = linear_(m, last) + 1;
    return *le <= *ls ? -1 : 0;
}

int pg_iterate(const struct pg_ctx *ctx, phys_addr_t root, const struct pg_iter_opts *opts,
               pg_range_fn fn, void *arg)
{
    const struct pg_mode_desc *m = ctx_mode_(ctx);
    if (!m || !fn)
        return -PG_EINVAL;
    struct pg_iter_opts def = { .merge = PG_MERGE_RAW };
    if (!opts)
        opts = &def;

    uint64_t top = 1ULL << m->va_bits, ls, le;
    if (iter_span_(m, opts, &ls, &le))
        return -PG_ERANGE;
    struct it_ it = {
        .ctx = ctx, .m = m, .merge = opts->merge, .flags = opts->flags, .fn = fn, .arg = arg,
        .nx_mask = nx_mask_(ctx, m),
        .half = m->canonical ? top >> 1 : 0,
        .memo = opts->memo, .memo_slots = opts->memo_slots,
    };
    if (it.memo && it.memo_slots < 2)
        return -PG_ENOSPC;

    const void *t = ctx->phys_to_virt(ctx->arg, root);
    if (!t)
        return -PG_EIO;
    if (it.memo) {
        memset(it.memo, 0, it.memo_slots * sizeof(*it.memo));
        struct pg_memo_slot *s = memo_find_(&it, root, (int)m->levels, true);
        s->refs = 1;
        int r = count_(&it, (int)m->levels, root, t);
        if (r)
            return r;
        memset(it.path, 0, sizeof(it.path));
    }
    int r = visit_(&it, (int)m->levels, root, t, 0, ls, le, PTE_W | PTE_U);
    if (r)
        return r;
    return flush_pending_(&it);
}

int pg_count_tables(const struct pg_ctx *ctx, phys_addr_t root, struct pg_memo_slot *memo,
                    size_t memo_slots, uint64_t counts[PG_MAX_LEVELS + 1])
{
    const struct pg_mode_desc *m = ctx_mode_(ctx);
    if (!m || !memo || !counts)
        return -PG_EINVAL;
    if (memo_slots < 2)
        return -PG_ENOSPC;
    const void *t = ctx->phys_to_virt(ctx->arg, root);
    if (!t)
        return -PG_EIO;
    struct it_ it = { .ctx = ctx, .m = m, .memo = memo, .memo_slots = memo_slots };
    memset(memo, 0, memo_slots * sizeof(*memo));
    memo_find_(&it, root, (int)m->levels, true)->refs = 1;
    int r = count_(&it, (int)m->levels, root, t);
    if (r)
        return r;
    for (int l = 0; l <= PG_MAX_LEVELS; l++)
        counts[l] = 0;
    for (size_t i = 0; i < memo_slots; i++)
        if (memo[i].key)
            counts[memo[i].key & 7]++;
    return 0;
}

/* ---- counting the expanded walk ---- */

/*
 * The number of entries of the table t (at `level`, PA table, linear base
 * `base`) and of the tables below it, every reference expanded, over [lo, hi),
 * capped at cap, into *n. A whole table's count is the same wherever it is
 * referenced (cycles are followed, bounded by depth): it is kept in the memo
 * slot's state (+1; 0 = not yet known). A PT's count needs no reading.
 */
static int count_expanded_(struct it_ *it, int level, phys_addr_t table, const void *t,
                           uint64_t base, uint64_t lo, uint64_t hi, uint64_t cap, uint64_t *n)
{
    const struct pg_level_desc *d = &it->m->level[level];
    unsigned first = level_index_(d, lo), last = level_index_(d, hi - 1);
    if (level == 1) {
        *n = last - first + 1;
        return 0;
    }
    struct pg_memo_slot *ms = NULL;
    if (lo == base && hi - lo == (1ULL << d->shift) << d->index_bits) {
        ms = memo_find_(it, table, level, true);
        if (!ms)
            return -PG_ENOSPC;
        if (ms->state) {
            *n = ms->state - 1;
            return 0;
        }
    }
    uint64_t sum = 0, size = 1ULL << d->shift;
    for (unsigned i = first; i <= last && sum < cap; i++) {
        uint64_t e = load_entry_(t, d->entry_size, i), c = 1;
        if ((e & PTE_P) && !entry_leaf_(it->ctx, it->m, level, e)) {
            phys_addr_t child = pfn_addr_(it->m, e);
            const void *ct = it->ctx->phys_to_virt(it->ctx->arg, child);
            uint64_t ebase = base + ((uint64_t)i << d->shift);
            uint64_t s = ebase > lo ? ebase : lo, en = ebase + size < hi ? ebase + size : hi;
            int r = ct ? count_expanded_(it, level - 1, child, ct, ebase, s, en, cap, &c) : 0;
            if (r)
                return r;
        }
        sum = c < cap - sum ? sum + c : cap;
    }
    if (ms && sum < UINT32_MAX)
        ms->state = (uint32_t)sum + 1;
    *n = sum;
    return 0;
}

int pg_count_expanded(const struct pg_ctx *ctx, phys_addr_t root, const struct pg_iter_opts *opts,
                      uint64_t cap, uint64_t *n)
{
    const struct pg_mode_desc *m = ctx_mode_(ctx);
    if (!m || !opts || !n || !opts->memo)
        return -PG_EINVAL;
    *n = 0;
    if (opts->memo_slots < 2)
        return -PG_ENOSPC;
    uint64_t ls, le;
    if (iter_span_(m, opts, &ls, &le))
        return -PG_ERANGE;
    const void *t = ctx->phys_to_virt(ctx->arg, root);
    if (!t)
        return -PG_EIO;
    struct it_ it = { .ctx = ctx, .m = m, .memo = opts->memo, .memo_slots = opts->memo_slots };
    memset(opts->memo, 0, opts->memo_slots * sizeof(*opts->memo));
    return count_expanded_(&it, (int)m->levels, root, t, 0, ls, le, cap, n);
}
