/*
 * dump_layout.c: the shell's `layout` (docs/shell.md): the live memory map
 * in the form of Linux's Documentation/arch/x86/x86_64/mm.rst (start,
 * offset from the top, end inclusive, size, what), with the three regions
 * where kernel_randomize_memory put them and the unused holes between, then
 * the vmalloc areas as /proc/vmallocinfo lists them (a kernel stack also
 * names its task).
 */
#include <asm/console.h>
#include <asm/fixmap.h>
#include <asm/kaslr.h>
#include <asm/pgtable.h>
#include <asm/pgtable_64_types.h>
#include <asm/pti.h>
#include <lib/vsprintf.h>
#include <linux/sched.h>
#include <linux/shell.h>
#include <linux/vmalloc.h>

struct layout_row {
	uint64_t start, end; /* [start, end); end 0: the top */
	const char *what;
};

#define TOP_HALF(l5) ((l5) ? 0xff00000000000000ULL : 0xffff800000000000ULL)

/* The fixed rows of mm.rst for the mode (ptlab's own sizes where they differ), in address order. */
static unsigned int fixed_rows(struct layout_row *r, bool l5)
{
	unsigned int n = 0;
	r[n++] = (struct layout_row){ 0, l5 ? 1ULL << 56 : 0x00007ffffffff000ULL,
		l5 ? "user-space virtual memory, different per mm (ptlab's below 2^47)"
		   : "user-space virtual memory, different per mm" };
	r[n++] = (struct layout_row){ l5 ? 1ULL << 56 : 0x00007ffffffff000ULL, TOP_HALF(l5),
		"... huge hole of non-canonical virtual memory addresses" };
	r[n++] = (struct layout_row){ TOP_HALF(l5), l5 ? 0xff10000000000000ULL : 0xffff880000000000ULL,
		"... guard hole, also reserved for hypervisor" };
	r[n++] = (struct layout_row){ l5 ? 0xff10000000000000ULL : 0xffff880000000000ULL,
		l5 ? 0xff11000000000000ULL : 0xffff888000000000ULL, pti_enabled ? "LDT remap for PTI (empty: ptlab has no LDT)" : "LDT remap for PTI (empty: ptlab has no PTI)" };
	r[n++] = (struct layout_row){ CPU_ENTRY_AREA_BASE, 0xfffffe8000000000ULL,
		pti_enabled ? "cpu_entry_area mapping" : "cpu_entry_area mapping (empty)" };
	r[n++] = (struct layout_row){ 0xffffff0000000000ULL, 0xffffff8000000000ULL, "%esp fixup stacks (empty)" };
	r[n++] = (struct layout_row){ 0xffffffef00000000ULL, 0xffffffff00000000ULL, "EFI region mapping space (empty)" };
	r[n++] = (struct layout_row){ __START_KERNEL_map, __START_KERNEL_map + KERNEL_IMAGE_SIZE,
		"kernel text mapping, mapped to physical address 0 (+ phys_base)" };
	r[n++] = (struct layout_row){ __START_KERNEL_map + KERNEL_IMAGE_SIZE, 0xffffffffff000000ULL,
		"module mapping space (empty: no modules)" };
	r[n++] = (struct layout_row){ FIXADDR_START, VSYSCALL_ADDR, "kernel-internal fixmap range" };
	r[n++] = (struct layout_row){ VSYSCALL_ADDR, VSYSCALL_ADDR + PAGE_SIZE, "legacy vsyscall ABI (empty)" };
	return n;
}

/*
 * mm.rst's sizes: in the largest unit that states them exactly in quarters
 * and under 10000 ("64 TB", "0.5 TB", "1520 MB"), else roughly in the
 * largest unit they reach half of ("~128 TB").
 */
static void fmt_size(char *buf, size_t len, uint64_t size, bool sign)
{
	static const char units[] = "KMGTPE";
	static const char *const frac[] = { "", ".25", ".5", ".75" };
	int u;
	uint64_t unit;

	for (u = 5; u >= 0; u--) {
		unit = 1ULL << (10 * (u + 1));
		if (size >= unit / 4 && size % (unit / 4) == 0 && size / unit < 10000)
			break;
	}
	if (u >= 0) {
		ksnprintf(buf, len, "%s%llu%s %cB", sign ? "-" : "", (unsigned long long)(size / unit),
			  frac[(size % unit) / (unit / 4)], units[u]);
		return;
	}
	for (u = 5; u > 0 && size < (1ULL << (10 * (u + 1))) / 2; u--)
		;
	unit = 1ULL << (10 * (u + 1));
	ksnprintf(buf, len, "~%s%llu %cB", sign ? "-" : "",
		  (unsigned long long)(size / unit + (size % unit >= unit / 2)), units[u]);
}

static void print_row(uint64_t start, uint64_t end, const char *what)
{
	char offset[24], size[24];
	bool upper = start >> 63;

	fmt_size(offset, sizeof(offset), upper ? 0 - start : start, upper);
	fmt_size(size, sizeof(size), end - start, false);
	printk(" %016llx | %10s | %016llx | %8s | %s\n", (unsigned long long)start, start ? offset : "0",
	       (unsigned long long)(end - 1), size, what);
}

static void print_area(void *arg, const struct vm_struct *a)
{
	(void)arg;
	printk("0x%016llx-0x%016llx %8llu %s", (unsigned long long)a->addr,
	       (unsigned long long)(a->addr + a->size), (unsigned long long)a->size, a->caller);
	if (a->flags & VM_IOREMAP) {
		printk(" phys=0x%016llx ioremap\n", (unsigned long long)a->phys_addr);
		return;
	}
	printk(" pages=%u vmalloc", a->nr_pages);
	for (int i = 0; i < NR_TASKS; i++)
		if (tasks[i].state != TASK_UNUSED && (uint64_t)(uintptr_t)tasks[i].stack == a->addr)
			printk(" stack of pid %d (%s)", tasks[i].pid, tasks[i].comm);
	printk("\n");
}

static const char *const region_what[PG_LINUX_NREGIONS] = {
	"direct mapping of all physical memory (page_offset_base)",
	"vmalloc/ioremap space (vmalloc_base)",
	"virtual memory map (vmemmap_base)",
};

int cmd_layout(int argc, char **argv)
{
	struct layout_row rows[16];
	bool l5 = pgtable_l5_enabled;
	unsigned int n = fixed_rows(rows, l5);

	(void)argv;
	if (argc != 1) {
		printk("usage: layout\n");
		return 1;
	}
	for (int r = 0; r < PG_LINUX_NREGIONS; r++) { /* insert the three moving regions in address order */
		struct layout_row row = { .what = region_what[r] };
		memory_region_extent((enum pg_linux_region)r, &row.start, &row.end);
		unsigned int k = n++;
		for (; k > 0 && rows[k - 1].start > row.start; k--)
			rows[k] = rows[k - 1];
		rows[k] = row;
	}
	printk("%u-level paging; KASLR of the memory regions: %s\n", kernel_ctx.levels, kaslr_regions_source);
	printk("    Start addr    |   Offset   |     End addr     |   Size   | VM area description\n");
	for (unsigned int i = 0; i < n; i++) {
		if (i && rows[i].start > rows[i - 1].end && rows[i - 1].end)
			print_row(rows[i - 1].end, rows[i].start, "... unused hole");
		print_row(rows[i].start, rows[i].end, rows[i].what);
	}
	if (rows[n - 1].end)
		print_row(rows[n - 1].end, 0, "... unused hole");
	printk("vmalloc areas (as /proc/vmallocinfo):\n");
	for_each_vm_area(print_area, 0);
	return 0;
}
