/*
 * memblock.c: the boot-time physical memory map (see linux/memblock.h).
 * Two sorted arrays of non-overlapping, merged regions; everything is O(n)
 * in the number of regions, independent of the amount of RAM.
 */
#include <linux/memblock.h>
#include <paging/pg_env.h>

struct memblock memblock = {
	.memory.name = "memory",
	.reserved.name = "reserved",
};

/* Insert [base, base + size) into type, merging overlapping and adjacent regions. */
static int memblock_add_range(struct memblock_type *type, uint64_t base, uint64_t size)
{
	uint64_t end = base + size;
	unsigned int i = 0, j;

	if (!size)
		return 0;
	if (end < base)
		end = ~0ULL;
	/* find the first region that ends at or after base */
	while (i < type->cnt && type->regions[i].base + type->regions[i].size < base)
		i++;
	/* merge every region that overlaps or touches [base, end) */
	j = i;
	while (j < type->cnt && type->regions[j].base <= end) {
		uint64_t rend = type->regions[j].base + type->regions[j].size;
		if (type->regions[j].base < base)
			base = type->regions[j].base;
		if (rend > end)
			end = rend;
		j++;
	}
	if (j == i) {
		if (type->cnt >= MEMBLOCK_MAX_REGIONS)
			return -1;
		memmove(&type->regions[i + 1], &type->regions[i],
			(type->cnt - i) * sizeof(type->regions[0]));
		type->cnt++;
	} else if (j > i + 1) {
		memmove(&type->regions[i + 1], &type->regions[j],
			(type->cnt - j) * sizeof(type->regions[0]));
		type->cnt -= j - i - 1;
	}
	type->regions[i].base = base;
	type->regions[i].size = end - base;
	return 0;
}

int memblock_add(uint64_t base, uint64_t size)
{
	return memblock_add_range(&memblock.memory, base, size);
}

int memblock_reserve(uint64_t base, uint64_t size)
{
	return memblock_add_range(&memblock.reserved, base, size);
}

static bool type_contains(const struct memblock_type *type, uint64_t pa)
{
	for (unsigned int i = 0; i < type->cnt; i++)
		if (pa >= type->regions[i].base && pa - type->regions[i].base < type->regions[i].size)
			return true;
	return false;
}

bool memblock_is_memory(uint64_t pa)
{
	return type_contains(&memblock.memory, pa);
}

bool memblock_is_reserved(uint64_t pa)
{
	return type_contains(&memblock.reserved, pa);
}

uint64_t memblock_end_of_DRAM(void)
{
	const struct memblock_type *m = &memblock.memory;
	return m->cnt ? m->regions[m->cnt - 1].base + m->regions[m->cnt - 1].size : 0;
}

uint64_t memblock_phys_mem_size(void)
{
	uint64_t total = 0;
	for (unsigned int i = 0; i < memblock.memory.cnt; i++)
		total += memblock.memory.regions[i].size;
	return total;
}

void memblock_for_each_free_range(uint64_t lo, uint64_t hi,
				  void (*fn)(void *arg, uint64_t start, uint64_t end), void *arg)
{
	const struct memblock_type *res = &memblock.reserved;

	for (unsigned int i = 0; i < memblock.memory.cnt; i++) {
		uint64_t start = memblock.memory.regions[i].base;
		uint64_t end = start + memblock.memory.regions[i].size;
		if (start < lo)
			start = lo;
		if (end > hi)
			end = hi;
		/* walk the reserved regions, emitting the gaps between them */
		for (unsigned int r = 0; r < res->cnt && start < end; r++) {
			uint64_t rs = res->regions[r].base, re = rs + res->regions[r].size;
			if (re <= start)
				continue;
			if (rs >= end)
				break;
			if (rs > start)
				fn(arg, start, rs);
			start = re;
		}
		if (start < end)
			fn(arg, start, end);
	}
}

struct alloc_search {
	uint64_t size, align, found;
};

static void alloc_candidate(void *arg, uint64_t start, uint64_t end)
{
	struct alloc_search *s = arg;
	if (end - start < s->size)
		return;
	uint64_t top = (end - s->size) & ~(s->align - 1);
	if (top >= start && top > s->found)
		s->found = top; /* ranges come in ascending order: the last fit is the highest */
}

uint64_t memblock_phys_alloc(uint64_t size, uint64_t align)
{
	return memblock_phys_alloc_range(size, align, 0, ~0ULL);
}

uint64_t memblock_phys_alloc_range(uint64_t size, uint64_t align, uint64_t start, uint64_t end)
{
	struct alloc_search s = { size, align ? align : 1, 0 };

	memblock_for_each_free_range(start, end, alloc_candidate, &s);
	if (!s.found || memblock_reserve(s.found, size) != 0)
		return 0;
	return s.found;
}
