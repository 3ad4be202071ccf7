/*
 * head64.c: the C half of the kernel head (stage 2: the compile-time tables
 * early_top_pgt -> level3_kernel_pgt -> level2_kernel_pgt, the high mapping
 * and the jump to virtual addresses).
 *
 * __startup_64() runs before the jump to virtual addresses, at the physical
 * address the decompressor chose, on the decompressor's identity map: this
 * file is compiled position-independent (-fpie, all symbols hidden), so every
 * symbol it names resolves to where it really is. It relocates the
 * compile-time tables by load_delta, adds the temporary identity mapping of
 * the image, and copies boot_params and the command line while the
 * decompressor's 4 GiB identity map still reaches them (Linux copies them
 * later through its early #PF map of the direct map; ptlab has none yet).
 *
 * x86_64_start_kernel() runs after the jump: it removes the identity map
 * (reset_early_page_tables, arch/x86/mm/fault.c), clears .bss, reports,
 * starts init_top_pgt with entry 511 and calls start_kernel().
 */
#include <lib/cmdline.h>
#include <asm/console.h>
#include <asm/percpu.h>
#include <asm/pgtable.h>
#include <asm/processor.h>
#include <asm/stop.h>
#include <asm/sections.h>
#include <asm/setup.h>
#include <asm/traps.h>
#include <paging/pg_env.h>
#include <paging/pgtable.h>

/* In .data: written before .bss is cleared. */
uint64_t phys_base __attribute__((section(".data")));
uint64_t early_load_delta __attribute__((section(".data")));
uint64_t early_rip_before_jump __attribute__((section(".data")));
uint64_t early_rip_after_jump __attribute__((section(".data")));
struct boot_params boot_params __attribute__((section(".data"), aligned(16)));
char boot_command_line[COMMAND_LINE_SIZE] __attribute__((section(".data")));
uint64_t boot_pgtable_pa __attribute__((section(".data")));
/* CR3 at entry, kept by __startup_64 until boot_pgtable_pa can be computed from it. */
static uint64_t boot_cr3 __attribute__((section(".data")));
uint64_t boot_params_pa __attribute__((section(".data")));

/* The identity mapping __startup_64 added, kept for the report: the entry it
 * wrote in each table from early_top_pgt down to the PUD, then the PMD run. */
static struct {
	unsigned int nlinks;
	unsigned int index[4];
	uint64_t entry[4];
	unsigned int pmd_first, pmd_count;
	uint64_t pmd;
} early_ident __attribute__((section(".data")));

/* Before the jump nothing but port I/O is safe: say why and stop. */
static __attribute__((noreturn)) void early_die(const char *msg)
{
	for (const char *p = "\nptlab: head_64: "; *p; p++)
		serial_putc(*p);
	for (; *msg; msg++)
		serial_putc(*msg);
	serial_putc('\n');
	qemu_exit(QEMU_EXIT_FAILURE);
}

/* The compile-time tables assumed _text at LOAD_PHYSICAL_ADDR: move their links by load_delta. */
static void fixup_kernel_tables(uint64_t load_delta, bool la57)
{
	if (la57) {
		/* 5-level: early_top_pgt is a PML5; its [511] goes through level4_kernel_pgt */
		level4_kernel_pgt[511] += load_delta;
		early_top_pgt[511] = (uint64_t)(uintptr_t)level4_kernel_pgt + _PAGE_TABLE;
	} else {
		early_top_pgt[511] += load_delta;
	}
	level3_kernel_pgt[510] += load_delta;
	level3_kernel_pgt[511] += load_delta;
	level2_fixmap_pgt[506] += load_delta;
	level2_fixmap_pgt[507] += load_delta;
}

/*
 * The temporary identity mapping of the image [physaddr, physaddr +
 * image_size) in 2 MiB pages (no G: it must flush away): early_top_pgt ->
 * (p4d with LA57) -> pud -> pmd, one early_dynamic_pgts page per level. The
 * pool is reset after the jump: fault.c owns it from then on.
 */
static void add_identity_map(uint64_t physaddr, uint64_t image_size, bool la57)
{
	uint64_t *chain[4], *pmd;
	unsigned int shift[3], n = 0, i;

	chain[n] = early_top_pgt;
	if (la57) {
		shift[n++] = PGDIR_SHIFT_L5;
		chain[n] = early_dynamic_pgts[2];
	}
	shift[n++] = P4D_SHIFT;
	chain[n] = early_dynamic_pgts[0]; /* pud */
	shift[n++] = PUD_SHIFT;
	chain[n] = pmd = early_dynamic_pgts[1];
	for (unsigned int k = 0; k < n; k++) {
		i = (unsigned int)(physaddr >> shift[k]) % 512;
		chain[k][i] = (uint64_t)(uintptr_t)chain[k + 1] + _KERNPG_TABLE;
		early_ident.index[k] = i;
		early_ident.entry[k] = chain[k][i];
	}
	early_ident.nlinks = n;
	uint64_t pmd_entry = (__PAGE_KERNEL_LARGE_EXEC & ~PTE_G) + physaddr;
	early_ident.pmd_first = (unsigned int)(physaddr >> PMD_SHIFT) % 512;
	early_ident.pmd_count = (unsigned int)((image_size + PMD_SIZE - 1) >> PMD_SHIFT);
	for (i = 0; i < early_ident.pmd_count; i++)
		pmd[(early_ident.pmd_first + i) % 512] = pmd_entry + (uint64_t)i * PMD_SIZE;
	early_ident.pmd = pmd[early_ident.pmd_first];
}

/* level2_kernel_pgt: only [_text, _end) stays present; relocate that part. */
static void trim_level2_kernel_pgt(uint64_t text_va, uint64_t image_size, uint64_t load_delta)
{
	unsigned int first = pmd_index(text_va), last = pmd_index(text_va + image_size - 1);

	for (unsigned int i = 0; i < 512; i++) {
		if (i < first || i > last)
			level2_kernel_pgt[i] &= ~PTE_P;
		else if (level2_kernel_pgt[i] & PTE_P)
			level2_kernel_pgt[i] += load_delta;
	}
}

/* Linux's copy_bootdata, while the decompressor's 4 GiB identity map still reaches bp. */
static void copy_bootdata(const struct boot_params *bp)
{
	boot_cr3 = read_cr3();
	boot_params_pa = (uint64_t)(uintptr_t)bp;
	memcpy(&boot_params, bp, sizeof(boot_params));
	uint64_t cl = boot_cmdline_pa(bp);
	if (cl && cl < (1ULL << 32)) {
		const char *src = (const char *)(uintptr_t)cl;
		unsigned int i;
		for (i = 0; i < COMMAND_LINE_SIZE - 1 && src[i]; i++)
			boot_command_line[i] = src[i];
		boot_command_line[i] = '\0';
	}
}

/*
 * Relocate the kernel's page tables to where the image really is and add an
 * identity mapping of [_text, _end) so that the code runs on after CR3 =
 * early_top_pgt and before the jump. physaddr: where _text is (2 MiB
 * aligned); text_va: _text's link-time address; bp: the boot_params.
 */
void __startup_64(uint64_t physaddr, uint64_t text_va, const struct boot_params *bp)
{
	uint64_t load_delta = physaddr - (text_va - __START_KERNEL_map);
	uint64_t image_size = (uint64_t)(_end - _text);
	bool la57 = (read_cr4() & X86_CR4_LA57) != 0;

	if (load_delta & ~PMD_MASK)
		early_die("the kernel is not 2 MiB aligned in physical memory");
	if (physaddr >> MAX_PHYSMEM_BITS)
		early_die("the kernel is above the 46-bit physical limit");
	fixup_kernel_tables(load_delta, la57);
	add_identity_map(physaddr, image_size, la57);
	trim_level2_kernel_pgt(text_va, image_size, load_delta);
	phys_base += load_delta;
	early_load_delta = load_delta;
	copy_bootdata(bp);
}

static void clear_bss(void)
{
	memset(__bss_start, 0, (size_t)(__bss_stop - __bss_start));
}

static void report_head64(void)
{
	uint64_t pa_top = current_root();
	int first = -1, last = -1;

	for (int i = 0; i < 512; i++) {
		if (level2_kernel_pgt[i] & PTE_P) {
			if (first < 0)
				first = i;
			last = i;
		}
	}
	stage_begin("head_64", "kernel head: early_top_pgt -> level3_kernel_pgt -> level2_kernel_pgt, "
		    "the high mapping, the jump to virtual addresses");
	stage_printk("  _text linked at 0x%016llx, running at 0x%016llx (KASLR virtual offset 0x%llx)\n",
		     (unsigned long long)__START_KERNEL, (unsigned long long)(uintptr_t)_text,
		     (unsigned long long)((uintptr_t)_text - __START_KERNEL));
	stage_printk("  _text loaded at physical 0x%llx\n",
		     (unsigned long long)((uintptr_t)_text - __START_KERNEL_map + phys_base));
	stage_printk("  load_delta = 0x%llx, phys_base = 0x%llx\n", (unsigned long long)early_load_delta,
		     (unsigned long long)phys_base);
	if (current_paging_mode() == PG_MODE_5LEVEL) {
		stage_printk("  paging: 5-level (CR4.LA57 = 1): early_top_pgt is a PML5\n");
		stage_printk("  early_top_pgt     at 0x%llx (CR3): [511] = 0x%016llx -> level4_kernel_pgt\n",
			     (unsigned long long)pa_top, (unsigned long long)early_top_pgt[511]);
		stage_printk("  level4_kernel_pgt: [511] = 0x%016llx -> level3_kernel_pgt\n",
			     (unsigned long long)level4_kernel_pgt[511]);
	} else {
		stage_printk("  paging: 4-level\n");
		stage_printk("  early_top_pgt     at 0x%llx (CR3): [511] = 0x%016llx -> level3_kernel_pgt\n",
			     (unsigned long long)pa_top, (unsigned long long)early_top_pgt[511]);
	}
	stage_printk("  level3_kernel_pgt: [510] = 0x%016llx -> level2_kernel_pgt\n",
		     (unsigned long long)level3_kernel_pgt[510]);
	stage_printk("                     [511] = 0x%016llx -> level2_fixmap_pgt\n",
		     (unsigned long long)level3_kernel_pgt[511]);
	stage_printk("  level2_kernel_pgt: first present [%d] = 0x%016llx (0x%016llx)\n", first,
		     (unsigned long long)level2_kernel_pgt[first],
		     (unsigned long long)(__START_KERNEL_map + ((uint64_t)first << PMD_SHIFT)));
	stage_printk("                     last present  [%d] = 0x%016llx (0x%016llx)\n", last,
		     (unsigned long long)level2_kernel_pgt[last],
		     (unsigned long long)(__START_KERNEL_map + ((uint64_t)last << PMD_SHIFT)));
	stage_printk("  identity map of the image (removed now):");
	for (unsigned int k = 0; k < early_ident.nlinks; k++) {
		const char *table = k == 0 ? "early_top_pgt" : k == early_ident.nlinks - 1 ? "pud" : "p4d";
		stage_printk(" %s[%u] = 0x%016llx,", table, early_ident.index[k],
			     (unsigned long long)early_ident.entry[k]);
	}
	stage_printk("\n    pmd[%u..%u] from 0x%016llx\n", early_ident.pmd_first,
		     early_ident.pmd_first + early_ident.pmd_count - 1, (unsigned long long)early_ident.pmd);
	stage_printk("  RIP before the jump: 0x%016llx\n", (unsigned long long)early_rip_before_jump);
	stage_printk("  RIP after the jump:  0x%016llx\n", (unsigned long long)early_rip_after_jump);
}

void x86_64_start_kernel(void)
{
	/* lib/paging is linked for the virtual addresses: only now may it be called. */
	boot_pgtable_pa = pg_cr3_root(current_paging_mode(), boot_cr3);
	reset_early_page_tables();
	clear_bss();
	setup_boot_cpu_percpu();    /* GS: CPU 0's per-CPU area, `current` = task 0 */
	serial_init();
	stage_quiet = cmdline_has_word(boot_command_line, "quiet");
	report_head64();
	stop_at(boot_command_line, "head_64"); /* early_top_pgt and the high mapping, for QEMU */

	/* swapper_pg_dir starts with the kernel high mapping only; init_mem_mapping adds the direct map. */
	memset(init_top_pgt, 0, sizeof(init_top_pgt));
	init_top_pgt[511] = early_top_pgt[511];

	start_kernel();
}
