/*
 * sched.h: processes (kernel/sched.c, fork.c, exec.c, exit.c).
 *
 * Task 0 is the kernel itself: the boot context that runs the shell, on
 * init_mm (swapper_pg_dir). Every other task is a user process with its own
 * mm and a 16 KiB kernel stack in the vmalloc area, guarded (VMAP_STACK); the
 * top of that stack holds the struct pt_regs of its last entry from ring 3. One CPU, round-robin, preemption by
 * the timer when it interrupts ring 3; the kernel itself is not preempted
 * (it runs with interrupts off except where it idles).
 */
#ifndef LINUX_SCHED_H
#define LINUX_SCHED_H

#include <asm/ptrace.h>
#include <linux/mm_types.h>
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
};

struct task_struct {
	int pid;
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
};

extern struct task_struct *current;
extern struct task_struct tasks[NR_TASKS];
extern volatile uint64_t jiffies;

static inline bool user_mode(const struct pt_regs *regs)
{
	return (regs->cs & 3) == 3;
}

/* kernel/sched.c */
void sched_init(void);                   /* task 0 = the running kernel; GDT/TSS/syscalls/timer */
void schedule(void);                     /* switch to the next runnable task (maybe current) */
void sched_idle(void);                   /* let the others run once; let a tick in */
void wake_up_process(struct task_struct *t);
struct task_struct *find_task(int pid);  /* a live or zombie task; NULL if none */
struct task_struct *alloc_task(void);    /* a free slot with a pid; NULL if the table is full */
void free_task(struct task_struct *t);   /* frees its kernel stack; slot reusable */
void scheduler_tick(struct pt_regs *regs); /* the timer interrupt */
int nr_user_tasks(void);
const char *task_state_name(const struct task_struct *t);

/* kernel/fork.c */
/* The child of current (fork): COW copy of its mm, returns to ring 3 with RAX 0. returns: pid or -errno. */
long do_fork(struct pt_regs *regs);
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
 * returns to ring 3 with. returns: 0; -ENOENT, -ENOEXEC, -E2BIG, -ENOMEM.
 */
int do_execve(struct pt_regs *regs, const char *name, int argc, char *const argv[]);
/*
 * spawn_user_program - a new process (child of current) running name with argv.
 * returns: the task, or NULL with *err set (-ENOENT, -ENOEXEC, -ENOMEM, -EAGAIN).
 */
struct task_struct *spawn_user_program(const char *name, int argc, char *const argv[], int *err);

/* kernel/exit.c */
__attribute__((noreturn)) void do_exit(int status);
/* Wait for child pid (-1: any) of current. returns: its pid and *status; -ECHILD; -EINTR. */
long do_wait(int pid, int *status);
/* Reap a zombie child of current without blocking. returns: pid, 0 if none is a zombie yet. */
long reap_zombie(int pid, int *status);
/* Mark t killed by sig; it dies at its next return to ring 3. returns: 0, -ESRCH, -EPERM. */
int kill_task(int pid, int sig);
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
