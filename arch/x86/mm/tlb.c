/*
 * tlb.c: switch_mm with PCID, and TLB shootdowns (Linux: arch/x86/mm/tlb.c):
 * CR3 switching, context_switch -> switch_mm_irqs_off -> load_new_mm_cr3 ->
 * build_cr3 -> __pa (docs/linux.md, "Per-process PGDs, PTI and PCID"), and
 * flush_tlb_mm_range -> flush_tlb_multi -> flush_tlb_func (docs/smp.md).
 *
 * Each CPU has its own cpu_tlbstate (asm/percpu.h). With PCID, its ctxs[]
 * remember which mm (ctx_id) each of the TLB_NR_DYN_ASIDS dynamic ASIDs last
 * held and up to which tlb_gen its TLB entries are current. choose_new_asid
 * reuses the ASID of next's ctx_id (flushing only if a change to next's
 * tables happened while it was not loaded) or takes the next slot
 * round-robin (flushing what the previous owner left). CR3 = __pa(pgd) |
 * (ASID + 1), with bit 63 set when no flush is needed. Without PCID every
 * switch is a plain CR3 load (a full flush of non-global entries) on ASID 0.
 * Kernel mappings are global either way. Under PTI with PCID a flush here
 * also marks the user PCID (kernel PCID | 0x800) for a flush on the next
 * exit to ring 3 (invalidate_user_asid).
 *
 * A change to an mm's tables bumps mm->context.tlb_gen; every CPU that may
 * cache the mm (mm_cpumask) then runs flush_tlb_func, which catches its
 * TLB up to the new generation. A CPU whose idle task runs on a user mm
 * (lazy TLB) gets no IPI unless tables were freed: its next switch_mm
 * compares generations and flushes.
 */
#include <asm/console.h>
#include <asm/cpufeature.h>
#include <asm/mmu_context.h>
#include <asm/percpu.h>
#include <asm/processor.h>
#include <asm/pti.h>
#include <asm/sections.h>
#include <asm/smp.h>
#include <lib/cmdline.h>
#include <linux/sched.h>

bool pcid_enabled;
bool tlb_skip_remote;
static uint64_t last_mm_ctx_id;

uint64_t new_ctx_id(void)
{
	return atomic_inc_return(&last_mm_ctx_id);
}

uint64_t inc_mm_tlb_gen(struct mm_struct *mm)
{
	return atomic_inc_return(&mm->context.tlb_gen);
}

uint64_t build_cr3(const uint64_t *pgd, uint16_t asid)
{
	uint64_t cr3 = __pa(pgd);

	if (pcid_enabled)
		cr3 |= kern_pcid(asid);
	return cr3;
}

/*
 * Under PTI with PCID: the user PCID of asid must be flushed on the next
 * exit to ring 3 (SWITCH_TO_USER_CR3 then loads CR3 without bit 63), because
 * a flush done here, on the kernel PCID, does not reach it (Linux's
 * invalidate_user_asid).
 */
static void invalidate_user_asid(uint16_t asid)
{
	if (!pti_enabled || !pcid_enabled)
		return;
	this_cpu_ptr(cpu_tss_rw)->user_pcid_flush_mask |= 1ULL << kern_pcid(asid);
}

/* INVLPG of a user address in the kernel PCID; the user PCID's copy later (Linux's __native_flush_tlb_one_user). */
static void flush_tlb_one_user(uint64_t addr)
{
	flush_tlb_one(addr);
	invalidate_user_asid(this_cpu_read(cpu_tlbstate.loaded_mm_asid));
}

static uint64_t build_cr3_noflush(const uint64_t *pgd, uint16_t asid)
{
	return build_cr3(pgd, asid) | CR3_NOFLUSH;
}

static void choose_new_asid(struct mm_struct *next, uint64_t next_tlb_gen, uint16_t *new_asid, bool *need_flush)
{
	struct pcpu *p = this_pcpu();
	struct tlb_state *ts = &p->cpu_tlbstate;

	if (!pcid_enabled) {
		*new_asid = 0;
		*need_flush = true;
		return;
	}
	for (uint16_t asid = 0; asid < TLB_NR_DYN_ASIDS; asid++) {
		if (ts->ctxs[asid].ctx_id != next->context.ctx_id)
			continue;
		*new_asid = asid;
		*need_flush = ts->ctxs[asid].tlb_gen < next_tlb_gen;
		p->switch_stats.asid_reuse++;
		return;
	}
	*new_asid = ts->next_asid++;
	if (ts->next_asid >= TLB_NR_DYN_ASIDS)
		ts->next_asid = 0;
	*need_flush = true;
	p->switch_stats.asid_new++;
}

/* other_mm: a switch to another mm (its CR3 must differ); else a lazy CPU's catch-up flush. */
static void load_new_mm_cr3(uint64_t *pgdir, uint16_t new_asid, bool need_flush, bool other_mm)
{
	struct switch_stats *st = this_cpu_ptr(switch_stats);
	uint64_t new_mm_cr3 = need_flush ? build_cr3(pgdir, new_asid) : build_cr3_noflush(pgdir, new_asid);

	if (other_mm && (read_cr3() & ~CR3_NOFLUSH) == (new_mm_cr3 & ~CR3_NOFLUSH))
		st->cr3_same++;
	if (need_flush)
		invalidate_user_asid(new_asid);
	write_cr3(new_mm_cr3);
	st->cr3_loads++;
	if (need_flush)
		st->flushing++;
	else
		st->noflush++;
}

void switch_mm_irqs_off(struct mm_struct *unused, struct mm_struct *next, struct task_struct *tsk)
{
	struct pcpu *p = this_pcpu();
	struct tlb_state *ts = &p->cpu_tlbstate;
	struct mm_struct *prev = ts->loaded_mm;
	bool was_lazy = p->cpu_tlbstate_shared.is_lazy;
	uint64_t next_tlb_gen, cpu_bit = 1ULL << p->cpu;
	uint16_t new_asid;
	bool need_flush;

	(void)unused;
	(void)tsk;
	if (was_lazy)
		p->cpu_tlbstate_shared.is_lazy = false;
	if (prev == next) {
		p->switch_stats.same_mm++;
		if (!was_lazy)
			return;
		smp_mb(); /* is_lazy cleared before tlb_gen is read: pairs with flush_tlb_multi */
		next_tlb_gen = atomic_read(&next->context.tlb_gen);
		if (ts->ctxs[ts->loaded_mm_asid].tlb_gen == next_tlb_gen)
			return;
		new_asid = ts->loaded_mm_asid; /* the TLB went stale while lazy: flush it */
		need_flush = true;
		p->switch_stats.lazy_catchup++;
	} else {
		if (prev != &init_mm)
			atomic_and(&mm_cpumask(prev), ~cpu_bit);
		if (next != &init_mm)
			atomic_or(&mm_cpumask(next), cpu_bit); /* receive flush IPIs, then read tlb_gen */
		next_tlb_gen = atomic_read(&next->context.tlb_gen);
		choose_new_asid(next, next_tlb_gen, &new_asid, &need_flush);
	}
	if (need_flush) {
		ts->ctxs[new_asid].ctx_id = next->context.ctx_id;
		ts->ctxs[new_asid].tlb_gen = next_tlb_gen;
	}
	load_new_mm_cr3(next->pgd, new_asid, need_flush, prev != next);
	ts->loaded_mm = next;
	ts->loaded_mm_asid = new_asid;
}

void enter_lazy_tlb(void)
{
	struct pcpu *p = this_pcpu();

	if (p->cpu_tlbstate.loaded_mm == &init_mm)
		return;
	p->cpu_tlbstate_shared.is_lazy = true;
	p->switch_stats.lazy_enter++;
}

int mm_asid(const struct mm_struct *mm, unsigned int cpu)
{
	if (!pcid_enabled)
		return -1;
	for (int asid = 0; asid < TLB_NR_DYN_ASIDS; asid++)
		if (per_cpu(cpu_tlbstate, cpu).ctxs[asid].ctx_id == mm->context.ctx_id)
			return asid;
	return -1;
}

void switch_stats_total(struct switch_stats *sum)
{
	per_cpu_sum(PER_CPU_FIELD(switch_stats), sum);
}

/* A full flush of the loaded ASID's non-global entries (Linux's flush_tlb_local). */
static void flush_tlb_local(void)
{
	invalidate_user_asid(this_cpu_read(cpu_tlbstate.loaded_mm_asid));
	write_cr3(read_cr3() & ~CR3_NOFLUSH);
}

/*
 * Bring this CPU's TLB up to f (Linux's flush_tlb_func): a remote CPU that
 * no longer has f->mm loaded has nothing to do; a lazy one goes to init_mm;
 * one already at f's generation has nothing to do; one exactly one
 * generation behind, for a range, INVLPGs its pages; anything else flushes
 * everything. Either way ctxs[loaded ASID].tlb_gen becomes the mm's.
 */
static void flush_tlb_func(void *info)
{
	const struct flush_tlb_info *f = info;
	struct pcpu *p = this_pcpu();
	struct shootdown_stats *st = &p->shootdown_stats;
	struct mm_struct *loaded_mm = p->cpu_tlbstate.loaded_mm;
	uint16_t asid = p->cpu_tlbstate.loaded_mm_asid;
	uint64_t local_tlb_gen = p->cpu_tlbstate.ctxs[asid].tlb_gen;

	if (f->initiating_cpu != p->cpu && f->mm != loaded_mm)
		return;
	if (loaded_mm == &init_mm)
		return;
	if (p->cpu_tlbstate_shared.is_lazy) {
		switch_mm_irqs_off(0, &init_mm, 0); /* cheaper than a flush, and the tables may be gone */
		st->lazy_leave++;
		return;
	}
	if (f->new_tlb_gen <= local_tlb_gen) {
		st->uptodate++;
		return;
	}
	uint64_t mm_tlb_gen = atomic_read(&loaded_mm->context.tlb_gen);
	if (f->end != TLB_FLUSH_ALL && f->new_tlb_gen == local_tlb_gen + 1 && f->new_tlb_gen == mm_tlb_gen) {
		for (uint64_t addr = f->start; addr < f->end; addr += PAGE_SIZE)
			flush_tlb_one_user(addr);
		st->flush_pages++;
		st->pages += (f->end - f->start) >> PAGE_SHIFT;
	} else {
		flush_tlb_local();
		st->flush_full++;
	}
	p->cpu_tlbstate.ctxs[asid].tlb_gen = mm_tlb_gen;
}

/*
 * Send f to the CPUs of mask (not this one) and wait for them: CPUs in lazy
 * TLB mode are left out unless tables were freed (Linux's
 * native_flush_tlb_multi); `noshootdown` leaves every CPU out.
 */
static void flush_tlb_multi(cpumask_t mask, const struct flush_tlb_info *f)
{
	struct shootdown_stats *st = this_cpu_ptr(shootdown_stats);

	if (!f->freed_tables) {
		for_each_cpu(cpu, mask) {
			if (per_cpu(cpu_tlbstate_shared, cpu).is_lazy) {
				mask &= ~(1ULL << cpu);
				st->lazy_skips++;
			}
		}
	}
	if (!mask)
		return;
	if (tlb_skip_remote) {
		st->skipped += cpumask_weight(mask);
		return;
	}
	st->requests++;
	uint64_t t0 = rdtsc();
	smp_call_function_many(mask, flush_tlb_func, (void *)f);
	st->cycles_remote += rdtsc() - t0;
}

void flush_tlb_mm_range(struct mm_struct *mm, const struct pg_flush *pf)
{
	struct pcpu *p = this_pcpu();
	struct flush_tlb_info *info = &p->flush_tlb_info;
	uint64_t start = pf->start, end = pf->end;

	if (!pf->pages && !pf->tables_freed)
		return;
	/* Should we flush just the requested range? (end == 0 is the top of the address space) */
	if (!pf->pages || end == 0 || ((end - start) >> PAGE_SHIFT) > TLB_SINGLE_PAGE_FLUSH_CEILING) {
		start = 0;
		end = TLB_FLUSH_ALL;
	}
	*info = (struct flush_tlb_info){ .mm = mm, .start = start, .end = end, .new_tlb_gen = inc_mm_tlb_gen(mm),
					 .freed_tables = pf->tables_freed, .initiating_cpu = p->cpu };
	if (mm == p->cpu_tlbstate.loaded_mm) {
		uint64_t t0 = rdtsc();
		flush_tlb_func(info);
		p->shootdown_stats.cycles_local += rdtsc() - t0;
		if (end == TLB_FLUSH_ALL)
			p->shootdown_stats.local_full++;
		else
			p->shootdown_stats.local_pages++;
	}
	cpumask_t others = atomic_read(&mm_cpumask(mm)) & ~(1ULL << p->cpu);
	if (others)
		flush_tlb_multi(others, info);
}

static void do_flush_tlb_all(void *unused)
{
	(void)unused;
	this_cpu_inc(shootdown_stats.kernel);
	__flush_tlb_all();
}

static void do_kernel_range_flush(void *info)
{
	const struct flush_tlb_info *f = info;

	this_cpu_inc(shootdown_stats.kernel);
	for (uint64_t addr = f->start; addr < f->end; addr += PAGE_SIZE)
		flush_tlb_one(addr);
}

void flush_tlb_all(void)
{
	on_each_cpu(do_flush_tlb_all, 0);
}

void flush_tlb_kernel_range(uint64_t start, uint64_t end)
{
	if (start == end)
		return;
	if (end == TLB_FLUSH_ALL || end - start > ((uint64_t)TLB_SINGLE_PAGE_FLUSH_CEILING << PAGE_SHIFT)) {
		on_each_cpu(do_flush_tlb_all, 0);
		return;
	}
	struct flush_tlb_info *info = this_cpu_ptr(flush_tlb_info);
	*info = (struct flush_tlb_info){ .start = start, .end = end, .new_tlb_gen = 0,
					 .initiating_cpu = smp_processor_id() };
	on_each_cpu(do_kernel_range_flush, info);
}

static void leave_mm(void *info)
{
	if (this_cpu_read(cpu_tlbstate.loaded_mm) != info)
		return;
	switch_mm_irqs_off(0, &init_mm, 0);
	this_cpu_inc(shootdown_stats.lazy_leave);
}

void shoot_lazy_tlbs(struct mm_struct *mm)
{
	cpumask_t mask = atomic_read(&mm_cpumask(mm)) & ~(1ULL << smp_processor_id());

	if (mm == this_cpu_read(cpu_tlbstate.loaded_mm))
		leave_mm(mm);
	if (mask)
		smp_call_function_many(mask, leave_mm, mm);
	if (atomic_read(&mm_cpumask(mm)))
		panic("shoot_lazy_tlbs: CPUs 0x%llx still hold an mm being freed",
		      (unsigned long long)mm_cpumask(mm));
}

void initialize_tlbstate_and_flush(void)
{
	struct pcpu *p = this_pcpu();
	struct tlb_state *ts = &p->cpu_tlbstate;

	if (pcid_enabled)
		write_cr4(read_cr4() | X86_CR4_PCIDE); /* CR3 is swapper_pg_dir with PCID 0 here */
	write_cr3(build_cr3(init_mm.pgd, 0));
	ts->loaded_mm = &init_mm;
	ts->loaded_mm_asid = 0;
	ts->next_asid = 1;
	ts->ctxs[0].ctx_id = init_mm.context.ctx_id;
	ts->ctxs[0].tlb_gen = atomic_read(&init_mm.context.tlb_gen);
	for (int i = 1; i < TLB_NR_DYN_ASIDS; i++)
		ts->ctxs[i].ctx_id = 0;
	pti_cpu_init(pcid_enabled);
}

void init_pcid(void)
{
	struct tlb_state *ts = this_cpu_ptr(cpu_tlbstate);

	init_mm.context.ctx_id = new_ctx_id();
	ts->loaded_mm = &init_mm;
	tlb_skip_remote = cmdline_has_word(boot_command_line, "noshootdown");
	/* As Linux: no PCID without PGE, or INVLPG would miss the kernel's entries of other PCIDs. */
	if (boot_cpu_data.pcid && boot_cpu_data.pge && !cmdline_has_word(boot_command_line, "nopcid")) {
		/* CR4.PCIDE may be set only while CR3[11:0] = 0: CR3 is swapper_pg_dir, PCID 0. */
		write_cr3(__pa_symbol(swapper_pg_dir));
		pcid_enabled = true;
		initialize_tlbstate_and_flush(); /* init_mm on ASID 0, PCID 1 */
	}
	pti_cpu_init(pcid_enabled); /* the entry code switches CR3 from here (under PTI) */
}
