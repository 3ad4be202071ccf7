/*
 * sys.c: the system calls of user/ programs (numbers and semantics:
 * include/uapi/ptlab_unistd.h). User memory is reached only through
 * copy_from_user/copy_to_user, except in uaccess_test mode 0, whose whole
 * point is a direct kernel access that SMAP must stop.
 */
#include <asm/console.h>
#include <asm/mmu_context.h>
#include <linux/sched.h>
#include <linux/syscalls.h>
#include <uapi/ptlab_unistd.h>

#define PAGE_ALIGN(x) (((x) + PAGE_SIZE - 1) & PAGE_MASK)
#define MAX_ARGS 16
#define MAX_ARG_LEN 128

long sys_write(struct pt_regs *regs)
{
	uint64_t fd = regs->rdi, buf = regs->rsi, len = regs->rdx;
	char chunk[128];

	if (fd != 1 && fd != 2)
		return -EINVAL;
	for (uint64_t done = 0; done < len;) {
		uint64_t n = len - done < sizeof(chunk) ? len - done : sizeof(chunk);
		if (copy_from_user(chunk, buf + done, n))
			return done ? (long)done : -EFAULT;
		for (uint64_t i = 0; i < n; i++) {
			if (chunk[i] == '\n')
				serial_putc('\r');
			serial_putc(chunk[i]);
		}
		done += n;
	}
	return (long)len;
}

/* Whether `pages` more user pages can be promised (with room for their tables and the kernel). */
static bool enough_memory(uint64_t pages)
{
	uint64_t free = nr_free_pages(), need = USER_RESERVE_PAGES + pages + pages / 256 + 16;
	return free >= need;
}

static struct vm_area_struct *find_vma_flags(struct mm_struct *mm, unsigned int flag)
{
	for (unsigned int i = 0; i < mm->nr_vmas; i++)
		if (mm->vmas[i].vm_flags & flag)
			return &mm->vmas[i];
	return 0;
}

static void remove_vma(struct mm_struct *mm, struct vm_area_struct *vma)
{
	*vma = mm->vmas[--mm->nr_vmas];
}

static bool range_free(struct mm_struct *mm, uint64_t start, uint64_t end)
{
	for (unsigned int i = 0; i < mm->nr_vmas; i++)
		if (start < mm->vmas[i].vm_end && mm->vmas[i].vm_start < end)
			return false;
	return true;
}

long sys_brk(struct pt_regs *regs)
{
	struct mm_struct *mm = current->mm;
	uint64_t brk = regs->rdi;

	if (brk < mm->start_brk || brk > MMAP_BASE - STACK_MAX)
		return (long)mm->brk;
	uint64_t old_end = PAGE_ALIGN(mm->brk), new_end = PAGE_ALIGN(brk);
	struct vm_area_struct *heap = find_vma_flags(mm, VM_HEAP);
	if (new_end > old_end) {
		if (!range_free(mm, old_end, new_end) || !enough_memory((new_end - old_end) >> PAGE_SHIFT))
			return (long)mm->brk;
		if (heap)
			heap->vm_end = new_end;
		else if (insert_vma(mm, mm->start_brk, new_end, VM_READ | VM_WRITE | VM_HEAP))
			return (long)mm->brk;
	} else if (new_end < old_end) {
		zap_page_range(mm, new_end, old_end);
		if (heap && new_end == heap->vm_start)
			remove_vma(mm, heap);
		else if (heap)
			heap->vm_end = new_end;
	}
	mm->brk = brk;
	return (long)brk;
}

long sys_mmap(struct pt_regs *regs)
{
	struct mm_struct *mm = current->mm;
	uint64_t len = PAGE_ALIGN(regs->rsi), prot = regs->rdx, flags = regs->r10;

	if (regs->rdi || !(flags & MAP_ANONYMOUS) || !len || len > MMAP_BASE)
		return -EINVAL;
	if (!enough_memory(len >> PAGE_SHIFT) || mm->mmap_base - len < PAGE_ALIGN(mm->brk))
		return -ENOMEM;
	uint64_t addr = mm->mmap_base - len;
	unsigned int vm = VM_READ | VM_MMAP | ((prot & PROT_WRITE) ? VM_WRITE : 0) | ((prot & PROT_EXEC) ? VM_EXEC : 0);
	int err = insert_vma(mm, addr, addr + len, vm);
	if (err)
		return err;
	mm->mmap_base = addr;
	return (long)addr;
}

long sys_munmap(struct pt_regs *regs)
{
	struct mm_struct *mm = current->mm;
	uint64_t addr = regs->rdi, len = PAGE_ALIGN(regs->rsi);

	for (unsigned int i = 0; i < mm->nr_vmas; i++) {
		struct vm_area_struct *v = &mm->vmas[i];
		if (v->vm_start == addr && v->vm_end == addr + len && (v->vm_flags & VM_MMAP)) {
			zap_page_range(mm, v->vm_start, v->vm_end);
			remove_vma(mm, v);
			return 0;
		}
	}
	return -EINVAL; /* only whole mmap areas */
}

long sys_sched_yield(struct pt_regs *regs)
{
	(void)regs;
	schedule();
	return 0;
}

long sys_getpid(struct pt_regs *regs)
{
	(void)regs;
	return current->pid;
}

long sys_getppid(struct pt_regs *regs)
{
	(void)regs;
	return current->parent ? current->parent->pid : 0;
}

long sys_fork(struct pt_regs *regs)
{
	return do_fork(regs);
}

long sys_execve(struct pt_regs *regs)
{
	static char args[MAX_ARGS][MAX_ARG_LEN]; /* one CPU, no preemption in the kernel */
	char name[32];
	char *argv[MAX_ARGS];
	int argc = 0;

	long n = strncpy_from_user(name, regs->rdi, sizeof(name));
	if (n < 0)
		return n == -E2BIG ? -ENOENT : n;
	for (uint64_t uargv = regs->rsi; uargv; argc++) {
		uint64_t p;
		if (copy_from_user(&p, uargv + (uint64_t)argc * 8, 8))
			return -EFAULT;
		if (!p)
			break;
		if (argc == MAX_ARGS)
			return -E2BIG;
		long len = strncpy_from_user(args[argc], p, MAX_ARG_LEN);
		if (len < 0)
			return len;
		argv[argc] = args[argc];
	}
	if (argc == 0) {
		argv[0] = name;
		argc = 1;
	}
	return do_execve(regs, name, argc, argv);
}

long sys_exit(struct pt_regs *regs)
{
	do_exit((int)((regs->rdi & 0xff) << 8));
}

long sys_wait4(struct pt_regs *regs)
{
	int status = 0;
	long pid = do_wait((int)regs->rdi, &status);
	if (pid > 0 && regs->rsi && copy_to_user(regs->rsi, &status, sizeof(status)))
		return -EFAULT;
	return pid;
}

long sys_kill(struct pt_regs *regs)
{
	int sig = (int)regs->rsi;
	if (sig != SIGKILL && sig != SIGSEGV)
		return -EINVAL;
	return kill_task((int)regs->rdi, sig);
}

long sys_sleep_ms(struct pt_regs *regs)
{
	uint64_t ticks = (regs->rdi + 1000 / HZ - 1) / (1000 / HZ);
	current->wake_at = jiffies + (ticks ? ticks : 1);
	current->state = TASK_INTERRUPTIBLE;
	schedule();
	current->wake_at = 0;
	return current->killed ? -EINTR : 0;
}

long sys_virt_to_phys(struct pt_regs *regs)
{
	struct mm_struct *mm = current->mm;
	phys_addr_t pa;
	if (regs->rdi >= TASK_SIZE_MAX || pg_translate(&mm->ctx, __pa(mm->pgd), regs->rdi, &pa, 0, 0))
		return -EFAULT;
	return (long)pa;
}

long sys_uaccess_test(struct pt_regs *regs)
{
	uint64_t ptr = regs->rdi, v = 0;
	if (ptr >= TASK_SIZE_MAX - 8)
		return -EFAULT;
	if (regs->rsi == 0) {
		/* The bug SMAP exists for: a plain kernel load from a user address. */
		v = *(volatile uint64_t *)(uintptr_t)ptr;
		return (long)v;
	}
	if (copy_from_user(&v, ptr, sizeof(v)))
		return -EFAULT;
	return (long)v;
}
