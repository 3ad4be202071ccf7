/*
 * pgtable.h (kernel): the kernel's view of its page tables through
 * lib/paging: the context whose callbacks reach table memory (kernel image
 * mapping, early #PF map, direct map) and allocate table pages (memblock at
 * boot, the page allocator after mem_init), plus the tables' roots.
 */
#ifndef ASM_PGTABLE_H
#define ASM_PGTABLE_H

#include <asm/pgtable_types.h>
#include <paging/paging.h>

/* Contexts: kernel_ctx links new tables with _PAGE_TABLE as Linux's
 * kernel_physical_mapping_init does; early_ctx serves early_make_pgtable. */
extern struct pg_ctx kernel_ctx;

/* The paging mode the CPU is in now: pg_mode_from_regs(CR0, CR4, EFER). */
unsigned int current_paging_mode(void);
/* The table CR3 points at now: pg_cr3_root in that mode (PCID and flag bits dropped). */
phys_addr_t current_root(void);

/* Set up kernel_ctx from CPUID (levels, MAXPHYADDR, NX, 1 GiB pages). */
void kernel_ctx_init(void);

/* Page-table pages handed out by kernel_alloc_table (all levels). */
extern uint64_t kernel_table_pages;

/* Flush: one page, or everything including global entries (CR4.PGE toggle). */
void flush_tlb_one(uint64_t va);
void __flush_tlb_all(void);
/* Flush what f says changed: INVLPG page by page when flush_tlb_by_page(f), else everything. */
void flush_tlb_range(const struct pg_flush *f);
/*
 * Whether f is cheaper to flush page by page: a few pages in a short span and
 * no table freed (a sparse change over a wide span, or freed paging-structure
 * entries, call for a whole flush instead).
 */
bool flush_tlb_by_page(const struct pg_flush *f);

/* The direct map is up (init_mem_mapping has switched CR3 to init_top_pgt). */
extern bool direct_map_ready;

void probe_page_size_mask(void);
extern unsigned int page_size_mask;
void init_mem_mapping(void);
void mark_rodata_ro(void);
/*
 * Linux's W+X check: the 4 KiB pages under root that are both writable and
 * executable (lib/paging's pg_count_wx over the whole address space).
 * Panics if a table cannot be read.
 */
uint64_t ptdump_count_wx(phys_addr_t root);

/* Direct-map statistics: bytes mapped with each page size (index: level 1..3). */
extern uint64_t direct_pages_bytes[4];

#endif /* ASM_PGTABLE_H */
