/*
 * vmalloc.c: the vmalloc area (see linux/vmalloc.h; Linux's mm/vmalloc.c).
 *
 * Areas are kept in a fixed table (no kmalloc here) and placed lowest-first
 * in [VMALLOC_START, VMALLOC_END), each followed by its guard page. vmalloc
 * maps one page at a time with lib/paging's pg_map on the kernel's tables
 * (PAGE_KERNEL: RW, NX; global unless PTI is on); vfree and iounmap unmap with
 * pg_unmap_keep_tables, which keeps every table (the top-level entries were
 * populated at boot and every process copied them), flush the TLB for the
 * range (flush_tlb_kernel_range) and only then free the pages.
 *
 * vmap_area_lock guards the area table and every edit of the kernel's tables
 * in the area (two CPUs mapping under one PMD would each add a PTE table). It
 * is dropped before a TLB flush, which waits for the other CPUs, and an area
 * goes back to the table only after its range has been flushed everywhere,
 * as Linux's free_vmap_area does.
 */
#include <asm/console.h>
#include <asm/memtype.h>
#include <asm/mmu_context.h>
#include <asm/pgtable.h>
#include <asm/pgtable_64_types.h>
#include <asm/sections.h>
#include <linux/mm.h>
#include <linux/spinlock.h>
#include <linux/vmalloc.h>
#include <paging/vmap.h>

#define NR_VM_AREAS     256
#define IOREMAP_MAX_ORDER PUD_SHIFT /* large ioremaps are aligned for 1 GiB pages at most */

static struct vm_struct vm_areas[NR_VM_AREAS];
static bool vm_used[NR_VM_AREAS];
static unsigned int vmalloc_top_entries;
static DEFINE_SPINLOCK(vmap_area_lock);

static phys_addr_t kernel_root(void)
{
	return __pa_symbol(init_top_pgt);
}

bool is_vmalloc_addr(const void *addr)
{
	uint64_t a = (uint64_t)(uintptr_t)addr;
	return a >= VMALLOC_START && a < VMALLOC_END;
}

/* The used area overlapping [start, start + size), or NULL. */
static struct vm_struct *overlapping_area(uint64_t start, uint64_t size)
{
	for (unsigned int i = 0; i < NR_VM_AREAS; i++)
		if (vm_used[i] && vm_areas[i].addr < start + size && start < vm_areas[i].addr + vm_areas[i].size)
			return &vm_areas[i];
	return 0;
}

static struct vm_struct *__alloc_vmap_area(uint64_t size, uint64_t align, unsigned int flags,
					   const char *caller);

/* Linux's alloc_vmap_area: the lowest aligned address where size bytes fit. Takes vmap_area_lock. */
static struct vm_struct *alloc_vmap_area(uint64_t size, uint64_t align, unsigned int flags, const char *caller)
{
	spin_lock(&vmap_area_lock);
	struct vm_struct *area = __alloc_vmap_area(size, align, flags, caller);
	spin_unlock(&vmap_area_lock);
	return area;
}

/* Give an area's slot back (its range unmapped and flushed already). */
static void free_vmap_area(struct vm_struct *area)
{
	spin_lock(&vmap_area_lock);
	vm_used[area - vm_areas] = false;
	spin_unlock(&vmap_area_lock);
}

/*
 * vmap_range - map [addr, end) of an area to phys with prot, in pages of
 * page_size_mask, under vmap_area_lock. returns: 0 or a lib/paging error.
 */
int vmap_range(uint64_t addr, uint64_t end, phys_addr_t phys, uint64_t prot, unsigned int page_size_mask)
{
	spin_lock(&vmap_area_lock);
	int err = pg_map(&kernel_ctx, kernel_root(), addr, end, phys, prot, page_size_mask, 0, 0);
	spin_unlock(&vmap_area_lock);
	return err;
}

static struct vm_struct *__alloc_vmap_area(uint64_t size, uint64_t align, unsigned int flags, const char *caller)
{
	unsigned int slot = 0;
	while (slot < NR_VM_AREAS && vm_used[slot])
		slot++;
	if (slot == NR_VM_AREAS || !size)
		return 0;
	uint64_t addr = (VMALLOC_START + align - 1) & ~(align - 1);
	for (struct vm_struct *busy; (busy = overlapping_area(addr, size)) != 0;)
		addr = (busy->addr + busy->size + align - 1) & ~(align - 1);
	if (addr + size > VMALLOC_END || addr + size < addr)
		return 0;
	vm_areas[slot] = (struct vm_struct){ .addr = addr, .size = size, .flags = flags, .caller = caller };
	vm_used[slot] = true;
	return &vm_areas[slot];
}

static uint64_t ioremap_align(uint64_t size)
{
	unsigned int order = PAGE_SHIFT;
	while (order < IOREMAP_MAX_ORDER && (1ULL << order) < size)
		order++;
	return 1ULL << order;
}

struct vm_struct *get_vm_area_caller(uint64_t size, unsigned int flags, const char *caller)
{
	uint64_t align = (flags & VM_IOREMAP) ? ioremap_align(size) : PAGE_SIZE;

	size = (size + PAGE_SIZE - 1) & PAGE_MASK;
	if (!(flags & VM_NO_GUARD))
		size += PAGE_SIZE;
	return alloc_vmap_area(size, align, flags, caller);
}

struct vm_struct *find_vm_area(const void *addr)
{
	for (unsigned int i = 0; i < NR_VM_AREAS; i++)
		if (vm_used[i] && vm_areas[i].addr == (uint64_t)(uintptr_t)addr)
			return &vm_areas[i];
	return 0;
}

/* Unmap [start, end) of the vmalloc area, tables kept, and flush it from the TLB. */
static void vunmap_range(uint64_t start, uint64_t end)
{
	struct pg_flush f;

	pg_flush_init(&f);
	spin_lock(&vmap_area_lock);
	int err = pg_unmap_keep_tables(&kernel_ctx, kernel_root(), start, end, &f);
	spin_unlock(&vmap_area_lock);
	if (err)
		panic("vunmap [0x%016llx-0x%016llx): %s", (unsigned long long)start, (unsigned long long)end,
		      pg_strerror(err));
	if (f.pages)
		flush_tlb_kernel_range(f.start, f.end);
}

void remove_vm_area(struct vm_struct *area)
{
	vunmap_range(area->addr, area->addr + get_vm_area_size(area));
	free_vmap_area(area);
}

struct page *vmalloc_to_page(const void *addr)
{
	phys_addr_t pa;
	if (pg_translate(&kernel_ctx, kernel_root(), (uint64_t)(uintptr_t)addr & PAGE_MASK, &pa, 0, 0))
		return 0;
	return pfn_valid(pa >> PAGE_SHIFT) ? phys_to_page(pa) : 0;
}

/* Unmap the first nr pages of area, flush, then give them back (64 at a time). */
static void vunmap_free_pages(struct vm_struct *area, unsigned int nr)
{
	struct page *pages[64];

	for (unsigned int done = 0; done < nr;) {
		unsigned int n = nr - done < 64 ? nr - done : 64;
		uint64_t start = area->addr + ((uint64_t)done << PAGE_SHIFT);
		for (unsigned int i = 0; i < n; i++)
			pages[i] = vmalloc_to_page((const void *)(uintptr_t)(start + ((uint64_t)i << PAGE_SHIFT)));
		vunmap_range(start, start + ((uint64_t)n << PAGE_SHIFT));
		for (unsigned int i = 0; i < n; i++)
			if (pages[i])
				free_pages(pages[i], 0);
		done += n;
	}
}

void *__vmalloc_node_range(uint64_t size, uint64_t align, uint64_t prot, const char *caller)
{
	size = (size + PAGE_SIZE - 1) & PAGE_MASK;
	if (align < PAGE_SIZE || (align & (align - 1)) || !size || (size >> PAGE_SHIFT) > nr_free_pages())
		return 0;
	struct vm_struct *area = alloc_vmap_area(size + PAGE_SIZE, align, VM_ALLOC, caller);
	if (!area)
		return 0;
	for (uint64_t off = 0; off < size; off += PAGE_SIZE) {
		struct page *page = alloc_pages(0);
		if (!page || vmap_range(area->addr + off, area->addr + off + PAGE_SIZE, page_to_phys(page), prot,
					PG_MASK_4K)) {
			if (page)
				free_pages(page, 0);
			vunmap_free_pages(area, area->nr_pages);
			free_vmap_area(area);
			return 0;
		}
		area->nr_pages++;
	}
	return (void *)(uintptr_t)area->addr;
}

void *vzalloc_caller(uint64_t size, const char *caller)
{
	void *p = __vmalloc_node_range(size, PAGE_SIZE, PAGE_KERNEL, caller);
	if (p)
		memset(p, 0, (size + PAGE_SIZE - 1) & PAGE_MASK);
	return p;
}

void vfree(const void *addr)
{
	if (!addr)
		return;
	struct vm_struct *area = find_vm_area(addr);
	if (!area || !(area->flags & VM_ALLOC))
		panic("vfree(0x%016llx): not a vmalloc area", (unsigned long long)(uintptr_t)addr);
	vunmap_free_pages(area, area->nr_pages);
	free_vmap_area(area);
}

unsigned int for_each_vm_area(void (*fn)(void *arg, const struct vm_struct *area), void *arg)
{
	unsigned int n = 0;
	uint64_t from = 0;

	for (;;) { /* ascending order without sorting the table: the next address up each time */
		const struct vm_struct *next = 0;
		for (unsigned int i = 0; i < NR_VM_AREAS; i++)
			if (vm_used[i] && vm_areas[i].addr >= from && (!next || vm_areas[i].addr < next->addr))
				next = &vm_areas[i];
		if (!next)
			return n;
		fn(arg, next);
		n++;
		from = next->addr + 1;
	}
}

void vmalloc_get_stats(struct vmalloc_stats *st)
{
	*st = (struct vmalloc_stats){ .top_entries = vmalloc_top_entries };
	for (unsigned int i = 0; i < NR_VM_AREAS; i++) {
		if (!vm_used[i])
			continue;
		st->areas++;
		st->pages += vm_areas[i].nr_pages;
		if (vm_areas[i].flags & VM_IOREMAP) {
			st->ioremaps++;
			st->ioremap_bytes += get_vm_area_size(&vm_areas[i]);
		}
	}
}

void vmalloc_init(void)
{
	unsigned int levels = kernel_ctx.levels;
	char pat[PAT_MSG_SIZE];

	/* Linux's preallocate_vmalloc_pages: the top-level entries must never change again. */
	int err = pg_populate_top(&kernel_ctx, kernel_root(), VMALLOC_START, VMALLOC_END, &vmalloc_top_entries);
	if (err)
		panic("vmalloc_init: populating the top-level entries: %s", pg_strerror(err));
	stage_begin("vmalloc_init", "the vmalloc area: kernel stacks, vmalloc, ioremap");
	stage_printk("  vmalloc area [0x%016llx-0x%016llx) %llu TiB, %s %d..%d: %u %s tables preallocated\n",
		     (unsigned long long)VMALLOC_START, (unsigned long long)VMALLOC_END,
		     (unsigned long long)VMALLOC_SIZE_TB, pg_level_linux_name(levels, (int)levels),
		     pg_va_index(levels, (int)levels, VMALLOC_START), pg_va_index(levels, (int)levels, VMALLOC_END - 1),
		     vmalloc_top_entries, pg_level_linux_name(levels, (int)levels - 1));
	stage_printk("  x86/PAT: Configuration [0-7]: %s\n", pat_msg(pat));
}
