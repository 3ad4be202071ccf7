/*
 * ioremap.c: device memory in the vmalloc area (see asm/io.h; Linux's
 * arch/x86/mm/ioremap.c, __ioremap_caller).
 *
 * The protection is Linux's PAGE_KERNEL_IO (RW, NX; global
 * unless page-table isolation is on: asm/pgtable_types.h)
 * plus the cache bits of the memory type; the area is aligned to its size
 * rounded up to a power of two, so that lib/paging's pg_map can use 2 MiB
 * or 1 GiB pages (as the CPU allows) where physical alignment allows too.
 */
#include <asm/console.h>
#include <asm/cpufeature.h>
#include <asm/io.h>
#include <asm/page.h>
#include <asm/pgtable.h>
#include <asm/sections.h>
#include <linux/memblock.h>
#include <linux/vmalloc.h>

/* Whether [start, end) holds RAM (memblock.memory). */
static bool ram_in_range(phys_addr_t start, phys_addr_t end)
{
	for (unsigned int i = 0; i < memblock.memory.cnt; i++) {
		const struct memblock_region *r = &memblock.memory.regions[i];
		if (r->base < end && start < r->base + r->size)
			return true;
	}
	return false;
}

void *__ioremap_caller(phys_addr_t phys, uint64_t size, enum page_cache_mode pcm, const char *caller)
{
	phys_addr_t last = phys + size - 1;

	if (!size || last < phys)
		return 0;
	if (last >> boot_cpu_data.phys_bits) {
		printk("ioremap: invalid physical address 0x%llx\n", (unsigned long long)last);
		return 0;
	}
	if (ram_in_range(phys, last + 1)) {
		printk("ioremap on RAM at 0x%llx - 0x%llx (%s)\n", (unsigned long long)phys, (unsigned long long)last,
		       caller);
		return 0;
	}
	uint64_t offset = phys & ~PAGE_MASK;
	phys &= PAGE_MASK;
	size = ((last + 1 + PAGE_SIZE - 1) & PAGE_MASK) - phys;
	struct vm_struct *area = get_vm_area_caller(size, VM_IOREMAP, caller);
	if (!area)
		return 0;
	area->phys_addr = phys;
	int err = vmap_range(area->addr, area->addr + size, phys, PAGE_KERNEL_IO | cachemode2protval(pcm),
			     page_size_mask);
	if (err) {
		printk("ioremap 0x%llx (%s): %s\n", (unsigned long long)phys, caller, pg_strerror(err));
		remove_vm_area(area);
		return 0;
	}
	return (void *)(uintptr_t)(area->addr + offset);
}

void iounmap(volatile void *addr)
{
	struct vm_struct *area = find_vm_area((const void *)((uintptr_t)addr & PAGE_MASK));

	if (!area || !(area->flags & VM_IOREMAP)) {
		printk("iounmap: bad address 0x%016llx\n", (unsigned long long)(uintptr_t)addr);
		return;
	}
	remove_vm_area(area);
}
