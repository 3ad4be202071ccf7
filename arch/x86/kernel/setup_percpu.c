/*
 * setup_percpu.c: the per-CPU areas (Linux: arch/x86/kernel/setup_percpu.c)
 * and the GS base that points each CPU at its own (asm/percpu.h).
 *
 * per_cpu_area[n] is CPU n's struct pcpu; the boot CPU (CPU 0) gets its
 * area, task 0 as its current task and a static #DF stack first thing in C
 * (x86_64_start_kernel), before anything reads `current`. The APs' areas
 * are filled by smpboot.c before they are started.
 */
#include <asm/current.h>
#include <asm/percpu.h>
#include <asm/processor.h>
#include <linux/sched.h>
#include <paging/pg_env.h>

struct pcpu per_cpu_area[NR_CPUS];
static uint8_t boot_doublefault_stack[EXCEPTION_STKSZ] __attribute__((aligned(16)));

_Static_assert(__builtin_offsetof(struct pcpu, self) == PCPU_self, "PCPU_self");
_Static_assert(__builtin_offsetof(struct pcpu, current_task) == PCPU_current_task, "PCPU_current_task");
_Static_assert(__builtin_offsetof(struct pcpu, top_of_stack) == PCPU_top_of_stack, "PCPU_top_of_stack");
_Static_assert(__builtin_offsetof(struct pcpu, cpu) == PCPU_cpu, "PCPU_cpu");
_Static_assert(__builtin_offsetof(struct pcpu, cpu_tss_rw) == PCPU_cpu_tss_rw, "PCPU_cpu_tss_rw");

void per_cpu_sum(size_t offset, size_t size, void *sum)
{
	uint64_t *s = sum;

	memset(sum, 0, size);
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
		const uint64_t *a = (const uint64_t *)((const char *)&per_cpu_area[cpu] + offset);
		for (size_t i = 0; i < size / sizeof(uint64_t); i++)
			s[i] += a[i];
	}
}

void per_cpu_zero(size_t offset, size_t size)
{
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++)
		memset((char *)&per_cpu_area[cpu] + offset, 0, size);
}

void setup_percpu_segment(unsigned int cpu)
{
	wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)&per_cpu_area[cpu]);
	wrmsr(MSR_KERNEL_GS_BASE, 0); /* the user's GS base, swapped in on the way to ring 3 */
}

void setup_boot_cpu_percpu(void)
{
	struct pcpu *p = &per_cpu_area[0];

	p->self = p;
	p->cpu = 0;
	p->current_task = &tasks[0];
	p->idle = &tasks[0];
	p->ist_stack = boot_doublefault_stack;
	p->state = CPU_ONLINE;
	setup_percpu_segment(0);
}
