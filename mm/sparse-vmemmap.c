/*
 * sparse-vmemmap.c: the struct page array at vmemmap_base (Linux's
 * SPARSEMEM_VMEMMAP: mm/sparse.c, mm/sparse-vmemmap.c and x86's
 * vmemmap_populate in arch/x86/mm/init_64.c; docs/memlayout.md).
 *
 * Physical memory is cut in sections of 128 MiB; a section is present when
 * memblock has RAM in it. sparse_init, at mem_init and before the buddy
 * allocator owns the free memory, gives every present section its memmap:
 * the struct pages of its 32768 frames at vmemmap_base + pfn * sizeof(struct
 * page). Each 2 MiB of the vmemmap that a present section touches is backed
 * by one 2 MiB page from memblock (it serves the neighbouring sections too),
 * as Linux's vmemmap_populate_hugepages does on a CPU with PSE (every CPU in
 * long mode); when no 2 MiB block is left, or the 2 MiB already has a page
 * table, by 4 KiB pages. Absent sections (the PCI hole below 4 GiB) get no
 * memmap at all: their struct pages are not mapped. pfn_to_page and
 * page_to_pfn are plain arithmetic on vmemmap (linux/mm.h).
 */
#include <asm/console.h>
#include <asm/pgtable.h>
#include <asm/sections.h>
#include <linux/memblock.h>
#include <linux/mm.h>

uint8_t *section_flags;
uint64_t nr_sections, nr_present_sections;
uint64_t vmemmap_bytes[3]; /* backing by page size: [1] in 4 KiB pages, [2] in 2 MiB pages */

bool pfn_valid(uint64_t pfn)
{
	return pfn < max_pfn && (section_flags[pfn >> PFN_SECTION_SHIFT] & SECTION_HAS_MEM_MAP);
}

/* A physical block for the vmemmap, from memblock. returns: 0 if none is left. */
static phys_addr_t vmemmap_alloc_block(uint64_t size)
{
	return memblock_phys_alloc(size, size);
}

static void vmemmap_map(uint64_t va, phys_addr_t pa, uint64_t size)
{
	int err = pg_map(&kernel_ctx, __pa_symbol(init_top_pgt), va, va + size, pa, PAGE_KERNEL,
			 size == PMD_SIZE ? PG_MASK_2M : PG_MASK_4K, 0, 0);
	if (err)
		panic("vmemmap_populate at 0x%016llx: %s", (unsigned long long)va, pg_strerror(err));
	vmemmap_bytes[size == PMD_SIZE ? 2 : 1] += size;
}

/* The 4 KiB pages of [start, end) that are not mapped yet (Linux's vmemmap_populate_basepages). */
static void vmemmap_populate_basepages(uint64_t start, uint64_t end)
{
	for (uint64_t va = start & PAGE_MASK; va < end; va += PAGE_SIZE) {
		if (pg_translate(&kernel_ctx, __pa_symbol(init_top_pgt), va, 0, 0, 0) == 0)
			continue;
		phys_addr_t pa = vmemmap_alloc_block(PAGE_SIZE);
		if (!pa)
			panic("vmemmap_populate: no memory for the struct pages at 0x%016llx", (unsigned long long)va);
		vmemmap_map(va, pa, PAGE_SIZE);
	}
}

/* Back [start, end) of the vmemmap: a 2 MiB page per empty PMD, else 4 KiB pages. */
static void vmemmap_populate(uint64_t start, uint64_t end)
{
	for (uint64_t addr = start & PMD_MASK, next; addr < end; addr = next) {
		struct pg_walk w;
		phys_addr_t pa;

		next = addr + PMD_SIZE;
		pg_walk(&kernel_ctx, __pa_symbol(init_top_pgt), addr, &w);
		if (w.status == 0 && w.leaf_level == 2)
			continue; /* a 2 MiB page from a neighbouring section */
		bool pmd_none = w.status == -PG_ENOTMAPPED && w.fault_level >= 2;
		if (pmd_none && (pa = vmemmap_alloc_block(PMD_SIZE)) != 0) {
			vmemmap_map(addr, pa, PMD_SIZE);
			continue;
		}
		vmemmap_populate_basepages(addr < start ? start : addr, next > end ? end : next);
	}
}

/* Linux's memblocks_present: mark the sections memblock has RAM in. */
static void memblocks_present(void)
{
	for (unsigned int i = 0; i < memblock.memory.cnt; i++) {
		uint64_t first = memblock.memory.regions[i].base >> PAGE_SHIFT;
		uint64_t last = (memblock.memory.regions[i].base + memblock.memory.regions[i].size - 1) >> PAGE_SHIFT;
		for (uint64_t s = first >> PFN_SECTION_SHIFT; s <= last >> PFN_SECTION_SHIFT; s++)
			section_flags[s] |= SECTION_MARKED_PRESENT;
	}
}

void sparse_init(void)
{
	nr_sections = (max_pfn + PAGES_PER_SECTION - 1) / PAGES_PER_SECTION;
	phys_addr_t flags_pa = memblock_phys_alloc(nr_sections, 8);
	if (!flags_pa)
		panic("sparse_init: no memory for %llu section flags", (unsigned long long)nr_sections);
	section_flags = __va(flags_pa);
	memset(section_flags, 0, nr_sections);
	memblocks_present();
	for (uint64_t s = 0; s < nr_sections; s++) {
		if (!(section_flags[s] & SECTION_MARKED_PRESENT))
			continue;
		uint64_t start = (uint64_t)(uintptr_t)pfn_to_page(s * PAGES_PER_SECTION);
		vmemmap_populate(start, start + PAGES_PER_SECTION * sizeof(struct page));
		section_flags[s] |= SECTION_HAS_MEM_MAP;
		nr_present_sections++;
	}
}
