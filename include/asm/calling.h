/*
 * calling.h: saving and restoring the general registers around an entry
 * from an exception or a system call, in the order that builds the top of
 * struct pt_regs (include/asm/ptrace.h): SAVE_REGS after the vector and error
 * code slots, RESTORE_REGS before dropping them; and the callee-saved half
 * alone (PUSH_CALLEE_SAVED, POP_CALLEE_SAVED) for assembly functions called
 * from C. Assembly only.
 *
 * What changes between ring 3 and the kernel happens in the macros below,
 * used by every entry path (SYSCALL, exceptions, interrupts): SWAPGS, which
 * gives the kernel its per-CPU GS base (asm/percpu.h), and under page-table
 * isolation the CR3 switch between a process's user PGD and kernel PGD
 * (Linux: SWITCH_TO_KERNEL_CR3 / SWITCH_TO_USER_CR3 in
 * arch/x86/entry/calling.h; pg_pti_kernel_cr3 / pg_pti_user_cr3 in
 * paging/paging.h state the same rule in C). The switches are decided by
 * this CPU's pti_flags (asm/desc.h), read through %gs in the TSS page, which
 * the user PGD maps. Under PTI an entry from ring 3 lands on the CPU's entry
 * stack (TSS.RSP0, in the cpu_entry_area); the frame is then moved to the
 * task's stack, and an exit moves it back before switching to the user CR3.
 */
#ifndef ASM_CALLING_H
#define ASM_CALLING_H

#include <asm/percpu.h>

#ifdef __ASSEMBLER__
#define PTI_USER_PGTABLE_AND_PCID_MASK 0x1800 /* CR3 bits 12 (user PGD) and 11 (user PCID) */
#define PTI_USER_PGTABLE_MASK          0x1000
#define PTI_USER_PCID_MASK             0x800
#define CR3_PCID_MASK                  0x7ff  /* the kernel PCID of a CR3 value under PTI */

/*
 * To the kernel PGD (an entry from ring 3, after SWAPGS): CR3 bits 12 and 11
 * cleared; with PCID, bit 63 set (the kernel PCID's entries are kept).
 * Clobbers \scratch_reg and the flags.
 */
.macro SWITCH_TO_KERNEL_CR3 scratch_reg
	testb	$PTI_FLAG_ON, %gs:PCPU_pti_flags
	jz	.Lend_\@
	movq	%cr3, \scratch_reg
	andq	$~PTI_USER_PGTABLE_AND_PCID_MASK, \scratch_reg
	testb	$PTI_FLAG_PCID, %gs:PCPU_pti_flags
	jz	.Lflush_\@
	btsq	$63, \scratch_reg
	movq	\scratch_reg, %cr3
	incq	%gs:PCPU_pti_cr3_stats + 8		/* kernel_noflush */
	jmp	.Lend_\@
.Lflush_\@:
	movq	\scratch_reg, %cr3
	incq	%gs:PCPU_pti_cr3_stats			/* kernel_flush */
.Lend_\@:
.endm

/*
 * To the user PGD (the last step before SWAPGS and SYSRET/IRET, on a stack
 * the user PGD maps): CR3 bit 12 set; with PCID, bit 11 (the user PCID) and
 * bit 63 unless the user PCID was marked for a flush (user_pcid_flush_mask,
 * Linux's invalidate_user_asid), whose mark is then cleared.
 * Clobbers \scratch_reg, \scratch_reg2 and the flags.
 */
.macro SWITCH_TO_USER_CR3 scratch_reg scratch_reg2
	testb	$PTI_FLAG_ON, %gs:PCPU_pti_flags
	jz	.Lend_\@
	movq	%cr3, \scratch_reg
	orq	$PTI_USER_PGTABLE_MASK, \scratch_reg
	testb	$PTI_FLAG_PCID, %gs:PCPU_pti_flags
	jz	.Lflush_\@
	movq	\scratch_reg, \scratch_reg2
	andq	$CR3_PCID_MASK, \scratch_reg2
	orq	$PTI_USER_PCID_MASK, \scratch_reg
	btrq	\scratch_reg2, %gs:PCPU_user_pcid_flush_mask
	jc	.Lflush_\@
	btsq	$63, \scratch_reg
	incq	%gs:PCPU_pti_cr3_stats + 24		/* user_noflush */
	movq	\scratch_reg, %cr3
	jmp	.Lend_\@
.Lflush_\@:
	incq	%gs:PCPU_pti_cr3_stats + 16		/* user_flush */
	movq	\scratch_reg, %cr3
.Lend_\@:
.endm

/* SWITCH_TO_USER_CR3 with only one free register: RAX saved on the stack. */
.macro SWITCH_TO_USER_CR3_STACK scratch_reg
	pushq	%rax
	SWITCH_TO_USER_CR3 scratch_reg=\scratch_reg scratch_reg2=%rax
	popq	%rax
.endm

/* Push the IRET frame (SS, RSP, RFLAGS, RIP, CS) found at 24..63(%rdi), SS first: a move to another stack. */
.macro PUSH_IRET_FRAME_FROM_RDI
	pushq	56(%rdi)			/* ss */
	pushq	48(%rdi)			/* rsp */
	pushq	40(%rdi)			/* rflags */
	pushq	32(%rdi)			/* cs */
	pushq	24(%rdi)			/* rip */
.endm

/*
 * An exception or interrupt frame (vector, error code, RIP, CS, RFLAGS, RSP,
 * SS at (%rsp)) entering from ring 3: SWAPGS, the kernel CR3, and the frame
 * moved to the top of the task's stack (a copy onto itself without PTI,
 * where TSS.RSP0 is that stack). From ring 0 nothing changes.
 */
.macro KERNEL_ENTRY_IF_USER
	testb	$3, 24(%rsp)
	jz	.Lentry_from_kernel\@
	swapgs
	pushq	%rdi
	SWITCH_TO_KERNEL_CR3 scratch_reg=%rdi
	movq	%rsp, %rdi
	movq	%gs:PCPU_top_of_stack, %rsp
	PUSH_IRET_FRAME_FROM_RDI
	pushq	16(%rdi)			/* error code */
	pushq	8(%rdi)				/* vector */
	movq	(%rdi), %rdi
.Lentry_from_kernel\@:
.endm

/* The registers a function must preserve (System V AMD64 ABI), pushed and popped in this order. */
.macro PUSH_CALLEE_SAVED
	pushq	%rbx
	pushq	%rbp
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
.endm

.macro POP_CALLEE_SAVED
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbp
	popq	%rbx
.endm

.macro SAVE_REGS
	pushq	%rdi
	pushq	%rsi
	pushq	%rdx
	pushq	%rcx
	pushq	%rax
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	PUSH_CALLEE_SAVED
.endm

/* All but RDI, which stays at (%rsp) above the vector and error code. */
.macro RESTORE_REGS_EXCEPT_RDI
	POP_CALLEE_SAVED
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rax
	popq	%rcx
	popq	%rdx
	popq	%rsi
.endm

.macro RESTORE_REGS
	RESTORE_REGS_EXCEPT_RDI
	popq	%rdi
.endm
#endif

#endif /* ASM_CALLING_H */
