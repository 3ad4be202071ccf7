/*
 * fixmap.h: compile-time virtual addresses for pages the kernel maps at run
 * time (Linux's arch/x86/include/asm/fixmap.h).
 *
 * Slot idx is the page at fix_to_virt(idx) = FIXADDR_TOP - idx * 4 KiB, in
 * the PTE pages head_64.S links under level2_fixmap_pgt[506..507]
 * ([0xffffffffff400000, 0xffffffffff800000), top-level slot 511, shared by
 * every process). The slots are numbered as in Linux 6.1 (x86-64, the
 * vsyscall page and the OHCI-1394 slot configured), so FIX_APIC_BASE is
 * where Linux has it: 0xffffffffff5fc000.
 */
#ifndef ASM_FIXMAP_H
#define ASM_FIXMAP_H

#include <asm/pgtable_types.h>

#define VSYSCALL_ADDR 0xffffffffff600000ULL
#define FIXADDR_TOP   0xffffffffff7ff000ULL /* round_up(VSYSCALL_ADDR + PAGE_SIZE, 2 MiB) - PAGE_SIZE */

enum fixed_addresses {
	VSYSCALL_PAGE = (FIXADDR_TOP - VSYSCALL_ADDR) >> 12, /* 511 (ptlab has no vsyscall page) */
	FIX_DBGP_BASE,
	FIX_EARLYCON_MEM_BASE,
	FIX_OHCI1394_BASE,
	FIX_APIC_BASE,      /* the local APIC's registers, uncached */
	FIX_IO_APIC_BASE_0, /* the first I/O APIC's */
	__end_of_permanent_fixed_addresses,
};

#define FIXADDR_SIZE  ((uint64_t)__end_of_permanent_fixed_addresses << PAGE_SHIFT)
#define FIXADDR_START (FIXADDR_TOP - FIXADDR_SIZE)

static inline uint64_t fix_to_virt(enum fixed_addresses idx)
{
	return FIXADDR_TOP - ((uint64_t)idx << PAGE_SHIFT);
}

/*
 * __set_fixmap - map slot idx to the page at phys with prot (canonical
 * leaf protection), replacing what was there, and flush the slot from the
 * TLB. phys 0 with prot 0 clears the slot (clear_fixmap). Panics if the
 * fixmap's page tables refuse it.
 */
void __set_fixmap(enum fixed_addresses idx, phys_addr_t phys, uint64_t prot);
#define set_fixmap_nocache(idx, phys) __set_fixmap((idx), (phys), PAGE_KERNEL_NOCACHE)
#define clear_fixmap(idx)             __set_fixmap((idx), 0, 0)

#endif /* ASM_FIXMAP_H */
