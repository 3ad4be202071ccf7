/*
 * init.c: the kernel's third page table: init_mem_mapping, the direct map
 * and the switch to swapper_pg_dir (docs/linux.md, "The direct map").
 *
 * init_mem_mapping() maps every RAM range of memblock at PAGE_OFFSET in
 * split_mem_range pieces (1G/2M/4K, as the page-size mask allows), the low
 * 1 MiB first as Linux does, writing the tables of init_top_pgt
 * (swapper_pg_dir) through __va, which the early #PF map serves; then it
 * copies the kernel high-mapping entry (511) and loads CR3 with init_top_pgt.
 * mark_rodata_ro() then gives each kernel section its own rights and the W+X
 * check walks every kernel table. All page-table work goes through lib/paging.
 */
#include <asm/console.h>
#include <asm/cpufeature.h>
#include <asm/kaslr.h>
#include <asm/page.h>
#include <asm/pgtable.h>
#include <asm/processor.h>
#include <asm/pti.h>
#include <asm/sections.h>
#include <asm/traps.h>
#include <lib/cmdline.h>
#include <linux/memblock.h>
#include <linux/mm.h>

uint64_t page_offset_base __attribute__((section(".data"))) = PAGE_OFFSET_L4;
bool pgtable_l5_enabled;
bool direct_map_ready;
unsigned int page_size_mask;
uint64_t kernel_table_pages;
uint64_t direct_pages_bytes[4];
uint64_t __default_kernel_pte_mask = ~0ULL;

static void *kernel_phys_to_virt(void *arg, phys_addr_t pa);
static int kernel_alloc_table(void *arg, phys_addr_t *pa);
static void kernel_free_table(void *arg, phys_addr_t pa);

struct pg_ctx kernel_ctx = {
	.phys_to_virt = kernel_phys_to_virt,
	.alloc_table = kernel_alloc_table,
	.free_table = kernel_free_table,
	.levels = PG_MODE_4LEVEL,
	.table_flags = _PAGE_TABLE,
};

void kernel_ctx_init(void)
{
	kernel_ctx.levels = current_paging_mode();
	pgtable_l5_enabled = kernel_ctx.levels == PG_MODE_5LEVEL;
	kernel_ctx.phys_bits = boot_cpu_data.phys_bits;
	kernel_ctx.disabled = (boot_cpu_data.nx ? 0 : PG_NO_NX) | (boot_cpu_data.gbpages ? 0 : PG_NO_1G);
}

unsigned int current_paging_mode(void)
{
	return pg_mode_from_regs(read_cr0(), read_cr4(), rdmsr(MSR_EFER));
}

phys_addr_t current_root(void)
{
	return pg_cr3_root(current_paging_mode(), read_cr3());
}

/*
 * Table memory: inside the kernel image through the image mapping; other RAM
 * through the direct map (served by the early #PF map until it exists);
 * anything that is not RAM is unreadable.
 */
static void *kernel_phys_to_virt(void *arg, phys_addr_t pa)
{
	(void)arg;
	if (pa >= __pa_symbol(_text) && pa < __pa_symbol(_end))
		return (void *)(uintptr_t)(pa - phys_base + __START_KERNEL_map);
	if (!memblock_is_memory(pa))
		return 0;
	return __va(pa);
}

/*
 * A zeroed table page. Once mem_init has run: get_zeroed_page(). Before it
 * (init_mem_mapping builds the direct map before struct pages and the buddy
 * allocator exist) the early allocator, as Linux's alloc_low_pages: a page
 * of memblock, zeroed through kernel_phys_to_virt (the early #PF map serves
 * it while the direct map is being built). returns: 0, or -1 if none is left.
 */
static int kernel_alloc_table(void *arg, phys_addr_t *pa)
{
	(void)arg;
	if (mem_init_done) {
		uint64_t addr = get_zeroed_page();
		if (!addr)
			return -1;
		*pa = __pa(addr);
	} else {
		*pa = memblock_phys_alloc(PAGE_SIZE, PAGE_SIZE);
		if (!*pa)
			return -1;
		memset(kernel_phys_to_virt(0, *pa), 0, PAGE_SIZE);
	}
	__atomic_add_fetch(&kernel_table_pages, 1, __ATOMIC_SEQ_CST); /* CPUs allocate tables at once */
	return 0;
}

static void kernel_free_table(void *arg, phys_addr_t pa)
{
	(void)arg;
	__atomic_sub_fetch(&kernel_table_pages, 1, __ATOMIC_SEQ_CST);
	if (mem_init_done)
		free_pages(phys_to_page(pa), 0);
	/* before mem_init the page simply stays reserved in memblock */
}

void flush_tlb_one(uint64_t va)
{
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

void __flush_tlb_all(void)
{
	uint64_t cr4 = read_cr4();
	if (cr4 & X86_CR4_PGE) {
		write_cr4(cr4 & ~(uint64_t)X86_CR4_PGE); /* drops global entries too */
		write_cr4(cr4);
	} else {
		write_cr3(read_cr3());
	}
}

bool flush_tlb_by_page(const struct pg_flush *f)
{
	/* end == 0 is the top of the address space: a span too big to walk */
	return !f->tables_freed && f->pages <= 32 && f->end != 0 && f->end - f->start <= 32 * PAGE_SIZE;
}

void flush_tlb_range(const struct pg_flush *f)
{
	if (!f->pages && !f->tables_freed)
		return;
	if (!flush_tlb_by_page(f)) {
		__flush_tlb_all();
		return;
	}
	for (uint64_t va = f->start; va != f->end; va += PAGE_SIZE)
		flush_tlb_one(va);
}

/*
 * The page sizes the direct map may use, and __default_kernel_pte_mask (asm/
 * pgtable_types.h): under PTI every kernel mapping made from here on is not
 * global, as in Linux. pti_check_boottime_disable has decided by now
 * (setup_arch), and nothing has been mapped with PAGE_KERNEL* yet; the
 * kernel image's compile-time mapping is made non-global by pti_init.
 */
void probe_page_size_mask(void)
{
	bool nogbpages = cmdline_has_word(boot_command_line, "nogbpages");

	page_size_mask = PG_SIZE_4K | PG_SIZE_2M; /* PSE: always in long mode */
	if (boot_cpu_data.gbpages && !nogbpages)
		page_size_mask |= PG_SIZE_1G;
	__default_kernel_pte_mask = ~0ULL;
	if (pti_enabled)
		__default_kernel_pte_mask &= ~PTE_G; /* the kernel is mostly non-global under PTI */
	stage_printk("  page sizes: 4k 2M%s (CPU: 1G pages %s%s), PGE %s%s, NX %s, PCID %s, SMEP %s, SMAP %s, LA57 %s\n",
		     (page_size_mask & PG_SIZE_1G) ? " 1G" : "", boot_cpu_data.gbpages ? "yes" : "no",
		     nogbpages ? ", off by nogbpages" : "", boot_cpu_data.pge ? "yes" : "no",
		     pti_enabled ? " (kernel mappings not global: PTI)" : "",
		     boot_cpu_data.nx ? "yes" : "no", boot_cpu_data.pcid ? "yes" : "no",
		     boot_cpu_data.smep ? "yes" : "no", boot_cpu_data.smap ? "yes" : "no",
		     boot_cpu_data.la57 ? "yes" : "no");
}

static const char *size_name(uint64_t size)
{
	return size == PUD_SIZE ? "1G" : size == PMD_SIZE ? "2M" : "4k";
}

/* Map RAM [start, end) at PAGE_OFFSET + start, printing each piece as Linux's boot log. */
static void init_memory_mapping(uint64_t start, uint64_t end)
{
	struct pg_split_piece piece[5];
	int n = pg_split_range(kernel_ctx.levels, start, end, page_size_mask, piece);

	if (n < 0)
		panic("init_memory_mapping [0x%llx-0x%llx): %s", (unsigned long long)start,
		      (unsigned long long)end, pg_strerror(n));
	for (int i = 0; i < n; i++) {
		stage_printk("   [mem 0x%08llx-0x%08llx] page %s\n", (unsigned long long)piece[i].start,
			     (unsigned long long)piece[i].end - 1, size_name(piece[i].page_size));
		direct_pages_bytes[piece[i].page_size == PUD_SIZE ? 3 : piece[i].page_size == PMD_SIZE ? 2 : 1] +=
			piece[i].end - piece[i].start;
	}
	int err = pg_map(&kernel_ctx, __pa_symbol(init_top_pgt), PAGE_OFFSET + start, PAGE_OFFSET + end,
			 start, PAGE_KERNEL, page_size_mask, 0, 0);
	if (err)
		panic("init_memory_mapping [0x%llx-0x%llx): %s", (unsigned long long)start,
		      (unsigned long long)end, pg_strerror(err));
}

/*
 * As Linux's init_mem_mapping printout: every non-empty init_top_pgt entry
 * and its non-empty next-level entries.
 */
static void print_top_entries(void)
{
	for (unsigned int i = 0; i < 512; i++) {
		uint64_t e = init_top_pgt[i];
		if (!e)
			continue;
		stage_printk("  init_top_pgt[%u] 0x%llx\n", i, (unsigned long long)e);
		if (!(e & PTE_P))
			continue;
		const char *next = pg_level_linux_name(kernel_ctx.levels, (int)kernel_ctx.levels - 1);
		const uint64_t *t = kernel_phys_to_virt(0, e & PTE_PFN_MASK);
		for (unsigned int j = 0; t && j < 512; j++)
			if (t[j])
				stage_printk("  \t %s[%u] = %llx\n", next, j, (unsigned long long)t[j]);
	}
}

struct map_pass {
	uint64_t lo, hi;
	bool top_down;
};

void init_mem_mapping(void)
{
	stage_begin("init_mem_mapping", "the direct map at PAGE_OFFSET and the switch to swapper_pg_dir");
	probe_page_size_mask();
	stage_printk("  paging: %u-level\n", kernel_ctx.levels);
	stage_printk("  PAGE_OFFSET = 0x%016llx (pgd index %d%s)\n", (unsigned long long)PAGE_OFFSET,
		     pg_va_index(kernel_ctx.levels, (int)kernel_ctx.levels, PAGE_OFFSET),
		     PAGE_OFFSET == PAGE_OFFSET_L4_OLD ? ", layout=4.7" : "");
	kernel_randomize_memory_report();

	/* The low 1 MiB first, then the rest of RAM from the top down, as Linux. */
	const struct memblock_type *mem = &memblock.memory;
	for (unsigned int i = 0; i < mem->cnt; i++) {
		uint64_t s = mem->regions[i].base, e = s + mem->regions[i].size;
		if (s < 0x100000)
			init_memory_mapping(s, e < 0x100000 ? e : 0x100000);
	}
	for (unsigned int i = mem->cnt; i-- > 0;) {
		uint64_t s = mem->regions[i].base, e = s + mem->regions[i].size;
		if (e > 0x100000)
			init_memory_mapping(s < 0x100000 ? 0x100000 : s, e);
	}

	/* The kernel high mapping: the same level3_kernel_pgt as early_top_pgt. */
	init_top_pgt[511] = early_top_pgt[511];

	stage_printk("  init_mem_mapping: early_top_pgt is %llx\n", (unsigned long long)__pa_symbol(early_top_pgt));
	stage_printk("  init_mem_mapping: init_top_pgt  is %llx\n", (unsigned long long)__pa_symbol(init_top_pgt));
	stage_printk("  init_mem_mapping: current cr3 is %llx\n", (unsigned long long)read_cr3());
	write_cr3(__pa_symbol(init_top_pgt));
	__flush_tlb_all();
	early_page_fault_enable(false);
	direct_map_ready = true;
	stage_printk("  init_mem_mapping: cr3 is set  to %llx\n", (unsigned long long)read_cr3());
	print_top_entries();
	stage_printk("  direct map: %llu KiB in 4k pages, %llu MiB in 2M pages, %llu GiB in 1G pages; %llu table pages\n",
		     (unsigned long long)(direct_pages_bytes[1] >> 10), (unsigned long long)(direct_pages_bytes[2] >> 20),
		     (unsigned long long)(direct_pages_bytes[3] >> 30), (unsigned long long)kernel_table_pages);
}

uint64_t ptdump_count_wx(phys_addr_t root)
{
	uint64_t pages;
	int err = pg_count_wx(&kernel_ctx, root, 0, 0, &pages);
	if (err)
		panic("W+X check: %s", pg_strerror(err));
	return pages;
}

static void protect_section(const char *name, char *start, char *end, uint64_t set, uint64_t clear,
			    struct pg_flush *flush)
{
	int err = pg_protect(&kernel_ctx, __pa_symbol(init_top_pgt), (uint64_t)(uintptr_t)start,
			     (uint64_t)(uintptr_t)end, set, clear, 0, flush);
	if (err)
		panic("mark_rodata_ro: %s: %s", name, pg_strerror(err));
	stage_printk("  %-7s [0x%016llx-0x%016llx) %s\n", name, (unsigned long long)(uintptr_t)start,
		     (unsigned long long)(uintptr_t)end,
		     (set & PTE_NX) ? ((clear & PTE_W) ? "r--  read-only, NX" : "rw-  read-write, NX")
				    : "r-x  read-only, executable");
}

void mark_rodata_ro(void)
{
	struct pg_flush flush;
	uint64_t image_end = ((uint64_t)(uintptr_t)_end + PMD_SIZE - 1) & PMD_MASK;
	uint64_t cr4 = read_cr4();

	stage_begin("mark_rodata_ro", "least privilege: kernel sections, NX, PGE, SMEP, SMAP");
	pg_flush_init(&flush);
	protect_section("text", _text, _etext, 0, PTE_W, &flush);
	protect_section("rodata", _etext, __end_rodata, PTE_NX, PTE_W, &flush);
	protect_section("data", _sdata, _end, PTE_NX, 0, &flush);
	/* The rest of the last 2 MiB page is not the kernel's: unmap it. */
	int err = pg_unmap(&kernel_ctx, __pa_symbol(init_top_pgt), (uint64_t)(uintptr_t)_end, image_end, 0, &flush);
	if (err)
		panic("mark_rodata_ro: unmapping past _end: %s", pg_strerror(err));
	stage_printk("  unmapped [0x%016llx-0x%016llx) past _end\n", (unsigned long long)(uintptr_t)_end,
		     (unsigned long long)image_end);

	if (boot_cpu_data.pge)
		cr4 |= X86_CR4_PGE;
	if (boot_cpu_data.smep)
		cr4 |= X86_CR4_SMEP;
	if (boot_cpu_data.smap)
		cr4 |= X86_CR4_SMAP;
	write_cr4(cr4);
	__flush_tlb_all();
	stage_printk("  EFER.NXE=%d CR4.PGE=%d CR4.SMEP=%d CR4.SMAP=%d\n", !!(rdmsr(MSR_EFER) & EFER_NXE),
		     !!(cr4 & X86_CR4_PGE), !!(cr4 & X86_CR4_SMEP), !!(cr4 & X86_CR4_SMAP));
	stage_printk("  identity mapping: none (removed by reset_early_page_tables; init_top_pgt never had one)\n");

	uint64_t wx = ptdump_count_wx(current_root());
	if (wx)
		panic("x86/mm: Checked W+X mappings: FAILED, %llu W+X pages found.", (unsigned long long)wx);
	stage_printk("  x86/mm: Checked W+X mappings: passed, no W+X pages found.\n");
}
