/*
 * calling.h: saving and restoring the general registers around an entry
 * from an exception or a system call, in the order that builds the top of
 * struct pt_regs (include/asm/ptrace.h): SAVE_REGS after the vector and error
 * code slots, RESTORE_REGS before dropping them. Assembly only.
 */
#ifndef ASM_CALLING_H
#define ASM_CALLING_H

#ifdef __ASSEMBLER__
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
	pushq	%rbx
	pushq	%rbp
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
.endm

.macro RESTORE_REGS
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbp
	popq	%rbx
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
