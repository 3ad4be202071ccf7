/*
 * ptlab_unistd.h: the system-call interface between the kernel and user/
 * programs. Numbers are Linux x86-64's where the call does the same thing;
 * ptlab's own calls start at 500. ABI: number in RAX, arguments in RDI, RSI,
 * RDX, R10, R8, R9; the result (or -errno) in RAX; RCX and R11 are clobbered
 * (SYSCALL/SYSRET). Wait statuses are Linux's: exit(c) gives c << 8, a kill
 * by signal s gives s.
 */
#ifndef UAPI_PTLAB_UNISTD_H
#define UAPI_PTLAB_UNISTD_H

#define __NR_write        1   /* write(fd 1 or 2, buf, len): to the serial console */
#define __NR_mmap         9   /* mmap(0, len, prot, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) */
#define __NR_munmap       11  /* munmap(addr, len) */
#define __NR_brk          12  /* brk(addr): returns the new break (the old one on failure) */
#define __NR_sched_yield  24
#define __NR_getpid       39
#define __NR_fork         57
#define __NR_execve       59  /* execve(name, argv, envp): a program embedded in the kernel */
#define __NR_exit         60
#define __NR_wait4        61  /* wait4(pid or -1, &status, 0, 0) */
#define __NR_kill         62  /* kill(pid, sig) */
#define __NR_getppid      110
#define __NR_sleep_ms     500 /* sleep_ms(ms): ptlab's sleep, 10 ms ticks */
#define __NR_virt_to_phys 501 /* virt_to_phys(va): the PA the caller's table maps va to (or -EFAULT) */
#define __NR_uaccess_test 502 /* uaccess_test(ptr, mode): kernel reads 8 bytes at ptr; mode 0 directly
                                 (SMAP must stop it), mode 1 through copy_from_user (STAC/CLAC) */
#define NR_syscalls       503

#define PROT_READ     0x1
#define PROT_WRITE    0x2
#define PROT_EXEC     0x4
#define MAP_PRIVATE   0x02
#define MAP_ANONYMOUS 0x20

#define SIGKILL 9
#define SIGSEGV 11

#define EPERM   1
#define ENOENT  2
#define ESRCH   3
#define EINTR   4
#define E2BIG   7
#define ENOEXEC 8
#define ECHILD  10
#define EAGAIN  11
#define ENOMEM  12
#define EACCES  13
#define EFAULT  14
#define EINVAL  22
#define ENOSYS  38

#define WIFEXITED(s)   (((s) & 0x7f) == 0)
#define WEXITSTATUS(s) (((s) >> 8) & 0xff)
#define WIFSIGNALED(s) (((s) & 0x7f) != 0)
#define WTERMSIG(s)    ((s) & 0x7f)

#endif /* UAPI_PTLAB_UNISTD_H */
