/*
 * apic.c: the timer interrupt (Linux: arch/x86/kernel/apic/apic.c, i8259.c,
 * time.c) and interrupt dispatch (do_IRQ).
 *
 * The 8259 PICs are remapped to vectors 0x20-0x2f (the BIOS leaves IRQ 0 on
 * vector 8, #DF's) and masked. With a local APIC (CPUID.1:EDX[9]) its page
 * is mapped at FIX_APIC_BASE in the fixmap (asm/fixmap.h: uncached; under pgd
 * 511, so every process shares it) and its timer runs periodic at HZ on vector 0xec,
 * calibrated against PIT channel 2; without one, PIT channel 0 drives IRQ 0
 * through the 8259. timer_init runs when the first process is created, so
 * that the kernel's tables stay exactly as booted until then.
 */
#include <asm/console.h>
#include <asm/fixmap.h>
#include <asm/pgtable.h>
#include <asm/processor.h>
#include <asm/sections.h>
#include <asm/traps.h>
#include <lib/cmdline.h>
#include <linux/sched.h>

#define MSR_IA32_APICBASE   0x1bu
#define APIC_TASKPRI        0x80
#define APIC_EOI            0xb0
#define APIC_SPIV           0xf0
#define APIC_LVTT           0x320
#define APIC_TMICT          0x380
#define APIC_TMCCT          0x390
#define APIC_TDCR           0x3e0
#define APIC_LVT_MASKED     (1u << 16)
#define APIC_LVT_PERIODIC   (1u << 17)
#define LOCAL_TIMER_VECTOR  0xec
#define SPURIOUS_APIC_VECTOR 0xff
#define PIT_HZ              1193182u

extern const uint64_t irq_stubs_pic[16], irq_stub_apic_timer[1], irq_stub_spurious[1];

const char *timer_source = "none (no process has run yet)";
static volatile uint32_t *apic;
static bool pit_mode;
uint32_t apic_timer_count; /* initial count per tick */

static uint32_t apic_read(uint32_t reg)
{
	return apic[reg / 4];
}

static void apic_write(uint32_t reg, uint32_t v)
{
	apic[reg / 4] = v;
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

/* APIC timer ticks in 10 ms of PIT channel 2 (0 if the PIT does not answer). */
static uint32_t calibrate_apic_timer(void)
{
	uint32_t count = PIT_HZ / 100;
	uint8_t v = (uint8_t)((inb(0x61) & ~0x02) | 0x01); /* gate on, speaker off */
	outb(v & ~1, 0x61);
	outb(0xb0, 0x43); /* channel 2, lobyte/hibyte, mode 0 */
	outb((uint8_t)count, 0x42);
	outb((uint8_t)(count >> 8), 0x42);
	apic_write(APIC_TDCR, 0x3); /* divide by 16 */
	apic_write(APIC_TMICT, 0xffffffffu);
	outb(v, 0x61); /* the gate's rising edge starts the count */
	for (uint64_t spins = 0; !(inb(0x61) & 0x20); spins++)
		if (spins > 100000000ULL)
			return 0;
	uint32_t elapsed = 0xffffffffu - apic_read(APIC_TMCCT);
	apic_write(APIC_TMICT, 0);
	return elapsed;
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

void timer_init(void)
{
	uint32_t a, b, c, d;

	for (unsigned int v = 0; v < 16; v++)
		idt_set_gate(0x20 + v, irq_stubs_pic[v]);
	idt_set_gate(LOCAL_TIMER_VECTOR, irq_stub_apic_timer[0]);
	idt_set_gate(SPURIOUS_APIC_VECTOR, irq_stub_spurious[0]);
	init_8259A();

	cpuid(1, 0, &a, &b, &c, &d);
	if (!(d & (1u << 9)) || cmdline_has_word(boot_command_line, "noapic")) {
		setup_pit();
		return;
	}
	uint64_t base = rdmsr(MSR_IA32_APICBASE);
	wrmsr(MSR_IA32_APICBASE, base | (1u << 11)); /* globally enabled */
	set_fixmap_nocache(FIX_APIC_BASE, base & 0xffffff000ULL);
	apic = (volatile uint32_t *)(uintptr_t)fix_to_virt(FIX_APIC_BASE);
	apic_write(APIC_TASKPRI, 0);
	apic_write(APIC_SPIV, 0x100 | SPURIOUS_APIC_VECTOR); /* software enable */
	apic_write(APIC_LVTT, APIC_LVT_MASKED | LOCAL_TIMER_VECTOR);
	uint32_t per_10ms = calibrate_apic_timer();
	if (!per_10ms) {
		per_10ms = 625000; /* 1 GHz bus / 16: QEMU's APIC */
		printk("ptlab: the PIT did not answer; APIC timer uncalibrated\n");
	}
	apic_timer_count = per_10ms * 100 / HZ;
	apic_write(APIC_TDCR, 0x3);
	apic_write(APIC_LVTT, APIC_LVT_PERIODIC | LOCAL_TIMER_VECTOR);
	apic_write(APIC_TMICT, apic_timer_count);
	timer_source = "local APIC timer (periodic, vector 0xec, calibrated on PIT channel 2)";
}

/* Every interrupt vector (entry_user.S irq_common). */
void do_IRQ(struct pt_regs *regs)
{
	unsigned int vector = (unsigned int)regs->vector;

	if (vector == LOCAL_TIMER_VECTOR) {
		apic_write(APIC_EOI, 0);
		scheduler_tick(regs);
	} else if (vector == 0x20) {
		outb(0x20, 0x20); /* EOI to the master 8259 */
		if (pit_mode)
			scheduler_tick(regs);
	}
	/* 0xff (APIC spurious) and the masked 8259 lines' spurious IRQ 7/15: nothing to acknowledge */
	if (user_mode(regs))
		exit_to_user_mode(regs);
}
