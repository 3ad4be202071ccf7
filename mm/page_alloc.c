/*
 * page_alloc.c: the buddy page allocator (see linux/mm.h).
 *
 * The struct pages (at vmemmap_base, mapped for every present section by
 * sparse_init) are written only section by section: a section (128 MiB) is
 * initialised when the allocator first needs it (deferred_grow), marking its
 * pages reserved and then freeing its free memblock ranges into the buddy
 * lists. So boot writes the struct pages of one section, whatever the RAM.
 * Free blocks are kept per order in doubly linked lists threaded through
 * struct page by pfn; a block's buddy is pfn ^ (1 << order). One lock
 * (zone_lock) serialises the CPUs.
 */
#include <asm/console.h>
#include <linux/memblock.h>
#include <linux/mm.h>
#include <linux/spinlock.h>
#include <paging/pg_env.h>

#define NO_PFN 0xffffffffu

uint64_t max_pfn;
bool mem_init_done;
uint64_t totalram_pages;
uint64_t sections_initialised;

static uint32_t free_head[MAX_ORDER + 1];
static uint64_t nr_free;          /* pages on the free lists */
static uint64_t nr_deferred_free; /* free pages in sections not initialised yet */
static uint64_t next_deferred;    /* lowest section that may still be uninitialised */
static DEFINE_SPINLOCK(zone_lock);

static void list_add(uint64_t pfn, unsigned int order)
{
	struct page *p = pfn_to_page(pfn);
	p->flags = PG_buddy;
	p->order = order;
	p->prev = NO_PFN;
	p->next = free_head[order];
	if (free_head[order] != NO_PFN)
		pfn_to_page(free_head[order])->prev = (uint32_t)pfn;
	free_head[order] = (uint32_t)pfn;
}

static void list_del(uint64_t pfn, unsigned int order)
{
	struct page *p = pfn_to_page(pfn);
	if (p->prev != NO_PFN)
		pfn_to_page(p->prev)->next = p->next;
	else
		free_head[order] = p->next;
	if (p->next != NO_PFN)
		pfn_to_page(p->next)->prev = p->prev;
	p->flags = 0;
}

/* Put a block on the free lists, merging it with its free buddies. */
static void __free_block(uint64_t pfn, unsigned int order)
{
	nr_free += 1ULL << order;
	while (order < MAX_ORDER) {
		uint64_t buddy = pfn ^ (1ULL << order);
		if (buddy >= max_pfn)
			break;
		struct page *b = pfn_to_page(buddy);
		if (!(b->flags & PG_buddy) || b->order != order)
			break;
		list_del(buddy, order);
		pfn &= ~(1ULL << order);
		order++;
	}
	list_add(pfn, order);
}

/* Free [start, end) (page aligned) as the largest aligned blocks that fit. */
static void free_range(void *arg, uint64_t start, uint64_t end)
{
	uint64_t *count = arg;
	uint64_t pfn = (start + PAGE_SIZE - 1) >> PAGE_SHIFT, last = end >> PAGE_SHIFT;

	while (pfn < last) {
		unsigned int order = MAX_ORDER;
		while (order && ((pfn & ((1ULL << order) - 1)) || pfn + (1ULL << order) > last))
			order--;
		__free_block(pfn, order);
		*count += 1ULL << order;
		pfn += 1ULL << order;
	}
}

static void count_range(void *arg, uint64_t start, uint64_t end)
{
	uint64_t *count = arg;
	uint64_t s = (start + PAGE_SIZE - 1) >> PAGE_SHIFT, e = end >> PAGE_SHIFT;
	if (e > s)
		*count += e - s;
}

/* Initialise section s's struct pages and free its free ranges. */
static void init_section(uint64_t s)
{
	uint64_t first = s * PAGES_PER_SECTION, last = first + PAGES_PER_SECTION, freed = 0;

	if (last > max_pfn)
		last = max_pfn;
	for (uint64_t pfn = first; pfn < last; pfn++)
		*pfn_to_page(pfn) = (struct page){ .flags = PG_reserved, .next = NO_PFN, .prev = NO_PFN };
	section_flags[s] |= SECTION_INITIALISED;
	sections_initialised++;
	memblock_for_each_free_range(first << PAGE_SHIFT, last << PAGE_SHIFT, free_range, &freed);
	nr_deferred_free -= freed;
}

/* Initialise the next deferred section (absent ones have no struct pages). returns: false when none is left. */
static bool deferred_grow(void)
{
	while (next_deferred < nr_sections &&
	       (section_flags[next_deferred] & (SECTION_HAS_MEM_MAP | SECTION_INITIALISED)) != SECTION_HAS_MEM_MAP)
		next_deferred++;
	if (next_deferred >= nr_sections)
		return false;
	init_section(next_deferred);
	return true;
}

void mem_init(void)
{
	uint64_t total_free = 0;

	if (max_pfn >= NO_PFN)
		panic("mem_init: RAM beyond 16 TiB is not supported");
	sparse_init(); /* the struct pages of every present section, from memblock */
	for (unsigned int o = 0; o <= MAX_ORDER; o++)
		free_head[o] = NO_PFN;

	/* From here on memblock is frozen: every free range belongs to the buddy. */
	memblock_for_each_free_range(0, ~0ULL, count_range, &total_free);
	nr_deferred_free = total_free;
	totalram_pages = total_free;
	init_section(0);
	mem_init_done = true;

	stage_begin("mem_init", "struct pages and the buddy allocator");
	stage_printk("  max_pfn 0x%llx; struct pages of %u bytes at vmemmap_base 0x%016llx (sparse vmemmap)\n",
		     (unsigned long long)max_pfn, (unsigned int)sizeof(struct page), (unsigned long long)vmemmap_base);
	stage_printk("  sections of 128 MiB: %llu present of %llu; vmemmap backed by %llu MiB in 2M pages, "
		     "%llu KiB in 4k pages\n", (unsigned long long)nr_present_sections, (unsigned long long)nr_sections,
		     (unsigned long long)(vmemmap_bytes[2] >> 20), (unsigned long long)(vmemmap_bytes[1] >> 10));
	stage_printk("  %llu free pages (%llu MiB); sections initialised now: %llu (the rest on demand)\n",
		     (unsigned long long)total_free, (unsigned long long)(total_free >> 8),
		     (unsigned long long)sections_initialised);
}

static struct page *__alloc_pages(unsigned int order)
{
	for (;;) {
		for (unsigned int o = order; o <= MAX_ORDER; o++) {
			if (free_head[o] == NO_PFN)
				continue;
			uint64_t pfn = free_head[o];
			list_del(pfn, o);
			nr_free -= 1ULL << o;
			while (o > order) { /* give back the upper halves */
				o--;
				list_add(pfn + (1ULL << o), o);
				nr_free += 1ULL << o;
			}
			pfn_to_page(pfn)->flags = 0;
			return pfn_to_page(pfn);
		}
		if (!deferred_grow())
			return 0;
	}
}

struct page *alloc_pages(unsigned int order)
{
	if (order > MAX_ORDER)
		return 0;
	spin_lock(&zone_lock);
	struct page *page = __alloc_pages(order);
	spin_unlock(&zone_lock);
	return page;
}

void free_pages(struct page *page, unsigned int order)
{
	uint64_t pfn = page_to_pfn(page);
	bool valid = order <= MAX_ORDER && pfn_valid(pfn) && !(pfn & ((1ULL << order) - 1));
	if (!valid)
		panic("free_pages: bad page 0x%llx order %u", (unsigned long long)pfn, order);
	spin_lock(&zone_lock);
	if (!(section_flags[pfn >> PFN_SECTION_SHIFT] & SECTION_INITIALISED))
		init_section(pfn >> PFN_SECTION_SHIFT); /* e.g. a boot-time table page freed */
	if (page->flags & PG_buddy)
		panic("free_pages: page 0x%llx order %u is free already", (unsigned long long)pfn, order);
	__free_block(pfn, order);
	spin_unlock(&zone_lock);
}

uint64_t __get_free_pages(unsigned int order)
{
	struct page *page = alloc_pages(order);
	return page ? (uint64_t)(uintptr_t)page_address(page) : 0;
}

void free_pages_addr(uint64_t addr, unsigned int order)
{
	free_pages(virt_to_page(addr), order);
}

uint64_t get_zeroed_page(void)
{
	uint64_t addr = __get_free_pages(0);
	if (addr)
		memset((void *)(uintptr_t)addr, 0, PAGE_SIZE);
	return addr;
}

uint64_t nr_free_pages(void)
{
	return nr_free + nr_deferred_free;
}
