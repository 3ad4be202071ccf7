/*
 * crt0.S: the entry of every user program. The kernel starts it with RSP
 * pointing at argc, then argv[] (System V layout, 16-byte aligned).
 */
	.section .text.start, "ax"
	.globl	_start
_start:
	movq	(%rsp), %rdi		/* argc */
	leaq	8(%rsp), %rsi		/* argv */
	xorl	%ebp, %ebp
	call	main
	movl	%eax, %edi
	call	exit
1:	jmp	1b
