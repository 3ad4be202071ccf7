/*
 * smpboot.c: bringing up the other CPUs (Linux: arch/x86/kernel/smpboot.c,
 * kernel/cpu.c, init/main.c smp_init; docs/smp.md).
 *
 *   smp_init                 the CPUs the firmware lists (ACPI MADT, else the
 *                            MP table); with more than one: the [smp_init] stage
 *     init_real_mode         the trampoline below 1 MiB and trampoline_pgd
 *     do_boot_cpu            per AP: idle task, stack, per-CPU area, then
 *       wakeup_secondary_cpu_via_init   INIT, INIT deassert, STARTUP x 2
 *       (wait up to 10 s for the AP: Linux's cpuhp_bp_sync_alive)
 *   AP: trampoline_start -> startup_32 -> startup_64 (trampoline_pgd) ->
 *       secondary_startup_64 (swapper_pg_dir) -> start_secondary -> idle loop
 *
 * An AP that does not answer within the 10 s is reported and left out; the
 * boot goes on with the others. CPUs beyond NR_CPUS are reported and not
 * started. With one CPU (the default -smp 1), or `noapic`, nothing of this
 * prints and the kernel's tables stay exactly as before.
 */
#include <asm/acpi.h>
#include <asm/apic.h>
#include <asm/console.h>
#include <asm/cpufeature.h>
#include <asm/memtype.h>
#include <asm/mmu_context.h>
#include <asm/percpu.h>
#include <asm/processor.h>
#include <asm/realmode.h>
#include <asm/sections.h>
#include <asm/smp.h>
#include <asm/traps.h>
#include <lib/cmdline.h>
#include <linux/sched.h>
#include <uapi/ptlab_unistd.h>

#define AP_ALIVE_TIMEOUT_MS  10000  /* Linux: cpuhp_wait_for_sync_state, 10 s */
#define UDELAY_10MS_DEFAULT  10000
#define TRAMPOLINE_PHYS_LOW  0x467  /* the BIOS's warm reset vector */
#define TRAMPOLINE_PHYS_HIGH 0x469

extern const uint64_t irq_stub_call_function[1], irq_stub_reschedule[1], irq_stub_spurious[1];

uint64_t tsc_khz;
uint64_t smpboot_cr3_trampoline, smpboot_cr3_swapper;
uint64_t initial_stack, initial_gs;
static unsigned int init_udelay;
static int trampoline_halt_cpu = -1; /* test only: trampoline_halt=N */

void udelay(uint64_t us)
{
	uint64_t until = rdtsc() + us * (tsc_khz ? tsc_khz : 1000000) / 1000; /* 1 GHz until calibrated */
	while (rdtsc() < until)
		cpu_relax();
}

/* Linux's smp_quirk_init_udelay: no INIT delay on Intel family 6 and AMD from family 0xf. */
static void smp_quirk_init_udelay(void)
{
	uint32_t a, b, c, d;

	cpuid(1, 0, &a, &b, &c, &d);
	unsigned int family = (a >> 8) & 0xf;
	if (family == 0xf)
		family += (a >> 20) & 0xff;
	bool intel = memcmp(boot_cpu_data.vendor, "GenuineIntel", 12) == 0;
	bool amd = memcmp(boot_cpu_data.vendor, "AuthenticAMD", 12) == 0;
	init_udelay = (intel && family == 6) || (amd && family >= 0xf) ? 0 : UDELAY_10MS_DEFAULT;
}

static void cmos_write(uint8_t reg, uint8_t v)
{
	outb(reg, 0x70);
	outb(v, 0x71);
}

/* The warm reset vector: CMOS shutdown code 0xa, the trampoline's address at 0x467. */
static void smpboot_setup_warm_reset_vector(uint64_t start_eip)
{
	cmos_write(0xf, 0xa);
	*(volatile uint16_t *)__va(TRAMPOLINE_PHYS_HIGH) = (uint16_t)(start_eip >> 4);
	*(volatile uint16_t *)__va(TRAMPOLINE_PHYS_LOW) = (uint16_t)(start_eip & 0xf);
}

static void smpboot_restore_warm_reset_vector(void)
{
	cmos_write(0xf, 0);
	*(volatile uint32_t *)__va(TRAMPOLINE_PHYS_LOW) = 0;
}

/* INIT (assert, then deassert) to the AP, as Linux's send_init_sequence. */
static void send_init_sequence(uint32_t apicid)
{
	apic_write(APIC_ESR, 0);
	apic_read(APIC_ESR);
	apic_icr_write(APIC_INT_LEVELTRIG | APIC_INT_ASSERT | APIC_DM_INIT, apicid);
	safe_apic_wait_icr_idle();
	udelay(init_udelay);
	apic_icr_write(APIC_INT_LEVELTRIG | APIC_DM_INIT, apicid);
	safe_apic_wait_icr_idle();
}

/* INIT, then two STARTUP IPIs with the trampoline's page number. returns: 0, or the APIC's error bits. */
static uint32_t wakeup_secondary_cpu_via_init(uint32_t apicid, uint64_t start_eip)
{
	uint32_t send_status = 0, accept_status = 0;

	send_init_sequence(apicid);
	for (int j = 1; j <= 2; j++) {
		apic_write(APIC_ESR, 0);
		apic_read(APIC_ESR);
		apic_icr_write(APIC_DM_STARTUP | (uint32_t)(start_eip >> 12), apicid);
		udelay(init_udelay == 0 ? 10 : 300);
		send_status = safe_apic_wait_icr_idle();
		udelay(init_udelay == 0 ? 10 : 200);
		apic_write(APIC_ESR, 0);
		accept_status = apic_read(APIC_ESR) & 0xef;
		if (send_status || accept_status)
			break;
	}
	return send_status | accept_status;
}

/* The AP's per-CPU area, idle task and stacks. returns: 0 or -ENOMEM. */
static int prepare_cpu(unsigned int cpu, uint32_t apicid)
{
	struct pcpu *p = &per_cpu_area[cpu];
	struct page *stack = alloc_pages(THREAD_SIZE_ORDER), *ist = alloc_pages(0);

	if (!stack || !ist) {
		if (stack)
			free_pages(stack, THREAD_SIZE_ORDER);
		if (ist)
			free_pages(ist, 0);
		return -ENOMEM;
	}
	p->self = p;
	p->cpu = cpu;
	p->apicid = apicid;
	p->ist_stack = page_address(ist);
	p->idle = init_idle(cpu, page_address(stack));
	p->current_task = p->idle;
	return 0;
}

/* Start one AP and wait for it (Linux's do_boot_cpu and cpuhp_bp_sync_alive). returns: 0 or -1. */
static int do_boot_cpu(unsigned int cpu)
{
	struct pcpu *p = &per_cpu_area[cpu];
	uint64_t start_ip = real_mode_header->trampoline_start;

	initial_stack = (uint64_t)(uintptr_t)p->idle->stack + THREAD_SIZE;
	initial_gs = (uint64_t)(uintptr_t)p;
	trampoline_header_va()->flags = (int)cpu == trampoline_halt_cpu ? TH_FLAGS_HALT : 0;
	atomic_set(&p->state, CPU_KICKED);
	smpboot_setup_warm_reset_vector(start_ip);
	uint64_t t0 = rdtsc();
	uint32_t err = wakeup_secondary_cpu_via_init(p->apicid, start_ip);
	while (!err && atomic_read(&p->state) == CPU_KICKED && rdtsc() - t0 < AP_ALIVE_TIMEOUT_MS * tsc_khz)
		cpu_relax();
	smpboot_restore_warm_reset_vector();
	if (err || atomic_read(&p->state) == CPU_KICKED) {
		atomic_set(&p->state, CPU_NO_ANSWER);
		printk("ptlab: smp: CPU%u (APIC id %u) did not answer within %u s%s: left out\n", cpu, p->apicid,
		       AP_ALIVE_TIMEOUT_MS / 1000, err ? " (APIC delivery error)" : "");
		return -1;
	}
	p->boot_cycles = rdtsc() - t0;
	while (atomic_read(&p->state) != CPU_ONLINE)
		cpu_relax();
	stage_printk("  CPU%u: APIC id %u: INIT, STARTUP 0x%llx x2: alive after %llu us;"
		     " CR3 0x%llx (trampoline_pgd) -> 0x%llx (swapper_pg_dir); online\n",
		     cpu, p->apicid, (unsigned long long)(start_ip >> 12),
		     (unsigned long long)(p->boot_cycles * 1000 / tsc_khz), (unsigned long long)p->cr3_trampoline,
		     (unsigned long long)p->cr3_swapper);
	return 0;
}

void start_secondary(void)
{
	struct pcpu *p = this_pcpu();

	p->cr3_trampoline = smpboot_cr3_trampoline;
	p->cr3_swapper = smpboot_cr3_swapper;
	cpu_init_gdt();                 /* this CPU's GDT and TSS (RSP0, the #DF stack) */
	load_idt();
	syscall_init();                 /* MSR_STAR, MSR_LSTAR, MSR_SYSCALL_MASK, EFER.SCE */
	if (pat_enabled)
		pat_cpu_init();         /* IA32_PAT as the boot CPU's (Linux's pat_ap_init) */
	initialize_tlbstate_and_flush(); /* init_mm on ASID 0; CR4.PCIDE where in use */
	apic_setup_local();
	atomic_set(&p->state, CPU_ALIVE);
	atomic_or(&cpu_online_mask, 1ULL << p->cpu);
	atomic_set(&p->state, CPU_ONLINE);
	cpu_startup_entry();            /* the idle loop: schedule, else HLT */
}

/* The firmware's CPUs: the MADT (unless `acpi=off`, as Linux's), else the MP table, else this one only. */
static void find_cpus(struct fw_cpus *fw)
{
	bool acpi = !cmdline_has_word(boot_command_line, "acpi=off");

	if ((acpi && acpi_boot_init(fw) == 0) || mpparse_find_cpus(fw) == 0)
		return;
	*fw = (struct fw_cpus){ .n = 1, .source = "none (no ACPI MADT, no MP table)" };
	fw->cpu[0].apicid = 0;
}

/* Number the CPUs: the BSP is CPU 0, the others in the firmware's order, up to NR_CPUS. */
static void assign_cpus(const struct fw_cpus *fw, uint32_t bsp_apicid)
{
	unsigned int listed = fw->n < FW_MAX_CPUS ? fw->n : FW_MAX_CPUS;

	per_cpu(apicid, 0) = bsp_apicid;
	nr_cpu_ids = 1;
	for (unsigned int i = 0; i < listed; i++) {
		if (fw->cpu[i].apicid == bsp_apicid)
			continue;
		if (nr_cpu_ids < NR_CPUS)
			per_cpu(apicid, nr_cpu_ids) = fw->cpu[i].apicid;
		else
			printk("ptlab: smp: CPU with APIC id %u: more CPUs than the kernel supports (NR_CPUS %u): "
			       "not started\n", fw->cpu[i].apicid, NR_CPUS);
		nr_cpu_ids++;
	}
	if (nr_cpu_ids > NR_CPUS) {
		printk("ptlab: smp: %u CPUs listed, %u supported: booting %u\n", nr_cpu_ids, NR_CPUS, NR_CPUS);
		nr_cpu_ids = NR_CPUS;
	}
}

/* The [smp_init] block's head: the firmware's list, the clock, the trampoline. */
static void report_smp_init(const struct fw_cpus *fw)
{
	stage_begin("smp_init", "the other CPUs: the real-mode trampoline, trampoline_pgd, INIT-SIPI-SIPI");
	stage_printk("  %s at 0x%llx: %u CPU%s (APIC ids", fw->source, (unsigned long long)fw->table_pa, fw->n,
		     fw->n == 1 ? "" : "s");
	for (unsigned int i = 0; i < fw->n && i < FW_MAX_CPUS; i++)
		stage_printk(" %u", fw->cpu[i].apicid);
	stage_printk("), local APIC at 0x%llx; the BSP is APIC id %u\n", (unsigned long long)fw->lapic_pa,
		     per_cpu(apicid, 0));
	stage_printk("  TSC: %llu kHz (PIT channel 2); INIT delay %u us (Linux's init_udelay)\n",
		     (unsigned long long)tsc_khz, init_udelay);
	stage_printk("  trampoline at 0x%llx, %llu pages (below 1 MiB: an AP starts in real mode)\n",
		     (unsigned long long)real_mode_base, (unsigned long long)((real_mode_blob_end - real_mode_blob) >> 12));
	report_trampoline_pgd();
}

/* Prepare the BSP for SMP: the APIC, the IPI vectors, the clock. returns: false to stay on one CPU. */
static bool smp_prepare_boot_cpu(void)
{
	uint64_t tsc;
	char word[8];

	if (init_apic_mappings())
		return false;
	apic_setup_local();
	idt_set_gate(CALL_FUNCTION_VECTOR, irq_stub_call_function[0]);
	idt_set_gate(RESCHEDULE_VECTOR, irq_stub_reschedule[0]);
	idt_set_gate(SPURIOUS_APIC_VECTOR, irq_stub_spurious[0]);
	if (!pit_calibrate_10ms(&tsc, 0) || !tsc) {
		printk("ptlab: smp: the PIT did not answer: no clock for the APs' timeouts; one CPU\n");
		return false;
	}
	tsc_khz = tsc / 10;
	smp_quirk_init_udelay();
	if (cmdline_get_option(boot_command_line, "trampoline_halt", word, sizeof(word)) > 0)
		trampoline_halt_cpu = (int)(word[0] - '0');
	return true;
}

void smp_init(void)
{
	struct fw_cpus fw;

	if (!cpu_has_apic())
		return;
	find_cpus(&fw);
	if (fw.n <= 1)
		return; /* one CPU: nothing changes */
	if (!smp_prepare_boot_cpu())
		return;
	assign_cpus(&fw, read_apic_id());
	if (init_real_mode())
		return;
	report_smp_init(&fw);
	for (unsigned int cpu = 1; cpu < nr_cpu_ids; cpu++) {
		if (prepare_cpu(cpu, per_cpu(apicid, cpu))) {
			printk("ptlab: smp: no memory for CPU%u's stacks\n", cpu);
			break;
		}
		do_boot_cpu(cpu);
	}
	stage_printk("  smp: %u of %u CPUs online\n", num_online_cpus(), nr_cpu_ids);
}
