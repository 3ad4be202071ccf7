/*
 * vmap.h: the page-table operations of a kernel's shared areas (Linux's
 * vmalloc and ioremap space), beyond pg_map.
 *
 * Every process's top table holds a copy of the kernel's top-level entries,
 * taken when it is created (pgd_alloc). A kernel area that gains mappings
 * later must therefore never add or drop a top-level entry: its entries are
 * populated once at boot (Linux's preallocate_vmalloc_pages), and unmapping
 * there clears the leaves but keeps every table (Linux's vunmap never frees
 * page tables), unlike pg_unmap, which frees the tables it empties.
 * Depends on: paging.h.
 */
#ifndef PAGING_VMAP_H
#define PAGING_VMAP_H

#include <paging/paging.h>

/*
 * pg_populate_top - give every top-level entry that covers [start, end) a
 * table below it: an empty entry gets a zeroed table from ctx->alloc_table,
 * linked with ctx->table_flags (0: _PAGE_TABLE). Present entries stay.
 * @start, @end: canonical, in one canonical half (end == 0: the top)
 * @allocated: receives the number of tables allocated (may be NULL)
 * On -PG_ENOMEM the entries populated before the failure stay.
 * returns: 0; -PG_ERANGE; -PG_EINVAL (bad mode, or a top-level entry that
 *          is a leaf); -PG_ENOMEM; -PG_EIO (root unreadable).
 */
int pg_populate_top(const struct pg_ctx *ctx, phys_addr_t root, virt_addr_t start, virt_addr_t end,
                    unsigned *allocated);

/*
 * pg_unmap_keep_tables - remove every leaf in [start, end) and keep every
 * table, emptied or not. Holes are fine. A large leaf must lie wholly inside
 * the range (it is never split). Nothing is written unless the whole range
 * can be done.
 * @start, @end: 4 KiB aligned, canonical, in one canonical half (end == 0:
 *        the top of the address space)
 * @flush: accumulator for the leaves removed (may be NULL); tables_freed
 *        stays false
 * returns: 0; -PG_EALIGN; -PG_ERANGE; -PG_EHUGE (a large leaf crosses start
 *          or end); -PG_ERSVD (an entry on the way has reserved bits);
 *          -PG_EIO; -PG_EINVAL.
 */
int pg_unmap_keep_tables(const struct pg_ctx *ctx, phys_addr_t root, virt_addr_t start, virt_addr_t end,
                         struct pg_flush *flush);

#endif /* PAGING_VMAP_H */
