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
    phys_addr_t path[PG_MAX_LEVELS + 1];    /* the real tables on the current path */
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

static void free_subtree_(struct op_ *op, int level, phys_addr_t table_pa);

static int free_child_(void *arg, int level, unsigned index, uint64_t e, bool leaf,
                       phys_addr_t addr)
{
    (void)index;
    (void)e;
    if (!leaf)
        free_subtree_(arg, level - 1, addr);
    return 0;
}

/*
 * Free the table at table_pa (of `level`) and every table below it. Pointers
 * back to the root or to a table on the current path (op->path) are not
 * followed.
 */
static void free_subtree_(struct op_ *op, int level, phys_addr_t table_pa)
{
    const struct pg_ctx *ctx = op->ctx;
    if (table_pa == op->root)
        return;
    for (int l = level + 1; l <= (int)op->m->levels; l++)
        if (op->path[l] == table_pa)
            return;
    void *t = ctx->phys_to_virt(ctx->arg, table_pa);
    if (t && level > 1) {
        op->path[level] = table_pa;
        each_present_(ctx, op->m, level, t, free_child_, op);
        op->path[level] = 0;
    }
    if (ctx->free_table)
        ctx->free_table(ctx->arg, table_pa);
}

static bool table_empty_(const void *t, const struct pg_level_desc *d)
{
    for (unsigned i = 0; i < (1u << d->index_bits); i++)
        if (load_entry_(t, d->entry_size, i))
            return false;
    return true;
}

struct mapped_arg_ {
    const struct op_ *op;
    phys_addr_t table;
};

static int subtree_mapped_(const struct op_ *op, int level, phys_addr_t table_pa);

static int mapped_child_(void *arg, int level, unsigned index, uint64_t e, bool leaf,
                         phys_addr_t addr)
{
    const struct mapped_arg_ *a = arg;
    (void)index;
    (void)e;
    if (leaf || addr == a->table)
        return 1;
    return subtree_mapped_(a->op, level - 1, addr);
}

/* 1 if a present leaf is reachable from the table (or it points to itself), 0 if not; -PG_EIO. */
static int subtree_mapped_(const struct op_ *op, int level, phys_addr_t table_pa)
{
    const void *t = op->ctx->phys_to_virt(op->ctx->arg, table_pa);
    if (!t)
        return -PG_EIO;
    struct mapped_arg_ a = { op, table_pa };
    return each_present_(op->ctx, op->m, level, t, mapped_child_, &a);
}

/* One entry of a table being operated on, and the part of the operation's range it covers. */
struct slot_ {
    int level;
    struct view_ *v;        /* the table */
    unsigned i;             /* the entry's index */
    uint64_t e;             /* its value (as the view reads it) */
    struct pg_entry dec;
    uint64_t ebase, eend;   /* linear range the entry maps */
    uint64_t lo, hi;        /* the part of it inside the operation's range */
};

static bool slot_full_(const struct slot_ *sl)
{
    return sl->lo == sl->ebase && sl->hi == sl->eend;
}

/* The user PGD of a PTI pair (ctx->pti) rooted at root, or NULL. */
static uint64_t *pti_user_pgd_(const struct pg_ctx *ctx, const struct pg_mode_desc *m, phys_addr_t root)
{
    if (!ctx->pti || m->levels < PG_MODE_4LEVEL)
        return NULL;
    return ctx->phys_to_virt(ctx->arg, pg_pti_user_pgd(root));
}

static void slot_store_(const struct op_ *op, const struct slot_ *sl, uint64_t e)
{
    uint64_t *user;
    if (sl->level == (int)op->m->levels && sl->v->kind == VIEW_REAL && sl->v->pa == op->root &&
        (user = pti_user_pgd_(op->ctx, op->m, op->root)))
        e = pg_pti_set_user_pgtbl(user, op->m->levels, sl->i, e, !(op->ctx->disabled & PG_NO_NX));
    store_entry_(sl->v->mem, op->m->level[sl->level].entry_size, sl->i, e);
}

/* The slot's entry no longer points to its table (already rewritten): free that subtree. */
static void free_old_table_(struct op_ *op, const struct slot_ *sl)
{
    op->path[sl->level] = sl->v->pa;
    free_subtree_(op, sl->level - 1, sl->dec.addr);
    op->path[sl->level] = 0;
    if (op->flush)
        op->flush->tables_freed = true;
}

static int op_table_(struct op_ *op, int level, struct view_ *v, uint64_t base,
                     uint64_t start, uint64_t end);

/* The table below the slot's entry as a view: the real one, or a new one (empty or a split). */
static int child_view_(struct op_ *op, const struct slot_ *sl, struct view_ *child)
{
    const struct pg_ctx *ctx = op->ctx;
    const struct pg_mode_desc *m = op->m;
    const struct pg_level_desc *cd = &m->level[sl->level - 1];
    const struct pg_entry *dec = &sl->dec;

    *child = (struct view_){ .kind = VIEW_REAL };
    if (dec->present && !dec->leaf) {
        child->pa = dec->addr;
        if (sl->v->kind != VIEW_REAL) {
            child->kind = VIEW_EMPTY;
            return 0;
        }
        child->mem = ctx->phys_to_virt(ctx->arg, child->pa);
        if (!child->mem)
            return -PG_EIO;
        return child->pa == sl->v->pa ? -PG_EINVAL : 0;  /* never descend into a self-reference */
    }
    bool split = dec->present && dec->leaf;
    if (split && (op->flags & PG_MAP_NOSPLIT))
        return -PG_EHUGE;
    int r = take_table_(op, &child->pa);
    if (r)
        return r;
    if (op->dry) {
        child->kind = split ? VIEW_SPLIT : VIEW_EMPTY;
        child->split_base = dec->addr;
        child->split_prot = dec->prot;
        return 0;
    }
    child->mem = ctx->phys_to_virt(ctx->arg, child->pa);
    if (split) {
        for (unsigned k = 0; k < (1u << cd->index_bits); k++)
            store_entry_(child->mem, cd->entry_size, k,
                         make_leaf_(ctx, m, sl->level - 1, dec->addr + ((uint64_t)k << cd->shift),
                                    dec->prot));
        flush_add_(op, sl->ebase, sl->eend);    /* the page size changes */
    }
    slot_store_(op, sl, child->pa | table_entry_flags_(ctx, m, sl->level));
    return 0;
}

/*
 * Operate on the slot's part of the range one level down: in the table below
 * its entry, created (empty, or by splitting the large leaf) when needed.
 */
static int descend_(struct op_ *op, const struct slot_ *sl)
{
    struct view_ child;
    int r = child_view_(op, sl, &child);
    if (r)
        return r;
    /* Nothing below a new level-1 table (in the dry run a view) can fail or need a table. */
    if (op->dry && child.kind != VIEW_REAL && sl->level - 1 == 1)
        return 0;
    if (sl->v->kind == VIEW_REAL)
        op->path[sl->level] = sl->v->pa;
    r = op_table_(op, sl->level - 1, &child, sl->ebase, sl->lo, sl->hi);
    op->path[sl->level] = 0;
    if (r)
        return r;

    /* Unmapping may have emptied the table: free it. */
    if (!op->dry && op->kind == OP_UNMAP && child.kind == VIEW_REAL &&
        table_empty_(child.mem, &op->m->level[sl->level - 1])) {
        slot_store_(op, sl, 0);
        if (op->ctx->free_table)
            op->ctx->free_table(op->ctx->arg, child.pa);
        /* The leaves that emptied it are in the flush range already; an
         * INVLPG there also drops the paging-structure caches. */
        if (op->flush)
            op->flush->tables_freed = true;
    }
    return 0;
}

static int map_entry_(struct op_ *op, const struct slot_ *sl)
{
    const struct pg_ctx *ctx = op->ctx;
    int level = sl->level;
    uint64_t size = sl->eend - sl->ebase;
    uint64_t pa = sl->ebase + op->pa_delta;
    bool leaf_here = slot_full_(sl) && (pa & (size - 1)) == 0 &&
                     (level == 1 || ((op->size_mask & (1u << level)) &&
                                     large_leaf_creatable_(ctx, op->m, level)));
    if (!leaf_here) {
        if (sl->dec.present && sl->dec.leaf && !(op->flags & PG_MAP_REPLACE))
            return -PG_EEXIST;
        return descend_(op, sl);
    }
    bool free_old = false;
    if (sl->dec.present) {
        if (!(op->flags & PG_MAP_REPLACE)) {
            if (sl->dec.leaf || sl->v->kind != VIEW_REAL)
                return -PG_EEXIST;
            int r = subtree_mapped_(op, level - 1, sl->dec.addr);
            if (r)
                return r < 0 ? r : -PG_EEXIST;
        }
        free_old = !sl->dec.leaf && sl->v->kind == VIEW_REAL;
    }
    if (op->dry)
        return 0;
    slot_store_(op, sl, make_leaf_(ctx, op->m, level, pa, op->prot));
    if (free_old)
        free_old_table_(op, sl);
    if (sl->dec.present)
        flush_add_(op, sl->ebase, sl->eend);
    return 0;
}

static int unmap_entry_(struct op_ *op, const struct slot_ *sl)
{
    if (!sl->dec.present)
        return 0;
    if (!slot_full_(sl))
        return descend_(op, sl);
    if (op->dry)
        return 0;
    slot_store_(op, sl, 0);
    if (!sl->dec.leaf)
        free_old_table_(op, sl);
    flush_add_(op, sl->ebase, sl->eend);
    return 0;
}

static int protect_entry_(struct op_ *op, const struct slot_ *sl)
{
    if (!sl->dec.present)
        return -PG_ENOTMAPPED;
    if (!sl->dec.leaf)
        return descend_(op, sl);
    uint64_t newe = make_leaf_(op->ctx, op->m, sl->level, sl->dec.addr,
                               (sl->dec.prot & ~op->clear) | op->set);
    if (newe == sl->e)
        return 0;
    if (!slot_full_(sl))
        return descend_(op, sl);
    if (op->dry)
        return 0;
    slot_store_(op, sl, newe);
    flush_add_(op, sl->ebase, sl->eend);
    return 0;
}

/* The operation on the entries of the table v (of `level`, linear base `base`) covering [start, end). */
static int op_table_(struct op_ *op, int level, struct view_ *v, uint64_t base,
                     uint64_t start, uint64_t end)
{
    const struct pg_level_desc *d = &op->m->level[level];
    struct slot_ sl = { .level = level, .v = v, .i = level_index_(d, start) };

    for (uint64_t addr = start; addr < end; sl.i++) {
        sl.ebase = base + ((uint64_t)sl.i << d->shift);
        sl.eend = sl.ebase + (1ULL << d->shift);
        sl.lo = addr;
        sl.hi = sl.eend < end ? sl.eend : end;
        sl.e = view_read_(op, v, level, sl.i);
        pg_entry_decode(op->ctx, level, sl.e, &sl.dec);
        addr = sl.hi;
        int r = op->kind == OP_MAP ? map_entry_(op, &sl)
              : op->kind == OP_UNMAP ? unmap_entry_(op, &sl)
              : protect_entry_(op, &sl);
        if (r)
            return r;
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
    struct view_ root = { .kind = VIEW_REAL, .pa = op->root };
    root.mem = ctx->phys_to_virt(ctx->arg, op->root);
    if (!root.mem)
        return -PG_EIO;
    int top = (int)op->m->levels;

    op->dry = true;
    op->need = 0;
    int r = op_table_(op, top, &root, 0, ls, le);
    if (r)
        return r;
    r = fill_pool_(op, op->need);
    if (r)
        return r;
    op->dry = false;
    r = op_table_(op, top, &root, 0, ls, le);
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

/* Run op (ctx and mode set) over the VA range [start, end): checked, empty ranges do nothing. */
static int run_range_(struct op_ *op, virt_addr_t start, virt_addr_t end)
{
    uint64_t ls, le;
    int r = prep_range_(op->m, start, end, &ls, &le);
    if (r)
        return r < 0 ? r : 0;
    return run_op_(op, ls, le);
}

int pg_unmap(const struct pg_ctx *ctx, phys_addr_t root, virt_addr_t start, virt_addr_t end,
             unsigned flags, struct pg_flush *flush)
{
    struct op_ op = {
        .ctx = ctx, .m = ctx_mode_(ctx), .kind = OP_UNMAP, .flags = flags, .root = root,
        .flush = flush,
    };
    return op.m ? run_range_(&op, start, end) : -PG_EINVAL;
}

int pg_protect(const struct pg_ctx *ctx, phys_addr_t root, virt_addr_t start, virt_addr_t end,
               uint64_t set, uint64_t clear, unsigned flags, struct pg_flush *flush)
{
    struct op_ op = {
        .ctx = ctx, .m = ctx_mode_(ctx), .kind = OP_PROTECT, .flags = flags,
        .set = set, .clear = clear, .root = root, .flush = flush,
    };
    uint64_t bad = PTE_P | PTE_PS | (PTE_PFN_MASK & ~PTE_PAT_LARGE);
    if (!op.m || ((set | clear) & bad))
        return -PG_EINVAL;
    return run_range_(&op, start, end);
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
    op.path[m->levels] = root;
    each_present_(ctx, m, (int)m->levels, t, free_child_, &op);
    uint64_t *user = pti_user_pgd_(ctx, m, root);
    for (unsigned i = 0; i < (1u << d->index_bits); i++) {
        store_entry_(t, d->entry_size, i, 0);
        if (user)
            pg_pti_set_user_pgtbl(user, m->levels, i, 0, false);
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
