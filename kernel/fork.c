/*
 * fork.c: address spaces, fork and clone (Linux: kernel/fork.c, mm/memory.c's
 * copy_page_range), the first path to pgd_alloc:
 *
 *   fork -> do_fork -> dup_mm -> mm_init -> pgd_alloc -> clone_pgd_range
 *   clone(CLONE_VM | CLONE_THREAD ...) -> do_clone: a thread on the same mm
 *
 * dup_mm copies the areas and then every user leaf of the parent, found by
 * pg_iterate (one range per entry): writable pages are write-protected in
 * the parent and mapped read-only in the child, sharing the frame (its
 * _refcount counts both); the first write on either side faults and copies
 * (mm/memory.c do_wp_page). Read-only pages are simply shared. The
 * parent's other threads are held off by its mmap_lock meanwhile, and its
 * TLBs on every CPU are flushed before fork returns (flush_tlb_mm_range).
 */
#include <asm/console.h>
#include <asm/mmu_context.h>
#include <asm/traps.h>
#include <linux/sched.h>
#include <linux/vmalloc.h>
#include <uapi/ptlab_unistd.h>

static struct mm_struct mm_pool[NR_TASKS];
static DEFINE_SPINLOCK(mm_pool_lock);

void ret_from_fork(void);

/* Table pages of an mm: from kernel_ctx's allocator, counted, refused when memory is short. */
static int mm_alloc_table(void *arg, phys_addr_t *pa)
{
	struct mm_struct *mm = arg;
	if (nr_free_pages() < USER_RESERVE_PAGES / 2)
		return -1;
	int err = kernel_ctx.alloc_table(kernel_ctx.arg, pa);
	if (!err)
		mm->nr_ptes++;
	return err;
}

static void mm_free_table(void *arg, phys_addr_t pa)
{
	struct mm_struct *mm = arg;
	mm->nr_ptes--;
	kernel_ctx.free_table(kernel_ctx.arg, pa);
}

/* Linux's mm_init: the pgd, the context id, the table callbacks. */
static struct mm_struct *mm_init(struct mm_struct *mm)
{
	*mm = (struct mm_struct){ .users = 1, .mmap_base = MMAP_BASE,
				  .mmap_lock = __SPIN_LOCK_UNLOCKED(mm->mmap_lock) };
	mm->ctx = kernel_ctx;
	mm->ctx.arg = mm;
	mm->ctx.alloc_table = mm_alloc_table;
	mm->ctx.free_table = mm_free_table;
	mm->ctx.table_flags = _PAGE_TABLE; /* user-reachable intermediate entries */
	mm->pgd = pgd_alloc(mm);           /* mm_alloc_pgd */
	if (!mm->pgd) {
		atomic_set(&mm->users, 0);
		return 0;
	}
	mm->context.ctx_id = new_ctx_id();
	return mm;
}

struct mm_struct *mm_alloc(void)
{
	struct mm_struct *mm = 0;

	spin_lock(&mm_pool_lock);
	for (int i = 0; i < NR_TASKS && !mm; i++)
		if (mm_pool[i].users == 0 && !mm_pool[i].pgd) {
			mm = &mm_pool[i];
			mm->users = 1; /* taken: mm_init fills it */
		}
	spin_unlock(&mm_pool_lock);
	return mm ? mm_init(mm) : 0;
}

uint64_t mm_table_pages(const struct mm_struct *mm)
{
	return mm->nr_ptes + 1;
}

/* Free every user page and every table page of mm (Linux: exit_mmap, free_pgtables, pgd_free). */
static void exit_mmap(struct mm_struct *mm)
{
	int err = zap_page_range(mm, 0, TASK_SIZE_MAX + PAGE_SIZE);
	if (err)
		printk("ptlab: exit_mmap: %s\n", pg_strerror(err));
	if (mm->rss || mm->nr_ptes)
		printk("ptlab: exit_mmap: %llu user pages and %llu table pages left behind\n",
		       (unsigned long long)mm->rss, (unsigned long long)mm->nr_ptes);
	shoot_lazy_tlbs(mm); /* no CPU may keep the pgd loaded, lazily or not, once it is freed */
	pgd_free(mm, mm->pgd);
	spin_lock(&mm_pool_lock);
	mm->pgd = 0;          /* the slot is free again */
	spin_unlock(&mm_pool_lock);
}

struct mm_struct *get_task_mm(struct task_struct *t)
{
	struct mm_struct *mm = 0;

	spin_lock(&rq_lock); /* t->mm changes (exec, exit) under it */
	if (t->mm != &init_mm && (t->state == TASK_RUNNING || t->state == TASK_INTERRUPTIBLE)) {
		int users = atomic_read(&t->mm->users);
		while (users && !__atomic_compare_exchange_n(&t->mm->users, &users, users + 1, false,
							     __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			;
		if (users)
			mm = t->mm;
	}
	spin_unlock(&rq_lock);
	return mm;
}

void mmput(struct mm_struct *mm)
{
	if (mm == &init_mm)
		return;
	if (atomic_dec_return(&mm->users) == 0)
		exit_mmap(mm);
}

struct copy_state {
	struct mm_struct *dst, *src;
	struct pg_flush flush;
};

/* One leaf of the parent: share it with the child, both read-only if it was writable. */
static int copy_one_pte(void *arg, const struct pg_range *r)
{
	struct copy_state *cs = arg;
	if (r->kind != PG_RANGE_MAPPED)
		return 0;
	for (uint64_t off = 0; off < r->size; off += PAGE_SIZE) {
		uint64_t va = r->start + off, prot = r->prot;
		if (prot & PTE_W) {
			int err = pg_protect(&cs->src->ctx, __pa(cs->src->pgd), va, va + PAGE_SIZE, 0, PTE_W, 0, &cs->flush);
			if (err)
				return err;
			prot &= ~PTE_W;
		}
		int err = pg_map(&cs->dst->ctx, __pa(cs->dst->pgd), va, va + PAGE_SIZE, r->pa + off, prot, PG_MASK_4K, 0, 0);
		if (err)
			return err;
		get_page(phys_to_page(r->pa + off));
		cs->dst->rss++;
	}
	return 0;
}

struct mm_struct *dup_mm(struct mm_struct *oldmm)
{
	struct mm_struct *mm = mm_alloc();
	if (!mm)
		return 0;
	spin_lock(&oldmm->mmap_lock);
	memcpy(mm->vmas, oldmm->vmas, sizeof(mm->vmas));
	mm->nr_vmas = oldmm->nr_vmas;
	mm->start_brk = oldmm->start_brk;
	mm->brk = oldmm->brk;
	mm->mmap_base = oldmm->mmap_base;

	struct copy_state cs = { .dst = mm, .src = oldmm };
	struct pg_iter_opts opts = { .start = 0, .end = TASK_SIZE_MAX, .merge = PG_MERGE_NONE };
	pg_flush_init(&cs.flush);
	int err = pg_iterate(&oldmm->ctx, __pa(oldmm->pgd), &opts, copy_one_pte, &cs);
	flush_tlb_mm_range(oldmm, &cs.flush); /* the parent's pages are read-only now, on every CPU */
	spin_unlock(&oldmm->mmap_lock);
	if (err) {
		mmput(mm);
		return 0;
	}
	return mm;
}

/*
 * Kernel stacks come from the vmalloc area (Linux's VMAP_STACK): THREAD_SIZE
 * aligned, with an unmapped guard page above and the area below's guard (or
 * nothing) under it, so an overflow faults into the double-fault handler
 * (on its own IST stack) instead of running over whatever lies below.
 */
void *alloc_thread_stack_node(void)
{
	return __vmalloc_node_range(THREAD_SIZE, THREAD_SIZE, PAGE_KERNEL, "alloc_thread_stack_node");
}

void free_thread_stack(void *stack)
{
	vfree(stack);
}

struct task_struct *kernel_thread(void (*fn)(void), const char *name)
{
	struct task_struct *p = alloc_task();
	if (!p)
		return 0;
	size_t n = strlen(name) < sizeof(p->comm) - 1 ? strlen(name) : sizeof(p->comm) - 1;
	memcpy(p->comm, name, n);
	p->comm[n] = '\0';
	p->parent = current;
	uint64_t *sp = (uint64_t *)((uint64_t)(uintptr_t)p->stack + THREAD_SIZE);
	*--sp = 0;                         /* fn's return address: it never returns */
	*--sp = (uint64_t)(uintptr_t)fn;   /* where __switch_to_asm's ret goes */
	sp -= 6;                           /* rbp rbx r12 r13 r14 r15 */
	memset(sp, 0, 6 * sizeof(*sp));
	p->sp = (uint64_t)(uintptr_t)sp;
	p->state = TASK_RUNNING;
	return p;
}

/* Give p a kernel stack that returns to ring 3 with *regs: the pt_regs on top, a switch frame below. */
void task_setup_stack(struct task_struct *p, const struct pt_regs *regs)
{
	struct pt_regs *childregs = (struct pt_regs *)((uint64_t)(uintptr_t)p->stack + THREAD_SIZE) - 1;
	*childregs = *regs;
	uint64_t *sp = (uint64_t *)childregs;
	*--sp = (uint64_t)(uintptr_t)ret_from_fork; /* __switch_to_asm's ret goes there */
	sp -= 6;                                    /* rbp rbx r12 r13 r14 r15 */
	memset(sp, 0, 6 * sizeof(*sp));
	p->sp = (uint64_t)(uintptr_t)sp;
}

/* The new task's identity, parent and first frame (RAX 0: clone and fork return 0 in it). */
static void copy_thread(struct task_struct *p, const struct pt_regs *regs, uint64_t newsp)
{
	struct task_struct *leader = find_task(current->tgid);

	memcpy(p->comm, current->comm, sizeof(p->comm));
	p->parent = leader && leader->state != TASK_ZOMBIE ? leader : current; /* the process, if still there */
	p->cpus_allowed = current->cpus_allowed;
	p->fsbase = current->fsbase;
	struct pt_regs childregs = *regs;
	childregs.rax = 0;
	if (newsp)
		childregs.rsp = newsp;
	task_setup_stack(p, &childregs);
}

long do_fork(struct pt_regs *regs)
{
	struct task_struct *p = alloc_task();
	if (!p)
		return -EAGAIN;
	p->mm = dup_mm(current->mm);
	if (!p->mm) {
		free_task(p);
		return -ENOMEM;
	}
	copy_thread(p, regs, 0);
	wake_up_new_task(p);
	return p->pid;
}

#define CLONE_KNOWN (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | \
		     CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | 0xff /* exit signal */)

long do_clone(struct pt_regs *regs, uint64_t flags, uint64_t newsp, uint64_t parent_tid, uint64_t child_tid,
	      uint64_t tls)
{
	if ((flags & ~(uint64_t)CLONE_KNOWN) || ((flags & CLONE_THREAD) && !(flags & CLONE_SIGHAND)) ||
	    ((flags & CLONE_SIGHAND) && !(flags & CLONE_VM)) || tls >= TASK_SIZE_MAX)
		return -EINVAL;
	if (!(flags & CLONE_VM))
		return do_fork(regs); /* (no other clone of a process is needed) */
	struct task_struct *p = alloc_task();
	if (!p)
		return -EAGAIN;
	atomic_inc_return(&current->mm->users);
	p->mm = current->mm;
	copy_thread(p, regs, newsp);
	if (flags & CLONE_THREAD)
		p->tgid = current->tgid;
	if (flags & CLONE_SETTLS)
		p->fsbase = tls;
	if (flags & CLONE_CHILD_CLEARTID)
		p->clear_child_tid = child_tid;
	int tid = p->pid;
	if ((flags & CLONE_PARENT_SETTID) && copy_to_user(parent_tid, &tid, sizeof(tid))) {
		mmput(p->mm);
		free_task(p);
		return -EFAULT;
	}
	wake_up_new_task(p);
	return tid;
}
