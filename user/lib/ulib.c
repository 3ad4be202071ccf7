/*
 * ulib.c: system-call stubs, exit, sbrk, printf for user programs.
 */
#include "ulib.h"

long syscall6(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	long ret;
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

void exit(int code)
{
	syscall6(__NR_exit_group, code, 0, 0, 0, 0, 0);
	for (;;)
		;
}

void thread_exit(int code)
{
	syscall6(__NR_exit, code, 0, 0, 0, 0, 0);
	for (;;)
		;
}

/* clone.S: clone, and in the child fn(arg) then thread_exit. */
long clone_thread(long flags, void *stack_top, volatile int *ptid, volatile int *ctid, int (*fn)(void *), void *arg);

int thread_create(struct thread *t, int (*fn)(void *), void *arg, void *stack, unsigned long size)
{
	long flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
		     CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
	void *top = (void *)(((uintptr_t)stack + size) & ~(uintptr_t)15);

	t->tid = -1;
	return (int)clone_thread(flags, top, &t->tid, &t->tid, fn, arg);
}

void thread_join(struct thread *t)
{
	int tid;
	while ((tid = t->tid) != 0)
		futex(&t->tid, FUTEX_WAIT, tid);
}

void *sbrk(long inc)
{
	static long cur;
	if (!cur)
		cur = brk(0);
	long old = cur, want = cur + inc;
	if (brk((void *)want) != want)
		return (void *)-1;
	cur = want;
	return (void *)old;
}

struct pbuf {
	char buf[256];
	unsigned int n;
};

static void pbuf_putc(void *arg, char c)
{
	struct pbuf *b = arg;
	b->buf[b->n++] = c;
	if (b->n == sizeof(b->buf)) {
		write(1, b->buf, b->n);
		b->n = 0;
	}
}

int printf(const char *fmt, ...)
{
	struct pbuf b;
	va_list ap;
	b.n = 0;
	va_start(ap, fmt);
	int n = vcbprintf(pbuf_putc, &b, fmt, ap);
	va_end(ap);
	if (b.n)
		write(1, b.buf, b.n);
	return n;
}

const char *strerror(long err)
{
	switch (-err) {
	case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";
	case EINTR: return "EINTR";
	case E2BIG: return "E2BIG";
	case ENOEXEC: return "ENOEXEC";
	case ECHILD: return "ECHILD";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EINVAL: return "EINVAL";
	case EBUSY: return "EBUSY";
	case ENOSYS: return "ENOSYS";
	default: return "error";
	}
}

int streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

long atol(const char *s)
{
	long v = 0;
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (*s++ - '0');
	return v;
}
