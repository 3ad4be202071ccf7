/*
 * gdt.c: each CPU's GDT and TSS, replacing head_64.S's early_gdt once the
 * kernel runs (Linux: gdt_page in arch/x86/kernel/cpu/common.c, cpu_tss_rw),
 * both in the CPU's struct pcpu (asm/percpu.h):
 *
 *   0x00 null
 *   0x08 __KERNEL32_CS   32-bit kernel code (as early_gdt)
 *   0x10 __KERNEL_CS     64-bit kernel code
 *   0x18 __KERNEL_DS     kernel data
 *   0x20 __USER32_CS     32-bit user code (DPL 3): the base of SYSRET's selectors
 *   0x28 __USER_DS       user data (DPL 3), SYSRET's SS
 *   0x30 __USER_CS       64-bit user code (DPL 3), SYSRET's CS
 *   0x38 (unused)
 *   0x40 __TSS           this CPU's 64-bit TSS (two slots)
 * The TSS holds RSP0 (the kernel stack of the task running on the CPU; under
 * PTI the CPU's entry stack) and, in its IST slot IST_INDEX_DF, the top of
 * the CPU's own double-fault stack. Under PTI the CPU reaches the GDT, the
 * TSS and both stacks through its cpu_entry_area (asm/cpu_entry_area.h).
 * Depends on: asm/segment.h, asm/desc.h, asm/percpu.h, asm/traps.h.
 */
#include <asm/cpu_entry_area.h>
#include <asm/desc.h>
#include <asm/page.h>
#include <asm/percpu.h>
#include <asm/pti.h>
#include <asm/segment.h>
#include <asm/traps.h>
#include <paging/pg_env.h>

/*
 * The accessed bit (descriptor bit 40) set, as in Linux's GDT: the CPU would
 * otherwise set it on the first load of each selector, a write that the
 * read-only GDT of the cpu_entry_area (PTI) would refuse.
 */
#define DESC_ACCESSED (1ULL << 40)

static const uint64_t gdt_template[GDT_ENTRY_TSS] = {
	[1] = GDT_KERNEL32_CS | DESC_ACCESSED,
	[2] = GDT_KERNEL_CS | DESC_ACCESSED,
	[3] = GDT_KERNEL_DS | DESC_ACCESSED,
	[4] = GDT_USER32_CS | DESC_ACCESSED,
	[5] = GDT_USER_DS | DESC_ACCESSED,
	[6] = GDT_USER_CS | DESC_ACCESSED,
};

struct __attribute__((packed)) gdt_ptr {
	uint16_t size;
	uint64_t address;
};

/* A 64-bit available TSS descriptor (type 9, present, DPL 0) for base and limit. */
static void set_tss_desc(uint64_t *slot, uint64_t base, uint32_t limit)
{
	slot[0] = (limit & 0xffffULL) | ((base & 0xffffffULL) << 16) | (0x89ULL << 40) |
		  ((uint64_t)((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xffULL) << 56);
	slot[1] = base >> 32;
}

/* Load GDTR (and with reload, CS, the data segments and TR too). */
static void load_gdt(uint64_t address, bool reload)
{
	struct gdt_ptr gdt = { sizeof(((struct pcpu *)0)->gdt_page) - 1, address };

	__asm__ volatile("lgdt %0" : : "m"(gdt) : "memory");
	if (!reload)
		return;
	__asm__ volatile(/* reload CS with a far return, then the data segments */
			 "pushq %0\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movl %1, %%eax\n\t"
			 "movl %%eax, %%ds\n\t"
			 "movl %%eax, %%es\n\t"
			 "movl %%eax, %%ss\n\t"
			 "xorl %%eax, %%eax\n\t"
			 "movl %%eax, %%fs\n\t"
			 "movl %%eax, %%gs\n\t"
			 "ltr %w2"
			 :
			 : "i"(__KERNEL_CS), "i"(__KERNEL_DS), "r"((uint16_t)__TSS)
			 : "rax", "memory");
}

/*
 * Under PTI the CPU uses the cpu_entry_area's aliases (as Linux always
 * does): TR's base is the area's TSS page, TSS.RSP0 its entry stack, IST 1
 * its #DF stack, and GDTR the read-only GDT page, loaded after LTR has
 * marked the TSS busy through the writable per-CPU page.
 */
void cpu_init_gdt(void)
{
	struct pcpu *p = this_pcpu();
	unsigned int cpu = p->cpu;
	uint64_t tss = (uint64_t)(uintptr_t)&p->cpu_tss_rw;
	uint64_t df = p->ist_stack ? (uint64_t)(uintptr_t)p->ist_stack + EXCEPTION_STKSZ : 0;

	memset(p->gdt_page, 0, sizeof(p->gdt_page));
	memcpy(p->gdt_page, gdt_template, sizeof(gdt_template));
	p->cpu_tss_rw = (struct tss_struct){ .x86_tss.io_bitmap_base = sizeof(struct x86_hw_tss) };
	if (pti_enabled) {
		tss = cea_page(cpu, CEA_TSS);
		df = cea_page(cpu, CEA_DF_STACK) + EXCEPTION_STKSZ;
		p->cpu_tss_rw.x86_tss.sp0 = cea_page(cpu, CEA_ENTRY_STACK) + PAGE_SIZE;
	}
	p->cpu_tss_rw.x86_tss.ist[IST_INDEX_DF] = df;
	set_tss_desc(&p->gdt_page[GDT_ENTRY_TSS], tss, sizeof(struct x86_hw_tss) - 1);
	load_gdt((uint64_t)(uintptr_t)p->gdt_page, true);
	if (pti_enabled)
		load_gdt(cea_page(cpu, CEA_GDT), false);
	idt_setup_ist(); /* the TSS is loaded: the #DF gate may use its IST stack now */
	setup_percpu_segment(cpu); /* a null GS selector may have cleared the GS base */
}

void load_direct_gdt(bool direct)
{
	struct pcpu *p = this_pcpu();
	uint64_t tss = direct ? (uint64_t)(uintptr_t)&p->cpu_tss_rw : cea_page(p->cpu, CEA_TSS);

	if (!pti_enabled)
		return;
	/* A fresh (not busy) descriptor, so that LTR takes it; loaded through the writable GDT. */
	set_tss_desc(&p->gdt_page[GDT_ENTRY_TSS], tss, sizeof(struct x86_hw_tss) - 1);
	load_gdt((uint64_t)(uintptr_t)p->gdt_page, false);
	__asm__ volatile("ltr %w0" : : "r"((uint16_t)__TSS) : "memory");
	if (!direct)
		load_gdt(cea_page(p->cpu, CEA_GDT), false);
}

uint64_t current_task_stack(void)
{
	return this_pcpu()->cpu_tss_rw.x86_tss.sp0;
}

uint64_t load_sp0(uint64_t sp0)
{
	struct pcpu *p = this_pcpu();
	uint64_t old = p->cpu_tss_rw.x86_tss.sp0;

	p->cpu_tss_rw.x86_tss.sp0 = sp0;
	return old;
}

void update_task_stack(uint64_t sp0)
{
	struct pcpu *p = this_pcpu();

	if (!pti_enabled)
		p->cpu_tss_rw.x86_tss.sp0 = sp0;
	p->top_of_stack = sp0;
}
