/*
 * smp.h: the CPUs (Linux: arch/x86/include/asm/smp.h, include/linux/smp.h,
 * cpumask.h): which exist and are online, this CPU's number, cross-CPU calls
 * and IPIs (arch/x86/kernel/smp.c), the bring-up (smpboot.c; docs/smp.md).
 *
 * A cpumask is a uint64_t with bit n for CPU n (NR_CPUS <= 64).
 */
#ifndef ASM_SMP_H
#define ASM_SMP_H

#include <asm/percpu.h>
#include <stdbool.h>
#include <stdint.h>

typedef uint64_t cpumask_t;

static inline unsigned int smp_processor_id(void)
{
	unsigned int cpu;
	__asm__ volatile("movl %%gs:%c1, %0" : "=r"(cpu) : "i"(PCPU_cpu) : "memory");
	return cpu;
}

/* The CPUs up and taking work (bit n: CPU n), and how many the firmware listed. */
extern volatile cpumask_t cpu_online_mask;
extern unsigned int nr_cpu_ids;
static inline bool cpu_online(unsigned int cpu)
{
	return cpu < NR_CPUS && ((cpu_online_mask >> cpu) & 1);
}
/* The number of CPUs in mask (no POPCNT: not every CPU has it). */
static inline unsigned int cpumask_weight(cpumask_t mask)
{
	unsigned int n = 0;
	for (; mask; mask &= mask - 1)
		n++;
	return n;
}
static inline unsigned int num_online_cpus(void)
{
	return cpumask_weight(cpu_online_mask);
}
#define for_each_cpu(cpu, mask) \
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) if (((mask) >> cpu) & 1)

/* Interrupt vectors of the IPIs (Linux's, arch/x86/include/asm/irq_vectors.h). */
#define RESCHEDULE_VECTOR     0xfd
#define CALL_FUNCTION_VECTOR  0xfb

/*
 * smp_call_function_many - run func(info) on every CPU of mask but this one,
 * by IPI, and wait until all have run it. While it waits this CPU runs the
 * calls others address to it. Precondition: interrupts off.
 * func runs with interrupts off and must take no lock.
 */
void smp_call_function_many(cpumask_t mask, void (*func)(void *), void *info);
/* func(info) on every online CPU, this one included (here first), waiting for all. */
void on_each_cpu(void (*func)(void *), void *info);
/* Run the calls other CPUs have addressed to this one (IPI handler, and spin loops). */
void generic_smp_call_function_interrupt(bool from_ipi);
/* Make cpu look for work: a reschedule IPI (nothing if it is this CPU). */
void smp_send_reschedule(unsigned int cpu);
/* Kick every online CPU in mask that is idle (a task became runnable). */
void kick_idle_cpus(cpumask_t mask);

/* smpboot.c: find the CPUs (MADT), start the APs through the trampoline. */
void smp_init(void);
/* The C entry of an AP, on its idle task's stack (head_64.S secondary_startup_64). */
void start_secondary(void);
/* TSC cycles per millisecond (calibrated on the PIT when there are APs; 0 before). */
extern uint64_t tsc_khz;
static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}
/* Busy-wait us microseconds on the TSC (the PIT until it is calibrated). */
void udelay(uint64_t us);

#endif /* ASM_SMP_H */
