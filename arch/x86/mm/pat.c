/*
 * pat.c: IA32_PAT and the cache bits of a memory type (see asm/memtype.h;
 * Linux's arch/x86/mm/pat/memtype.c, cpu/cacheinfo.c).
 *
 * IA32_PAT may only change with the caches disabled and flushed (Intel SDM
 * Vol. 3A, 12.12.4): CR0.CD set, WBINVD, TLB flush, WRMSR, WBINVD, TLB
 * flush, CR0.CD clear. The kernel's own mappings use entry 0, WB in the old
 * and the new value alike.
 */
#include <asm/cpufeature.h>
#include <asm/memtype.h>
#include <asm/pgtable.h>
#include <asm/processor.h>

bool pat_enabled;

static void write_cr0(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}

void pat_cpu_init(void)
{
	uint64_t cr0 = read_cr0();
	write_cr0((cr0 | X86_CR0_CD) & ~(uint64_t)X86_CR0_NW);
	__asm__ volatile("wbinvd" ::: "memory");
	__flush_tlb_all();
	wrmsr(PG_MSR_PAT, PAT_LINUX);
	__asm__ volatile("wbinvd" ::: "memory");
	__flush_tlb_all();
	write_cr0(cr0);
}

void pat_init(void)
{
	if (!boot_cpu_data.pat)
		return;
	pat_cpu_init();
	pat_enabled = true;
}

uint64_t pat_value(void)
{
	return pat_enabled ? PAT_LINUX : PG_PAT_RESET;
}

uint64_t cachemode2protval(enum page_cache_mode pcm)
{
	uint64_t prot;
	/* Without PAT only PCD and PWT count: the lower four entries. */
	if (pg_pat_prot(pat_value(), pcm, pat_enabled ? 8 : 4, &prot) == 0)
		return prot;
	pg_pat_prot(pat_value(), _PAGE_CACHE_MODE_UC_MINUS, 4, &prot);
	return prot;
}

const char *mem_type_name(unsigned int t)
{
	static const char *const names[8] = { [PG_MT_UC] = "UC", [PG_MT_WC] = "WC", [PG_MT_WT] = "WT",
		[PG_MT_WP] = "WP", [PG_MT_WB] = "WB", [PG_MT_UC_MINUS] = "UC-" };
	return t < 8 && names[t] ? names[t] : "??";
}

const char *pat_msg(char buf[PAT_MSG_SIZE])
{
	for (unsigned int i = 0; i < 8; i++) {
		const char *n = mem_type_name((unsigned int)(pat_value() >> (8 * i)) & 7);
		size_t len = strlen(n);
		memcpy(buf + 4 * i, n, len);
		memset(buf + 4 * i + len, ' ', 4 - len);
	}
	buf[32] = '\0';
	return buf;
}
