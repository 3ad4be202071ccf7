/*
 * faults: each bad access in a child of its own; the kernel must kill the
 * child (with the decoded #PF report) and go on. Then the good cases: the
 * stack and the heap grow on demand, and a kernel copy through
 * copy_from_user (STAC/CLAC) reads user memory that a direct kernel access
 * (SMAP) may not.
 */
#include "ulib.h"

static const char rodata_text[] = "read-only";
static unsigned char nx_code[16] = { 0xc3 }; /* ret, in .data: NX */

static void read_kernel(void) { (void)*(volatile uint64_t *)0xffffffff81000000ULL; }
static void read_unmapped(void) { (void)*(volatile uint64_t *)0x1000; }
static void write_rodata(void) { *(volatile char *)rodata_text = 'X'; }
static void jump_nx(void) { ((void (*)(void))(uintptr_t)nx_code)(); }
static void jump_kernel_text(void) { ((void (*)(void))0xffffffff81000000ULL)(); }
static void read_noncanonical(void) { (void)*(volatile uint64_t *)0x8000000000000000ULL; }
static void kernel_reads_user(void)
{
	volatile uint64_t x = 0x5eedULL;
	long v = uaccess_test(&x, 0);
	printf("faults:   the kernel read 0x%lx directly (no SMAP on this CPU)\n", v);
}

static bool have_smap(void)
{
	uint32_t a = 7, b, c = 0, d;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return (b >> 20) & 1;
}

static void grow_stack(int depth)
{
	volatile char pad[4000];
	pad[0] = (char)depth;
	if (depth > 0)
		grow_stack(depth - 1);
	(void)pad[0];
}

struct fcase {
	const char *name;
	void (*fn)(void);
	int sig;
};

int main(void)
{
	bool smap = have_smap();
	struct fcase cases[] = {
		{ "user read of a kernel address", read_kernel, SIGSEGV },
		{ "user read of an unmapped address", read_unmapped, SIGSEGV },
		{ "write to a read-only page", write_rodata, SIGSEGV },
		{ "jump to an NX page", jump_nx, SIGSEGV },
		{ "jump into kernel text", jump_kernel_text, SIGSEGV },
		{ "read of a non-canonical address", read_noncanonical, SIGSEGV },
		{ "kernel touches user memory outside copy_from_user", kernel_reads_user, smap ? SIGSEGV : 0 },
	};
	int n = sizeof(cases) / sizeof(cases[0]), bad = 0;

	for (int i = 0; i < n; i++) {
		printf("faults: case %d: %s\n", i + 1, cases[i].name);
		int pid = fork();
		if (pid == 0) {
			cases[i].fn();
			exit(0);
		}
		int status = 0;
		waitpid(pid, &status);
		bool ok = cases[i].sig ? (WIFSIGNALED(status) && WTERMSIG(status) == cases[i].sig) : status == 0;
		printf("faults: case %d: %s%d: %s\n", i + 1, WIFSIGNALED(status) ? "killed by signal " : "exit ",
		       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), ok ? "as expected" : "UNEXPECTED");
		bad += !ok;
	}

	grow_stack(64); /* 256 KiB of stack, faulted in page by page */
	char *heap = sbrk(1 << 20);
	for (int i = 0; i < (1 << 20); i += 4096)
		heap[i] = (char)i;
	volatile uint64_t x = 0xfeedULL;
	long v = uaccess_test(&x, 1);
	bool good = heap != (void *)-1 && heap[4096] == (char)4096 && v == 0xfeed;
	printf("faults: stack and heap grew on demand; copy_from_user read 0x%lx: %s\n", v, good ? "as expected" : "UNEXPECTED");
	bad += !good;
	printf("faults: %d of %d cases as expected%s\n", n + 1 - bad, n + 1, bad ? ": FAILED" : ": OK");
	return bad ? 1 : 0;
}
