/*
 * clone.S: long clone_thread(flags, stack_top, ptid, ctid, fn, arg)
 * (RDI, RSI, RDX, RCX, R8, R9). fn and arg go onto the new stack first; the
 * child returns from SYSCALL on that stack with RAX 0, pops them, runs
 * fn(arg) and ends the thread (exit, not exit_group) with fn's value. The
 * parent returns the child's tid (or -errno).
 */
	.text
	.globl	clone_thread
clone_thread:
	subq	$16, %rsi
	movq	%r8, 0(%rsi)		/* fn */
	movq	%r9, 8(%rsi)		/* arg */
	movq	%rcx, %r10		/* the fourth argument of clone: ctid */
	xorl	%r8d, %r8d		/* tls: none */
	movl	$56, %eax		/* __NR_clone */
	syscall
	testq	%rax, %rax
	jnz	1f
	popq	%rax			/* the child: fn */
	popq	%rdi			/* arg */
	xorl	%ebp, %ebp
	call	*%rax
	movl	%eax, %edi
	movl	$60, %eax		/* __NR_exit: this thread */
	syscall
2:	jmp	2b
1:	ret
