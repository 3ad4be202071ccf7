/*
 * proc_shell.c: the shell's process commands (docs/shell.md):
 *   ps                  pid, parent, state, CR3 and PCID, pages held
 *   run [-c CPU] PROG [ARGS] [&]
 *                       start a program of user/ (pinned to CPU with -c)
 *                       and wait for it (^C kills it), or leave it in the
 *                       background with &
 *   kill PID            SIGKILL; the process dies on its way back to ring 3
 *   switches            context-switch and CR3 statistics, the ASID slots,
 *                       per CPU when there are several
 *   ptdump user PID     the user half of PID's table, Linux ptdump format
 *   vtop VA PID         crash's user vtop of VA in PID's table
 * Background processes (and orphans, which task 0 inherits) are reaped and
 * reported at the start of each of these commands.
 */
#include <asm/console.h>
#include <asm/cpufeature.h>
#include <asm/mmu_context.h>
#include <asm/processor.h>
#include <asm/pti.h>
#include <asm/smp.h>
#include <lib/cmdline.h>
#include <lib/vsprintf.h>
#include <linux/proc_shell.h>
#include <linux/sched.h>
#include <linux/shell.h>
#include <paging/pg_format.h>
#include <uapi/ptlab_unistd.h>



static const char *errname(long err)
{
	switch (-err) {
	case ENOENT: return "no such program";
	case ENOEXEC: return "not a valid ELF program";
	case E2BIG: return "argument list too long";
	case ENOMEM: return "out of memory";
	case EAGAIN: return "too many processes";
	case ESRCH: return "no such process";
	case EPERM: return "not permitted";
	default: return "error";
	}
}

static void report_status(int pid, const char *comm, int status)
{
	if (WIFSIGNALED(status))
		printk("[pid %d] %s killed by %s\n", pid, comm,
		       WTERMSIG(status) == SIGKILL ? "SIGKILL" : WTERMSIG(status) == SIGSEGV ? "SIGSEGV" : "a signal");
	else
		printk("[pid %d] %s exited with status %d\n", pid, comm, WEXITSTATUS(status));
}

/* Reap and report every zombie task 0 owns (background jobs, orphans). */
static void reap_background(void)
{
	for (int i = 1; i < NR_TASKS; i++) {
		struct task_struct *t = &tasks[i];
		if (t->state == TASK_ZOMBIE && t->parent == current && t->background) {
			char comm[sizeof(t->comm)];
			int status, pid = t->pid;
			memcpy(comm, t->comm, sizeof(comm));
			if (reap_zombie(pid, &status) > 0) /* not while other threads of it still exit */
				report_status(pid, comm, status);
		}
	}
}

/* A process by its PID argument; prints the error. */
static struct task_struct *task_arg(const char *s, bool need_mm)
{
	uint64_t pid;
	if (!parse_u64(s, &pid)) {
		printk("error: '%s' is not a PID\n", s);
		return 0;
	}
	struct task_struct *t = pid < 1000000 ? find_task((int)pid) : 0;
	if (!t) {
		printk("error: no process %llu (ps lists them)\n", (unsigned long long)pid);
		return 0;
	}
	if (need_mm && (t->state == TASK_ZOMBIE || t->mm == &init_mm)) {
		printk("error: pid %d has no user address space (%s)\n", t->pid,
		       t->state == TASK_ZOMBIE ? "it has exited" : "the kernel");
		return 0;
	}
	return t;
}

/*
 * t's mm, held (a reference and its mmap_lock: its threads may run on other
 * CPUs meanwhile) for reading its tables. returns: it, or NULL (error printed).
 */
static struct mm_struct *task_mm_locked(struct task_struct *t)
{
	struct mm_struct *mm = get_task_mm(t);
	if (!mm) {
		printk("error: pid %d has no user address space (it has exited)\n", t->pid);
		return 0;
	}
	spin_lock(&mm->mmap_lock);
	return mm;
}

static void task_mm_unlock(struct mm_struct *mm)
{
	spin_unlock(&mm->mmap_lock);
	mmput(mm);
}

int cmd_ps(int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		printk("usage: ps\n");
		return 1;
	}
	reap_background();
	printk("  PID  PPID STATE    CR3                PCID PAGES TABLES COMMAND\n");
	for (int i = 0; i < NR_TASKS; i++) {
		struct task_struct *t = &tasks[i];
		if (t->state == TASK_UNUSED)
			continue;
		char ppid[12] = "-";
		if (t->parent)
			ksnprintf(ppid, sizeof(ppid), "%d", t->parent->pid);
		if (t->state == TASK_ZOMBIE) {
			printk("%5d %5s %-8s %-18s %4s %5s %6s %s\n", t->pid, ppid, task_state_name(t), "-", "-", "-", "-",
			       t->comm);
			continue;
		}
		int asid = mm_asid(t->mm, t->cpu); /* on the CPU it runs or last ran on */
		char pcid[8] = "-";
		if (asid >= 0)
			ksnprintf(pcid, sizeof(pcid), "%u", kern_pcid((uint16_t)asid));
		uint64_t cr3 = build_cr3(t->mm->pgd, asid >= 0 ? (uint16_t)asid : 0);
		bool kernel = t->mm == &init_mm;
		printk("%5d %5s %-8s 0x%016llx %4s %5llu %6llu %s\n", t->pid, ppid, task_state_name(t),
		       (unsigned long long)cr3, pcid, (unsigned long long)(kernel ? 0 : t->mm->rss),
		       (unsigned long long)(kernel ? 0 : mm_table_pages(t->mm)), t->comm);
	}
	return 0;
}

/* `-c CPU` before the program: its cpumask (a single online CPU). returns: false (error printed) if bad. */
static bool run_cpu_option(int *argc, char ***argv, uint64_t *cpus)
{
	uint64_t cpu;

	*cpus = ~0ULL;
	if (*argc < 2 || !streq((*argv)[1], "-c"))
		return true;
	if (*argc < 4 || !parse_u64((*argv)[2], &cpu) || cpu >= NR_CPUS || !cpu_online((unsigned int)cpu)) {
		printk("error: run -c: CPU must be an online CPU (cpus lists them)\n");
		return false;
	}
	*cpus = 1ULL << cpu;
	*argc -= 2;
	*argv += 2;
	return true;
}

int cmd_run(int argc, char **argv)
{
	bool bg = argc > 2 && streq(argv[argc - 1], "&");
	int err, status;
	uint64_t cpus;

	if (bg)
		argc--;
	if (!run_cpu_option(&argc, &argv, &cpus))
		return 1;
	if (argc < 2) {
		printk("usage: run [-c CPU] PROG [ARGS] [&]\n");
		printk("programs:");
		for (const struct user_program *p = user_programs; p->name; p++)
			printk(" %s", p->name);
		printk("\n");
		return 1;
	}
	reap_background();
	struct task_struct *t = spawn_user_program(argv[1], argc - 1, argv + 1, cpus, &err);
	if (!t) {
		printk("error: run %s: %s\n", argv[1], errname(err));
		return 1;
	}
	int pid = t->pid;
	char comm[sizeof(t->comm)];
	memcpy(comm, t->comm, sizeof(comm));
	if (bg) {
		t->background = true;
		printk("[pid %d] %s running in the background\n", pid, comm);
		return 0;
	}
	while (reap_zombie(pid, &status) == 0) {
		if (serial_getc_nonblock() == 3 /* ^C */) {
			printk("^C\n");
			kill_task(pid, SIGKILL);
		}
		sched_idle_wait();
	}
	report_status(pid, comm, status);
	return status != 0;
}

int cmd_kill(int argc, char **argv)
{
	if (argc != 2) {
		printk("usage: kill PID\n");
		return 1;
	}
	reap_background();
	struct task_struct *t = task_arg(argv[1], false);
	if (!t)
		return 1;
	int pid = t->pid;
	int err = kill_task(pid, SIGKILL);
	if (err) {
		printk("error: kill %d: %s\n", pid, pid == 0 ? "pid 0 is the kernel itself" : errname(err));
		return 1;
	}
	printk("pid %d (%s): SIGKILL sent\n", pid, t->comm);
	/* Let it die (at its next return to ring 3); report it if we are its parent. */
	for (uint64_t until = jiffies + 2 * HZ; (t->state != TASK_ZOMBIE || nr_other_threads(t)) && jiffies < until;)
		sched_idle_wait();
	if (t->state == TASK_ZOMBIE && t->parent == current)
		reap_background();
	return 0;
}

/* The six ASID slots of cpu: PCID, owner (ctx_id), tlb_gen. */
static void print_asid_slots(unsigned int cpu)
{
	const struct tlb_state *ts = &per_cpu(cpu_tlbstate, cpu);

	for (int a = 0; a < TLB_NR_DYN_ASIDS; a++) {
		const struct tlb_context *c = &ts->ctxs[a];
		const char *owner = c->ctx_id == 0 ? "(free)" : c->ctx_id == init_mm.context.ctx_id ? "init_mm" : "";
		int pid = -1;
		for (int i = 1; i < NR_TASKS && !*owner; i++)
			if (tasks[i].state != TASK_UNUSED && tasks[i].state != TASK_ZOMBIE && tasks[i].state != TASK_DEAD &&
			    tasks[i].mm->context.ctx_id == c->ctx_id)
				pid = tasks[i].pid;
		printk("  ASID %d  PCID %d  ctx_id %llu  tlb_gen %llu  %s", a, kern_pcid((uint16_t)a),
		       (unsigned long long)c->ctx_id, (unsigned long long)c->tlb_gen, owner);
		if (!*owner && pid >= 0)
			printk("pid %d", pid);
		else if (!*owner)
			printk("(exited)");
		printk("%s\n", a == ts->loaded_mm_asid ? "  <- loaded" : "");
	}
}

static void print_switches_per_cpu(void)
{
	printk("per CPU:\n");
	for_each_cpu(cpu, cpu_online_mask) {
		const struct switch_stats *s = &per_cpu(switch_stats, cpu);
		printk("  CPU%u: switches %llu, CR3 loads %llu (flushing %llu, non-flushing %llu), same mm %llu,"
		       " lazy %llu (catch-up flushes %llu), timer ticks %llu\n", cpu, (unsigned long long)s->switches,
		       (unsigned long long)s->cr3_loads, (unsigned long long)s->flushing, (unsigned long long)s->noflush,
		       (unsigned long long)s->same_mm, (unsigned long long)s->lazy_enter,
		       (unsigned long long)s->lazy_catchup, (unsigned long long)per_cpu(timer_ticks, cpu));
	}
}

int cmd_switches(int argc, char **argv)
{
	bool smp = num_online_cpus() > 1;
	struct switch_stats total;
	int done = stats_command_args(argc, argv, "switches", "switch", PER_CPU_FIELD(switch_stats));

	if (done >= 0)
		return done;
	reap_background();
	switch_stats_total(&total);
	const struct switch_stats *s = &total;
	printk("context switches:   %llu (between tasks of one mm, no CR3 write: %llu)\n",
	       (unsigned long long)s->switches, (unsigned long long)s->same_mm);
	printk("CR3 loads:          %llu: flushing %llu, non-flushing %llu (CR3 bit 63)\n",
	       (unsigned long long)s->cr3_loads, (unsigned long long)s->flushing, (unsigned long long)s->noflush);
	printk("CR3 unchanged:      %llu (a switch to another mm always loads another CR3)\n",
	       (unsigned long long)s->cr3_same);
	if (!pcid_enabled) {
		printk("PCID:               not in use (%s): every CR3 load flushes the non-global TLB\n",
		       boot_cpu_data.pcid ? "nopcid" : "the CPU has no PCID");
	} else {
		printk("PCID:               in use, %d dynamic ASIDs, PCID = ASID + 1; ASID reused %llu, taken over %llu\n",
		       TLB_NR_DYN_ASIDS, (unsigned long long)s->asid_reuse, (unsigned long long)s->asid_new);
		for_each_cpu(cpu, cpu_online_mask) {
			if (smp)
				printk(" CPU%u:\n", cpu);
			print_asid_slots(cpu);
		}
	}
	if (smp)
		print_switches_per_cpu();
	printk("timer:              %s, %llu ticks\n", timer_source, (unsigned long long)jiffies);
	return 0;
}

int ptdump_user_pid(const char *pid_arg)
{
	struct task_struct *t = task_arg(pid_arg, true);
	struct mm_struct *mm = t ? task_mm_locked(t) : 0;
	if (!mm)
		return 1;
	size_t nranges;
	/* Linux's ranges: the first is user space. */
	const struct pg_va_range *user = pg_ptdump_ranges_linux(kernel_ctx.levels, &nranges);
	struct pg_ptdump_opts opts = { .markers = kernel_ptdump_markers(), .ranges = user, .nranges = 1 };
	printk("pid %d (%s): pgd 0x%llx, the user half (entries 0..%u)\n", t->pid, t->comm,
	       (unsigned long long)__pa(mm->pgd), KERNEL_PGD_BOUNDARY - 1);
	int err = pg_fmt_ptdump(&mm->ctx, __pa(mm->pgd), &opts, &console_sink);
	task_mm_unlock(mm);
	if (err) {
		printk("error: ptdump user %d: %s\n", t->pid, pg_strerror(err));
		return 1;
	}
	return 0;
}

int ptdump_user_pgd_pid(const char *pid_arg)
{
	if (!pti_enabled) {
		printk("error: ptdump user-pgd: page-table isolation is off (%s)\n", pti_reason);
		return 1;
	}
	struct task_struct *t = task_arg(pid_arg, true);
	struct mm_struct *mm = t ? task_mm_locked(t) : 0;
	if (!mm)
		return 1;
	phys_addr_t user = pg_pti_user_pgd(__pa(mm->pgd));
	struct pg_ptdump_opts opts = { .markers = kernel_ptdump_markers() };
	printk("pid %d (%s): user PGD 0x%llx (kernel PGD 0x%llx + 0x1000), what ring 3 runs on\n", t->pid,
	       t->comm, (unsigned long long)user, (unsigned long long)__pa(mm->pgd));
	int err = pg_fmt_ptdump(&mm->ctx, user, &opts, &console_sink);
	task_mm_unlock(mm);
	if (err) {
		printk("error: ptdump user-pgd %d: %s\n", t->pid, pg_strerror(err));
		return 1;
	}
	return 0;
}

int vtop_pid(uint64_t va, const char *pid_arg)
{
	struct task_struct *t = task_arg(pid_arg, true);
	struct mm_struct *mm = t ? task_mm_locked(t) : 0;
	if (!mm)
		return 1;
	struct pg_vtop_opts opts = { .user = true, .phys_bits = kernel_ctx.phys_bits > 46 ? 52 : 46 };
	int err = pg_fmt_vtop(&mm->ctx, __pa(mm->pgd), va, &opts, &console_sink);
	task_mm_unlock(mm);
	if (err) {
		printk("error: vtop 0x%llx %d: %s\n", (unsigned long long)va, t->pid, pg_strerror(err));
		return 1;
	}
	return 0;
}
