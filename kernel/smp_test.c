/*
 * smp_test.c: the in-kernel test of SMP (test=smp, named only; the Bochs test
 * runs it through GRUB):
 *   - tlbshoot (threads on every CPU: munmap, mprotect, remap under readers)
 *     ends with 0 stale accesses, forktest runs on every CPU;
 *   - no IPI went unanswered or had to be resent;
 *   - with PCID, every CPU that ran processes reused its ASIDs (non-flushing
 *     CR3 loads, counted per CPU);
 *   - afterwards free pages and page-table pages are back to their counts;
 *   - with PAT, every CPU's IA32_PAT holds the boot CPU's value (ioremap's
 *     memory types mean the same on every CPU).
 */
#include <asm/console.h>
#include <asm/memtype.h>
#include <asm/mmu_context.h>
#include <asm/percpu.h>
#include <asm/processor.h>
#include <asm/smp.h>
#include <linux/proc_shell.h>
#include <linux/sched.h>
#include <linux/selftest.h>

static uint64_t pat_of_cpu[NR_CPUS];

static void read_pat(void *unused)
{
	(void)unused;
	pat_of_cpu[smp_processor_id()] = rdmsr(PG_MSR_PAT);
}

bool test_smp(void)
{
	char *tlbshoot[] = { "tlbshoot", "60" }, *forktest[] = { "forktest", "6" }, *hello[] = { "hello" };
	char *cpus[] = { "cpus" }, *sw[] = { "switches" }, *sd[] = { "shootdowns" };

	KTEST_CHECK(run_to_end("hello", 1, hello) == 0); /* warm-up: the timers start with the first process */
	uint64_t free0 = nr_free_pages(), tables0 = kernel_table_pages;
	printk("  %u CPUs online\n", num_online_cpus());
	KTEST_CHECK(run_to_end("tlbshoot", 2, tlbshoot) == 0);
	KTEST_CHECK(run_to_end("forktest", 2, forktest) == 0);
	cmd_cpus(1, cpus);
	cmd_switches(1, sw);
	cmd_shootdowns(1, sd);
	struct shootdown_stats t;
	per_cpu_sum(PER_CPU_FIELD(shootdown_stats), &t);
	KTEST_CHECK(t.resends == 0);
	KTEST_CHECK(t.ipis_sent == t.ipis_received + t.polled);
	KTEST_CHECK(num_online_cpus() == 1 || t.requests > 0);
	for_each_cpu(cpu, cpu_online_mask) {
		const struct switch_stats *s = &per_cpu(switch_stats, cpu);
		KTEST_CHECK(s->cr3_same == 0);
		if (pcid_enabled && s->cr3_loads > 10)
			KTEST_CHECK(s->noflush > 0 && s->asid_reuse > 0);
	}
	printk("  free pages %llu -> %llu, page-table pages %llu -> %llu\n", (unsigned long long)free0,
	       (unsigned long long)nr_free_pages(), (unsigned long long)tables0, (unsigned long long)kernel_table_pages);
	KTEST_CHECK(nr_free_pages() == free0);
	KTEST_CHECK(kernel_table_pages == tables0);
	if (pat_enabled) {
		on_each_cpu(read_pat, 0);
		for_each_cpu(cpu, cpu_online_mask) {
			printk("  CPU %u: IA32_PAT 0x%016llx\n", cpu, (unsigned long long)pat_of_cpu[cpu]);
			KTEST_CHECK(pat_of_cpu[cpu] == PAT_LINUX);
		}
	}
	return true;
}
