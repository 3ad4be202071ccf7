/*
 * setup.c: setup_arch, the architecture part of the boot script:
 * CPU features and exceptions, the memory map (E820 -> memblock), where the
 * memory regions go (kernel_randomize_memory), the direct map and
 * swapper_pg_dir (init_mem_mapping), least privilege (mark_rodata_ro).
 */
#include <asm/boot.h>
#include <asm/console.h>
#include <asm/cpufeature.h>
#include <asm/kaslr.h>
#include <asm/memtype.h>
#include <asm/page.h>
#include <asm/pgtable.h>
#include <asm/processor.h>
#include <asm/pti.h>
#include <asm/realmode.h>
#include <asm/sections.h>
#include <asm/setup.h>
#include <asm/stop.h>
#include <asm/traps.h>
#include <lib/cmdline.h>
#include <linux/memblock.h>
#include <linux/mm.h>
#include <linux/selftest.h>

uint64_t boot_init_pgt_pa(void)
{
	if (!boot_pgtable_pa || !pgtable_l5_enabled)
		return boot_pgtable_pa;
	const uint64_t *pml5 = __va(boot_pgtable_pa);
	return (pml5[0] & PTE_P) ? pml5[0] & PTE_PFN_MASK : 0;
}

static void reserve(uint64_t start, uint64_t end, const char *what)
{
	start &= PAGE_MASK;
	end = (end + PAGE_SIZE - 1) & PAGE_MASK;
	if (memblock_reserve(start, end - start))
		panic("memblock: too many reserved regions");
	stage_printk("  reserve [mem 0x%016llx-0x%016llx] %s\n", (unsigned long long)start,
		     (unsigned long long)end - 1, what);
}

/* The memory map, as Linux's memblock: E820 RAM, minus what the boot still uses. */
static void e820__memblock_setup(void)
{
	const struct boot_params *bp = &boot_params;
	unsigned int n = bp->e820_entries;

	stage_begin("memblock", "the physical memory map from E820");
	if (n == 0 || n > E820_MAX_ENTRIES_ZEROPAGE)
		panic("memblock: the boot loader passed %u E820 entries", n);
	for (unsigned int i = 0; i < n; i++) {
		const struct boot_e820_entry *e = &bp->e820_table[i];
		stage_printk("  BIOS-e820: [mem 0x%016llx-0x%016llx] %s\n", (unsigned long long)e->addr,
			     (unsigned long long)(e->addr + e->size - 1), e820_type_name(e->type));
		if (e->type != E820_TYPE_RAM)
			continue;
		/* Whole pages only: a partial page of RAM is not usable as a page. */
		uint64_t start = (e->addr + PAGE_SIZE - 1) & PAGE_MASK, end = (e->addr + e->size) & PAGE_MASK;
		if (end > MAXMEM)
			end = MAXMEM;
		if (end > start && memblock_add(start, end - start))
			panic("memblock: too many RAM regions");
	}
	if (!memblock.memory.cnt)
		panic("memblock: E820 lists no usable RAM");

	reserve_real_mode();        /* the APs' trampoline: RAM below 1 MiB, taken before the rest is reserved */
	reserve(0, 0x100000, "low 1 MiB: BIOS data, EBDA, real-mode setup");
	reserve(__pa_symbol(_text), __pa_symbol(_end), "kernel image");
	if (boot_pgtable_pa && pgtable_l5_enabled)
		reserve(boot_pgtable_pa, boot_pgtable_pa + PAGE_SIZE, "boot PML5 (decompressor's pgtable_l5)");
	if (boot_init_pgt_pa())
		reserve(boot_init_pgt_pa(), boot_init_pgt_pa() + BOOT_INIT_PGT_SIZE,
			"boot tables (decompressor's identity map, kept for ptdump boot)");
	reserve(boot_params_pa, boot_params_pa + sizeof(boot_params), "boot_params");
	if (boot_params.hdr.cmd_line_ptr)
		reserve(boot_cmdline_pa(&boot_params), boot_cmdline_pa(&boot_params) + COMMAND_LINE_SIZE, "command line");

	for (unsigned int i = 0; i < memblock.memory.cnt; i++)
		stage_printk("  memblock.memory[%u]   [0x%016llx-0x%016llx)\n", i,
			     (unsigned long long)memblock.memory.regions[i].base,
			     (unsigned long long)(memblock.memory.regions[i].base + memblock.memory.regions[i].size));
	stage_printk("  RAM %llu MiB in %u regions, top of RAM 0x%llx\n",
		     (unsigned long long)(memblock_phys_mem_size() >> 20), memblock.memory.cnt,
		     (unsigned long long)memblock_end_of_DRAM());
}

static void parse_layout(void)
{
	char layout[8];
	int n = cmdline_get_option(boot_command_line, "layout", layout, sizeof(layout));

	page_offset_base = pgtable_l5_enabled ? PAGE_OFFSET_L5 : PAGE_OFFSET_L4;
	if (n < 0)
		return;
	if (n == 3 && memcmp(layout, "4.7", 3) == 0 && pgtable_l5_enabled)
		panic("layout=4.7 is a 4-level layout: add no5lvl");
	if (n == 3 && memcmp(layout, "4.7", 3) == 0)
		page_offset_base = PAGE_OFFSET_L4_OLD;
	else if (n == 3 && memcmp(layout, "6.x", 3) == 0)
		; /* the default */
	else
		panic("layout=%s: unknown (use layout=4.7 or layout=6.x)", layout);
}

void setup_arch(void)
{
	early_cpu_init();           /* CPUID; EFER.NXE */
	pti_check_boottime_disable(); /* pti=on|off|auto: Meltdown, as Linux decides */
	kernel_ctx_init();          /* lib/paging's view of this CPU */
	pat_init();                 /* IA32_PAT as Linux programs it: WB WC UC- UC WB WP UC- WT */
	idt_setup_traps();          /* every exception reported, page faults handled */
	parse_layout();             /* PAGE_OFFSET */
	early_page_fault_enable(true); /* __va() works from here, through early_dynamic_pgts */
	e820__memblock_setup();     /* [memblock] */
	max_pfn = memblock_end_of_DRAM() >> PAGE_SHIFT;
	kernel_randomize_memory();  /* page_offset_base, vmalloc_base, vmemmap_base (KASLR) */
	if (!selftest_run(true))    /* tests that must run on the early #PF map */
		panic("early selftests failed");
	init_mem_mapping();         /* [init_mem_mapping]: direct map, CR3 = init_top_pgt */
	stop_at(boot_command_line, "init_mem_mapping"); /* stop_at=: the direct map, for QEMU */
	mark_rodata_ro();           /* [mark_rodata_ro]: section rights, NX, SMEP, SMAP, W+X check */
}
