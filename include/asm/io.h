/*
 * io.h: mapping device memory into the kernel (arch/x86/mm/ioremap.c;
 * Linux's ioremap family).
 *
 * Device memory is not in the direct map (only RAM is): a driver maps it
 * after boot into the vmalloc area with the memory type the device needs,
 * selected through PAT/PCD/PWT (asm/memtype.h). Large, aligned regions get
 * 2 MiB or 1 GiB pages. RAM is refused (it is in the direct map already).
 * The local APIC is not mapped this way: it has a fixed slot (asm/fixmap.h).
 * Each area is named after the function that mapped it.
 */
#ifndef ASM_IO_H
#define ASM_IO_H

#include <asm/memtype.h>
#include <paging/pgtable.h>

/*
 * __ioremap_caller - map [phys, phys + size) with memory type pcm.
 * returns: the virtual address of phys (its offset in the page kept), or
 * NULL (size 0 or wrapping, beyond MAXPHYADDR, RAM, no room, no table page).
 */
void *__ioremap_caller(phys_addr_t phys, uint64_t size, enum page_cache_mode pcm, const char *caller);

/* ioremap: UC- (registers); ioremap_wc: write-combining (framebuffers); ioremap_cache: WB (tables in ROM or reserved RAM). */
#define ioremap(phys, size)       __ioremap_caller((phys), (size), _PAGE_CACHE_MODE_UC_MINUS, __func__)
#define ioremap_wc(phys, size)    __ioremap_caller((phys), (size), _PAGE_CACHE_MODE_WC, __func__)
#define ioremap_cache(phys, size) __ioremap_caller((phys), (size), _PAGE_CACHE_MODE_WB, __func__)

/*
 * iounmap - unmap what an ioremap returned (any address inside its first
 * page): the range is unmapped, the TLB flushed for it, the area freed.
 * An address ioremap did not return is reported and ignored.
 */
void iounmap(volatile void *addr);

#endif /* ASM_IO_H */
