/*
 * cpu_entry_area.c: the fixed-address area each CPU's entries go through
 * under page-table isolation (Linux: arch/x86/mm/cpu_entry_area.c; layout
 * in asm/cpu_entry_area.h and docs/memlayout.md).
 *
 * Each page is mapped twice, in swapper_pg_dir and in its user twin, so that
 * every kernel PGD and every user PGD (pgd_alloc copies both halves' kernel
 * parts) has the same area. The stacks live in cea_storage, the GDT and
 * the TSS page in the CPU's struct pcpu.
 * Depends on: lib/paging, asm/pti.h (the user twin).
 */
#include <asm/console.h>
#include <asm/cpu_entry_area.h>
#include <asm/cpufeature.h>
#include <asm/mmu_context.h>
#include <asm/percpu.h>
#include <asm/pti.h>
#include <asm/traps.h>

/* The stacks of each CPU's area (Linux's entry_stack_storage and exception stacks). */
struct cea_stacks {
	uint8_t entry_stack[PAGE_SIZE];
	uint8_t df_stack[EXCEPTION_STKSZ];
} __attribute__((aligned(4096)));

static struct cea_stacks cea_storage[NR_CPUS];

/*
 * Map va to pa with prot (PAGE_KERNEL*) in both halves. The area is mapped
 * by every kernel and user PGD alike, so its pages are global even under PTI
 * (as Linux's cea_set_pte), when the CPU has PGE.
 */
void cea_set_pte(uint64_t va, phys_addr_t pa, uint64_t prot)
{
	if (boot_cpu_data.pge && (prot & PTE_P))
		prot |= PTE_G;
	int err = pg_map(&kernel_ctx, __pa_symbol(init_top_pgt), va, va + PAGE_SIZE, pa, prot, PG_MASK_4K,
			 PG_MAP_REPLACE, 0);
	if (err)
		panic("cpu_entry_area: mapping 0x%016llx: %s", (unsigned long long)va, pg_strerror(err));
	pti_clone_kernel_page(va, pa, prot);
}

static void setup_cpu_entry_area(unsigned int cpu)
{
	struct pcpu *p = &per_cpu_area[cpu];
	uint64_t tss = (uint64_t)(uintptr_t)&p->cpu_tss_rw;

	cea_set_pte(cea_page(cpu, CEA_GDT), __pa_symbol(p->gdt_page), PAGE_KERNEL_RO);
	cea_set_pte(cea_page(cpu, CEA_ENTRY_STACK), __pa_symbol(cea_storage[cpu].entry_stack), PAGE_KERNEL);
	cea_set_pte(cea_page(cpu, CEA_TSS), __pa_symbol(tss), PAGE_KERNEL);
	cea_set_pte(cea_page(cpu, CEA_DF_STACK), __pa_symbol(cea_storage[cpu].df_stack), PAGE_KERNEL);
	/* The entry code reaches the TSS page through %gs, its per-CPU address, before switching CR3. */
	pti_clone_kernel_page(tss, __pa_symbol(tss), PAGE_KERNEL);
}

void setup_cpu_entry_areas(void)
{
	idt_map_in_cea();
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++)
		setup_cpu_entry_area(cpu);
}
