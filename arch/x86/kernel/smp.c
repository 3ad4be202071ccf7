/*
 * smp.c: cross-CPU calls and IPIs (Linux: kernel/smp.c, arch/x86/kernel/smp.c,
 * apic/ipi.c), and the spinlocks built on them (kernel/locking/spinlock.c).
 *
 * smp_call_function_many(mask, func, info): the calling CPU fills its own
 * call_single_data (csd: func, info, and the mask of CPUs still to run it),
 * sets its bit in each target's call_pending word, sends each target a
 * CALL_FUNCTION_VECTOR IPI through the local APIC, and waits until every
 * target has run func and cleared its bit in the csd. A target runs its
 * pending calls from the IPI (generic_smp_call_function_interrupt) or, since
 * ptlab's kernel runs with interrupts off, whenever it waits itself: for a
 * lock (spin_lock), for its own calls' answers, or for input. So two CPUs
 * that call each other at once, or one that waits for a lock the other
 * holds while that one waits for an answer, never deadlock. A target that
 * has not answered after a second gets the IPI again (counted as a resend:
 * an IPI lost would show there).
 */
#include <asm/apic.h>
#include <asm/console.h>
#include <asm/percpu.h>
#include <asm/processor.h>
#include <asm/smp.h>
#include <linux/sched.h>
#include <linux/spinlock.h>

volatile cpumask_t cpu_online_mask = 1; /* CPU 0 */
unsigned int nr_cpu_ids = 1;

void generic_smp_call_function_interrupt(bool from_ipi)
{
	struct pcpu *p = this_pcpu();
	uint64_t pending = atomic_xchg(&p->call_pending, 0);

	for_each_cpu(sender, pending) {
		struct call_single_data *csd = &per_cpu(csd, sender);
		csd->func(csd->info);
		if (from_ipi) /* counted before the answer: the caller may read the counters next */
			p->shootdown_stats.ipis_received++;
		else
			p->shootdown_stats.polled++;
		atomic_and(&csd->wait, ~(1ULL << p->cpu));
	}
}

/* Resend to the CPUs of wait that still have not answered (after a second without an answer). */
static void resend_ipis(cpumask_t wait)
{
	for_each_cpu(cpu, wait) {
		apic_send_IPI(per_cpu(apicid, cpu), CALL_FUNCTION_VECTOR);
		this_cpu_inc(shootdown_stats.resends);
		printk("ptlab: CPU %u: no answer from CPU %u for a second: IPI sent again\n", smp_processor_id(), cpu);
	}
}

void smp_call_function_many(cpumask_t mask, void (*func)(void *), void *info)
{
	struct pcpu *p = this_pcpu();
	struct call_single_data *csd = &p->csd;

	mask &= cpu_online_mask & ~(1ULL << p->cpu);
	if (!mask)
		return;
	csd->func = func;
	csd->info = info;
	atomic_set(&csd->wait, mask);
	for_each_cpu(cpu, mask) {
		atomic_or(&per_cpu(call_pending, cpu), 1ULL << p->cpu);
		apic_send_IPI(per_cpu(apicid, cpu), CALL_FUNCTION_VECTOR);
		p->shootdown_stats.ipis_sent++;
	}
	uint64_t patience = tsc_khz ? tsc_khz * 1000 : 1ULL << 32, since = rdtsc();
	while (atomic_read(&csd->wait)) {
		generic_smp_call_function_interrupt(false);
		cpu_relax();
		if (rdtsc() - since > patience) {
			resend_ipis(atomic_read(&csd->wait));
			since = rdtsc();
		}
	}
}

void on_each_cpu(void (*func)(void *), void *info)
{
	func(info);
	smp_call_function_many(cpu_online_mask, func, info);
}

void smp_send_reschedule(unsigned int cpu)
{
	if (cpu != smp_processor_id() && cpu_online(cpu))
		apic_send_IPI(per_cpu(apicid, cpu), RESCHEDULE_VECTOR);
}

void kick_idle_cpus(cpumask_t mask)
{
	for_each_cpu(cpu, mask & cpu_online_mask)
		if (per_cpu(current_task, cpu) == per_cpu(idle, cpu) && cpu != 0)
			smp_send_reschedule(cpu);
}

bool spin_trylock(spinlock_t *l)
{
	if (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		return false;
	l->owner = (int)smp_processor_id();
	return true;
}

bool spin_is_mine(const spinlock_t *l)
{
	return l->locked && l->owner == (int)smp_processor_id();
}

void spin_lock(spinlock_t *l)
{
	if (spin_is_mine(l))
		panic("spin_lock: CPU %u already holds %s", smp_processor_id(), l->name);
	while (!spin_trylock(l)) {
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED)) {
			generic_smp_call_function_interrupt(false);
			cpu_relax();
		}
	}
}

void spin_unlock(spinlock_t *l)
{
	l->owner = -1;
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}
