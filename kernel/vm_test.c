/*
 * vm_test.c: the in-kernel tests of the memory regions (test=kaslr,
 * vmemmap, vmalloc, ioremap; all of them with test=all):
 *   - kaslr: the three bases in Linux's order, 1 GiB aligned, in the window,
 *     the direct map at page_offset_base, the process top-table boundary at
 *     its slot;
 *   - vmemmap: every present section's struct pages mapped, absent ones
 *     not, pfn_to_page/page_to_pfn inverse, 2 MiB pages where reported;
 *   - vmalloc: pages mapped RW, NX, global, 4 KiB, a guard page after the
 *     area, nothing reachable after vfree (the TLB was flushed), every page
 *     and table page accounted for over many rounds;
 *   - ioremap: the memory type's bits (UC-: PCD, WC: PWT, WB: none) through
 *     the PAT in force, the same bytes through a UC- and a WB mapping,
 *     2 MiB pages for the VGA framebuffer, RAM refused, iounmap flushed.
 */
#include <asm/console.h>
#include <asm/io.h>
#include <asm/kaslr.h>
#include <asm/mmu_context.h>
#include <asm/pgtable_64_types.h>
#include <asm/sections.h>
#include <asm/traps.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/selftest.h>
#include <linux/vmalloc.h>

static phys_addr_t root(void)
{
	return __pa_symbol(init_top_pgt);
}

/* Whether va is unreachable: no translation in the tables and, the TLB included, a faulting read. */
static bool unreachable(uint64_t va)
{
	uint8_t byte;
	return pg_translate(&kernel_ctx, root(), va, 0, 0, 0) == -PG_ENOTMAPPED &&
	       copy_from_kernel_nofault(&byte, (const void *)(uintptr_t)va, 1) != 0;
}

bool test_kaslr_regions(void)
{
	const uint64_t base[3] = { page_offset_base, vmalloc_base, vmemmap_base };
	uint64_t start, end, prev_end = 0;
	/* The window starts at Linux 6.x's default base; layout=4.7's direct map is below it. */
	uint64_t lowest = page_offset_base == PAGE_OFFSET_L4_OLD ? PAGE_OFFSET_L4_OLD : kaslr_regions.vaddr_start;

	for (int r = 0; r < PG_LINUX_NREGIONS; r++) {
		memory_region_extent((enum pg_linux_region)r, &start, &end);
		KTEST_CHECK(start == base[r]);
		KTEST_CHECK(start % PUD_SIZE == 0);
		KTEST_CHECK(start >= prev_end);
		KTEST_CHECK(start >= lowest && start < CPU_ENTRY_AREA_BASE);
		prev_end = end;
		printk("  %s: [0x%016llx-0x%016llx)\n", r == 0 ? "direct map" : r == 1 ? "vmalloc" : "vmemmap",
		       (unsigned long long)start, (unsigned long long)end);
	}
	phys_addr_t pa;
	KTEST_CHECK(pg_translate(&kernel_ctx, root(), page_offset_base + 0x100000, &pa, 0, 0) == 0 && pa == 0x100000);
	KTEST_CHECK(KERNEL_PGD_BOUNDARY == (unsigned int)pg_va_index(kernel_ctx.levels, (int)kernel_ctx.levels,
								    page_offset_base));
	KTEST_CHECK(kaslr_memory_enabled() == (kaslr_regions.entropy != 0) || page_offset_base == PAGE_OFFSET_L4_OLD);
	return true;
}

bool test_vmemmap(void)
{
	unsigned int checked = 0;

	for (uint64_t s = 0; s < nr_sections; s++) {
		uint64_t pfn = s * PAGES_PER_SECTION, last = pfn + PAGES_PER_SECTION - 1;
		bool present = (section_flags[s] & SECTION_HAS_MEM_MAP) != 0;
		int level;
		KTEST_CHECK(present == ((section_flags[s] & SECTION_MARKED_PRESENT) != 0));
		KTEST_CHECK(present == pfn_valid(pfn));
		for (uint64_t p = pfn; p <= last; p += PAGES_PER_SECTION - 1) {
			uint64_t va = (uint64_t)(uintptr_t)pfn_to_page(p);
			int err = pg_translate(&kernel_ctx, root(), va, 0, 0, &level);
			KTEST_CHECK(present ? err == 0 : err == -PG_ENOTMAPPED);
			KTEST_CHECK(!present || vmemmap_bytes[1] || level == 2); /* 2 MiB pages unless some 4k */
			KTEST_CHECK(page_to_pfn(pfn_to_page(p)) == p);
		}
		checked++;
	}
	uint64_t page = get_zeroed_page();
	KTEST_CHECK(page);
	struct page *sp = virt_to_page(page);
	KTEST_CHECK((uint64_t)(uintptr_t)sp >= vmemmap_base && page_address(sp) == (void *)(uintptr_t)page);
	free_page(page);
	printk("  %u sections, %llu present; struct pages at 0x%016llx, %llu kB in 2M pages\n", checked,
	       (unsigned long long)nr_present_sections, (unsigned long long)vmemmap_base,
	       (unsigned long long)(vmemmap_bytes[2] >> 10));
	return true;
}

/* Free pages plus the kernel's table pages: vmalloc and vfree leave it unchanged (tables stay). */
static uint64_t pages_accounted(void)
{
	return nr_free_pages() + kernel_table_pages;
}

/* One vmalloc of npages: mapped as it should be, a guard page after it, gone after vfree. */
static bool vmalloc_round(unsigned int npages)
{
	uint8_t *p = vmalloc((uint64_t)npages * PAGE_SIZE - 1);
	KTEST_CHECK(p && is_vmalloc_addr(p) && ((uintptr_t)p & (PAGE_SIZE - 1)) == 0);
	for (unsigned int i = 0; i < npages; i++) {
		struct pg_walk w;
		pg_walk(&kernel_ctx, root(), (uint64_t)(uintptr_t)(p + (uint64_t)i * PAGE_SIZE), &w);
		KTEST_CHECK(w.status == 0 && w.leaf_level == 1 && w.writable && w.nx &&
			    (w.leaf_prot & PTE_G) == (PAGE_KERNEL & PTE_G)); /* global unless PTI */
		p[(uint64_t)i * PAGE_SIZE + i % PAGE_SIZE] = (uint8_t)i; /* touch it: the TLB holds it now */
	}
	KTEST_CHECK(unreachable((uint64_t)(uintptr_t)(p + (uint64_t)npages * PAGE_SIZE)));
	for (unsigned int i = 0; i < npages; i++)
		KTEST_CHECK(p[(uint64_t)i * PAGE_SIZE + i % PAGE_SIZE] == (uint8_t)i);
	vfree(p);
	for (unsigned int i = 0; i < npages; i += npages > 8 ? npages / 8 : 1)
		KTEST_CHECK(unreachable((uint64_t)(uintptr_t)(p + (uint64_t)i * PAGE_SIZE)));
	return true;
}

bool test_vmalloc(void)
{
	KTEST_CHECK(vmalloc_round(1)); /* the first round may allocate table pages: they stay */
	uint64_t before = pages_accounted(), free0 = nr_free_pages(), tables0 = kernel_table_pages;
	for (unsigned int round = 0; round < 50; round++)
		KTEST_CHECK(vmalloc_round(1 + round % 7));
	KTEST_CHECK(vmalloc_round(300)); /* more than vfree's 64-page batch */
	KTEST_CHECK(pages_accounted() == before);
	uint8_t *z = vzalloc(3 * PAGE_SIZE);
	KTEST_CHECK(z && z[0] == 0 && z[3 * PAGE_SIZE - 1] == 0);
	vfree(z);
	KTEST_CHECK(pages_accounted() == before);
	vfree(0);
	KTEST_CHECK(nr_free_pages() == free0 && kernel_table_pages == tables0);
	printk("  vmalloc/vfree, 53 rounds: %llu free pages and %llu table pages before and after\n",
	       (unsigned long long)free0, (unsigned long long)tables0);
	return true;
}

/* ioremap [pa, pa + size) with cache mode pcm; its leaf must select memory type pcm. */
static void *ioremap_checked(phys_addr_t pa, uint64_t size, enum page_cache_mode pcm, int want_level)
{
	void *p = __ioremap_caller(pa, size, pcm, "test_ioremap");
	struct pg_walk w;
	if (!p)
		return 0;
	pg_walk(&kernel_ctx, root(), (uint64_t)(uintptr_t)p, &w);
	unsigned int type = pg_pat_mem_type(pat_value(), w.leaf_prot);
	bool ok = w.status == 0 && w.pa == pa && w.nx && w.writable && type == (unsigned int)pcm &&
		  w.leaf_level == want_level;
	printk("  ioremap 0x%llx: leaf 0x%016llx, %s, %s pages\n", (unsigned long long)pa,
	       (unsigned long long)w.step[w.nsteps - 1].entry, mem_type_name(type), w.leaf_level == 2 ? "2M" : "4k");
	if (!ok) {
		iounmap(p);
		return 0;
	}
	return p;
}

bool test_ioremap(void)
{
	uint64_t before, sum[2] = { 0, 0 };
	/* The BIOS ROM, once UC- and once WB (one at a time: never two types for one page), reads the same. */
	for (int i = 0; i < 2; i++) {
		enum page_cache_mode pcm = i ? _PAGE_CACHE_MODE_WB : _PAGE_CACHE_MODE_UC_MINUS;
		const uint8_t *rom = ioremap_checked(0xf0000, PAGE_SIZE, pcm, 1);
		KTEST_CHECK(rom);
		for (unsigned int b = 0; b < PAGE_SIZE; b++)
			sum[i] = sum[i] * 31 + rom[b];
		iounmap((void *)rom);
		KTEST_CHECK(unreachable((uint64_t)(uintptr_t)rom));
	}
	KTEST_CHECK(sum[0] == sum[1]);
	before = pages_accounted();
	for (int i = 0; i < 20; i++) {
		void *p = ioremap(0xf0000 + (uint64_t)(i % 16) * PAGE_SIZE, PAGE_SIZE);
		KTEST_CHECK(p);
		iounmap(p);
	}
	KTEST_CHECK(pages_accounted() == before);
	KTEST_CHECK(__ioremap_caller(0x100000, PAGE_SIZE, _PAGE_CACHE_MODE_UC_MINUS, "test_ioremap") == 0);
	if (vga_fb) { /* 16 MiB of framebuffer: 2 MiB pages, write-combining */
		uint32_t *fb = ioremap_checked(vga_fb_phys, vga_fb_size, _PAGE_CACHE_MODE_WC, 2);
		KTEST_CHECK(fb);
		fb[1] = 0xc0ffee;
		KTEST_CHECK(((volatile uint32_t *)vga_fb)[1] == 0xc0ffee);
		iounmap(fb);
		KTEST_CHECK(unreachable((uint64_t)(uintptr_t)fb));
	}
	return true;
}
