/*
 * memhog: grows its heap 1 MiB at a time, touching every page, until the
 * kernel refuses (sbrk fails with ENOMEM: the kernel keeps a reserve for
 * itself) or kills it for want of memory. Either way the kernel goes on and
 * every page comes back when it ends.
 */
#include "ulib.h"

int main(void)
{
	unsigned long chunk = 1UL << 20, total = 0;

	for (;;) {
		char *p = sbrk((long)chunk);
		if (p == (void *)-1)
			break;
		for (unsigned long i = 0; i < chunk; i += 4096)
			p[i] = 1;
		total += chunk;
		if (total % (32UL << 20) == 0)
			printf("memhog: %lu MiB\n", total >> 20);
	}
	long m = mmap_anon(chunk, PROT_READ | PROT_WRITE);
	printf("memhog: sbrk refused after %lu MiB (ENOMEM); mmap of 1 MiB more: %s\n", total >> 20,
	       m < 0 ? strerror(m) : "granted");
	return 0;
}
