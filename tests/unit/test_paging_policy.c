/*
 * test_paging_policy.c: the policies of lib/paging that the kernel, the host
 * tool and the MMU model share: the register bits (regs.h), the paging mode
 * from CR0/CR4/EFER, the top table from CR3, Linux's PTI PGD pair and what its
 * user PGD may map of the kernel, the W+X
 * rule and count, and Linux's ptdump markers for a (randomised) layout.
 */
#include <criterion/criterion.h>
#include <paging/mmu.h>
#include <paging/pg_format.h>
#include <paging/regs.h>
#include "arena.h"
#include "test_paging_trees.h"

static struct arena A;

static void setup(void) { arena_init(&A, 1024); }
static void teardown(void) { arena_fini(&A); }

TestSuite(policy, .init = setup, .fini = teardown);

#define N_(a) (sizeof(a) / sizeof((a)[0]))

Test(policy, register_bits)
{
    static const struct { uint64_t bit; unsigned n; } cases[] = {
        { PG_CR0_PE, 0 }, { PG_CR0_WP, 16 }, { PG_CR0_PG, 31 },
        { PG_CR4_PSE, 4 }, { PG_CR4_PAE, 5 }, { PG_CR4_PGE, 7 }, { PG_CR4_LA57, 12 },
        { PG_CR4_PCIDE, 17 }, { PG_CR4_SMEP, 20 }, { PG_CR4_SMAP, 21 }, { PG_CR4_PKE, 22 },
        { PG_CR4_PKS, 24 }, { PG_EFER_LME, 8 }, { PG_EFER_LMA, 10 }, { PG_EFER_NXE, 11 },
        { PG_CR3_NOFLUSH, 63 },
    };
    for (size_t i = 0; i < N_(cases); i++)
        cr_assert_eq(cases[i].bit, 1ULL << cases[i].n, "case %zu", i);
    cr_assert_eq(PG_CR3_PCID, 0xFFFULL);
}

Test(policy, mode_from_regs)
{
    static const struct { uint64_t cr0, cr4, efer; unsigned mode; } cases[] = {
        { 0, 0, 0, 0 },
        { PG_CR0_PE, PG_CR4_PAE | PG_CR4_LA57, PG_EFER_LME, 0 },   /* no CR0.PG: no paging */
        { PG_CR0_PG | PG_CR0_PE, 0, 0, PG_MODE_32BIT },
        { PG_CR0_PG | PG_CR0_PE, PG_CR4_PSE | PG_CR4_LA57, PG_EFER_NXE, PG_MODE_32BIT },
        { PG_CR0_PG | PG_CR0_PE, PG_CR4_PAE, 0, PG_MODE_PAE },
        { PG_CR0_PG | PG_CR0_PE, PG_CR4_PAE | PG_CR4_LA57, PG_EFER_NXE, PG_MODE_PAE },
        { PG_CR0_PG | PG_CR0_PE, PG_CR4_PAE, PG_EFER_LME | PG_EFER_LMA, PG_MODE_4LEVEL },
        { PG_CR0_PG | PG_CR0_PE, PG_CR4_PAE, PG_EFER_LMA, PG_MODE_4LEVEL },
        { PG_CR0_PG | PG_CR0_PE, PG_CR4_PAE, PG_EFER_LME, PG_MODE_4LEVEL },  /* LMA follows */
        { PG_CR0_PG | PG_CR0_PE, PG_CR4_PAE | PG_CR4_LA57, PG_EFER_LME | PG_EFER_LMA,
          PG_MODE_5LEVEL },
    };
    for (size_t i = 0; i < N_(cases); i++) {
        cr_assert_eq(pg_mode_from_regs(cases[i].cr0, cases[i].cr4, cases[i].efer), cases[i].mode,
                     "case %zu", i);
        /* The MMU model's mode is the same policy. */
        struct pg_cpu cpu;
        pg_cpu_reset(&cpu, PG_CPUID_ALL, 52);
        cpu.cr0 = cases[i].cr0;
        cpu.cr4 = cases[i].cr4;
        cpu.efer = cases[i].efer;
        cr_assert_eq(pg_cpu_paging_mode(&cpu), cases[i].mode, "case %zu", i);
    }
}

Test(policy, cr3_root)
{
    static const struct { unsigned mode; uint64_t cr3; phys_addr_t root; } cases[] = {
        { PG_MODE_32BIT, 0x12345FFFULL, 0x12345000ULL },
        { PG_MODE_32BIT, 0xFFFFFFFF00001018ULL, 0x00001000ULL },
        { PG_MODE_PAE, 0x12345FE0ULL | PG_CR3_PWT | PG_CR3_PCD, 0x12345FE0ULL },
        { PG_MODE_PAE, 0x100000000ULL | 0x20, 0x20 },
        { PG_MODE_4LEVEL, 0x123456789000ULL | 0xABC, 0x123456789000ULL },
        { PG_MODE_4LEVEL, PG_CR3_NOFLUSH | 0x000FFFFFFFFFF000ULL | 0x7FF, 0x000FFFFFFFFFF000ULL },
        { PG_MODE_5LEVEL, PG_CR3_NOFLUSH | 0x7FFF0000ULL | 0x001, 0x7FFF0000ULL },
        { PG_MODE_5LEVEL, 0x0FF0000000001000ULL, 0x0000000000001000ULL },  /* bits 59:52 */
        { 0, 0x1000, 0 },
        { 6, 0x1000, 0 },
    };
    for (size_t i = 0; i < N_(cases); i++)
        cr_assert_eq(pg_cr3_root(cases[i].mode, cases[i].cr3), cases[i].root, "case %zu", i);
}

Test(policy, pti_pair)
{
    const phys_addr_t kernel = 0x7A2E000ULL, user = 0x7A2F000ULL;   /* 8 KiB aligned pair */
    cr_assert_eq(PG_PTI_USER_PGD_BIT, 0x1000ULL);
    cr_assert_eq(pg_pti_kernel_pgd(kernel), kernel);
    cr_assert_eq(pg_pti_kernel_pgd(user), kernel);
    cr_assert_eq(pg_pti_user_pgd(kernel), user);
    cr_assert_eq(pg_pti_user_pgd(user), user);
    cr_assert_eq(pg_pti_user_pgd(pg_pti_kernel_pgd(user)) - pg_pti_kernel_pgd(user), 0x1000);
}

Test(policy, pti_meltdown_decision)
{
    cr_assert(pg_pti_meltdown_affected("GenuineIntel", 0));
    cr_assert(!pg_pti_meltdown_affected("GenuineIntel", PG_ARCH_CAP_RDCL_NO));
    cr_assert(pg_pti_meltdown_affected("GenuineIntel", 0x2));   /* other bits do not matter */
    cr_assert(!pg_pti_meltdown_affected("AuthenticAMD", 0));
    cr_assert(!pg_pti_meltdown_affected("HygonGenuine", 0));
    cr_assert(pg_pti_meltdown_affected("CentaurHauls", 0));
}

Test(policy, pti_cr3_and_pcid)
{
    cr_assert_eq(pg_pti_user_pcid(1), 0x801);
    cr_assert_eq(pg_pti_user_pcid(6), 0x806);
    const uint64_t k = 0x7A2E000ULL | 3;     /* PCID 3 */
    cr_assert_eq(pg_pti_user_cr3(k, true, false), (1ULL << 63) | 0x7A2F803ULL);
    cr_assert_eq(pg_pti_user_cr3(k, true, true), 0x7A2F803ULL);
    cr_assert_eq(pg_pti_user_cr3(0x7A2E000ULL, false, false), 0x7A2F000ULL);
    cr_assert_eq(pg_pti_kernel_cr3(0x7A2F803ULL, true), (1ULL << 63) | k);
    cr_assert_eq(pg_pti_kernel_cr3(0x7A2F000ULL, false), 0x7A2E000ULL);
    cr_assert_eq(pg_pti_kernel_cr3(pg_pti_user_cr3(k | (1ULL << 63), true, true), true), k | (1ULL << 63));
}

/* What a PTI user PGD may map of the kernel: Linux's clones (arch/x86/mm/pti.c). */
Test(policy, pti_user_clone)
{
    const uint64_t RO = 0, RW = PTE_W, ROX = 0, NX = PTE_NX, K = 4096;
    const struct {
        unsigned levels;
        virt_addr_t va;
        uint64_t size, eff;
        bool alias;
        enum pg_pti_clone want;
    } c[] = {
        { 4, 0x400000, K, PTE_W | PTE_U, false, PG_PTI_USER_SPACE },
        /* The cpu_entry_area: any rights, up to its last byte, 4- and 5-level. */
        { 4, 0xfffffe0000000000, K, RO | NX, false, PG_PTI_CPU_ENTRY_AREA },
        { 4, 0xfffffe0000001000, K, RW | NX, false, PG_PTI_CPU_ENTRY_AREA },
        { 5, 0xfffffe7ffffff000, K, RW | NX, false, PG_PTI_CPU_ENTRY_AREA },
        { 4, 0xfffffe7ffffff000, 2 * K, RW | NX, false, PG_PTI_NOT_CLONED },  /* runs past it */
        /* Entry text: read-only executable anywhere in the kernel half; not writable. */
        { 4, 0xffffffff81e00000, 2 * K, ROX, false, PG_PTI_ENTRY_TEXT },
        { 4, 0xffffc90000000000, K, ROX, false, PG_PTI_ENTRY_TEXT },
        { 4, 0xffffffff81e00000, K, RW, false, PG_PTI_NOT_CLONED },
        { 4, 0xffffffff81e00000, K, ROX | PTE_U, false, PG_PTI_NOT_CLONED },
        /* The TSS page: not executable, its frame also in the cpu_entry_area. */
        { 4, 0xffff88800f806000, K, RW | NX, true, PG_PTI_TSS },
        { 4, 0xffff88800f806000, K, RW | NX, false, PG_PTI_NOT_CLONED },
        { 4, 0xffff88800f806000, K, RW, true, PG_PTI_NOT_CLONED },          /* W+X */
        /* Read-only regions; writable there is a leak. */
        { 4, 0xffffff7200000000, K, RO | NX, false, PG_PTI_ESPFIX },
        { 4, 0xffffff7200000000, K, RW | NX, false, PG_PTI_NOT_CLONED },
        { 4, 0xffffffff89a00000, 8 << 20, RO | NX, false, PG_PTI_KERNEL_IMAGE },
        { 4, 0xffffffff89a00000, K, RW | NX, false, PG_PTI_NOT_CLONED },
        { 4, 0xffffffffbffff000, 2 * K, RO | NX, false, PG_PTI_NOT_CLONED }, /* past the window */
        { 4, 0xffff880000001000, K, RO | NX, false, PG_PTI_LDT },
        { 5, 0xff10000000001000, K, RO | NX, false, PG_PTI_LDT },
        { 5, 0xffff880000001000, K, RO | NX, false, PG_PTI_NOT_CLONED },
        { 4, 0xffffffffff600000, K, RO | NX | PTE_U, false, PG_PTI_VSYSCALL },
        { 4, 0xffffffffff600000, K, RW | NX | PTE_U, false, PG_PTI_NOT_CLONED },
        /* Data elsewhere: the direct map, vmalloc, the top page. */
        { 4, 0xffff888000000000, K, RO | NX, false, PG_PTI_NOT_CLONED },
        { 4, 0xffffc90000000000, K, RW | NX, false, PG_PTI_NOT_CLONED },
        { 4, 0xfffffffffffff000, K, RO | NX, false, PG_PTI_NOT_CLONED },
    };
    for (size_t i = 0; i < N_(c); i++) {
        enum pg_pti_clone got = pg_pti_user_clone(c[i].levels, c[i].va, c[i].size, c[i].eff,
                                                  c[i].alias);
        cr_assert_eq(got, c[i].want, "case %zu: %016llx: %s, want %s", i,
                     (unsigned long long)c[i].va, pg_pti_clone_name(got),
                     pg_pti_clone_name(c[i].want));
    }
    cr_assert_str_eq(pg_pti_clone_name(PG_PTI_TSS), "a CPU's TSS page at its per-CPU address");
    cr_assert_str_eq(pg_pti_clone_name((enum pg_pti_clone)99), "?");
}

Test(policy, pti_set_user_pgtbl)
{
    uint64_t user[512] = { 0 };
    const uint64_t e = 0x123000ULL | PTE_P | PTE_W | PTE_U;
    cr_assert_eq(pg_pti_set_user_pgtbl(user, 4, 0, e, true), e | PTE_NX);
    cr_assert_eq(user[0], e, "the user copy is unchanged");
    cr_assert_eq(pg_pti_set_user_pgtbl(user, 4, 1, e, false), e, "no NX without the CPU's NX");
    cr_assert_eq(pg_pti_set_user_pgtbl(user, 4, 2, e & ~PTE_U, true), e & ~PTE_U, "supervisor: no NX");
    cr_assert_eq(user[2], e & ~PTE_U);
    cr_assert_eq(pg_pti_set_user_pgtbl(user, 4, 300, e, true), e, "kernel half: not mirrored");
    cr_assert_eq(user[300], 0);
    cr_assert_eq(pg_pti_set_user_pgtbl(user, 5, 255, 0, true), 0);
    cr_assert_eq(user[255], 0);
}

/* pg_map and pg_unmap on a ctx with pti mirror the user half into root + 4096. */
Test(policy, pti_map_mirrors_user_half)
{
    struct pg_ctx ctx = arena_ctx(&A, 4);
    phys_addr_t root = arena_root(&A), user = arena_root(&A);
    cr_assert_eq(user, pg_pti_user_pgd(root), "the arena hands out an 8 KiB-aligned pair");
    ctx.pti = true;
    uint64_t *k = arena_p2v(&A, root), *u = arena_p2v(&A, user);
    cr_assert_eq(pg_map(&ctx, root, 0x400000, 0x401000, 0x200000, PTE_P | PTE_W | PTE_U, PG_MASK_4K, 0, 0), 0);
    cr_assert(k[0] & PTE_P);
    cr_assert(k[0] & PTE_NX, "the kernel copy of a user entry is NX");
    cr_assert_eq(u[0], k[0] & ~PTE_NX, "the user copy: the same table, executable");
    const virt_addr_t kva = 0xffff888000000000ULL;
    cr_assert_eq(pg_map(&ctx, root, kva, kva + 0x1000, 0x200000, PTE_P | PTE_W, PG_MASK_4K, 0, 0), 0);
    cr_assert(k[273] & PTE_P);
    cr_assert_eq(u[273], 0, "kernel half: nothing in the user PGD");
    cr_assert_eq(pg_unmap(&ctx, root, 0x400000, 0x401000, 0, 0), 0);
    cr_assert_eq(k[0], 0);
    cr_assert_eq(u[0], 0, "the freed table is gone from the user PGD too");
    cr_assert_eq(pg_map(&ctx, root, 0x400000, 0x401000, 0x200000, PTE_P | PTE_U, PG_MASK_4K, 0, 0), 0);
    cr_assert(u[0] & PTE_P);
    cr_assert_eq(pg_free_tables(&ctx, root), 0);
    cr_assert_eq(u[0], 0);
}

Test(policy, range_wx)
{
    static const struct { enum pg_range_kind kind; uint64_t eff; bool wx; } cases[] = {
        { PG_RANGE_MAPPED, PTE_P | PTE_W, true },
        { PG_RANGE_MAPPED, PTE_P | PTE_W | PTE_U, true },
        { PG_RANGE_MAPPED, PTE_P | PTE_W | PTE_NX, false },
        { PG_RANGE_MAPPED, PTE_P, false },
        { PG_RANGE_MAPPED, PTE_P | PTE_U | PTE_NX, false },
        { PG_RANGE_HOLE, PTE_W, false },
        { PG_RANGE_UNREADABLE, PTE_P | PTE_W, false },
        { PG_RANGE_SHARED, PTE_P | PTE_W, false },
        { PG_RANGE_CYCLE, PTE_P | PTE_W, false },
    };
    for (size_t i = 0; i < N_(cases); i++) {
        struct pg_range r = { .kind = cases[i].kind, .eff = cases[i].eff, .size = 4096 };
        cr_assert_eq(pg_range_wx(&r), cases[i].wx, "case %zu", i);
    }
}

Test(policy, count_wx)
{
    for (unsigned levels = 4; levels <= 5; levels++) {
        struct pg_ctx c = arena_ctx(&A, levels);
        phys_addr_t root = build_linux_like(&A, &c);
        uint64_t pages = 99;
        /* The tree's one W+X page (kernel data mapped __PAGE_KERNEL_EXEC). */
        cr_assert_eq(pg_count_wx(&c, root, 0, 0, &pages), 0);
        cr_assert_eq(pages, 1);
        cr_assert_eq(pg_count_wx(&c, root, 0xFFFFFFFF82004000ULL, 0xFFFFFFFF82005000ULL, &pages), 0);
        cr_assert_eq(pages, 1);
        cr_assert_eq(pg_count_wx(&c, root, 0xFFFFFFFF82000000ULL, 0xFFFFFFFF82004000ULL, &pages), 0);
        cr_assert_eq(pages, 0);
        /* A 2 MiB W+X page counts as 512 pages; a recursive slot is not followed. */
        t_map(&c, root, 0xFFFFC90000200000ULL, 2 * T_MiB, 0x8000000, __PAGE_KERNEL_LARGE_EXEC,
              PG_MASK_2M);
        arena_set64(&A, root, 300, root | _KERNPG_TABLE);
        cr_assert_eq(pg_count_wx(&c, root, 0, 0, &pages), 0);
        cr_assert_eq(pages, 513);
        /* Linux's ptdump counts the same pages over its ranges. */
        struct pg_ptdump_opts o = { .markers = pg_ptdump_markers_linux(levels),
                                    .iter_flags = PG_ITER_EXPAND_SHARED };
        struct pg_sink quiet = { strbuf_write, &(struct strbuf){ 0 } };
        cr_assert_eq(pg_fmt_ptdump(&c, root, &o, &quiet), 0);
        free(((struct strbuf *)quiet.arg)->s);
        cr_assert_eq(o.wx_pages, 513);
        /* Errors: a bad range, an unreadable root (pages then 0). */
        cr_assert_eq(pg_count_wx(&c, root, 0x2000, 0x1000, &pages), -PG_ERANGE);
        cr_assert_eq(pages, 0);
        cr_assert_eq(pg_count_wx(&c, 0x7FFFF000ULL, 0, 0, &pages), -PG_EIO);
        arena_fini(&A);
        arena_init(&A, 1024);
    }
}

Test(policy, linux_layout_default)
{
    static const struct { unsigned levels; virt_addr_t po, vm, vmemmap; } cases[] = {
        { 4, 0xFFFF888000000000ULL, 0xFFFFC90000000000ULL, 0xFFFFEA0000000000ULL },
        { 5, 0xFF11000000000000ULL, 0xFFA0000000000000ULL, 0xFFD4000000000000ULL },
        { 3, 0, 0, 0 },
        { 0, 0, 0, 0 },
    };
    for (size_t i = 0; i < N_(cases); i++) {
        struct pg_linux_layout l;
        memset(&l, 0x5A, sizeof(l));
        pg_linux_layout_default(cases[i].levels, &l);
        cr_assert_eq(l.levels, cases[i].levels);
        cr_assert_eq(l.page_offset_base, cases[i].po, "case %zu", i);
        cr_assert_eq(l.vmalloc_base, cases[i].vm, "case %zu", i);
        cr_assert_eq(l.vmemmap_base, cases[i].vmemmap, "case %zu", i);
    }
}

/* The index of the marker called name in a table (terminated by a NULL name), or -1. */
static int marker_index(const struct pg_marker *m, const char *name)
{
    for (int i = 0; m[i].name; i++)
        if (!strcmp(m[i].name, name))
            return i;
    return -1;
}

Test(policy, markers_for_layout_default_is_linux)
{
    for (unsigned levels = 4; levels <= 5; levels++) {
        struct pg_linux_layout l;
        struct pg_marker buf[PG_LINUX_MARKERS_MAX];
        pg_linux_layout_default(levels, &l);
        size_t n = pg_ptdump_markers_for_layout(&l, buf, PG_LINUX_MARKERS_MAX);
        cr_assert_eq(n, PG_LINUX_MARKERS_MAX - 3, "Debian's configuration: no KASAN markers");
        const struct pg_marker *lin = pg_ptdump_markers_linux(levels);
        for (size_t i = 0; i <= n; i++) {
            cr_assert_eq(buf[i].start, lin[i].start, "%u-level marker %zu", levels, i);
            cr_assert_eq(buf[i].max_lines, lin[i].max_lines);
            if (i < n)
                cr_assert_str_eq(buf[i].name, lin[i].name);
        }
        cr_assert_null(buf[n].name);
        cr_assert_null(lin[n].name);
        cr_assert_eq(lin[marker_index(lin, "Low Kernel Mapping")].start, l.page_offset_base);
        cr_assert_eq(lin[marker_index(lin, "vmalloc() Area")].start, l.vmalloc_base);
        cr_assert_eq(lin[marker_index(lin, "Vmemmap")].start, l.vmemmap_base);
        cr_assert_eq(lin[marker_index(lin, "ESPfix Area")].max_lines, 16);
        cr_assert_eq(lin[marker_index(lin, "Modules")].start, 0xFFFFFFFFC0000000ULL);
        cr_assert_eq(lin[marker_index(lin, "EFI Runtime Services")].start,
                     0xFFFFFFEF00000000ULL);
        cr_assert_eq(marker_index(lin, "KASAN shadow"), -1);
        cr_assert_eq(marker_index(lin, "KASAN shadow end"), -1);
    }
    cr_assert_null(pg_ptdump_markers_linux(3));
    cr_assert_null(pg_ptdump_markers_linux(2));
}

Test(policy, markers_for_layout_moved_bases)
{
    /* Randomised bases as kernel_randomize_memory may choose them (order kept). */
    struct pg_linux_layout l = { .levels = 4, .page_offset_base = 0xFFFF9A4000000000ULL,
                                 .vmalloc_base = 0xFFFFB43000000000ULL,
                                 .vmemmap_base = 0xFFFFE3C000000000ULL,
                                 .config = PG_LINUX_KASAN };
    struct pg_marker buf[PG_LINUX_MARKERS_MAX + 2];
    memset(buf, 0, sizeof(buf));
    size_t n = pg_ptdump_markers_for_layout(&l, buf, N_(buf));
    cr_assert_eq(n, 15);
    for (size_t i = 1; i < n; i++)
        cr_assert_leq(buf[i - 1].start, buf[i].start, "order at %zu", i);
    cr_assert_eq(buf[marker_index(buf, "Low Kernel Mapping")].start, l.page_offset_base);
    cr_assert_eq(buf[marker_index(buf, "vmalloc() Area")].start, l.vmalloc_base);
    cr_assert_eq(buf[marker_index(buf, "Vmemmap")].start, l.vmemmap_base);
    cr_assert_eq(buf[marker_index(buf, "LDT remap")].start, 0xFFFF880000000000ULL);

    /* A base out of Linux's order still gives an ascending table. */
    l.vmemmap_base = 0xFFFF900000000000ULL;
    cr_assert_eq(pg_ptdump_markers_for_layout(&l, buf, N_(buf)), 15);
    for (size_t i = 1; i < 15; i++)
        cr_assert_leq(buf[i - 1].start, buf[i].start, "order at %zu", i);
    cr_assert_eq(marker_index(buf, "Vmemmap") + 1, marker_index(buf, "Low Kernel Mapping"));

    /* Too small or a mode without Linux's layout: 0, nothing written. */
    struct pg_marker small[PG_LINUX_MARKERS_MAX - 1];
    memset(small, 0x5A, sizeof(small));
    cr_assert_eq(pg_ptdump_markers_for_layout(&l, small, N_(small)), 0);
    cr_assert_eq(small[0].start, 0x5A5A5A5A5A5A5A5AULL);
    l.levels = 3;
    cr_assert_eq(pg_ptdump_markers_for_layout(&l, buf, N_(buf)), 0);
}

Test(policy, markers_for_layout_in_ptdump)
{
    /* The 5-level tree dumped with the default layout's table equals Linux's default dump. */
    struct pg_ctx c = arena_ctx(&A, 5);
    phys_addr_t root = build_linux_like(&A, &c);
    struct pg_linux_layout l;
    struct pg_marker buf[PG_LINUX_MARKERS_MAX];
    pg_linux_layout_default(5, &l);
    cr_assert_eq(pg_ptdump_markers_for_layout(&l, buf, N_(buf)), 13);
    struct strbuf a = { 0 }, b = { 0 };
    struct pg_sink sa = { strbuf_write, &a }, sb = { strbuf_write, &b };
    struct pg_ptdump_opts oa = { .markers = buf };
    cr_assert_eq(pg_fmt_ptdump(&c, root, &oa, &sa), 0);
    cr_assert_eq(pg_fmt_ptdump(&c, root, NULL, &sb), 0);
    cr_assert_str_eq(a.s, b.s);
    free(a.s);
    free(b.s);
}

Test(policy, markers_for_layout_config)
{
    /* Each option adds or removes its markers; Modules follows RANDOMIZE_BASE or the layout. */
    static const struct {
        unsigned config;
        size_t n;
        const char *absent, *present;
        virt_addr_t modules;
    } cases[] = {
        { 0, 13, "KASAN shadow", "EFI Runtime Services", 0xFFFFFFFFC0000000ULL },
        { PG_LINUX_KASAN, 15, NULL, "KASAN shadow end", 0xFFFFFFFFC0000000ULL },
        { PG_LINUX_NO_EFI, 12, "EFI Runtime Services", "ESPfix Area", 0xFFFFFFFFC0000000ULL },
        { PG_LINUX_NO_LDT, 12, "LDT remap", "Kernel Space", 0xFFFFFFFFC0000000ULL },
        { PG_LINUX_NO_ESPFIX, 12, "ESPfix Area", "CPU entry Area", 0xFFFFFFFFC0000000ULL },
        { PG_LINUX_NO_RANDOMIZE_BASE, 13, NULL, "Modules", 0xFFFFFFFFA0000000ULL },
        { PG_LINUX_KASAN | PG_LINUX_NO_EFI | PG_LINUX_NO_LDT | PG_LINUX_NO_ESPFIX, 12,
          "EFI Runtime Services", "KASAN shadow", 0xFFFFFFFFC0000000ULL },
    };
    for (unsigned levels = 4; levels <= 5; levels++) {
        for (size_t i = 0; i < N_(cases); i++) {
            struct pg_linux_layout l;
            struct pg_marker buf[PG_LINUX_MARKERS_MAX];
            pg_linux_layout_default(levels, &l);
            l.config = cases[i].config;
            cr_assert_eq(pg_ptdump_markers_for_layout(&l, buf, N_(buf)), cases[i].n, "case %zu", i);
            if (cases[i].absent)
                cr_assert_eq(marker_index(buf, cases[i].absent), -1, "case %zu", i);
            cr_assert_geq(marker_index(buf, cases[i].present), 0, "case %zu", i);
            cr_assert_eq(buf[marker_index(buf, "Modules")].start, cases[i].modules, "case %zu", i);
            for (size_t k = 1; k < cases[i].n; k++)
                cr_assert_leq(buf[k - 1].start, buf[k].start);
            /* An inferred MODULES_VADDR wins over the configuration's. */
            l.modules_vaddr = 0xFFFFFFFFC4000000ULL;
            pg_ptdump_markers_for_layout(&l, buf, N_(buf));
            cr_assert_eq(buf[marker_index(buf, "Modules")].start, 0xFFFFFFFFC4000000ULL);
        }
    }
}

Test(policy, linux_config_parse)
{
    unsigned c = 0;
    cr_assert_eq(pg_linux_config_parse("kasan,noefi", &c), 0);
    cr_assert_eq(c, PG_LINUX_KASAN | PG_LINUX_NO_EFI);
    cr_assert_eq(pg_linux_config_parse("nokasan,efi,noldt,noespfix,norandomize_base", &c), 0);
    cr_assert_eq(c, PG_LINUX_NO_LDT | PG_LINUX_NO_ESPFIX | PG_LINUX_NO_RANDOMIZE_BASE);
    cr_assert_eq(pg_linux_config_parse("ldt,espfix,randomize_base", &c), 0);
    cr_assert_eq(c, 0);
    cr_assert_eq(pg_linux_config_parse("noefi,efi", &c), 0, "later words win");
    cr_assert_eq(c, 0);
    static const char *const bad[] = { "", "kasan,", ",kasan", "no", "nono", "KASAN", "kasan efi",
                                       "nokasan,bogus", "noefii" };
    for (size_t i = 0; i < N_(bad); i++) {
        c = PG_LINUX_KASAN;
        cr_assert_eq(pg_linux_config_parse(bad[i], &c), -PG_EINVAL, "'%s'", bad[i]);
        cr_assert_eq(c, PG_LINUX_KASAN, "unchanged on error: '%s'", bad[i]);
    }
}
