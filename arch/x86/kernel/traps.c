/*
 * traps.c: the IDT and exception dispatch.
 *
 * Every exception vector gets an interrupt gate to its entry_64.S stub (one
 * IDT for all CPUs; #DF moves to IST 1, each CPU's own stack, once the CPUs
 * have TSSs: sched_init). A
 * page fault goes to do_page_fault(); any other exception is fixed up when
 * its RIP is in the exception table (fault-safe accessors), otherwise it is
 * reported with the registers and the kernel panics. A double fault runs on
 * its own IST stack once the TSS is loaded (idt_setup_ist); when CR2 is in
 * the guard page under the current task's kernel stack, it reports the
 * stack overflow and names the task (Linux's handle_stack_overflow).
 */
#include <asm/console.h>
#include <asm/cpu_entry_area.h>
#include <asm/desc.h>
#include <asm/page.h>
#include <asm/processor.h>
#include <asm/segment.h>
#include <asm/traps.h>
#include <linux/sched.h>

struct __attribute__((packed)) idt_entry {
	uint16_t offset0;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset1;
	uint32_t offset2;
	uint32_t reserved;
};

struct __attribute__((packed)) desc_ptr {
	uint16_t size;
	uint64_t address;
};

struct exception_table_entry {
	uint64_t insn, fixup;
};

#define GATE_INTERRUPT 0x8E /* present, DPL 0, 64-bit interrupt gate */

extern const uint64_t exception_stubs[32];
extern const struct exception_table_entry __start___ex_table[], __stop___ex_table[];

/* One page: under PTI the cpu_entry_area maps it read-only and IDTR points there (idt_map_in_cea). */
static struct idt_entry idt_table[256] __attribute__((aligned(4096)));
static uint64_t idt_address = (uint64_t)(uintptr_t)idt_table;
struct fault_record last_fault = { .vector = 0xff };

static const char *const exception_names[32] = {
	"divide error", "debug", "NMI", "breakpoint", "overflow", "bound range exceeded",
	"invalid opcode", "device not available", "double fault", "coprocessor segment overrun",
	"invalid TSS", "segment not present", "stack-segment fault", "general protection fault",
	"page fault", "reserved", "x87 floating-point error", "alignment check", "machine check",
	"SIMD floating-point error", "virtualization exception", "control protection exception",
	"reserved", "reserved", "reserved", "reserved", "reserved", "reserved",
	"hypervisor injection", "VMM communication", "security exception", "reserved",
};

const char *exception_name(unsigned int vector)
{
	return vector < 32 ? exception_names[vector] : "interrupt";
}

void idt_set_gate(unsigned int vector, uint64_t handler)
{
	idt_table[vector] = (struct idt_entry){
		.offset0 = (uint16_t)handler,
		.selector = __KERNEL_CS,
		.type_attr = GATE_INTERRUPT,
		.offset1 = (uint16_t)(handler >> 16),
		.offset2 = (uint32_t)(handler >> 32),
	};
}

void idt_set_ist(unsigned int vector, unsigned int ist)
{
	idt_table[vector].ist = (uint8_t)ist;
}

void load_idt(void)
{
	struct desc_ptr idt = { sizeof(idt_table) - 1, idt_address };
	__asm__ volatile("lidt %0" : : "m"(idt));
}

void idt_map_in_cea(void)
{
	cea_set_pte(CPU_ENTRY_AREA_RO_IDT, __pa_symbol(idt_table), PAGE_KERNEL_RO);
	idt_address = CPU_ENTRY_AREA_RO_IDT;
	load_idt();
}

void idt_setup_traps(void)
{
	for (unsigned int v = 0; v < 32; v++)
		idt_set_gate(v, exception_stubs[v]);
	load_idt();
}

void idt_setup_ist(void)
{
	idt_table[X86_TRAP_DF].ist = IST_INDEX_DF + 1;
}

bool search_exception_tables(uint64_t rip)
{
	for (const struct exception_table_entry *e = __start___ex_table; e < __stop___ex_table; e++)
		if (e->insn == rip)
			return true;
	return false;
}

void fault_record_clear(void)
{
	last_fault.vector = 0xff;
}

bool fixup_exception(struct pt_regs *regs)
{
	for (const struct exception_table_entry *e = __start___ex_table; e < __stop___ex_table; e++) {
		if (e->insn == regs->rip) {
			last_fault.vector = (unsigned int)regs->vector;
			last_fault.error_code = regs->error_code;
			last_fault.rip = regs->rip;
			last_fault.cr2 = regs->vector == X86_TRAP_PF ? read_cr2() : 0;
			regs->rip = e->fixup;
			return true;
		}
	}
	return false;
}

static void show_regs(const struct pt_regs *r)
{
	printk("  RIP %016llx  RSP %016llx  RFLAGS %016llx\n", (unsigned long long)r->rip,
	       (unsigned long long)r->rsp, (unsigned long long)r->rflags);
	printk("  RAX %016llx  RBX %016llx  RCX %016llx  RDX %016llx\n", (unsigned long long)r->rax,
	       (unsigned long long)r->rbx, (unsigned long long)r->rcx, (unsigned long long)r->rdx);
	printk("  RSI %016llx  RDI %016llx  RBP %016llx  R8  %016llx\n", (unsigned long long)r->rsi,
	       (unsigned long long)r->rdi, (unsigned long long)r->rbp, (unsigned long long)r->r8);
	printk("  CR0 %016llx  CR3 %016llx  CR4 %016llx\n", (unsigned long long)read_cr0(),
	       (unsigned long long)read_cr3(), (unsigned long long)read_cr4());
}

/* A #DF: name the overflowing task when CR2 is in the guard page below its stack. */
static __attribute__((noreturn)) void exc_double_fault(struct pt_regs *regs)
{
	uint64_t cr2 = read_cr2(), stack = (uint64_t)(uintptr_t)current->stack;

	printk("\nptlab: double fault (on the IST stack), CR2 0x%016llx, RSP 0x%016llx\n", (unsigned long long)cr2,
	       (unsigned long long)regs->rsp);
	if (stack && cr2 >= stack - 4096 && cr2 < stack) {
		printk("BUG: stack guard page was hit at 0x%016llx (stack is 0x%016llx..0x%016llx)\n",
		       (unsigned long long)cr2, (unsigned long long)stack, (unsigned long long)(stack + THREAD_SIZE - 1));
		printk("kernel stack overflow (double-fault) in task %d (%s)\n", current->pid, current->comm);
		show_regs(regs);
		panic("kernel stack overflow in task %d (%s)", current->pid, current->comm);
	}
	show_regs(regs);
	panic("double fault at RIP 0x%016llx", (unsigned long long)regs->rip);
}

void do_exception(struct pt_regs *regs)
{
	if (regs->vector == X86_TRAP_DF)
		exc_double_fault(regs);
	if (regs->vector == X86_TRAP_PF) {
		do_page_fault(regs);
		return;
	}
	if ((regs->cs & 3) == 3) {
		do_user_trap(regs); /* kernel/exit.c: the process dies, the kernel goes on */
		return;
	}
	if (fixup_exception(regs))
		return;
	printk("\nptlab: exception %llu (%s), error code 0x%llx\n", (unsigned long long)regs->vector,
	       exception_name((unsigned int)regs->vector), (unsigned long long)regs->error_code);
	show_regs(regs);
	panic("unhandled %s in the kernel at RIP 0x%016llx", exception_name((unsigned int)regs->vector),
	      (unsigned long long)regs->rip);
}
