/*
 * current.h: the task running on this CPU (Linux: arch/x86/include/asm/current.h),
 * read from this CPU's struct pcpu through GS (asm/percpu.h).
 */
#ifndef ASM_CURRENT_H
#define ASM_CURRENT_H

#include <asm/percpu.h>

struct task_struct;

static inline struct task_struct *get_current(void)
{
	struct task_struct *t;
	__asm__ volatile("movq %%gs:%c1, %0" : "=r"(t) : "i"(PCPU_current_task) : "memory");
	return t;
}

#define current get_current()

#endif /* ASM_CURRENT_H */
