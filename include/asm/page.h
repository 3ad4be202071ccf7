/*
 * page.h: PAGE_OFFSET and the kernel's address conversions.
 *
 * page_offset_base is where the direct map starts: 0xffff888000000000 (pgd
 * 273, Linux 4.20+), or 0xffff880000000000 (pgd 272, Linux 4.7) with
 * `layout=4.7`; with 5-level paging 0xff11000000000000 (PML5 273)
 * (docs/memlayout.md). __pa() is Linux's __phys_addr_nodebug: an address at
 * or above __START_KERNEL_map is in the kernel image (phys_base applies), any
 * other in the direct map.
 */
#ifndef ASM_PAGE_H
#define ASM_PAGE_H

#include <asm/page_64_types.h>
#include <paging/pgtable.h>
#include <stdbool.h>
#include <stdint.h>

#define PAGE_OFFSET_L4     0xffff888000000000ULL
#define PAGE_OFFSET_L4_OLD 0xffff880000000000ULL /* layout=4.7 */
#define PAGE_OFFSET_L5     0xff11000000000000ULL /* pgd (PML5) 273 */

/* 5-level paging in use (CR4.LA57), as Linux's __pgtable_l5_enabled. */
extern bool pgtable_l5_enabled;
/* The most physical memory the direct map can hold: 2^46 (4-level), 2^52 (5-level). */
#define MAXMEM (pgtable_l5_enabled ? (1ULL << 52) : (1ULL << MAX_PHYSMEM_BITS))

extern uint64_t page_offset_base;
extern uint64_t phys_base;
#define PAGE_OFFSET page_offset_base

static inline void *__va(phys_addr_t pa)
{
	return (void *)(uintptr_t)(pa + page_offset_base);
}

/* Which branch of __phys_addr_nodebug an address takes. */
static inline int phys_addr_is_kernel_image(uint64_t x)
{
	return x - __START_KERNEL_map < x; /* x >= __START_KERNEL_map, as the carry flag says */
}

static inline phys_addr_t __phys_addr_nodebug(uint64_t x)
{
	uint64_t y = x - __START_KERNEL_map;

	/* no wrap (x > y): x is in the kernel image; a wrap: x is in the direct map */
	return y + ((x > y) ? phys_base : (__START_KERNEL_map - page_offset_base));
}

#define __pa(x)        __phys_addr_nodebug((uint64_t)(uintptr_t)(x))
#define __pa_symbol(x) ((uint64_t)(uintptr_t)(x) - __START_KERNEL_map + phys_base)

#endif /* ASM_PAGE_H */
