/*
 * fault.c: the page-fault handler.
 *
 * Before init_mem_mapping, a fault on a PAGE_OFFSET address while CR3 is
 * early_top_pgt is served by early_make_pgtable(): a 2 MiB mapping built from
 * the fixed pool early_dynamic_pgts, which is reset when it runs out (Linux's
 * early #PF map). After that, a fault at an address in the exception table is
 * fixed up (fault-safe accessors); any other kernel fault is reported (CR2,
 * the error code decoded, RIP, and the walk of CR2 showing the level that
 * denied the access) and the kernel panics.
 */
#include <asm/console.h>
#include <asm/page.h>
#include <asm/pgtable.h>
#include <asm/processor.h>
#include <asm/sections.h>
#include <asm/traps.h>
#include <paging/paging.h>

static bool early_pf_enabled;
static unsigned int next_early_pgt;
uint64_t early_pf_count, early_pool_resets;

void early_page_fault_enable(bool on)
{
	early_pf_enabled = on;
}

/* Tables of the early map live in the kernel image: reach them through it. */
static void *early_phys_to_virt(void *arg, phys_addr_t pa)
{
	(void)arg;
	uint64_t start = __pa_symbol(_text), end = __pa_symbol(_end);
	return (pa >= start && pa < end) ? (void *)(uintptr_t)(pa - phys_base + __START_KERNEL_map) : 0;
}

static int early_alloc_table(void *arg, phys_addr_t *pa)
{
	(void)arg;
	if (next_early_pgt >= EARLY_DYNAMIC_PAGE_TABLES)
		return -1;
	uint64_t *t = early_dynamic_pgts[next_early_pgt++];
	memset(t, 0, 4096);
	*pa = __pa_symbol(t);
	return 0;
}

void reset_early_page_tables(void)
{
	memset(early_top_pgt, 0, sizeof(early_top_pgt[0]) * 511);
	next_early_pgt = 0;
	early_pool_resets++;
	write_cr3(read_cr3());
}

/*
 * Map the 2 MiB block of the direct map that holds address.
 * returns: true if the fault was served (retry the access).
 */
static bool early_make_pgtable(uint64_t address)
{
	const struct pg_ctx early_ctx = {
		.phys_to_virt = early_phys_to_virt,
		.alloc_table = early_alloc_table,
		.levels = kernel_ctx.levels,
		.table_flags = _KERNPG_TABLE,
		.phys_bits = kernel_ctx.phys_bits,
		.disabled = kernel_ctx.disabled,
	};
	uint64_t pa = address - PAGE_OFFSET;
	uint64_t prot = (__PAGE_KERNEL_LARGE & ~(PTE_G | PTE_NX)) | ((rdmsr(MSR_EFER) & EFER_NXE) ? PTE_NX : 0);
	virt_addr_t va = address & PMD_MASK;

	if (address < PAGE_OFFSET || pa >= MAXMEM || current_root() != __pa_symbol(early_top_pgt))
		return false;
	for (int tries = 0; tries < 2; tries++) {
		int err = pg_map(&early_ctx, __pa_symbol(early_top_pgt), va, va + PMD_SIZE, pa & PMD_MASK,
				 prot & ~PTE_PS, PG_MASK_2M, PG_MAP_REPLACE, 0);
		if (err == 0) {
			early_pf_count++;
			return true;
		}
		if (err != -PG_ENOMEM)
			return false;
		reset_early_page_tables(); /* the pool ran out: start over */
	}
	return false;
}

static const char *level_label(int level)
{
	static const char *const labels[] = { "?", "pte", "pmd", "pud", "p4d", "pgd" };
	if (level == (int)kernel_ctx.levels)
		return "pgd";
	return level >= 1 && level <= 4 ? labels[level] : "?";
}

/*
 * The first level of the walk that forbids the access, as the MMU decides:
 * not present, reserved bits, R/W = 0 for a write, U/S = 0 for a user access,
 * NX for a fetch. returns: the level, or 0 when every level allows it.
 */
static int denying_level(const struct pg_walk *w, uint64_t err, const char **why)
{
	for (unsigned int i = 0; i < w->nsteps; i++) {
		const struct pg_walk_step *s = &w->step[i];
		if (!s->dec.present) {
			*why = "not present";
			return s->level;
		}
		if (w->status == -PG_ERSVD && w->fault_level == s->level) {
			*why = "reserved bits set";
			return s->level;
		}
		if ((err & X86_PF_WRITE) && !(s->entry & PTE_W)) {
			*why = "R/W=0: read-only";
			return s->level;
		}
		if ((err & X86_PF_USER) && !(s->entry & PTE_U)) {
			*why = "U/S=0: supervisor only";
			return s->level;
		}
		if ((err & X86_PF_INSTR) && !(kernel_ctx.disabled & PG_NO_NX) && (s->entry & PTE_NX)) {
			*why = "NX=1: not executable";
			return s->level;
		}
	}
	return 0;
}

void show_fault_report(uint64_t cr2, uint64_t err, uint64_t rip)
{
	struct pg_walk w;
	const char *why = "";

	printk("#PF: CR2 0x%016llx, error code 0x%llx [%s %s %s%s%s%s]\n", (unsigned long long)cr2,
	       (unsigned long long)err, (err & X86_PF_PROT) ? "P=1 protection" : "P=0 not-present",
	       (err & X86_PF_WRITE) ? "W/R=1 write" : "W/R=0 read",
	       (err & X86_PF_USER) ? "U/S=1 user" : "U/S=0 supervisor", (err & X86_PF_RSVD) ? " RSVD" : "",
	       (err & X86_PF_INSTR) ? " I/D=1 fetch" : "", (err & X86_PF_PK) ? " PK" : "");
	printk("#PF: RIP 0x%016llx, CR3 0x%016llx\n", (unsigned long long)rip, (unsigned long long)read_cr3());
	pg_walk(&kernel_ctx, current_root(), cr2, &w);
	if (w.status == -PG_ERANGE) {
		printk("#PF: walk: 0x%016llx is not canonical\n", (unsigned long long)cr2);
		return;
	}
	int deny = denying_level(&w, err, &why);
	for (unsigned int i = 0; i < w.nsteps; i++) {
		const struct pg_walk_step *s = &w.step[i];
		printk("#PF: walk: %-3s table 0x%012llx [%3u] = 0x%016llx%s%s\n", level_label(s->level),
		       (unsigned long long)s->table_pa, s->index, (unsigned long long)s->entry,
		       s->level == deny ? "  <- denied: " : "", s->level == deny ? why : "");
	}
	if (w.status == -PG_EIO)
		printk("#PF: walk: the %s table is not readable\n", level_label(w.fault_level));
	if (!deny && w.status == 0)
		printk("#PF: walk: every level allows it (SMEP, SMAP or a protection key denied it)\n");
}

void do_page_fault(struct pt_regs *regs)
{
	uint64_t cr2 = read_cr2();

	if (early_pf_enabled && !(regs->error_code & (X86_PF_PROT | X86_PF_USER | X86_PF_RSVD)) &&
	    early_make_pgtable(cr2))
		return;
	if (do_user_addr_fault(regs, cr2)) /* fault_user.c: demand paging, COW, or the process dies */
		return;
	if (fixup_exception(regs))
		return;
	printk("\nptlab: unhandled page fault in the kernel\n");
	show_fault_report(cr2, regs->error_code, regs->rip);
	panic("page fault at 0x%016llx (RIP 0x%016llx)", (unsigned long long)cr2,
	      (unsigned long long)regs->rip);
}
