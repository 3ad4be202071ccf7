/*
 * entry_user.S: the ways into and out of ring 3, and the task switch.
 *
 *   entry_SYSCALL_64   SYSCALL lands here (MSR_LSTAR) with interrupts off
 *                      (MSR_SYSCALL_MASK): switch to the task's kernel stack
 *                      (TSS.RSP0; one CPU, so a scratch word holds the user
 *                      RSP instead of Linux's per-CPU area and SWAPGS), build
 *                      a struct pt_regs, call do_syscall_64, leave by SYSRET
 *                      (or IRET when do_syscall_64 says SYSRET is unsafe).
 *   irq_stubs          interrupt vectors: pt_regs, do_IRQ, IRET.
 *   ret_from_fork      where a new task's first switch returns: IRET to ring 3
 *                      from the pt_regs at the top of its kernel stack.
 *   __switch_to_asm    save the callee-saved registers and RSP of prev,
 *                      load next's (Linux's __switch_to_asm).
 * pt_regs layout: include/asm/ptrace.h (the same frame entry_64.S builds).
 */
#include <asm/calling.h>
#include <asm/segment.h>

	.text


	.balign	16
	.globl	entry_SYSCALL_64
entry_SYSCALL_64:
	movq	%rsp, syscall_user_rsp(%rip)
	movq	cpu_tss_rw+4(%rip), %rsp	/* TSS.RSP0: the top of current's kernel stack */
	pushq	$__USER_DS			/* ss */
	pushq	syscall_user_rsp(%rip)		/* rsp */
	pushq	%r11				/* rflags, as SYSCALL saved them */
	pushq	$__USER_CS			/* cs */
	pushq	%rcx				/* rip, as SYSCALL saved it */
	pushq	%rax				/* error_code slot: the system-call number */
	pushq	$0x100				/* vector slot: 0x100 marks a system call */
	SAVE_REGS
	movq	%rsp, %rdi
	call	do_syscall_64			/* returns nonzero when SYSRET is safe */
	testl	%eax, %eax
	jz	restore_regs_and_iret
	RESTORE_REGS
	movq	16(%rsp), %rcx			/* regs->rip */
	movq	32(%rsp), %r11			/* regs->rflags */
	movq	40(%rsp), %rsp			/* regs->rsp: the user stack */
	sysretq

	.globl	restore_regs_and_iret
restore_regs_and_iret:
	RESTORE_REGS
	addq	$16, %rsp			/* vector and error code */
	iretq

	.globl	ret_from_fork
ret_from_fork:
	movq	%rsp, %rdi			/* the new task's pt_regs */
	call	ret_from_fork_c
	jmp	restore_regs_and_iret

/* Interrupt stubs: vector 0x20 (PIT via the 8259), 0x21-0x2f (the 8259's others), 0xec (APIC timer), 0xff (spurious). */
.macro IRQ_STUB vec
	.balign	16
irq_stub_\vec:
	pushq	$0
	pushq	$\vec
	jmp	irq_common
.endm

	.altmacro
	vec = 0x20
	.rept	16
	IRQ_STUB %vec
	vec = vec + 1
	.endr
	IRQ_STUB 0xec
	IRQ_STUB 0xff

irq_common:
	cld
	SAVE_REGS
	pushfq					/* clear AC: ring 3 may have set it, and with SMAP */
	andq	$~0x40000, (%rsp)		/* AC=1 would open user memory to the kernel */
	popfq
	movq	%rsp, %rdi
	call	do_IRQ
	jmp	restore_regs_and_iret

.macro STUB_ADDR vec
	.quad	irq_stub_\vec
.endm
	.section .rodata
	.balign	8
	.globl	irq_stubs_pic, irq_stub_apic_timer, irq_stub_spurious
irq_stubs_pic:
	vec = 0x20
	.rept	16
	STUB_ADDR %vec
	vec = vec + 1
	.endr
irq_stub_apic_timer:
	.quad	irq_stub_0xec
irq_stub_spurious:
	.quad	irq_stub_0xff

/* void __switch_to_asm(uint64_t *prev_sp, uint64_t next_sp) */
	.text
	.globl	__switch_to_asm
__switch_to_asm:
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, (%rdi)
	movq	%rsi, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret

	.bss
	.balign	8
syscall_user_rsp:
	.quad	0
