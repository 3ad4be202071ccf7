/*
 * fault_user.c: the process half of do_page_fault (Linux: do_user_addr_fault).
 *
 * A fault on a user address in a process (from ring 3, or from a kernel user
 * copy, whose RIP is in the exception table) goes to handle_mm_fault: demand
 * paging of the stack, heap, mmap and bss areas, copy-on-write after fork.
 * What it cannot serve kills the process: a ring-3 access to an unmapped
 * address, to a kernel address, or one the page's rights forbid (SIGSEGV,
 * with the decoded #PF report); no memory for the page (SIGKILL, the OOM
 * report). A user copy that cannot be served returns -EFAULT through its
 * fixup. A kernel access to user memory outside the user copies (SMAP's
 * case) kills the process too, with the report, and the kernel goes on.
 * Faults of the kernel itself (task 0, kernel addresses) are not handled here.
 */
#include <asm/console.h>
#include <asm/cpufeature.h>
#include <asm/processor.h>
#include <asm/traps.h>
#include <linux/sched.h>
#include <uapi/ptlab_unistd.h>

static __attribute__((noreturn)) void kill_current(int sig, uint64_t cr2, uint64_t err, uint64_t rip)
{
	show_fault_report(cr2, err, rip);
	printk("ptlab: pid %d (%s) killed by %s; the kernel goes on\n", current->pid, current->comm,
	       sig == SIGKILL ? "SIGKILL" : "SIGSEGV");
	do_group_exit(sig); /* every thread of the process */
}

bool do_user_addr_fault(struct pt_regs *regs, uint64_t cr2)
{
	struct mm_struct *mm = current->mm;
	uint64_t err = regs->error_code;
	bool user = user_mode(regs);

	if (!user && (mm == &init_mm || cr2 >= TASK_SIZE_MAX))
		return false; /* the kernel's own fault: the exception table or a panic */
	if (!user && !search_exception_tables(regs->rip)) {
		printk("\nptlab: pid %d (%s): kernel access to user address 0x%016llx outside the user copies%s\n",
		       current->pid, current->comm, (unsigned long long)cr2,
		       (read_cr4() & X86_CR4_SMAP) ? " (stopped by SMAP: CR4.SMAP=1, RFLAGS.AC=0)" : "");
		kill_current(SIGSEGV, cr2, err, regs->rip);
	}
	if (cr2 < TASK_SIZE_MAX) {
		int r = handle_mm_fault(mm, cr2, err);
		if (r == 0)
			return true;
		if (r == -ENOMEM) {
			printk("\nptlab: out of memory: pid %d (%s) holds %llu user pages, %llu free pages left\n",
			       current->pid, current->comm, (unsigned long long)mm->rss,
			       (unsigned long long)nr_free_pages());
			if (!user)
				return false; /* the user copy fails with -EFAULT */
			kill_current(SIGKILL, cr2, err, regs->rip);
		}
	}
	if (!user)
		return false; /* a user copy: its fixup returns -EFAULT */
	printk("\nptlab: pid %d (%s): segfault at 0x%016llx ip 0x%016llx error 0x%llx\n", current->pid,
	       current->comm, (unsigned long long)cr2, (unsigned long long)regs->rip, (unsigned long long)err);
	kill_current(SIGSEGV, cr2, err, regs->rip);
}
