/*
 * ptiprobe: read each kernel address given on the command line (hex) from
 * ring 3, each in a child of its own, and report how the child ended. Every
 * read must fault (the kernel kills the child with its #PF report, whose
 * error code says whether the page was present in the tables ring 3 runs
 * on: under page-table isolation it is not, except for the entry
 * trampoline). Used by tests/system/test_pti.py.
 */
#include "ulib.h"

static uint64_t parse_hex(const char *s)
{
	uint64_t v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (; *s; s++) {
		int d = *s >= '0' && *s <= '9' ? *s - '0' : (*s | 0x20) >= 'a' && (*s | 0x20) <= 'f' ? (*s | 0x20) - 'a' + 10 : -1;
		if (d < 0)
			break;
		v = v << 4 | (uint64_t)d;
	}
	return v;
}

int main(int argc, char **argv)
{
	int faulted = 0;

	for (int i = 1; i < argc; i++) {
		uint64_t va = parse_hex(argv[i]);
		int pid = fork();
		if (pid == 0) {
			uint64_t v = *(volatile uint64_t *)va;
			printf("ptiprobe: 0x%016lx: read 0x%016lx from ring 3: NOT ISOLATED\n", (unsigned long)va,
			       (unsigned long)v);
			exit(0);
		}
		int status = 0;
		waitpid(pid, &status);
		bool segv = WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
		printf("ptiprobe: 0x%016lx: %s\n", (unsigned long)va, segv ? "page fault, child killed" : "NO FAULT");
		faulted += segv;
	}
	printf("ptiprobe: %d of %d kernel addresses faulted%s\n", faulted, argc - 1, faulted == argc - 1 ? ": OK" : ": FAILED");
	return faulted == argc - 1 ? 0 : 1;
}
