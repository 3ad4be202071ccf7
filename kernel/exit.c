/*
 * exit.c: the end of a thread and of a process (Linux: kernel/exit.c,
 * kernel/signal.c).
 *
 * do_exit ends one thread: CLONE_CHILD_CLEARTID's word is cleared and
 * futex-woken, the thread switches to init_mm (the table it leaves must not
 * stay in CR3) and drops its reference to the mm; the last reference runs
 * exit_mmap (every user page, every table page, the pgd; lazy CPUs are sent
 * to init_mm first). Its children go to task 0. A thread that is not its
 * process's leader becomes TASK_DEAD and is freed once off its CPU; the
 * leader becomes a zombie, which its parent's wait4 (or the shell, for what
 * it started) reaps once the other threads are gone too. do_group_exit
 * (exit_group, a fatal signal) kills the other threads first. A kill only
 * marks the threads; each dies on its next way back to ring 3
 * (exit_to_user_mode), so none dies in the middle of kernel work; the CPUs
 * running them are sent a reschedule IPI so that this comes soon.
 */
#include <asm/console.h>
#include <asm/mmu_context.h>
#include <asm/smp.h>
#include <asm/traps.h>
#include <linux/sched.h>
#include <uapi/ptlab_unistd.h>

static bool is_leader(const struct task_struct *t)
{
	return t->pid == t->tgid;
}

/* The group leader of t, or NULL once it is reaped. rq_lock held. */
static struct task_struct *group_leader(const struct task_struct *t)
{
	for (int i = 1; i < NR_TASKS; i++)
		if (tasks[i].state != TASK_UNUSED && tasks[i].pid == t->tgid)
			return &tasks[i];
	return 0;
}

/* Mark every thread of tgid but `except` killed by sig, waking and kicking them. rq_lock held. */
static void kill_threads(int tgid, int sig, const struct task_struct *except)
{
	for (int i = 1; i < NR_TASKS; i++) {
		struct task_struct *t = &tasks[i];
		if (t == except || t->tgid != tgid || (t->state != TASK_RUNNING && t->state != TASK_INTERRUPTIBLE))
			continue;
		if (!t->killed)
			t->killed = sig;
		wake_up_process_locked(t);
		if (t->on_cpu)
			smp_send_reschedule(t->cpu);
	}
}

/* The process of t is gone when its leader is a zombie and no other thread lives: tell the parent. */
static void notify_parent_if_done(struct task_struct *t)
{
	struct task_struct *leader = group_leader(t);

	if (!leader || leader->state != TASK_ZOMBIE || nr_other_threads(leader))
		return;
	for (int i = 1; i < NR_TASKS; i++) /* whichever thread of the parent process waits */
		if (tasks[i].tgid == leader->parent->tgid && tasks[i].waiting_child)
			wake_up_process_locked(&tasks[i]);
}

void do_exit(int status)
{
	struct task_struct *t = current;
	if (t == &tasks[0] || t->is_idle)
		panic("do_exit: the kernel task cannot exit");
	struct mm_struct *mm = t->mm;
	if (t->clear_child_tid) {
		int zero = 0;
		if (!copy_to_user(t->clear_child_tid, &zero, sizeof(zero)))
			futex_wake(mm, t->clear_child_tid, 1);
	}
	t->mm = &init_mm;
	switch_mm_irqs_off(mm, &init_mm, t);
	mmput(mm);
	spin_lock(&rq_lock);
	for (int i = 1; i < NR_TASKS; i++) {
		if (tasks[i].state != TASK_UNUSED && tasks[i].parent == t) {
			tasks[i].parent = &tasks[0]; /* orphans: the kernel reaps them */
			tasks[i].background = true;
		}
	}
	if (is_leader(t)) {
		t->exit_code = t->group_exit_code ? t->group_exit_code : status;
		t->state = TASK_ZOMBIE;
	} else {
		t->state = TASK_DEAD; /* freed by finish_task_switch once off this CPU */
	}
	notify_parent_if_done(t);
	__schedule(); /* rq_lock held since the state changed: the reaper sees this task off its CPU */
	panic("do_exit: a finished task was scheduled");
}

void do_group_exit(int status)
{
	struct task_struct *t = current;

	spin_lock(&rq_lock);
	struct task_struct *leader = group_leader(t);
	if (leader && !leader->group_exit_code)
		leader->group_exit_code = status;
	kill_threads(t->tgid, SIGKILL, t);
	spin_unlock(&rq_lock);
	do_exit(status);
}

static long release_task(struct task_struct *t, int *status)
{
	long pid = t->pid;
	if (status)
		*status = t->exit_code;
	free_task(t);
	return pid;
}

/* A zombie child of current that may be reaped: its other threads are gone. rq_lock held. */
static bool reapable(const struct task_struct *t, int pid)
{
	return t->state == TASK_ZOMBIE && t->parent->tgid == current->tgid && (pid == -1 || t->pid == pid) &&
	       !nr_other_threads(t);
}

long reap_zombie(int pid, int *status)
{
	long r = 0;

	spin_lock(&rq_lock);
	for (int i = 1; i < NR_TASKS && !r; i++)
		if (reapable(&tasks[i], pid))
			r = release_task(&tasks[i], status);
	spin_unlock(&rq_lock);
	return r;
}

long do_wait(int pid, int *status)
{
	for (;;) {
		bool have = false;
		spin_lock(&rq_lock);
		for (int i = 1; i < NR_TASKS; i++) {
			struct task_struct *t = &tasks[i];
			if (t->state == TASK_UNUSED || t->state == TASK_DEAD || t->state == TASK_NEW || !is_leader(t) ||
			    t->parent->tgid != current->tgid || (pid != -1 && t->pid != pid))
				continue;
			if (reapable(t, pid)) {
				long r = release_task(t, status);
				spin_unlock(&rq_lock);
				return r;
			}
			have = true;
		}
		if (!have || current->killed) {
			spin_unlock(&rq_lock);
			return have ? -EINTR : -ECHILD;
		}
		current->waiting_child = true;
		current->state = TASK_INTERRUPTIBLE;
		__schedule();
		current->waiting_child = false;
	}
}

int kill_task(int pid, int sig)
{
	if (pid == 0)
		return -EPERM;
	spin_lock(&rq_lock);
	struct task_struct *t = find_task(pid);
	if (!t || t->state == TASK_ZOMBIE || t->is_idle) {
		spin_unlock(&rq_lock);
		return -ESRCH;
	}
	kill_threads(t->tgid, sig, 0);
	struct task_struct *leader = group_leader(t);
	if (leader && !leader->group_exit_code)
		leader->group_exit_code = sig;
	spin_unlock(&rq_lock);
	return 0;
}

void do_user_trap(struct pt_regs *regs)
{
	int sig = regs->vector == X86_TRAP_DE ? 8 /* SIGFPE */ : regs->vector == X86_TRAP_UD ? 4 /* SIGILL */ : SIGSEGV;

	printk("\nptlab: pid %d (%s): %s at ip 0x%016llx, error code 0x%llx, RSP 0x%016llx\n", current->pid,
	       current->comm, exception_name((unsigned int)regs->vector), (unsigned long long)regs->rip,
	       (unsigned long long)regs->error_code, (unsigned long long)regs->rsp);
	printk("ptlab: pid %d (%s) killed by signal %d; the kernel goes on\n", current->pid, current->comm, sig);
	do_group_exit(sig);
}
