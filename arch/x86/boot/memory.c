/*
 * memory.c: E820 memory detection through the BIOS (INT 15h, EAX=E820h).
 * Fills boot_params.e820_table; runs in real mode.
 */
#include "boot.h"

#define SMAP 0x534d4150 /* "SMAP" */

/* returns: the number of entries stored in boot_params (0 if the BIOS has no E820). */
int detect_memory(void)
{
	struct boot_e820_entry buf;
	uint32_t next = 0;
	int count = 0;

	do {
		uint32_t eax = 0xe820, ebx = next, ecx = sizeof(buf), edx = SMAP;
		uint8_t failed;

		__asm__ volatile("pushl %%ebp\n\t"
				 "int $0x15\n\t"
				 "popl %%ebp\n\t"
				 "setc %0"
				 : "=qm"(failed), "+a"(eax), "+b"(ebx), "+c"(ecx), "+d"(edx)
				 : "D"(&buf)
				 : "esi", "memory", "cc");
		if (failed || eax != SMAP)
			break;
		if (buf.size)
			boot_params.e820_table[count++] = buf;
		next = ebx;
	} while (next && count < E820_MAX_ENTRIES_ZEROPAGE);

	boot_params.e820_entries = (uint8_t)count;
	return count;
}
