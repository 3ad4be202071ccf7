/*
 * la57.c: whether the boot chain should run with 5-level paging. Compiled
 * into both the 32-bit report blob (startup_32 asks before its first CR0.PG)
 * and the 64-bit decompressor (configure_5level_paging), so the two entry
 * paths take the same decision.
 */
#include <asm/processor.h>
#include <lib/cmdline.h>

#include "misc.h"

bool la57_wanted(const char *cmdline)
{
	uint32_t a, b, c, d;

	if (cmdline_has_word(cmdline, "no5lvl"))
		return false;
	cpuid(0, 0, &a, &b, &c, &d);
	if (a < 7)
		return false;
	cpuid(7, 0, &a, &b, &c, &d);
	return (c & (1u << 16)) != 0;
}
