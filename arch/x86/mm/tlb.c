/*
 * tlb.c: switch_mm with PCID (Linux: arch/x86/mm/tlb.c): CR3 switching,
 * context_switch -> switch_mm_irqs_off -> load_new_mm_cr3 -> build_cr3 -> __pa
 * (docs/linux.md, "Per-process PGDs, PTI and PCID").
 *
 * With PCID, cpu_tlbstate.ctxs[] remembers which mm (ctx_id) each of the
 * TLB_NR_DYN_ASIDS dynamic ASIDs last held and up to which tlb_gen its TLB
 * entries are current. choose_new_asid reuses the ASID of next's ctx_id
 * (flushing only if a change to next's tables happened while it was not
 * loaded) or takes the next slot round-robin (flushing what the previous
 * owner left). CR3 = __pa(pgd) | (ASID + 1), with bit 63 set when no flush
 * is needed. Without PCID every switch is a plain CR3 load (a full flush of
 * non-global entries). Kernel mappings are global either way.
 */
#include <asm/console.h>
#include <asm/cpufeature.h>
#include <asm/mmu_context.h>
#include <asm/processor.h>
#include <asm/sections.h>
#include <lib/cmdline.h>
#include <linux/sched.h>

struct tlb_state cpu_tlbstate;
struct switch_stats switch_stats;
bool pcid_enabled;
static uint64_t last_ctx_id;

uint64_t new_ctx_id(void)
{
	return ++last_ctx_id;
}

uint64_t build_cr3(const uint64_t *pgd, uint16_t asid)
{
	uint64_t cr3 = __pa(pgd);

	if (pcid_enabled)
		cr3 |= kern_pcid(asid);
	return cr3;
}

static uint64_t build_cr3_noflush(const uint64_t *pgd, uint16_t asid)
{
	return build_cr3(pgd, asid) | CR3_NOFLUSH;
}

static void choose_new_asid(struct mm_struct *next, uint64_t next_tlb_gen, uint16_t *new_asid, bool *need_flush)
{
	if (!pcid_enabled) {
		*new_asid = 0;
		*need_flush = true;
		return;
	}
	for (uint16_t asid = 0; asid < TLB_NR_DYN_ASIDS; asid++) {
		if (cpu_tlbstate.ctxs[asid].ctx_id != next->context.ctx_id)
			continue;
		*new_asid = asid;
		*need_flush = cpu_tlbstate.ctxs[asid].tlb_gen < next_tlb_gen;
		switch_stats.asid_reuse++;
		return;
	}
	*new_asid = cpu_tlbstate.next_asid++;
	if (cpu_tlbstate.next_asid >= TLB_NR_DYN_ASIDS)
		cpu_tlbstate.next_asid = 0;
	*need_flush = true;
	switch_stats.asid_new++;
}

static void load_new_mm_cr3(uint64_t *pgdir, uint16_t new_asid, bool need_flush)
{
	uint64_t new_mm_cr3 = need_flush ? build_cr3(pgdir, new_asid) : build_cr3_noflush(pgdir, new_asid);

	if ((read_cr3() & ~CR3_NOFLUSH) == (new_mm_cr3 & ~CR3_NOFLUSH))
		switch_stats.cr3_same++;
	write_cr3(new_mm_cr3);
	switch_stats.cr3_loads++;
	if (need_flush)
		switch_stats.flushing++;
	else
		switch_stats.noflush++;
}

void switch_mm_irqs_off(struct mm_struct *prev, struct mm_struct *next, struct task_struct *tsk)
{
	(void)tsk;
	(void)prev;
	if (cpu_tlbstate.loaded_mm == next) {
		switch_stats.same_mm++;
		return;
	}
	uint64_t next_tlb_gen = next->context.tlb_gen;
	uint16_t new_asid;
	bool need_flush;

	choose_new_asid(next, next_tlb_gen, &new_asid, &need_flush);
	if (pcid_enabled) {
		cpu_tlbstate.ctxs[new_asid].ctx_id = next->context.ctx_id;
		cpu_tlbstate.ctxs[new_asid].tlb_gen = next_tlb_gen;
	}
	load_new_mm_cr3(next->pgd, new_asid, need_flush);
	cpu_tlbstate.loaded_mm = next;
	cpu_tlbstate.loaded_mm_asid = new_asid;
}

int mm_asid(const struct mm_struct *mm)
{
	if (!pcid_enabled)
		return -1;
	for (int asid = 0; asid < TLB_NR_DYN_ASIDS; asid++)
		if (cpu_tlbstate.ctxs[asid].ctx_id == mm->context.ctx_id)
			return asid;
	return -1;
}

void flush_tlb_mm_range(struct mm_struct *mm, const struct pg_flush *f)
{
	if (!f->pages && !f->tables_freed)
		return;
	mm->context.tlb_gen++;
	if (cpu_tlbstate.loaded_mm != mm)
		return; /* the next switch to mm sees the stale tlb_gen and flushes */
	if (flush_tlb_by_page(f))
		flush_tlb_range(f);
	else
		write_cr3(read_cr3()); /* the loaded ASID's non-global entries: user pages are never global */
	if (pcid_enabled)
		cpu_tlbstate.ctxs[cpu_tlbstate.loaded_mm_asid].tlb_gen = mm->context.tlb_gen;
}

/* What one CPU flushes for flush_tlb_kernel_range (Linux's flush_tlb_info). */
struct flush_tlb_info {
	uint64_t start, end;
};

/* The local flush: INVLPG page by page for a short range (global entries go too), else everything. */
static void do_kernel_range_flush(const struct flush_tlb_info *info)
{
	struct pg_flush f = { .start = info->start, .end = info->end, .pages = (info->end - info->start) >> PAGE_SHIFT };

	flush_tlb_range(&f);
}

void flush_tlb_kernel_range(uint64_t start, uint64_t end)
{
	struct flush_tlb_info info = { .start = start, .end = end };

	if (start == end)
		return;
	do_kernel_range_flush(&info); /* this CPU; an SMP kernel runs it on every CPU */
}

void init_pcid(void)
{
	init_mm.context.ctx_id = new_ctx_id();
	cpu_tlbstate.loaded_mm = &init_mm;
	/* As Linux: no PCID without PGE, or INVLPG would miss the kernel's entries of other PCIDs. */
	if (boot_cpu_data.pcid && boot_cpu_data.pge && !cmdline_has_word(boot_command_line, "nopcid")) {
		/* CR4.PCIDE may be set only while CR3[11:0] = 0: CR3 is swapper_pg_dir, PCID 0. */
		write_cr3(__pa_symbol(swapper_pg_dir));
		write_cr4(read_cr4() | X86_CR4_PCIDE);
		pcid_enabled = true;
		cpu_tlbstate.ctxs[0].ctx_id = init_mm.context.ctx_id;
		cpu_tlbstate.ctxs[0].tlb_gen = init_mm.context.tlb_gen;
		cpu_tlbstate.loaded_mm_asid = 0;
		cpu_tlbstate.next_asid = 1;
		write_cr3(build_cr3(swapper_pg_dir, 0)); /* init_mm on ASID 0, PCID 1 */
	}
}
