/*
 * ulib.h: the user programs' C library: system calls (SYSCALL, numbers in
 * include/uapi/ptlab_unistd.h), printf through lib/vsprintf.c, sbrk on brk.
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
__attribute__((noreturn)) void exit(int code);

/* sbrk: grow the heap by inc bytes. returns: the old break, or (void *)-1 when the kernel refuses. */
void *sbrk(long inc);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *strerror(long err); /* for -errno values */
int streq(const char *a, const char *b);
long atol(const char *s);

#endif /* USER_ULIB_H */
