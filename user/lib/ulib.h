/*
 * ulib.h: the user programs' C library: system calls (SYSCALL, numbers in
 * include/uapi/ptlab_unistd.h), printf through lib/vsprintf.c, sbrk on brk,
 * and threads on clone (thread_create, thread_join: a minimal pthread).
 */
#ifndef USER_ULIB_H
#define USER_ULIB_H

#include <lib/vsprintf.h>
#include <paging/pg_env.h>
#include <stdarg.h>
#include <stdint.h>
#include <uapi/ptlab_unistd.h>

long syscall6(long nr, long a1, long a2, long a3, long a4, long a5, long a6);

static inline long write(int fd, const void *buf, unsigned long n) { return syscall6(__NR_write, fd, (long)buf, (long)n, 0, 0, 0); }
static inline int getpid(void) { return (int)syscall6(__NR_getpid, 0, 0, 0, 0, 0, 0); }
static inline int getppid(void) { return (int)syscall6(__NR_getppid, 0, 0, 0, 0, 0, 0); }
static inline int fork(void) { return (int)syscall6(__NR_fork, 0, 0, 0, 0, 0, 0); }
static inline int execve(const char *name, char *const argv[]) { return (int)syscall6(__NR_execve, (long)name, (long)argv, 0, 0, 0, 0); }
static inline int wait(int *status) { return (int)syscall6(__NR_wait4, -1, (long)status, 0, 0, 0, 0); }
static inline int waitpid(int pid, int *status) { return (int)syscall6(__NR_wait4, pid, (long)status, 0, 0, 0, 0); }
static inline int kill(int pid, int sig) { return (int)syscall6(__NR_kill, pid, sig, 0, 0, 0, 0); }
static inline int yield(void) { return (int)syscall6(__NR_sched_yield, 0, 0, 0, 0, 0, 0); }
static inline int sleep_ms(unsigned long ms) { return (int)syscall6(__NR_sleep_ms, (long)ms, 0, 0, 0, 0, 0); }
static inline long brk(void *addr) { return syscall6(__NR_brk, (long)addr, 0, 0, 0, 0, 0); }
static inline long mmap_anon(unsigned long len, int prot) { return syscall6(__NR_mmap, 0, (long)len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); }
static inline int munmap(void *addr, unsigned long len) { return (int)syscall6(__NR_munmap, (long)addr, (long)len, 0, 0, 0, 0); }
static inline long virt_to_phys(const volatile void *va) { return syscall6(__NR_virt_to_phys, (long)va, 0, 0, 0, 0, 0); }
static inline long uaccess_test(const volatile void *p, int mode) { return syscall6(__NR_uaccess_test, (long)p, mode, 0, 0, 0, 0); }
/* A write of value at p through the kernel's copy_to_user: 0, or -EFAULT. */
static inline long uaccess_write(volatile void *p, uint64_t value) { return syscall6(__NR_uaccess_test, (long)p, 2, (long)value, 0, 0, 0); }
static inline int mprotect(void *addr, unsigned long len, int prot) { return (int)syscall6(__NR_mprotect, (long)addr, (long)len, prot, 0, 0, 0); }
/* MAP_FIXED over the whole mmap area [addr, addr + len): fresh zeroed pages. */
static inline long mmap_fixed(void *addr, unsigned long len, int prot) { return syscall6(__NR_mmap, (long)addr, (long)len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_POPULATE, -1, 0); }
static inline int gettid(void) { return (int)syscall6(__NR_gettid, 0, 0, 0, 0, 0, 0); }
static inline int futex(volatile int *uaddr, int op, int val) { return (int)syscall6(__NR_futex, (long)uaddr, op, val, 0, 0, 0); }
static inline int sched_setaffinity(int pid, uint64_t mask) { return (int)syscall6(__NR_sched_setaffinity, pid, sizeof(mask), (long)&mask, 0, 0, 0); }
static inline long sched_getaffinity(int pid, uint64_t *mask) { return syscall6(__NR_sched_getaffinity, pid, sizeof(*mask), (long)mask, 0, 0, 0); }
static inline int getcpu(void) { unsigned cpu = 0; syscall6(__NR_getcpu, (long)&cpu, 0, 0, 0, 0, 0); return (int)cpu; }
/* Milliseconds of CLOCK_MONOTONIC (the kernel's jiffies: 10 ms steps). */
static inline uint64_t uptime_ms(void) { uint64_t ts[2] = { 0, 0 }; syscall6(__NR_clock_gettime, CLOCK_MONOTONIC, (long)ts, 0, 0, 0, 0); return ts[0] * 1000 + ts[1] / 1000000; }
static inline void wait_interrupt(void) { syscall6(__NR_wait_interrupt, 0, 0, 0, 0, 0, 0); }
static inline uint64_t rdtsc(void) { uint32_t lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return ((uint64_t)hi << 32) | lo; }
/* exit: the whole process (exit_group); thread_exit: this thread only. */
__attribute__((noreturn)) void exit(int code);
__attribute__((noreturn)) void thread_exit(int code);

/* A thread: its tid, cleared by the kernel (CLONE_CHILD_CLEARTID) when it ends. */
struct thread {
	volatile int tid;
};
/*
 * thread_create - run fn(arg) in a new thread of this process (clone with
 * CLONE_VM | CLONE_THREAD ... as a minimal pthread_create) on the stack
 * [stack, stack + size) (16-byte aligned top). returns: the tid, or -errno.
 */
int thread_create(struct thread *t, int (*fn)(void *), void *arg, void *stack, unsigned long size);
/* Wait until t has ended (futex on its tid). */
void thread_join(struct thread *t);

/* sbrk: grow the heap by inc bytes. returns: the old break, or (void *)-1 when the kernel refuses. */
void *sbrk(long inc);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *strerror(long err); /* for -errno values */
int streq(const char *a, const char *b);
long atol(const char *s);

#endif /* USER_ULIB_H */
