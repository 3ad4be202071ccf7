/*
 * vmap.c: populating the top-level entries of a shared kernel area once, and
 * unmapping there without freeing tables (see vmap.h). Built on the public
 * walk and entry functions of paging.h.
 * Depends on: vmap.h.
 */
#include <paging/vmap.h>

/* [start, end) canonical, non-empty and in one half; *last = end - 1. returns: 0 or -PG_ERANGE. */
static int check_range_(const struct pg_ctx *ctx, virt_addr_t start, virt_addr_t end, virt_addr_t *last)
{
    *last = end - 1;
    if (!pg_is_canonical(ctx->levels, start) || !pg_is_canonical(ctx->levels, *last) || start > *last)
        return -PG_ERANGE;
    if ((start ^ *last) >> 63)
        return -PG_ERANGE; /* crosses the non-canonical hole */
    return 0;
}

int pg_populate_top(const struct pg_ctx *ctx, phys_addr_t root, virt_addr_t start, virt_addr_t end,
                    unsigned *allocated)
{
    int top = (int)ctx->levels;
    virt_addr_t last;
    unsigned count = 0;

    if (allocated)
        *allocated = 0;
    if (!pg_mode_get(ctx->levels))
        return -PG_EINVAL;
    int err = check_range_(ctx, start, end, &last);
    if (err)
        return err;
    int first_i = pg_va_index(ctx->levels, top, start), last_i = pg_va_index(ctx->levels, top, last);
    for (int i = first_i; i <= last_i; i++) {
        uint64_t e;
        err = pg_entry_read(ctx, root, top, (unsigned)i, &e);
        if (err)
            return err;
        if (e & PTE_P) {
            struct pg_entry dec;
            pg_entry_decode(ctx, top, e, &dec);
            if (dec.leaf)
                return -PG_EINVAL;
            continue;
        }
        if (e)
            return -PG_EINVAL; /* a non-present entry that holds something: not ours to replace */
        phys_addr_t pa;
        if (!ctx->alloc_table || ctx->alloc_table(ctx->arg, &pa) < 0)
            return -PG_ENOMEM;
        err = pg_entry_encode(ctx, top, false, pa, ctx->table_flags ? ctx->table_flags : _PAGE_TABLE, &e);
        if (!err)
            err = pg_entry_write(ctx, root, top, (unsigned)i, e);
        if (err) {
            if (ctx->free_table)
                ctx->free_table(ctx->arg, pa);
            return err;
        }
        if (allocated)
            *allocated = ++count;
    }
    return 0;
}

/* Widen f to cover [base, base + size) (base + size == 0: the top). */
static void flush_add_(struct pg_flush *f, virt_addr_t base, uint64_t size)
{
    virt_addr_t end = base + size;

    if (!f)
        return;
    if (!f->pages || base < f->start)
        f->start = base;
    if (!f->pages || end - 1 > f->end - 1)
        f->end = end;
    f->pages += size >> PAGE_SHIFT;
}

/*
 * One pass over [start, last]: check that every leaf lies inside (clear ==
 * false), or clear every leaf (clear == true).
 */
static int keep_tables_pass_(const struct pg_ctx *ctx, phys_addr_t root, virt_addr_t start, virt_addr_t last,
                             bool clear, struct pg_flush *flush)
{
    for (virt_addr_t va = start;;) {
        struct pg_walk w;
        uint64_t size;

        pg_walk(ctx, root, va, &w);
        if (w.status == -PG_ENOTMAPPED) {
            size = pg_level_size(ctx->levels, w.fault_level);
        } else if (w.status == 0) {
            const struct pg_walk_step *s = &w.step[w.nsteps - 1];
            size = w.page_size;
            virt_addr_t base = va & ~(size - 1);
            if (base < start || base + size - 1 > last)
                return -PG_EHUGE;
            if (clear) {
                int err = pg_entry_write(ctx, s->table_pa, s->level, s->index, 0);
                if (err)
                    return err;
                flush_add_(flush, base, size);
            }
        } else {
            return w.status;
        }
        virt_addr_t next = (va & ~(size - 1)) + size;
        if (next - 1 >= last)
            return 0;
        va = next;
    }
}

int pg_unmap_keep_tables(const struct pg_ctx *ctx, phys_addr_t root, virt_addr_t start, virt_addr_t end,
                         struct pg_flush *flush)
{
    virt_addr_t last;

    if (!pg_mode_get(ctx->levels))
        return -PG_EINVAL;
    if ((start | end) & (PAGE_SIZE - 1))
        return -PG_EALIGN;
    int err = check_range_(ctx, start, end, &last);
    if (!err)
        err = keep_tables_pass_(ctx, root, start, last, false, flush);
    if (!err)
        err = keep_tables_pass_(ctx, root, start, last, true, flush);
    return err;
}
