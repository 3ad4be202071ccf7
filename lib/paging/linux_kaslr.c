/*
 * linux_kaslr.c: the arithmetic of Linux's kernel_randomize_memory (see
 * linux_kaslr.h): region sizes, the entropy they leave, and a PUD-aligned
 * base for each region from caller-supplied random numbers.
 * Depends on: linux_kaslr.h, paging.h.
 */
#include <paging/linux_kaslr.h>

#define TB_ (1ULL << PG_LINUX_TB_SHIFT)

static uint64_t div_round_up_(uint64_t n, uint64_t d)
{
    return n / d + (n % d != 0);
}

/* The three sizes in TiB, as Linux computes them. returns: 0 or -PG_EINVAL. */
static int region_sizes_(const struct pg_linux_kaslr_config *cfg, uint64_t size_tb[PG_LINUX_NREGIONS])
{
    unsigned physmem_bits = cfg->levels == 5 ? PG_LINUX_MAX_PHYSMEM_BITS_L5 : PG_LINUX_MAX_PHYSMEM_BITS_L4;
    uint64_t page_size = cfg->struct_page_size ? cfg->struct_page_size : PG_LINUX_STRUCT_PAGE_SIZE;

    if (cfg->max_pfn > (1ULL << (physmem_bits - PAGE_SHIFT)))
        return -PG_EINVAL;
    size_tb[PG_LINUX_DIRECT_MAP] = 1ULL << (physmem_bits - PG_LINUX_TB_SHIFT);
    size_tb[PG_LINUX_VMALLOC] = cfg->levels == 5 ? PG_LINUX_VMALLOC_SIZE_TB_L5 : PG_LINUX_VMALLOC_SIZE_TB_L4;
    /* The direct map shrinks to the RAM plus the hotplug padding, unless ZONE_DEVICE wants it all. */
    uint64_t memory_tb = div_round_up_(cfg->max_pfn << PAGE_SHIFT, TB_) + cfg->padding_tb;
    if (!cfg->zone_device && memory_tb < size_tb[PG_LINUX_DIRECT_MAP])
        size_tb[PG_LINUX_DIRECT_MAP] = memory_tb;
    /* One struct page per page of the direct map, in whole TiB. */
    uint64_t vmemmap_bytes = (size_tb[PG_LINUX_DIRECT_MAP] << (PG_LINUX_TB_SHIFT - PAGE_SHIFT)) * page_size;
    size_tb[PG_LINUX_VMEMMAP] = div_round_up_(vmemmap_bytes, TB_);
    return 0;
}

int pg_linux_kaslr_layout(const struct pg_linux_kaslr_config *cfg, const uint64_t rand[PG_LINUX_NREGIONS],
                          struct pg_linux_kaslr *out)
{
    if (!cfg || !out || (cfg->levels != 4 && cfg->levels != 5))
        return -PG_EINVAL;
    struct pg_linux_kaslr k = {
        .vaddr_start = cfg->levels == 5 ? PG_LINUX_PAGE_OFFSET_BASE_L5 : PG_LINUX_PAGE_OFFSET_BASE_L4,
        .vaddr_end = PG_LINUX_CPU_ENTRY_AREA_BASE,
        .layout.levels = cfg->levels,
    };
    int err = region_sizes_(cfg, k.size_tb);
    if (err)
        return err;
    uint64_t window = k.vaddr_end - k.vaddr_start, taken = 0;
    for (int i = 0; i < PG_LINUX_NREGIONS; i++)
        taken += k.size_tb[i] << PG_LINUX_TB_SHIFT;
    if (taken > window)
        return -PG_EINVAL;
    k.entropy = window - taken;

    virt_addr_t *base[PG_LINUX_NREGIONS] = {
        &k.layout.page_offset_base, &k.layout.vmalloc_base, &k.layout.vmemmap_base,
    };
    uint64_t remain = k.entropy, vaddr = k.vaddr_start;
    for (int i = 0; i < PG_LINUX_NREGIONS; i++) {
        /* At most an equal share of what is left for this and the regions after it. */
        uint64_t share = remain / (uint64_t)(PG_LINUX_NREGIONS - i);
        k.offset[i] = rand ? (rand[i] % (share + 1)) & PUD_MASK : 0;
        vaddr += k.offset[i];
        *base[i] = vaddr;
        vaddr += k.size_tb[i] << PG_LINUX_TB_SHIFT;
        if (i == PG_LINUX_DIRECT_MAP)
            k.physmem_end = vaddr - 1 - k.layout.page_offset_base;
        vaddr = (vaddr + 1 + PUD_SIZE - 1) & PUD_MASK; /* round_up(vaddr + 1, PUD_SIZE) */
        remain -= k.offset[i];
    }
    *out = k;
    return 0;
}

uint64_t pg_linux_region_size(const struct pg_linux_kaslr *k, enum pg_linux_region r)
{
    return (unsigned)r < PG_LINUX_NREGIONS ? k->size_tb[r] << PG_LINUX_TB_SHIFT : 0;
}
