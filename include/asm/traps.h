/*
 * traps.h: the IDT, exception dispatch, the exception table (fixups that
 * let fault-safe accessors return an error instead of panicking) and the
 * page-fault entry points (arch/x86/mm/fault.c).
 */
#ifndef ASM_TRAPS_H
#define ASM_TRAPS_H

#include <asm/ptrace.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define X86_TRAP_DE  0
#define X86_TRAP_NMI 2
#define X86_TRAP_UD  6
#define X86_TRAP_DF  8
#define X86_TRAP_GP  13
#define X86_TRAP_PF  14

/* Page-fault error code bits. */
#define X86_PF_PROT  (1u << 0) /* P: 0 = not present, 1 = protection */
#define X86_PF_WRITE (1u << 1)
#define X86_PF_USER  (1u << 2)
#define X86_PF_RSVD  (1u << 3)
#define X86_PF_INSTR (1u << 4)
#define X86_PF_PK    (1u << 5)

#define EFAULT 14

/* Install the IDT: a handler for each of the 32 exception vectors. */
void idt_setup_traps(void);
const char *exception_name(unsigned int vector);

/* Called by entry_64.S with the saved frame. */
void do_exception(struct pt_regs *regs);

/* Let the #DF gate switch to its IST stack (IST_INDEX_DF); only once the TSS is loaded. */
void idt_setup_ist(void);
/* Install an interrupt gate (DPL 0) for vector. */
void idt_set_gate(unsigned int vector, uint64_t handler);
/* Let vector's gate switch to the TSS's interrupt stack ist (1..7; 0: none). */
void idt_set_ist(unsigned int vector, unsigned int ist);
/* Load the IDT on this CPU (the one table all CPUs share). */
void load_idt(void);
/* Map the IDT read-only at CPU_ENTRY_AREA_RO_IDT and load IDTR with that address (under PTI). */
void idt_map_in_cea(void);
/* Whether rip is in the exception table (a fault-safe or user access). */
bool search_exception_tables(uint64_t rip);
/* An exception other than #PF in ring 3: report it and kill the process (kernel/exit.c). */
void do_user_trap(struct pt_regs *regs);

/* If regs->rip is in the exception table, resume at its fixup. returns: true if fixed up. */
bool fixup_exception(struct pt_regs *regs);

/*
 * The last fault a fixup absorbed, so that a fault-safe caller can report it.
 * vector is 0xff when nothing has been recorded since fault_record_clear().
 */
struct fault_record {
	unsigned int vector;
	uint64_t cr2, error_code, rip;
};
extern struct fault_record last_fault;
void fault_record_clear(void);

/*
 * Fault-safe copies (entry_64.S): copy n bytes, returning 0, or -EFAULT if a
 * page fault or #GP hit either side (last_fault says which and why).
 */
long copy_from_kernel_nofault(void *dst, const void *src, size_t n);
long copy_to_kernel_nofault(void *dst, const void *src, size_t n);

/* arch/x86/mm/fault.c */
void do_page_fault(struct pt_regs *regs);
/*
 * arch/x86/mm/fault_user.c: a fault in ring 3, or on a user address: served
 * (demand paging, copy-on-write), left to the exception table (a user copy),
 * or fatal to the process (never returns then). returns: true if served.
 */
bool do_user_addr_fault(struct pt_regs *regs, uint64_t cr2);
/* Print the decoded #PF report: CR2, error code, RIP and the walk of CR2. */
void show_fault_report(uint64_t cr2, uint64_t error_code, uint64_t rip);
/* Serve faults on PAGE_OFFSET addresses from early_dynamic_pgts (until init_mem_mapping). */
void early_page_fault_enable(bool on);
/*
 * Clear every early_top_pgt entry but the kernel's (511), empty the
 * early_dynamic_pgts pool and reload CR3: removes head_64's identity map, and
 * starts the early #PF map over when its pool runs out.
 */
void reset_early_page_tables(void);
/* Faults the early #PF map served, and how often its pool was reset. */
extern uint64_t early_pf_count, early_pool_resets;

#endif /* ASM_TRAPS_H */
