/*
 * sched.c: tasks and the round-robin scheduler (Linux: kernel/sched/core.c).
 *
 * tasks[0] is the kernel: the boot context that runs the shell, on init_mm.
 * User processes are tasks 1..NR_TASKS-1. schedule() picks the next
 * TASK_RUNNING task after current and runs context_switch:
 *   switch_mm_irqs_off (CR3, PCID) -> TSS.RSP0 = next's stack -> __switch_to_asm.
 * The timer preempts ring 3 only: kernel code runs with interrupts off and
 * lets a tick in where it idles (sched_idle: the shell waiting for a byte or
 * for a process).
 */
#include <asm/console.h>
#include <asm/desc.h>
#include <asm/mmu_context.h>
#include <asm/processor.h>
#include <asm/sections.h>
#include <linux/sched.h>

struct mm_struct init_mm = {
	.pgd = init_top_pgt,
	.users = 1,
};

struct task_struct tasks[NR_TASKS] = {
	[0] = { .pid = 0, .state = TASK_RUNNING, .comm = "[shell]", .mm = &init_mm },
};
struct task_struct *current = &tasks[0];
volatile uint64_t jiffies;
static bool need_resched;
static bool sched_ready, timer_ready;
static int last_pid;

void __switch_to_asm(uint64_t *prev_sp, uint64_t next_sp);

void sched_init(void)
{
	cpu_init_gdt();   /* user segments and the TSS */
	syscall_init();   /* MSR_STAR, MSR_LSTAR, MSR_SYSCALL_MASK */
	init_pcid();      /* CR4.PCIDE when the CPU has PCID */
	serial_idle_hook = sched_idle; /* the shell waiting for input lets processes run */
	sched_ready = true;
}

struct task_struct *alloc_task(void)
{
	if (!sched_ready)
		return 0;
	if (!timer_ready) {
		timer_init(); /* the first process: start the clock (not at boot: the tables stay as booted) */
		timer_ready = true;
	}
	for (int i = 1; i < NR_TASKS; i++) {
		struct task_struct *t = &tasks[i];
		if (t->state != TASK_UNUSED)
			continue;
		void *stack = alloc_thread_stack_node(); /* vmalloc'd, with a guard page (fork.c) */
		if (!stack)
			return 0;
		*t = (struct task_struct){ .pid = ++last_pid, .stack = stack, .mm = &init_mm };
		return t;
	}
	return 0;
}

void free_task(struct task_struct *t)
{
	free_thread_stack(t->stack);
	t->stack = 0;
	t->state = TASK_UNUSED;
}

struct task_struct *find_task(int pid)
{
	for (int i = 0; i < NR_TASKS; i++)
		if (tasks[i].state != TASK_UNUSED && tasks[i].pid == pid)
			return &tasks[i];
	return 0;
}

int nr_user_tasks(void)
{
	int n = 0;
	for (int i = 1; i < NR_TASKS; i++)
		n += tasks[i].state != TASK_UNUSED;
	return n;
}

const char *task_state_name(const struct task_struct *t)
{
	switch (t->state) {
	case TASK_RUNNING: return t == current ? "running" : "runnable";
	case TASK_INTERRUPTIBLE: return t->waiting_child ? "waiting" : "sleeping";
	case TASK_ZOMBIE: return "zombie";
	default: return "unused";
	}
}

void wake_up_process(struct task_struct *t)
{
	if (t->state == TASK_INTERRUPTIBLE)
		t->state = TASK_RUNNING;
}

static struct task_struct *pick_next_task(void)
{
	int start = (int)(current - tasks);
	for (int k = 1; k <= NR_TASKS; k++) {
		struct task_struct *t = &tasks[(start + k) % NR_TASKS];
		if (t->state == TASK_RUNNING)
			return t;
	}
	return 0;
}

static void context_switch(struct task_struct *prev, struct task_struct *next)
{
	switch_stats.switches++;
	next->switches_in++;
	switch_mm_irqs_off(prev->mm, next->mm, next);
	if (next->stack)
		update_task_stack((uint64_t)(uintptr_t)next->stack + THREAD_SIZE);
	current = next;
	__switch_to_asm(&prev->sp, next->sp);
}

void schedule(void)
{
	struct task_struct *next;

	need_resched = false;
	while (!(next = pick_next_task()))
		__asm__ volatile("sti; hlt; cli"); /* nothing to run: wait for a tick to wake a sleeper */
	if (next != current)
		context_switch(current, next);
}

void sched_idle(void)
{
	if (!timer_ready)
		return;
	__asm__ volatile("sti; nop; cli" ::: "memory"); /* a pending tick comes in here */
	schedule();
}

void scheduler_tick(struct pt_regs *regs)
{
	(void)regs;
	jiffies++;
	for (int i = 1; i < NR_TASKS; i++) {
		struct task_struct *t = &tasks[i];
		if (t->state == TASK_INTERRUPTIBLE && t->wake_at && jiffies >= t->wake_at) {
			t->wake_at = 0;
			t->state = TASK_RUNNING;
		}
	}
	need_resched = true;
}

void exit_to_user_mode(struct pt_regs *regs)
{
	(void)regs;
	for (;;) {
		if (current->killed)
			do_exit(current->killed);
		if (!need_resched)
			return;
		schedule();
	}
}

/* The first return of a new task (ret_from_fork in entry_user.S). */
void ret_from_fork_c(struct pt_regs *regs)
{
	exit_to_user_mode(regs);
}
