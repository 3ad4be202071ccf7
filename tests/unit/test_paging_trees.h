/*
 * test_paging_trees.h: sample page-table trees shared by the iteration and
 * formatter tests. Built with pg_map where possible, by hand where the
 * shape is the point (ESPfix-style aliasing, a recursive slot, a pointer
 * outside memory). Header-only.
 */
#ifndef TESTS_UNIT_TEST_PAGING_TREES_H
#define TESTS_UNIT_TEST_PAGING_TREES_H

#include <criterion/criterion.h>
#include "arena.h"

#define T_MiB (1ULL << 20)
#define T_GiB (1ULL << 30)

static inline void t_map(const struct pg_ctx *c, phys_addr_t root, virt_addr_t va, uint64_t len,
                         phys_addr_t pa, uint64_t prot, unsigned mask)
{
    int r = pg_map(c, root, va, va + len, pa, prot, mask, 0, NULL);
    cr_assert_eq(r, 0, "map %llx: %s", (unsigned long long)va, pg_strerror(r));
}

/*
 * A small Linux-like kernel tree (4- or 5-level):
 *   user text/data, a 4K/2M/1G direct map of 2 GiB + 1 MiB, a few vmalloc pages,
 *   an ESPfix-style aliased area (one PMD table referenced twice, one PT four
 *   times), kernel text (2M, RO, global), kernel data (4K, NX) with one W+X page,
 *   and a fixmap page.
 */
static inline phys_addr_t build_linux_like(struct arena *a, const struct pg_ctx *c)
{
    phys_addr_t root = arena_root(a);
    bool l5 = c->levels == 5;
    virt_addr_t page_offset = l5 ? 0xFF11000000000000ULL : 0xFFFF888000000000ULL;
    virt_addr_t vmalloc = l5 ? 0xFFA0000000000000ULL : 0xFFFFC90000000000ULL;

    /* User space. */
    t_map(c, root, 0x400000, 0x3000, 0x3000000, PTE_P | PTE_U | PTE_A, PG_MASK_4K);
    t_map(c, root, 0x600000, 0x2000, 0x3100000, PTE_P | PTE_U | PTE_W | PTE_A | PTE_D | PTE_NX, PG_MASK_4K);
    /* Direct map: [0, 1M) 4K, [1M, 2M) 4K, [2M, 1G) 2M, [1G, 2G) 1G, then 1 MiB of 4K. */
    t_map(c, root, page_offset, 2 * T_GiB + T_MiB, 0, __PAGE_KERNEL | PTE_D, PG_MASK_1G);
    /* vmalloc: two pages, a guard hole, one more. */
    t_map(c, root, vmalloc, 0x2000, 0x5000000, __PAGE_KERNEL | PTE_D, PG_MASK_4K);
    t_map(c, root, vmalloc + 0x3000, 0x1000, 0x5002000, __PAGE_KERNEL | PTE_D, PG_MASK_4K);

    /* Kernel text: 16 MiB of 2M pages, RO, global, executable. */
    t_map(c, root, 0xFFFFFFFF81000000ULL, 16 * T_MiB, 0x1000000,
          (__PAGE_KERNEL_LARGE_EXEC & ~PTE_W) | PTE_D, PG_MASK_2M);

    /* ESPfix-style: PML4 slot 510 -> PUD; PUD[0..1] -> one PMD; PMD[0..3] -> one PT;
     * the PT maps every other page of its first 16. */
    phys_addr_t pud = arena_root(a), pmd = arena_root(a), pt = arena_root(a);
    phys_addr_t pml4 = root;
    if (l5) {
        struct pg_entry d;
        pg_entry_decode(c, 5, ((uint64_t *)arena_p2v(a, root))[511], &d);
        pml4 = d.addr;
    }
    arena_set64(a, pml4, 510, pud | _KERNPG_TABLE);
    for (unsigned i = 0; i < 2; i++)
        arena_set64(a, pud, i, pmd | _KERNPG_TABLE);
    for (unsigned i = 0; i < 4; i++)
        arena_set64(a, pmd, i, pt | _KERNPG_TABLE);
    for (unsigned i = 0; i < 16; i += 2)
        arena_set64(a, pt, i, (0x6000000 + i * 0x1000) | __PAGE_KERNEL_RO);

    /* Kernel data: 4K pages, RW NX; one W+X page after it. */
    t_map(c, root, 0xFFFFFFFF82000000ULL, 0x4000, 0x2000000, __PAGE_KERNEL | PTE_D, PG_MASK_4K);
    t_map(c, root, 0xFFFFFFFF82004000ULL, 0x1000, 0x2004000, __PAGE_KERNEL_EXEC | PTE_D, PG_MASK_4K);
    /* Fixmap: an uncached IO-APIC-like page. */
    t_map(c, root, 0xFFFFFFFFFF5FC000ULL, 0x1000, 0xFEC00000, __PAGE_KERNEL_NOCACHE | PTE_D, PG_MASK_4K);
    return root;
}

/* A PAE tree: 2M and 4K pages, user and kernel, one NX. */
static inline phys_addr_t build_pae(struct arena *a, const struct pg_ctx *c)
{
    phys_addr_t root = arena_root(a);
    t_map(c, root, 0x08048000, 0x2000, 0x100000, PTE_P | PTE_U | PTE_A, PG_MASK_4K);
    t_map(c, root, 0x0804A000, 0x1000, 0x102000, PTE_P | PTE_U | PTE_W | PTE_A | PTE_NX, PG_MASK_4K);
    t_map(c, root, 0xC0000000, 8 * T_MiB, 0, __PAGE_KERNEL_EXEC | PTE_D, PG_MASK_2M);
    t_map(c, root, 0xFFE00000, 0x1000, 0x1FE000000ULL, __PAGE_KERNEL | PTE_PCD, PG_MASK_4K);
    return root;
}

/* A 32-bit tree: 4M pages (one above 4 GiB through PSE-36) and 4K pages. */
static inline phys_addr_t build_32bit(struct arena *a, const struct pg_ctx *c)
{
    phys_addr_t root = arena_root(a);
    t_map(c, root, 0x08048000, 0x2000, 0x100000, PTE_P | PTE_U | PTE_A, PG_MASK_4K);
    t_map(c, root, 0x0804A000, 0x1000, 0x102000, PTE_P | PTE_U | PTE_W | PTE_A, PG_MASK_4K);
    t_map(c, root, 0xC0000000, 8 * T_MiB, 0, __PAGE_KERNEL_EXEC | PTE_D, PG_MASK_2M);
    t_map(c, root, 0xE0000000, 4 * T_MiB, 0x1240000000ULL, __PAGE_KERNEL_EXEC, PG_MASK_2M);
    return root;
}

#endif /* TESTS_UNIT_TEST_PAGING_TREES_H */
