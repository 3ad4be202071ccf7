/*
 * test_paging_walk.c: pg_walk / pg_translate / pg_entry_lookup over
 * hand-built tables in all four modes and every page size (4K, 2M, 4M with
 * PSE-36, 1G), including not-present entries, reserved bits, non-canonical
 * addresses and unreadable tables.
 */
#include <criterion/criterion.h>
#include "arena.h"

static struct arena A;

static void setup(void) { arena_init(&A, 64); }
static void teardown(void) { arena_fini(&A); }

TestSuite(walk, .init = setup, .fini = teardown);

/* Walk and translate must agree on every mapped address. */
static void check_both(const struct pg_ctx *c, phys_addr_t root, virt_addr_t va, int status,
                       phys_addr_t pa, int level)
{
    struct pg_walk w;
    cr_assert_eq(pg_walk(c, root, va, &w), status, "va %llx: walk %d", (unsigned long long)va,
                 w.status);
    cr_assert_eq(w.status, status);
    phys_addr_t tpa = 0;
    int tl = 0;
    int ts = pg_translate(c, root, va, &tpa, NULL, &tl);
    if (status == -PG_ERSVD)
        return;     /* the fast path does not check reserved bits */
    cr_assert_eq(ts, status);
    if (status == 0) {
        cr_assert_eq(w.pa, pa, "va %llx: pa %llx", (unsigned long long)va, (unsigned long long)w.pa);
        cr_assert_eq(w.leaf_level, level);
        cr_assert_eq(tpa, pa);
        cr_assert_eq(tl, level);
    }
}

/* The path of 0xFFFFFFFF81234567 below the PML4 to the 4 KiB frame 0x5000:
 * PML4[511], PDPT[510], PD[9], PT[0x34]. */
static void map_text_page(phys_addr_t pml4, phys_addr_t pdpt, phys_addr_t pd, phys_addr_t pt)
{
    arena_set64(&A, pml4, 511, pdpt | _KERNPG_TABLE);
    arena_set64(&A, pdpt, 510, pd | _KERNPG_TABLE);
    arena_set64(&A, pd, 9, pt | _KERNPG_TABLE);
    arena_set64(&A, pt, 0x34, 0x5000 | __PAGE_KERNEL);
}

Test(walk, four_level_all_sizes)
{
    struct pg_ctx c = arena_ctx(&A, 4);
    phys_addr_t pml4 = arena_root(&A), pdpt = arena_root(&A), pd = arena_root(&A),
                pt = arena_root(&A), pdpt_lo = arena_root(&A);

    map_text_page(pml4, pdpt, pd, pt);
    arena_set64(&A, pd, 10, 0x40000000 | __PAGE_KERNEL_LARGE_EXEC);
    arena_set64(&A, pd, 11, 0x600000 | 0x2000 | __PAGE_KERNEL_LARGE);  /* reserved bit 13 */
    arena_set64(&A, pdpt, 5, 0x7FFF0000000ULL | _KERNPG_TABLE);        /* outside the arena */
    arena_set64(&A, pml4, 0, pdpt_lo | _PAGE_TABLE);
    arena_set64(&A, pdpt_lo, 1, 0x80000000 | PTE_P | PTE_W | PTE_U | PTE_PS);

    /* 4 KiB */
    struct pg_walk w;
    cr_assert_eq(pg_walk(&c, pml4, 0xFFFFFFFF81234567ULL, &w), 0);
    cr_assert_eq(w.nsteps, 4);
    cr_assert_eq(w.step[0].level, 4);
    cr_assert_eq(w.step[0].table_pa, pml4);
    cr_assert_eq(w.step[0].index, 511);
    cr_assert_eq(w.step[0].entry_pa, pml4 + 511 * 8);
    cr_assert_eq(w.step[1].index, 510);
    cr_assert_eq(w.step[2].index, 9);
    cr_assert_eq(w.step[3].index, 0x34);
    cr_assert_eq(w.step[3].entry, 0x5000 | __PAGE_KERNEL);
    cr_assert_eq(w.step[3].dec.prot, __PAGE_KERNEL);
    cr_assert_eq(w.pa, 0x5567);
    cr_assert_eq(w.page_size, 4096);
    cr_assert(w.writable);
    cr_assert_not(w.user);
    cr_assert(w.nx);
    check_both(&c, pml4, 0xFFFFFFFF81234567ULL, 0, 0x5567, 1);

    /* 2 MiB */
    check_both(&c, pml4, 0xFFFFFFFF81412345ULL, 0, 0x40012345, 2);
    pg_walk(&c, pml4, 0xFFFFFFFF81412345ULL, &w);
    cr_assert_eq(w.page_size, 2ULL << 20);
    cr_assert_not(w.nx);

    /* 1 GiB, user */
    check_both(&c, pml4, 0x40000123, 0, 0x80000123, 3);
    pg_walk(&c, pml4, 0x40000123, &w);
    cr_assert(w.user && w.writable && !w.nx);
    cr_assert_eq(w.page_size, 1ULL << 30);

    /* Not present at the PML4 and at the PT. */
    check_both(&c, pml4, 0x0000008000000000ULL, -PG_ENOTMAPPED, 0, 0);
    pg_walk(&c, pml4, 0x0000008000000000ULL, &w);
    cr_assert_eq(w.fault_level, 4);
    cr_assert_eq(w.nsteps, 1);
    pg_walk(&c, pml4, 0xFFFFFFFF81235000ULL, &w);
    cr_assert_eq(w.status, -PG_ENOTMAPPED);
    cr_assert_eq(w.fault_level, 1);

    /* Reserved bit in a 2 MiB leaf. */
    check_both(&c, pml4, 0xFFFFFFFF81600000ULL, -PG_ERSVD, 0, 0);
    pg_walk(&c, pml4, 0xFFFFFFFF81600000ULL, &w);
    cr_assert_eq(w.fault_level, 2);
    cr_assert_eq(w.rsvd_bits, 0x2000);

    /* Unreadable table. */
    check_both(&c, pml4, 0xFFFFFF8140000000ULL, -PG_EIO, 0, 0);
    pg_walk(&c, pml4, 0xFFFFFF8140000000ULL, &w);
    cr_assert_eq(w.fault_level, 2);     /* the PD could not be read */
    cr_assert_eq(w.nsteps, 2);

    /* Non-canonical. */
    check_both(&c, pml4, 0x0000800000000000ULL, -PG_ERANGE, 0, 0);
    check_both(&c, pml4, 0xFFFF7FFFFFFFF000ULL, -PG_ERANGE, 0, 0);

    /* 1 GiB without Page1GB: PS is reserved. */
    c.disabled = PG_NO_1G;
    check_both(&c, pml4, 0x40000123, -PG_ERSVD, 0, 0);
    /* NX without EFER.NXE: reserved. */
    c.disabled = PG_NO_NX;
    check_both(&c, pml4, 0xFFFFFFFF81234567ULL, -PG_ERSVD, 0, 0);
}

Test(walk, effective_rights)
{
    struct pg_ctx c = arena_ctx(&A, 4);
    phys_addr_t pml4 = arena_root(&A), pdpt = arena_root(&A), pd = arena_root(&A),
                pt = arena_root(&A);
    arena_set64(&A, pml4, 0, pdpt | PTE_P | PTE_U | PTE_W);
    arena_set64(&A, pdpt, 0, pd | PTE_P | PTE_U | PTE_NX);       /* read-only, NX above */
    arena_set64(&A, pd, 0, pt | PTE_P | PTE_U | PTE_W);
    arena_set64(&A, pt, 1, 0x9000 | PTE_P | PTE_U | PTE_W);
    struct pg_walk w;
    cr_assert_eq(pg_walk(&c, pml4, 0x1000, &w), 0);
    cr_assert(w.user);
    cr_assert_not(w.writable);
    cr_assert(w.nx);
    uint64_t prot;
    cr_assert_eq(pg_translate(&c, pml4, 0x1000, NULL, &prot, NULL), 0);
    cr_assert_eq(prot & (PTE_U | PTE_W | PTE_NX), PTE_U | PTE_NX);
}

Test(walk, five_level)
{
    struct pg_ctx c = arena_ctx(&A, 5);
    phys_addr_t pml5 = arena_root(&A), pml4 = arena_root(&A), pdpt = arena_root(&A),
                pd = arena_root(&A), pt = arena_root(&A);
    arena_set64(&A, pml5, 511, pml4 | _KERNPG_TABLE);
    map_text_page(pml4, pdpt, pd, pt);
    arena_set64(&A, pdpt, 511, 0xC0000000 | __PAGE_KERNEL_LARGE);
    arena_set64(&A, pd, 8, 0x200000 | __PAGE_KERNEL_LARGE);
    check_both(&c, pml5, 0xFFFFFFFF81234567ULL, 0, 0x5567, 1);
    check_both(&c, pml5, 0xFFFFFFFF81012345ULL, 0, 0x212345, 2);
    check_both(&c, pml5, 0xFFFFFFFFC0000008ULL, 0, 0xC0000008, 3);
    struct pg_walk w;
    pg_walk(&c, pml5, 0xFFFFFFFF81234567ULL, &w);
    cr_assert_eq(w.nsteps, 5);
    cr_assert_eq(w.step[0].index, 511);
    cr_assert_eq(w.step[1].index, 511);
    /* 0xFFFF888000000000 is canonical in 5-level but PML5[511]→PML4[273] is empty. */
    pg_walk(&c, pml5, 0xFFFF888000000000ULL, &w);
    cr_assert_eq(w.status, -PG_ENOTMAPPED);
    cr_assert_eq(w.fault_level, 4);
    check_both(&c, pml5, 0x0100000000000000ULL, -PG_ERANGE, 0, 0);
    check_both(&c, pml5, 0xFF00000000000000ULL, -PG_ENOTMAPPED, 0, 0);
}

Test(walk, pae)
{
    struct pg_ctx c = arena_ctx(&A, 3);
    phys_addr_t pdpt = arena_root(&A), pd = arena_root(&A), pt = arena_root(&A);
    arena_set64(&A, pdpt, 3, pd | PTE_P);
    arena_set64(&A, pd, 0, 0x123400000ULL | PTE_P | PTE_W | PTE_PS | PTE_NX);
    arena_set64(&A, pd, 1, pt | PTE_P | PTE_W | PTE_U);
    arena_set64(&A, pt, 5, 0x7000 | PTE_P | PTE_U);
    arena_set64(&A, pdpt, 2, pd | PTE_P | PTE_W);   /* W is reserved in a PDPTE */

    check_both(&c, pdpt, 0xC0012345, 0, 0x123412345ULL, 2);
    check_both(&c, pdpt, 0xC0205678, 0, 0x7678, 1);
    struct pg_walk w;
    pg_walk(&c, pdpt, 0xC0205678, &w);
    cr_assert_eq(w.nsteps, 3);
    cr_assert_eq(w.step[0].entry_pa, pdpt + 24);
    cr_assert(w.user);          /* the PDPTE (no U bit) takes no part in rights */
    cr_assert_not(w.writable);
    pg_walk(&c, pdpt, 0xC0012345, &w);
    cr_assert(w.nx);
    cr_assert_not(w.user);
    check_both(&c, pdpt, 0x80000000, -PG_ERSVD, 0, 0);
    pg_walk(&c, pdpt, 0x80000000, &w);
    cr_assert_eq(w.fault_level, 3);
    cr_assert_eq(w.rsvd_bits, PTE_W);
    check_both(&c, pdpt, 0x00001000, -PG_ENOTMAPPED, 0, 0);
    check_both(&c, pdpt, 0x100000000ULL, -PG_ERANGE, 0, 0);
    /* Without NXE, NX is reserved in PAE PDEs. */
    c.disabled = PG_NO_NX;
    check_both(&c, pdpt, 0xC0012345, -PG_ERSVD, 0, 0);
}

Test(walk, thirty_two_bit)
{
    struct pg_ctx c = arena_ctx(&A, 2);
    phys_addr_t pd = arena_root(&A), pt = arena_root(&A);
    /* 4 MiB page at PA 0x12_C0000000 (PSE-36). */
    arena_set32(&A, pd, 0x300, 0xC0000000u | (0x12u << 13) | 0x83u);
    arena_set32(&A, pd, 0x301, (uint32_t)pt | 0x7u);
    arena_set32(&A, pt, 1, 0x7000u | 0x5u);
    check_both(&c, pd, 0xC0012345, 0, 0x12C0012345ULL, 2);
    check_both(&c, pd, 0xC0401234, 0, 0x7234, 1);
    struct pg_walk w;
    pg_walk(&c, pd, 0xC0401234, &w);
    cr_assert_eq(w.nsteps, 2);
    cr_assert_eq(w.step[1].entry_pa, pt + 4);
    cr_assert(w.user);
    cr_assert_not(w.writable);
    cr_assert_not(w.nx);
    pg_walk(&c, pd, 0xC0012345, &w);
    cr_assert_eq(w.page_size, 4ULL << 20);
    check_both(&c, pd, 0x1000, -PG_ENOTMAPPED, 0, 0);
    check_both(&c, pd, 0x100000000ULL, -PG_ERANGE, 0, 0);
    /* M = 36: PA bits above 35 in a 4 MiB PDE are reserved (bits 21:17). */
    c.phys_bits = 36;
    check_both(&c, pd, 0xC0012345, -PG_ERSVD, 0, 0);
    /* CR4.PSE = 0: the PDE is a table pointer, here to unreadable memory. */
    c.phys_bits = 0;
    c.disabled = PG_NO_PSE;
    check_both(&c, pd, 0xC0012345, -PG_EIO, 0, 0);
}

Test(walk, entry_lookup)
{
    struct pg_ctx c = arena_ctx(&A, 4);
    phys_addr_t pml4 = arena_root(&A), pdpt = arena_root(&A), pd = arena_root(&A),
                pt = arena_root(&A);
    arena_set64(&A, pml4, 0, pdpt | _PAGE_TABLE);
    arena_set64(&A, pdpt, 0, pd | _PAGE_TABLE);
    arena_set64(&A, pd, 0, pt | _PAGE_TABLE);
    arena_set64(&A, pd, 1, 0x200000 | __PAGE_KERNEL_LARGE);
    phys_addr_t e = 0;
    cr_assert_eq(pg_entry_lookup(&c, pml4, 0x3000, 1, &e), 0);
    cr_assert_eq(e, pt + 3 * 8);
    cr_assert_eq(pg_entry_lookup(&c, pml4, 0x3000, 4, &e), 0);
    cr_assert_eq(e, pml4);
    cr_assert_eq(pg_entry_lookup(&c, pml4, 0x200000, 1, &e), -PG_EHUGE);
    cr_assert_eq(e, pd + 8);
    cr_assert_eq(pg_entry_lookup(&c, pml4, 0x40000000, 1, &e), -PG_ENOTMAPPED);
    cr_assert_eq(pg_entry_lookup(&c, pml4, 0x0000800000000000ULL, 1, &e), -PG_ERANGE);
    cr_assert_eq(pg_entry_lookup(&c, pml4, 0, 0, &e), -PG_EINVAL);
}

Test(walk, bad_context)
{
    struct pg_ctx c = arena_ctx(&A, 7);
    struct pg_walk w;
    cr_assert_eq(pg_walk(&c, 0, 0, &w), -PG_EINVAL);
    cr_assert_eq(pg_translate(&c, 0, 0, NULL, NULL, NULL), -PG_EINVAL);
    c.levels = 4;
    cr_assert_eq(pg_walk(&c, 0x7000000000ULL, 0, &w), -PG_EIO);
    cr_assert_eq(w.fault_level, 4);
}
