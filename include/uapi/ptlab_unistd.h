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
#define __NR_mmap         9   /* mmap(0, len, prot, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0); with MAP_FIXED
                                 and addr, len of a whole mmap area: fresh zeroed pages for all of it */
#define __NR_mprotect     10  /* mprotect(addr, len, prot): a whole area; PROT_READ required */
#define __NR_munmap       11  /* munmap(addr, len): a whole mmap area */
#define __NR_brk          12  /* brk(addr): returns the new break (the old one on failure) */
#define __NR_sched_yield  24
#define __NR_getpid       39  /* the process's id (tgid) */
#define __NR_clone        56  /* clone(flags, newsp, parent_tid, child_tid, tls): threads (kernel/fork.c) */
#define __NR_fork         57
#define __NR_execve       59  /* execve(name, argv, envp): a program embedded in the kernel */
#define __NR_exit         60  /* this thread */
#define __NR_wait4        61  /* wait4(pid or -1, &status, 0, 0) */
#define __NR_kill         62  /* kill(pid, sig) */
#define __NR_getppid      110
#define __NR_gettid       186
#define __NR_futex        202
#define __NR_clock_gettime 228 /* clock_gettime(CLOCK_MONOTONIC, &ts): jiffies, 10 ms steps */ /* futex(uaddr, FUTEX_WAIT or FUTEX_WAKE [| FUTEX_PRIVATE_FLAG], val) */
#define __NR_sched_setaffinity 203 /* (pid or 0, len >= 8, &mask): bit n = CPU n */
#define __NR_sched_getaffinity 204
#define __NR_exit_group   231 /* every thread of the process */
#define __NR_getcpu       309 /* getcpu(&cpu, &node, 0) */
#define __NR_sleep_ms     500 /* sleep_ms(ms): ptlab's sleep, 10 ms ticks */
#define __NR_virt_to_phys 501 /* virt_to_phys(va): the PA the caller's table maps va to (or -EFAULT) */
#define __NR_uaccess_test 502 /* uaccess_test(ptr, mode[, value]): kernel reads 8 bytes at ptr; mode 0
                                 directly (SMAP must stop it), mode 1 through copy_from_user (STAC/CLAC);
                                 mode 2 writes value there through copy_to_user (0 or -EFAULT) */
#define __NR_wait_interrupt 503 /* wait_interrupt(): halt this CPU until an interrupt (a tick, an IPI),
                                   staying the running task: CR3, PCID and TLB stay as they are */
#define NR_syscalls       504

#define PROT_READ     0x1
#define PROT_WRITE    0x2
#define PROT_EXEC     0x4
#define MAP_PRIVATE   0x02
#define MAP_FIXED     0x10
#define MAP_ANONYMOUS 0x20
#define MAP_POPULATE  0x8000

/* clone flags (the ones kernel/fork.c accepts) */
#define CLONE_VM             0x00000100
#define CLONE_FS             0x00000200
#define CLONE_FILES          0x00000400
#define CLONE_SIGHAND        0x00000800
#define CLONE_THREAD         0x00010000
#define CLONE_SYSVSEM        0x00040000
#define CLONE_SETTLS         0x00080000
#define CLONE_PARENT_SETTID  0x00100000
#define CLONE_CHILD_CLEARTID 0x00200000

#define CLOCK_MONOTONIC 1

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_PRIVATE_FLAG 128

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
#define EBUSY   16
#define EINVAL  22
#define ENOSYS  38

#define WIFEXITED(s)   (((s) & 0x7f) == 0)
#define WEXITSTATUS(s) (((s) >> 8) & 0xff)
#define WIFSIGNALED(s) (((s) & 0x7f) != 0)
#define WTERMSIG(s)    ((s) & 0x7f)

#endif /* UAPI_PTLAB_UNISTD_H */
