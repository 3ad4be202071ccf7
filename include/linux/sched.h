/*
 * sched.h: processes and threads (kernel/sched.c, fork.c, exec.c, exit.c,
 * futex.c).
 *
 * Task 0 is the kernel itself: the boot context that runs the shell, on
 * init_mm (swapper_pg_dir), pinned to CPU 0. Every other task of tasks[] is
 * a user thread with a 16 KiB kernel stack in the vmalloc area, guarded
 * (VMAP_STACK); the top of that stack holds the struct pt_regs of its last
 * entry from ring 3. A process is a thread group: the threads
 * clone(CLONE_VM | CLONE_THREAD ...) made share its mm and its tgid (the
 * leader's pid). Each other CPU has an idle task of its own (not in
 * tasks[]) that runs when nothing else may. One run queue for all CPUs
 * (tasks[], under rq_lock), round robin, preemption by each CPU's timer
 * when it interrupts ring 3; the kernel itself is not preempted (it runs
 * with interrupts off except where it idles).
 */
#ifndef LINUX_SCHED_H
#define LINUX_SCHED_H

#include <asm/current.h>
#include <asm/ptrace.h>
#include <linux/mm_types.h>
#include <linux/spinlock.h>
#include <stdbool.h>
#include <stdint.h>

#define NR_TASKS          64
#define THREAD_SIZE_ORDER 2 /* 16 KiB kernel stacks */
#define THREAD_SIZE       (PAGE_SIZE << THREAD_SIZE_ORDER)
#define HZ                100 /* timer ticks per second */

enum task_state {
	TASK_UNUSED = 0,
	TASK_RUNNING,       /* running or runnable */
	TASK_INTERRUPTIBLE, /* sleeping (sleep_ms) or waiting for a child */
	TASK_ZOMBIE,        /* exited, waiting to be reaped by its parent */
	TASK_DEAD,          /* a thread (not a leader) that exited: freed once off its CPU */
	TASK_NEW,           /* being built by fork, clone or run: not runnable yet */
};

struct task_struct {
	int pid;              /* Linux's tid: unique per thread */
	int tgid;             /* the thread group (process): its leader's pid */
	enum task_state state;
	char comm[16];
	struct mm_struct *mm;
	void *stack;          /* the kernel stack (NULL for task 0: the boot stack) */
	uint64_t sp;          /* saved kernel RSP while switched out (__switch_to_asm) */
	struct task_struct *parent;
	int exit_code;        /* wait status once a zombie */
	uint64_t wake_at;     /* jiffies to wake at (sleep_ms); 0 = not sleeping */
	bool waiting_child;   /* blocked in wait4 */
	int killed;           /* pending kill: the signal number, acted on at the next return to ring 3 */
	bool background;      /* started with `run ... &`: the shell reaps and reports it */
	uint64_t switches_in; /* times this task was switched to */
	uint64_t cpus_allowed; /* cpumask: where it may run (sched_setaffinity, run -c) */
	volatile int on_cpu;  /* 1 while a CPU runs it (its stack in use) */
	unsigned int cpu;     /* the CPU it runs or last ran on */
	bool is_idle;         /* a CPU's idle task: runs on whatever mm is loaded (lazy TLB) */
	int group_exit_code;  /* leader: the status of exit_group or a fatal signal (0: none yet) */
	uint64_t clear_child_tid; /* CLONE_CHILD_CLEARTID: 0 written there and futex-woken at exit */
	uint64_t fsbase;      /* CLONE_SETTLS: the user FS base */
	struct mm_struct *futex_mm; /* futex_wait: the word it sleeps on (mm, address) */
	uint64_t futex_uaddr;
};

extern struct task_struct tasks[NR_TASKS];
extern volatile uint64_t jiffies;
/* The run queue and every task's state: tasks[], states, parents (kernel/sched.c). */
extern spinlock_t rq_lock;

static inline bool user_mode(const struct pt_regs *regs)
{
	return (regs->cs & 3) == 3;
}

/* kernel/sched.c */
void sched_init(void);                   /* task 0 = the running kernel; GDT/TSS/syscalls/timer */
void schedule(void);                     /* switch to the next runnable task (maybe current) */
/* schedule() with rq_lock already held (a state change made under it); returns without it. */
void __schedule(void);
void sched_idle(void);                   /* let the others run once; let a tick in */
/*
 * sched_idle_wait - the same, then, if nothing else may run on this CPU, halt
 * until the next interrupt: the shell waiting for a process (run, kill, the
 * selftests) leaves the host's CPU to the others (a busy vCPU slows the
 * other vCPUs of multi-threaded TCG down a hundredfold).
 */
void sched_idle_wait(void);
void wake_up_process(struct task_struct *t);
void wake_up_process_locked(struct task_struct *t); /* rq_lock held */
/* A runnable task that other CPUs may take: kick the idle ones it may run on. */
void kick_task(struct task_struct *t);
/* The idle task of cpu (an AP): a task_struct on stack; CPU 0's is task 0. */
struct task_struct *init_idle(unsigned int cpu, void *stack);
/* An AP's idle loop: schedule, else HLT until an interrupt (never returns). */
__attribute__((noreturn)) void cpu_startup_entry(void);
/* Whether t may run on cpu. */
static inline bool task_allowed_on(const struct task_struct *t, unsigned int cpu)
{
	return (t->cpus_allowed >> cpu) & 1;
}
/* Restrict t to mask (of online CPUs). returns: 0; -EINVAL (no online CPU in mask). */
int set_cpus_allowed(struct task_struct *t, uint64_t mask);
/* The threads of t's group besides t that have not exited. */
int nr_other_threads(const struct task_struct *t);
struct task_struct *find_task(int pid);  /* a live or zombie task; NULL if none */
struct task_struct *alloc_task(void);    /* a TASK_NEW slot with a pid and a stack; NULL if none */
void wake_up_new_task(struct task_struct *t); /* t is built: make it runnable */
void free_task(struct task_struct *t);   /* frees its kernel stack; slot reusable */
void scheduler_tick(struct pt_regs *regs); /* the timer interrupt */
int nr_user_tasks(void);
const char *task_state_name(const struct task_struct *t);

/* kernel/fork.c */
/* The child of current (fork): COW copy of its mm, returns to ring 3 with RAX 0. returns: pid or -errno. */
long do_fork(struct pt_regs *regs);
/*
 * do_clone - Linux's clone(flags, newsp, parent_tid, child_tid, tls) with the
 * flags a minimal pthread uses: CLONE_VM shares current's mm, CLONE_THREAD
 * joins its thread group (and needs CLONE_SIGHAND and CLONE_VM), CLONE_SETTLS
 * sets the FS base, CLONE_PARENT_SETTID / CLONE_CHILD_CLEARTID as Linux;
 * CLONE_FS, CLONE_FILES, CLONE_SYSVSEM are accepted (there is nothing to share).
 * Without CLONE_VM it is fork. returns: the new tid, or -EINVAL, -EAGAIN, -ENOMEM, -EFAULT.
 */
long do_clone(struct pt_regs *regs, uint64_t flags, uint64_t newsp, uint64_t parent_tid,
	      uint64_t child_tid, uint64_t tls);
/* Prepare p's kernel stack so that its first switch returns to ring 3 with *regs. */
void task_setup_stack(struct task_struct *p, const struct pt_regs *regs);
/* A kernel stack: THREAD_SIZE from the vmalloc area, guard pages around it. NULL if no memory. */
void *alloc_thread_stack_node(void);
void free_thread_stack(void *stack);
/*
 * kernel_thread - a runnable task on init_mm that starts in fn (which must
 * never return) on a fresh kernel stack, named name.
 * returns: the task, or NULL (no slot or no memory).
 */
struct task_struct *kernel_thread(void (*fn)(void), const char *name);

/* kernel/exec.c */
struct user_program {
	const char *name;
	const unsigned char *start, *end; /* the ELF image embedded in the kernel */
};
extern const struct user_program user_programs[]; /* ends with a NULL name */
const struct user_program *find_user_program(const char *name);
/*
 * do_execve - replace current's address space with a fresh one running
 * program `name` with argv (kernel strings). regs is the frame current
 * returns to ring 3 with. returns: 0; -ENOENT, -ENOEXEC, -E2BIG, -ENOMEM;
 * -EBUSY when the process has other threads.
 */
int do_execve(struct pt_regs *regs, const char *name, int argc, char *const argv[]);
/*
 * spawn_user_program - a new process (child of current) running name with
 * argv, on the CPUs of the cpumask cpus (~0: any).
 * returns: the task, or NULL with *err set (-ENOENT, -ENOEXEC, -ENOMEM, -EAGAIN).
 */
struct task_struct *spawn_user_program(const char *name, int argc, char *const argv[], uint64_t cpus, int *err);

/* kernel/exit.c */
/* The end of current (one thread). status: the wait status if it is the last of its process. */
__attribute__((noreturn)) void do_exit(int status);
/* The end of current's whole process: every other thread is killed first (exit_group). */
__attribute__((noreturn)) void do_group_exit(int status);
/* Wait for child pid (-1: any) of current. returns: its pid and *status; -ECHILD; -EINTR. */
long do_wait(int pid, int *status);
/* Reap a zombie child of current without blocking. returns: pid, 0 if none is a zombie yet. */
long reap_zombie(int pid, int *status);
/* Mark pid's process killed by sig; each thread dies at its next return to ring 3. returns: 0, -ESRCH, -EPERM. */
int kill_task(int pid, int sig);

/* kernel/futex.c: FUTEX_WAIT / FUTEX_WAKE on a word of an mm. */
/* Sleep while *uaddr == val. returns: 0 (woken), -EAGAIN (the value differed), -EFAULT, -EINTR. */
long futex_wait(uint64_t uaddr, uint32_t val);
/* Wake up to n tasks sleeping on (mm, uaddr). returns: how many. */
long futex_wake(struct mm_struct *mm, uint64_t uaddr, int n);
/* Called on every return to ring 3: act on a pending kill, preempt. */
void exit_to_user_mode(struct pt_regs *regs);

/* arch/x86/kernel/syscall.c */
void syscall_init(void);
/* The exception-table-aware user copies (SMAP: STAC/CLAC around them). returns: 0 or -EFAULT. */
long copy_from_user(void *dst, uint64_t usrc, uint64_t n);
long copy_to_user(uint64_t udst, const void *src, uint64_t n);
/* A NUL-terminated user string into dst[size]. returns: its length, -EFAULT, -E2BIG. */
long strncpy_from_user(char *dst, uint64_t usrc, uint64_t size);

/* arch/x86/kernel/apic.c */
void timer_init(void);                    /* local APIC timer at HZ (the PIT without an APIC) */
extern const char *timer_source;

#endif /* LINUX_SCHED_H */
