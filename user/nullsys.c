/*
 * nullsys: make N null system calls (getpid) in a row and print the TSC
 * cycles they took, from RDTSC before the first to RDTSC after the last,
 * and per call. The cost of entering and leaving the kernel, with or without
 * page-table isolation (the CR3 switches): bench/pti_bench.py reads the
 * kernel's CR3 counters (`cr3`) before and after a run to divide by N.
 * Usage: nullsys [N]   (default 100000)
 */
#include "ulib.h"

static unsigned long parse_dec(const char *s)
{
	unsigned long v = 0;

	for (; *s >= '0' && *s <= '9'; s++)
		v = v * 10 + (unsigned long)(*s - '0');
	return v;
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? parse_dec(argv[1]) : 100000;

	if (n == 0)
		n = 1;
	getpid();       /* warm up: the first call's misses are not the cost of a call */
	uint64_t t0 = rdtsc();
	for (unsigned long i = 0; i < n; i++)
		getpid();
	uint64_t t1 = rdtsc();
	printf("nullsys: %lu calls, %lu TSC cycles, %lu per call\n", n, (unsigned long)(t1 - t0),
	       (unsigned long)((t1 - t0) / n));
	return 0;
}
