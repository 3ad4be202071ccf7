/*
 * test_linux_layout.c: pg_linux_layout_infer on synthetic Linux guests and
 * on trees that are not Linux's.
 *
 * A synthetic guest is built with pg_map in an arena the way Linux 6.x lays
 * itself out: the direct map of the RAM at page_offset_base (1G, 2M or 4K
 * pages), the vmalloc area with its top-level entries preallocated and a few
 * pages at both ends, the vmemmap (2M pages of struct pages), the CPU entry
 * area, an ESPfix area sharing one PMD table four times, the kernel image
 * (text, rodata, data/bss by their rights, with or without the gaps PTI
 * unmaps), module pages and the fixmap. The bases come from a re-enactment
 * of kernel_randomize_memory (docs/memlayout.md, "Linux's randomised
 * layout") with fixed seeds, 4- and 5-level, and the inference must find
 * exactly them.
 */
#include <criterion/criterion.h>
#include <paging/linux_layout.h>
#include "arena.h"
#include "test_paging_trees.h"

static struct arena A;

static void setup(void) { arena_init(&A, 1024); }
static void teardown(void) { arena_fini(&A); }

TestSuite(linux_layout, .init = setup, .fini = teardown);

#define N_(a) (sizeof(a) / sizeof((a)[0]))
#define T_TiB (1ULL << 40)
#define HKM 0xFFFFFFFF80000000ULL
#define START_KERNEL 0xFFFFFFFF81000000ULL
#define CEA 0xFFFFFE0000000000ULL
#define ESPFIX 0xFFFFFF0000000000ULL

/* Offsets in the image, as Debian's 6.1 kernel has them. */
#define ETEXT_OFF   0x0E02000ULL    /* PFN_ALIGN(_etext) */
#define RODATA_OFF  0x1000000ULL    /* __start_rodata (2 MiB aligned) */
#define ERODATA_OFF 0x18EB000ULL    /* PFN_ALIGN(__end_rodata) */
#define SDATA_OFF   0x1A00000ULL    /* _sdata = __end_rodata_hpage_align */
#define INIT_OFF    0x2044000ULL    /* __init_begin .. __init_end: freed (unmapped with PTI) */
#define EINIT_OFF   0x2306000ULL
#define IMAGE_END   0x3600000ULL    /* roundup(_end, 2 MiB) */

/* A synthetic Linux guest. */
struct lx {
    unsigned levels;
    virt_addr_t page_offset, vmalloc, vmemmap, text;
    phys_addr_t text_pa;
    uint64_t ram;                   /* RAM is [0, 640K) and [1M, ram) */
    unsigned dm_mask;               /* direct-map page sizes */
    bool pti;                       /* kernel PGD of a PTI pair: gaps unmapped, no G */
    bool early;                     /* before mark_rodata_ro: the image is one RWX block */
    virt_addr_t modules;            /* first module page (0: none) */
};

static uint64_t vmalloc_size(unsigned levels) { return levels == 5 ? 12800 * T_TiB : 32 * T_TiB; }

/* kernel_randomize_memory's three bases for `ram` bytes of RAM with a seeded PRNG. */
static void randomize_memory(struct lx *g, uint64_t seed)
{
    uint64_t start = g->levels == 5 ? 0xFF11000000000000ULL : 0xFFFF888000000000ULL;
    uint64_t size_tb[3];
    size_tb[0] = 1ULL << ((g->levels == 5 ? 52 : 46) - 40);
    uint64_t memory_tb = (g->ram + T_TiB - 1) / T_TiB + 10;    /* + PHYSICAL_PADDING */
    if (memory_tb < size_tb[0])
        size_tb[0] = memory_tb;
    size_tb[1] = vmalloc_size(g->levels) / T_TiB;
    size_tb[2] = (size_tb[0] * (T_TiB / 4096) * 64 + T_TiB - 1) / T_TiB;
    uint64_t remain = CEA - start - (size_tb[0] + size_tb[1] + size_tb[2]) * T_TiB;
    uint64_t vaddr = start, *base[3] = { &g->page_offset, &g->vmalloc, &g->vmemmap };
    for (int i = 0; i < 3; i++) {
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        uint64_t entropy = remain / (uint64_t)(3 - i);
        entropy = (seed % (entropy + 1)) & ~(T_GiB - 1);
        vaddr += entropy;
        *base[i] = vaddr;
        vaddr += size_tb[i] * T_TiB;
        vaddr = (vaddr + 1 + T_GiB - 1) & ~(T_GiB - 1);
        remain -= entropy;
    }
}

static void kmap(struct lx *g, phys_addr_t root, virt_addr_t va, uint64_t len, phys_addr_t pa,
                 uint64_t prot, unsigned mask)
{
    struct pg_ctx c = arena_ctx(&A, g->levels);
    c.table_flags = _KERNPG_TABLE;
    if (g->pti)
        prot &= ~PTE_G;
    int r = pg_map(&c, root, va, va + len, pa, prot, mask, PG_MAP_REPLACE, NULL);
    cr_assert_eq(r, 0, "map %llx: %s", (unsigned long long)va, pg_strerror(r));
}

/* The top-level entry for va points to a fresh table (Linux's preallocation). */
static void prealloc_top(struct lx *g, phys_addr_t root, virt_addr_t va)
{
    unsigned shift = g->levels == 5 ? 48 : 39;
    unsigned i = (unsigned)(va >> shift) & 511;
    if (((uint64_t *)arena_p2v(&A, root))[i] & PTE_P)
        return;
    arena_set64(&A, root, i, arena_root(&A) | _KERNPG_TABLE);
}

/* ESPfix: one page, its PUD entry copied to three more (one PMD table, four references). */
static void espfix(struct lx *g, phys_addr_t root)
{
    struct pg_ctx c = arena_ctx(&A, g->levels);
    virt_addr_t va = ESPFIX + 0x500000000ULL;
    kmap(g, root, va, 0x1000, 0x7dc20000, __PAGE_KERNEL_RO, PG_MASK_4K);
    phys_addr_t pud = 0;
    uint64_t e = 0;
    cr_assert_eq(pg_entry_lookup(&c, root, va, 3, &pud), 0);
    memcpy(&e, arena_p2v(&A, pud), 8);
    for (unsigned i = 1; i < 4; i++)
        memcpy(arena_p2v(&A, pud + 8 * i), &e, 8);
}

/* The kernel image at g->text, by its rights. */
static void image(struct lx *g, phys_addr_t root)
{
    virt_addr_t t = g->text;
    phys_addr_t p = g->text_pa;
    if (g->early) {
        kmap(g, root, t, IMAGE_END, p, __PAGE_KERNEL_LARGE_EXEC, PG_MASK_2M);
        return;
    }
    kmap(g, root, t, ETEXT_OFF, p, __PAGE_KERNEL_RX, PG_MASK_2M);
    if (!g->pti)    /* the gaps stay mapped, RW NX, without PTI */
        kmap(g, root, t + ETEXT_OFF, RODATA_OFF - ETEXT_OFF, p + ETEXT_OFF, __PAGE_KERNEL,
             PG_MASK_2M);
    kmap(g, root, t + RODATA_OFF, ERODATA_OFF - RODATA_OFF, p + RODATA_OFF, __PAGE_KERNEL_RO,
         PG_MASK_2M);
    if (!g->pti)
        kmap(g, root, t + ERODATA_OFF, SDATA_OFF - ERODATA_OFF, p + ERODATA_OFF, __PAGE_KERNEL,
             PG_MASK_2M);
    kmap(g, root, t + SDATA_OFF, IMAGE_END - SDATA_OFF, p + SDATA_OFF, __PAGE_KERNEL, PG_MASK_2M);
    kmap(g, root, t + 0x2313000, 0x1000, p + 0x2313000, __PAGE_KERNEL_RO, PG_MASK_4K);
    if (g->pti) {
        struct pg_ctx c = arena_ctx(&A, g->levels);
        cr_assert_eq(pg_unmap(&c, root, t + INIT_OFF, t + EINIT_OFF, 0, NULL), 0);
    }
}

/* The whole guest's kernel PGD (and, with PTI, the user PGD at root + 4 KiB). */
static phys_addr_t build(struct lx *g, phys_addr_t *user_pgd)
{
    phys_addr_t root = arena_root(&A);
    if (root & PG_PTI_USER_PGD_BIT)
        root = arena_root(&A);
    phys_addr_t user = arena_root(&A);
    cr_assert_eq(user, pg_pti_user_pgd(root), "the arena hands out an 8 KiB-aligned pair");
    if (user_pgd)
        *user_pgd = user;
    struct pg_ctx c = arena_ctx(&A, g->levels);
    t_map(&c, root, 0x400000, 0x3000, 0x3000000, PTE_P | PTE_U | PTE_A, PG_MASK_4K);

    /* The direct map, with the kernel image's alias read-only. */
    kmap(g, root, g->page_offset, g->ram, 0, __PAGE_KERNEL | PTE_D, g->dm_mask);
    kmap(g, root, g->page_offset + g->text_pa, ETEXT_OFF, g->text_pa, __PAGE_KERNEL_RO,
         g->dm_mask);
    /* vmalloc: every top-level entry over the area, pages at both ends. */
    for (uint64_t off = 0; off < vmalloc_size(g->levels); off += g->levels == 5 ? 1ULL << 48
                                                                               : 1ULL << 39)
        prealloc_top(g, root, g->vmalloc + off);
    prealloc_top(g, root, g->vmalloc + vmalloc_size(g->levels) - 1);
    kmap(g, root, g->vmalloc, 0x4000, 0x7dc02000, __PAGE_KERNEL, PG_MASK_4K);
    kmap(g, root, g->vmalloc + 0x5000, 0x1000, 0x7ffe1000, __PAGE_KERNEL, PG_MASK_4K);
    kmap(g, root, g->vmalloc + vmalloc_size(g->levels) - 0x400000, 0x3000, 0x258c000,
         __PAGE_KERNEL, PG_MASK_4K);
    /* The vmemmap: 64 bytes of struct page per 4 KiB of RAM, in 2M pages. */
    uint64_t vmemmap = (g->ram / 64 + PMD_SIZE - 1) & ~(PMD_SIZE - 1);
    kmap(g, root, g->vmemmap, vmemmap, (g->ram & ~(PMD_SIZE - 1)) - vmemmap, __PAGE_KERNEL,
         PG_MASK_2M);
    kmap(g, root, CEA + 0x1000, 0x4000, 0x7dc06000, __PAGE_KERNEL_RO, PG_MASK_4K);
    espfix(g, root);
    image(g, root);
    if (g->modules)
        kmap(g, root, g->modules, 0x8000, 0x1180000, __PAGE_KERNEL_RX, PG_MASK_4K);
    kmap(g, root, 0xFFFFFFFFFF5FC000ULL, 0x2000, 0xFEC00000, __PAGE_KERNEL_NOCACHE, PG_MASK_4K);

    if (g->pti) {   /* the user PGD: user pages, CEA, entry text, ESPfix, cpu_tss_rw */
        t_map(&c, user, 0x400000, 0x3000, 0x3000000, PTE_P | PTE_U | PTE_A, PG_MASK_4K);
        kmap(g, user, CEA + 0x1000, 0x4000, 0x7dc06000, __PAGE_KERNEL_RO, PG_MASK_4K);
        kmap(g, user, g->text + 0xC00000, PMD_SIZE, g->text_pa + 0xC00000, __PAGE_KERNEL_RX,
             PG_MASK_2M);
        espfix(g, user);
        kmap(g, user, g->page_offset + 0x7dc06000, 0x1000, 0x7dc06000, __PAGE_KERNEL,
             PG_MASK_4K);
    }
    return root;
}

static void expect_not_linux_(const struct pg_linux_inferred *l, enum pg_linux_verdict v);

static const struct pg_ram_range *ram_of(const struct lx *g, size_t *n)
{
    static struct pg_ram_range r[3];
    r[0] = (struct pg_ram_range){ 0, 0xA0000 };
    r[1] = (struct pg_ram_range){ 0x100000, g->ram };
    r[2] = (struct pg_ram_range){ 0xFFFC0000ULL, 0x100000000ULL };   /* the BIOS: not RAM */
    *n = g->ram > 0xFFFC0000ULL ? 2 : 3;
    return r;
}

static struct pg_memo_slot memo[1 << 14];

static void infer_ram(const struct lx *g, phys_addr_t root, const struct pg_ram_range *ram,
                      size_t nram, struct pg_linux_inferred *l)
{
    struct pg_ctx c = arena_ctx(&A, g->levels);
    int r = pg_linux_layout_infer(&c, root, ram, nram, memo, N_(memo), l);
    cr_assert_eq(r, 0, "%s", pg_strerror(r));
}

static void infer(const struct lx *g, phys_addr_t root, struct pg_linux_inferred *l)
{
    size_t nram;
    const struct pg_ram_range *ram = ram_of(g, &nram);
    infer_ram(g, root, ram, nram, l);
}

static const struct pg_linux_region *region(const struct pg_linux_inferred *l, const char *name)
{
    for (size_t i = 0; i < l->nregions; i++)
        if (!strcmp(l->region[i].name, name))
            return &l->region[i];
    return NULL;
}

static void expect_value(const struct pg_linux_inferred *l, enum pg_linux_fact f, uint64_t v)
{
    const struct pg_linux_value *x = &l->value[f];
    cr_assert(x->known, "%s unknown (why %d)", pg_linux_fact_name(f), x->why);
    cr_assert_eq(x->value, v, "%s = %llx, want %llx", pg_linux_fact_name(f),
                 (unsigned long long)x->value, (unsigned long long)v);
}

static void expect_region(const struct pg_linux_inferred *l, const char *name, virt_addr_t start,
                          virt_addr_t end)
{
    const struct pg_linux_region *r = region(l, name);
    cr_assert(r, "no region %s", name);
    cr_assert_eq(r->start, start, "%s starts at %llx, want %llx", name,
                 (unsigned long long)r->start, (unsigned long long)start);
    cr_assert_eq(r->end, end, "%s ends at %llx, want %llx", name, (unsigned long long)r->end,
                 (unsigned long long)end);
}

/* Every value and region of a synthetic guest is found exactly. */
static void check_guest(const struct lx *g, const struct pg_linux_inferred *l)
{
    cr_assert_eq(l->verdict, PG_LV_LINUX, "%s", pg_linux_verdict_text(l->verdict));
    expect_value(l, PG_LF_PAGE_OFFSET_BASE, g->page_offset);
    expect_value(l, PG_LF_VMALLOC_BASE, g->vmalloc);
    expect_value(l, PG_LF_VMEMMAP_BASE, g->vmemmap);
    expect_value(l, PG_LF_KERNEL_TEXT_START, g->text);
    expect_value(l, PG_LF_PHYS_BASE, g->text_pa - (g->text - HKM));
    expect_value(l, PG_LF_KASLR_OFFSET, g->text - START_KERNEL);
    cr_assert_eq(l->layout.levels, g->levels);
    cr_assert_eq(l->layout.page_offset_base, g->page_offset);
    cr_assert_eq(l->layout.vmalloc_base, g->vmalloc);
    cr_assert_eq(l->layout.vmemmap_base, g->vmemmap);
    cr_assert_eq(l->value[PG_LF_VMALLOC_BASE].why, PG_LW_VMALLOC_PREALLOC);

    expect_region(l, "Low Kernel Mapping", g->page_offset, g->page_offset + g->ram);
    expect_region(l, "vmalloc() Area", g->vmalloc, g->vmalloc + vmalloc_size(g->levels));
    expect_region(l, "Vmemmap", g->vmemmap,
                  g->vmemmap + ((g->ram / 64 + PMD_SIZE - 1) & ~(PMD_SIZE - 1)));
    expect_region(l, "CPU entry Area", CEA, CEA + (512ULL << 30));
    expect_region(l, "ESPfix Area", ESPFIX, ESPFIX + (512ULL << 30));
    expect_region(l, "Fixmap Area", 0xFFFFFFFFFF400000ULL, 0xFFFFFFFFFF800000ULL);
    if (g->early) {
        expect_region(l, "Kernel text", g->text, g->text + IMAGE_END);
        cr_assert_null(region(l, "Kernel rodata"));
    } else {
        expect_region(l, "Kernel text", g->text, g->text + ETEXT_OFF);
        expect_region(l, "Kernel rodata", g->text + RODATA_OFF, g->text + ERODATA_OFF);
        expect_region(l, "Kernel data/bss", g->text + SDATA_OFF, g->text + IMAGE_END);
    }
    cr_assert_null(region(l, "LDT remap"));
    cr_assert_null(region(l, "EFI Runtime Services"));
    /* In address order, disjoint. */
    for (size_t i = 1; i < l->nregions; i++)
        cr_assert(l->region[i - 1].end != 0 && l->region[i - 1].end <= l->region[i].start,
                  "%s overlaps %s", l->region[i - 1].name, l->region[i].name);
}

static struct lx debian_4level(void)
{
    /* The bases Debian's 6.1 kernel chose in one boot (-cpu qemu64 -m 2G). */
    return (struct lx){
        .levels = 4, .page_offset = 0xFFFF8B0D00000000ULL, .vmalloc = 0xFFFFCDB500000000ULL,
        .vmemmap = 0xFFFFEFE380000000ULL, .text = 0xFFFFFFFFA7E00000ULL, .text_pa = 0x14000000,
        .ram = 0x7FFE0000, .dm_mask = PG_MASK_2M, .modules = 0xFFFFFFFFC00E4000ULL,
    };
}

Test(linux_layout, debian_bases_4level)
{
    struct lx g = debian_4level();
    struct pg_linux_inferred l;
    infer(&g, build(&g, NULL), &l);
    check_guest(&g, &l);
    expect_value(&l, PG_LF_PHYS_BASE, 0xFFFFFFFFEC200000ULL);   /* read from the guest */
    expect_value(&l, PG_LF_MODULES_VADDR, 0xFFFFFFFFC0000000ULL);
    cr_assert_eq(l.value[PG_LF_MODULES_VADDR].why, PG_LW_MODULES_KASLR);
    expect_region(&l, "Modules", 0xFFFFFFFFC0000000ULL, 0xFFFFFFFFFF000000ULL);
    /* 32 TiB from a base that is not 512 GiB aligned: 65 top-level entries. */
    cr_assert_eq(l.value[PG_LF_VMALLOC_BASE].n[0], 65);
}

Test(linux_layout, nokaslr_bases_4level_and_5level)
{
    for (unsigned levels = 4; levels <= 5; levels++) {
        struct lx g = { .levels = levels, .text = START_KERNEL, .text_pa = 0x1000000,
                        .ram = 0x7FFE0000, .dm_mask = PG_MASK_1G,
                        .modules = 0xFFFFFFFFC0000000ULL };
        struct pg_linux_layout def;
        pg_linux_layout_default(levels, &def);
        g.page_offset = def.page_offset_base;
        g.vmalloc = def.vmalloc_base;
        g.vmemmap = def.vmemmap_base;
        arena_fini(&A);
        arena_init(&A, 1024);
        struct pg_linux_inferred l;
        infer(&g, build(&g, NULL), &l);
        check_guest(&g, &l);
        expect_value(&l, PG_LF_PHYS_BASE, 0);
        expect_value(&l, PG_LF_KASLR_OFFSET, 0);
        /* Module pages from 0xffffffffc0000000 with the text at its default address. */
        expect_value(&l, PG_LF_MODULES_VADDR, 0xFFFFFFFFC0000000ULL);
        cr_assert_eq(l.value[PG_LF_MODULES_VADDR].why, PG_LW_MODULES_MAPPED);
        /* A 512 GiB- (or 256 TiB-) aligned base: exactly 64 (50) top-level entries. */
        cr_assert_eq(l.value[PG_LF_VMALLOC_BASE].n[0], levels == 4 ? 64 : 50);
    }
}

/* kernel_randomize_memory with several seeds, 4- and 5-level, 1G/2M/4K direct maps. */
Test(linux_layout, randomised_bases)
{
    static const unsigned masks[] = { PG_MASK_1G, PG_MASK_2M, PG_MASK_4K };
    for (unsigned seed = 1; seed <= 12; seed++) {
        struct lx g = { .levels = 4 + seed % 2, .ram = seed % 3 == 2 ? T_GiB / 4 : 2 * T_GiB,
                        .dm_mask = masks[seed % 3],
                        .text = START_KERNEL + (seed * 37 % 470) * PMD_SIZE,
                        .text_pa = 0x1000000 + (seed * 11 % 60) * PMD_SIZE,
                        .modules = 0xFFFFFFFFC0000000ULL + seed * 0x10000 };
        randomize_memory(&g, 0x9E3779B97F4A7C15ULL * seed);
        arena_fini(&A);
        arena_init(&A, 1024);
        struct pg_linux_inferred l;
        infer(&g, build(&g, NULL), &l);
        check_guest(&g, &l);
    }
}

Test(linux_layout, pti_kernel_and_user_pgd)
{
    for (unsigned levels = 4; levels <= 5; levels++) {
        struct lx g = { .levels = levels, .ram = 0x7FFE0000, .dm_mask = PG_MASK_2M, .pti = true,
                        .text = 0xFFFFFFFFA9800000ULL, .text_pa = 0xB600000,
                        .modules = 0xFFFFFFFFC0083000ULL };
        randomize_memory(&g, 0x1234567 + levels);
        arena_fini(&A);
        arena_init(&A, 1024);
        phys_addr_t user;
        phys_addr_t root = build(&g, &user);
        struct pg_linux_inferred l;
        infer(&g, root, &l);
        check_guest(&g, &l);
        /* The data/bss region still starts at _sdata, after the unmapped rodata gap. */
        const struct pg_linux_region *d = region(&l, "Kernel data/bss");
        cr_assert_lt(d->n[0], IMAGE_END - SDATA_OFF, "the freed init pages are not mapped");

        infer(&g, user, &l);
        cr_assert_eq(l.verdict, PG_LV_PTI_USER_PGD, "%s", pg_linux_verdict_text(l.verdict));
        cr_assert_eq(l.nregions, 0);
        for (int f = 0; f < PG_LF_NFACTS; f++) {
            cr_assert(!l.value[f].known);
            cr_assert_eq(l.value[f].why, PG_LW_NOT_LINUX);
        }
        cr_assert_eq(l.found.dm_covered, 0x1000, "the one direct-map page (cpu_tss_rw)");
    }
}

Test(linux_layout, before_mark_rodata_ro)
{
    struct lx g = debian_4level();
    g.early = true;
    g.modules = 0;
    struct pg_linux_inferred l;
    infer(&g, build(&g, NULL), &l);
    check_guest(&g, &l);
    cr_assert_eq(region(&l, "Kernel text")->why, PG_LW_REGION_NO_RODATA);
    /* No module mapped, but the text moved: the window is 1 GiB. */
    expect_value(&l, PG_LF_MODULES_VADDR, 0xFFFFFFFFC0000000ULL);
    cr_assert_null(region(&l, "Modules"), "a region only where something is mapped");
}

Test(linux_layout, modules_after_a_512m_window)
{
    struct lx g = debian_4level();
    g.text = START_KERNEL;
    g.text_pa = 0x1000000;
    g.modules = 0xFFFFFFFFA0000000ULL;
    struct pg_linux_inferred l;
    infer(&g, build(&g, NULL), &l);
    expect_value(&l, PG_LF_MODULES_VADDR, 0xFFFFFFFFA0000000ULL);
    expect_region(&l, "Modules", 0xFFFFFFFFA0000000ULL, 0xFFFFFFFFFF000000ULL);
    /* The layout carries it to ptdump's Modules marker, whatever the configuration says. */
    cr_assert_eq(l.layout.modules_vaddr, 0xFFFFFFFFA0000000ULL);
    struct pg_marker mk[PG_LINUX_MARKERS_MAX];
    cr_assert_gt(pg_ptdump_markers_for_layout(&l.layout, mk, PG_LINUX_MARKERS_MAX), 0);
    size_t i = 0;
    while (mk[i].name && strcmp(mk[i].name, "Modules"))
        i++;
    cr_assert_eq(mk[i].start, 0xFFFFFFFFA0000000ULL);

    /* Neither a module nor a moved text: the tables do not say. */
    arena_fini(&A);
    arena_init(&A, 1024);
    g.modules = 0;
    infer(&g, build(&g, NULL), &l);
    cr_assert(!l.value[PG_LF_MODULES_VADDR].known);
    cr_assert_eq(l.value[PG_LF_MODULES_VADDR].why, PG_LW_NO_MODULES);
    cr_assert_eq(l.layout.modules_vaddr, 0, "unknown: the configuration decides");
}

/* Debian's bases with `ram` bytes of RAM in 1G pages. */
static phys_addr_t build_big(struct lx *g, uint64_t ram)
{
    *g = debian_4level();
    g->ram = ram;
    g->dm_mask = PG_MASK_1G;
    return build(g, NULL);
}

Test(linux_layout, ram_with_a_hole_and_no_ram_given)
{
    /* 3 GiB below the PCI hole and 2 GiB above 4 GiB. */
    struct lx g;
    phys_addr_t root = build_big(&g, 6 * T_GiB);
    struct pg_ctx c = arena_ctx(&A, 4);
    cr_assert_eq(pg_unmap(&c, root, g.page_offset + 3 * T_GiB, g.page_offset + 4 * T_GiB, 0,
                          NULL), 0);
    struct pg_ram_range ram[] = { { 0, 0xA0000 }, { 0x100000, 3 * T_GiB },
                                  { 4 * T_GiB, 6 * T_GiB } };
    struct pg_linux_inferred l;
    infer_ram(&g, root, ram, N_(ram), &l);
    cr_assert_eq(l.verdict, PG_LV_LINUX);
    expect_value(&l, PG_LF_PAGE_OFFSET_BASE, g.page_offset);
    expect_region(&l, "Low Kernel Mapping", g.page_offset, g.page_offset + 6 * T_GiB);
    cr_assert_eq(l.value[PG_LF_PAGE_OFFSET_BASE].n[0], l.found.ram_bytes, "all RAM covered");

    /* Without RAM ranges: the candidate mapping most from physical address 0. */
    infer_ram(&g, root, NULL, 0, &l);
    cr_assert_eq(l.verdict, PG_LV_LINUX);
    expect_value(&l, PG_LF_PAGE_OFFSET_BASE, g.page_offset);
    cr_assert_eq(l.value[PG_LF_PAGE_OFFSET_BASE].why, PG_LW_DIRECT_MAP_NO_RAM);
}

Test(linux_layout, ram_starting_high_leaves_vmemmap_unknown)
{
    /* RAM from 64 GiB only: its first struct page is 1 GiB above vmemmap_base. */
    struct lx g;
    phys_addr_t root = build_big(&g, 66 * T_GiB);
    struct pg_ram_range ram[] = { { 64 * T_GiB, 66 * T_GiB } };
    struct pg_linux_inferred l;
    infer_ram(&g, root, ram, 1, &l);
    cr_assert_eq(l.verdict, PG_LV_LINUX);
    expect_value(&l, PG_LF_VMALLOC_BASE, g.vmalloc);
    cr_assert(!l.value[PG_LF_VMEMMAP_BASE].known);
    cr_assert_eq(l.value[PG_LF_VMEMMAP_BASE].why, PG_LW_RAM_HIGH);
    cr_assert_eq(l.value[PG_LF_VMEMMAP_BASE].n[0], 64 * T_GiB);
    /* RAM the direct map does not cover: not Linux's. */
    ram[0].start = 80 * T_GiB;
    ram[0].end = 82 * T_GiB;
    infer_ram(&g, root, ram, 1, &l);
    expect_not_linux_(&l, PG_LV_NO_DIRECT_MAP);
}

Test(linux_layout, the_generic_linux_like_tree)
{
    for (unsigned levels = 4; levels <= 5; levels++) {
        arena_fini(&A);
        arena_init(&A, 1024);
        struct pg_ctx c = arena_ctx(&A, levels);
        phys_addr_t root = build_linux_like(&A, &c);
        struct pg_ram_range ram[] = { { 0, 2 * T_GiB + T_MiB } };
        struct pg_linux_inferred l;
        cr_assert_eq(pg_linux_layout_infer(&c, root, ram, 1, memo, N_(memo), &l), 0);
        cr_assert_eq(l.verdict, PG_LV_LINUX);
        struct pg_linux_layout def;
        pg_linux_layout_default(levels, &def);
        expect_value(&l, PG_LF_PAGE_OFFSET_BASE, def.page_offset_base);
        /* Two vmalloc pages and no preallocation: the first table, one entry of 64 (50). */
        expect_value(&l, PG_LF_VMALLOC_BASE, def.vmalloc_base);
        cr_assert_eq(l.value[PG_LF_VMALLOC_BASE].why, PG_LW_VMALLOC_FIRST_TABLE);
        cr_assert_eq(l.value[PG_LF_VMALLOC_BASE].n[0], 1);
        cr_assert(!l.value[PG_LF_VMEMMAP_BASE].known);
        cr_assert_eq(l.value[PG_LF_VMEMMAP_BASE].why, PG_LW_NO_VMEMMAP_TABLE);
        expect_value(&l, PG_LF_KERNEL_TEXT_START, START_KERNEL);
        /* Its data pages follow the text directly, without a read-only part. */
        expect_region(&l, "Kernel data/bss", 0xFFFFFFFF82000000ULL, 0xFFFFFFFF82005000ULL);
        cr_assert_eq(region(&l, "Kernel data/bss")->why, PG_LW_REGION_DATA_NO_RODATA);
        cr_assert_null(region(&l, "Kernel rodata"));
    }
}

/* ---- trees that are not Linux's ---- */

static void expect_not_linux_(const struct pg_linux_inferred *l, enum pg_linux_verdict v)
{
    cr_assert_eq(l->verdict, v, "verdict %d (%s), want %d", l->verdict,
                 pg_linux_verdict_text(l->verdict), v);
    cr_assert_eq(l->nregions, 0);
    for (int f = 0; f < PG_LF_NFACTS; f++)
        cr_assert(!l->value[f].known && l->value[f].why == PG_LW_NOT_LINUX);
}

Test(linux_layout, identity_map_only)
{
    struct pg_ctx c = arena_ctx(&A, 4);
    phys_addr_t root = arena_root(&A);
    t_map(&c, root, 0, 4 * T_GiB, 0, __PAGE_KERNEL_LARGE_EXEC, PG_MASK_2M);
    struct pg_ram_range ram[] = { { 0, 4 * T_GiB } };
    struct pg_linux_inferred l;
    cr_assert_eq(pg_linux_layout_infer(&c, root, ram, 1, memo, N_(memo), &l), 0);
    expect_not_linux_(&l, PG_LV_EMPTY_KERNEL_HALF);
    cr_assert_eq(l.found.user_bytes, 4 * T_GiB);
    cr_assert_eq(l.found.identity_bytes, 4 * T_GiB);
    cr_assert_eq(l.found.kernel_bytes, 0);
    cr_assert_eq(l.found.top_user, 1);
    cr_assert_eq(l.found.top_kernel, 0);
}

Test(linux_layout, pae_and_32bit)
{
    for (unsigned levels = 2; levels <= 3; levels++) {
        arena_fini(&A);
        arena_init(&A, 256);
        struct pg_ctx c = arena_ctx(&A, levels);
        phys_addr_t root = levels == 3 ? build_pae(&A, &c) : build_32bit(&A, &c);
        struct pg_linux_inferred l;
        cr_assert_eq(pg_linux_layout_infer(&c, root, NULL, 0, memo, N_(memo), &l), 0);
        expect_not_linux_(&l, PG_LV_NOT_LONG_MODE);
        cr_assert_gt(l.found.user_bytes, 8 * T_MiB);
        cr_assert_eq(l.found.kernel_bytes, 0);
        cr_assert_eq(l.layout.levels, levels);
    }
}

Test(linux_layout, empty_tree)
{
    for (unsigned levels = 4; levels <= 5; levels++) {
        struct pg_ctx c = arena_ctx(&A, levels);
        struct pg_linux_inferred l;
        cr_assert_eq(pg_linux_layout_infer(&c, arena_root(&A), NULL, 0, memo, N_(memo), &l), 0);
        expect_not_linux_(&l, PG_LV_EMPTY_KERNEL_HALF);
        cr_assert_eq(l.found.top_user + l.found.top_kernel, 0);
    }
}

Test(linux_layout, recursive_slot)
{
    struct pg_ctx c = arena_ctx(&A, 4);
    phys_addr_t root = arena_root(&A);
    arena_set64(&A, root, 510, root | _KERNPG_TABLE);
    struct pg_linux_inferred l;
    cr_assert_eq(pg_linux_layout_infer(&c, root, NULL, 0, memo, N_(memo), &l), 0);
    expect_not_linux_(&l, PG_LV_EMPTY_KERNEL_HALF);
    cr_assert_eq(l.found.cycles, 1);
    cr_assert_eq(l.found.first_cycle, 0xFFFFFF0000000000ULL);
    cr_assert_eq(l.found.top_kernel, 1);

    /* A Linux guest with a recursive slot added is still Linux's. */
    struct lx g = debian_4level();
    root = build(&g, NULL);
    arena_set64(&A, root, 300, root | _KERNPG_TABLE);
    infer(&g, root, &l);
    check_guest(&g, &l);
    cr_assert_eq(l.found.cycles, 1);
}

Test(linux_layout, direct_map_or_image_missing)
{
    struct lx g = debian_4level();
    phys_addr_t root = build(&g, NULL);
    struct pg_ctx c = arena_ctx(&A, 4);
    struct pg_linux_inferred l;
    /* The image window emptied. */
    cr_assert_eq(pg_unmap(&c, root, HKM, 0xFFFFFFFFC0000000ULL, 0, NULL), 0);
    infer(&g, root, &l);
    expect_not_linux_(&l, PG_LV_NO_KERNEL_IMAGE);
    /* A direct map of a quarter of the RAM. */
    cr_assert_eq(pg_unmap(&c, root, g.page_offset + 0x20000000, g.page_offset + g.ram, 0, NULL),
                 0);
    infer(&g, root, &l);
    expect_not_linux_(&l, PG_LV_NO_DIRECT_MAP);
    cr_assert_eq(l.found.dm_delta, g.page_offset);
    cr_assert_eq(l.found.dm_covered, 0x20000000 - 0x60000);
}

Test(linux_layout, errors)
{
    struct lx g = debian_4level();
    phys_addr_t root = build(&g, NULL);
    struct pg_ctx c = arena_ctx(&A, 4);
    struct pg_linux_inferred l;
    cr_assert_eq(pg_linux_layout_infer(&c, root, NULL, 0, memo, 4, &l), -PG_ENOSPC);
    cr_assert_eq(pg_linux_layout_infer(&c, root, NULL, 0, NULL, 0, &l), -PG_EINVAL);
    cr_assert_eq(pg_linux_layout_infer(&c, root, NULL, 0, memo, N_(memo), NULL), -PG_EINVAL);
    cr_assert_eq(pg_linux_layout_infer(&c, root, NULL, 3, memo, N_(memo), &l), -PG_EINVAL);
    cr_assert_eq(pg_linux_layout_infer(&c, 0x1000, NULL, 0, memo, N_(memo), &l), -PG_EIO);
    c.levels = 6;
    cr_assert_eq(pg_linux_layout_infer(&c, root, NULL, 0, memo, N_(memo), &l), -PG_EINVAL);
}

/* Tables that expand enormously (every entry to one table): the work stays bounded. */
Test(linux_layout, aliased_tables_are_bounded, .timeout = 10)
{
    for (unsigned levels = 4; levels <= 5; levels++) {
        struct pg_ctx c = arena_ctx(&A, levels);
        phys_addr_t root = arena_root(&A), t = arena_root(&A), pt = arena_root(&A);
        for (unsigned i = 0; i < 512; i++) {
            arena_set64(&A, root, i, t | _KERNPG_TABLE);
            arena_set64(&A, t, i, (i & 1 ? pt : t) | _KERNPG_TABLE);
            arena_set64(&A, pt, i, ((uint64_t)i << 12) | __PAGE_KERNEL);
        }
        struct pg_linux_inferred l;
        cr_assert_eq(pg_linux_layout_infer(&c, root, NULL, 0, memo, N_(memo), &l), 0);
        cr_assert_neq(l.verdict, PG_LV_LINUX);
        cr_assert_gt(l.found.shared, 0);
    }
}

/* ---- words ---- */

Test(linux_layout, names_and_words)
{
    for (int f = 0; f < PG_LF_NFACTS; f++)
        cr_assert_not_null(pg_linux_fact_name((enum pg_linux_fact)f));
    cr_assert_str_eq(pg_linux_fact_name(PG_LF_PAGE_OFFSET_BASE), "page_offset_base");
    cr_assert_null(pg_linux_fact_name(PG_LF_NFACTS));
    cr_assert_str_eq(pg_linux_verdict_text(PG_LV_LINUX), "Linux layout");
    cr_assert(!strncmp(pg_linux_verdict_text(PG_LV_NO_DIRECT_MAP), "not a Linux layout", 18));
    cr_assert_str_eq(pg_linux_verdict_text((enum pg_linux_verdict)99), "?");

    char buf[300];
    for (int w = PG_LW_NONE + 1; w < PG_LW_NWHY_; w++) {
        uint64_t n[2] = { 1, 2 };
        cr_assert_gt(pg_linux_why_text((enum pg_linux_why)w, n, buf, sizeof(buf)), 10,
                     "why %d has words", w);
    }
    uint64_t n[2] = { 0x7FFC0000, 0x81020000 };
    size_t len = pg_linux_why_text(PG_LW_DIRECT_MAP, n, buf, sizeof(buf));
    cr_assert_str_eq(buf, "VA - PA is this constant, 1 GiB aligned, over 1.9 GiB of the 2 GiB "
                          "of RAM: the direct map");
    cr_assert_eq(len, strlen(buf));
    uint64_t m[2] = { 0x14000000, 0x27E00000 };
    pg_linux_why_text(PG_LW_PHYS_BASE, m, buf, sizeof(buf));
    cr_assert(strstr(buf, "0x14000000 minus its offset 0x27e00000"), "%s", buf);
    uint64_t k[2] = { 65, 32 * T_TiB };
    pg_linux_why_text(PG_LW_VMALLOC_PREALLOC, k, buf, sizeof(buf));
    cr_assert(strstr(buf, "all 65 top-level entries over the 32 TiB"), "%s", buf);
    /* Truncation: NUL-terminated, the full length returned. */
    char small[8];
    cr_assert_eq(pg_linux_why_text(PG_LW_DIRECT_MAP, n, small, sizeof(small)), len);
    cr_assert_str_eq(small, "VA - PA");
    cr_assert_eq(pg_linux_why_text(PG_LW_DIRECT_MAP, n, NULL, 0), len);
}

Test(linux_layout, region_of)
{
    struct lx g = debian_4level();
    struct pg_linux_inferred l;
    infer(&g, build(&g, NULL), &l);
    cr_assert_str_eq(pg_linux_region_of(&l, g.page_offset + 0x1234)->name, "Low Kernel Mapping");
    cr_assert_str_eq(pg_linux_region_of(&l, g.vmalloc + T_TiB)->name, "vmalloc() Area");
    cr_assert_str_eq(pg_linux_region_of(&l, g.text)->name, "Kernel text");
    cr_assert_str_eq(pg_linux_region_of(&l, 0xFFFFFFFFFF5FC000ULL)->name, "Fixmap Area");
    cr_assert_null(pg_linux_region_of(&l, 0x400000));
    cr_assert_null(pg_linux_region_of(&l, g.text + ETEXT_OFF), "the text/rodata gap");
}
