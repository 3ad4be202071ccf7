/*
 * test_paging_vmap.c: the operations of a shared kernel area (vmap.h) and
 * the memory-type rule (pat.h).
 *
 * pg_populate_top: every top-level entry of a range gets a table, once;
 * present entries stay; errors. pg_unmap_keep_tables: leaves go, every
 * table stays (compared with pg_unmap, which frees them), the flush report,
 * large leaves inside and across the range, holes, nothing written on error.
 * PAT: index from PAT/PCD/PWT, types through the reset PAT and Linux's PAT,
 * and the bits that select a type.
 */
#include <criterion/criterion.h>
#include <paging/pat.h>
#include <paging/vmap.h>
#include "arena.h"

static struct arena A;

static void setup(void) { arena_init(&A, 512); }
static void teardown(void) { arena_fini(&A); }

TestSuite(vmap, .init = setup, .fini = teardown);

#define KiB4 0x1000ULL
#define MiB2 0x200000ULL
#define GiB (1ULL << 30)
#define VMALLOC_L4 0xffffc90000000000ULL
#define VMALLOC_L5 0xffa0000000000000ULL

static uint64_t top_entry(phys_addr_t root, unsigned i)
{
    return ((uint64_t *)arena_p2v(&A, root))[i];
}

Test(vmap, populate_top_linux_vmalloc_areas)
{
    /* Linux's vmalloc areas: 32 TiB at 0xffffc90000000000 (PGD 402..465) and 12800 TiB at
     * 0xffa0000000000000 (PML5 416..465). */
    static const struct { unsigned levels; virt_addr_t start; uint64_t tib; unsigned first, count; } cases[] = {
        { 4, VMALLOC_L4, 32, 402, 64 },
        { 5, VMALLOC_L5, 12800, 416, 50 },
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        struct pg_ctx c = arena_ctx(&A, cases[k].levels);
        phys_addr_t root = arena_root(&A);
        unsigned n;
        cr_assert_eq(pg_populate_top(&c, root, cases[k].start, cases[k].start + (cases[k].tib << 40), &n), 0);
        cr_assert_eq(n, cases[k].count);
        for (unsigned i = 0; i < 512; i++) {
            uint64_t e = top_entry(root, i);
            cr_assert_eq(e != 0, i >= cases[k].first && i < cases[k].first + cases[k].count, "entry %u", i);
            if (e)
                cr_assert_eq(e & 0xfff, 0x067, "linked with _PAGE_TABLE");
        }
        /* Again: nothing new. */
        cr_assert_eq(pg_populate_top(&c, root, cases[k].start, cases[k].start + (cases[k].tib << 40), &n), 0);
        cr_assert_eq(n, 0);
    }
}

Test(vmap, populate_top_alignment_flags_and_errors)
{
    struct pg_ctx c = arena_ctx(&A, 4);
    phys_addr_t root = arena_root(&A);
    unsigned n;
    /* A range that is not 512 GiB aligned touches one entry more. */
    cr_assert_eq(pg_populate_top(&c, root, VMALLOC_L4 + GiB, VMALLOC_L4 + GiB + (32ULL << 40), &n), 0);
    cr_assert_eq(n, 65);
    /* table_flags are used when set. */
    c.table_flags = _KERNPG_TABLE;
    cr_assert_eq(pg_populate_top(&c, root, 0xffff888000000000ULL, 0xffff888000001000ULL, &n), 0);
    cr_assert_eq(top_entry(root, 273) & 0xfff, 0x063);
    c = arena_ctx(&A, 5);
    root = arena_root(&A);
    cr_assert_eq(pg_populate_top(&c, root, 0x0100000000000000ULL, 0x0100000000001000ULL, &n), -PG_ERANGE);
    cr_assert_eq(pg_populate_top(&c, root, 0x1000, 0xffa0000000000000ULL, &n), -PG_ERANGE, "both halves");
    A.fail_after = 0;
    cr_assert_eq(pg_populate_top(&c, root, 0x1000, 0x2000, &n), -PG_ENOMEM);
    A.fail_after = -1;
    arena_set64(&A, root, 3, 0x2); /* not present, not empty */
    cr_assert_eq(pg_populate_top(&c, root, 3ULL << 48, 4ULL << 48, &n), -PG_EINVAL);
}

/* Count the frames the arena holds. */
static size_t live(void) { return A.live; }

Test(vmap, unmap_keep_tables_keeps_every_table)
{
    struct pg_ctx c = arena_ctx(&A, 4);
    phys_addr_t root = arena_root(&A);
    virt_addr_t va = VMALLOC_L4 + 5 * KiB4;
    cr_assert_eq(pg_map(&c, root, va, va + 3 * KiB4, 0x1234000, __PAGE_KERNEL, PG_MASK_4K, 0, NULL), 0);
    size_t tables = live();
    struct pg_flush f;
    pg_flush_init(&f);
    /* A range larger than the mapping, holes on both sides. */
    cr_assert_eq(pg_unmap_keep_tables(&c, root, VMALLOC_L4, VMALLOC_L4 + 16 * KiB4, &f), 0);
    cr_assert_eq(live(), tables, "no table freed");
    cr_assert_eq(f.pages, 3);
    cr_assert_eq(f.start, va);
    cr_assert_eq(f.end, va + 3 * KiB4);
    cr_assert(!f.tables_freed);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(pg_translate(&c, root, va + (uint64_t)i * KiB4, NULL, NULL, NULL), -PG_ENOTMAPPED);
    /* pg_unmap would have freed the PT, PD and PDPT. */
    cr_assert_eq(pg_map(&c, root, va, va + KiB4, 0x1234000, __PAGE_KERNEL, PG_MASK_4K, 0, NULL), 0);
    cr_assert_eq(pg_unmap(&c, root, va, va + KiB4, 0, NULL), 0);
    cr_assert_eq(live(), tables - 3);
    /* An empty range of a populated area: nothing to do, nothing reported. */
    pg_flush_init(&f);
    cr_assert_eq(pg_unmap_keep_tables(&c, root, VMALLOC_L4, VMALLOC_L4 + 64 * GiB, &f), 0);
    cr_assert_eq(f.pages, 0);
}

Test(vmap, unmap_keep_tables_large_leaves)
{
    struct pg_ctx c = arena_ctx(&A, 4);
    phys_addr_t root = arena_root(&A);
    virt_addr_t va = VMALLOC_L4 + 16 * MiB2;
    /* 4 MiB at a 2 MiB-aligned PA: two 2 MiB leaves. */
    cr_assert_eq(pg_map(&c, root, va, va + 2 * MiB2, 0xfd000000, __PAGE_KERNEL, PG_MASK_2M, 0, NULL), 0);
    struct arena_snap snap;
    arena_snapshot(&A, &snap);
    /* A range that cuts a leaf: refused, nothing written (the first leaf included). */
    cr_assert_eq(pg_unmap_keep_tables(&c, root, va, va + MiB2 + KiB4, NULL), -PG_EHUGE);
    cr_assert_eq(pg_unmap_keep_tables(&c, root, va + KiB4, va + 2 * MiB2, NULL), -PG_EHUGE);
    cr_assert(arena_same(&A, &snap));
    arena_snap_free(&snap);
    struct pg_flush f;
    pg_flush_init(&f);
    cr_assert_eq(pg_unmap_keep_tables(&c, root, va, va + 2 * MiB2, &f), 0);
    cr_assert_eq(f.pages, 1024);
    cr_assert_eq(f.start, va);
    cr_assert_eq(f.end, va + 2 * MiB2);
    cr_assert_eq(pg_translate(&c, root, va + MiB2, NULL, NULL, NULL), -PG_ENOTMAPPED);
}

Test(vmap, unmap_keep_tables_errors_and_the_top)
{
    struct pg_ctx c = arena_ctx(&A, 5);
    phys_addr_t root = arena_root(&A);
    cr_assert_eq(pg_unmap_keep_tables(&c, root, 0x1001, 0x3000, NULL), -PG_EALIGN);
    cr_assert_eq(pg_unmap_keep_tables(&c, root, 0x3000, 0x1000, NULL), -PG_ERANGE);
    cr_assert_eq(pg_unmap_keep_tables(&c, root, 0x1000, 0xff00000000000000ULL, NULL), -PG_ERANGE);
    /* The last page of the address space (end == 0). */
    virt_addr_t last = 0xfffffffffffff000ULL;
    cr_assert_eq(pg_map(&c, root, last, 0, 0x5000, __PAGE_KERNEL, PG_MASK_4K, 0, NULL), 0);
    struct pg_flush f;
    pg_flush_init(&f);
    cr_assert_eq(pg_unmap_keep_tables(&c, root, last - 8 * KiB4, 0, &f), 0);
    cr_assert_eq(f.pages, 1);
    cr_assert_eq(f.start, last);
    cr_assert_eq(f.end, 0);
    /* An unreadable table on the way. */
    arena_set64(&A, root, 1, 0x7fff0000000ULL | 0x67);
    cr_assert_eq(pg_unmap_keep_tables(&c, root, 1ULL << 48, (1ULL << 48) + KiB4, NULL), -PG_EIO);
}

Test(vmap, pat_rule)
{
    /* The reset value: WB WT UC- UC WB WT UC- UC. */
    cr_assert_eq(pg_pat_index(0), 0);
    cr_assert_eq(pg_pat_index(PTE_PWT), 1);
    cr_assert_eq(pg_pat_index(PTE_PCD), 2);
    cr_assert_eq(pg_pat_index(PTE_PAT_LARGE | PTE_PCD | PTE_PWT), 7);
    cr_assert_eq(pg_pat_mem_type(PG_PAT_RESET, PTE_PWT), PG_MT_WT);
    cr_assert_eq(pg_pat_mem_type(PG_PAT_RESET, PTE_PCD), PG_MT_UC_MINUS);
    cr_assert_eq(pg_pat_mem_type(PG_PAT_RESET, PTE_PCD | PTE_PWT), PG_MT_UC);
    /* Linux's PAT: WB WC UC- UC WB WP UC- WT. */
    const uint64_t linux_pat = 0x0407050600070106ULL;
    uint64_t prot;
    cr_assert_eq(pg_pat_prot(linux_pat, PG_MT_WB, 8, &prot), 0);
    cr_assert_eq(prot, 0);
    cr_assert_eq(pg_pat_prot(linux_pat, PG_MT_WC, 8, &prot), 0);
    cr_assert_eq(prot, PTE_PWT);
    cr_assert_eq(pg_pat_prot(linux_pat, PG_MT_UC_MINUS, 8, &prot), 0);
    cr_assert_eq(prot, PTE_PCD);
    cr_assert_eq(pg_pat_prot(linux_pat, PG_MT_UC, 8, &prot), 0);
    cr_assert_eq(prot, PTE_PCD | PTE_PWT);
    cr_assert_eq(pg_pat_prot(linux_pat, PG_MT_WP, 8, &prot), 0);
    cr_assert_eq(prot, PTE_PAT_LARGE | PTE_PWT);
    cr_assert_eq(pg_pat_prot(linux_pat, PG_MT_WT, 8, &prot), 0);
    cr_assert_eq(prot, PTE_PAT_LARGE | PTE_PCD | PTE_PWT);
    /* Only the lower four entries: WT is not there; with the reset PAT, WC is nowhere. */
    cr_assert_eq(pg_pat_prot(linux_pat, PG_MT_WT, 4, &prot), -PG_EINVAL);
    cr_assert_eq(pg_pat_prot(PG_PAT_RESET, PG_MT_WC, 8, &prot), -PG_EINVAL);
    cr_assert_eq(pg_pat_prot(linux_pat, PG_MT_WB, 0, &prot), -PG_EINVAL);
    /* Round trip: the bits found select the type. */
    for (unsigned t = 0; t < 8; t++)
        if (pg_pat_prot(linux_pat, t, 8, &prot) == 0)
            cr_assert_eq(pg_pat_mem_type(linux_pat, prot), t);
}
