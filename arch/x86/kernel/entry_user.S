/*
 * entry_user.S: the ways into and out of ring 3, and the task switch.
 *
 *   entry_SYSCALL_64   SYSCALL lands here (MSR_LSTAR) with interrupts off
 *                      (MSR_SYSCALL_MASK): SWAPGS to this CPU's per-CPU
 *                      area, the user RSP into its scratch word, switch to
 *                      the task's kernel stack (this CPU's TSS.RSP0), build
 *                      a struct pt_regs, call do_syscall_64, leave by SYSRET
 *                      (or IRET when do_syscall_64 says SYSRET is unsafe).
 *   irq_stubs          interrupt vectors: pt_regs, do_IRQ, IRET.
 * Every way in from ring 3 and out to it goes through SWAPGS and the PTI CR3
 * switches (asm/calling.h); this code, which runs on the user CR3 before and
 * after them, is in .entry.text, the only kernel text the user PGDs map.
 *   ret_from_fork      where a new task's first switch returns: IRET to ring 3
 *                      from the pt_regs at the top of its kernel stack.
 *   __switch_to_asm    save the callee-saved registers and RSP of prev,
 *                      load next's (Linux's __switch_to_asm).
 * pt_regs layout: include/asm/ptrace.h (the same frame entry_64.S builds).
 */
#include <asm/calling.h>
#include <asm/percpu.h>
#include <asm/segment.h>

	.section .entry.text, "ax"

	.balign	16
	.globl	entry_SYSCALL_64
entry_SYSCALL_64:
	swapgs
	movq	%rsp, %gs:PCPU_tss_sp2		/* TSS.sp2: the scratch word, in the page the user PGD maps */
	SWITCH_TO_KERNEL_CR3 scratch_reg=%rsp
	movq	%gs:PCPU_top_of_stack, %rsp	/* the top of current's kernel stack */
	pushq	$__USER_DS			/* ss */
	pushq	%gs:PCPU_tss_sp2		/* rsp */
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
	RESTORE_REGS_EXCEPT_RDI			/* RDI, vector, error code, RIP, CS, RFLAGS, RSP left */
	movq	24(%rsp), %rcx			/* regs->rip */
	movq	40(%rsp), %r11			/* regs->rflags */
	movq	%rsp, %rdi
	movq	%gs:PCPU_tss_sp0, %rsp		/* the entry stack under PTI, else this same stack's top */
	pushq	48(%rdi)			/* regs->rsp: the user stack */
	pushq	(%rdi)				/* regs->rdi */
	SWITCH_TO_USER_CR3_STACK scratch_reg=%rdi
	popq	%rdi
	popq	%rsp
	swapgs
	sysretq

/*
 * The way out through IRET, to ring 0 or ring 3 (Linux's
 * swapgs_restore_regs_and_return_to_usermode): to ring 3 the frame goes to
 * TSS.RSP0 (the entry stack under PTI) before the switch to the user CR3.
 */
	.globl	restore_regs_and_iret
restore_regs_and_iret:
	testb	$3, 144(%rsp)			/* regs->cs */
	jnz	1f
	RESTORE_REGS
	addq	$16, %rsp			/* vector and error code */
	iretq
1:	RESTORE_REGS_EXCEPT_RDI
	movq	%rsp, %rdi
	movq	%gs:PCPU_tss_sp0, %rsp
	PUSH_IRET_FRAME_FROM_RDI		/* RDI at 0, the vector and error code dropped */
	pushq	(%rdi)				/* rdi */
	SWITCH_TO_USER_CR3_STACK scratch_reg=%rdi
	popq	%rdi
	swapgs
	iretq

	.text
	.globl	ret_from_fork
ret_from_fork:
	movq	%rax, %rdi			/* the task switched from (__switch_to_asm) */
	movq	%rsp, %rsi			/* the new task's pt_regs */
	call	ret_from_fork_c
	jmp	restore_regs_and_iret

/* Interrupt stubs: vector 0x20 (PIT via the 8259), 0x21-0x2f (the 8259's others), 0xec (APIC timer),
   0xfb (CALL_FUNCTION_VECTOR), 0xfd (RESCHEDULE_VECTOR), 0xff (spurious). */
.macro IRQ_STUB vec
	.balign	16
irq_stub_\vec:
	pushq	$0
	pushq	$\vec
	jmp	irq_common
.endm

	.section .entry.text, "ax"
	.altmacro
	vec = 0x20
	.rept	16
	IRQ_STUB %vec
	vec = vec + 1
	.endr
	IRQ_STUB 0xec
	IRQ_STUB 0xfb
	IRQ_STUB 0xfd
	IRQ_STUB 0xff

	.noaltmacro
irq_common:
	cld
	KERNEL_ENTRY_IF_USER
	SAVE_REGS
	pushfq					/* clear AC: ring 3 may have set it, and with SMAP */
	andq	$~0x40000, (%rsp)		/* AC=1 would open user memory to the kernel */
	popfq
	movq	%rsp, %rdi
	call	do_IRQ
	jmp	restore_regs_and_iret

.altmacro
.macro STUB_ADDR vec
	.quad	irq_stub_\vec
.endm
	.section .rodata
	.balign	8
	.globl	irq_stubs_pic, irq_stub_apic_timer, irq_stub_spurious, irq_stub_call_function, irq_stub_reschedule
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
irq_stub_call_function:
	.quad	irq_stub_0xfb
irq_stub_reschedule:
	.quad	irq_stub_0xfd

/*
 * struct task_struct *__switch_to_asm(uint64_t *prev_sp, uint64_t next_sp, struct task_struct *prev)
 * returns prev in RAX on next's stack: the task this CPU switched away from
 * (Linux's switch_to(prev, next, last)), for finish_task_switch.
 */
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
	movq	%rdx, %rax
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret
