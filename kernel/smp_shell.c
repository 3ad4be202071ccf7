/*
 * smp_shell.c: the shell's CPU commands (docs/shell.md, docs/smp.md):
 *   cpus                 per CPU: APIC id, state, CR3 and PCID, CR4, EFER,
 *                        the mm loaded (lazily or not) and its tlb_gen, the task
 *   shootdowns [reset]   TLB shootdowns per CPU: IPIs sent and received,
 *                        partial and full flushes, lazy skips, cycles
 * and the CPU argument of `ptdump current [CPU]` and `vtop VA -c CPU`.
 * A CPU's registers are read on that CPU, by a cross-CPU call.
 */
#include <asm/console.h>
#include <asm/mmu_context.h>
#include <asm/percpu.h>
#include <asm/processor.h>
#include <asm/smp.h>
#include <lib/cmdline.h>
#include <lib/vsprintf.h>
#include <linux/proc_shell.h>
#include <linux/sched.h>
#include <linux/shell.h>

static const char *const cpu_state_names[] = {
	[CPU_ABSENT] = "absent", [CPU_KICKED] = "starting", [CPU_ALIVE] = "alive",
	[CPU_ONLINE] = "online", [CPU_NO_ANSWER] = "no-answer",
};

static void read_regs(void *unused)
{
	struct pcpu *p = this_pcpu();

	(void)unused;
	p->regs_cr3 = read_cr3();
	p->regs_cr4 = read_cr4();
	p->regs_efer = rdmsr(MSR_EFER);
}

/* Every online CPU's CR3, CR4 and EFER, each read on its CPU, into its struct pcpu. */
static void read_all_regs(void)
{
	on_each_cpu(read_regs, 0);
}

int cpu_arg_root(const char *arg, phys_addr_t *root)
{
	uint64_t cpu;

	if (!parse_u64(arg, &cpu) || cpu >= NR_CPUS || !cpu_online((unsigned int)cpu)) {
		printk("error: '%s' is not an online CPU (cpus lists them)\n", arg);
		return 1;
	}
	read_all_regs();
	*root = pg_cr3_root(current_paging_mode(), per_cpu(regs_cr3, cpu));
	return 0;
}

/* "init_mm", "pid N", or "(exited)": who uses mm. */
static void mm_name(const struct mm_struct *mm, char *buf, size_t size)
{
	if (mm == &init_mm) {
		ksnprintf(buf, size, "init_mm");
		return;
	}
	for (int i = 1; i < NR_TASKS; i++) {
		const struct task_struct *t = &tasks[i];
		if ((t->state == TASK_RUNNING || t->state == TASK_INTERRUPTIBLE) && t->mm == mm) {
			ksnprintf(buf, size, "pid %d", t->tgid);
			return;
		}
	}
	ksnprintf(buf, size, "(exited)");
}

static void print_cpu(unsigned int cpu)
{
	struct pcpu *p = &per_cpu_area[cpu];
	const struct tlb_state *ts = &p->cpu_tlbstate;
	char mm[24], pcid[8] = "-", gen[24];

	if (p->state != CPU_ONLINE) {
		printk("%3u %4u %-9s %-18s %4s %-18s %-18s %-17s %-11s %s\n", cpu, p->apicid, cpu_state_names[p->state],
		       "-", "-", "-", "-", "-", "-", "-");
		return;
	}
	mm_name(ts->loaded_mm, mm, sizeof(mm));
	if (p->cpu_tlbstate_shared.is_lazy)
		ksnprintf(mm + strlen(mm), sizeof(mm) - strlen(mm), " (lazy)");
	if (read_cr4() & X86_CR4_PCIDE)
		ksnprintf(pcid, sizeof(pcid), "%llu", (unsigned long long)(p->regs_cr3 & PG_CR3_PCID));
	ksnprintf(gen, sizeof(gen), "%llu/%llu", (unsigned long long)ts->ctxs[ts->loaded_mm_asid].tlb_gen,
		  (unsigned long long)atomic_read(&ts->loaded_mm->context.tlb_gen));
	const struct task_struct *t = p->current_task;
	printk("%3u %4u %-9s 0x%016llx %4s 0x%016llx 0x%016llx %-17s %-11s %d %s\n", cpu, p->apicid,
	       cpu_state_names[p->state], (unsigned long long)p->regs_cr3, pcid, (unsigned long long)p->regs_cr4,
	       (unsigned long long)p->regs_efer, mm, gen, t->pid, t->comm);
}

int stats_command_args(int argc, char **argv, const char *name, const char *what, size_t offset, size_t size)
{
	if (argc == 2 && streq(argv[1], "reset")) {
		per_cpu_zero(offset, size);
		printk("%s statistics reset\n", what);
		return 0;
	}
	if (argc != 1) {
		printk("usage: %s [reset]\n", name);
		return 1;
	}
	return -1;
}

int cmd_cpus(int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		printk("usage: cpus\n");
		return 1;
	}
	read_all_regs();
	printk("CPU APIC STATE     CR3                PCID CR4                EFER               LOADED MM         "
	       "TLB_GEN     TASK\n");
	for (unsigned int cpu = 0; cpu < nr_cpu_ids; cpu++)
		print_cpu(cpu);
	printk("%u of %u CPUs online%s\n", num_online_cpus(), nr_cpu_ids,
	       tlb_skip_remote ? "; noshootdown: no remote TLB flushes (test only)" : "");
	return 0;
}

static void shootdown_row(const char *name, const struct shootdown_stats *s)
{
	printk("%-5s %8llu %9llu %8llu %6llu %10llu %9llu %7llu %6llu %8llu %10llu %6llu %7llu\n", name,
	       (unsigned long long)s->requests, (unsigned long long)s->ipis_sent,
	       (unsigned long long)s->ipis_received, (unsigned long long)s->polled,
	       (unsigned long long)s->lazy_skips, (unsigned long long)s->flush_pages, (unsigned long long)s->pages,
	       (unsigned long long)s->flush_full, (unsigned long long)s->uptodate,
	       (unsigned long long)s->lazy_leave, (unsigned long long)s->kernel, (unsigned long long)s->resends);
}

static uint64_t avg(uint64_t total, uint64_t n)
{
	return n ? total / n : 0;
}

int cmd_shootdowns(int argc, char **argv)
{
	struct shootdown_stats t;
	int done = stats_command_args(argc, argv, "shootdowns", "shootdown", PER_CPU_FIELD(shootdown_stats));

	if (done >= 0)
		return done;
	printk("CPU   REQUESTS IPIS_SENT RECEIVED POLLED LAZY_SKIPS PARTIAL PAGES  FULL UPTODATE LAZY_LEAVE KERNEL"
	       " RESENDS\n");
	for (unsigned int cpu = 0; cpu < nr_cpu_ids; cpu++) {
		char name[8];
		ksnprintf(name, sizeof(name), "%u", cpu);
		shootdown_row(name, &per_cpu(shootdown_stats, cpu));
	}
	per_cpu_sum(PER_CPU_FIELD(shootdown_stats), &t);
	shootdown_row("total", &t);
	printk("IPIs: %llu sent, %llu answered (%llu from the interrupt, %llu polled while waiting), %llu resent\n",
	       (unsigned long long)t.ipis_sent, (unsigned long long)(t.ipis_received + t.polled),
	       (unsigned long long)t.ipis_received, (unsigned long long)t.polled, (unsigned long long)t.resends);
	printk("cycles (TSC): remote round trip %llu per request; local flush %llu (%llu by page, %llu full)%s\n",
	       (unsigned long long)avg(t.cycles_remote, t.requests),
	       (unsigned long long)avg(t.cycles_local, t.local_pages + t.local_full), (unsigned long long)t.local_pages,
	       (unsigned long long)t.local_full, tlb_skip_remote ? "; noshootdown: remote flushes skipped" : "");
	return 0;
}
