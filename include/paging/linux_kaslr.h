/*
 * linux_kaslr.h: the arithmetic of Linux's memory-region randomisation
 * (kernel_randomize_memory, CONFIG_RANDOMIZE_MEMORY), written once for the
 * kernel, which draws the random numbers and writes the bases, and for the
 * host tools, which reason about a guest's layout.
 *
 * Linux moves three regions, always in this order, inside the window from the
 * default direct-map base up to CPU_ENTRY_AREA_BASE:
 *   0  the direct map (page_offset_base): the RAM's size in TiB, rounded up,
 *      plus CONFIG_RANDOMIZE_MEMORY_PHYSICAL_PADDING, at most 2^46 bytes
 *      (2^52 with 5-level paging); the full 2^46 (2^52) with ZONE_DEVICE
 *   1  vmalloc and ioremap space (vmalloc_base): 32 TiB (12800 TiB)
 *   2  the struct page array (vmemmap_base): one struct page per 4 KiB of
 *      region 0, rounded up to a TiB
 * What the sizes leave of the window is the entropy: region i takes a random
 * part of at most 1/3, 1/2, then all of what is left, rounded down to 1 GiB
 * (PUD_MASK), as its distance from the end of the previous region (plus the
 * 1 GiB step Linux adds after each region). Every base is 1 GiB aligned.
 * docs/memlayout.md, "The randomised layout", tells the story.
 *
 * Freestanding: no state, no allocation, the random numbers come from the
 * caller.
 * Depends on: pg_format.h (struct pg_linux_layout).
 */
#ifndef PAGING_LINUX_KASLR_H
#define PAGING_LINUX_KASLR_H

#include <paging/pg_format.h>

/* Linux's constants (arch/x86/include/asm/page_64_types.h, pgtable_64_types.h). */
#define PG_LINUX_TB_SHIFT               40
#define PG_LINUX_PAGE_OFFSET_BASE_L4    0xffff888000000000ULL
#define PG_LINUX_PAGE_OFFSET_BASE_L5    0xff11000000000000ULL
#define PG_LINUX_VMALLOC_SIZE_TB_L4     32ULL
#define PG_LINUX_VMALLOC_SIZE_TB_L5     12800ULL
#define PG_LINUX_CPU_ENTRY_AREA_BASE    0xfffffe0000000000ULL
#define PG_LINUX_MAX_PHYSMEM_BITS_L4    46
#define PG_LINUX_MAX_PHYSMEM_BITS_L5    52
#define PG_LINUX_STRUCT_PAGE_SIZE       64      /* sizeof(struct page) in a 64-bit Linux */
#define PG_LINUX_PADDING_HOTPLUG_TB     10      /* the padding's Kconfig default with MEMORY_HOTPLUG */

/* The regions kernel_randomize_memory moves, in Linux's order. */
enum pg_linux_region {
    PG_LINUX_DIRECT_MAP,
    PG_LINUX_VMALLOC,
    PG_LINUX_VMEMMAP,
    PG_LINUX_NREGIONS
};

/*
 * struct pg_linux_kaslr_config - what the sizes depend on.
 * levels            4 or 5
 * max_pfn           one past the highest page frame of RAM (Linux's max_pfn)
 * padding_tb        CONFIG_RANDOMIZE_MEMORY_PHYSICAL_PADDING: 10 (0xa) is the
 *                   default with memory hotplug, 0 without
 * zone_device       CONFIG_ZONE_DEVICE: the direct map keeps its full size
 * struct_page_size  sizeof(struct page); 0 means PG_LINUX_STRUCT_PAGE_SIZE
 */
struct pg_linux_kaslr_config {
    unsigned levels;
    uint64_t max_pfn;
    unsigned padding_tb;
    bool zone_device;
    unsigned struct_page_size;
};

/*
 * struct pg_linux_kaslr - the computation and its result.
 * vaddr_start, vaddr_end  the window: [default direct-map base, CPU_ENTRY_AREA_BASE)
 * size_tb[]       each region's size in TiB
 * entropy         what the window leaves once the sizes are taken (bytes)
 * offset[]        the random part each region got (1 GiB multiples); zero
 *                 without random numbers
 * layout          levels and the three bases
 * physmem_end     the highest physical address the direct map can reach
 *                 (Linux's physmem_end: size of region 0 minus one)
 */
struct pg_linux_kaslr {
    virt_addr_t vaddr_start, vaddr_end;
    uint64_t size_tb[PG_LINUX_NREGIONS];
    uint64_t entropy;
    uint64_t offset[PG_LINUX_NREGIONS];
    struct pg_linux_layout layout;
    phys_addr_t physmem_end;
};

/*
 * pg_linux_kaslr_layout - Linux's kernel_randomize_memory: the sizes, then
 * one base per region from rand[i] (any 64-bit value; Linux draws them from
 * a generator seeded by kaslr_get_random_long("Memory")).
 * @rand: three random numbers, or NULL for the sizes and the entropy only
 *        (the bases are then those of all-zero random numbers: each region
 *        right after the previous one plus 1 GiB)
 * @out: written in full on success
 * returns: 0; -PG_EINVAL (levels not 4 or 5, max_pfn beyond the mode's
 *          physical limit, or sizes that do not fit the window).
 */
int pg_linux_kaslr_layout(const struct pg_linux_kaslr_config *cfg, const uint64_t rand[PG_LINUX_NREGIONS],
                          struct pg_linux_kaslr *out);

/*
 * pg_linux_region_size - the size in bytes of region r of a computed layout
 * (size_tb[r] << 40).
 * returns: the size; 0 for an invalid region.
 */
uint64_t pg_linux_region_size(const struct pg_linux_kaslr *k, enum pg_linux_region r);

#endif /* PAGING_LINUX_KASLR_H */
