/*
 * test_linux_kaslr.c: pg_linux_kaslr_layout, Linux's kernel_randomize_memory
 * arithmetic: region sizes (direct map from max_pfn and the padding, with
 * and without ZONE_DEVICE; vmalloc; vmemmap), the entropy left, known bases
 * for given random numbers (computed by hand from arch/x86/mm/kaslr.c's
 * steps), and, over many random numbers, the invariants every layout keeps:
 * Linux's order, 1 GiB alignment, a 1 GiB step at least between regions,
 * the window.
 */
#include <criterion/criterion.h>
#include <paging/linux_kaslr.h>

#define TiB (1ULL << 40)
#define GiB (1ULL << 30)
#define PFNS(bytes) ((uint64_t)(bytes) >> 12)

static const uint64_t R[3] = { 0x123456789abcdef0ULL, 0xfedcba9876543210ULL, 0x0f0f0f0f0f0f0f0fULL };

static struct pg_linux_kaslr layout(unsigned levels, uint64_t max_pfn, unsigned padding, bool zone_device,
                                    const uint64_t *rand)
{
    struct pg_linux_kaslr_config cfg = { .levels = levels, .max_pfn = max_pfn, .padding_tb = padding,
                                         .zone_device = zone_device };
    struct pg_linux_kaslr k;
    cr_assert_eq(pg_linux_kaslr_layout(&cfg, rand, &k), 0);
    return k;
}

static void expect_sizes(const struct pg_linux_kaslr *k, uint64_t dm, uint64_t vm, uint64_t vmemmap)
{
    cr_assert_eq(k->size_tb[PG_LINUX_DIRECT_MAP], dm);
    cr_assert_eq(k->size_tb[PG_LINUX_VMALLOC], vm);
    cr_assert_eq(k->size_tb[PG_LINUX_VMEMMAP], vmemmap);
    cr_assert_eq(k->entropy, k->vaddr_end - k->vaddr_start - (dm + vm + vmemmap) * TiB);
}

Test(kaslr, sizes_without_hotplug_shrink_the_direct_map_to_the_ram)
{
    struct pg_linux_kaslr k = layout(4, PFNS(512ULL << 20), 0, false, NULL);
    expect_sizes(&k, 1, 32, 1);
    cr_assert_eq(k.vaddr_start, 0xffff888000000000ULL);
    cr_assert_eq(k.vaddr_end, 0xfffffe0000000000ULL);
    cr_assert_eq(k.entropy, 0x538000000000ULL); /* 83.5 TiB */
    k = layout(5, PFNS(512ULL << 20), 0, false, NULL);
    expect_sizes(&k, 1, 12800, 1);
    cr_assert_eq(k.vaddr_start, 0xff11000000000000ULL);
    /* 3 TiB of RAM and one byte more: 4 TiB. */
    k = layout(4, PFNS(3 * TiB) + 1, 0, false, NULL);
    expect_sizes(&k, 4, 32, 1);
    /* Exactly 1 TiB: 1 TiB. */
    k = layout(4, PFNS(TiB), 0, false, NULL);
    expect_sizes(&k, 1, 32, 1);
}

Test(kaslr, padding_and_zone_device)
{
    /* MEMORY_HOTPLUG's default padding, 10 TiB. */
    struct pg_linux_kaslr k = layout(4, PFNS(2ULL << 30), PG_LINUX_PADDING_HOTPLUG_TB, false, NULL);
    expect_sizes(&k, 11, 32, 1);
    /* The padding never takes the direct map past 2^46 (4-level). */
    k = layout(4, PFNS(60 * TiB), PG_LINUX_PADDING_HOTPLUG_TB, false, NULL);
    expect_sizes(&k, 64, 32, 1);
    /* ZONE_DEVICE (distribution kernels): the whole 2^46 / 2^52; vmemmap 64 B per page. */
    k = layout(4, PFNS(2ULL << 30), PG_LINUX_PADDING_HOTPLUG_TB, true, NULL);
    expect_sizes(&k, 64, 32, 1);
    k = layout(5, PFNS(2ULL << 30), PG_LINUX_PADDING_HOTPLUG_TB, true, NULL);
    expect_sizes(&k, 4096, 12800, 64);
}

Test(kaslr, vmemmap_follows_the_struct_page_size)
{
    struct pg_linux_kaslr_config cfg = { .levels = 5, .max_pfn = PFNS(1ULL << 30), .zone_device = true,
                                         .struct_page_size = 16 };
    struct pg_linux_kaslr k;
    cr_assert_eq(pg_linux_kaslr_layout(&cfg, NULL, &k), 0);
    expect_sizes(&k, 4096, 12800, 16);
    cfg.levels = 4;
    cr_assert_eq(pg_linux_kaslr_layout(&cfg, NULL, &k), 0);
    expect_sizes(&k, 64, 32, 1); /* 256 GiB, rounded up to a TiB */
}

Test(kaslr, known_bases)
{
    struct pg_linux_kaslr k = layout(4, PFNS(512ULL << 20), 0, false, R);
    cr_assert_eq(k.layout.levels, 4);
    cr_assert_eq(k.layout.page_offset_base, 0xffffa2cdc0000000ULL);
    cr_assert_eq(k.layout.vmalloc_base, 0xffffb67a80000000ULL);
    cr_assert_eq(k.layout.vmemmap_base, 0xfffff12240000000ULL);
    cr_assert_eq(k.physmem_end, TiB - 1);
    k = layout(5, PFNS(512ULL << 20), 0, false, R);
    cr_assert_eq(k.layout.page_offset_base, 0xff4eb7cdc0000000ULL);
    cr_assert_eq(k.layout.vmalloc_base, 0xff636ccd40000000ULL);
    cr_assert_eq(k.layout.vmemmap_base, 0xffa834b080000000ULL);
    k = layout(4, PFNS(512ULL << 20), PG_LINUX_PADDING_HOTPLUG_TB, true, R);
    cr_assert_eq(k.layout.page_offset_base, 0xffff89a340000000ULL);
    cr_assert_eq(k.layout.vmalloc_base, 0xffffca1fc0000000ULL);
    cr_assert_eq(k.layout.vmemmap_base, 0xfffff21300000000ULL);
    k = layout(5, PFNS(16ULL << 30), PG_LINUX_PADDING_HOTPLUG_TB, true, R);
    cr_assert_eq(k.layout.page_offset_base, 0xff46e12340000000ULL);
    cr_assert_eq(k.layout.vmalloc_base, 0xff8764c280000000ULL);
    cr_assert_eq(k.layout.vmemmap_base, 0xfff1a0cb40000000ULL);
}

Test(kaslr, no_random_numbers_pack_the_regions_one_gib_apart)
{
    struct pg_linux_kaslr k = layout(4, PFNS(512ULL << 20), 0, false, NULL);
    cr_assert_eq(k.layout.page_offset_base, 0xffff888000000000ULL);
    cr_assert_eq(k.layout.vmalloc_base, 0xffff888000000000ULL + TiB + GiB);
    cr_assert_eq(k.layout.vmemmap_base, 0xffff888000000000ULL + 33 * TiB + 2 * GiB);
    for (int i = 0; i < PG_LINUX_NREGIONS; i++)
        cr_assert_eq(k.offset[i], 0);
}

Test(kaslr, largest_random_numbers_reach_past_the_window_by_the_steps)
{
    /* rand = share makes each offset the whole share: all the entropy is used, and the
     * 1 GiB steps after regions 0 and 1 push the vmemmap's end 2 GiB past the window
     * (as in Linux: the steps are not counted in the entropy). */
    struct pg_linux_kaslr k = layout(4, PFNS(512ULL << 20), 0, false, NULL);
    uint64_t e = k.entropy, rand[3];
    rand[0] = e / 3;
    rand[1] = (e - (rand[0] & PUD_MASK)) / 2;
    rand[2] = e - (rand[0] & PUD_MASK) - (rand[1] & PUD_MASK);
    k = layout(4, PFNS(512ULL << 20), 0, false, rand);
    uint64_t used = k.offset[0] + k.offset[1] + k.offset[2];
    cr_assert_leq(used, k.entropy);
    cr_assert_gt(used + GiB, k.entropy, "all the entropy but less than a GiB of rounding is used");
    uint64_t end = k.layout.vmemmap_base + k.size_tb[PG_LINUX_VMEMMAP] * TiB;
    cr_assert_gt(end, k.vaddr_end);
    cr_assert_leq(end, k.vaddr_end + 2 * GiB);
}

/* splitmix64: the test's own random numbers, fixed seed. */
static uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void check_invariants(const struct pg_linux_kaslr *k)
{
    const virt_addr_t base[3] = { k->layout.page_offset_base, k->layout.vmalloc_base, k->layout.vmemmap_base };
    uint64_t remain = k->entropy, used = 0;
    cr_assert_geq(base[0], k->vaddr_start);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(base[i] & (GiB - 1), 0, "region %d is 1 GiB aligned", i);
        cr_assert_leq(k->offset[i], remain / (uint64_t)(3 - i), "region %d takes at most its share", i);
        remain -= k->offset[i];
        used += k->offset[i];
        if (i > 0)
            cr_assert_geq(base[i], base[i - 1] + k->size_tb[i - 1] * TiB + GiB, "order and the 1 GiB step");
    }
    cr_assert_leq(used, k->entropy);
    cr_assert_leq(base[2] + k->size_tb[2] * TiB, k->vaddr_end + 2 * GiB);
    cr_assert_leq(base[1] + k->size_tb[1] * TiB, k->vaddr_end);
}

Test(kaslr, invariants_over_random_numbers)
{
    static const uint64_t rams[] = { 128ULL << 20, 4ULL << 30, 64ULL << 30, 5 * TiB };
    uint64_t seed = 42;
    unsigned distinct_tops = 0;
    virt_addr_t last_top = 0;
    for (unsigned levels = 4; levels <= 5; levels++) {
        for (unsigned r = 0; r < sizeof(rams) / sizeof(rams[0]); r++) {
            for (int n = 0; n < 500; n++) {
                uint64_t rand[3] = { next_rand(&seed), next_rand(&seed), next_rand(&seed) };
                struct pg_linux_kaslr k = layout(levels, PFNS(rams[r]), n % 2 ? 10 : 0, n % 3 == 0, rand);
                check_invariants(&k);
                unsigned shift = levels == 5 ? 48 : 39;
                if (k.layout.page_offset_base >> shift != last_top >> shift)
                    distinct_tops++;
                last_top = k.layout.page_offset_base;
            }
        }
    }
    cr_assert_gt(distinct_tops, 1000, "the direct map's top-level slot varies");
}

Test(kaslr, errors)
{
    struct pg_linux_kaslr k;
    struct pg_linux_kaslr_config cfg = { .levels = 3, .max_pfn = 1 };
    cr_assert_eq(pg_linux_kaslr_layout(&cfg, NULL, &k), -PG_EINVAL);
    cfg.levels = 4;
    cfg.max_pfn = (1ULL << 34) + 1; /* beyond 2^46 bytes */
    cr_assert_eq(pg_linux_kaslr_layout(&cfg, NULL, &k), -PG_EINVAL);
    cfg.levels = 5;
    cr_assert_eq(pg_linux_kaslr_layout(&cfg, NULL, &k), 0);
    cr_assert_eq(pg_linux_kaslr_layout(NULL, NULL, &k), -PG_EINVAL);
    cr_assert_eq(pg_linux_region_size(&k, PG_LINUX_VMALLOC), 12800 * TiB);
    cr_assert_eq(pg_linux_region_size(&k, PG_LINUX_NREGIONS), 0);
}
