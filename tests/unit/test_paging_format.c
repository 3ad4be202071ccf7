/*
 * test_paging_format.c: golden outputs of every formatter: Linux ptdump
 * (markers, "... N entries skipped ...", the last line ending at 0, W+X
 * count, a caller's own markers), QEMU `info mem` and `info tlb` (4-level,
 * 5-level, PAE, 32-bit), crash `vtop` (4K, 2M, 1G, 5-level, not mapped,
 * user path), and the exact formats of documented examples.
 */
#include <criterion/criterion.h>
#include <paging/pg_format.h>
#include "arena.h"
#include "golden/golden.h"
#include "test_paging_trees.h"

static struct arena A;

static void setup(void) { arena_init(&A, 1024); }
static void teardown(void) { arena_fini(&A); }

TestSuite(format, .init = setup, .fini = teardown);

static struct strbuf out;
static struct pg_sink sink = { strbuf_write, &out };

static void reset_out(void)
{
    free(out.s);
    memset(&out, 0, sizeof(out));
    strbuf_write(&out, "", 0);
}

/* ptdump of root into out.s; with a golden file name, compared with it. */
static void ptdump_out(const struct pg_ctx *c, phys_addr_t root, struct pg_ptdump_opts *o,
                       const char *golden)
{
    reset_out();
    cr_assert_eq(pg_fmt_ptdump(c, root, o, &sink), 0);
    if (golden)
        golden_check(golden, out.s);
}

Test(format, numbers)
{
    char b[32];
    cr_assert_eq(pg_u64_hex(b, 0, 1), 1);
    cr_assert_str_eq(b, "0");
    pg_u64_hex(b, 0xABC, 16);
    cr_assert_str_eq(b, "0000000000000abc");
    pg_u64_hex(b, ~0ULL, 4);
    cr_assert_str_eq(b, "ffffffffffffffff");
    pg_u64_dec(b, 0);
    cr_assert_str_eq(b, "0");
    pg_u64_dec(b, 18446744073709551615ULL);
    cr_assert_str_eq(b, "18446744073709551615");
    pg_u64_dec(b, 1000);
    cr_assert_str_eq(b, "1000");
}

Test(format, ptdump_4level)
{
    struct pg_ctx c = arena_ctx(&A, 4);
    phys_addr_t root = build_linux_like(&A, &c);
    struct pg_ptdump_opts o = { .markers = pg_ptdump_markers_linux(4) };
    ptdump_out(&c, root, &o, "ptdump_4level.txt");
    /* W+X: the one kernel-data page mapped __PAGE_KERNEL_EXEC. */
    cr_assert_eq(o.wx_pages, 1);
    /* The format of a documented example line. */
    cr_assert_not_null(strstr(out.s,
        "0xffffffff81000000-0xffffffff82000000          16M     ro         PSE     GLB x  pmd\n"));
    /* The last line ends at 0. */
    size_t n = strlen(out.s);
    cr_assert(n > 40);
    const char *last = out.s + n - 2;
    while (last > out.s && last[-1] != '\n')
        last--;
    cr_assert_eq(strncmp(last + 19, "0x0000000000000000", 18), 0, "last line: %s", last);
    /* NULL options give the same text. */
    char *first = strdup(out.s);
    ptdump_out(&c, root, NULL, NULL);
    cr_assert_str_eq(out.s, first);
    free(first);
}

Test(format, ptdump_5level_and_own_markers)
{
    struct pg_ctx c = arena_ctx(&A, 5);
    phys_addr_t root = build_linux_like(&A, &c);
    ptdump_out(&c, root, NULL, "ptdump_5level.txt");

    /* A caller's own layout, the whole space as one range, a tight line limit. */
    static const struct pg_marker mine[] = {
        { 0, "Low", 0 },
        { 0x0000000000600000ULL, "Data", 1 },
        { 0xFF11000000000000ULL, "Direct map", 0 },
        { ~0ULL, NULL, 0 },
    };
    static const struct pg_va_range all = { 0, 0 };
    struct pg_ptdump_opts o = { .markers = mine, .ranges = &all, .nranges = 1 };
    ptdump_out(&c, root, &o, "ptdump_5level_own_markers.txt");
}

/* A walk of the user half only (as the kernel's `ptdump user PID`) ends at 2^47, not at 0. */
Test(format, ptdump_user_half_ends_at_its_range)
{
    struct pg_ctx c = arena_ctx(&A, 4);
    phys_addr_t root = build_linux_like(&A, &c);
    static const struct pg_marker user[] = { { 0, "User Space", 0 }, { 0, NULL, 0 } };
    static const struct pg_va_range half = { 0, 0x0000800000000000ULL };
    struct pg_ptdump_opts o = { .markers = user, .ranges = &half, .nranges = 1 };
    ptdump_out(&c, root, &o, NULL);
    const char *last = strrchr(out.s, '\n');
    cr_assert_not_null(last);
    while (last > out.s && last[-1] != '\n')
        last--;
    cr_assert(strncmp(last + 18, "-0x0000800000000000 ", 20) == 0, "last line: %s", last);
    cr_assert_null(strstr(out.s, "-0x0000000000000000"));
    cr_assert_null(strstr(out.s, "Kernel Space"));
}

/*
 * A walk of a sub-range starts its first line at the range's start, under the
 * marker whose area holds it, and prints the lines Linux's whole walk prints
 * there (the range here starts and ends at series boundaries).
 */
Test(format, ptdump_range_starts_at_its_start)
{
    struct pg_ctx c = arena_ctx(&A, 4);
    phys_addr_t root = build_linux_like(&A, &c);
    ptdump_out(&c, root, NULL, NULL);
    char *whole = strdup(out.s);
    static const struct pg_va_range text = { 0xFFFFFFFF81000000ULL, 0xFFFFFFFF82200000ULL };
    struct pg_ptdump_opts o = { .markers = pg_ptdump_markers_linux(4), .ranges = &text,
                                .nranges = 1 };
    ptdump_out(&c, root, &o, NULL);
    const char *want_head = "---[ High Kernel Mapping ]---\n0xffffffff81000000-";
    cr_assert_eq(strncmp(out.s, want_head, strlen(want_head)), 0, "got: %s", out.s);
    /* Every line after the marker is a line of the whole walk, in the same order. */
    const char *after = strchr(out.s, '\n') + 1;
    const char *in_whole = strstr(whole, after);
    cr_assert_not_null(in_whole, "sub-range:\n%s\nwhole:\n%s", out.s, whole);
    cr_assert_not_null(strstr(out.s, "-0xffffffff82200000        2028K "), "ends at the range's end");
    free(whole);

    /* A range starting in the middle of a series: the first line starts there. */
    static const struct pg_va_range mid = { 0xFFFFC90000001000ULL, 0xFFFFC90000002000ULL };
    o.ranges = &mid;
    ptdump_out(&c, root, &o, NULL);
    cr_assert_str_eq(out.s, "---[ vmalloc() Area ]---\n"
                            "0xffffc90000001000-0xffffc90000002000           4K     RW"
                            "                 GLB NX pte\n");
}

/*
 * Linux 6.1 takes a series' raw flags as the entry without bits 12-51: a
 * large page's PAT bit (12) neither splits a series nor prints; a 4 KiB
 * page's PAT bit (7) does both.
 */
Test(format, ptdump_large_page_pat_as_linux)
{
    struct pg_ctx c = arena_ctx(&A, 4);
    phys_addr_t root = arena_root(&A);
    virt_addr_t va = 0xFFFFC90000000000ULL;
    t_map(&c, root, va, 2 * T_MiB, 0x40000000, __PAGE_KERNEL_LARGE | PTE_D, PG_MASK_2M);
    t_map(&c, root, va + 2 * T_MiB, 2 * T_MiB, 0x40200000,
          __PAGE_KERNEL_LARGE | PTE_D | PTE_PAT_LARGE, PG_MASK_2M);
    t_map(&c, root, va + 4 * T_MiB, 0x1000, 0x40400000, __PAGE_KERNEL | PTE_D, PG_MASK_4K);
    t_map(&c, root, va + 4 * T_MiB + 0x1000, 0x1000, 0x40401000,
          __PAGE_KERNEL | PTE_D | PTE_PAT_LARGE, PG_MASK_4K);
    uint64_t e;
    cr_assert_eq(pg_translate(&c, root, va + 2 * T_MiB, NULL, &e, NULL), 0);
    cr_assert(e & PTE_PAT_LARGE, "the second 2 MiB page has PAT");
    static const struct pg_va_range r = { 0xFFFFC90000000000ULL, 0xFFFFC90000600000ULL };
    struct pg_ptdump_opts o = { .ranges = &r, .nranges = 1 };
    ptdump_out(&c, root, &o, NULL);
    cr_assert_str_eq(out.s,
        "0xffffc90000000000-0xffffc90000400000           4M     RW         PSE     GLB NX pmd\n"
        "0xffffc90000400000-0xffffc90000401000           4K     RW                 GLB NX pte\n"
        "0xffffc90000401000-0xffffc90000402000           4K     RW             PAT GLB NX pte\n"
        "0xffffc90000402000-0xffffc90000600000        2040K                               pte\n");
}

Test(format, ptdump_espfix_not_expanded)
{
    struct pg_ctx c = arena_ctx(&A, 4);
    phys_addr_t root = build_linux_like(&A, &c);
    struct pg_memo_slot memo[128];
    struct pg_ptdump_opts o = { .markers = pg_ptdump_markers_linux(4), .iter_flags = PG_ITER_EXPAND_CYCLES,
                                .memo = memo, .memo_slots = 128 };
    ptdump_out(&c, root, &o, "ptdump_4level_shared.txt");
}

Test(format, ptdump_pae_and_32bit)
{
    struct pg_ctx c = arena_ctx(&A, 3);
    phys_addr_t root = build_pae(&A, &c);
    ptdump_out(&c, root, NULL, "ptdump_pae.txt");
    c = arena_ctx(&A, 2);
    root = build_32bit(&A, &c);
    ptdump_out(&c, root, NULL, "ptdump_32bit.txt");
}

Test(format, info_tlb_and_mem)
{
    static const struct { unsigned levels; const char *tlb, *mem; } modes[] = {
        { 4, "info_tlb_4level.txt", "info_mem_4level.txt" },
        { 5, "info_tlb_5level.txt", "info_mem_5level.txt" },
        { 3, "info_tlb_pae.txt", "info_mem_pae.txt" },
        { 2, "info_tlb_32bit.txt", "info_mem_32bit.txt" },
    };
    for (size_t i = 0; i < 4; i++) {
        arena_fini(&A);
        arena_init(&A, 1024);
        struct pg_ctx c = arena_ctx(&A, modes[i].levels);
        phys_addr_t root = modes[i].levels >= 4 ? build_linux_like(&A, &c)
                         : modes[i].levels == 3 ? build_pae(&A, &c) : build_32bit(&A, &c);
        reset_out();
        cr_assert_eq(pg_fmt_info_tlb(&c, root, &sink), 0);
        golden_check(modes[i].tlb, out.s);
        reset_out();
        cr_assert_eq(pg_fmt_info_mem(&c, root, &sink), 0);
        golden_check(modes[i].mem, out.s);
    }
}

Test(format, info_documented_examples)
{
    struct pg_ctx c = arena_ctx(&A, 4);
    phys_addr_t root = arena_root(&A);
    /* docs/formats.md, "QEMU info tlb": `ffffffffff5fc000: 00000000fec00000 XG-DACT-W` */
    t_map(&c, root, 0xFFFFFFFFFF5FC000ULL, 0x1000, 0xFEC00000, __PAGE_KERNEL_NOCACHE | PTE_D, PG_MASK_4K);
    /* docs/formats.md, "QEMU info mem": `0000000000401000-0000000000490000 000000000008f000 ur-` */
    t_map(&c, root, 0x401000, 0x8F000, 0x401000, PTE_P | PTE_U | PTE_A, PG_MASK_4K);
    reset_out();
    cr_assert_eq(pg_fmt_info_tlb(&c, root, &sink), 0);
    cr_assert_not_null(strstr(out.s, "ffffffffff5fc000: 00000000fec00000 XG-DACT-W\n"));
    reset_out();
    cr_assert_eq(pg_fmt_info_mem(&c, root, &sink), 0);
    cr_assert_str_eq(out.s,
        "0000000000401000-0000000000490000 000000000008f000 ur-\n"
        "ffffffffff5fc000-ffffffffff5fd000 0000000000001000 -rw\n");
    /* A run ending at 2^47 prints canonically, the final flush at 2^48 does not. */
    t_map(&c, root, 0x00007FFFFFFFF000ULL, 0x1000, 0x9000, PTE_P | PTE_U | PTE_W, PG_MASK_4K);
    t_map(&c, root, 0xFFFFFFFFFFFFF000ULL, 0x1000, 0x9000, PTE_P | PTE_W, PG_MASK_4K);
    reset_out();
    cr_assert_eq(pg_fmt_info_mem(&c, root, &sink), 0);
    cr_assert_not_null(strstr(out.s, "00007ffffffff000-ffff800000000000 0000000000001000 urw\n"));
    cr_assert_not_null(strstr(out.s, "ffffffffff5fc000-ffffffffff5fd000 0000000000001000 -rw\n"));
    cr_assert_not_null(strstr(out.s, "fffffffffffff000-0001000000000000 0000000000001000 -rw\n"));
}

Test(format, vtop)
{
    struct pg_ctx c = arena_ctx(&A, 4);
    phys_addr_t root = build_linux_like(&A, &c);
    struct pg_vtop_opts o = { .pgd_va = 0xFFFFFFFF82A0A000ULL, .phys_bits = 46 };
    static const struct { virt_addr_t va; const char *file; } cases[] = {
        { 0xFFFFFFFF82001234ULL, "vtop_4k.txt" },
        { 0xFFFFFFFF81000000ULL, "vtop_2m.txt" },
        { 0xFFFF888040000123ULL, "vtop_1g.txt" },
        { 0xFFFFC90000002000ULL, "vtop_not_mapped_pte.txt" },
        { 0xFFFFC80000000000ULL, "vtop_not_mapped_pgd.txt" },
    };
    for (size_t i = 0; i < 5; i++) {
        reset_out();
        cr_assert_eq(pg_fmt_vtop(&c, root, cases[i].va, &o, &sink), 0);
        golden_check(cases[i].file, out.s);
    }
    /* User path. */
    o.user = true;
    reset_out();
    cr_assert_eq(pg_fmt_vtop(&c, root, 0x400123, &o, &sink), 0);
    golden_check("vtop_user.txt", out.s);
    /* 5-level. */
    arena_fini(&A);
    arena_init(&A, 1024);
    c = arena_ctx(&A, 5);
    root = build_linux_like(&A, &c);
    o.user = false;
    o.phys_bits = 52;
    reset_out();
    cr_assert_eq(pg_fmt_vtop(&c, root, 0xFFFFFFFF82001234ULL, &o, &sink), 0);
    golden_check("vtop_5level.txt", out.s);
    /* Errors: not canonical, not IA-32e. */
    cr_assert_eq(pg_fmt_vtop(&c, root, 0x0100000000000000ULL, &o, &sink), -PG_ERANGE);
    c.levels = 3;
    cr_assert_eq(pg_fmt_vtop(&c, root, 0, &o, &sink), -PG_EINVAL);
}

Test(format, vtop_documented_example)
{
    /* docs/formats.md, "crash vtop": the synthetic 2 MiB kernel-text example, rebuilt at
     * its addresses. */
    arena_fini(&A);
    arena_init(&A, 0x2b00);
    struct pg_ctx c = arena_ctx(&A, 4);
    phys_addr_t pml4 = 0x2a0a000, pdpt = 0x2a0c000, pd = 0x2a0d000;
    arena_set64(&A, pml4, 511, pdpt | 0x067);
    arena_set64(&A, pdpt, 510, pd | 0x063);
    arena_set64(&A, pd, 8, 0x10001e1);
    struct pg_vtop_opts o = { .pgd_va = 0xFFFFFFFF82A0A000ULL, .phys_bits = 46 };
    reset_out();
    cr_assert_eq(pg_fmt_vtop(&c, pml4, 0xFFFFFFFF81000000ULL, &o, &sink), 0);
    cr_assert_str_eq(out.s,
        "VIRTUAL           PHYSICAL        \n"
        "ffffffff81000000  1000000\n"
        "\n"
        "PGD DIRECTORY: ffffffff82a0a000\n"
        "PAGE DIRECTORY: 2a0c067\n"
        "   PUD: 2a0cff0 => 2a0d063\n"
        "   PMD: 2a0d040 => 10001e1\n"
        "  PAGE: 1000000  (2MB)\n"
        "\n"
        "  PTE    PHYSICAL  FLAGS\n"
        "10001e1   1000000  (PRESENT|ACCESSED|DIRTY|PSE|GLOBAL)\n"
        "\n");
}

Test(format, bad_arguments)
{
    struct pg_ctx c = arena_ctx(&A, 4);
    phys_addr_t root = arena_root(&A);
    struct pg_sink none = { NULL, NULL };
    cr_assert_eq(pg_fmt_ptdump(&c, root, NULL, &none), -PG_EINVAL);
    cr_assert_eq(pg_fmt_info_tlb(&c, root, NULL), -PG_EINVAL);
    cr_assert_eq(pg_fmt_info_mem(&c, 0x7000000000ULL, &sink), -PG_EIO);
    cr_assert_null(pg_ptdump_markers_linux(3));
    size_t n;
    cr_assert_null(pg_ptdump_ranges_linux(2, &n));
    cr_assert_eq(n, 0);
}
