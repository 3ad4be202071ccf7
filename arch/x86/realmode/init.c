/*
 * init.c: the real-mode trampoline below 1 MiB and trampoline_pgd (Linux:
 * arch/x86/realmode/init.c; init_trampoline in arch/x86/mm/init.c,
 * init_trampoline_kaslr in arch/x86/mm/kaslr.c; docs/smp.md).
 *
 *   reserve_real_mode   [memblock]: three pages of RAM below 1 MiB
 *   init_real_mode      [smp_init]: init_trampoline, setup_real_mode,
 *                       set_real_mode_permissions
 *
 * trampoline_pgd is built as Linux builds it, through lib/paging on
 * kernel_ctx: entry 0 is trampoline_pgd_entry, the entry that maps the
 * low physical memory at virtual address 0 with the direct map's own lower
 * tables (init_trampoline: the direct map's top-level entry for PA 0 when
 * PAGE_OFFSET is aligned to a top-level entry; otherwise, as with a
 * randomised direct map, a new PUD page (and P4D page with 5-level paging)
 * holding the direct map's PUD entry for PA 0), and entries
 * pgd_index(PAGE_OFFSET)..511 are init_top_pgt's. So the AP runs the
 * trampoline's 64-bit code at its physical address, and the kernel at its
 * virtual one, on the same table. The trampoline's text is then made
 * executable and read-only in the direct map (the identity entry shares its
 * tables), its data stays RW NX.
 */
#include <asm/console.h>
#include <asm/mmu_context.h>
#include <asm/page.h>
#include <asm/pgtable.h>
#include <asm/processor.h>
#include <asm/realmode.h>
#include <asm/sections.h>
#include <asm/tlbflush.h>
#include <linux/memblock.h>

struct real_mode_header *real_mode_header;
uint32_t *trampoline_lock;
uint64_t real_mode_base;
static uint64_t trampoline_pgd_entry;

#define REAL_MODE_SIZE ((uint64_t)(real_mode_blob_end - real_mode_blob))

void reserve_real_mode(void)
{
	/* Has to be below 1 MiB: the AP starts in real mode. */
	real_mode_base = memblock_phys_alloc_range(REAL_MODE_SIZE, PAGE_SIZE, 0, 0x100000);
}

struct trampoline_header *trampoline_header_va(void)
{
	return __va(real_mode_header->trampoline_header);
}

/* A new zeroed table page of kernel_ctx. returns: its PA, or 0. */
static phys_addr_t trampoline_alloc_table(void)
{
	phys_addr_t pa;
	return kernel_ctx.alloc_table(kernel_ctx.arg, &pa) ? 0 : pa;
}

/* Linux's init_trampoline_kaslr: map PA [0, 1 GiB) at VA 0 with the direct map's PUD entry for PA 0. */
static int init_trampoline_kaslr(phys_addr_t root)
{
	phys_addr_t pud_entry_pa, pud_page = trampoline_alloc_table(), p4d_page = 0;
	uint64_t pud;
	int err = pg_entry_lookup(&kernel_ctx, root, (uint64_t)(uintptr_t)__va(0), 3, &pud_entry_pa);

	if (err || !pud_page)
		return err ? err : -PG_ENOMEM;
	pud = *(const uint64_t *)kernel_ctx.phys_to_virt(kernel_ctx.arg, pud_entry_pa);
	err = pg_entry_write(&kernel_ctx, pud_page, 3, 0, pud);
	trampoline_pgd_entry = pud_page | _KERNPG_TABLE;
	if (!err && kernel_ctx.levels == PG_MODE_5LEVEL) {
		if (!(p4d_page = trampoline_alloc_table()))
			return -PG_ENOMEM;
		err = pg_entry_write(&kernel_ctx, p4d_page, 4, 0, trampoline_pgd_entry);
		trampoline_pgd_entry = p4d_page | _KERNPG_TABLE;
	}
	return err;
}

/* trampoline_pgd_entry: the identity mapping of low memory for trampoline_pgd[0]. */
static int init_trampoline(void)
{
	phys_addr_t root = __pa_symbol(init_top_pgt);
	int top = (int)kernel_ctx.levels;

	if (PAGE_OFFSET & (pg_level_size(kernel_ctx.levels, top) - 1))
		return init_trampoline_kaslr(root);
	return pg_entry_read(&kernel_ctx, root, top, KERNEL_PGD_BOUNDARY, &trampoline_pgd_entry);
}

/* Copy the blob, relocate it, fill trampoline_header and trampoline_pgd. */
static int setup_real_mode(void)
{
	uint8_t *base = __va(real_mode_base);
	phys_addr_t tpgd, root = __pa_symbol(init_top_pgt);
	int top = (int)kernel_ctx.levels, err;

	memcpy(base, real_mode_blob, REAL_MODE_SIZE);
	for (uint32_t i = 1; i <= real_mode_relocs[0]; i++)
		*(uint32_t *)(base + real_mode_relocs[i]) += (uint32_t)real_mode_base;
	real_mode_header = (struct real_mode_header *)(base + (rm_header - real_mode_blob));

	struct trampoline_header *th = trampoline_header_va();
	th->efer = rdmsr(MSR_EFER) & ~EFER_LMA; /* some CPUs #GP if WRMSR sets LMA */
	th->start = (uint64_t)(uintptr_t)secondary_startup_64;
	th->cr4 = (uint32_t)(read_cr4() & ~X86_CR4_PCIDE); /* PCIDE only in long mode: the AP sets it later */
	th->flags = 0;
	th->lock = 0;
	trampoline_lock = &th->lock;

	tpgd = real_mode_header->trampoline_pgd;
	err = pg_entry_write(&kernel_ctx, tpgd, top, 0, trampoline_pgd_entry);
	/* Include the kernel's entries: every mapping of init_top_pgt's kernel half works on it. */
	for (unsigned int i = KERNEL_PGD_BOUNDARY; i < PTRS_PER_PGD && !err; i++) {
		uint64_t e;
		err = pg_entry_read(&kernel_ctx, root, top, i, &e);
		if (!err)
			err = pg_entry_write(&kernel_ctx, tpgd, top, i, e);
	}
	return err;
}

/* Change the rights of the direct map's [va, va + size) (Linux's set_memory_*), flushing every CPU. */
static int set_memory_prot(uint64_t va, uint64_t size, uint64_t set, uint64_t clear)
{
	struct pg_flush flush;

	pg_flush_init(&flush);
	int err = pg_protect(&kernel_ctx, __pa_symbol(init_top_pgt), va, va + size, set, clear, 0, &flush);
	if (flush.pages)
		flush_tlb_kernel_range(flush.start, flush.end);
	return err;
}

/* Text r-x, everything else RW NX (Linux's set_real_mode_permissions). */
static int set_real_mode_permissions(void)
{
	uint64_t base = (uint64_t)(uintptr_t)__va(real_mode_base);
	uint64_t ro_end = (real_mode_header->ro_end + PAGE_SIZE - 1) & PAGE_MASK;
	uint64_t text = (uint64_t)(uintptr_t)__va(real_mode_header->text_start);
	int err = set_memory_prot(base, REAL_MODE_SIZE, PTE_NX, 0);

	if (!err)
		err = set_memory_prot(base, ro_end - real_mode_base, 0, PTE_W);
	if (!err)
		err = set_memory_prot(text, ro_end - real_mode_header->text_start, 0, PTE_NX);
	return err;
}

int init_real_mode(void)
{
	int err;

	if (!real_mode_base) {
		printk("ptlab: no RAM below 1 MiB for the real-mode trampoline: one CPU\n");
		return -1;
	}
	err = init_trampoline();
	if (!err)
		err = setup_real_mode();
	if (!err)
		err = set_real_mode_permissions();
	if (err) {
		printk("ptlab: the real-mode trampoline: %s; one CPU\n", pg_strerror(err));
		return -1;
	}
	return 0;
}

static int print_identity_range(void *arg, const struct pg_range *r)
{
	(void)arg;
	stage_printk("    0x%016llx-0x%016llx -> 0x%llx %c%c%c%s\n", (unsigned long long)r->start,
		     (unsigned long long)(r->start + r->size), (unsigned long long)r->pa, 'r',
		     (r->eff & PTE_W) ? 'w' : '-', (r->eff & PTE_NX) ? '-' : 'x',
		     r->start <= real_mode_header->text_start && real_mode_header->text_start < r->start + r->size
			     ? "  (trampoline text)" : "");
	return 0;
}

void report_trampoline_pgd(void)
{
	phys_addr_t tpgd = real_mode_header->trampoline_pgd;
	const uint64_t *t = __va(tpgd);
	struct trampoline_header *th = trampoline_header_va();

	stage_printk("  real_mode_header at 0x%llx: text_start 0x%x, ro_end 0x%x, trampoline_start 0x%x,\n"
		     "    trampoline_header 0x%x, trampoline_pgd 0x%x\n",
		     (unsigned long long)__pa(real_mode_header), real_mode_header->text_start, real_mode_header->ro_end,
		     real_mode_header->trampoline_start, real_mode_header->trampoline_header,
		     real_mode_header->trampoline_pgd);
	stage_printk("  trampoline_header: start 0x%016llx (secondary_startup_64), efer 0x%llx, cr4 0x%x\n",
		     (unsigned long long)th->start, (unsigned long long)th->efer, th->cr4);
	stage_printk("  trampoline_pgd at 0x%llx (%u-level), the CR3 of an AP in the trampoline:\n",
		     (unsigned long long)tpgd, kernel_ctx.levels);
	stage_printk("    [%3u] = 0x%016llx  trampoline_pgd_entry: low memory at VA = PA\n", 0,
		     (unsigned long long)t[0]);
	for (unsigned int i = KERNEL_PGD_BOUNDARY, j; i < PTRS_PER_PGD; i = j) {
		for (j = i; j < PTRS_PER_PGD && t[j]; j++)
			;
		if (j == i) { /* an empty slot */
			j++;
			continue;
		}
		if (j - i == 1)
			stage_printk("    [%3u] = 0x%016llx  = init_top_pgt[%u]\n", i, (unsigned long long)t[i], i);
		else
			stage_printk("    [%3u..%3u] = init_top_pgt[%u..%u] (%u entries, the first 0x%016llx)\n", i,
				     j - 1, i, j - 1, j - i, (unsigned long long)t[i]);
	}
	stage_printk("  what trampoline_pgd[0] maps below 1 MiB (VA -> PA, rights):\n");
	struct pg_iter_opts opts = { .start = 0, .end = 0x100000, .merge = PG_MERGE_RIGHTS,
				     .flags = PG_ITER_PHYS_CONTIG };
	int err = pg_iterate(&kernel_ctx, tpgd, &opts, print_identity_range, 0);
	if (err)
		stage_printk("    error: %s\n", pg_strerror(err));
}
