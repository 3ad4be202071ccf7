/*
 * calling.h: saving and restoring the general registers around an entry
 * from an exception or a system call, in the order that builds the top of
 * struct pt_regs (include/asm/ptrace.h): SAVE_REGS after the vector and error
 * code slots, RESTORE_REGS before dropping them; and the callee-saved half
 * alone (PUSH_CALLEE_SAVED, POP_CALLEE_SAVED) for assembly functions called
 * from C. Assembly only.
 */
#ifndef ASM_CALLING_H
#define ASM_CALLING_H

#ifdef __ASSEMBLER__
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
