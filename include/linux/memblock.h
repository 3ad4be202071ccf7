/*
 * memblock.h: the boot-time physical memory map, as Linux's memblock: the
 * RAM regions from E820 and the reserved regions inside them (kernel image,
 * boot tables, boot data, early allocations). Regions are kept sorted and
 * merged; ranges are half-open.
 */
#ifndef LINUX_MEMBLOCK_H
#define LINUX_MEMBLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define MEMBLOCK_MAX_REGIONS 128

struct memblock_region {
	uint64_t base, size;
};

struct memblock_type {
	unsigned int cnt;
	const char *name;
	struct memblock_region regions[MEMBLOCK_MAX_REGIONS];
};

struct memblock {
	struct memblock_type memory;
	struct memblock_type reserved;
};

extern struct memblock memblock;

/* Add RAM / reserve a range. returns: 0, or -1 when the region table is full. */
int memblock_add(uint64_t base, uint64_t size);
int memblock_reserve(uint64_t base, uint64_t size);

/* Whether pa is RAM / is reserved. */
bool memblock_is_memory(uint64_t pa);
bool memblock_is_reserved(uint64_t pa);

/*
 * Allocate and reserve size bytes aligned to align (a power of two) from the
 * highest free RAM, top-down as Linux does. Not zeroed.
 * returns: the physical address, or 0 when nothing fits.
 */
uint64_t memblock_phys_alloc(uint64_t size, uint64_t align);
/* The same, from free RAM inside [start, end) only. returns: the address, or 0. */
uint64_t memblock_phys_alloc_range(uint64_t size, uint64_t align, uint64_t start, uint64_t end);

/* End of the highest RAM region (0 if none). */
uint64_t memblock_end_of_DRAM(void);
uint64_t memblock_phys_mem_size(void);

/*
 * Call fn(arg, start, end) for every free range (RAM minus reserved) that
 * intersects [lo, hi), clipped to it, in ascending order.
 */
void memblock_for_each_free_range(uint64_t lo, uint64_t hi,
				  void (*fn)(void *arg, uint64_t start, uint64_t end), void *arg);

#endif /* LINUX_MEMBLOCK_H */
