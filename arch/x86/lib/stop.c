/*
 * stop.c: `stop_at=STAGE[,STAGE...]` (asm/stop.h): a pause with the tables
 * of a boot stage live. Compiled into the decompressor and the kernel (the
 * other boot environments get an empty file).
 * Depends on: console.h, processor.h, lib/cmdline, pg_env.h (memcmp, strlen).
 */
#include <asm/console.h>
#include <asm/processor.h>
#include <asm/stop.h>
#include <lib/cmdline.h>
#include <paging/pg_env.h>

#if defined(BOOT_COMPRESSED) || defined(KERNEL)

/* Whether the comma-separated list holds word. */
static bool in_list(const char *list, const char *word, unsigned int len)
{
	while (*list) {
		unsigned int n = 0;
		while (list[n] && list[n] != ',')
			n++;
		if (n == len && memcmp(list, word, n) == 0)
			return true;
		list += n + (list[n] == ',');
	}
	return false;
}

void stop_at(const char *cmdline, const char *stage)
{
	char want[96];
	int n = cmdline_get_option(cmdline, "stop_at", want, sizeof(want));

	if (n == -2)
		panic("stop_at=: too long (the stages are %s)", STOP_AT_STAGES);
	if (n < 0)
		return;
	for (const char *w = want; *w; w++) { /* every named stage must exist */
		unsigned int len = 0;
		while (w[len] && w[len] != ',')
			len++;
		if (!in_list(STOP_AT_STAGES, w, len))
			panic("stop_at=%s: unknown stage (known: %s)", want, STOP_AT_STAGES);
		w += len - (w[len] == '\0');
	}
	if (!in_list(want, stage, (unsigned int)strlen(stage)))
		return;
	unsigned long flags;
	__asm__ volatile("pushf; pop %0; cli" : "=r"(flags) : : "memory");
	printk("ptlab: stop_at %s: tables live, CR3=%016llx; a key goes on\n", stage,
	       (unsigned long long)read_cr3());
	while (serial_getc_nonblock() < 0)
		__asm__ volatile("pause");
	printk("ptlab: going on after %s\n", stage);
	__asm__ volatile("push %0; popf" : : "r"(flags) : "memory", "cc");
}

#endif
