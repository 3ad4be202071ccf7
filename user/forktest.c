/*
 * forktest [N]: N children (default 4) write the same VA, a page of .data
 * that fork shared copy-on-write, and each reads back its own value while
 * the others run: same VA, different physical pages. Each child prints the
 * PA before its write (the parent's page) and after it (its own copy).
 */
#include "ulib.h"

static volatile uint64_t shared = 0x1111;

static __attribute__((noreturn)) void child(int k, long parent_pa)
{
	uint64_t mine = 0xc0de0000ULL + (uint64_t)getpid();
	long before = virt_to_phys(&shared);
	shared = mine; /* the COW fault: a page of our own */
	long after = virt_to_phys(&shared);
	for (int i = 0; i < 5; i++) {
		sleep_ms(10);
		if (shared != mine) {
			printf("forktest: child %d: read 0x%lx, wrote 0x%lx: FAILED\n", k, (unsigned long)shared,
			       (unsigned long)mine);
			exit(2);
		}
	}
	printf("forktest: child %d pid %d: VA %p = 0x%lx, PA 0x%lx before the write, 0x%lx after\n", k, getpid(),
	       (void *)&shared, (unsigned long)shared, (unsigned long)before, (unsigned long)after);
	exit(before == parent_pa && after != before ? 0 : 3);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? (int)atol(argv[1]) : 4, failed = 0;
	long pa = virt_to_phys(&shared);

	printf("forktest: pid %d, VA %p = 0x%lx at PA 0x%lx, %d children\n", getpid(), (void *)&shared,
	       (unsigned long)shared, (unsigned long)pa, n);
	for (int k = 0; k < n; k++) {
		int pid = fork();
		if (pid < 0) {
			printf("forktest: fork: %s\n", strerror(pid));
			failed++;
			break;
		}
		if (pid == 0)
			child(k, pa);
	}
	for (;;) {
		int status, pid = wait(&status);
		if (pid < 0)
			break;
		if (status != 0) {
			printf("forktest: pid %d ended with status 0x%x\n", pid, status);
			failed++;
		}
	}
	if (shared != 0x1111 || virt_to_phys(&shared) != pa) {
		printf("forktest: the parent's page changed: FAILED\n");
		failed++;
	}
	printf("forktest: parent still reads 0x%lx at PA 0x%lx: %s\n", (unsigned long)shared, (unsigned long)pa,
	       failed ? "FAILED" : "OK");
	return failed ? 1 : 0;
}
