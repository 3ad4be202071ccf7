/*
 * memtype.h: memory types through PAT (Linux's arch/x86/mm/pat/memtype.c
 * and the page_cache_mode of asm/pgtable_types.h).
 *
 * pat_init programs IA32_PAT as Linux does (WB WC UC- UC WB WP UC- WT), so
 * that a leaf selects WB with no cache bits, WC with PWT, UC- with PCD and
 * UC with PCD|PWT. cachemode2protval gives those bits from the PAT in force,
 * by lib/paging's rule (paging/pat.h); a type the PAT lacks (WC without PAT)
 * falls back to UC-, as in Linux.
 */
#ifndef ASM_MEMTYPE_H
#define ASM_MEMTYPE_H

#include <paging/pat.h>
#include <stdbool.h>

/* Linux's page_cache_mode, as the memory types they stand for. */
enum page_cache_mode {
	_PAGE_CACHE_MODE_WB = PG_MT_WB,
	_PAGE_CACHE_MODE_WC = PG_MT_WC,
	_PAGE_CACHE_MODE_UC_MINUS = PG_MT_UC_MINUS,
	_PAGE_CACHE_MODE_UC = PG_MT_UC,
	_PAGE_CACHE_MODE_WT = PG_MT_WT,
	_PAGE_CACHE_MODE_WP = PG_MT_WP,
};

/* Linux's PAT value: WB WC UC- UC WB WP UC- WT (entry 0 in the low byte). */
#define PAT_LINUX 0x0407050600070106ULL

/* On the boot CPU: program IA32_PAT with PAT_LINUX when the CPU has PAT; sets pat_enabled. */
void pat_init(void);
/*
 * Program this CPU's IA32_PAT with PAT_LINUX (the cache-disabled sequence of
 * the SDM). Every other CPU must run it, when pat_enabled, before it uses a
 * mapping with cache bits, as Linux's pat_ap_init.
 */
void pat_cpu_init(void);
/* Whether IA32_PAT holds PAT_LINUX (false: the CPU has no PAT; PCD/PWT select from the reset types). */
extern bool pat_enabled;
/* The PAT value in force: PAT_LINUX, or the reset value. */
uint64_t pat_value(void);
/* The cache bits (PTE_PWT, PTE_PCD, PTE_PAT_LARGE) that give memory type pcm. */
uint64_t cachemode2protval(enum page_cache_mode pcm);
/* Linux's "x86/PAT: Configuration [0-7]" text of the PAT in force ("WB  WC  UC- UC  ..."). */
#define PAT_MSG_SIZE 33
const char *pat_msg(char buf[PAT_MSG_SIZE]);
/* The name of memory type t: "WB", "WC", "UC-", "UC", "WT", "WP" ("??" otherwise). */
const char *mem_type_name(unsigned int t);

#endif /* ASM_MEMTYPE_H */
