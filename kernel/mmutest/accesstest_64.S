/*
 * accesstest_64.S: one probed memory access for `accesstest` (accesstest.c;
 * its environment: access_env.c).
 *
 * accesstest_probe(struct access_probe *p) performs the access p describes at
 * CPL 0 or CPL 3 (a read, a write, or a fetch: a call into the page, whose
 * byte 0 is a `ret`), optionally preceded by a supervisor read ("twice"), with
 * EFER and RFLAGS.AC set as p asks for just that window, and returns the fault
 * it took (vector, error code, CR2) or none.
 *
 * CPL 3 (p->user): an IRETQ to the GDT's user segments at p->user_rip, a copy
 * of accesstest_user_stub (below) that access_env.c maps user-executable in
 * the probe root, with a user stack at p->user_rsp. The stub makes the access
 * and returns to CPL 0 with `int $ACCESSTEST_USER_VECTOR`, a DPL 3 gate of
 * the private IDT; a #PF or #GP in ring 3 comes back through the same gates
 * as at CPL 0. Both enter on the TSS's RSP0 stack, which access_env.c points at
 * a stack in the image for the run; the gates go back to the saved RSP, so
 * that frame is dropped. The IRETQ nulls DS and ES (DPL 0), and the entry
 * loads a null SS: all three are reloaded afterwards.
 *
 * It never touches the kernel's own exception table: access_env.c loads a
 * private IDT whose #PF and #GP gates point to accesstest_trap_pf/gp below;
 * when no probe is armed they go on to the kernel's usual stubs, so any other
 * fault is reported as ever.
 *
 * The window may run with EFER.NXE = 0, where every kernel entry with XD set
 * (bit 63) has a reserved bit: so everything the window and its trap path use
 * (this code, the stack, the probe record, the IDT and the GDT) lies in the
 * kernel image, which access_env.c maps without XD in its own copy of the
 * kernel's table (the probe root) while the test runs.
 *
 * The probe record's layout and the access kinds are mmutest.h's.
 */
#include <asm/calling.h>
#include <asm/segment.h>
#include <paging/regs.h>

#include "mmutest.h"

	.text
	.code64

/* long accesstest_probe(struct access_probe *p): returns the vector of the access (0xff: none). */
	.globl	accesstest_probe
accesstest_probe:
	PUSH_CALLEE_SAVED
	pushfq
	cli
	movq	%rdi, %rbx
	movq	$PROBE_NO_VECTOR, AP_VECTOR(%rbx)
	movq	$PROBE_NO_VECTOR, AP_FIRST_VECTOR(%rbx)
	movq	AP_VA(%rbx), %r12
	/* r13 = RFLAGS for the accesses: ours (IF clear) with AC as asked */
	pushfq
	popq	%r13
	andq	$~PG_RFLAGS_AC, %r13
	orq	AP_RFLAGS_AC(%rbx), %r13
	movq	%rsp, probe_saved_rsp(%rip)
	movw	%ss, probe_saved_ss(%rip)
	movw	%ds, probe_saved_ds(%rip)
	movw	%es, probe_saved_es(%rip)

	/* EFER for the window (NXE as the combination says) */
	movq	AP_EFER_PROBE(%rbx), %rax
	cmpq	AP_EFER_KERNEL(%rbx), %rax
	je	1f
	movq	%rax, %rdx
	shrq	$32, %rdx
	movl	$PG_MSR_EFER, %ecx
	wrmsr
1:
	testq	$PROBE_TWICE, AP_KIND(%rbx)
	jz	.Lmain_access
	leaq	.Lfirst_done(%rip), %rax
	movq	%rax, probe_recover(%rip)
	movq	$PROBE_NO_VECTOR, probe_vector(%rip)
	movb	$1, probe_armed(%rip)
	pushq	%r13
	popfq
	movb	PROBE_DATA_OFFSET(%r12), %al
.Lfirst_done:
	movb	$0, probe_armed(%rip)
	movq	probe_vector(%rip), %rax
	movq	%rax, AP_FIRST_VECTOR(%rbx)

.Lmain_access:
	leaq	.Lmain_done(%rip), %rax
	movq	%rax, probe_recover(%rip)
	movq	$PROBE_NO_VECTOR, probe_vector(%rip)
	movq	AP_KIND(%rbx), %rax
	andq	$0xff, %rax
	movb	$1, probe_armed(%rip)
	cmpq	$0, AP_USER(%rbx)
	jne	.Luser
	pushq	%r13
	popfq
	cmpq	$PROBE_WRITE, %rax
	je	.Lwrite
	cmpq	$PROBE_FETCH, %rax
	je	.Lfetch
	movb	PROBE_DATA_OFFSET(%r12), %al
	jmp	.Lmain_done
.Lwrite:
	movb	$0x5a, PROBE_DATA_OFFSET(%r12)
	jmp	.Lmain_done
.Lfetch:
	call	*%r12
	jmp	.Lmain_done
.Luser:					/* CPL 3: rax = kind, r12 = the VA */
	pushq	$__USER_DS
	pushq	AP_USER_RSP(%rbx)
	pushq	%r13
	pushq	$__USER_CS
	pushq	AP_USER_RIP(%rbx)
	iretq
.Lmain_done:
	movw	probe_saved_ss(%rip), %ss
	movw	probe_saved_ds(%rip), %ds
	movw	probe_saved_es(%rip), %es
	movb	$0, probe_armed(%rip)
	movq	probe_vector(%rip), %rax
	movq	%rax, AP_VECTOR(%rbx)
	movq	probe_error_code(%rip), %rax
	movq	%rax, AP_ERROR_CODE(%rbx)
	movq	probe_cr2(%rip), %rax
	movq	%rax, AP_CR2(%rbx)

	/* back to the kernel's EFER before anything outside the image is used */
	movq	AP_EFER_PROBE(%rbx), %rax
	cmpq	AP_EFER_KERNEL(%rbx), %rax
	je	2f
	movq	AP_EFER_KERNEL(%rbx), %rax
	movq	%rax, %rdx
	shrq	$32, %rdx
	movl	$PG_MSR_EFER, %ecx
	wrmsr
2:
	movq	AP_VECTOR(%rbx), %rax
	popfq				/* AC clear again, IF as the caller had it */
	POP_CALLEE_SAVED
	ret

/*
 * The probe's #PF and #GP gates. Armed: record the fault, drop the exception
 * frame (and, for a fetch, the return address the call pushed) by going back
 * to the saved RSP, and resume at probe_recover. Not armed: the kernel's stub.
 */
.macro PROBE_TRAP name, vector
	.globl	\name
	.balign	16
\name:
	cmpb	$0, probe_armed(%rip)
	je	1f
	movq	$\vector, probe_vector(%rip)
	popq	probe_error_code(%rip)
	pushq	%rax
	movq	%cr2, %rax
	movq	%rax, probe_cr2(%rip)
	popq	%rax
	movb	$0, probe_armed(%rip)
	movq	probe_saved_rsp(%rip), %rsp
	jmp	*probe_recover(%rip)
1:	jmp	*exception_stubs+8*\vector(%rip)
.endm

	PROBE_TRAP accesstest_trap_gp, 13
	PROBE_TRAP accesstest_trap_pf, 14

/* The DPL 3 gate the user stub returns through: the access took no fault. */
	.globl	accesstest_trap_user
	.balign	16
accesstest_trap_user:
	movb	$0, probe_armed(%rip)
	movq	probe_saved_rsp(%rip), %rsp
	jmp	*probe_recover(%rip)

/*
 * The CPL 3 side, copied into a user page (position-independent): rax = the
 * kind, r12 = the VA; the access, then back to CPL 0.
 */
	.globl	accesstest_user_stub, accesstest_user_stub_end
accesstest_user_stub:
	cmpl	$PROBE_WRITE, %eax
	je	1f
	cmpl	$PROBE_FETCH, %eax
	je	2f
	movb	PROBE_DATA_OFFSET(%r12), %al
	jmp	3f
1:	movb	$0x5a, PROBE_DATA_OFFSET(%r12)
	jmp	3f
2:	call	*%r12
3:	int	$ACCESSTEST_USER_VECTOR
	ud2
accesstest_user_stub_end:

	.data
	.balign	8
probe_saved_rsp:	.quad	0
probe_recover:		.quad	0
probe_vector:		.quad	PROBE_NO_VECTOR
probe_error_code:	.quad	0
probe_cr2:		.quad	0
probe_armed:		.byte	0
	.balign	2
probe_saved_ss:		.word	0
probe_saved_ds:		.word	0
probe_saved_es:		.word	0
