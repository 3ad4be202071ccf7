/*
 * mm.h: the page allocator: struct page for every frame of RAM, in the
 * virtual array at vmemmap_base (sparse vmemmap: mm/sparse-vmemmap.c), a
 * buddy allocator over the free memblock ranges, and the conversions
 * between pages, frame numbers and direct-map addresses.
 *
 * Physical memory is cut in 128 MiB sections. Every present section gets
 * its struct pages mapped at mem_init (sparse_init); they are initialised
 * lazily, one section at a time (as Linux's deferred struct page init):
 * boot cost does not grow with RAM.
 */
#ifndef LINUX_MM_H
#define LINUX_MM_H

#include <asm/page.h>
#include <asm/pgtable_64_types.h>
#include <stdbool.h>
#include <stdint.h>

#define MAX_ORDER 10 /* blocks of up to 2^10 pages (4 MiB) */

struct page {
	uint32_t flags;
	uint32_t order;      /* of a free block's head */
	union {
		struct {
			uint32_t next, prev; /* free-list links, as pfns; NO_PFN ends */
		};
		struct {
			uint32_t _refcount; /* an allocated user page: mappings of it (fork's COW sharing) */
			uint32_t _mapcount; /* unused */
		};
	};
};

#define PG_reserved 0x1u /* not managed: kernel image, boot data, holes, memblock allocations */
#define PG_buddy    0x2u /* head of a free block */

extern uint64_t max_pfn;
extern bool mem_init_done;

/* Sections (Linux's SECTION_SIZE_BITS 27 on x86-64). */
#define SECTION_SIZE_BITS     27
#define PFN_SECTION_SHIFT     (SECTION_SIZE_BITS - PAGE_SHIFT)
#define PAGES_PER_SECTION     (1ULL << PFN_SECTION_SHIFT)
/* section_flags[] bits: RAM in it; its struct pages mapped; its struct pages initialised. */
#define SECTION_MARKED_PRESENT 0x1u
#define SECTION_HAS_MEM_MAP    0x2u
#define SECTION_INITIALISED    0x4u
extern uint8_t *section_flags;          /* one byte per section up to max_pfn */
extern uint64_t nr_sections, nr_present_sections;
/* The vmemmap's backing: bytes in 4 KiB pages ([1]) and in 2 MiB pages ([2]). */
extern uint64_t vmemmap_bytes[3];
/* Map the struct pages of every present section (before the buddy allocator takes memblock's rest). */
void sparse_init(void);
/* Whether pfn has a struct page (its section is present). */
bool pfn_valid(uint64_t pfn);

/* The struct page array: pfn_to_page(pfn) = vmemmap + pfn, wherever KASLR put it. */
#define vmemmap ((struct page *)(uintptr_t)vmemmap_base)

static inline uint64_t page_to_pfn(const struct page *p)
{
	return (uint64_t)(p - vmemmap);
}
static inline struct page *pfn_to_page(uint64_t pfn)
{
	return vmemmap + pfn;
}
static inline phys_addr_t page_to_phys(const struct page *p)
{
	return page_to_pfn(p) << PAGE_SHIFT;
}
static inline struct page *phys_to_page(phys_addr_t pa)
{
	return pfn_to_page(pa >> PAGE_SHIFT);
}
/* page_address: the page's direct-map address (lowmem_page_address). */
static inline void *page_address(const struct page *p)
{
	return __va(page_to_phys(p));
}

/* Build mem_map and the free lists from memblock. */
void mem_init(void);

/* returns: the first page of 2^order contiguous free pages, or NULL. */
struct page *alloc_pages(unsigned int order);
void free_pages(struct page *page, unsigned int order);
/* returns: the direct-map address of 2^order pages, or 0. */
uint64_t __get_free_pages(unsigned int order);
void free_pages_addr(uint64_t addr, unsigned int order);
/*
 * get_zeroed_page - one zeroed page from the buddy allocator: the kernel's
 * only way to a cleared page once mem_init has run (page tables, pgds, user
 * pages, the live MMU checks' pages). Before mem_init there is no buddy
 * allocator: init_mem_mapping takes its table pages from memblock.
 * returns: the page's direct-map address (__pa() gives its physical
 * address), or 0 when no page is free.
 */
uint64_t get_zeroed_page(void);
/* Give back one page from get_zeroed_page() or __get_free_pages(0). */
static inline void free_page(uint64_t addr)
{
	free_pages_addr(addr, 0);
}
/* The struct page of a direct-map (or kernel image) address. */
static inline struct page *virt_to_page(uint64_t addr)
{
	return phys_to_page(__pa(addr));
}

/* Free pages, counting the ones in sections not initialised yet. */
uint64_t nr_free_pages(void);
/* Pages the allocator manages (free at mem_init). */
extern uint64_t totalram_pages;
/* Sections whose struct pages are initialised (of nr_present_sections). */
extern uint64_t sections_initialised;

#endif /* LINUX_MM_H */
