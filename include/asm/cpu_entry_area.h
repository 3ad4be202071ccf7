/*
 * cpu_entry_area.h: each CPU's entry area at a fixed address (Linux's
 * arch/x86/include/asm/cpu_entry_area.h, arch/x86/mm/cpu_entry_area.c;
 * docs/memlayout.md), built when page-table isolation is on.
 *
 * The area is what the CPU and the entry code touch while CR3 may still be
 * the user PGD: the IDT (one read-only page for all CPUs at
 * CPU_ENTRY_AREA_RO_IDT), and per CPU, from CPU_ENTRY_AREA_PER_CPU on, in
 * 4 KiB pages:
 *
 *   0  gdt          the CPU's GDT, read-only (the CPU loads GDTR with it)
 *   1  entry_stack  TSS.RSP0: where an entry from ring 3 lands
 *   2  tss          the TSS page (struct tss_struct), read-write (TR's base)
 *   3  guard
 *   4  df_stack     the #DF stack (IST 1)
 *   5  guard ... 7
 *
 * Each page is an alias of a page of the kernel image: the GDT and TSS are
 * the CPU's per-CPU pages (asm/percpu.h), the stacks are in cea_storage.
 * The kernel PGD maps the area, and so does every user PGD (pti.c).
 */
#ifndef ASM_CPU_ENTRY_AREA_H
#define ASM_CPU_ENTRY_AREA_H

#include <asm/pgtable_64_types.h>
#include <asm/pgtable_types.h>
#include <stdint.h>

#define CPU_ENTRY_AREA_RO_IDT   CPU_ENTRY_AREA_BASE
#define CPU_ENTRY_AREA_PER_CPU  (CPU_ENTRY_AREA_BASE + 4096)
#define CPU_ENTRY_AREA_SIZE     (8 * 4096ULL) /* per CPU */
#define CEA_GDT                 0
#define CEA_ENTRY_STACK         1
#define CEA_TSS                 2
#define CEA_DF_STACK            4

/* The address of page `page` (CEA_*) of cpu's area. */
static inline uint64_t cea_page(unsigned int cpu, unsigned int page)
{
	return CPU_ENTRY_AREA_PER_CPU + cpu * CPU_ENTRY_AREA_SIZE + page * 4096ULL;
}

/*
 * cea_set_pte - map the page at pa at va (in the area) with prot (PAGE_KERNEL*)
 * in swapper_pg_dir and its user twin, replacing what was there; global
 * (PTE_G added) when the CPU has PGE, even under PTI. Panics if the tables
 * cannot be built.
 */
void cea_set_pte(uint64_t va, uint64_t pa, uint64_t prot);

/*
 * setup_cpu_entry_areas - map the IDT page and every possible CPU's area in
 * the kernel PGD (swapper_pg_dir) and in its user twin. Only under PTI.
 * Panics if the tables cannot be built. returns: nothing.
 */
void setup_cpu_entry_areas(void);

#endif /* ASM_CPU_ENTRY_AREA_H */
