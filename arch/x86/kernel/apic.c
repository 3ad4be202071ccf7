/*
 * apic.c: the local APIC, the timer interrupt (Linux: arch/x86/kernel/apic/apic.c,
 * ipi.c, i8259.c, time.c) and interrupt dispatch (do_IRQ).
 *
 * The 8259 PICs are remapped to vectors 0x20-0x2f (the BIOS leaves IRQ 0 on
 * vector 8, #DF's) and masked. With a local APIC (CPUID.1:EDX[9]) its page
 * is mapped at FIX_APIC_BASE in the fixmap (asm/fixmap.h: uncached; under pgd
 * 511, so every process shares it) and each CPU's timer runs periodic at HZ
 * on vector 0xec, calibrated against PIT channel 2; without one, PIT channel
 * 0 drives IRQ 0 through the 8259 (one CPU). timer_init runs when the first
 * process is created, so that the kernel's tables stay exactly as booted
 * until then (with more than one CPU the APIC is mapped at boot, to start
 * them). The IPIs of smp.c arrive here too: CALL_FUNCTION_VECTOR,
 * RESCHEDULE_VECTOR.
 */
#include <asm/apic.h>
#include <asm/console.h>
#include <asm/fixmap.h>
#include <asm/pgtable.h>
#include <asm/processor.h>
#include <asm/sections.h>
#include <asm/smp.h>
#include <asm/traps.h>
#include <lib/cmdline.h>
#include <linux/sched.h>

#define MSR_IA32_APICBASE   0x1bu
#define APIC_LVT_MASKED     (1u << 16)
#define APIC_LVT_PERIODIC   (1u << 17)
#define PIT_HZ              1193182u

extern const uint64_t irq_stubs_pic[16], irq_stub_apic_timer[1], irq_stub_spurious[1];

const char *timer_source = "none (no process has run yet)";
static volatile uint32_t *apic;
static bool pit_mode;
uint32_t apic_timer_count; /* initial count per tick */

uint32_t apic_read(uint32_t reg)
{
	return apic[reg / 4];
}

void apic_write(uint32_t reg, uint32_t v)
{
	apic[reg / 4] = v;
}

uint32_t read_apic_id(void)
{
	return apic_read(APIC_ID) >> 24;
}

uint32_t safe_apic_wait_icr_idle(void)
{
	uint32_t busy;
	for (unsigned int i = 0; i < 1000000; i++)
		if (!(busy = apic_read(APIC_ICR) & APIC_ICR_BUSY))
			return 0;
	return busy;
}

void apic_icr_write(uint32_t low, uint32_t apicid)
{
	apic_write(APIC_ICR2, apicid << 24);
	apic_write(APIC_ICR, low);
}

void apic_send_IPI(uint32_t apicid, unsigned int vector)
{
	safe_apic_wait_icr_idle();
	apic_icr_write(APIC_DM_FIXED | vector, apicid);
}

/* Remap the 8259s to 0x20/0x28 and mask every line (init_8259A). */
static void init_8259A(void)
{
	outb(0x11, 0x20); io_delay();
	outb(0x11, 0xa0); io_delay();
	outb(0x20, 0x21); io_delay(); /* master: vectors 0x20-0x27 */
	outb(0x28, 0xa1); io_delay(); /* slave: 0x28-0x2f */
	outb(0x04, 0x21); io_delay(); /* slave on IRQ 2 */
	outb(0x02, 0xa1); io_delay();
	outb(0x01, 0x21); io_delay(); /* 8086 mode */
	outb(0x01, 0xa1); io_delay();
	outb(0xff, 0x21);
	outb(0xff, 0xa1);
}

bool pit_calibrate_10ms(uint64_t *tsc_ticks, uint32_t *apic_ticks)
{
	uint32_t count = PIT_HZ / 100;
	uint8_t v = (uint8_t)((inb(0x61) & ~0x02) | 0x01); /* gate on, speaker off */
	outb(v & ~1, 0x61);
	outb(0xb0, 0x43); /* channel 2, lobyte/hibyte, mode 0 */
	outb((uint8_t)count, 0x42);
	outb((uint8_t)(count >> 8), 0x42);
	if (apic_ticks) {
		apic_write(APIC_TDCR, 0x3); /* divide by 16 */
		apic_write(APIC_TMICT, 0xffffffffu);
	}
	uint64_t t0 = rdtsc();
	outb(v, 0x61); /* the gate's rising edge starts the count */
	for (uint64_t spins = 0; !(inb(0x61) & 0x20); spins++)
		if (spins > 100000000ULL)
			return false;
	*tsc_ticks = rdtsc() - t0;
	if (apic_ticks) {
		*apic_ticks = 0xffffffffu - apic_read(APIC_TMCCT);
		apic_write(APIC_TMICT, 0);
	}
	return true;
}

static void setup_pit(void)
{
	uint32_t count = PIT_HZ / HZ;
	outb(0x34, 0x43); /* channel 0, lobyte/hibyte, mode 2 */
	outb((uint8_t)count, 0x40);
	outb((uint8_t)(count >> 8), 0x40);
	outb(0xfe, 0x21); /* unmask IRQ 0 */
	pit_mode = true;
	timer_source = "PIT (8254 channel 0 through the 8259, IRQ 0)";
}

bool cpu_has_apic(void)
{
	uint32_t a, b, c, d;

	cpuid(1, 0, &a, &b, &c, &d);
	return (d & (1u << 9)) && !cmdline_has_word(boot_command_line, "noapic");
}

int init_apic_mappings(void)
{
	if (apic)
		return 0;
	uint64_t base = rdmsr(MSR_IA32_APICBASE);
	wrmsr(MSR_IA32_APICBASE, base | (1u << 11)); /* globally enabled */
	set_fixmap_nocache(FIX_APIC_BASE, base & 0xffffff000ULL);
	apic = (volatile uint32_t *)(uintptr_t)fix_to_virt(FIX_APIC_BASE);
	return 0;
}

void apic_setup_local(void)
{
	apic_write(APIC_TASKPRI, 0);
	apic_write(APIC_SPIV, 0x100 | SPURIOUS_APIC_VECTOR); /* software enable */
	apic_write(APIC_LVTT, APIC_LVT_MASKED | LOCAL_TIMER_VECTOR);
}

void setup_APIC_timer(void)
{
	apic_write(APIC_TDCR, 0x3);
	apic_write(APIC_LVTT, APIC_LVT_PERIODIC | LOCAL_TIMER_VECTOR);
	apic_write(APIC_TMICT, apic_timer_count);
	this_cpu_write(timer_on, true);
}

static void start_secondary_timer(void *unused)
{
	(void)unused;
	setup_APIC_timer();
}

void timer_init(void)
{
	for (unsigned int v = 0; v < 16; v++)
		idt_set_gate(0x20 + v, irq_stubs_pic[v]);
	idt_set_gate(LOCAL_TIMER_VECTOR, irq_stub_apic_timer[0]);
	idt_set_gate(SPURIOUS_APIC_VECTOR, irq_stub_spurious[0]);
	init_8259A();

	if (!cpu_has_apic() || init_apic_mappings()) {
		setup_pit();
		return;
	}
	apic_setup_local();
	uint64_t tsc;
	uint32_t per_10ms;
	if (!pit_calibrate_10ms(&tsc, &per_10ms)) {
		per_10ms = 625000; /* 1 GHz bus / 16: QEMU's APIC */
		printk("ptlab: the PIT did not answer; APIC timer uncalibrated\n");
	}
	apic_timer_count = per_10ms * 100 / HZ;
	setup_APIC_timer();
	smp_call_function_many(cpu_online_mask, start_secondary_timer, 0); /* the APs' own timers */
	timer_source = "local APIC timer (periodic, vector 0xec, calibrated on PIT channel 2)";
}

/* Every interrupt vector (entry_user.S irq_common). */
void do_IRQ(struct pt_regs *regs)
{
	unsigned int vector = (unsigned int)regs->vector;

	if (vector == LOCAL_TIMER_VECTOR) {
		apic_write(APIC_EOI, 0);
		scheduler_tick(regs);
	} else if (vector == CALL_FUNCTION_VECTOR) {
		apic_write(APIC_EOI, 0);
		generic_smp_call_function_interrupt(true);
	} else if (vector == RESCHEDULE_VECTOR) {
		apic_write(APIC_EOI, 0);
		this_cpu_write(need_resched, true);
	} else if (vector == 0x20) {
		outb(0x20, 0x20); /* EOI to the master 8259 */
		if (pit_mode)
			scheduler_tick(regs);
	}
	/* 0xff (APIC spurious) and the masked 8259 lines' spurious IRQ 7/15: nothing to acknowledge */
	if (user_mode(regs))
		exit_to_user_mode(regs);
}
