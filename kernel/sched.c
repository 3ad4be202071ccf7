/*
 * sched.c: tasks and the round-robin scheduler of every CPU (Linux:
 * kernel/sched/core.c, idle.c).
 *
 * tasks[0] is the kernel: the boot context that runs the shell, on init_mm,
 * pinned to CPU 0 (it is also CPU 0's idle task). User threads are tasks
 * 1..NR_TASKS-1; each other CPU has an idle task of its own. One run queue
 * serves every CPU: tasks[], under rq_lock. schedule() picks, round robin
 * from where this CPU left off, the next TASK_RUNNING task that no other CPU
 * runs and that may run here (cpus_allowed), else the CPU's idle task, and
 * runs context_switch:
 *   switch_mm_irqs_off (CR3, PCID) or, for the idle task, enter_lazy_tlb ->
 *   TSS.RSP0 = next's stack -> __switch_to_asm.
 * rq_lock is held across the switch and released by the task switched to
 * (finish_task_switch), which also marks the previous task off its CPU: only
 * then may another CPU run it, or its parent free its stack.
 * The timers preempt ring 3 only: kernel code runs with interrupts off and
 * lets a tick in where it idles (sched_idle: the shell waiting for a byte or
 * for a process; an AP's idle loop).
 */
#include <asm/console.h>
#include <asm/desc.h>
#include <asm/mmu_context.h>
#include <asm/percpu.h>
#include <asm/processor.h>
#include <asm/pti.h>
#include <asm/sections.h>
#include <asm/smp.h>
#include <asm/traps.h>
#include <linux/sched.h>
#include <uapi/ptlab_unistd.h>

struct mm_struct init_mm = {
	.pgd = init_top_pgt,
	.users = 1,
	.mmap_lock = __SPIN_LOCK_UNLOCKED(init_mm.mmap_lock),
};

struct task_struct tasks[NR_TASKS] = {
	[0] = { .pid = 0, .tgid = 0, .state = TASK_RUNNING, .comm = "[shell]", .mm = &init_mm,
		.cpus_allowed = 1, .on_cpu = 1 },
};
static struct task_struct idle_tasks[NR_CPUS];
volatile uint64_t jiffies;
DEFINE_SPINLOCK(rq_lock);
static bool sched_ready;
static volatile bool timer_ready;
static int last_pid;

struct task_struct *__switch_to_asm(uint64_t *prev_sp, uint64_t next_sp, struct task_struct *prev);

void sched_init(void)
{
	idt_set_ist(X86_TRAP_DF, IST_INDEX_DF + 1); /* the TSS below has the #DF stack */
	pti_init();       /* PTI: the cpu_entry_areas, the user twin of swapper_pg_dir */
	cpu_init_gdt();   /* user segments and the TSS (through the cpu_entry_area under PTI) */
	syscall_init();   /* MSR_STAR, MSR_LSTAR, MSR_SYSCALL_MASK */
	init_pcid();      /* CR4.PCIDE when the CPU has PCID */
	pti_finalize();   /* PTI: pti=auto without PCID maps the kernel text in user PGDs too */
	serial_idle_hook = sched_idle; /* the shell waiting for input lets processes run */
	sched_ready = true;
}

struct task_struct *init_idle(unsigned int cpu, void *stack)
{
	struct task_struct *t = &idle_tasks[cpu];

	*t = (struct task_struct){ .pid = 0, .tgid = 0, .state = TASK_RUNNING, .mm = &init_mm, .stack = stack,
				   .cpus_allowed = 1ULL << cpu, .on_cpu = 1, .cpu = cpu, .is_idle = true };
	memcpy(t->comm, "[idle/", 6);
	t->comm[6] = (char)('0' + cpu % 10);
	t->comm[7] = ']';
	return t;
}

struct task_struct *alloc_task(void)
{
	if (!sched_ready)
		return 0;
	if (!atomic_xchg(&timer_ready, true))
		timer_init(); /* the first process: start the clock (not at boot: the tables stay as booted) */
	void *stack = alloc_thread_stack_node(); /* vmalloc'd, with guard pages (fork.c); not under rq_lock */
	if (!stack)
		return 0;
	spin_lock(&rq_lock);
	for (int i = 1; i < NR_TASKS; i++) {
		struct task_struct *t = &tasks[i];
		if (t->state != TASK_UNUSED)
			continue;
		int pid = ++last_pid;
		*t = (struct task_struct){ .pid = pid, .tgid = pid, .state = TASK_NEW,
					   .stack = stack, .mm = &init_mm, .cpus_allowed = ~0ULL };
		spin_unlock(&rq_lock);
		return t;
	}
	spin_unlock(&rq_lock);
	free_thread_stack(stack);
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
		if (tasks[i].state != TASK_UNUSED && tasks[i].state != TASK_DEAD && tasks[i].state != TASK_NEW &&
		    tasks[i].pid == pid)
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

int nr_other_threads(const struct task_struct *t)
{
	int n = 0;
	for (int i = 1; i < NR_TASKS; i++) {
		const struct task_struct *o = &tasks[i];
		n += o != t && o->tgid == t->tgid && (o->state == TASK_RUNNING || o->state == TASK_INTERRUPTIBLE);
	}
	return n;
}

const char *task_state_name(const struct task_struct *t)
{
	switch (t->state) {
	case TASK_RUNNING: return t->on_cpu ? "running" : "runnable";
	case TASK_INTERRUPTIBLE: return t->waiting_child ? "waiting" : "sleeping";
	case TASK_ZOMBIE: return "zombie";
	case TASK_DEAD: return "dead";
	case TASK_NEW: return "new";
	default: return "unused";
	}
}

void kick_task(struct task_struct *t)
{
	kick_idle_cpus(t->cpus_allowed & ~(1ULL << smp_processor_id()));
}

void wake_up_process_locked(struct task_struct *t)
{
	if (t->state == TASK_INTERRUPTIBLE) {
		t->state = TASK_RUNNING;
		kick_task(t);
	}
}

void wake_up_new_task(struct task_struct *t)
{
	spin_lock(&rq_lock);
	t->state = TASK_RUNNING;
	kick_task(t);
	spin_unlock(&rq_lock);
}

void wake_up_process(struct task_struct *t)
{
	spin_lock(&rq_lock);
	wake_up_process_locked(t);
	spin_unlock(&rq_lock);
}

int set_cpus_allowed(struct task_struct *t, uint64_t mask)
{
	mask &= cpu_online_mask;
	if (!mask)
		return -EINVAL;
	spin_lock(&rq_lock);
	t->cpus_allowed = mask;
	if (t->on_cpu && !task_allowed_on(t, t->cpu)) {
		if (t->cpu == smp_processor_id())
			this_cpu_write(need_resched, true);
		else
			smp_send_reschedule(t->cpu);
	}
	if (t->state == TASK_RUNNING)
		kick_task(t);
	spin_unlock(&rq_lock);
	return 0;
}

/*
 * The next task for this CPU (rq_lock held): round robin over tasks[] from
 * current (task 0 or a user thread) or from where this CPU's idle task left
 * off; a task another CPU runs, or that may not run here, is passed over.
 */
static struct task_struct *pick_next_task(void)
{
	struct pcpu *p = this_pcpu();
	struct task_struct *prev = p->current_task;
	int start = prev->is_idle ? (int)p->rr_next : (int)(prev - tasks);

	for (int k = 1; k <= NR_TASKS; k++) {
		int i = (start + k) % NR_TASKS;
		struct task_struct *t = &tasks[i];
		if (t->state == TASK_RUNNING && (t == prev || !t->on_cpu) && task_allowed_on(t, p->cpu)) {
			p->rr_next = (unsigned int)i;
			return t;
		}
	}
	return p->idle;
}

static struct task_struct *context_switch(struct task_struct *prev, struct task_struct *next)
{
	struct pcpu *p = this_pcpu();

	p->switch_stats.switches++;
	next->switches_in++;
	if (next->is_idle)
		enter_lazy_tlb();  /* keep whatever mm is loaded: the idle task uses no user memory */
	else
		switch_mm_irqs_off(prev->mm, next->mm, next);
	if (next->stack)
		update_task_stack((uint64_t)(uintptr_t)next->stack + THREAD_SIZE);
	if (next->fsbase != prev->fsbase && !next->is_idle)
		wrmsr(MSR_FS_BASE, next->fsbase);
	p->current_task = next;
	return __switch_to_asm(&prev->sp, next->sp, prev);
}

/*
 * The second half of a switch, on the task switched to: prev is off this
 * CPU now (its stack may be freed, another CPU may run it); a thread that
 * exited is freed here. Releases rq_lock, taken by the task that switched.
 */
static void finish_task_switch(struct task_struct *prev)
{
	__atomic_store_n(&prev->on_cpu, 0, __ATOMIC_RELEASE);
	if (prev->state == TASK_DEAD)
		free_task(prev);
	spin_unlock(&rq_lock);
}

void __schedule(void)
{
	struct task_struct *prev = current, *next;

	this_cpu_write(need_resched, false);
	next = pick_next_task();
	if (next == prev) {
		spin_unlock(&rq_lock);
		return;
	}
	next->on_cpu = 1;
	next->cpu = smp_processor_id();
	finish_task_switch(context_switch(prev, next));
}

void schedule(void)
{
	spin_lock(&rq_lock);
	__schedule();
}

void sched_idle(void)
{
	if (!timer_ready) {
		/* No interrupts yet (the BIOS's PIT still lands on vector 8): answer other CPUs by polling. */
		generic_smp_call_function_interrupt(false);
		return;
	}
	__asm__ volatile("sti; nop; cli" ::: "memory"); /* a pending tick comes in here */
	schedule();
}

/* Whether a task other than current could run on this CPU now (a hint: taken without rq_lock). */
static bool other_work_here(void)
{
	unsigned int cpu = smp_processor_id();

	for (int i = 0; i < NR_TASKS; i++) {
		const struct task_struct *t = &tasks[i];
		if (t != current && t->state == TASK_RUNNING && !t->on_cpu && task_allowed_on(t, cpu))
			return true;
	}
	return false;
}

void sched_idle_wait(void)
{
	sched_idle();
	if (timer_ready && !other_work_here())
		__asm__ volatile("sti; hlt; cli" ::: "memory"); /* until the next tick or IPI */
}

void cpu_startup_entry(void)
{
	for (;;) {
		schedule();
		if (!this_cpu_read(need_resched))
			__asm__ volatile("sti; hlt; cli" ::: "memory"); /* until a tick or an IPI */
	}
}

/* CPU 0's tick also keeps time and wakes the sleepers. */
static void wake_sleepers(void)
{
	spin_lock(&rq_lock);
	for (int i = 1; i < NR_TASKS; i++) {
		struct task_struct *t = &tasks[i];
		if (t->state == TASK_INTERRUPTIBLE && t->wake_at && jiffies >= t->wake_at) {
			t->wake_at = 0;
			wake_up_process_locked(t);
		}
	}
	spin_unlock(&rq_lock);
}

void scheduler_tick(struct pt_regs *regs)
{
	(void)regs;
	this_cpu_inc(timer_ticks);
	if (smp_processor_id() == 0) {
		jiffies++;
		wake_sleepers();
	}
	this_cpu_write(need_resched, true);
}

void exit_to_user_mode(struct pt_regs *regs)
{
	(void)regs;
	for (;;) {
		if (current->killed)
			do_exit(current->killed);
		if (!this_cpu_read(need_resched))
			return;
		schedule();
	}
}

/* The first return of a new task (ret_from_fork in entry_user.S), prev: the task switched from. */
void ret_from_fork_c(struct task_struct *prev, struct pt_regs *regs)
{
	finish_task_switch(prev);
	exit_to_user_mode(regs);
}
