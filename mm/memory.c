/*
 * memory.c: user memory of processes (Linux: mm/memory.c, mm/mmap.c).
 *
 * Areas (struct vm_area_struct) say which user addresses exist and with
 * which rights; pages are put in only when touched (handle_mm_fault):
 *   not present, in an area   -> do_anonymous_page: a zeroed page, mapped
 *                                with the area's rights
 *   write to a read-only page
 *   of a writable area        -> do_wp_page: copy-on-write after fork (the
 *                                last user of a page just gets W back)
 *   anything else             -> -EFAULT / -EACCES (the caller kills)
 * Every table change goes through lib/paging with the mm's own pg_ctx.
 * Depends on: linux/mm_types.h, asm/mmu_context.h, the buddy allocator.
 */
#include <asm/console.h>
#include <asm/mmu_context.h>
#include <asm/traps.h>
#include <linux/mm_types.h>
#include <uapi/ptlab_unistd.h>

struct page *alloc_user_page(void)
{
	if (nr_free_pages() < USER_RESERVE_PAGES)
		return 0;
	uint64_t addr = get_zeroed_page();
	if (!addr)
		return 0;
	struct page *p = virt_to_page(addr);
	p->_refcount = 1;
	return p;
}

void put_page(struct page *p)
{
	uint32_t left = atomic_dec_return(&p->_refcount);
	if (left == 0xffffffffu)
		panic("put_page: page 0x%llx has no references", (unsigned long long)page_to_phys(p));
	if (left == 0)
		free_pages(p, 0);
}

struct vm_area_struct *find_vma(struct mm_struct *mm, uint64_t addr)
{
	for (unsigned int i = 0; i < mm->nr_vmas; i++)
		if (addr >= mm->vmas[i].vm_start && addr < mm->vmas[i].vm_end)
			return &mm->vmas[i];
	return 0;
}

int insert_vma(struct mm_struct *mm, uint64_t start, uint64_t end, unsigned int flags)
{
	if ((start | end) & (PAGE_SIZE - 1) || start >= end || end > TASK_SIZE_MAX)
		return -EINVAL;
	for (unsigned int i = 0; i < mm->nr_vmas; i++)
		if (start < mm->vmas[i].vm_end && mm->vmas[i].vm_start < end)
			return -EINVAL;
	if (mm->nr_vmas == NR_VMAS)
		return -ENOMEM;
	mm->vmas[mm->nr_vmas++] = (struct vm_area_struct){ start, end, flags };
	return 0;
}

uint64_t vma_page_prot(const struct vm_area_struct *vma)
{
	uint64_t prot = PTE_P | PTE_U | PTE_A;

	if (vma->vm_flags & VM_WRITE)
		prot |= PTE_W | PTE_D;
	if (!(vma->vm_flags & VM_EXEC))
		prot |= PTE_NX;
	return prot;
}

int errno_from_pg(int err)
{
	if (!err)
		return 0;
	return err == -PG_ENOMEM ? -ENOMEM : -EFAULT;
}

int map_user_page(struct mm_struct *mm, const struct vm_area_struct *vma, uint64_t va, struct page *page)
{
	int err = pg_map(&mm->ctx, __pa(mm->pgd), va, va + PAGE_SIZE, page_to_phys(page), vma_page_prot(vma),
			 PG_MASK_4K, 0, 0);
	if (err) {
		put_page(page);
		return errno_from_pg(err);
	}
	mm->rss++;
	return 0; /* a not-present entry became present: nothing cached to flush */
}

static int do_anonymous_page(struct mm_struct *mm, struct vm_area_struct *vma, uint64_t addr)
{
	struct page *page = alloc_user_page();
	if (!page)
		return -ENOMEM;
	return map_user_page(mm, vma, addr, page);
}

static int do_wp_page(struct mm_struct *mm, struct vm_area_struct *vma, uint64_t addr)
{
	struct pg_flush flush;
	phys_addr_t pa;
	int err = pg_translate(&mm->ctx, __pa(mm->pgd), addr, &pa, 0, 0);

	if (err)
		return -EFAULT;
	pg_flush_init(&flush);
	struct page *old = phys_to_page(pa & PAGE_MASK);
	if (old->_refcount == 1) {
		/* the last user of the page: it is ours, just writable again */
		err = pg_protect(&mm->ctx, __pa(mm->pgd), addr, addr + PAGE_SIZE, PTE_W | PTE_D, 0, 0, &flush);
	} else {
		struct page *page = alloc_user_page();
		if (!page)
			return -ENOMEM;
		memcpy(page_address(page), page_address(old), PAGE_SIZE);
		err = pg_map(&mm->ctx, __pa(mm->pgd), addr, addr + PAGE_SIZE, page_to_phys(page),
			     vma_page_prot(vma), PG_MASK_4K, PG_MAP_REPLACE, &flush);
		if (err)
			put_page(page);
		else
			put_page(old);
	}
	flush_tlb_mm_range(mm, &flush);
	return errno_from_pg(err);
}

/*
 * Another thread of mm may have served the same fault meanwhile (mmap_lock
 * is taken after the fault): the page is present now (want_write: and
 * writable), and the access just needs a retry.
 */
static bool fault_already_served(struct mm_struct *mm, uint64_t addr, bool want_write)
{
	uint64_t prot;

	if (pg_translate(&mm->ctx, __pa(mm->pgd), addr, 0, &prot, 0))
		return false;
	return !want_write || (prot & PTE_W);
}

static int __handle_mm_fault(struct mm_struct *mm, uint64_t addr, uint64_t error_code)
{
	struct vm_area_struct *vma = find_vma(mm, addr);

	addr &= PAGE_MASK;
	if (!vma)
		return -EFAULT;
	if ((error_code & X86_PF_WRITE) && !(vma->vm_flags & VM_WRITE))
		return -EACCES;
	if ((error_code & X86_PF_INSTR) && !(vma->vm_flags & VM_EXEC))
		return -EACCES;
	if (!(error_code & X86_PF_PROT))
		return fault_already_served(mm, addr, false) ? 0 : do_anonymous_page(mm, vma, addr);
	if (error_code & X86_PF_WRITE)
		return fault_already_served(mm, addr, true) ? 0 : do_wp_page(mm, vma, addr);
	return -EACCES;
}

int handle_mm_fault(struct mm_struct *mm, uint64_t addr, uint64_t error_code)
{
	spin_lock(&mm->mmap_lock);
	int r = __handle_mm_fault(mm, addr, error_code);
	spin_unlock(&mm->mmap_lock);
	return r;
}

struct zap_state {
	struct mm_struct *mm;
};

static int zap_one(void *arg, const struct pg_range *r)
{
	struct zap_state *z = arg;
	if (r->kind != PG_RANGE_MAPPED)
		return 0;
	for (uint64_t off = 0; off < r->size; off += PAGE_SIZE) {
		put_page(phys_to_page(r->pa + off));
		z->mm->rss--;
	}
	return 0;
}

int zap_page_range(struct mm_struct *mm, uint64_t start, uint64_t end)
{
	struct pg_iter_opts opts = { .start = start, .end = end, .merge = PG_MERGE_NONE };
	struct zap_state z = { mm };
	struct pg_flush flush;
	int err = pg_iterate(&mm->ctx, __pa(mm->pgd), &opts, zap_one, &z);

	if (err)
		return err;
	pg_flush_init(&flush);
	err = pg_unmap(&mm->ctx, __pa(mm->pgd), start, end, 0, &flush);
	flush_tlb_mm_range(mm, &flush);
	return err;
}
