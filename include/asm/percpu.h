/*
 * percpu.h: each CPU's own data (Linux: the per-CPU areas of
 * arch/x86/kernel/setup_percpu.c, pcpu_hot, cpu_tss_rw, gdt_page,
 * cpu_tlbstate, ...), gathered in one struct pcpu per CPU.
 *
 * In the kernel, the GS base (MSR_GS_BASE) of each CPU points at its struct
 * pcpu, whose first word points at itself: this_pcpu() is one load from
 * %gs:0. On every entry from ring 3 and on the way back SWAPGS exchanges the
 * kernel's GS base with the user's (MSR_KERNEL_GS_BASE), in the entry macros
 * of asm/calling.h. The first fields have fixed offsets (PCPU_*) because
 * the entry code and asm/current.h read them directly.
 * Safe to include from assembly (the offsets only).
 */
#ifndef ASM_PERCPU_H
#define ASM_PERCPU_H

#define NR_CPUS            8

#define PCPU_self          0
#define PCPU_current_task  8
#define PCPU_top_of_stack  16 /* the top of current's kernel stack: where SYSCALL switches to */
#define PCPU_cpu           24
/*
 * The page of the TSS (cpu_tss_rw, asm/desc.h), page-aligned in struct pcpu:
 * under PTI the user PGD maps it at this address, because the entry code
 * uses it through %gs before it switches to the kernel CR3.
 */
#define PCPU_cpu_tss_rw    8192
#define PCPU_tss_sp0       (PCPU_cpu_tss_rw + TSS_sp0)
#define PCPU_tss_sp2       (PCPU_cpu_tss_rw + TSS_sp2) /* SYSCALL's scratch word for the user RSP */
#define PCPU_pti_flags     (PCPU_cpu_tss_rw + TSS_pti_flags)
#define PCPU_user_pcid_flush_mask (PCPU_cpu_tss_rw + TSS_user_pcid_flush_mask)
#define PCPU_pti_cr3_stats (PCPU_cpu_tss_rw + TSS_pti_cr3_stats)

#define MSR_FS_BASE        0xc0000100u
#define MSR_GS_BASE        0xc0000101u
#define MSR_KERNEL_GS_BASE 0xc0000102u
#define EXCEPTION_STKSZ    4096 /* the #DF stack (IST 1) */
#define IST_INDEX_DF       0

#include <asm/desc.h>

#ifndef __ASSEMBLER__
#include <asm/segment.h>
#include <asm/tlbflush.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct task_struct;

/* A CPU's bring-up state (arch/x86/kernel/smpboot.c). */
enum cpu_state {
	CPU_ABSENT = 0, /* no such CPU (or not started yet) */
	CPU_KICKED,     /* INIT-SIPI-SIPI sent, waiting for the AP */
	CPU_ALIVE,      /* the AP reached start_secondary on swapper_pg_dir */
	CPU_ONLINE,     /* the AP runs its idle task and takes work */
	CPU_NO_ANSWER,  /* the AP did not answer within 10 s: left out */
};

/* A cross-CPU function call, one per calling CPU (Linux's call_single_data). */
struct call_single_data {
	void (*func)(void *info);
	void *info;
	volatile uint64_t wait; /* the CPUs that have not run it yet */
};

struct pcpu {
	struct pcpu *self;                     /* PCPU_self */
	struct task_struct *current_task;      /* PCPU_current_task */
	uint64_t top_of_stack;                 /* PCPU_top_of_stack */
	unsigned int cpu;                      /* PCPU_cpu */
	uint32_t apicid;
	volatile int state;                    /* enum cpu_state */
	volatile bool need_resched;
	struct task_struct *idle;              /* what runs when nothing else may */
	unsigned int rr_next;                  /* the scheduler's round robin resumes here */
	struct tlb_state cpu_tlbstate;
	struct tlb_state_shared cpu_tlbstate_shared;
	struct flush_tlb_info flush_tlb_info;  /* this CPU's flush request to others */
	struct call_single_data csd;           /* this CPU's call to others */
	volatile uint64_t call_pending;        /* one bit per CPU whose csd waits for this one */
	struct switch_stats switch_stats;
	struct shootdown_stats shootdown_stats;
	uint64_t timer_ticks;
	bool timer_on;
	uint64_t cr3_trampoline, cr3_swapper;  /* an AP's CR3 before and after its switch */
	uint64_t boot_cycles;                  /* TSC cycles from INIT to CPU_ALIVE */
	uint64_t regs_cr3, regs_cr4, regs_efer; /* read on this CPU by `cpus` */
	uint8_t *ist_stack;                    /* the #DF stack, EXCEPTION_STKSZ bytes */
	/* A page each: the cpu_entry_area maps them (the GDT read-only) under PTI. */
	uint64_t gdt_page[512] __attribute__((aligned(4096)));
	struct tss_struct cpu_tss_rw __attribute__((aligned(4096))); /* PCPU_cpu_tss_rw */
} __attribute__((aligned(4096)));

extern struct pcpu per_cpu_area[NR_CPUS];

static inline struct pcpu *this_pcpu(void)
{
	struct pcpu *p;
	/* "memory": a task may continue on another CPU after any call (schedule) */
	__asm__ volatile("movq %%gs:0, %0" : "=r"(p) : : "memory");
	return p;
}

#define per_cpu(var, cpu)       (per_cpu_area[(cpu)].var)
#define this_cpu_read(var)      (this_pcpu()->var)
#define this_cpu_write(var, v)  (this_pcpu()->var = (v))
#define this_cpu_ptr(var)       (&this_pcpu()->var)
#define this_cpu_inc(var)       (this_pcpu()->var++)

/*
 * per_cpu_sum - add up, over every CPU, a per-CPU struct of uint64_t counters:
 * the size bytes at offset in struct pcpu, into sum (zeroed first).
 */
void per_cpu_sum(size_t offset, size_t size, void *sum);
/* Zero those counters on every CPU. */
void per_cpu_zero(size_t offset, size_t size);
#define PER_CPU_FIELD(f) __builtin_offsetof(struct pcpu, f), sizeof(((struct pcpu *)0)->f)

/* Point this CPU's GS base at per_cpu_area[cpu] (and the user's at 0). */
void setup_percpu_segment(unsigned int cpu);
/* The boot CPU's area: CPU 0, task 0, its #DF stack; GS base. Called first thing in C. */
void setup_boot_cpu_percpu(void);
#endif /* !__ASSEMBLER__ */

#endif /* ASM_PERCPU_H */
