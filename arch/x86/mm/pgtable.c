/*
 * pgtable.c: a process's top table (Linux: arch/x86/mm/pgtable.c; docs/linux.md,
 * "Per-process PGDs, PTI and PCID").
 *
 *   mm_init -> mm_alloc_pgd -> pgd_alloc -> get_zeroed_page
 *                                        -> pgd_ctor -> clone_pgd_range
 *
 * pgd_alloc takes one zeroed page; pgd_ctor copies entries
 * KERNEL_PGD_BOUNDARY..511 of swapper_pg_dir (init_top_pgt) into it, so
 * every process shares the kernel's lower tables (direct map, kernel image,
 * fixmap); entries 0..KERNEL_PGD_BOUNDARY-1 stay empty for the user half.
 * (No PTI here: one 4 KiB page, not Linux's 8 KiB pair.)
 */
#include <asm/mmu_context.h>
#include <asm/sections.h>
#include <linux/spinlock.h>

uint64_t nr_pgds;

/* Copy count top-level entries (Linux's clone_pgd_range). */
static void clone_pgd_range(uint64_t *dst, const uint64_t *src, unsigned int count)
{
	memcpy(dst, src, count * sizeof(*dst));
}

static void pgd_ctor(struct mm_struct *mm, uint64_t *pgd)
{
	(void)mm;
	clone_pgd_range(pgd + KERNEL_PGD_BOUNDARY, swapper_pg_dir + KERNEL_PGD_BOUNDARY, KERNEL_PGD_PTRS);
}

uint64_t *pgd_alloc(struct mm_struct *mm)
{
	uint64_t *pgd = (uint64_t *)(uintptr_t)get_zeroed_page();

	if (!pgd)
		return 0;
	pgd_ctor(mm, pgd);
	atomic_inc_return(&nr_pgds);
	atomic_inc_return(&kernel_table_pages); /* a page-table page like the ones kernel_ctx allocates */
	return pgd;
}

void pgd_free(struct mm_struct *mm, uint64_t *pgd)
{
	(void)mm;
	atomic_dec_return(&nr_pgds);
	atomic_dec_return(&kernel_table_pages);
	free_page((uint64_t)(uintptr_t)pgd);
}
