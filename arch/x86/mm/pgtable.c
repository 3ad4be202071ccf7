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
 * Under page-table isolation (asm/pti.h) it takes an 8 KiB-aligned pair
 * (PGD_ALLOCATION_ORDER 1): the kernel PGD, and at +4096 the user PGD, whose
 * kernel part is copied from swapper_pg_dir's user twin (the entry text and
 * the cpu_entry_areas); the mm's pg_ctx then mirrors every user-half
 * top-level entry into the user PGD (pg_pti_set_user_pgtbl).
 *
 * Also the fixmap's setter (asm/fixmap.h): its slots are in tables under
 * top-level slot 511, which every process shares, so a slot set after a
 * process was created is seen there too.
 */
#include <asm/console.h>
#include <asm/fixmap.h>
#include <asm/mmu_context.h>
#include <asm/pti.h>
#include <asm/sections.h>
#include <linux/spinlock.h>
#include <paging/vmap.h>

uint64_t nr_pgds;

/* Copy count top-level entries (Linux's clone_pgd_range). */
static void clone_pgd_range(uint64_t *dst, const uint64_t *src, unsigned int count)
{
	memcpy(dst, src, count * sizeof(*dst));
}

/* 1 (an 8 KiB pair) under PTI, else 0 (Linux's PGD_ALLOCATION_ORDER). */
static unsigned int pgd_allocation_order(void)
{
	return pti_enabled ? 1 : 0;
}

static void pgd_ctor(struct mm_struct *mm, uint64_t *pgd)
{
	clone_pgd_range(pgd + KERNEL_PGD_BOUNDARY, swapper_pg_dir + KERNEL_PGD_BOUNDARY, KERNEL_PGD_PTRS);
	if (!pti_enabled)
		return;
	clone_pgd_range(pgd + PTRS_PER_PGD + KERNEL_PGD_BOUNDARY, init_top_pgt_user + KERNEL_PGD_BOUNDARY,
			KERNEL_PGD_PTRS);
	mm->ctx.pti = true; /* lib/paging keeps the user half of the pair in step */
}

uint64_t *pgd_alloc(struct mm_struct *mm)
{
	unsigned int order = pgd_allocation_order();
	uint64_t *pgd = (uint64_t *)(uintptr_t)__get_free_pages(order);

	if (!pgd)
		return 0;
	memset(pgd, 0, PAGE_SIZE << order);
	pgd_ctor(mm, pgd);
	atomic_inc_return(&nr_pgds);
	/* page-table pages like the ones kernel_ctx allocates */
	__atomic_add_fetch(&kernel_table_pages, 1ULL << order, __ATOMIC_SEQ_CST);
	return pgd;
}

void pgd_free(struct mm_struct *mm, uint64_t *pgd)
{
	unsigned int order = mm->ctx.pti ? 1 : 0;

	atomic_dec_return(&nr_pgds);
	__atomic_sub_fetch(&kernel_table_pages, 1ULL << order, __ATOMIC_SEQ_CST);
	free_pages_addr((uint64_t)(uintptr_t)pgd, order);
}

void __set_fixmap(enum fixed_addresses idx, phys_addr_t phys, uint64_t prot)
{
	uint64_t va = fix_to_virt(idx);
	int err;

	if (idx >= __end_of_permanent_fixed_addresses)
		panic("__set_fixmap: slot %d out of range", (int)idx);
	/* pg_unmap_keep_tables: the fixmap's page tables are head_64.S's and must stay. */
	if (prot)
		err = pg_map(&kernel_ctx, __pa_symbol(init_top_pgt), va, va + PAGE_SIZE, phys, prot, PG_MASK_4K,
			     PG_MAP_REPLACE, 0);
	else
		err = pg_unmap_keep_tables(&kernel_ctx, __pa_symbol(init_top_pgt), va, va + PAGE_SIZE, 0);
	if (err)
		panic("__set_fixmap: slot %d at 0x%016llx: %s", (int)idx, (unsigned long long)va, pg_strerror(err));
	flush_tlb_kernel_range(va, va + PAGE_SIZE); /* every CPU may hold the old slot */
}
