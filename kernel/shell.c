/*
 * shell.c: the serial-console shell (see docs/shell.md for every command,
 * with examples). Commands read and change the live page tables through
 * lib/paging; memory is touched only through the fault-safe copies, so a bad
 * address prints a decoded page-fault report and the shell goes on.
 */
#include <asm/boot.h>
#include <asm/console.h>
#include <asm/cpufeature.h>
#include <asm/page.h>
#include <asm/percpu.h>
#include <asm/pgtable.h>
#include <asm/processor.h>
#include <asm/pti.h>
#include <asm/sections.h>
#include <asm/setup.h>
#include <asm/tlbflush.h>
#include <asm/traps.h>
#include <lib/cmdline.h>
#include <lib/vsprintf.h>
#include "mmutest/mmutest.h"   /* accesstest, modes */
#include <linux/memblock.h>
#include <linux/mm.h>
#include <linux/proc_shell.h>
#include <linux/readline.h>
#include <linux/shell.h>
#include <linux/vmalloc.h>
#include <paging/pg_format.h>

#define MAX_ARGS 8
#define PROMPT "ptlab> "

struct command {
	const char *name;
	const char *args;
	const char *help;
	int (*fn)(int argc, char **argv);
};

static const struct command commands[];

/* ------------------------------------------------------------ helpers */

static void sink_write(void *arg, const char *s, size_t n)
{
	(void)arg;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			serial_putc('\r');
		serial_putc(s[i]);
	}
}

const struct pg_sink console_sink = { sink_write, 0 };

static int usage(const char *name)
{
	for (const struct command *c = commands; c->name; c++)
		if (streq(c->name, name))
			printk("usage: %s %s\n", c->name, c->args);
	return 1;
}

/* Parse a number argument; prints the error. returns: false if malformed. */
static bool arg_u64(const char *s, uint64_t *v)
{
	if (parse_u64(s, v))
		return true;
	printk("error: '%s' is not a number (use decimal or 0x-prefixed hex)\n", s);
	return false;
}

/* Parse a VA that must be canonical in the running mode; prints the error. returns: false if not. */
static bool arg_canonical_va(const char *s, uint64_t *va)
{
	if (!arg_u64(s, va))
		return false;
	if (pg_is_canonical(kernel_ctx.levels, *va))
		return true;
	printk("error: 0x%llx is not canonical\n", (unsigned long long)*va);
	return false;
}

/*
 * The one number argument of `pa VA`, `va PA`, `explain VA`.
 * returns: false (usage or error printed) if it is absent or malformed.
 */
static bool one_u64_arg(int argc, char **argv, uint64_t *v)
{
	if (argc != 2) {
		usage(argv[0]);
		return false;
	}
	return arg_u64(argv[1], v);
}

bool streq(const char *a, const char *b)
{
	return strlen(a) == strlen(b) && memcmp(a, b, strlen(a)) == 0;
}

/* Print names of the set bits of v: names[i] names bit i (NULL: unnamed). */
static void print_bits(uint64_t v, const char *const *names, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if ((v >> i) & 1)
			printk(" %s", names[i] ? names[i] : "?");
	printk("\n");
}

static void print_last_fault(const char *what)
{
	if (last_fault.vector == X86_TRAP_PF) {
		printk("%s: page fault\n", what);
		show_fault_report(last_fault.cr2, last_fault.error_code, last_fault.rip);
	} else if (last_fault.vector == X86_TRAP_GP) {
		printk("%s: general protection fault (a non-canonical address?)\n", what);
	} else {
		printk("%s: %s\n", what, exception_name(last_fault.vector));
	}
}

/* The paging mode the registers say (current_paging_mode), as `regs` names it. */
static const char *paging_mode_name(void)
{
	switch (current_paging_mode()) {
	case PG_MODE_32BIT: return "32-bit";
	case PG_MODE_PAE: return "PAE";
	case PG_MODE_4LEVEL: return "4-level (48-bit linear)";
	case PG_MODE_5LEVEL: return "5-level (57-bit linear)";
	default: return "none";
	}
}

/* ------------------------------------------------------------ commands */

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	for (const struct command *c = commands; c->name; c++) {
		char left[48];
		int n = ksnprintf(left, sizeof(left), "%s %s", c->name, c->args);
		printk("  %s%*s %s\n", left, n < 28 ? 28 - n : 1, "", c->help);
	}
	return 0;
}

static const char *const cr0_bits[32] = { [0] = "PE", [1] = "MP", [2] = "EM", [3] = "TS", [4] = "ET",
	[5] = "NE", [16] = "WP", [18] = "AM", [29] = "NW", [30] = "CD", [31] = "PG" };
static const char *const cr4_bits[32] = { [0] = "VME", [1] = "PVI", [2] = "TSD", [3] = "DE", [4] = "PSE",
	[5] = "PAE", [6] = "MCE", [7] = "PGE", [8] = "PCE", [9] = "OSFXSR", [10] = "OSXMMEXCPT", [11] = "UMIP",
	[12] = "LA57", [13] = "VMXE", [14] = "SMXE", [16] = "FSGSBASE", [17] = "PCIDE", [18] = "OSXSAVE",
	[20] = "SMEP", [21] = "SMAP", [22] = "PKE", [23] = "CET", [24] = "PKS" };
static const char *const efer_bits[16] = { [0] = "SCE", [8] = "LME", [10] = "LMA", [11] = "NXE",
	[12] = "SVME", [13] = "LMSLE", [14] = "FFXSR", [15] = "TCE" };

static int cmd_regs(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	uint64_t cr3 = read_cr3(), cr4 = read_cr4();
	printk("CR0  0x%016llx ", (unsigned long long)read_cr0());
	print_bits(read_cr0(), cr0_bits, 32);
	printk("CR2  0x%016llx\n", (unsigned long long)read_cr2());
	printk("CR3  0x%016llx  table 0x%llx\n", (unsigned long long)cr3,
	       (unsigned long long)pg_cr3_root(current_paging_mode(), cr3));
	printk("CR4  0x%016llx ", (unsigned long long)cr4);
	print_bits(cr4, cr4_bits, 32);
	printk("EFER 0x%016llx ", (unsigned long long)read_efer_safe());
	print_bits(read_efer_safe(), efer_bits, 16);
	printk("paging: %s\n", paging_mode_name());
	printk("PCID: %s\n", (cr4 & X86_CR4_PCIDE) ? "in use (CR4.PCIDE=1)"
				: boot_cpu_data.pcid ? "not in use (CR4.PCIDE=0; the CPU has PCID)"
						     : "not in use (the CPU has no PCID)");
	return 0;
}

/* Under PTI: the two halves of the pair CR3 belongs to, their PCIDs, and the entry code's CR3 loads. */
static void print_pti_cr3(uint64_t cr3)
{
	phys_addr_t root = pg_cr3_root(current_paging_mode(), cr3);
	bool pcid = read_cr4() & X86_CR4_PCIDE;
	struct pti_cr3_stats st;

	printk("  PTI    %s\n", pti_reason);
	if (!pti_enabled)
		return;
	printk("  kernel PGD 0x%llx, PCID 0x%03llx: CR3 in the kernel\n", (unsigned long long)pg_pti_kernel_pgd(root),
	       (unsigned long long)(pcid ? cr3 & PG_CR3_PCID : 0));
	printk("  user   PGD 0x%llx, PCID 0x%03llx: CR3 0x%016llx in ring 3%s\n",
	       (unsigned long long)pg_pti_user_pgd(root),
	       (unsigned long long)(pcid ? pg_pti_user_pcid((uint16_t)(cr3 & PG_CR3_PCID)) : 0),
	       (unsigned long long)pg_pti_user_cr3(cr3, pcid, false), pcid ? " (bit 63: no flush)" : "");
	per_cpu_sum(PER_CPU_FIELD(cpu_tss_rw.pti_cr3_stats), &st);
	printk("  CR3 loads by the entry code: to the kernel PGD %llu (flushing %llu, no-flush %llu),"
	       " to the user PGD %llu (flushing %llu, no-flush %llu)\n",
	       (unsigned long long)(st.kernel_flush + st.kernel_noflush), (unsigned long long)st.kernel_flush,
	       (unsigned long long)st.kernel_noflush, (unsigned long long)(st.user_flush + st.user_noflush),
	       (unsigned long long)st.user_flush, (unsigned long long)st.user_noflush);
}

static int cmd_cr3(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	uint64_t cr3 = read_cr3();
	printk("CR3 0x%016llx\n", (unsigned long long)cr3);
	printk("  table  0x%llx (bits 51:12)\n", (unsigned long long)pg_cr3_root(current_paging_mode(), cr3));
	if (read_cr4() & X86_CR4_PCIDE) {
		printk("  PCID   0x%03llx (bits 11:0, CR4.PCIDE=1)\n", (unsigned long long)(cr3 & PG_CR3_PCID));
	} else {
		printk("  PCID   none (CR4.PCIDE=0: bits 11:0 are flags)\n");
		printk("  PWT    %d (bit 3)\n  PCD    %d (bit 4)\n", !!(cr3 & PG_CR3_PWT), !!(cr3 & PG_CR3_PCD));
	}
	print_pti_cr3(cr3);
	return 0;
}

static int cmd_stages(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const uint64_t *pml5 = 0;
	printk("[setup], [startup_32] and [decompressor] ran before the kernel; their table is kept:\n");
	if (boot_init_pgt_pa()) {
		printk("  boot pgtable at 0x%llx\n", (unsigned long long)boot_init_pgt_pa());
		if (kernel_ctx.levels == PG_MODE_5LEVEL) {
			pml5 = __va(boot_pgtable_pa);
			printk("  boot pgtable_l5 at 0x%llx above it\n", (unsigned long long)boot_pgtable_pa);
		}
		boot_pgt_print(printk, pml5, __va(boot_init_pgt_pa()));
	}
	for (unsigned int i = 0; i < stage_log_len; i++) {
		if (stage_log[i] == '\n')
			serial_putc('\r');
		serial_putc(stage_log[i]);
	}
	return 0;
}

const struct pg_marker *kernel_ptdump_markers(void)
{
	static struct pg_marker markers[PG_LINUX_MARKERS_MAX];
	struct pg_linux_layout layout;

	pg_linux_layout_default(kernel_ctx.levels, &layout);
	layout.page_offset_base = PAGE_OFFSET; /* the live bases, wherever KASLR put them */
	layout.vmalloc_base = vmalloc_base;
	layout.vmemmap_base = vmemmap_base;
	layout.config = PG_LINUX_NO_RANDOMIZE_BASE; /* a 512 MiB image window: Modules at 0xffffffffa0000000 */
	pg_ptdump_markers_for_layout(&layout, markers, PG_LINUX_MARKERS_MAX);
	return markers;
}

static int ptdump(phys_addr_t root, const char *name)
{
	struct pg_ptdump_opts opts = { .markers = kernel_ptdump_markers() };
	int err = pg_fmt_ptdump(&kernel_ctx, root, &opts, &console_sink);
	if (err) {
		printk("error: ptdump %s: %s\n", name, pg_strerror(err));
		return 1;
	}
	return 0;
}

static int cmd_ptdump(int argc, char **argv)
{
	const char *which = argc > 1 ? argv[1] : "kernel";
	if (streq(which, "kernel"))
		return ptdump(__pa_symbol(init_top_pgt), which);
	if (streq(which, "early"))
		return ptdump(__pa_symbol(early_top_pgt), which);
	if (streq(which, "boot")) {
		if (!boot_pgtable_pa) {
			printk("error: the boot table was not recorded\n");
			return 1;
		}
		return ptdump(boot_pgtable_pa, which);
	}
	if (streq(which, "current") && argc == 3) {
		phys_addr_t root;
		return cpu_arg_root(argv[2], &root) ? 1 : ptdump(root, which);
	}
	if (streq(which, "current"))
		return ptdump(current_root(), which);
	if (streq(which, "user"))
		return argc == 3 ? ptdump_user_pid(argv[2]) : usage(argv[0]);
	if (streq(which, "user-pgd"))
		return argc == 3 ? ptdump_user_pgd_pid(argv[2]) : usage(argv[0]);
	if (streq(which, "user-twin") && pti_enabled)
		return ptdump(__pa_symbol(init_top_pgt_user), which);
	printk("error: ptdump: unknown table '%s' (kernel, boot, early, current [CPU], user PID, user-pgd PID,"
	       " user-twin)\n", which);
	return 1;
}

/* How much of the address is offset for each page size (the low bits a large page leaves to the offset). */
static void print_offset_split(uint64_t va, uint64_t page_size)
{
	static const struct { uint64_t size; const char *name, *bits; } sizes[] = {
		{ 4096, "4K", "12 bits" }, { PMD_SIZE, "2M", "12 bits + 9 bits PT" },
		{ PUD_SIZE, "1G", "12 bits + 9 bits PT + 9 bits PD" },
	};
	printk("offset within the page, by page size:\n");
	for (unsigned int i = 0; i < 3; i++)
		printk("  %s page: offset = VA & 0x%llx = 0x%llx (%s)%s\n", sizes[i].name,
		       (unsigned long long)(sizes[i].size - 1), (unsigned long long)(va & (sizes[i].size - 1)),
		       sizes[i].bits, sizes[i].size == page_size ? "   <- this mapping" : "");
}

static int cmd_vtop(int argc, char **argv)
{
	uint64_t va;
	phys_addr_t root = current_root();
	if (argc < 2 || argc > 4 || (argc == 4 && !streq(argv[2], "-c")))
		return usage(argv[0]);
	if (!arg_u64(argv[1], &va))
		return 1;
	if (argc == 3)
		return vtop_pid(va, argv[2]);
	if (argc == 4 && cpu_arg_root(argv[3], &root))
		return 1;
	struct pg_vtop_opts opts = {
		.pgd_va = root == __pa_symbol(init_top_pgt) ? (uint64_t)(uintptr_t)init_top_pgt
							     : (uint64_t)(uintptr_t)__va(root),
		.phys_bits = kernel_ctx.phys_bits > 46 ? 52 : 46,
	};
	int err = pg_fmt_vtop(&kernel_ctx, root, va, &opts, &console_sink);
	if (err) {
		printk("error: vtop 0x%llx: %s\n", (unsigned long long)va, pg_strerror(err));
		return 1;
	}
	struct pg_walk w;
	pg_walk(&kernel_ctx, root, va, &w);
	printk("\n");
	print_offset_split(va, w.status == 0 ? w.page_size : 0);
	return 0;
}

static int cmd_pa(int argc, char **argv)
{
	uint64_t x;
	if (!one_u64_arg(argc, argv, &x))
		return 1;
	printk("__pa(0x%016llx) = 0x%llx\n", (unsigned long long)x, (unsigned long long)__pa(x));
	if (phys_addr_is_kernel_image(x))
		printk("  x >= __START_KERNEL_map (0x%016llx): the kernel image mapping,\n"
		       "  x - __START_KERNEL_map + phys_base (phys_base = 0x%llx)\n",
		       (unsigned long long)__START_KERNEL_map, (unsigned long long)phys_base);
	else
		printk("  x < __START_KERNEL_map: the direct mapping, x - PAGE_OFFSET (0x%016llx)\n",
		       (unsigned long long)PAGE_OFFSET);
	return 0;
}

static int cmd_va(int argc, char **argv)
{
	uint64_t pa;
	if (!one_u64_arg(argc, argv, &pa))
		return 1;
	printk("__va(0x%llx) = 0x%016llx\n", (unsigned long long)pa, (unsigned long long)(uintptr_t)__va(pa));
	printk("  PA + PAGE_OFFSET (0x%016llx)%s\n", (unsigned long long)PAGE_OFFSET,
	       memblock_is_memory(pa) ? "" : "; not RAM: the direct map does not map it");
	return 0;
}

static int cmd_peek(int argc, char **argv)
{
	uint64_t va, len = 64;
	unsigned char buf[16];
	if (argc < 2 || argc > 3)
		return usage(argv[0]);
	if (!arg_u64(argv[1], &va) || (argc == 3 && !arg_u64(argv[2], &len)))
		return 1;
	if (len == 0 || len > 4096) {
		printk("error: peek: LEN must be 1..4096\n");
		return 1;
	}
	for (uint64_t off = 0; off < len; off += 16) {
		size_t n = len - off < 16 ? (size_t)(len - off) : 16;
		fault_record_clear();
		if (copy_from_kernel_nofault(buf, (const void *)(uintptr_t)(va + off), n)) {
			print_last_fault("peek");
			return 1;
		}
		printk("%016llx:", (unsigned long long)(va + off));
		for (size_t i = 0; i < 16; i++)
			printk(i < n ? " %02x" : "   ", buf[i]);
		printk("  ");
		for (size_t i = 0; i < n; i++)
			printk("%c", buf[i] >= 0x20 && buf[i] < 0x7f ? buf[i] : '.');
		printk("\n");
	}
	return 0;
}

static int cmd_poke(int argc, char **argv)
{
	uint64_t va, value;
	if (argc != 3)
		return usage(argv[0]);
	if (!arg_u64(argv[1], &va) || !arg_u64(argv[2], &value))
		return 1;
	fault_record_clear();
	if (copy_to_kernel_nofault((void *)(uintptr_t)va, &value, sizeof(value))) {
		print_last_fault("poke");
		return 1;
	}
	printk("0x%016llx <- 0x%016llx\n", (unsigned long long)va, (unsigned long long)value);
	return 0;
}

static void explain_mode(unsigned int levels, uint64_t va)
{
	printk("%u-level: ", levels);
	if (!pg_is_canonical(levels, va)) {
		printk("not canonical (bits 63:%u must equal bit %u)\n", levels == 5 ? 57 : 48,
		       levels == 5 ? 56 : 47);
		return;
	}
	for (int level = (int)levels; level >= 1; level--)
		printk("%s(%s) %d  ", pg_level_linux_name(levels, level), pg_level_intel_name(levels, level),
		       pg_va_index(levels, level, va));
	printk("offset 0x%03llx\n", (unsigned long long)(va & 0xfff));
}

static int cmd_explain(int argc, char **argv)
{
	uint64_t va;
	if (!one_u64_arg(argc, argv, &va))
		return 1;
	printk("VA 0x%016llx\n", (unsigned long long)va);
	explain_mode(4, va);
	explain_mode(5, va);
	print_offset_split(va, 0);
	return 0;
}

static int cmd_mem(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	uint64_t free = nr_free_pages();
	printk("RAM:          %llu MiB in %u ranges (memblock.memory)\n",
	       (unsigned long long)(memblock_phys_mem_size() >> 20), memblock.memory.cnt);
	printk("free pages:   %llu (%llu MiB) of %llu managed\n", (unsigned long long)free,
	       (unsigned long long)(free >> 8), (unsigned long long)totalram_pages);
	printk("struct page:  %llu of %llu present sections of 128 MiB initialised\n",
	       (unsigned long long)sections_initialised, (unsigned long long)nr_present_sections);
	static struct pg_memo_slot memo[8192];
	uint64_t per_level[PG_MAX_LEVELS + 1];
	int err = pg_count_tables(&kernel_ctx, current_root(), memo, sizeof(memo) / sizeof(memo[0]), per_level);
	if (err) {
		printk("page tables:  error: %s\n", pg_strerror(err));
	} else {
		printk("page tables:  under CR3:");
		for (int l = (int)kernel_ctx.levels; l >= 1; l--)
			printk(" %s %llu", pg_level_linux_name(kernel_ctx.levels, l), (unsigned long long)per_level[l]);
		printk("; %llu pages allocated by the kernel in all\n", (unsigned long long)kernel_table_pages);
	}
	printk("direct map:   DirectMap4k %llu kB, DirectMap2M %llu kB, DirectMap1G %llu kB\n",
	       (unsigned long long)(direct_pages_bytes[1] >> 10), (unsigned long long)(direct_pages_bytes[2] >> 10),
	       (unsigned long long)(direct_pages_bytes[3] >> 10));
	struct vmalloc_stats vs;
	vmalloc_get_stats(&vs);
	printk("vmalloc:      %u areas: %llu pages vmalloc'd, %u ioremaps of %llu kB; %u top-level tables\n",
	       vs.areas, (unsigned long long)vs.pages, vs.ioremaps, (unsigned long long)(vs.ioremap_bytes >> 10),
	       vs.top_entries);
	printk("vmemmap:      %llu kB in 2M pages, %llu kB in 4k pages for %llu present sections\n",
	       (unsigned long long)(vmemmap_bytes[2] >> 10), (unsigned long long)(vmemmap_bytes[1] >> 10),
	       (unsigned long long)nr_present_sections);
	return 0;
}

static int cmd_tlb(int argc, char **argv)
{
	uint64_t va;
	if (argc == 1) {
		write_cr3(read_cr3());
		printk("CR3 reloaded: non-global TLB entries flushed\n");
		return 0;
	}
	if (streq(argv[1], "all")) {
		__flush_tlb_all();
		printk("CR4.PGE toggled: all TLB entries flushed, global ones too\n");
		return 0;
	}
	if (!arg_canonical_va(argv[1], &va))
		return 1;
	flush_tlb_one(va);
	printk("invlpg 0x%016llx\n", (unsigned long long)va);
	return 0;
}

static int recursive_slot = -1;

static int recursive_show(uint64_t va)
{
	phys_addr_t root = current_root();
	struct pg_walk w;
	unsigned int levels = kernel_ctx.levels;

	pg_walk(&kernel_ctx, root, va, &w);
	printk("VA 0x%016llx through slot %d:\n", (unsigned long long)va, recursive_slot);
	for (unsigned int i = 0; i < w.nsteps; i++) {
		const struct pg_walk_step *s = &w.step[i];
		virt_addr_t table_va, entry_va;
		uint64_t through_window;
		pg_recursive_table_va(levels, (unsigned int)recursive_slot, va, s->level, &table_va);
		pg_recursive_entry_va(levels, (unsigned int)recursive_slot, va, s->level, &entry_va);
		fault_record_clear();
		if (copy_from_kernel_nofault(&through_window, (const void *)(uintptr_t)entry_va, 8)) {
			printk("  %-4s at 0x%016llx: ", pg_level_intel_name(levels, s->level),
			       (unsigned long long)table_va);
			print_last_fault("read through the window");
			return 1;
		}
		bool same = through_window == s->entry;
		printk("  %-4s at 0x%016llx  [%3u] = 0x%016llx  direct map: 0x%016llx %s\n",
		       pg_level_intel_name(levels, s->level), (unsigned long long)table_va, s->index,
		       (unsigned long long)through_window, (unsigned long long)s->entry, same ? "same" : "DIFFERENT");
		if (!same)
			return 1;
		if (s->dec.leaf && s->level > 1) {
			printk("  (a %s page at this level: there is no table below it)\n",
			       s->level == 3 ? "1G" : "2M");
			break;
		}
	}
	if (w.status != 0)
		printk("  (the walk stops: %s)\n", pg_strerror(w.status));
	return 0;
}

/* recursive on SLOT: point the free top-level entry SLOT at the top table itself. */
static int recursive_on(uint64_t *top, const char *slot_arg)
{
	uint64_t v;

	if (!arg_u64(slot_arg, &v))
		return 1;
	if (v > 511) {
		printk("error: SLOT must be 0..511\n");
		return 1;
	}
	if (recursive_slot >= 0) {
		printk("error: slot %d is already recursive (recursive off first)\n", recursive_slot);
		return 1;
	}
	if (top[v]) {
		printk("error: slot %llu is in use (0x%016llx); pick a free one\n", (unsigned long long)v,
		       (unsigned long long)top[v]);
		return 1;
	}
	top[v] = current_root() | _KERNPG_TABLE; /* P RW A D, no US: supervisor only */
	recursive_slot = (int)v;
	virt_addr_t start, end;
	pg_recursive_window(kernel_ctx.levels, (unsigned int)v, &start, &end);
	printk("slot %llu -> the top table itself (0x%llx); it uses up [0x%016llx-0x%016llx%s\n",
	       (unsigned long long)v, (unsigned long long)current_root(), (unsigned long long)start,
	       (unsigned long long)(end ? end : ~0ULL), end ? ")" : "]");
	return 0;
}

static int cmd_recursive(int argc, char **argv)
{
	uint64_t *top = kernel_ctx.phys_to_virt(kernel_ctx.arg, current_root());
	uint64_t v;

	if (argc < 2)
		return usage(argv[0]);
	if (streq(argv[1], "on") && argc == 3)
		return recursive_on(top, argv[2]);
	if (streq(argv[1], "off") && argc == 2) {
		if (recursive_slot < 0) {
			printk("error: no recursive slot is installed\n");
			return 1;
		}
		top[recursive_slot] = 0;
		flush_tlb_all(); /* on every CPU: any of them may have walked the window */
		printk("slot %d cleared, TLB flushed\n", recursive_slot);
		recursive_slot = -1;
		return 0;
	}
	if (streq(argv[1], "show") && argc == 3) {
		if (recursive_slot < 0) {
			printk("error: no recursive slot is installed (recursive on SLOT)\n");
			return 1;
		}
		return arg_canonical_va(argv[2], &v) ? recursive_show(v) : 1;
	}
	return usage(argv[0]);
}

static int cmd_exit(int argc, char **argv)
{
	uint64_t code = QEMU_EXIT_SUCCESS;
	if (argc > 2)
		return usage(argv[0]);
	if (argc == 2 && !arg_u64(argv[1], &code))
		return 1;
	if (code > 0xff) {
		printk("error: CODE must be 0..255\n");
		return 1;
	}
	printk("ptlab: exit 0x%llx (QEMU status %llu)\n", (unsigned long long)code,
	       (unsigned long long)((code << 1) | 1));
	qemu_exit((uint8_t)code);
}

static const struct command commands[] = {
	{ "help", "", "this list", cmd_help },
	{ "regs", "", "CR0, CR2, CR3, CR4, EFER with their bits; paging mode; PCID", cmd_regs },
	{ "cr3", "", "CR3 split into table address, PCID and flags; PTI's pair", cmd_cr3 },
	{ "stages", "", "reprint the boot stage reports", cmd_stages },
	{ "ptdump", "[kernel|boot|early|current|user PID|user-pgd PID|user-twin]", "a page table in Linux ptdump format (current CPU: a CPU's)",
	  cmd_ptdump },
	{ "vtop", "VA [PID|-c CPU]", "crash-style walk of VA in the current table (or PID's, CPU's)", cmd_vtop },
	{ "pa", "VA", "__pa(VA), and which branch of __phys_addr applied", cmd_pa },
	{ "va", "PA", "__va(PA)", cmd_va },
	{ "peek", "VA [LEN]", "hex dump LEN bytes at VA (fault-safe; default 64)", cmd_peek },
	{ "poke", "VA VALUE", "write the 8-byte VALUE at VA (fault-safe)", cmd_poke },
	{ "explain", "VA", "VA's indices and offset in 4-level and 5-level paging", cmd_explain },
	{ "mem", "", "free pages, page-table pages, direct-map page sizes", cmd_mem },
	{ "layout", "", "the memory map as Linux's mm.rst, with the KASLR bases", cmd_layout },
	{ "tlb", "[VA|all]", "invlpg VA; no argument: reload CR3; all: global flush", cmd_tlb },
	{ "recursive", "on SLOT|off|show VA", "the recursive slot: the top table mapping itself", cmd_recursive },
	{ "ps", "", "processes: pid, state, CR3 and PCID, pages held", cmd_ps },
	{ "run", "[-c CPU] PROG [ARGS] [&]", "run a user program (^C kills it; & in the background)", cmd_run },
	{ "kill", "PID", "kill a process (SIGKILL)", cmd_kill },
	{ "switches", "[reset]", "context switches: flushing and non-flushing CR3 loads, ASIDs", cmd_switches },
	{ "cpus", "", "per CPU: APIC id, state, CR3 and PCID, loaded mm, tlb_gen, task", cmd_cpus },
	{ "shootdowns", "[reset]", "TLB shootdowns per CPU: IPIs, partial and full flushes", cmd_shootdowns },
	{ "accesstest", "[quick|full]", "access rights on this CPU against the MMU model", accesstest_command },
	{ "modes", "[illegal]", "paging-mode transitions on this CPU against the model", modes_command },
	{ "exit", "[CODE]", "leave QEMU with status (CODE << 1) | 1 (default 0x10: 33)", cmd_exit },
	{ 0, 0, 0, 0 },
};

int shell_execute(char *line)
{
	char *argv[MAX_ARGS];
	int argc = 0;
	char *p = line;

	while (*p) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (!*p)
			break;
		if (argc == MAX_ARGS) {
			printk("error: too many arguments (at most %d)\n", MAX_ARGS - 1);
			return 1;
		}
		argv[argc++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
	if (argc == 0)
		return 0;
	for (const struct command *c = commands; c->name; c++)
		if (streq(c->name, argv[0]))
			return c->fn(argc, argv);
	printk("error: unknown command '%s' (type help)\n", argv[0]);
	return 1;
}

bool shell_run_script(const char *script)
{
	char line[READLINE_MAX];
	bool ok = true;

	while (*script) {
		size_t n = 0;
		while (script[n] && script[n] != ';')
			n++;
		if (n >= sizeof(line)) {
			printk("error: a run= command is longer than %u characters\n", READLINE_MAX - 1);
			return false;
		}
		memcpy(line, script, n);
		line[n] = '\0';
		script += n + (script[n] == ';');
		printk(PROMPT "%s\n", line);
		ok &= shell_execute(line) == 0;
	}
	return ok;
}

void shell_loop(void)
{
	char line[READLINE_MAX];

	printk("ptlab shell: type help\n");
	for (;;) {
		int n = readline(PROMPT, line);
		if (n == -1)
			printk("error: line too long (at most %u characters)\n", READLINE_MAX - 1);
		else if (n > 0)
			shell_execute(line);
	}
}
