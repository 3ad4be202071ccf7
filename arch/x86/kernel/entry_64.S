/*
 * entry_64.S: the exception entry stubs and the fault-safe copy.
 *
 * Each of the 32 exception vectors has a stub that pushes a dummy error code
 * (where the CPU pushes none) and the vector number, then exception_common
 * saves the general registers into a struct pt_regs and calls do_exception()
 * (from ring 3 with the kernel's GS base and CR3, on the task's stack:
 * KERNEL_ENTRY_IF_USER, asm/calling.h); it returns through entry_user.S's
 * restore_regs_and_iret. exception_stubs[] lists the stubs for
 * idt_setup_traps(). The stubs run before the CR3 switch: they are in
 * .entry.text, which the user PGDs map under PTI.
 */
#include <asm/calling.h>

	.section .entry.text, "ax"
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

	.noaltmacro
exception_common:
	cld
	KERNEL_ENTRY_IF_USER
	SAVE_REGS
	movq	%rsp, %rdi
	call	do_exception
	jmp	restore_regs_and_iret

.altmacro
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
