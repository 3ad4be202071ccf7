/*
 * pti.c: page-table isolation (Linux: arch/x86/mm/pti.c; docs/processes.md,
 * "Page-table isolation").
 *
 *   setup_arch -> pti_check_boottime_disable   pti=on|off|auto, the report
 *   init_mem_mapping -> probe_page_size_mask: PAGE_KERNEL* not global
 *   sched_init -> pti_init -> setup_cpu_entry_areas   (cpu_entry_area.c)
 *                          -> pti_set_kernel_image_nonglobal
 *                          -> pti_clone_entry_text (global in both PGDs)
 *   every CPU  -> cpu_init_gdt (GDT, TSS, stacks through the cpu_entry_area)
 *              -> pti_cpu_init (the entry code starts switching CR3)
 *
 * The user twin of swapper_pg_dir (init_top_pgt_user, the page after
 * init_top_pgt in head_64.S) gets only the kernel pages an entry or exit
 * needs while CR3 is the user PGD; pgd_alloc copies its kernel half into
 * every process's user PGD. The user half of the pair is kept in step by
 * lib/paging (struct pg_ctx.pti, pg_pti_set_user_pgtbl).
 */
#include <asm/console.h>
#include <asm/cpu_entry_area.h>
#include <asm/cpufeature.h>
#include <asm/mmu_context.h>
#include <asm/percpu.h>
#include <asm/processor.h>
#include <asm/pti.h>
#include <asm/sections.h>
#include <lib/cmdline.h>

#define MSR_IA32_ARCH_CAPABILITIES 0x10a
#define X86_FEATURE_ARCH_CAPABILITIES (1u << 29) /* CPUID.(EAX=7,ECX=0):EDX */

bool pti_enabled;
static bool pti_auto; /* enabled by pti=auto (Linux's PTI_AUTO), not forced by pti=on */
const char *pti_reason = "not decided";

/* IA32_ARCH_CAPABILITIES, or 0 when the CPU has no such MSR. */
static uint64_t x86_read_arch_cap_msr(void)
{
	uint32_t a, b, c, d;

	if (boot_cpu_data.max_leaf < 7)
		return 0;
	cpuid(7, 0, &a, &b, &c, &d);
	return (d & X86_FEATURE_ARCH_CAPABILITIES) ? rdmsr(MSR_IA32_ARCH_CAPABILITIES) : 0;
}

static bool option_is(const char *val, int n, const char *word)
{
	return n == (int)strlen(word) && memcmp(val, word, (size_t)n) == 0;
}

void pti_check_boottime_disable(void)
{
	char mode[8];
	int n = cmdline_get_option(boot_command_line, "pti", mode, sizeof(mode));
	uint64_t caps = x86_read_arch_cap_msr();
	bool affected = pg_pti_meltdown_affected(boot_cpu_data.vendor, caps);

	if (n >= 0 && !option_is(mode, n, "on") && !option_is(mode, n, "off") && !option_is(mode, n, "auto"))
		panic("pti=%s: unknown (use pti=on, pti=off or pti=auto)", n < 0 ? "?" : mode);
	if (option_is(mode, n, "off") || cmdline_has_word(boot_command_line, "nopti")) {
		pti_reason = "disabled on command line";
	} else if (option_is(mode, n, "on")) {
		pti_enabled = true;
		pti_reason = affected ? "enabled" : "force enabled on command line";
	} else if (affected) {
		pti_enabled = pti_auto = true;
		pti_reason = "enabled";
	} else {
		pti_reason = (caps & PG_ARCH_CAP_RDCL_NO) ? "disabled, CPU not affected (RDCL_NO)"
							   : "disabled, CPU not affected (vendor)";
	}
	printk("Kernel/User page tables isolation: %s\n", pti_reason);
	stage_printk("  PTI: CPU vendor %.12s, IA32_ARCH_CAPABILITIES %s0x%llx, Meltdown %s\n", boot_cpu_data.vendor,
		     caps ? "" : "(absent or 0) ", (unsigned long long)caps,
		     affected ? "affected" : "not affected");
}

void pti_clone_kernel_page(uint64_t va, uint64_t pa, uint64_t prot)
{
	int err = pg_map(&kernel_ctx, __pa_symbol(init_top_pgt_user), va, va + PAGE_SIZE, pa, prot, PG_MASK_4K,
			 PG_MAP_REPLACE, 0);
	if (err)
		panic("pti: mapping 0x%016llx in the user PGD: %s", (unsigned long long)va, pg_strerror(err));
}

/* Change the rights of [start, end) in swapper_pg_dir (Linux's set_memory_*); panics on failure. */
static void pti_protect_kernel(const char *what, uint64_t start, uint64_t end, uint64_t set, uint64_t clear)
{
	int err = pg_protect(&kernel_ctx, __pa_symbol(init_top_pgt), start, end, set, clear, 0, 0);
	if (err)
		panic("pti: %s [0x%016llx-0x%016llx): %s", what, (unsigned long long)start, (unsigned long long)end,
		      pg_strerror(err));
}

/*
 * head_64.S's level2_kernel_pgt maps the kernel image global; clear G from
 * all of it (Linux clears [_text, ALIGN(_end, 2M)); mark_rodata_ro has
 * unmapped [_end, ALIGN(_end, 2M)) here already).
 */
static void pti_set_kernel_image_nonglobal(void)
{
	pti_protect_kernel("the kernel image", (uint64_t)(uintptr_t)_text, (uint64_t)(uintptr_t)_end, 0, PTE_G);
}

/*
 * The entry text, page by page, read-only and executable (Linux clones it at
 * PMD level). Both PGDs map it, so it is global in both (with PGE), as Linux
 * sets _PAGE_GLOBAL on the entries it clones.
 */
static void pti_clone_entry_text(void)
{
	uint64_t start = (uint64_t)(uintptr_t)__entry_text_start, end = (uint64_t)(uintptr_t)__entry_text_end;
	uint64_t global = boot_cpu_data.pge ? PTE_G : 0;

	pti_protect_kernel("the entry text", start, end, global, 0);
	for (uint64_t va = start; va < end; va += PAGE_SIZE)
		pti_clone_kernel_page(va, __pa_symbol(va), PAGE_KERNEL_RX | global);
}

void pti_init(void)
{
	if (!pti_enabled)
		return;
	setup_cpu_entry_areas();
	pti_set_kernel_image_nonglobal(); /* undo head_64.S's global bits ... */
	pti_clone_entry_text();           /* ... but for the entry text */
	__flush_tlb_all();                /* the image's global TLB entries too; the other CPUs are not up */
	stage_printk("  PTI: swapper_pg_dir's user twin at 0x%llx: entry text [0x%016llx-0x%016llx),"
		     " cpu_entry_area at 0x%016llx, %d CPUs\n",
		     (unsigned long long)__pa_symbol(init_top_pgt_user),
		     (unsigned long long)(uintptr_t)__entry_text_start,
		     (unsigned long long)(uintptr_t)__entry_text_end, (unsigned long long)CPU_ENTRY_AREA_BASE, NR_CPUS);
}

/*
 * Linux's pti_kernel_image_global_ok: global kernel text only under pti=auto
 * and without PCID (decided by init_pcid). Linux also refuses it on K8 (PTI
 * is never automatic on AMD anyway) and with RANDSTRUCT (which ptlab lacks).
 */
static bool pti_kernel_image_global_ok(void)
{
	return pti_auto && !pcid_enabled;
}

/*
 * Linux's pti_clone_kernel_text: the text and rodata [_text, __end_rodata)
 * in the user twin too, each page as swapper_pg_dir maps it (Linux clones
 * the PMDs; ptlab's image shares 2 MiB pages with its data, so page by
 * page), and the text global in both: fewer TLB misses without PCID.
 */
static void pti_clone_kernel_text(void)
{
	uint64_t start = (uint64_t)(uintptr_t)_text, end_global = (uint64_t)(uintptr_t)_etext;

	if (!pti_kernel_image_global_ok())
		return;
	pti_protect_kernel("the kernel text", start, end_global, boot_cpu_data.pge ? PTE_G : 0, 0);
	for (uint64_t va = start; va < (uint64_t)(uintptr_t)__end_rodata; va += PAGE_SIZE) {
		struct pg_walk w;
		pg_walk(&kernel_ctx, __pa_symbol(init_top_pgt), va, &w);
		if (w.status)
			panic("pti: the kernel image at 0x%016llx: %s", (unsigned long long)va, pg_strerror(w.status));
		pti_clone_kernel_page(va, w.pa, w.leaf_prot);
	}
	__flush_tlb_all();
	stage_printk("  PTI: kernel text and rodata [0x%016llx-0x%016llx) in the user twin, text global"
		     " (pti=auto, no PCID)\n", (unsigned long long)start,
		     (unsigned long long)(uintptr_t)__end_rodata);
}

void pti_finalize(void)
{
	if (pti_enabled)
		pti_clone_kernel_text();
}

void pti_cpu_init(bool pcid)
{
	this_pcpu()->cpu_tss_rw.pti_flags = pti_enabled ? PTI_FLAG_ON | (pcid ? PTI_FLAG_PCID : 0) : 0;
}
