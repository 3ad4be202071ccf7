/*
 * proc_test.c: the in-kernel test of processes (test=process):
 *   - the kernel half of every process's pgd equals swapper_pg_dir's, entry
 *     for entry (KERNEL_PGD_BOUNDARY..511), the user halves differ;
 *   - hello, forktest and faults run to their expected ends;
 *   - every switch to another mm loaded another CR3;
 *   - afterwards free pages and page-table pages are back to their counts.
 */
#include <asm/console.h>
#include <asm/mmu_context.h>
#include <asm/smp.h>
#include <linux/proc_shell.h>
#include <linux/sched.h>
#include <linux/selftest.h>
#include <uapi/ptlab_unistd.h>

/* Reap pid (a child of task 0), letting the processes run. returns: false after 60 s of waiting. */
static bool wait_reap(int pid, int *status)
{
	for (uint64_t until = jiffies + 60 * HZ; jiffies < until;) {
		if (reap_zombie(pid, status) > 0)
			return true;
		sched_idle_wait();
	}
	printk("  pid %d did not end within 60 s\n", pid);
	return false;
}

int run_to_end(const char *name, int argc, char **argv)
{
	int err, status;
	struct task_struct *t = spawn_user_program(name, argc, argv, ~0ULL, &err);
	if (!t) {
		printk("  %s: %d\n", name, err);
		return -1;
	}
	int pid = t->pid;
	if (!wait_reap(pid, &status))
		return -1;
	printk("  %s: pid %d, status 0x%x\n", name, pid, status);
	return status;
}

bool test_process(void)
{
	char *hello[] = { "hello", "selftest" }, *init[] = { "init" }, *forktest[] = { "forktest", "3" },
	     *faults[] = { "faults" };
	int err;

	KTEST_CHECK(run_to_end("hello", 2, hello) == 0); /* warm-up: the timer starts with the first process */
	uint64_t free0 = nr_free_pages(), tables0 = kernel_table_pages;

	/*
	 * Both on this CPU only: neither runs before this test yields, so their
	 * mms are as pgd_alloc and execve left them while they are compared (on
	 * another CPU hello could have exited and freed its mm by then).
	 */
	uint64_t this_cpu = 1ULL << smp_processor_id();
	struct task_struct *a = spawn_user_program("init", 1, init, this_cpu, &err);
	struct task_struct *b = spawn_user_program("hello", 2, hello, this_cpu, &err);
	KTEST_CHECK(a && b);
	unsigned int boundary = KERNEL_PGD_BOUNDARY;
	printk("  KERNEL_PGD_BOUNDARY %u: pgd entries %u..511 cloned from swapper_pg_dir\n", boundary, boundary);
	for (unsigned int i = 0; i < 512; i++) {
		if (i >= boundary) {
			KTEST_CHECK(a->mm->pgd[i] == swapper_pg_dir[i]);
			KTEST_CHECK(b->mm->pgd[i] == swapper_pg_dir[i]);
		} else {
			KTEST_CHECK(swapper_pg_dir[i] == 0 || i >= 256);
			KTEST_CHECK(!a->mm->pgd[i] || a->mm->pgd[i] != b->mm->pgd[i]);
		}
	}
	KTEST_CHECK(a->mm->pgd[0] && b->mm->pgd[0] && a->mm->pgd[0] != b->mm->pgd[0]);
	KTEST_CHECK(a->mm->pgd != b->mm->pgd);

	char *ps_argv[] = { "ps" };
	sched_idle_wait(); /* let them run once, so that their mms hold ASIDs (with PCID) */
	cmd_ps(1, ps_argv);
	int pid_b = b->pid, status;
	KTEST_CHECK(wait_reap(pid_b, &status));
	KTEST_CHECK(status == 0);
	KTEST_CHECK(kill_task(a->pid, SIGKILL) == 0);
	int pid_a = a->pid;
	KTEST_CHECK(wait_reap(pid_a, &status));
	KTEST_CHECK(status == SIGKILL);
	/* init's own child (hello) was orphaned to us when init died: reap it too */
	for (uint64_t until = jiffies + 60 * HZ; nr_user_tasks() && jiffies < until;) {
		reap_zombie(-1, &status);
		sched_idle_wait();
	}
	KTEST_CHECK(nr_user_tasks() == 0);

	KTEST_CHECK(run_to_end("forktest", 2, forktest) == 0);
	KTEST_CHECK(run_to_end("faults", 1, faults) == 0);
	struct switch_stats sw;
	switch_stats_total(&sw);
	KTEST_CHECK(sw.cr3_same == 0);
	printk("  switches %llu, CR3 loads %llu (flushing %llu, non-flushing %llu)\n",
	       (unsigned long long)sw.switches, (unsigned long long)sw.cr3_loads,
	       (unsigned long long)sw.flushing, (unsigned long long)sw.noflush);
	printk("  free pages %llu -> %llu, page-table pages %llu -> %llu\n", (unsigned long long)free0,
	       (unsigned long long)nr_free_pages(), (unsigned long long)tables0, (unsigned long long)kernel_table_pages);
	char *sw_argv[] = { "switches" };
	cmd_switches(1, sw_argv);
	KTEST_CHECK(nr_free_pages() == free0);
	KTEST_CHECK(kernel_table_pages == tables0);
	KTEST_CHECK(nr_pgds == 0);
	return true;
}
