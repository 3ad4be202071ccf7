/*
 * kaslr.c: the decompressor's random kernel placement (Linux's
 * arch/x86/boot/compressed/kaslr.c in spirit): a random 2 MiB-aligned
 * physical slot in E820 RAM, clear of the decompressor and the boot data,
 * and a random 2 MiB-aligned virtual address inside the kernel image window
 * below the modules area. The random numbers come from arch/x86/lib/kaslr.c,
 * which the kernel shares; `kaslr_seed=N` makes both choices reproducible.
 */
#include <paging/pg_env.h>

#include "misc.h"

#define SZ_4G 0x100000000ULL

struct slot_walk {
	const struct kaslr_avoid *avoid;
	unsigned int navoid;
	uint64_t size, wanted, count, found;
};

/* Visit every 2 MiB slot of RAM in [min, 4 GiB) that can hold size bytes clear of avoid[]. */
static void for_each_slot(const struct boot_params *bp, uint64_t min, struct slot_walk *w)
{
	for (unsigned int i = 0; i < bp->e820_entries && i < E820_MAX_ENTRIES_ZEROPAGE; i++) {
		const struct boot_e820_entry *e = &bp->e820_table[i];
		if (e->type != E820_TYPE_RAM)
			continue;
		uint64_t start = (e->addr < min ? min : e->addr), end = e->addr + e->size;
		start = (start + KERNEL_ALIGN - 1) & ~(uint64_t)(KERNEL_ALIGN - 1);
		if (end > SZ_4G)
			end = SZ_4G;
		for (uint64_t s = start; s + w->size <= end && s + w->size > s; s += KERNEL_ALIGN) {
			bool clear = true;
			for (unsigned int a = 0; a < w->navoid; a++)
				if (s < w->avoid[a].end && w->avoid[a].start < s + w->size)
					clear = false;
			if (!clear)
				continue;
			if (w->count == w->wanted)
				w->found = s;
			w->count++;
		}
	}
}

uint64_t kaslr_find_physical(const struct boot_params *bp, struct kaslr_rng *rng, uint64_t size,
			     const struct kaslr_avoid *avoid, unsigned int navoid, uint64_t *slots)
{
	struct slot_walk w = { avoid, navoid, size, ~0ULL, 0, 0 };

	for_each_slot(bp, LOAD_PHYSICAL_ADDR, &w); /* count them */
	*slots = w.count;
	if (!w.count)
		return 0;
	w.wanted = kaslr_get_random_long(rng) % w.count;
	w.count = 0;
	for_each_slot(bp, LOAD_PHYSICAL_ADDR, &w); /* take the chosen one */
	return w.found;
}

uint64_t kaslr_find_virtual(struct kaslr_rng *rng, uint64_t size, uint64_t *slots)
{
	uint64_t image = (size + KERNEL_ALIGN - 1) & ~(uint64_t)(KERNEL_ALIGN - 1);
	*slots = 1 + (KERNEL_IMAGE_SIZE - LOAD_PHYSICAL_ADDR - image) / KERNEL_ALIGN;
	return LOAD_PHYSICAL_ADDR + (kaslr_get_random_long(rng) % *slots) * KERNEL_ALIGN;
}
