/*
 * test_paging_recursive.c: recursive-slot addresses (docs/linux.md, "The
 * recursive slot"): the documented values for slots 511 and 510, and, for every
 * level in 4- and 5-level mode, that the computed VA really translates
 * (through the self-reference) to the physical address of the entry.
 */
#include <criterion/criterion.h>
#include "arena.h"

static struct arena A;

static void setup(void) { arena_init(&A, 256); }
static void teardown(void) { arena_fini(&A); }

TestSuite(recursive, .init = setup, .fini = teardown);

Test(recursive, documented_values)
{
    virt_addr_t s, e, va;
    cr_assert_eq(pg_recursive_window(4, 511, &s, &e), 0);
    cr_assert_eq(s, 0xFFFFFF8000000000ULL);
    cr_assert_eq(e, 0);
    cr_assert_eq(pg_recursive_table_va(4, 511, 0x1234567000ULL, 4, &va), 0);
    cr_assert_eq(va, 0xFFFFFFFFFFFFF000ULL);
    cr_assert_eq(pg_recursive_window(4, 510, &s, &e), 0);
    cr_assert_eq(s, 0xFFFFFF0000000000ULL);
    cr_assert_eq(e, 0xFFFFFF8000000000ULL);
    cr_assert_eq(pg_recursive_table_va(4, 510, 0, 4, &va), 0);
    cr_assert_eq(va, 0xFFFFFF7FBFDFE000ULL);
    /* PTE of va: sext48((R<<39) | ((va >> 9) & 0x7FFFFFFFF8)). */
    cr_assert_eq(pg_recursive_entry_va(4, 511, 0xFFFFFFFF81234567ULL, 1, &va), 0);
    cr_assert_eq(va, 0xFFFFFF8000000000ULL | ((0xFFFFFFFF81234567ULL >> 9) & 0x7FFFFFFFF8ULL));
    cr_assert_eq(pg_recursive_entry_va(4, 511, 0xFFFFFFFF81234567ULL, 2, &va), 0);
    cr_assert_eq(va, 0xFFFFFFFFC0000000ULL | ((0xFFFFFFFF81234567ULL >> 18) & 0x3FFFFFF8ULL));
    /* Low slot: no sign extension. */
    cr_assert_eq(pg_recursive_window(4, 1, &s, &e), 0);
    cr_assert_eq(s, 0x8000000000ULL);
    cr_assert_eq(pg_recursive_window(5, 511, &s, &e), 0);
    cr_assert_eq(s, 0xFFFF000000000000ULL);
    cr_assert_eq(pg_recursive_table_va(5, 511, 0, 5, &va), 0);
    cr_assert_eq(va, 0xFFFFFFFFFFFFF000ULL);
    /* Errors. */
    cr_assert_eq(pg_recursive_window(3, 1, &s, &e), -PG_EINVAL);
    cr_assert_eq(pg_recursive_window(4, 512, &s, &e), -PG_EINVAL);
    cr_assert_eq(pg_recursive_entry_va(4, 1, 0, 5, &va), -PG_EINVAL);
    cr_assert_eq(pg_recursive_entry_va(4, 1, 0, 0, &va), -PG_EINVAL);
}

static void check_through_window(unsigned levels, unsigned slot)
{
    struct pg_ctx c = arena_ctx(&A, levels);
    phys_addr_t root = arena_root(&A);
    /* Addresses away from the slot itself: user, top of user, the direct map. */
    const virt_addr_t vas[] = { 0x400000, 0x00007FFFFFFFF000ULL,
                                levels == 4 ? 0xFFFF888000123000ULL : 0xFF11000000123000ULL };
    for (size_t i = 0; i < 3; i++)
        cr_assert_eq(pg_map(&c, root, vas[i], vas[i] + 0x1000, 0x9000, __PAGE_KERNEL, PG_MASK_4K, 0, NULL), 0);
    /* The self-reference: P|RW, no US (docs/linux.md, "The recursive slot"). */
    arena_set64(&A, root, slot, root | PTE_P | PTE_W);
    for (size_t i = 0; i < 3; i++) {
        struct pg_walk w;
        cr_assert_eq(pg_walk(&c, root, vas[i], &w), 0);
        for (int level = 1; level <= (int)levels; level++) {
            virt_addr_t eva;
            cr_assert_eq(pg_recursive_entry_va(levels, slot, vas[i], level, &eva), 0);
            phys_addr_t pa;
            int r = pg_translate(&c, root, eva, &pa, NULL, NULL);
            cr_assert_eq(r, 0, "level %d entry va %llx: %s", level, (unsigned long long)eva, pg_strerror(r));
            /* w.step[] is top level first. */
            cr_assert_eq(pa, w.step[levels - (unsigned)level].entry_pa,
                         "%u-level slot %u level %d: %llx", levels, slot, level, (unsigned long long)pa);
            virt_addr_t s, e;
            pg_recursive_window(levels, slot, &s, &e);
            cr_assert(eva >= s && eva - s < e - s);
        }
    }
}

Test(recursive, four_level_through_the_window)
{
    check_through_window(4, 511);
    arena_fini(&A);
    arena_init(&A, 256);
    check_through_window(4, 510);
    arena_fini(&A);
    arena_init(&A, 256);
    check_through_window(4, 100);
}

Test(recursive, five_level_through_the_window)
{
    check_through_window(5, 511);
    arena_fini(&A);
    arena_init(&A, 256);
    check_through_window(5, 300);
}
