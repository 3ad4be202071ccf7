/*
 * sys.c: the system calls of user/ programs (numbers and semantics:
 * include/uapi/ptlab_unistd.h). User memory is reached only through
 * copy_from_user/copy_to_user, except in uaccess_test mode 0, whose whole
 * point is a direct kernel access that SMAP must stop. Every change of an
 * mm's areas or tables holds its mmap_lock (threads on other CPUs share it)
 * and ends with flush_tlb_mm_range, which has every CPU's TLB up to date
 * before the call returns (docs/smp.md).
 */
#include <asm/console.h>
#include <asm/mmu_context.h>
#include <asm/smp.h>
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
		console_lock();
		for (uint64_t i = 0; i < n; i++) {
			if (chunk[i] == '\n')
				serial_putc('\r');
			serial_putc(chunk[i]);
		}
		console_unlock();
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

static long __sys_brk(struct mm_struct *mm, uint64_t brk)
{
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

long sys_brk(struct pt_regs *regs)
{
	struct mm_struct *mm = current->mm;

	spin_lock(&mm->mmap_lock);
	long r = __sys_brk(mm, regs->rdi);
	spin_unlock(&mm->mmap_lock);
	return r;
}

/* The mmap area that is exactly [addr, addr + len). */
static struct vm_area_struct *find_exact_mmap(struct mm_struct *mm, uint64_t addr, uint64_t len)
{
	struct vm_area_struct *v = find_vma(mm, addr);
	return v && v->vm_start == addr && v->vm_end == addr + len && (v->vm_flags & VM_MMAP) ? v : 0;
}

static unsigned int prot_to_vm(uint64_t prot)
{
	return VM_READ | ((prot & PROT_WRITE) ? VM_WRITE : 0) | ((prot & PROT_EXEC) ? VM_EXEC : 0);
}

/*
 * MAP_FIXED over a whole mmap area: fresh zeroed pages for all of it, each
 * allocated and mapped (PG_MAP_REPLACE) before the page it replaces is
 * freed, a chunk at a time; every CPU's TLB forgets the old pages before
 * they go back to the allocator.
 */
static long remap_area(struct mm_struct *mm, struct vm_area_struct *vma)
{
	struct page *old[16];
	struct pg_flush flush;
	int err = 0;

	for (uint64_t va = vma->vm_start; va < vma->vm_end && !err;) {
		unsigned int n = 0;
		pg_flush_init(&flush);
		for (; va < vma->vm_end && n < 16; va += PAGE_SIZE) {
			phys_addr_t pa;
			struct page *page = alloc_user_page();
			bool had = pg_translate(&mm->ctx, __pa(mm->pgd), va, &pa, 0, 0) == 0;
			if (!page) {
				err = -ENOMEM;
				break;
			}
			err = errno_from_pg(pg_map(&mm->ctx, __pa(mm->pgd), va, va + PAGE_SIZE, page_to_phys(page),
						   vma_page_prot(vma), PG_MASK_4K, PG_MAP_REPLACE, &flush));
			if (err) {
				put_page(page);
				break;
			}
			if (had)
				old[n++] = phys_to_page(pa & PAGE_MASK);
			else
				mm->rss++;
		}
		flush_tlb_mm_range(mm, &flush);
		for (unsigned int i = 0; i < n; i++)
			put_page(old[i]);
	}
	return err;
}

static long mmap_fixed(struct mm_struct *mm, uint64_t addr, uint64_t len, uint64_t prot)
{
	struct vm_area_struct *vma = find_exact_mmap(mm, addr, len);

	if (!vma)
		return -EINVAL; /* ptlab: MAP_FIXED replaces exactly one whole mmap area */
	if (!enough_memory(len >> PAGE_SHIFT))
		return -ENOMEM;
	vma->vm_flags = VM_MMAP | prot_to_vm(prot);
	long err = remap_area(mm, vma);
	return err ? err : (long)addr;
}

static long __sys_mmap(struct mm_struct *mm, struct pt_regs *regs)
{
	uint64_t len = PAGE_ALIGN(regs->rsi), prot = regs->rdx, flags = regs->r10;

	if (!(flags & MAP_ANONYMOUS) || !len || len > MMAP_BASE)
		return -EINVAL;
	if (flags & MAP_FIXED)
		return mmap_fixed(mm, regs->rdi, len, prot);
	if (regs->rdi)
		return -EINVAL;
	if (!enough_memory(len >> PAGE_SHIFT) || mm->mmap_base - len < PAGE_ALIGN(mm->brk))
		return -ENOMEM;
	uint64_t addr = mm->mmap_base - len;
	int err = insert_vma(mm, addr, addr + len, VM_MMAP | prot_to_vm(prot));
	if (err)
		return err;
	mm->mmap_base = addr;
	return (long)addr;
}

long sys_mmap(struct pt_regs *regs)
{
	struct mm_struct *mm = current->mm;

	spin_lock(&mm->mmap_lock);
	long r = __sys_mmap(mm, regs);
	spin_unlock(&mm->mmap_lock);
	return r;
}

long sys_munmap(struct pt_regs *regs)
{
	struct mm_struct *mm = current->mm;
	uint64_t addr = regs->rdi, len = PAGE_ALIGN(regs->rsi);
	long r = -EINVAL; /* only whole mmap areas */

	spin_lock(&mm->mmap_lock);
	struct vm_area_struct *v = len ? find_exact_mmap(mm, addr, len) : 0;
	if (v) {
		zap_page_range(mm, v->vm_start, v->vm_end); /* every CPU's TLB flushed before the pages are reused */
		remove_vma(mm, v);
		r = 0;
	}
	spin_unlock(&mm->mmap_lock);
	return r;
}

struct mprotect_state {
	struct mm_struct *mm;
	const struct vm_area_struct *vma;
	struct pg_flush flush;
};

/* One present page: W as the area says (kept off a page fork still shares: copy-on-write), NX likewise. */
static int mprotect_one(void *arg, const struct pg_range *r)
{
	struct mprotect_state *ms = arg;
	bool write = ms->vma->vm_flags & VM_WRITE, exec = ms->vma->vm_flags & VM_EXEC;

	if (r->kind != PG_RANGE_MAPPED)
		return 0;
	for (uint64_t off = 0; off < r->size; off += PAGE_SIZE) {
		bool exclusive = phys_to_page(r->pa + off)->_refcount == 1;
		uint64_t set = (write && exclusive ? PTE_W | PTE_D : 0) | (exec ? 0 : PTE_NX);
		uint64_t clear = (write ? 0 : PTE_W) | (exec ? PTE_NX : 0);
		int err = pg_protect(&ms->mm->ctx, __pa(ms->mm->pgd), r->start + off, r->start + off + PAGE_SIZE,
				     set, clear, 0, &ms->flush);
		if (err)
			return err;
	}
	return 0;
}

long sys_mprotect(struct pt_regs *regs)
{
	struct mm_struct *mm = current->mm;
	uint64_t addr = regs->rdi, len = PAGE_ALIGN(regs->rsi), prot = regs->rdx;
	struct mprotect_state ms = { .mm = mm };
	long r = -EINVAL;

	if (!(prot & PROT_READ) || (addr & ~PAGE_MASK) || !len)
		return -EINVAL; /* ptlab: no PROT_NONE */
	spin_lock(&mm->mmap_lock);
	struct vm_area_struct *v = find_vma(mm, addr);
	if (v && v->vm_start == addr && v->vm_end == addr + len) { /* only whole areas */
		v->vm_flags = (v->vm_flags & ~(VM_WRITE | VM_EXEC)) | prot_to_vm(prot);
		ms.vma = v;
		pg_flush_init(&ms.flush);
		struct pg_iter_opts opts = { .start = addr, .end = addr + len, .merge = PG_MERGE_NONE };
		r = errno_from_pg(pg_iterate(&mm->ctx, __pa(mm->pgd), &opts, mprotect_one, &ms));
		flush_tlb_mm_range(mm, &ms.flush); /* no CPU may write through the old rights after this */
	}
	spin_unlock(&mm->mmap_lock);
	return r;
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
	return current->tgid;
}

long sys_gettid(struct pt_regs *regs)
{
	(void)regs;
	return current->pid;
}

long sys_getppid(struct pt_regs *regs)
{
	(void)regs;
	return current->parent ? current->parent->tgid : 0;
}

long sys_clone(struct pt_regs *regs)
{
	return do_clone(regs, regs->rdi, regs->rsi, regs->rdx, regs->r10, regs->r8);
}

long sys_fork(struct pt_regs *regs)
{
	return do_fork(regs);
}

long sys_execve(struct pt_regs *regs)
{
	char args[MAX_ARGS][MAX_ARG_LEN]; /* 2 KiB of the 16 KiB kernel stack */
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

long sys_exit_group(struct pt_regs *regs)
{
	do_group_exit((int)((regs->rdi & 0xff) << 8));
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
	spin_lock(&rq_lock); /* CPU 0's tick wakes sleepers under it */
	current->wake_at = jiffies + (ticks ? ticks : 1);
	current->state = TASK_INTERRUPTIBLE;
	__schedule();
	current->wake_at = 0;
	return current->killed ? -EINTR : 0;
}

long sys_virt_to_phys(struct pt_regs *regs)
{
	struct mm_struct *mm = current->mm;
	phys_addr_t pa;
	spin_lock(&mm->mmap_lock);
	int err = regs->rdi >= TASK_SIZE_MAX || pg_translate(&mm->ctx, __pa(mm->pgd), regs->rdi, &pa, 0, 0);
	spin_unlock(&mm->mmap_lock);
	return err ? -EFAULT : (long)pa;
}

long sys_futex(struct pt_regs *regs)
{
	switch (regs->rsi & ~(uint64_t)FUTEX_PRIVATE_FLAG) {
	case FUTEX_WAIT: return futex_wait(regs->rdi, (uint32_t)regs->rdx);
	case FUTEX_WAKE: return futex_wake(current->mm, regs->rdi, (int)regs->rdx);
	default: return -ENOSYS;
	}
}

/* sched_setaffinity(pid or 0, len, &mask): a thread of the caller's process only. */
static struct task_struct *affinity_target(uint64_t pid)
{
	struct task_struct *t = pid ? find_task((int)pid) : current;
	return t && t->tgid == current->tgid && pid < 1000000 ? t : 0;
}

long sys_sched_setaffinity(struct pt_regs *regs)
{
	uint64_t mask = 0;
	struct task_struct *t = affinity_target(regs->rdi);

	if (!t)
		return -ESRCH;
	if (regs->rsi < sizeof(mask) || copy_from_user(&mask, regs->rdx, sizeof(mask)))
		return -EFAULT;
	return set_cpus_allowed(t, mask);
}

long sys_sched_getaffinity(struct pt_regs *regs)
{
	struct task_struct *t = affinity_target(regs->rdi);
	uint64_t mask;

	if (!t)
		return -ESRCH;
	mask = t->cpus_allowed & cpu_online_mask;
	if (regs->rsi < sizeof(mask) || copy_to_user(regs->rdx, &mask, sizeof(mask)))
		return -EFAULT;
	return sizeof(mask);
}

long sys_wait_interrupt(struct pt_regs *regs)
{
	(void)regs;
	__asm__ volatile("sti; hlt; cli" ::: "memory"); /* no switch: not the idle task, no lazy TLB */
	return 0;
}

long sys_clock_gettime(struct pt_regs *regs)
{
	uint64_t ms = jiffies * (1000 / HZ), ts[2] = { ms / 1000, (ms % 1000) * 1000000 };

	if (regs->rdi != CLOCK_MONOTONIC)
		return -EINVAL;
	return copy_to_user(regs->rsi, ts, sizeof(ts)) ? -EFAULT : 0;
}

long sys_getcpu(struct pt_regs *regs)
{
	unsigned int cpu = smp_processor_id(), node = 0;
	if ((regs->rdi && copy_to_user(regs->rdi, &cpu, sizeof(cpu))) ||
	    (regs->rsi && copy_to_user(regs->rsi, &node, sizeof(node))))
		return -EFAULT;
	return 0;
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
	if (regs->rsi == 2) /* a write through copy_to_user, on this CPU's TLB (tlbshoot) */
		return copy_to_user(ptr, &regs->rdx, sizeof(regs->rdx)) ? -EFAULT : 0;
	if (copy_from_user(&v, ptr, sizeof(v)))
		return -EFAULT;
	return (long)v;
}
