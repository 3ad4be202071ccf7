/*
 * entry_64.S: the exception entry stubs and the fault-safe copy.
 *
 * Each of the 32 exception vectors has a stub that pushes a dummy error code
 * (where the CPU pushes none) and the vector number, then exception_common
 * saves the general registers into a struct pt_regs and calls do_exception().
 * exception_stubs[] lists the stubs for idt_setup_traps().
 */
	.text
	.altmacro

.macro EXC_STUB vec
	.balign	16
exc_stub_\vec:
	.if !(\vec == 8 || \vec == 10 || \vec == 11 || \vec == 12 || \vec == 13 || \vec == 14 || \vec == 17 || \vec == 21 || \vec == 29 || \vec == 30)
	pushq	$0
	.endif
	pushq	$\vec
	jmp	exception_common
.endm

	vec = 0
	.rept	32
	EXC_STUB %vec
	vec = vec + 1
	.endr

exception_common:
	cld
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
	movq	%rsp, %rdi
	call	do_exception
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
	addq	$16, %rsp		/* vector and error code */
	iretq

.macro STUB_ADDR vec
	.quad	exc_stub_\vec
.endm
	.section .rodata
	.balign	8
	.globl	exception_stubs
exception_stubs:
	vec = 0
	.rept	32
	STUB_ADDR %vec
	vec = vec + 1
	.endr

/*
 * long copy_from_kernel_nofault(void *dst, const void *src, size_t n)
 * long copy_to_kernel_nofault(void *dst, const void *src, size_t n)
 * One routine for both directions: a fault on either side resumes at the
 * fixup, which returns -EFAULT.
 */
	.text
	.globl	copy_from_kernel_nofault
	.globl	copy_to_kernel_nofault
copy_from_kernel_nofault:
copy_to_kernel_nofault:
	movq	%rdx, %rcx
1:	rep movsb
	xorl	%eax, %eax
	ret
2:	movq	$-14, %rax
	ret

	.section __ex_table, "a"
	.balign	8
	.quad	1b, 2b
