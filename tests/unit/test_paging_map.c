/*
 * test_paging_map.c: pg_map / pg_unmap / pg_protect / pg_split_range.
 *
 * split_mem_range choices (incl. the example of docs/linux.md, "The direct
 * map"), page-size
 * choice and minimal table counts, large-page splitting, table freeing, TLB
 * flush reports, every error path (ENOMEM at every allocation point leaves
 * the tree byte-identical), and a property test: thousands of random
 * operations with a fixed seed in every mode, checked after every step
 * against a per-4K-page reference model.
 */
#include <criterion/criterion.h>
#include "arena.h"

static struct arena A;

static void setup(void) { arena_init(&A, 1024); }
static void teardown(void) { arena_fini(&A); }

TestSuite(split, .init = setup, .fini = teardown);
TestSuite(map, .init = setup, .fini = teardown);
TestSuite(property, .init = setup, .fini = teardown);

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

/* ---- split_mem_range ---- */

static void expect_piece(const struct pg_split_piece *p, uint64_t s, uint64_t e, uint64_t size)
{
    cr_assert_eq(p->start, s, "start %llx != %llx", (unsigned long long)p->start, (unsigned long long)s);
    cr_assert_eq(p->end, e, "end %llx != %llx", (unsigned long long)p->end, (unsigned long long)e);
    cr_assert_eq(p->page_size, size);
}

Test(split, linux_example)
{
    /* RAM [1 MiB, 0x7FFE0000): 4k, 2M, 4k (docs/linux.md, "The direct map"). */
    struct pg_split_piece p[5];
    cr_assert_eq(pg_split_range(4, 0x100000, 0x7FFE0000, PG_MASK_1G, p), 3);
    expect_piece(&p[0], 0x100000, 0x200000, 4096);
    expect_piece(&p[1], 0x200000, 0x7FE00000, 2 * MiB);
    expect_piece(&p[2], 0x7FE00000, 0x7FFE0000, 4096);
}

Test(split, five_pieces)
{
    struct pg_split_piece p[5];
    cr_assert_eq(pg_split_range(4, 0x1000, 0x80201000, PG_MASK_1G, p), 5);
    expect_piece(&p[0], 0x1000, 0x200000, 4096);
    expect_piece(&p[1], 0x200000, GiB, 2 * MiB);
    expect_piece(&p[2], GiB, 2 * GiB, GiB);
    expect_piece(&p[3], 2 * GiB, 2 * GiB + 2 * MiB, 2 * MiB);
    expect_piece(&p[4], 2 * GiB + 2 * MiB, 2 * GiB + 2 * MiB + 4096, 4096);
    /* Without 1G the middle merges into one 2M piece. */
    cr_assert_eq(pg_split_range(4, 0x1000, 0x80201000, PG_MASK_2M, p), 3);
    expect_piece(&p[1], 0x200000, 2 * GiB + 2 * MiB, 2 * MiB);
    /* 4K only: one piece. */
    cr_assert_eq(pg_split_range(4, 0x1000, 0x80201000, PG_MASK_4K, p), 1);
    expect_piece(&p[0], 0x1000, 0x80201000, 4096);
    /* Aligned 64 GiB: one 1G piece. */
    cr_assert_eq(pg_split_range(5, 0, 64 * GiB, PG_MASK_1G, p), 1);
    expect_piece(&p[0], 0, 64 * GiB, GiB);
    /* Empty and small ranges. */
    cr_assert_eq(pg_split_range(4, 0x5000, 0x5000, PG_MASK_1G, p), 0);
    cr_assert_eq(pg_split_range(4, 0x5000, 0x6000, PG_MASK_1G, p), 1);
    cr_assert_eq(pg_split_range(4, 0x5001, 0x6000, PG_MASK_1G, p), -PG_EALIGN);
    cr_assert_eq(pg_split_range(4, 0x6000, 0x5000, PG_MASK_1G, p), -PG_EINVAL);
}

Test(split, thirty_two_bit_and_pae)
{
    struct pg_split_piece p[5];
    /* 32-bit Linux keeps [0, 4M) in 4K pages; the rest in 4M pages. */
    cr_assert_eq(pg_split_range(2, 0, 16 * MiB + 4096, PG_MASK_2M, p), 3);
    expect_piece(&p[0], 0, 4 * MiB, 4096);
    expect_piece(&p[1], 4 * MiB, 16 * MiB, 4 * MiB);
    expect_piece(&p[2], 16 * MiB, 16 * MiB + 4096, 4096);
    /* PAE: 2M pages, never 1G. */
    cr_assert_eq(pg_split_range(3, 2 * MiB, 2 * GiB, PG_MASK_1G, p), 1);
    expect_piece(&p[0], 2 * MiB, 2 * GiB, 2 * MiB);
}

/* ---- helpers ---- */

struct leaf_count {
    uint64_t n[PG_MAX_LEVELS + 1];
};

static int count_leaf(void *arg, const struct pg_range *r)
{
    struct leaf_count *c = arg;
    if (r->kind == PG_RANGE_MAPPED)
        c->n[r->level] += r->count;
    return 0;
}

static struct leaf_count leaves(const struct pg_ctx *c, phys_addr_t root)
{
    struct leaf_count lc = { { 0 } };
    struct pg_iter_opts o = { .merge = PG_MERGE_NONE };
    cr_assert_eq(pg_iterate(c, root, &o, count_leaf, &lc), 0);
    return lc;
}

/* Tables reachable from root (a tree), and whether any non-root table is all zero. */
static size_t count_tables(const struct pg_ctx *c, phys_addr_t table, int level, int *empty)
{
    const struct pg_mode_desc *m = pg_mode_get(c->levels);
    const struct pg_level_desc *d = &m->level[level];
    const uint8_t *t = c->phys_to_virt(c->arg, table);
    size_t n = 1, nonzero = 0;
    for (unsigned i = 0; i < (1u << d->index_bits); i++) {
        uint64_t e = d->entry_size == 4 ? ((const uint32_t *)t)[i] : ((const uint64_t *)t)[i];
        if (e)
            nonzero++;
        if (!(e & PTE_P) || level == 1)
            continue;
        struct pg_entry dec;
        pg_entry_decode(c, level, e, &dec);
        if (!dec.leaf)
            n += count_tables(c, dec.addr, level - 1, empty);
    }
    if (!nonzero && level != (int)m->levels)
        (*empty)++;
    return n;
}

static void check_tables(const struct pg_ctx *c, phys_addr_t root)
{
    int empty = 0;
    size_t n = count_tables(c, root, (int)c->levels, &empty);
    cr_assert_eq(empty, 0, "%d empty tables left", empty);
    cr_assert_eq(n, A.live, "%zu tables reachable, %zu allocated", n, A.live);
    cr_assert_eq(A.faults, 0);
}

/* ---- map: page sizes, minimal tables ---- */

Test(map, page_sizes_follow_split_mem_range)
{
    struct pg_ctx c = arena_ctx(&A, 4);
    phys_addr_t root = arena_root(&A);
    cr_assert_eq(pg_map(&c, root, 0x1000, 0x80201000, 0x1000, __PAGE_KERNEL, PG_MASK_1G, 0, NULL), 0);
    struct leaf_count lc = leaves(&c, root);
    cr_assert_eq(lc.n[1], 511 + 1);
    cr_assert_eq(lc.n[2], 511 + 1);
    cr_assert_eq(lc.n[3], 1);
    /* PDPT + PD(0) + PD(2) + PT(0) + PT(2G+2M) */
    cr_assert_eq(A.live, 1 + 1 + 2 + 2);
    check_tables(&c, root);
    phys_addr_t pa;
    int level;
    cr_assert_eq(pg_translate(&c, root, 0x40001234, &pa, NULL, &level), 0);
    cr_assert_eq(pa, 0x40001234);
    cr_assert_eq(level, 3);
}

Test(map, misaligned_pa_uses_small_pages)
{
    struct pg_ctx c = arena_ctx(&A, 4);
    phys_addr_t root = arena_root(&A);
    /* VA 2M-aligned, PA only 4K-aligned: no large page fits. */
    cr_assert_eq(pg_map(&c, root, 0x200000, 0x600000, 0x1000, __PAGE_KERNEL, PG_MASK_1G, 0, NULL), 0);
    struct leaf_count lc = leaves(&c, root);
    cr_assert_eq(lc.n[1], 1024);
    cr_assert_eq(lc.n[2], 0);
}

Test(map, minimal_tables_64g)
{
    static const struct { unsigned mask; size_t tables; } cases[] = {
        { PG_MASK_1G, 1 + 1 },
        { PG_MASK_2M, 1 + 1 + 64 },
    };
    for (size_t i = 0; i < 2; i++) {
        arena_fini(&A);
        arena_init(&A, 128);
        struct pg_ctx c = arena_ctx(&A, 4);
        phys_addr_t root = arena_root(&A);
        cr_assert_eq(pg_map(&c, root, 0xFFFF888000000000ULL, 0xFFFF889000000000ULL, 0,
                            __PAGE_KERNEL, cases[i].mask, 0, NULL), 0);
        cr_assert_eq(A.live, cases[i].tables);
        cr_assert_eq(pg_unmap(&c, root, 0xFFFF888000000000ULL, 0xFFFF889000000000ULL, 0, NULL), 0);
        cr_assert_eq(A.live, 1);
    }
}

Test(map, four_k_1g_minimal)
{
    arena_fini(&A);
    arena_init(&A, 600);
    struct pg_ctx c = arena_ctx(&A, 5);
    phys_addr_t root = arena_root(&A);
    cr_assert_eq(pg_map(&c, root, 0, GiB, 0, __PAGE_KERNEL, PG_MASK_4K, 0, NULL), 0);
    cr_assert_eq(A.live, 1 + 1 + 1 + 1 + 512);   /* PML5, PML4, PDPT, PD, 512 PTs */
    cr_assert_eq(leaves(&c, root).n[1], GiB / 4096);
    cr_assert_eq(pg_free_tables(&c, root), 0);
    cr_assert_eq(A.live, 1);
    cr_assert_eq(A.faults, 0);
}

/* ---- splitting, freeing, flush reports ---- */

Test(map, split_protect_unmap_free)
{
    struct pg_ctx c = arena_ctx(&A, 4);
    phys_addr_t root = arena_root(&A);
    struct pg_flush f;
    pg_flush_init(&f);
    cr_assert_eq(pg_map(&c, root, 0x40000000, 0x40400000, 0x80000000, __PAGE_KERNEL_EXEC,
                        PG_MASK_2M, 0, &f), 0);
    cr_assert_eq(f.pages, 0);           /* nothing was present before */
    cr_assert_eq(A.live, 3);

    /* Read-only for one 4K page inside the first 2M page: split into a PT. */
    pg_flush_init(&f);
    cr_assert_eq(pg_protect(&c, root, 0x40005000, 0x40006000, 0, PTE_W, 0, &f), 0);
    cr_assert_eq(A.live, 4);
    cr_assert_eq(f.start, 0x40000000);
    cr_assert_eq(f.end, 0x40200000);
    struct pg_walk w;
    pg_walk(&c, root, 0x40005123, &w);
    cr_assert_eq(w.status, 0);
    cr_assert_eq(w.leaf_level, 1);
    cr_assert_eq(w.pa, 0x80005123);
    cr_assert_not(w.writable);
    pg_walk(&c, root, 0x40006000, &w);
    cr_assert(w.writable);
    cr_assert_eq(w.leaf_prot, __PAGE_KERNEL_EXEC);  /* the rest keeps its protection */
    pg_walk(&c, root, 0x40200000, &w);
    cr_assert_eq(w.leaf_level, 2);                  /* the other 2M page is untouched */

    /* Unchanged protection: no split, no flush. */
    pg_flush_init(&f);
    cr_assert_eq(pg_protect(&c, root, 0x40201000, 0x40202000, PTE_W, 0, 0, &f), 0);
    cr_assert_eq(f.pages, 0);
    cr_assert_eq(A.live, 4);

    /* NOSPLIT refuses. */
    cr_assert_eq(pg_unmap(&c, root, 0x40201000, 0x40202000, PG_MAP_NOSPLIT, NULL), -PG_EHUGE);

    /* Unmap everything in pieces: tables are freed as they empty. */
    pg_flush_init(&f);
    cr_assert_eq(pg_unmap(&c, root, 0x40000000, 0x40005000, 0, &f), 0);
    cr_assert_eq(f.pages, 5);
    cr_assert_eq(pg_unmap(&c, root, 0x40005000, 0x40200000, 0, &f), 0);
    cr_assert(f.tables_freed);
    cr_assert_eq(A.live, 3);
    cr_assert_eq(pg_unmap(&c, root, 0x40200000, 0x40400000, 0, &f), 0);
    cr_assert_eq(A.live, 1);
    cr_assert_eq(f.start, 0x40000000);
    cr_assert_eq(f.end, 0x40400000);
    cr_assert_eq(A.faults, 0);
}

Test(map, replace_and_exist)
{
    struct pg_ctx c = arena_ctx(&A, 4);
    phys_addr_t root = arena_root(&A);
    cr_assert_eq(pg_map(&c, root, 0x200000, 0x400000, 0x200000, __PAGE_KERNEL, PG_MASK_4K, 0, NULL), 0);
    cr_assert_eq(A.live, 4);
    cr_assert_eq(pg_map(&c, root, 0x3FF000, 0x401000, 0, __PAGE_KERNEL, PG_MASK_4K, 0, NULL), -PG_EEXIST);
    /* Replacing the 512 small pages with one 2M page frees the PT. */
    struct pg_flush f;
    pg_flush_init(&f);
    cr_assert_eq(pg_map(&c, root, 0x200000, 0x400000, 0x600000, __PAGE_KERNEL, PG_MASK_2M,
                        PG_MAP_REPLACE, &f), 0);
    cr_assert_eq(A.live, 3);
    cr_assert(f.tables_freed);
    cr_assert_eq(f.pages, 512);
    struct leaf_count lc = leaves(&c, root);
    cr_assert_eq(lc.n[2], 1);
    cr_assert_eq(lc.n[1], 0);
    /* Replacing part of a large page splits it; NOSPLIT refuses. */
    cr_assert_eq(pg_map(&c, root, 0x300000, 0x301000, 0, __PAGE_KERNEL, PG_MASK_4K,
                        PG_MAP_REPLACE | PG_MAP_NOSPLIT, NULL), -PG_EHUGE);
    cr_assert_eq(pg_map(&c, root, 0x300000, 0x301000, 0, __PAGE_KERNEL, PG_MASK_4K, PG_MAP_REPLACE, NULL), 0);
    phys_addr_t pa;
    cr_assert_eq(pg_translate(&c, root, 0x300000, &pa, NULL, NULL), 0);
    cr_assert_eq(pa, 0);
    cr_assert_eq(pg_translate(&c, root, 0x301000, &pa, NULL, NULL), 0);
    cr_assert_eq(pa, 0x701000);
    check_tables(&c, root);
}

Test(map, argument_errors)
{
    struct pg_ctx c = arena_ctx(&A, 4);
    phys_addr_t root = arena_root(&A);
    cr_assert_eq(pg_map(&c, root, 0x1001, 0x2000, 0, __PAGE_KERNEL, PG_MASK_4K, 0, NULL), -PG_EALIGN);
    cr_assert_eq(pg_map(&c, root, 0x1000, 0x2000, 0x10, __PAGE_KERNEL, PG_MASK_4K, 0, NULL), -PG_EALIGN);
    cr_assert_eq(pg_map(&c, root, 0x1000, 0x2000, 0, 0, PG_MASK_4K, 0, NULL), -PG_EINVAL);
    cr_assert_eq(pg_map(&c, root, 0x1000, 0x2000, 0, __PAGE_KERNEL | 0x4000, PG_MASK_4K, 0, NULL), -PG_EINVAL);
    cr_assert_eq(pg_map(&c, root, 0x0000800000000000ULL, 0x0000800000001000ULL, 0, __PAGE_KERNEL,
                        PG_MASK_4K, 0, NULL), -PG_ERANGE);
    cr_assert_eq(pg_map(&c, root, 0x00007FFFFFFFF000ULL, 0xFFFF800000001000ULL, 0, __PAGE_KERNEL,
                        PG_MASK_4K, 0, NULL), -PG_ERANGE);
    cr_assert_eq(pg_map(&c, root, 0x2000, 0x1000, 0, __PAGE_KERNEL, PG_MASK_4K, 0, NULL), -PG_ERANGE);
    cr_assert_eq(pg_map(&c, root, 0x1000, 0x2000, 1ULL << 52, __PAGE_KERNEL, PG_MASK_4K, 0, NULL), -PG_ERANGE);
    cr_assert_eq(pg_map(&c, root, 0x1000, 0x1000, 0, __PAGE_KERNEL, PG_MASK_4K, 0, NULL), 0);
    cr_assert_eq(pg_protect(&c, root, 0x1000, 0x2000, PTE_P, 0, 0, NULL), -PG_EINVAL);
    cr_assert_eq(pg_protect(&c, root, 0x1000, 0x2000, PTE_PS, 0, 0, NULL), -PG_EINVAL);
    cr_assert_eq(pg_protect(&c, root, 0x1000, 0x2000, PTE_W, 0, 0, NULL), -PG_ENOTMAPPED);
    cr_assert_eq(pg_unmap(&c, root, 0x1000, 0x2000, 0, NULL), 0);     /* holes are fine */
    cr_assert_eq(pg_unmap(&c, 0x7000000000ULL, 0x1000, 0x2000, 0, NULL), -PG_EIO);
    struct pg_ctx bad = c;
    bad.levels = 1;
    cr_assert_eq(pg_map(&bad, root, 0x1000, 0x2000, 0, __PAGE_KERNEL, PG_MASK_4K, 0, NULL), -PG_EINVAL);
    /* The last page of the address space (end == 0). */
    cr_assert_eq(pg_map(&c, root, 0xFFFFFFFFFFFFF000ULL, 0, 0x5000, __PAGE_KERNEL, PG_MASK_4K, 0, NULL), 0);
    phys_addr_t pa;
    cr_assert_eq(pg_translate(&c, root, 0xFFFFFFFFFFFFF008ULL, &pa, NULL, NULL), 0);
    cr_assert_eq(pa, 0x5008);
    struct pg_flush f;
    pg_flush_init(&f);
    cr_assert_eq(pg_unmap(&c, root, 0xFFFFFFFFFFFFF000ULL, 0, 0, &f), 0);
    cr_assert_eq(f.start, 0xFFFFFFFFFFFFF000ULL);
    cr_assert_eq(f.end, 0);
    cr_assert_eq(A.live, 1);
    /* Unreadable intermediate table. */
    arena_set64(&A, root, 3, 0x7000000000ULL | _PAGE_TABLE);
    cr_assert_eq(pg_map(&c, root, 0x18000000000ULL, 0x18000001000ULL, 0, __PAGE_KERNEL, PG_MASK_4K, 0, NULL), -PG_EIO);
    /* No allocator. */
    c.alloc_table = NULL;
    cr_assert_eq(pg_map(&c, root, 0x1000, 0x2000, 0, __PAGE_KERNEL, PG_MASK_4K, 0, NULL), -PG_ENOMEM);
}

/* ---- ENOMEM at every allocation point ---- */

typedef int (*op_fn)(const struct pg_ctx *c, phys_addr_t root);

static void enomem_everywhere(const struct pg_ctx *c, phys_addr_t root, op_fn op, long needed)
{
    struct arena_snap s;
    arena_snapshot(&A, &s);
    for (long k = 0; k < needed; k++) {
        A.fail_after = k;
        cr_assert_eq(op(c, root), -PG_ENOMEM, "allocation %ld", k);
        cr_assert(arena_same(&A, &s), "tree changed after ENOMEM at allocation %ld", k);
        cr_assert_eq(A.faults, 0);
    }
    A.fail_after = -1;
    size_t before = A.live;
    cr_assert_eq(op(c, root), 0);
    cr_assert_eq((long)(A.live - before), needed);
    arena_snap_free(&s);
}

static int op_map_new(const struct pg_ctx *c, phys_addr_t root)
{
    /* Needs a PDPT, a PD and two PTs below a fresh PML4 slot. */
    return pg_map(c, root, 0x8000001000ULL, 0x8000400000ULL + 0x1000, 0x1000, __PAGE_KERNEL,
                  PG_MASK_2M, 0, NULL);
}

static int op_map_replace_split(const struct pg_ctx *c, phys_addr_t root)
{
    /* Splits a 1G page into 2M pages and one of them into 4K pages. */
    return pg_map(c, root, 0x40300000, 0x40301000, 0x9000, __PAGE_KERNEL, PG_MASK_4K, PG_MAP_REPLACE, NULL);
}

static int op_unmap_split(const struct pg_ctx *c, phys_addr_t root)
{
    return pg_unmap(c, root, 0x40700000, 0x40701000, 0, NULL);
}

static int op_protect_split(const struct pg_ctx *c, phys_addr_t root)
{
    return pg_protect(c, root, 0x40A00000, 0x40A01000, PTE_U, 0, 0, NULL);
}

Test(map, enomem_at_every_allocation)
{
    struct pg_ctx c = arena_ctx(&A, 4);
    phys_addr_t root = arena_root(&A);
    cr_assert_eq(pg_map(&c, root, 0x1000, 0x3000, 0x1000, __PAGE_KERNEL, PG_MASK_4K, 0, NULL), 0);
    cr_assert_eq(pg_map(&c, root, GiB, 2 * GiB, GiB, __PAGE_KERNEL_EXEC, PG_MASK_1G, 0, NULL), 0);
    cr_assert_eq(pg_map(&c, root, 0xFFFFFFFF80000000ULL, 0xFFFFFFFF80800000ULL, 0, __PAGE_KERNEL_LARGE_EXEC,
                        PG_MASK_2M, 0, NULL), 0);
    enomem_everywhere(&c, root, op_map_new, 4);
    enomem_everywhere(&c, root, op_map_replace_split, 2);
    enomem_everywhere(&c, root, op_unmap_split, 1);
    enomem_everywhere(&c, root, op_protect_split, 1);
    check_tables(&c, root);
}

/* ---- property test ---- */

struct model {
    unsigned levels;
    uint64_t unit;          /* bytes per model entry: 4 KiB, or 2 MiB for the 1G runs */
    uint64_t base;          /* window start (canonical) */
    size_t npages;
    uint64_t *page;         /* 0: unmapped; else pa | 1 */
    uint64_t *prot;
};

static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}
static uint64_t rnd_below(uint64_t n) { return rnd() % n; }

struct collect {
    struct model *m;
    uint64_t *page;
    uint64_t *prot;
};

static int collect_leaf(void *arg, const struct pg_range *r)
{
    struct collect *c = arg;
    if (r->kind != PG_RANGE_MAPPED) {
        cr_assert_fail("unexpected range kind %d", r->kind);
    }
    uint64_t unit = c->m->unit;
    cr_assert_eq(r->size % unit, 0, "leaf smaller than the model unit");
    for (uint64_t off = 0; off < r->size; off += unit) {
        uint64_t va = r->start + off;
        if (va < c->m->base || va >= c->m->base + c->m->npages * unit)
            cr_assert_fail("mapping outside the window at %llx", (unsigned long long)va);
        size_t i = (size_t)((va - c->m->base) / unit);
        c->page[i] = (r->pa + off) | 1;
        c->prot[i] = r->prot;
    }
    return 0;
}

static void model_check(const struct pg_ctx *c, phys_addr_t root, struct model *m, uint64_t step)
{
    struct collect col = { m, calloc(m->npages, 8), calloc(m->npages, 8) };
    struct pg_iter_opts o = { .merge = PG_MERGE_RAW, .flags = PG_ITER_PHYS_CONTIG };
    cr_assert_eq(pg_iterate(c, root, &o, collect_leaf, &col), 0);
    for (size_t i = 0; i < m->npages; i++) {
        if (col.page[i] != m->page[i] || (m->page[i] && col.prot[i] != m->prot[i]))
            cr_assert_fail("step %llu: page %zu (va %llx): tables %llx/%llx, model %llx/%llx",
                           (unsigned long long)step, i, (unsigned long long)(m->base + i * m->unit),
                           (unsigned long long)col.page[i], (unsigned long long)col.prot[i],
                           (unsigned long long)m->page[i], (unsigned long long)m->prot[i]);
    }
    free(col.page);
    free(col.prot);
    check_tables(c, root);
}

static void property_run(unsigned levels, uint64_t base, size_t npages, uint64_t unit, unsigned steps,
                         uint64_t seed)
{
    rng_state = seed;
    struct pg_ctx c = arena_ctx(&A, levels);
    phys_addr_t root = arena_root(&A);
    struct model m = { levels, unit, base, npages, calloc(npages, 8), calloc(npages, 8) };
    uint64_t *old_page = calloc(npages, 8), *old_prot = calloc(npages, 8);
    const uint64_t big = pg_level_size(levels, unit == 4096 ? 2 : 3);
    const bool has_nx = levels != 2;
    static const uint64_t prots[] = { __PAGE_KERNEL, __PAGE_KERNEL_EXEC, __PAGE_KERNEL_RO,
                                      PTE_P | PTE_U | PTE_W | PTE_A, PTE_P | PTE_U | PTE_NX };
    static const uint64_t bits[] = { PTE_W, PTE_U, PTE_NX, PTE_G, PTE_PCD, PTE_PAT_LARGE };
    uint64_t nx_drop = has_nx ? 0 : PTE_NX;
    unsigned counts[4] = { 0 };

    for (unsigned step = 0; step < steps; step++) {
        /* A random range: often aligned to large pages, sometimes tiny. */
        size_t first, len;
        size_t big_pages = (size_t)(big / unit);
        if (rnd_below(3) == 0) {
            first = (size_t)rnd_below(npages / big_pages) * big_pages;
            len = (size_t)(1 + rnd_below(3)) * big_pages;
        } else {
            first = (size_t)rnd_below(npages);
            len = 1 + (size_t)rnd_below(rnd_below(4) == 0 ? npages / 2 : 16);
        }
        if (first + len > npages)
            len = npages - first;
        uint64_t start = base + first * unit, end = start + len * unit;
        memcpy(old_page, m.page, npages * 8);
        memcpy(old_prot, m.prot, npages * 8);
        int inject = rnd_below(10) == 0;
        A.fail_after = inject ? (long)rnd_below(3) : -1;
        struct arena_snap snap;
        if (inject)
            arena_snapshot(&A, &snap);
        struct pg_flush f;
        pg_flush_init(&f);
        int kind = (int)rnd_below(3), r, expect = 0;

        if (kind == 0) {
            uint64_t pa = (rnd_below(64) * big) + ((rnd_below(4) == 0 ? rnd_below(big_pages) * unit : 0)) +
                          (start & (big - 1));
            uint64_t prot = prots[rnd_below(5)] & ~nx_drop;
            unsigned mask = rnd_below(2) ? PG_MASK_1G : (unit == 4096 ? PG_MASK_4K : PG_MASK_2M);
            unsigned flags = rnd_below(4) ? PG_MAP_REPLACE : 0;
            if (!flags)
                for (size_t i = first; i < first + len; i++)
                    if (m.page[i])
                        expect = -PG_EEXIST;
            r = pg_map(&c, root, start, end, pa, prot, mask, flags, &f);
            if (r == 0)
                for (size_t i = 0; i < len; i++) {
                    m.page[first + i] = (pa + i * unit) | 1;
                    m.prot[first + i] = prot;
                }
        } else if (kind == 1) {
            r = pg_unmap(&c, root, start, end, 0, &f);
            if (r == 0)
                for (size_t i = first; i < first + len; i++)
                    m.page[i] = m.prot[i] = 0;
        } else {
            uint64_t set = bits[rnd_below(6)] & ~nx_drop, clear = bits[rnd_below(6)] & ~nx_drop;
            if (set == clear)
                clear = 0;
            for (size_t i = first; i < first + len; i++)
                if (!m.page[i])
                    expect = -PG_ENOTMAPPED;
            r = pg_protect(&c, root, start, end, set, clear, 0, &f);
            if (r == 0)
                for (size_t i = first; i < first + len; i++)
                    m.prot[i] = (m.prot[i] & ~clear) | set;
        }
        A.fail_after = -1;
        if (r == -PG_ENOMEM && inject) {
            cr_assert(arena_same(&A, &snap), "step %u: ENOMEM changed the tables", step);
            memcpy(m.page, old_page, npages * 8);
            memcpy(m.prot, old_prot, npages * 8);
            counts[3]++;
        } else {
            cr_assert_eq(r, expect, "step %u op %d [%llx, %llx): %s", step, kind,
                         (unsigned long long)start, (unsigned long long)end, pg_strerror(r));
            counts[r == 0 ? 0 : r == -PG_EEXIST ? 1 : 2]++;
        }
        if (inject)
            arena_snap_free(&snap);

        /* Every page whose present translation changed is inside the flush range. */
        for (size_t i = 0; i < npages; i++) {
            if (!old_page[i] || (old_page[i] == m.page[i] && old_prot[i] == m.prot[i]))
                continue;
            uint64_t va = base + i * unit;
            cr_assert(f.pages && va >= f.start && va - f.start < f.end - f.start,
                      "step %u: page %llx changed without a flush", step, (unsigned long long)va);
        }
        model_check(&c, root, &m, step);
    }
    /* Unmapping everything leaves only the root. */
    cr_assert_eq(pg_unmap(&c, root, base, base + npages * unit, 0, NULL), 0);
    cr_assert_eq(A.live, 1);
    cr_assert_eq(A.faults, 0);
    cr_assert(counts[0] > steps / 3, "too few successful operations (%u)", counts[0]);
    free(m.page);
    free(m.prot);
    free(old_page);
    free(old_prot);
}

Test(property, four_level, .timeout = 120)
{
    /* 64 MiB around the 512 GiB boundary: two PML4 slots. */
    property_run(4, 0x8000000000ULL - 32 * MiB, 16384, 4096, 2000, 0x9E3779B97F4A7C15ULL);
}

Test(property, four_level_1g, .timeout = 120)
{
    /* 4 GiB of the direct map at 2 MiB granularity: 1G pages, splits into 2M. */
    property_run(4, 0xFFFF888000000000ULL - GiB, 2048, 2 * MiB, 1500, 12345);
}

Test(property, five_level, .timeout = 120)
{
    property_run(5, 0xFF11000000000000ULL - 16 * MiB, 16384, 4096, 1500, 777);
}

Test(property, five_level_1g, .timeout = 120)
{
    property_run(5, 0xFF11000000000000ULL - GiB, 2048, 2 * MiB, 1000, 31337);
}

Test(property, pae, .timeout = 120)
{
    property_run(3, 0xBF000000ULL, 16384, 4096, 1500, 4242);
}

Test(property, thirty_two_bit, .timeout = 120)
{
    property_run(2, 0xBE000000ULL, 16384, 4096, 1500, 99);
}
