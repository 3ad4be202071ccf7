/*
 * oracle.c: the CPU the live MMU checks run on, as they need to know it:
 * which oracle it is (QEMU TCG, Bochs, or hardware, whose known deviations
 * accesstest normalises and whose #GP faults modes may probe), and its paging
 * features in the model's terms.
 * Depends on: the command line (oracle=), CPUID, boot_cpu_data.
 */
#include <asm/cpufeature.h>
#include <asm/processor.h>
#include <asm/sections.h>
#include <lib/cmdline.h>
#include <linux/shell.h>

#include "mmutest.h"

/* `oracle=NAME` on the command line; returns: false if there is none. */
static bool oracle_option(char *want, size_t size)
{
	return cmdline_get_option(boot_command_line, "oracle", want, size) >= 0;
}

/* QEMU TCG is recognised by its hypervisor CPUID leaf; `oracle=qemu|bochs|hw` overrides. */
bool oracle_is_qemu_tcg(void)
{
	static int cached = -1;
	char want[16];
	uint32_t a, b, c, d;

	if (cached >= 0)
		return cached;
	cached = 0;
	if (oracle_option(want, sizeof(want))) {
		cached = streq(want, "qemu");
	} else {
		cpuid(1, 0, &a, &b, &c, &d);
		if (c & (1u << 31)) { /* a hypervisor is present */
			cpuid(0x40000000u, 0, &a, &b, &c, &d);
			cached = memcmp(&b, "TCGT", 4) == 0 && memcmp(&c, "CGTC", 4) == 0 && memcmp(&d, "GTCG", 4) == 0;
		}
	}
	return cached;
}

bool oracle_is_bochs(void)
{
	char want[16];

	return oracle_option(want, sizeof(want)) && streq(want, "bochs");
}

const char *oracle_name(void)
{
	if (oracle_is_qemu_tcg())
		return "QEMU TCG";
	if (oracle_is_bochs())
		return "Bochs";
	return "not QEMU TCG: no deviations normalised";
}

unsigned mmutest_cpuid_features(void)
{
	const struct cpuinfo_x86 *c = &boot_cpu_data;

	return (c->pse ? PG_CPUID_PSE : 0) | (c->pae ? PG_CPUID_PAE : 0) | (c->pge ? PG_CPUID_PGE : 0) |
	       (c->pat ? PG_CPUID_PAT : 0) | (c->pse36 ? PG_CPUID_PSE36 : 0) | (c->pcid ? PG_CPUID_PCID : 0) |
	       (c->smep ? PG_CPUID_SMEP : 0) | (c->invpcid ? PG_CPUID_INVPCID : 0) |
	       (c->smap ? PG_CPUID_SMAP : 0) | (c->pku ? PG_CPUID_PKU : 0) | (c->la57 ? PG_CPUID_LA57 : 0) |
	       (c->nx ? PG_CPUID_NX : 0) | (c->gbpages ? PG_CPUID_PAGE1GB : 0) | (c->lm ? PG_CPUID_LM : 0);
}
