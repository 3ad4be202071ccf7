/*
 * futex.c: FUTEX_WAIT and FUTEX_WAKE (Linux: kernel/futex/), what a
 * minimal pthread_join needs (CLONE_CHILD_CLEARTID wakes the joiner).
 *
 * A waiter is a task in TASK_INTERRUPTIBLE whose (futex_mm, futex_uaddr)
 * names the word; futex_lock orders the waiter's check of the word against
 * a waker's change: a wake that comes after the check finds the waiter.
 */
#include <asm/console.h>
#include <linux/sched.h>
#include <uapi/ptlab_unistd.h>

static DEFINE_SPINLOCK(futex_lock);

long futex_wait(uint64_t uaddr, uint32_t val)
{
	uint32_t cur;

	if (uaddr & 3)
		return -EINVAL;
	spin_lock(&futex_lock);
	if (copy_from_user(&cur, uaddr, sizeof(cur))) {
		spin_unlock(&futex_lock);
		return -EFAULT;
	}
	if (cur != val) {
		spin_unlock(&futex_lock);
		return -EAGAIN;
	}
	spin_lock(&rq_lock);
	current->futex_mm = current->mm;
	current->futex_uaddr = uaddr;
	current->state = TASK_INTERRUPTIBLE;
	spin_unlock(&futex_lock);
	__schedule();
	current->futex_mm = 0; /* woken (futex_wake cleared it too) or killed */
	return current->killed ? -EINTR : 0;
}

long futex_wake(struct mm_struct *mm, uint64_t uaddr, int n)
{
	long woken = 0;

	spin_lock(&futex_lock);
	spin_lock(&rq_lock);
	for (int i = 1; i < NR_TASKS && woken < n; i++) {
		struct task_struct *t = &tasks[i];
		if (t->state == TASK_INTERRUPTIBLE && t->futex_mm == mm && t->futex_uaddr == uaddr) {
			t->futex_mm = 0;
			wake_up_process_locked(t);
			woken++;
		}
	}
	spin_unlock(&rq_lock);
	spin_unlock(&futex_lock);
	return woken;
}
