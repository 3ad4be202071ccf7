/*
 * syscalls.h: the system calls (kernel/sys.c), each taking the caller's
 * struct pt_regs (arguments in rdi, rsi, rdx, r10, r8, r9) and returning
 * the result or -errno. Numbers: include/uapi/ptlab_unistd.h.
 */
#ifndef LINUX_SYSCALLS_H
#define LINUX_SYSCALLS_H

#include <asm/ptrace.h>

typedef long (*sys_call_ptr_t)(struct pt_regs *regs);

long sys_write(struct pt_regs *regs);
long sys_mmap(struct pt_regs *regs);
long sys_mprotect(struct pt_regs *regs);
long sys_munmap(struct pt_regs *regs);
long sys_brk(struct pt_regs *regs);
long sys_sched_yield(struct pt_regs *regs);
long sys_getpid(struct pt_regs *regs);
long sys_getppid(struct pt_regs *regs);
long sys_gettid(struct pt_regs *regs);
long sys_clone(struct pt_regs *regs);
long sys_exit_group(struct pt_regs *regs);
long sys_futex(struct pt_regs *regs);
long sys_sched_setaffinity(struct pt_regs *regs);
long sys_sched_getaffinity(struct pt_regs *regs);
long sys_getcpu(struct pt_regs *regs);
long sys_clock_gettime(struct pt_regs *regs);
long sys_wait_interrupt(struct pt_regs *regs);
long sys_fork(struct pt_regs *regs);
long sys_execve(struct pt_regs *regs);
long sys_exit(struct pt_regs *regs);
long sys_wait4(struct pt_regs *regs);
long sys_kill(struct pt_regs *regs);
long sys_sleep_ms(struct pt_regs *regs);
long sys_virt_to_phys(struct pt_regs *regs);
long sys_uaccess_test(struct pt_regs *regs);

#endif /* LINUX_SYSCALLS_H */
