/*
 * a20.c: enable the A20 gate so that physical addresses above 1 MiB do not
 * wrap. Tries the BIOS (INT 15h AX=2401h), then the fast A20 port 0x92,
 * testing after each by writing 0000:0200 and reading FFFF:0210.
 */
#include "boot.h"

#include <asm/processor.h>

/* returns: 1 if A20 is on (the two addresses are distinct memory). */
static int a20_test(void)
{
	uint32_t saved, ctr;
	int ok = 0;

	set_fs(0x0000);
	set_gs(0xffff);
	saved = ctr = rdfs32(0x200);
	for (int loops = 0; loops < 32; loops++) {
		wrfs32(++ctr, 0x200);
		io_delay();
		if (rdgs32(0x210) != ctr) {
			ok = 1;
			break;
		}
	}
	wrfs32(saved, 0x200);
	return ok;
}

/* returns: 0 when A20 is enabled, -1 when every method failed. */
int enable_a20(void)
{
	if (a20_test())
		return 0;
	__asm__ volatile("pushl %%ebp; int $0x15; popl %%ebp" : : "a"(0x2401) : "ebx", "ecx", "edx", "esi", "edi", "memory", "cc");
	if (a20_test())
		return 0;
	uint8_t port_a = inb(0x92);
	outb((uint8_t)((port_a | 0x02) & ~0x01), 0x92);
	return a20_test() ? 0 : -1;
}
