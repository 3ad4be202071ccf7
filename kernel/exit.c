/*
 * exit.c: the end of a process (Linux: kernel/exit.c, kernel/signal.c).
 *
 * do_exit switches to init_mm first (the dying table must not be in CR3),
 * drops the mm (mmput -> exit_mmap: every user page, every table page, the
 * pgd), gives its children to task 0, becomes a zombie and wakes a waiting
 * parent. The parent's wait4 (or the shell, for what it started) reaps the
 * zombie: its kernel stack and task slot. A kill only marks the task; it dies
 * on its next way back to ring 3 (exit_to_user_mode), so it never dies
 * in the middle of kernel work.
 */
#include <asm/console.h>
#include <asm/mmu_context.h>
#include <asm/traps.h>
#include <linux/sched.h>
#include <uapi/ptlab_unistd.h>

void do_exit(int status)
{
	struct task_struct *t = current;
	if (t == &tasks[0])
		panic("do_exit: the kernel task cannot exit");
	struct mm_struct *mm = t->mm;
	t->mm = &init_mm;
	switch_mm_irqs_off(mm, &init_mm, t);
	mmput(mm);
	for (int i = 1; i < NR_TASKS; i++) {
		if (tasks[i].state != TASK_UNUSED && tasks[i].parent == t) {
			tasks[i].parent = &tasks[0]; /* orphans: the kernel reaps them */
			tasks[i].background = true;
		}
	}
	t->exit_code = status;
	t->state = TASK_ZOMBIE;
	if (t->parent->waiting_child)
		wake_up_process(t->parent);
	schedule();
	panic("do_exit: a zombie was scheduled");
}

static long release_task(struct task_struct *t, int *status)
{
	long pid = t->pid;
	if (status)
		*status = t->exit_code;
	free_task(t);
	return pid;
}

long reap_zombie(int pid, int *status)
{
	for (int i = 1; i < NR_TASKS; i++) {
		struct task_struct *t = &tasks[i];
		if (t->state == TASK_ZOMBIE && t->parent == current && (pid == -1 || t->pid == pid))
			return release_task(t, status);
	}
	return 0;
}

long do_wait(int pid, int *status)
{
	for (;;) {
		bool have = false;
		for (int i = 1; i < NR_TASKS; i++) {
			struct task_struct *t = &tasks[i];
			if (t->state == TASK_UNUSED || t->parent != current || (pid != -1 && t->pid != pid))
				continue;
			if (t->state == TASK_ZOMBIE)
				return release_task(t, status);
			have = true;
		}
		if (!have)
			return -ECHILD;
		if (current->killed)
			return -EINTR;
		current->waiting_child = true;
		current->state = TASK_INTERRUPTIBLE;
		schedule();
		current->waiting_child = false;
	}
}

int kill_task(int pid, int sig)
{
	if (pid == 0)
		return -EPERM;
	struct task_struct *t = find_task(pid);
	if (!t || t->state == TASK_ZOMBIE)
		return -ESRCH;
	t->killed = sig;
	wake_up_process(t);
	return 0;
}

void do_user_trap(struct pt_regs *regs)
{
	int sig = regs->vector == X86_TRAP_DE ? 8 /* SIGFPE */ : regs->vector == X86_TRAP_UD ? 4 /* SIGILL */ : SIGSEGV;

	printk("\nptlab: pid %d (%s): %s at ip 0x%016llx, error code 0x%llx, RSP 0x%016llx\n", current->pid,
	       current->comm, exception_name((unsigned int)regs->vector), (unsigned long long)regs->rip,
	       (unsigned long long)regs->error_code, (unsigned long long)regs->rsp);
	printk("ptlab: pid %d (%s) killed by signal %d; the kernel goes on\n", current->pid, current->comm, sig);
	do_exit(sig);
}
