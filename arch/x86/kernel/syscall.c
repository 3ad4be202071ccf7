/*
 * syscall.c: SYSCALL/SYSRET set-up and dispatch, and the user copies
 * (Linux: arch/x86/kernel/cpu/common.c syscall_init, arch/x86/entry/common.c
 * do_syscall_64, arch/x86/lib/usercopy).
 *
 * MSR_STAR holds the selector bases (kernel 0x10 for SYSCALL; user 0x23 for
 * SYSRET, which loads CS 0x33 and SS 0x2b), MSR_LSTAR entry_SYSCALL_64,
 * MSR_SYSCALL_MASK the RFLAGS bits cleared on entry (IF, TF, DF, AC, NT...).
 * User copies check the range, then run the fault-safe copy of entry_64.S
 * between STAC and CLAC (when the CPU has SMAP): a fault there is either
 * served (demand paging) or turned into -EFAULT by the exception table.
 */
#include <asm/console.h>
#include <asm/cpufeature.h>
#include <asm/processor.h>
#include <asm/segment.h>
#include <asm/traps.h>
#include <linux/sched.h>
#include <linux/syscalls.h>
#include <uapi/ptlab_unistd.h>

#define MSR_STAR         0xc0000081u
#define MSR_LSTAR        0xc0000082u
#define MSR_CSTAR        0xc0000083u
#define MSR_SYSCALL_MASK 0xc0000084u

void entry_SYSCALL_64(void);

void syscall_init(void)
{
	wrmsr(MSR_STAR, ((uint64_t)__USER32_CS << 48) | ((uint64_t)__KERNEL_CS << 32));
	wrmsr(MSR_LSTAR, (uint64_t)(uintptr_t)entry_SYSCALL_64);
	wrmsr(MSR_CSTAR, 0);
	/* TF DF IF IOPL NT AC */
	wrmsr(MSR_SYSCALL_MASK, 0x100 | 0x400 | 0x200 | 0x3000 | 0x4000 | 0x40000);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
}

static const sys_call_ptr_t sys_call_table[NR_syscalls] = {
	[__NR_write] = sys_write,
	[__NR_mmap] = sys_mmap,
	[__NR_mprotect] = sys_mprotect,
	[__NR_munmap] = sys_munmap,
	[__NR_brk] = sys_brk,
	[__NR_sched_yield] = sys_sched_yield,
	[__NR_getpid] = sys_getpid,
	[__NR_fork] = sys_fork,
	[__NR_execve] = sys_execve,
	[__NR_exit] = sys_exit,
	[__NR_wait4] = sys_wait4,
	[__NR_kill] = sys_kill,
	[__NR_getppid] = sys_getppid,
	[__NR_gettid] = sys_gettid,
	[__NR_clone] = sys_clone,
	[__NR_exit_group] = sys_exit_group,
	[__NR_futex] = sys_futex,
	[__NR_sched_setaffinity] = sys_sched_setaffinity,
	[__NR_sched_getaffinity] = sys_sched_getaffinity,
	[__NR_getcpu] = sys_getcpu,
	[__NR_clock_gettime] = sys_clock_gettime,
	[__NR_wait_interrupt] = sys_wait_interrupt,
	[__NR_sleep_ms] = sys_sleep_ms,
	[__NR_virt_to_phys] = sys_virt_to_phys,
	[__NR_uaccess_test] = sys_uaccess_test,
};

/*
 * do_syscall_64 - called by entry_SYSCALL_64 with the frame; RAX selects.
 * returns: nonzero when SYSRET may return (a canonical user RIP and the
 * standard selectors), else entry_SYSCALL_64 leaves by IRET.
 */
int do_syscall_64(struct pt_regs *regs)
{
	uint64_t nr = regs->rax;
	long ret = -ENOSYS;

	if (nr < NR_syscalls && sys_call_table[nr])
		ret = sys_call_table[nr](regs);
	regs->rax = (uint64_t)ret;
	exit_to_user_mode(regs);
	return regs->rip < TASK_SIZE_MAX && regs->cs == __USER_CS && regs->ss == __USER_DS;
}

static inline bool access_ok(uint64_t addr, uint64_t n)
{
	return addr <= TASK_SIZE_MAX && n <= TASK_SIZE_MAX - addr;
}

static inline void stac(void)
{
	if (boot_cpu_data.smap)
		__asm__ volatile("stac" ::: "memory");
}

static inline void clac(void)
{
	if (boot_cpu_data.smap)
		__asm__ volatile("clac" ::: "memory");
}

long copy_from_user(void *dst, uint64_t usrc, uint64_t n)
{
	if (!access_ok(usrc, n))
		return -EFAULT;
	stac();
	long r = copy_from_kernel_nofault(dst, (const void *)(uintptr_t)usrc, n);
	clac();
	return r ? -EFAULT : 0;
}

long copy_to_user(uint64_t udst, const void *src, uint64_t n)
{
	if (!access_ok(udst, n))
		return -EFAULT;
	stac();
	long r = copy_to_kernel_nofault((void *)(uintptr_t)udst, src, n);
	clac();
	return r ? -EFAULT : 0;
}

long strncpy_from_user(char *dst, uint64_t usrc, uint64_t size)
{
	for (uint64_t i = 0; i < size; i++) {
		if (copy_from_user(&dst[i], usrc + i, 1))
			return -EFAULT;
		if (!dst[i])
			return (long)i;
	}
	return -E2BIG;
}
