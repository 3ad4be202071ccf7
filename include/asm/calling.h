/*
 * calling.h: saving and restoring the general registers around an entry
 * from an exception or a system call, in the order that builds the top of
 * struct pt_regs (include/asm/ptrace.h): SAVE_REGS after the vector and error
 * code slots, RESTORE_REGS before dropping them; and the callee-saved half
 * alone (PUSH_CALLEE_SAVED, POP_CALLEE_SAVED) for assembly functions called
 * from C. Assembly only.
 *
 * What changes between ring 3 and the kernel happens in one place, the
 * macros KERNEL_ENTRY_FROM_USER and KERNEL_EXIT_TO_USER, used by every
 * entry path (SYSCALL, exceptions, interrupts): today SWAPGS, which gives
 * the kernel its per-CPU GS base (asm/percpu.h); page-table isolation would
 * switch CR3 there too (Linux: SWITCH_TO_KERNEL_CR3 / SWITCH_TO_USER_CR3 in
 * arch/x86/entry/calling.h).
 */
#ifndef ASM_CALLING_H
#define ASM_CALLING_H

#ifdef __ASSEMBLER__
/* Entering the kernel from ring 3: the kernel's GS base (per-CPU area). */
.macro KERNEL_ENTRY_FROM_USER
	swapgs
.endm

/* Leaving the kernel for ring 3, as the last step before SYSRET or IRET. */
.macro KERNEL_EXIT_TO_USER
	swapgs
.endm

/* The same for an entry whose frame may come from either ring: CS at \cs_off(%rsp). */
.macro KERNEL_ENTRY_IF_USER cs_off
	testb	$3, \cs_off(%rsp)
	jz	.Lentry_from_kernel\@
	KERNEL_ENTRY_FROM_USER
.Lentry_from_kernel\@:
.endm

.macro KERNEL_EXIT_IF_USER cs_off
	testb	$3, \cs_off(%rsp)
	jz	.Lexit_to_kernel\@
	KERNEL_EXIT_TO_USER
.Lexit_to_kernel\@:
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

.macro RESTORE_REGS
	POP_CALLEE_SAVED
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rax
	popq	%rcx
	popq	%rdx
	popq	%rsi
	popq	%rdi
.endm
#endif

#endif /* ASM_CALLING_H */
