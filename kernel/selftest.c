/*
 * selftest.c: in-kernel tests (see linux/selftest.h), run when the command
 * line says `test=all` or `test=name,...`. They check the live kernel from
 * the inside; tests/system checks the same things from outside through QEMU.
 * One table names them all: a name it does not hold refuses the boot, and a
 * selection that runs nothing fails instead of passing.
 */
#include <asm/console.h>
#include <asm/kaslr.h>
#include <asm/page.h>
#include <asm/pgtable.h>
#include <asm/processor.h>
#include <asm/sections.h>
#include <asm/traps.h>
#include <lib/cmdline.h>
#include <asm/realmode.h>
#include <linux/compiler.h>
#include <linux/memblock.h>
#include <linux/mm.h>
#include <linux/selftest.h>
#include <linux/shell.h>

#include "mmutest/mmutest.h"

bool test_process(void); /* kernel/proc_test.c */
bool test_smp(void);     /* kernel/smp_test.c */
/* kernel/vm_test.c */
bool test_kaslr_regions(void);
bool test_vmemmap(void);
bool test_vmalloc(void);
bool test_ioremap(void);

/* A read through __va of memory above 4 GiB (or the top of RAM) before the direct map exists. */
static bool test_early_pf(void)
{
	uint64_t top = memblock_end_of_DRAM() - 8, before = READ_ONCE(early_pf_count);
	uint64_t pa = top > (1ULL << 32) ? (1ULL << 32) + 0x123450 : top;
	volatile uint64_t *p = __va(pa);

	KTEST_CHECK(current_root() == __pa_symbol(early_top_pgt));
	uint64_t old = *p;
	*p = 0x5ca1ab1e0000ULL + pa;
	KTEST_CHECK(*p == 0x5ca1ab1e0000ULL + pa);
	*p = old;
	KTEST_CHECK(READ_ONCE(early_pf_count) > before);
	printk("  early #PF map served __va(0x%llx) = 0x%016llx (%llu faults so far)\n",
	       (unsigned long long)pa, (unsigned long long)(uintptr_t)p, (unsigned long long)early_pf_count);
	return true;
}

/* Touch 80 different GiB of the direct map: more than the 64-page pool holds tables for. */
static bool test_early_pf_pool_reset(void)
{
	uint64_t resets = READ_ONCE(early_pool_resets);
	for (uint64_t gib = 0; gib < 80; gib++)
		(void)*(volatile uint8_t *)__va(gib << 30);
	KTEST_CHECK(READ_ONCE(early_pool_resets) > resets);
	/* and the map still works after the reset */
	KTEST_CHECK(*(volatile uint64_t *)__va(__pa_symbol(&phys_base)) == phys_base);
	printk("  pool resets: %llu\n", (unsigned long long)early_pool_resets);
	return true;
}

struct direct_check {
	unsigned int region;
	uint64_t covered, at; /* bytes checked; the next PA expected (inside memory.regions[region]) */
	bool ok;
};

/*
 * The rights a piece of the direct map must have: RW NX supervisor, but the
 * real-mode trampoline's text (when there are APs to start) is r-x, as
 * Linux's set_real_mode_permissions leaves it.
 */
static bool direct_rights_ok(const struct pg_range *r)
{
	uint64_t text = real_mode_header ? real_mode_header->text_start : 0;
	uint64_t text_end = real_mode_header ? (real_mode_header->ro_end + PAGE_SIZE - 1) & PAGE_MASK : 0;
	bool is_text = r->pa >= text && r->pa + r->size <= text_end;
	bool nx = (r->eff & PTE_NX) != 0, want_nx = !is_text && !(kernel_ctx.disabled & PG_NO_NX);

	return (r->eff & (PTE_W | PTE_U)) == (is_text ? 0 : PTE_W) && nx == want_nx;
}

static int check_direct_range(void *arg, const struct pg_range *r)
{
	struct direct_check *c = arg;
	const struct memblock_type *m = &memblock.memory;

	if (r->kind != PG_RANGE_MAPPED)
		return 0;
	if (c->region < m->cnt && c->covered == 0 && c->at == 0)
		c->at = m->regions[0].base;
	if (c->region >= m->cnt || r->start != PAGE_OFFSET + c->at || r->pa != c->at ||
	    r->pa + r->size > m->regions[c->region].base + m->regions[c->region].size || !direct_rights_ok(r)) {
		printk("  direct map range [0x%016llx +0x%llx) -> 0x%llx eff 0x%llx does not match memblock.memory[%u]\n",
		       (unsigned long long)r->start, (unsigned long long)r->size, (unsigned long long)r->pa,
		       (unsigned long long)r->eff, c->region);
		c->ok = false;
		return 1;
	}
	c->at += r->size;
	c->covered += r->size;
	if (c->at == m->regions[c->region].base + m->regions[c->region].size && ++c->region < m->cnt)
		c->at = m->regions[c->region].base;
	return 0;
}

/*
 * The direct map is exactly memblock.memory (E820 RAM), read-write, NX,
 * supervisor (but the trampoline's text: r-x, direct_rights_ok).
 */
static bool test_direct_map(void)
{
	uint64_t start, end; /* the direct map's region: other regions may follow it closely (KASLR) */
	memory_region_extent(PG_LINUX_DIRECT_MAP, &start, &end);
	struct pg_iter_opts opts = {
		.start = start, .end = end,
		.merge = PG_MERGE_RIGHTS, .flags = PG_ITER_PHYS_CONTIG,
	};
	struct direct_check c = { 0, 0, 0, true };
	KTEST_CHECK(pg_iterate(&kernel_ctx, current_root(), &opts, check_direct_range, &c) >= 0);
	KTEST_CHECK(c.ok);
	KTEST_CHECK(c.region == memblock.memory.cnt);
	KTEST_CHECK(c.covered == memblock_phys_mem_size());
	for (uint64_t pa = 0; pa < memblock_end_of_DRAM(); pa += 0x40000000) {
		phys_addr_t got;
		if (memblock_is_memory(pa)) {
			KTEST_CHECK(pg_translate(&kernel_ctx, current_root(), PAGE_OFFSET + pa, &got, 0, 0) == 0);
			KTEST_CHECK(got == pa);
			KTEST_CHECK(__pa(__va(pa)) == pa);
		}
	}
	printk("  direct map = memblock.memory: %u ranges, %llu MiB\n", c.region,
	       (unsigned long long)(c.covered >> 20));
	return true;
}

static bool test_wx(void)
{
	KTEST_CHECK(ptdump_count_wx(current_root()) == 0);
	return true;
}

/* __pa/__va (__phys_addr_nodebug): both branches. */
static bool test_pa_va(void)
{
	KTEST_CHECK(__pa(_text) == __pa_symbol(_text));
	KTEST_CHECK(phys_addr_is_kernel_image((uint64_t)(uintptr_t)_text));
	KTEST_CHECK(!phys_addr_is_kernel_image(PAGE_OFFSET + 0x1000));
	KTEST_CHECK(__pa(PAGE_OFFSET + 0x1000) == 0x1000);
	phys_addr_t pa;
	KTEST_CHECK(pg_translate(&kernel_ctx, current_root(), (uint64_t)(uintptr_t)_text, &pa, 0, 0) == 0);
	KTEST_CHECK(pa == __pa(_text));
	return true;
}

static const char rodata_probe[16] = "read-only data";

/* Fault-safe copies: an unmapped source, a non-canonical one (#GP), a write to rodata. */
static bool test_nofault(void)
{
	char buf[16];
	static const char src[16] = "fifteen chars..";

	fault_record_clear();
	KTEST_CHECK(copy_from_kernel_nofault(buf, (const void *)0x1000, 8) == -EFAULT);
	KTEST_CHECK(last_fault.vector == X86_TRAP_PF && last_fault.cr2 == 0x1000);
	KTEST_CHECK((last_fault.error_code & (X86_PF_PROT | X86_PF_WRITE)) == 0);
	KTEST_CHECK(copy_from_kernel_nofault(buf, (const void *)0x8000000000000000ULL, 8) == -EFAULT);
	KTEST_CHECK(last_fault.vector == X86_TRAP_GP);
	KTEST_CHECK(copy_from_kernel_nofault((void *)(uintptr_t)rodata_probe, src, 8) == -EFAULT);
	KTEST_CHECK(last_fault.vector == X86_TRAP_PF && last_fault.cr2 == (uint64_t)(uintptr_t)rodata_probe);
	KTEST_CHECK((last_fault.error_code & (X86_PF_PROT | X86_PF_WRITE)) == (X86_PF_PROT | X86_PF_WRITE));
	KTEST_CHECK(rodata_probe[0] == 'r');
	KTEST_CHECK(copy_from_kernel_nofault(buf, rodata_probe, sizeof(buf)) == 0 && buf[0] == 'r');
	return true;
}

/* The buddy allocator: every order, splitting and merging, deferred sections, counts restored. */
static bool test_buddy(void)
{
	uint64_t free0 = nr_free_pages();
	struct page *p[MAX_ORDER + 1];

	for (unsigned int o = 0; o <= MAX_ORDER; o++) {
		p[o] = alloc_pages(o);
		KTEST_CHECK(p[o] != 0);
		KTEST_CHECK((page_to_pfn(p[o]) & ((1ULL << o) - 1)) == 0);
		memset(page_address(p[o]), 0xa5, PAGE_SIZE << o);
	}
	KTEST_CHECK(nr_free_pages() == free0 - ((1ULL << (MAX_ORDER + 1)) - 1));
	for (unsigned int o = 0; o <= MAX_ORDER; o++)
		free_pages(p[o], o);
	KTEST_CHECK(nr_free_pages() == free0);

	/* Take 4 MiB blocks until 256 MiB or memory runs out: crosses into deferred sections. */
	uint64_t taken = 0, first = 0, prev = 0;
	for (; taken < 64; taken++) {
		struct page *b = alloc_pages(MAX_ORDER);
		if (!b)
			break;
		uint64_t *link = page_address(b);
		link[0] = prev; /* a list through the blocks themselves */
		link[1] = 0xb10cb10cULL;
		prev = (uint64_t)(uintptr_t)link;
		if (!first)
			first = prev;
	}
	KTEST_CHECK(taken > 0);
	uint64_t freed = 0;
	while (prev) {
		uint64_t *link = (uint64_t *)(uintptr_t)prev;
		KTEST_CHECK(link[1] == 0xb10cb10cULL);
		prev = link[0];
		free_pages_addr((uint64_t)(uintptr_t)link, MAX_ORDER);
		freed++;
	}
	KTEST_CHECK(freed == taken);
	KTEST_CHECK(nr_free_pages() == free0);
	printk("  %llu free pages, %llu of %llu sections initialised\n", (unsigned long long)free0,
	       (unsigned long long)sections_initialised, (unsigned long long)nr_present_sections);
	return true;
}

/*
 * The live MMU checks (docs/mmu.md, "On the live CPU") as selftests, so that a
 * boot command line without spaces can run them (GRUB's `linux` re-quotes a
 * run= script with spaces): modes, modes_illegal, accesstest_quick and
 * accesstest_full run the shell commands `modes`, `modes illegal`,
 * `accesstest quick` and `accesstest full`. Each passes iff the command
 * returns 0 (every step or combination agrees with the model) and every page
 * it took is free again.
 */
static bool run_command(int (*command)(int argc, char **argv), char *name, char *arg)
{
	char *argv[3] = { name, arg, 0 };
	uint64_t free0 = nr_free_pages();

	KTEST_CHECK(command(arg ? 2 : 1, argv) == 0);
	KTEST_CHECK(nr_free_pages() == free0);
	return true;
}

static bool test_modes(void)
{
	return run_command(modes_command, "modes", 0);
}

static bool test_modes_illegal(void)
{
	return run_command(modes_command, "modes", "illegal");
}

static bool test_accesstest_quick(void)
{
	return run_command(accesstest_command, "accesstest", "quick");
}

static bool test_accesstest_full(void)
{
	return run_command(accesstest_command, "accesstest", "full");
}

#define ST_EARLY      0x1u /* runs before init_mem_mapping, on the early #PF map */
#define ST_NAMED_ONLY 0x2u /* not part of test=all: runs only when named */

static const struct selftest {
	const char *name;
	bool (*fn)(void);
	unsigned int flags;
} selftests[] = {
	{ "early_pf", test_early_pf, ST_EARLY },
	{ "early_pf_pool_reset", test_early_pf_pool_reset, ST_EARLY },
	{ "direct_map", test_direct_map, 0 },
	{ "wx", test_wx, 0 },
	{ "pa_va", test_pa_va, 0 },
	{ "nofault", test_nofault, 0 },
	{ "buddy", test_buddy, 0 },
	{ "kaslr", test_kaslr_regions, 0 },
	{ "vmemmap", test_vmemmap, 0 },
	{ "vmalloc", test_vmalloc, 0 },
	{ "ioremap", test_ioremap, 0 },
	{ "process", test_process, 0 },
	{ "modes", test_modes, ST_NAMED_ONLY },
	{ "modes_illegal", test_modes_illegal, ST_NAMED_ONLY },
	{ "accesstest_quick", test_accesstest_quick, ST_NAMED_ONLY },
	{ "accesstest_full", test_accesstest_full, ST_NAMED_ONLY },
	{ "smp", test_smp, ST_NAMED_ONLY },
};

#define NR_SELFTESTS (sizeof(selftests) / sizeof(selftests[0]))

/* What test= asked for, parsed once (the first selftest_run, before init_mem_mapping). */
static struct {
	bool parsed, requested;
	bool selected[NR_SELFTESTS];
	unsigned int ran;
	char list[256];
} sel;

/* A refused boot: `test=NAME` names no selftest. The message lists the known names. */
static __attribute__((noreturn)) void unknown_selftest(const char *name)
{
	char known[256] = "all";
	size_t n = strlen(known);

	for (unsigned int i = 0; i < NR_SELFTESTS; i++) {
		size_t len = strlen(selftests[i].name);
		if (n + 2 + len >= sizeof(known))
			break;
		memcpy(known + n, ", ", 2);
		memcpy(known + n + 2, selftests[i].name, len + 1);
		n += 2 + len;
	}
	panic("test=%s: unknown (known: %s)", name, known);
}

/* Select the test called word (or every test of test=all); an unknown word refuses the boot. */
static void select_word(const char *word)
{
	bool all = streq(word, "all"), found = all;

	for (unsigned int i = 0; i < NR_SELFTESTS; i++) {
		if (streq(word, selftests[i].name) || (all && !(selftests[i].flags & ST_NAMED_ONLY))) {
			sel.selected[i] = true;
			found = true;
		}
	}
	if (!found)
		unknown_selftest(word);
}

static void parse_selection(void)
{
	if (sel.parsed)
		return;
	sel.parsed = true;
	int n = cmdline_get_option(boot_command_line, "test", sel.list, sizeof(sel.list));
	if (n == -1)
		return;
	if (n < 0)
		panic("test=: the list is longer than %u characters", (unsigned int)sizeof(sel.list) - 1);
	sel.requested = true;
	for (char *word = sel.list; *word;) {
		char *end = word;
		while (*end && *end != ',')
			end++;
		bool last = !*end;
		*end = '\0';
		if (*word)
			select_word(word);
		word = last ? end : end + 1;
	}
}

bool selftest_requested(void)
{
	parse_selection();
	return sel.requested;
}

bool selftest_run(bool early)
{
	bool all_ok = true;

	parse_selection();
	for (unsigned int i = 0; i < NR_SELFTESTS; i++) {
		if (!sel.selected[i] || ((selftests[i].flags & ST_EARLY) != 0) != early)
			continue;
		bool ok = selftests[i].fn();
		printk("test %s: %s\n", selftests[i].name, ok ? "OK" : "FAILED");
		all_ok &= ok;
		sel.ran++;
	}
	if (!early && sel.requested && !sel.ran) {
		printk("selftests: test= selected no test, so nothing was checked\n");
		return false;
	}
	return all_ok;
}
