/*
 * map.c: map, unmap and protect over half-open VA ranges; split_mem_range.
 *
 * Every operation runs twice over the same level-generic recursion:
 *   1. a dry run that changes nothing, checks every precondition
 *      (EEXIST, ENOTMAPPED, EHUGE, EIO) and counts the table pages the
 *      operation will need (new tables and large-page splits);
 *   2. those pages are allocated up front (chained through their own first
 *      8 bytes, so no memory of our own is needed), and only then the real
 *      run writes entries, taking pages from that pool.
 * So a failure of any kind leaves the tables exactly as they were.
 * In the dry run, tables that do not exist yet are "views": an empty table,
 * or the table a large page would be split into.
 *
 * Page-size choice per entry: a leaf is written at the highest level whose
 * entry is fully inside the range, allowed by the size mask, with VA and PA
 * aligned to its size; this is Linux's split_mem_range result.
 * Depends on: paging.h, pg_internal.h.
 */
#include "pg_internal.h"

enum op_kind_ { OP_MAP, OP_UNMAP, OP_PROTECT };
enum view_kind_ { VIEW_REAL, VIEW_EMPTY, VIEW_SPLIT };

struct op_ {
    const struct pg_ctx *ctx;
    const struct pg_mode_desc *m;
    enum op_kind_ kind;
    unsigned flags;         /* PG_MAP_* */
    unsigned size_mask;     /* OP_MAP: allowed leaf levels */
    uint64_t pa_delta;      /* OP_MAP: pa = linear va + pa_delta (mod 2^64) */
    uint64_t prot;          /* OP_MAP: canonical protection */
    uint64_t set, clear;    /* OP_PROTECT */
    bool dry;
    uint64_t need;          /* dry run: table pages needed */
    phys_addr_t pool;       /* real run: preallocated frames, linked through word 0 */
    uint64_t pool_count;
    phys_addr_t root;
    struct pg_flush *flush;
};

/* A table as the recursion sees it. */
struct view_ {
    enum view_kind_ kind;
    phys_addr_t pa;         /* VIEW_REAL */
    void *mem;              /* VIEW_REAL */
    phys_addr_t split_base; /* VIEW_SPLIT: entry i maps split_base + i * size */
    uint64_t split_prot;
};

static uint64_t view_read_(const struct op_ *op, const struct view_ *v, int level, unsigned i)
{
    const struct pg_level_desc *d = &op->m->level[level];
    switch (v->kind) {
    case VIEW_REAL:
        return load_entry_(v->mem, d->entry_size, i);
    case VIEW_SPLIT:
        return make_leaf_(op->ctx, op->m, level, v->split_base + ((uint64_t)i << d->shift),
                          v->split_prot);
    default:
        return 0;
    }
}

/* ---- TLB flush accumulator ---- */

void pg_flush_init(struct pg_flush *f)
{
    f->start = 0;
    f->end = 0;
    f->pages = 0;
    f->tables_freed = false;
}

/* Record that translations of linear [lo, hi) changed. */
static void flush_add_(struct op_ *op, uint64_t lo, uint64_t hi)
{
    struct pg_flush *f = op->flush;
    if (!f || op->dry)
        return;
    virt_addr_t s = canon_(op->m, lo);
    virt_addr_t e = canon_(op->m, hi - 1) + 1;     /* 0 at the top */
    if (f->pages == 0) {
        f->start = s;
        f->end = e;
    } else {
        if (s < f->start)
            f->start = s;
        if (e - 1 > f->end - 1)
            f->end = e;
    }
    f->pages += (hi - lo) >> PAGE_SHIFT;
}

/* ---- Table frames ---- */

static int take_table_(struct op_ *op, phys_addr_t *pa)
{
    if (op->dry) {
        op->need++;
        return 0;
    }
    if (!op->pool_count)
        return -PG_ENOMEM;      /* the dry run under-counted: never expected */
    uint64_t *w = op->ctx->phys_to_virt(op->ctx->arg, op->pool);
    *pa = op->pool;
    op->pool = *w;
    *w = 0;
    op->pool_count--;
    return 0;
}

static void release_pool_(const struct pg_ctx *ctx, phys_addr_t pool, uint64_t count)
{
    while (count--) {
        uint64_t *w = ctx->phys_to_virt(ctx->arg, pool);
        phys_addr_t next = w ? *w : 0;
        if (w)
            *w = 0;
        if (ctx->free_table)
            ctx->free_table(ctx->arg, pool);
        pool = next;
    }
}

static int fill_pool_(struct op_ *op, uint64_t n)
{
    const struct pg_ctx *ctx = op->ctx;
    op->pool = 0;
    op->pool_count = 0;
    if (n && !ctx->alloc_table)
        return -PG_ENOMEM;
    for (uint64_t i = 0; i < n; i++) {
        phys_addr_t pa = 0;
        if (ctx->alloc_table(ctx->arg, &pa) < 0) {
            release_pool_(ctx, op->pool, op->pool_count);
            return -PG_ENOMEM;
        }
        uint64_t *w = ctx->phys_to_virt(ctx->arg, pa);
        if (!w) {
            if (ctx->free_table)
                ctx->free_table(ctx->arg, pa);
            release_pool_(ctx, op->pool, op->pool_count);
            return -PG_EIO;
        }
        *w = op->pool;
        op->pool = pa;
        op->pool_count++;
    }
    return 0;
}

/*
 * Free the table at table_pa (of `level`) and every table below it. Pointers
 * back to the root or to a table on the current path are not followed.
 */
static void free_subtree_(const struct op_ *op, int level, phys_addr_t table_pa,
                          phys_addr_t path[PG_MAX_LEVELS + 1])
{
    const struct pg_ctx *ctx = op->ctx;
    if (table_pa == op->root)
        return;
    for (int l = level + 1; l <= (int)op->m->levels; l++)
        if (path[l] == table_pa)
            return;
    void *t = ctx->phys_to_virt(ctx->arg, table_pa);
    if (t && level > 1) {
        const struct pg_level_desc *d = &op->m->level[level];
        path[level] = table_pa;
        for (unsigned i = 0; i < (1u << d->index_bits); i++) {
            uint64_t e = load_entry_(t, d->entry_size, i);
            if (!(e & PTE_P))
                continue;
            struct pg_entry dec;
            pg_entry_decode(ctx, level, e, &dec);
            if (!dec.leaf)
                free_subtree_(op, level - 1, dec.addr, path);
        }
        path[level] = 0;
    }
    if (ctx->free_table)
        ctx->free_table(ctx->arg, table_pa);
}

static bool table_empty_(const void *t, const struct pg_level_desc *d)
{
    unsigned n = 1u << d->index_bits;
    if (d->entry_size == 8) {
        const uint64_t *e = t;
        for (unsigned i = 0; i < n; i++)
            if (e[i])
                return false;
    } else {
        const uint32_t *e = t;
        for (unsigned i = 0; i < n; i++)
            if (e[i])
                return false;
    }
    return true;
}

/* 1 if no present leaf is reachable from the table, 0 if one is, <0 on error. */
static int subtree_unmapped_(const struct op_ *op, int level, phys_addr_t table_pa)
{
    const struct pg_ctx *ctx = op->ctx;
    const struct pg_level_desc *d = &op->m->level[level];
    const void *t = ctx->phys_to_virt(ctx->arg, table_pa);
    if (!t)
        return -PG_EIO;
    for (unsigned i = 0; i < (1u << d->index_bits); i++) {
        uint64_t e = load_entry_(t, d->entry_size, i);
        if (!(e & PTE_P))
            continue;
        struct pg_entry dec;
        pg_entry_decode(ctx, level, e, &dec);
        if (dec.leaf || table_pa == dec.addr)
            return 0;
        int r = subtree_unmapped_(op, level - 1, dec.addr);
        if (r <= 0)
            return r;
    }
    return 1;
}

static int op_table_(struct op_ *op, int level, struct view_ *v, uint64_t base,
                     uint64_t start, uint64_t end, phys_addr_t path[PG_MAX_LEVELS + 1]);

/*
 * Descend into the table below entry i (which covers linear [ebase, eend)),
 * creating it (empty or by splitting the large leaf e) when needed.
 */
static int descend_(struct op_ *op, int level, struct view_ *v, unsigned i, uint64_t e,
                    const struct pg_entry *dec, uint64_t ebase, uint64_t eend,
                    uint64_t lo, uint64_t hi, phys_addr_t path[PG_MAX_LEVELS + 1])
{
    const struct pg_ctx *ctx = op->ctx;
    const struct pg_mode_desc *m = op->m;
    const struct pg_level_desc *cd = &m->level[level - 1];
    struct view_ child = { .kind = VIEW_REAL };
    int r;

    if (dec->present && !dec->leaf) {
        child.pa = dec->addr;
        if (v->kind == VIEW_REAL) {
            child.mem = ctx->phys_to_virt(ctx->arg, child.pa);
            if (!child.mem)
                return -PG_EIO;
            if (child.pa == v->pa)  /* a self-reference: never descend into it */
                return -PG_EINVAL;
        } else {
            child.kind = VIEW_EMPTY;
        }
    } else {
        /* A new table: empty, or the split of a large leaf. */
        bool split = dec->present && dec->leaf;
        if (split && (op->flags & PG_MAP_NOSPLIT))
            return -PG_EHUGE;
        r = take_table_(op, &child.pa);
        if (r)
            return r;
        if (op->dry) {
            child.kind = split ? VIEW_SPLIT : VIEW_EMPTY;
            child.split_base = dec->addr;
            child.split_prot = dec->prot;
            /* Nothing below a new level-1 table can fail or need a table. */
            if (level - 1 == 1)
                return 0;
        } else {
            child.mem = ctx->phys_to_virt(ctx->arg, child.pa);
            if (split) {
                for (unsigned k = 0; k < (1u << cd->index_bits); k++)
                    store_entry_(child.mem, cd->entry_size, k,
                                 make_leaf_(ctx, m, level - 1,
                                            dec->addr + ((uint64_t)k << cd->shift), dec->prot));
                flush_add_(op, ebase, eend);    /* the page size changes */
            }
            store_entry_(v->mem, m->level[level].entry_size, i,
                         child.pa | table_entry_flags_(ctx, m, level));
        }
    }
    (void)e;
    if (v->kind == VIEW_REAL)
        path[level] = v->pa;
    r = op_table_(op, level - 1, &child, ebase, lo, hi, path);
    path[level] = 0;
    if (r)
        return r;

    /* Unmapping may have emptied the table: free it. */
    if (!op->dry && op->kind == OP_UNMAP && child.kind == VIEW_REAL && table_empty_(child.mem, cd)) {
        store_entry_(v->mem, m->level[level].entry_size, i, 0);
        if (ctx->free_table)
            ctx->free_table(ctx->arg, child.pa);
        /* The leaves that emptied it are in the flush range already; an
         * INVLPG there also drops the paging-structure caches. */
        if (op->flush)
            op->flush->tables_freed = true;
    }
    return 0;
}

static int op_table_(struct op_ *op, int level, struct view_ *v, uint64_t base,
                     uint64_t start, uint64_t end, phys_addr_t path[PG_MAX_LEVELS + 1])
{
    const struct pg_ctx *ctx = op->ctx;
    const struct pg_mode_desc *m = op->m;
    const struct pg_level_desc *d = &m->level[level];
    uint64_t size = 1ULL << d->shift;
    unsigned i = (unsigned)((start - base) >> d->shift);
    int r;

    for (uint64_t addr = start; addr < end; i++) {
        uint64_t ebase = base + ((uint64_t)i << d->shift);
        uint64_t eend = ebase + size;
        uint64_t lo = addr, hi = eend < end ? eend : end;
        bool full = lo == ebase && hi == eend;
        uint64_t e = view_read_(op, v, level, i);
        struct pg_entry dec;
        pg_entry_decode(ctx, level, e, &dec);
        addr = hi;

        switch (op->kind) {
        case OP_MAP: {
            uint64_t pa = ebase + op->pa_delta;
            bool leaf_here = full && ((pa & (size - 1)) == 0) &&
                             (level == 1 || ((op->size_mask & (1u << level)) &&
                                             large_leaf_creatable_(ctx, m, level)));
            if (!leaf_here) {
                if (dec.present && dec.leaf && !(op->flags & PG_MAP_REPLACE))
                    return -PG_EEXIST;
                r = descend_(op, level, v, i, e, &dec, ebase, eend, lo, hi, path);
                if (r)
                    return r;
                break;
            }
            bool free_old = false;
            if (dec.present) {
                if (!(op->flags & PG_MAP_REPLACE)) {
                    if (dec.leaf || v->kind != VIEW_REAL)
                        return -PG_EEXIST;
                    r = subtree_unmapped_(op, level - 1, dec.addr);
                    if (r < 0)
                        return r;
                    if (r == 0)
                        return -PG_EEXIST;
                }
                free_old = !dec.leaf && v->kind == VIEW_REAL;
            }
            if (op->dry)
                break;
            store_entry_(v->mem, d->entry_size, i, make_leaf_(ctx, m, level, pa, op->prot));
            if (free_old) {
                path[level] = v->pa;
                free_subtree_(op, level - 1, dec.addr, path);
                path[level] = 0;
                if (op->flush)
                    op->flush->tables_freed = true;
            }
            if (dec.present)
                flush_add_(op, ebase, eend);
            break;
        }
        case OP_UNMAP:
            if (!dec.present)
                break;
            if (!full) {
                r = descend_(op, level, v, i, e, &dec, ebase, eend, lo, hi, path);
                if (r)
                    return r;
                break;
            }
            if (op->dry)
                break;
            store_entry_(v->mem, d->entry_size, i, 0);
            if (!dec.leaf) {
                path[level] = v->pa;
                free_subtree_(op, level - 1, dec.addr, path);
                path[level] = 0;
                if (op->flush)
                    op->flush->tables_freed = true;
            }
            flush_add_(op, ebase, eend);
            break;
        case OP_PROTECT: {
            if (!dec.present)
                return -PG_ENOTMAPPED;
            if (!dec.leaf) {
                r = descend_(op, level, v, i, e, &dec, ebase, eend, lo, hi, path);
                if (r)
                    return r;
                break;
            }
            uint64_t newe = make_leaf_(ctx, m, level, dec.addr, (dec.prot & ~op->clear) | op->set);
            if (newe == e)
                break;
            if (!full) {
                r = descend_(op, level, v, i, e, &dec, ebase, eend, lo, hi, path);
                if (r)
                    return r;
                break;
            }
            if (op->dry)
                break;
            store_entry_(v->mem, d->entry_size, i, newe);
            flush_add_(op, ebase, eend);
            break;
        }
        }
    }
    return 0;
}

/* Check and convert a VA range to linear [*ls, *le). Returns 1 if empty. */
static int prep_range_(const struct pg_mode_desc *m, virt_addr_t start, virt_addr_t end,
                       uint64_t *ls, uint64_t *le)
{
    if ((start | end) & (PAGE_SIZE - 1))
        return -PG_EALIGN;
    if (end != 0 && end == start)
        return 1;
    virt_addr_t last = end - 1;     /* end == 0: the top */
    if (!m->canonical) {
        if (end == 0)
            last = 0xFFFFFFFFULL;
        if (start >> 32 || last >> 32 || last < start)
            return -PG_ERANGE;
        *ls = start;
        *le = last + 1;
        return 0;
    }
    if (canon_(m, linear_(m, start)) != start || canon_(m, linear_(m, last)) != last)
        return -PG_ERANGE;
    if (last < start || (start ^ last) >> 63)
        return -PG_ERANGE;
    *ls = linear_(m, start);
    *le = linear_(m, last) + 1;
    return 0;
}

static int run_op_(struct op_ *op, uint64_t ls, uint64_t le)
{
    const struct pg_ctx *ctx = op->ctx;
    phys_addr_t path[PG_MAX_LEVELS + 1] = { 0 };
    struct view_ root = { .kind = VIEW_REAL, .pa = op->root };
    root.mem = ctx->phys_to_virt(ctx->arg, op->root);
    if (!root.mem)
        return -PG_EIO;
    int top = (int)op->m->levels;

    op->dry = true;
    op->need = 0;
    int r = op_table_(op, top, &root, 0, ls, le, path);
    if (r)
        return r;
    r = fill_pool_(op, op->need);
    if (r)
        return r;
    op->dry = false;
    r = op_table_(op, top, &root, 0, ls, le, path);
    if (op->pool_count)         /* the dry run over-counted: never expected */
        release_pool_(ctx, op->pool, op->pool_count);
    return r;
}

int pg_map(const struct pg_ctx *ctx, phys_addr_t root, virt_addr_t start, virt_addr_t end,
           phys_addr_t pa, uint64_t prot, unsigned size_mask, unsigned flags,
           struct pg_flush *flush)
{
    const struct pg_mode_desc *m = ctx_mode_(ctx);
    if (!m)
        return -PG_EINVAL;
    if (!(prot & PTE_P) || (prot & PTE_PFN_MASK & ~PTE_PAT_LARGE))
        return -PG_EINVAL;
    if (pa & (PAGE_SIZE - 1))
        return -PG_EALIGN;
    uint64_t ls, le;
    int r = prep_range_(m, start, end, &ls, &le);
    if (r)
        return r < 0 ? r : 0;

    /* Physical limit of the mode. */
    uint64_t len = le - ls;
    unsigned pbits = phys_bits_(ctx);
    if (m->levels == PG_MODE_32BIT) {
        uint64_t big = 1ULL << 22;
        bool high_ok = !(ctx->disabled & (PG_NO_PSE36 | PG_NO_PSE)) && (size_mask & PG_SIZE_4M) &&
                       !((pa | len | ls) & (big - 1));
        pbits = high_ok ? (pbits > 40 ? 40 : pbits) : 32;
    }
    if (pa + len < pa || (pa + len - 1) >> pbits)
        return -PG_ERANGE;

    struct op_ op = {
        .ctx = ctx, .m = m, .kind = OP_MAP, .flags = flags,
        .size_mask = size_mask | PG_SIZE_4K, .pa_delta = pa - ls,
        .prot = prot & ~PTE_PS, .root = root, .flush = flush,
    };
    return run_op_(&op, ls, le);
}

int pg_unmap(const struct pg_ctx *ctx, phys_addr_t root, virt_addr_t start, virt_addr_t end,
             unsigned flags, struct pg_flush *flush)
{
    const struct pg_mode_desc *m = ctx_mode_(ctx);
    if (!m)
        return -PG_EINVAL;
    uint64_t ls, le;
    int r = prep_range_(m, start, end, &ls, &le);
    if (r)
        return r < 0 ? r : 0;
    struct op_ op = {
        .ctx = ctx, .m = m, .kind = OP_UNMAP, .flags = flags, .root = root, .flush = flush,
    };
    return run_op_(&op, ls, le);
}

int pg_protect(const struct pg_ctx *ctx, phys_addr_t root, virt_addr_t start, virt_addr_t end,
               uint64_t set, uint64_t clear, unsigned flags, struct pg_flush *flush)
{
    const struct pg_mode_desc *m = ctx_mode_(ctx);
    if (!m)
        return -PG_EINVAL;
    uint64_t bad = PTE_P | PTE_PS | (PTE_PFN_MASK & ~PTE_PAT_LARGE);
    if ((set | clear) & bad)
        return -PG_EINVAL;
    uint64_t ls, le;
    int r = prep_range_(m, start, end, &ls, &le);
    if (r)
        return r < 0 ? r : 0;
    struct op_ op = {
        .ctx = ctx, .m = m, .kind = OP_PROTECT, .flags = flags,
        .set = set, .clear = clear, .root = root, .flush = flush,
    };
    return run_op_(&op, ls, le);
}

int pg_free_tables(const struct pg_ctx *ctx, phys_addr_t root)
{
    const struct pg_mode_desc *m = ctx_mode_(ctx);
    if (!m)
        return -PG_EINVAL;
    const struct pg_level_desc *d = &m->level[m->levels];
    void *t = ctx->phys_to_virt(ctx->arg, root);
    if (!t)
        return -PG_EIO;
    struct op_ op = { .ctx = ctx, .m = m, .root = root };
    phys_addr_t path[PG_MAX_LEVELS + 1] = { 0 };
    path[m->levels] = root;
    for (unsigned i = 0; i < (1u << d->index_bits); i++) {
        uint64_t e = load_entry_(t, d->entry_size, i);
        store_entry_(t, d->entry_size, i, 0);
        if (!(e & PTE_P))
            continue;
        struct pg_entry dec;
        pg_entry_decode(ctx, (int)m->levels, e, &dec);
        if (!dec.leaf)
            free_subtree_(&op, (int)m->levels - 1, dec.addr, path);
    }
    return 0;
}

/* ---- split_mem_range ---- */

static uint64_t round_up_(uint64_t x, uint64_t a) { return (x + a - 1) & ~(a - 1); }
static uint64_t round_down_(uint64_t x, uint64_t a) { return x & ~(a - 1); }

static void save_piece_(struct pg_split_piece *out, int *n, uint64_t s, uint64_t e, uint64_t size)
{
    if (s >= e)
        return;
    out[*n].start = s;
    out[*n].end = e;
    out[*n].page_size = size;
    (*n)++;
}

int pg_split_range(unsigned levels, uint64_t start, uint64_t end, unsigned size_mask,
                   struct pg_split_piece out[5])
{
    const struct pg_mode_desc *m = pg_mode_get(levels);
    if (!m || start > end)
        return -PG_EINVAL;
    if ((start | end) & (PAGE_SIZE - 1))
        return -PG_EALIGN;
    uint64_t big = 1ULL << m->level[2].shift;   /* 2 MiB, or 4 MiB in 32-bit mode */
    uint64_t giant = levels >= 4 ? PUD_SIZE : 0;
    bool big_ok = (size_mask & PG_SIZE_2M) != 0;
    bool giant_ok = giant && (size_mask & PG_SIZE_1G);
    int n = 0;
    uint64_t pos = start, s, e;

    /* 1: head up to the first big-page boundary, 4 KiB (32-bit Linux also keeps [0, big) small). */
    e = round_up_(pos, big);
    if (levels < 4 && pos == 0)
        e = big;
    if (e > end)
        e = end;
    if (pos < e) {
        save_piece_(out, &n, pos, e, PAGE_SIZE);
        pos = e;
    }
    if (giant) {
        /* 2: big pages up to the first giant boundary. */
        s = round_up_(pos, big);
        e = round_up_(pos, giant);
        if (e > round_down_(end, big))
            e = round_down_(end, big);
        if (s < e) {
            save_piece_(out, &n, s, e, big_ok ? big : PAGE_SIZE);
            pos = e;
        }
        /* 3: giant pages (big pages if giant ones are not allowed). */
        s = round_up_(pos, giant);
        e = round_down_(end, giant);
        if (s < e) {
            save_piece_(out, &n, s, e, giant_ok ? giant : big_ok ? big : PAGE_SIZE);
            pos = e;
        }
    }
    /* 4: big pages of the tail. */
    s = round_up_(pos, big);
    e = round_down_(end, big);
    if (s < e) {
        save_piece_(out, &n, s, e, big_ok ? big : PAGE_SIZE);
        pos = e;
    }
    /* 5: the 4 KiB tail. */
    save_piece_(out, &n, pos, end, PAGE_SIZE);

    /* Merge contiguous neighbours of equal page size. */
    for (int i = 0; n > 1 && i < n - 1;) {
        if (out[i].end == out[i + 1].start && out[i].page_size == out[i + 1].page_size) {
            out[i].end = out[i + 1].end;
            for (int k = i + 1; k < n - 1; k++)
                out[k] = out[k + 1];
            n--;
        } else {
            i++;
        }
    }
    return n;
}
