/*
 * vmalloc.h: the vmalloc area (mm/vmalloc.c; docs/memlayout.md): virtually
 * contiguous kernel memory made of separate pages, and the room ioremap
 * maps device memory in, at [VMALLOC_START, VMALLOC_END).
 *
 * Every area is followed by an unmapped guard page (unless VM_NO_GUARD), so
 * running off its end faults instead of corrupting the next area; process
 * kernel stacks live here for that reason (Linux's VMAP_STACK). Areas are
 * placed at the lowest free address that fits. The page tables of the area
 * are never freed and its top-level entries are populated at boot
 * (vmalloc_init), so every process's top table sees every area.
 * One CPU: no locking yet (an SMP kernel needs a lock around the area list).
 */
#ifndef LINUX_VMALLOC_H
#define LINUX_VMALLOC_H

#include <asm/pgtable_types.h>
#include <stdbool.h>
#include <stdint.h>

/* vm_struct.flags (Linux's values). */
#define VM_IOREMAP  0x1u  /* ioremap: device memory, no pages of ours */
#define VM_ALLOC    0x2u  /* vmalloc: pages from the page allocator */
#define VM_NO_GUARD 0x40u /* no guard page after the area */

/*
 * struct vm_struct - one area.
 * addr, size   [addr, addr + size), the guard page included
 * nr_pages     VM_ALLOC: pages mapped
 * phys_addr    VM_IOREMAP: the physical address mapped at addr
 * caller       who asked (for `layout` and the reports)
 */
struct vm_struct {
	uint64_t addr, size;
	unsigned int flags;
	unsigned int nr_pages;
	uint64_t phys_addr;
	const char *caller;
};

/* The size without the guard page. */
static inline uint64_t get_vm_area_size(const struct vm_struct *area)
{
	return (area->flags & VM_NO_GUARD) ? area->size : area->size - 4096;
}

/* Populate the area's top-level entries and print the [vmalloc_init] block. */
void vmalloc_init(void);

/*
 * __vmalloc_node_range - size bytes (rounded up to pages) of fresh pages,
 * mapped with prot (canonical, e.g. PAGE_KERNEL) at an address aligned to
 * align (a power of two, at least 4 KiB), followed by a guard page. Not
 * zeroed. returns: the address, or NULL (no area, no page or no table page).
 */
void *__vmalloc_node_range(uint64_t size, uint64_t align, uint64_t prot, const char *caller);
/* vmalloc / vzalloc: the same with PAGE_KERNEL, page aligned, named after the calling function; vzalloc zeroes. */
#define vmalloc(size) __vmalloc_node_range((size), 4096, PAGE_KERNEL, __func__)
#define vzalloc(size) vzalloc_caller((size), __func__)
void *vzalloc_caller(uint64_t size, const char *caller);
/*
 * vfree - unmap a vmalloc area (the TLB flushed for its range) and give its
 * pages back; its page tables stay. NULL is ignored; any other address that
 * does not start a vmalloc area panics.
 */
void vfree(const void *addr);

/*
 * get_vm_area_caller - reserve an area of size bytes (plus the guard page)
 * with flags, nothing mapped yet. VM_IOREMAP areas are aligned to their size
 * rounded up to a power of two, between 4 KiB and 1 GiB (Linux's
 * IOREMAP_MAX_ORDER), so that large pages can map them.
 * returns: the area, or NULL when nothing fits or every slot is taken.
 */
struct vm_struct *get_vm_area_caller(uint64_t size, unsigned int flags, const char *caller);
/* The area that starts at addr, or NULL. */
struct vm_struct *find_vm_area(const void *addr);
/*
 * remove_vm_area - unmap whatever is mapped in area (tables kept, TLB
 * flushed for the range) and free the area; its pages are the caller's.
 */
void remove_vm_area(struct vm_struct *area);

/*
 * vmap_range - map [addr, end) of a reserved area to phys with prot, in pages
 * of page_size_mask (PG_MASK_*), the kernel's tables edited under the vmalloc
 * lock. returns: 0 or a lib/paging error.
 */
int vmap_range(uint64_t addr, uint64_t end, phys_addr_t phys, uint64_t prot, unsigned int page_size_mask);

/* The struct page mapped at a vmalloc address (a walk of the kernel's tables). NULL if none. */
struct page *vmalloc_to_page(const void *addr);

/* Whether addr is in [VMALLOC_START, VMALLOC_END). */
bool is_vmalloc_addr(const void *addr);

/*
 * for_each_vm_area - call fn(arg, area) for every area in address order.
 * returns: the number of areas.
 */
unsigned int for_each_vm_area(void (*fn)(void *arg, const struct vm_struct *area), void *arg);

/* Totals: areas in use, pages vmalloc holds, bytes ioremap maps; top-level entries populated at boot. */
struct vmalloc_stats {
	unsigned int areas, ioremaps;
	uint64_t pages, ioremap_bytes;
	unsigned int top_entries;
};
void vmalloc_get_stats(struct vmalloc_stats *st);

#endif /* LINUX_VMALLOC_H */
