/*
 * test_paging_iter.c: pg_iterate: VA order, the two merge policies (golden
 * outputs), holes, ranges, cycles (a recursive slot), shared tables (with
 * and without expansion, reference counts, the ESPfix case of one table
 * referenced 65,536 times), unreadable pointers, memo exhaustion, early stop;
 * pg_count_expanded against the expanded walk.
 */
#include <criterion/criterion.h>
#include <time.h>
#include "arena.h"
#include "golden/golden.h"
#include "test_paging_trees.h"

static struct arena A;

static void setup(void) { arena_init(&A, 1024); }
static void teardown(void) { arena_fini(&A); }

TestSuite(iter, .init = setup, .fini = teardown);

static const char *const kind_names[] = { "map", "hole", "unreadable", "shared", "cycle" };

/* Print ranges one per line into a strbuf. */
static int print_range(void *arg, const struct pg_range *r)
{
    struct strbuf *b = arg;
    char line[256];
    int n = snprintf(line, sizeof(line),
                     "%016llx +%-12llx %-10s L%d prot=%016llx pa=%llx eff=%llx n=%llu refs=%u\n",
                     (unsigned long long)r->start, (unsigned long long)r->size, kind_names[r->kind],
                     r->level, (unsigned long long)r->prot, (unsigned long long)r->pa,
                     (unsigned long long)r->eff, (unsigned long long)r->count, r->refs);
    strbuf_write(b, line, (size_t)n);
    return 0;
}

/* The ranges of root as text (print_range), compared with a golden file. */
static void iterate_golden(const struct pg_ctx *c, phys_addr_t root, const struct pg_iter_opts *o,
                           const char *golden)
{
    struct strbuf b = { 0 };
    strbuf_write(&b, "", 0);
    int r = pg_iterate(c, root, o, print_range, &b);
    cr_assert_eq(r, 0, "pg_iterate: %s", pg_strerror(r));
    golden_check(golden, b.s);
    free(b.s);
}

Test(iter, golden_raw_and_rights)
{
    struct pg_ctx c = arena_ctx(&A, 4);
    phys_addr_t root = build_linux_like(&A, &c);
    struct pg_memo_slot memo[256];
    struct pg_iter_opts o = { .merge = PG_MERGE_RAW, .memo = memo, .memo_slots = 256 };
    iterate_golden(&c, root, &o, "iter_4level_raw.txt");
    o.merge = PG_MERGE_RIGHTS;
    o.flags = PG_ITER_HOLES;
    iterate_golden(&c, root, &o, "iter_4level_rights_holes.txt");
    o.merge = PG_MERGE_RAW;
    o.flags = PG_ITER_PHYS_CONTIG | PG_ITER_EXPAND_FIRST;
    iterate_golden(&c, root, &o, "iter_4level_raw_phys_first.txt");
}

Test(iter, golden_other_modes)
{
    struct pg_memo_slot memo[256];
    struct pg_iter_opts o = { .merge = PG_MERGE_RAW, .memo = memo, .memo_slots = 256 };
    struct pg_ctx c = arena_ctx(&A, 5);
    phys_addr_t root = build_linux_like(&A, &c);
    iterate_golden(&c, root, &o, "iter_5level_raw.txt");
    c = arena_ctx(&A, 3);
    root = build_pae(&A, &c);
    iterate_golden(&c, root, &o, "iter_pae_raw.txt");
    c = arena_ctx(&A, 2);
    root = build_32bit(&A, &c);
    iterate_golden(&c, root, &o, "iter_32bit_raw.txt");
}

struct tally {
    uint64_t ranges, entries[5], bytes[5];
    virt_addr_t last_start;
    bool ordered;
    unsigned refs;
};

static int tally_range(void *arg, const struct pg_range *r)
{
    struct tally *t = arg;
    if (t->ranges && r->start <= t->last_start)
        t->ordered = false;
    t->last_start = r->start;
    t->ranges++;
    t->entries[r->kind] += r->count;
    t->bytes[r->kind] += r->size;
    if (r->kind == PG_RANGE_SHARED)
        t->refs = r->refs;
    return 0;
}

static struct tally run_tally(const struct pg_ctx *c, phys_addr_t root, const struct pg_iter_opts *o)
{
    struct tally t = { .ordered = true };
    int r = pg_iterate(c, root, o, tally_range, &t);
    cr_assert_eq(r, 0, "%s", pg_strerror(r));
    cr_assert(t.ordered, "ranges out of VA order");
    return t;
}

Test(iter, recursive_slot_is_a_cycle)
{
    struct pg_ctx c = arena_ctx(&A, 4);
    phys_addr_t root = arena_root(&A);
    t_map(&c, root, 0x400000, 0x3000, 0x3000000, __PAGE_KERNEL, PG_MASK_4K);
    arena_set64(&A, root, 510, root | PTE_P | PTE_W);
    struct pg_memo_slot memo[64];
    struct pg_iter_opts o = { .merge = PG_MERGE_RAW, .memo = memo, .memo_slots = 64 };
    struct tally t = run_tally(&c, root, &o);
    cr_assert_eq(t.entries[PG_RANGE_CYCLE], 1);
    cr_assert_eq(t.bytes[PG_RANGE_CYCLE], 1ULL << 39);
    cr_assert_eq(t.entries[PG_RANGE_MAPPED], 3);
    iterate_golden(&c, root, &o, "iter_recursive.txt");
    /* Expanded through the window, the walk is finite: every table shows up as a page. */
    o.flags = PG_ITER_EXPAND_CYCLES;
    o.merge = PG_MERGE_NONE;
    t = run_tally(&c, root, &o);
    /* 3 pages + through R: PDPT, PD, PT (as pages via R,R,R... ) */
    cr_assert_gt(t.entries[PG_RANGE_MAPPED], 3);
    cr_assert_eq(t.entries[PG_RANGE_CYCLE], 0);
    /* Without a memo cycles are still detected. */
    o.flags = 0;
    o.memo = NULL;
    t = run_tally(&c, root, &o);
    cr_assert_eq(t.entries[PG_RANGE_CYCLE], 1);
}

Test(iter, shared_pt_referenced_by_many_pmds)
{
    struct pg_ctx c = arena_ctx(&A, 4);
    phys_addr_t root = arena_root(&A), pdpt = arena_root(&A), pd = arena_root(&A), pt = arena_root(&A);
    arena_set64(&A, root, 0, pdpt | _PAGE_TABLE);
    arena_set64(&A, pdpt, 0, pd | _PAGE_TABLE);
    for (unsigned i = 0; i < 64; i++)
        arena_set64(&A, pd, i, pt | _PAGE_TABLE);
    for (unsigned i = 0; i < 4; i++)
        arena_set64(&A, pt, i, (0x9000000 + i * 4096) | __PAGE_KERNEL);

    struct pg_memo_slot memo[16];
    struct pg_iter_opts o = { .merge = PG_MERGE_RAW, .memo = memo, .memo_slots = 16 };
    struct tally t = run_tally(&c, root, &o);
    cr_assert_eq(t.ranges, 1);                     /* 64 references merged into one range */
    cr_assert_eq(t.entries[PG_RANGE_SHARED], 64);
    cr_assert_eq(t.refs, 64);
    cr_assert_eq(t.entries[PG_RANGE_MAPPED], 0);

    o.flags = PG_ITER_EXPAND_FIRST;
    t = run_tally(&c, root, &o);
    cr_assert_eq(t.entries[PG_RANGE_MAPPED], 4);
    cr_assert_eq(t.entries[PG_RANGE_SHARED], 63);

    o.flags = PG_ITER_EXPAND_SHARED;
    t = run_tally(&c, root, &o);
    cr_assert_eq(t.entries[PG_RANGE_MAPPED], 4 * 64);
    cr_assert_eq(t.entries[PG_RANGE_SHARED], 0);

    /* No memo: everything expanded. */
    o.memo = NULL;
    o.flags = 0;
    t = run_tally(&c, root, &o);
    cr_assert_eq(t.entries[PG_RANGE_MAPPED], 4 * 64);

    /* Memo too small: nothing reported. */
    o.memo = memo;
    o.memo_slots = 3;
    struct tally t2 = { .ordered = true };
    cr_assert_eq(pg_iterate(&c, root, &o, tally_range, &t2), -PG_ENOSPC);
    cr_assert_eq(t2.ranges, 0);
}

/* An ESPfix-like tree: root[510] -> a PUD whose first npmd PMDs all point, 512 times
 * each, to one PT (returned in *pt); *pud receives the PUD. */
static phys_addr_t build_espfix(unsigned npmd, phys_addr_t *pud, phys_addr_t *pt)
{
    phys_addr_t root = arena_root(&A);
    *pud = arena_root(&A);
    *pt = arena_root(&A);
    arena_set64(&A, root, 510, *pud | _KERNPG_TABLE);
    for (unsigned i = 0; i < npmd; i++) {
        phys_addr_t pmd = arena_root(&A);
        arena_set64(&A, *pud, i, pmd | _KERNPG_TABLE);
        for (unsigned k = 0; k < 512; k++)
            arena_set64(&A, pmd, k, *pt | _KERNPG_TABLE);
    }
    return root;
}

Test(iter, espfix_65536_references_fast)
{
    /* 128 PMD tables whose 512 entries all point to the same PT: 65,536 references. */
    struct pg_ctx c = arena_ctx(&A, 4);
    phys_addr_t pud, pt, root = build_espfix(128, &pud, &pt);
    for (unsigned i = 0; i < 8; i++)
        arena_set64(&A, pt, i * 2, (0x6000000 + i * 0x1000) | __PAGE_KERNEL_RO);

    struct pg_memo_slot memo[512];
    struct pg_iter_opts o = { .merge = PG_MERGE_RAW, .memo = memo, .memo_slots = 512 };
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct tally t = run_tally(&c, root, &o);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cr_assert_eq(t.ranges, 1);
    cr_assert_eq(t.entries[PG_RANGE_SHARED], 65536);
    cr_assert_eq(t.refs, 65536);
    cr_assert_eq(t.bytes[PG_RANGE_SHARED], 128ULL << 30);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    cr_log_info("ESPfix-like tree, not expanded: %.2f ms", ms);

    /* Expanded: every alias of the 8 pages (524,288 leaves), still correct. */
    o.flags = PG_ITER_EXPAND_SHARED;
    t = run_tally(&c, root, &o);
    cr_assert_eq(t.entries[PG_RANGE_MAPPED], 8ULL * 65536);
}

Test(iter, unreadable_pointer_is_a_hole)
{
    struct pg_ctx c = arena_ctx(&A, 4);
    phys_addr_t root = arena_root(&A);
    t_map(&c, root, 0x200000, 0x1000, 0x1000, __PAGE_KERNEL, PG_MASK_4K);
    struct pg_entry d;
    pg_entry_decode(&c, 4, ((uint64_t *)arena_p2v(&A, root))[0], &d);
    phys_addr_t pdpt = d.addr;
    pg_entry_decode(&c, 3, ((uint64_t *)arena_p2v(&A, pdpt))[0], &d);
    arena_set64(&A, d.addr, 5, 0x7000000000ULL | _PAGE_TABLE);    /* PD[5] -> outside */
    struct pg_iter_opts o = { .merge = PG_MERGE_RAW };
    struct tally t = run_tally(&c, root, &o);
    cr_assert_eq(t.entries[PG_RANGE_UNREADABLE], 1);
    cr_assert_eq(t.bytes[PG_RANGE_UNREADABLE], 2ULL << 20);
    cr_assert_eq(t.entries[PG_RANGE_MAPPED], 1);
    iterate_golden(&c, root, &o, "iter_unreadable.txt");
    /* An unreadable root is an error. */
    cr_assert_eq(pg_iterate(&c, 0x7000000000ULL, &o, tally_range, &t), -PG_EIO);
}

static int stop_at_second(void *arg, const struct pg_range *r)
{
    (void)r;
    return ++*(int *)arg == 2 ? 42 : 0;
}

Test(iter, ranges_and_stop)
{
    struct pg_ctx c = arena_ctx(&A, 4);
    phys_addr_t root = build_linux_like(&A, &c);
    /* Only the kernel text area; a range starting inside a large page is clipped. */
    struct pg_iter_opts o = { .start = 0xFFFFFFFF81100000ULL, .end = 0xFFFFFFFF82000000ULL,
                              .merge = PG_MERGE_RAW };
    struct tally t = run_tally(&c, root, &o);
    cr_assert_eq(t.ranges, 1);
    cr_assert_eq(t.bytes[PG_RANGE_MAPPED], 0xF00000);
    o.start = 0x0000800000000000ULL;
    cr_assert_eq(pg_iterate(&c, root, &o, tally_range, &t), -PG_ERANGE);
    int n = 0;
    cr_assert_eq(pg_iterate(&c, root, NULL, stop_at_second, &n), 42);
    cr_assert_eq(pg_iterate(&c, root, NULL, NULL, NULL), -PG_EINVAL);
    /* Ranges never cross the canonical hole, even when both sides are holes. */
    o = (struct pg_iter_opts){ .merge = PG_MERGE_RIGHTS, .flags = PG_ITER_HOLES };
    struct pg_ctx e = arena_ctx(&A, 4);
    phys_addr_t empty = arena_root(&A);
    t = run_tally(&e, empty, &o);
    cr_assert_eq(t.ranges, 2);
    cr_assert_eq(t.entries[PG_RANGE_HOLE], 512);
}

/* pg_count_tables: distinct tables per level, shared ones once, cycles not followed. */
Test(iter, count_tables_per_level)
{
    struct pg_ctx c = arena_ctx(&A, 4);
    phys_addr_t root = arena_root(&A), pdpt = arena_root(&A), pd = arena_root(&A), pt = arena_root(&A);
    uint64_t n[PG_MAX_LEVELS + 1];
    struct pg_memo_slot memo[32];

    cr_assert_eq(pg_count_tables(&c, root, memo, 32, n), 0);
    cr_assert_eq(n[4], 1);
    cr_assert_eq(n[3] + n[2] + n[1], 0);

    arena_set64(&A, root, 0, pdpt | _PAGE_TABLE);
    arena_set64(&A, pdpt, 0, pd | _PAGE_TABLE);
    for (unsigned i = 0; i < 64; i++)
        arena_set64(&A, pd, i, pt | _PAGE_TABLE);           /* one PT, 64 references */
    arena_set64(&A, root, 510, root | PTE_P | PTE_W);        /* a recursive slot */
    cr_assert_eq(pg_count_tables(&c, root, memo, 32, n), 0);
    cr_assert_eq(n[0], 0);
    cr_assert_eq(n[4], 1);
    cr_assert_eq(n[3], 1);
    cr_assert_eq(n[2], 1);
    cr_assert_eq(n[1], 1, "a shared table counts once");

    /* A map of 1 GiB + 2 MiB + 4 KiB needs exactly one new table per level below. */
    phys_addr_t root2 = arena_root(&A);
    t_map(&c, root2, 0x40000000, 0x40000000 + 0x200000 + 0x1000, 0x40000000, __PAGE_KERNEL, PG_MASK_1G);
    cr_assert_eq(pg_count_tables(&c, root2, memo, 32, n), 0);
    cr_assert_eq(n[4] + n[3] + n[2] + n[1], 1 + 1 + 1 + 1);

    cr_assert_eq(pg_count_tables(&c, root, memo, 2, n), -PG_ENOSPC);
    cr_assert_eq(pg_count_tables(&c, root, NULL, 32, n), -PG_EINVAL);
}

/* The ranges of a walk with no merging, holes, everything expanded: what pg_count_expanded counts. */
static uint64_t walked_count(const struct pg_ctx *c, phys_addr_t root, virt_addr_t start,
                             virt_addr_t end)
{
    struct pg_iter_opts o = { .start = start, .end = end, .merge = PG_MERGE_NONE,
                              .flags = PG_ITER_HOLES | PG_ITER_EXPAND_SHARED | PG_ITER_EXPAND_CYCLES };
    return run_tally(c, root, &o).ranges;
}

static uint64_t counted(const struct pg_ctx *c, phys_addr_t root, virt_addr_t start,
                        virt_addr_t end, uint64_t cap)
{
    static struct pg_memo_slot memo[1024];
    struct pg_iter_opts o = { .start = start, .end = end, .memo = memo, .memo_slots = 1024 };
    uint64_t n = 12345;
    int r = pg_count_expanded(c, root, &o, cap, &n);
    cr_assert_eq(r, 0, "pg_count_expanded: %s", pg_strerror(r));
    return n;
}

/* pg_count_expanded equals the expanded walk's range count, without expanding. */
Test(iter, count_expanded_equals_the_walk)
{
    for (unsigned levels = 2; levels <= 5; levels++) {
        struct pg_ctx c = arena_ctx(&A, levels);
        phys_addr_t root = levels == 2 ? build_32bit(&A, &c) :
                           levels == 3 ? build_pae(&A, &c) : build_linux_like(&A, &c);
        cr_assert_eq(counted(&c, root, 0, 0, UINT64_MAX), walked_count(&c, root, 0, 0),
                     "%u levels", levels);
    }
    struct pg_ctx c = arena_ctx(&A, 4);
    phys_addr_t root = build_linux_like(&A, &c);
    /* A recursive slot (followed down to the PTs) and a shared PT. */
    arena_set64(&A, root, 300, root | PTE_P | PTE_W);
    uint64_t all = walked_count(&c, root, 0, 0);
    cr_assert_eq(counted(&c, root, 0, 0, UINT64_MAX), all);
    /* Ranges clipped inside tables, across the canonical hole, and caps. */
    static const virt_addr_t ranges[][2] = {
        { 0xFFFFFFFF81100000ULL, 0xFFFFFFFF82000000ULL },
        { 0x1000, 0xFFFF960000123000ULL },
        { 0xFFFF968000000000ULL, 0 },
        { 0x7FFFFFFFF000ULL, 0xFFFF800000001000ULL },
    };
    for (unsigned i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
        cr_assert_eq(counted(&c, root, ranges[i][0], ranges[i][1], UINT64_MAX),
                     walked_count(&c, root, ranges[i][0], ranges[i][1]), "range %u", i);
    cr_assert_eq(counted(&c, root, 0, 0, all), all);
    cr_assert_eq(counted(&c, root, 0, 0, all - 1), all - 1, "capped");
    cr_assert_eq(counted(&c, root, 0, 0, 10), 10, "capped");
    /* Errors: no memo, a bad range, an unreadable root, a memo too small. */
    struct pg_memo_slot memo[2];
    uint64_t n;
    struct pg_iter_opts o = { 0 };
    cr_assert_eq(pg_count_expanded(&c, root, &o, 10, &n), -PG_EINVAL);
    o.memo = memo;
    o.memo_slots = 2;
    cr_assert_eq(pg_count_expanded(&c, root, &o, UINT64_MAX, &n), -PG_ENOSPC);
    o.start = 0x0000800000000000ULL;
    cr_assert_eq(pg_count_expanded(&c, root, &o, 10, &n), -PG_ERANGE);
    o.start = 0;
    cr_assert_eq(pg_count_expanded(&c, 0x7000000000ULL, &o, 10, &n), -PG_EIO);
}

/* The ESPfix tree: 65,536 references to one PT counted at once, and an unreadable PT. */
Test(iter, count_expanded_shared_and_unreadable)
{
    struct pg_ctx c = arena_ctx(&A, 4);
    phys_addr_t pud, pt, root = build_espfix(16, &pud, &pt);
    (void)pt;
    arena_set64(&A, pud, 20, 0x7000000000ULL | _KERNPG_TABLE);     /* unreadable PMD */
    uint64_t want = 511 + (512 - 17) + 16ULL * 512 * 512 + 1;
    cr_assert_eq(walked_count(&c, root, 0, 0), want);
    cr_assert_eq(counted(&c, root, 0, 0, UINT64_MAX), want);
}
