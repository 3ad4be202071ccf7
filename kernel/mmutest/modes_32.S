/*
 * modes_32.S: the trampoline of the `modes` command (modes.c compares,
 * modes_env.c sets it up).
 *
 * modes_env.c copies [modes_tramp_start, modes_tramp_end) to a page T below
 * 1 GiB (and at or above 32 MiB, see modes_env.c), puts the kernel's first
 * four GDT descriptors at modes_tramp_gdt, identity-maps T in a temporary
 * copy of the kernel's table, fills the parameter block at T + MT_PARAMS and
 * calls T. The trampoline then:
 *   - (64-bit) saves the kernel's GDT, IDT and RSP, loads its own GDT (the
 *     kernel's selectors: 0x08 32-bit code, 0x10 64-bit code, 0x18 data)
 *     and far-returns to 32-bit code: compatibility mode;
 *   - (32-bit) clears CR0.PG, which leaves IA-32e for legacy protected mode,
 *     loads a 32-bit IDT whose #GP gate resumes after the faulting write, and
 *     makes the paging-mode transitions one control-register write per step,
 *     logging each (the #GP vector or none, and CR0, CR3, CR4, EFER after);
 *   - sets PAE (and LA57 if the kernel had it), CR3 = the temporary table,
 *     LME, then PG: IA-32e compatibility mode, and far-returns to 64-bit code,
 *     restores the kernel's GDT, IDT, CR4, EFER, CR0 and stack and returns.
 * Interrupts are off throughout. Position-independent: 64-bit code uses
 * RIP-relative addresses, 32-bit code addresses everything from %ebp = T.
 * The steps whose write must #GP (MP_ILLEGAL set) run only when modes.c says
 * the CPU is not QEMU TCG (several of them crash or hang QEMU's guest).
 */
#include <asm/calling.h>
#include <asm/segment.h>
#include <paging/regs.h>

#include "mmutest.h"

#define OFF(sym)   ((sym) - modes_tramp_start)
#define P(field)   (MT_PARAMS + (field))(%ebp)

	.text
	.balign	16
	.globl	modes_tramp_start
modes_tramp_start:

/* ---- 64-bit entry: void tramp(uint64_t T) at the identity address T ---- */
	.code64
	.globl	modes_tramp_entry64
modes_tramp_entry64:
	PUSH_CALLEE_SAVED
	movq	%rdi, %rbp
	movq	%rsp, MT_PARAMS + MP_SAVED_RSP(%rbp)
	sgdt	MT_PARAMS + MP_KERNEL_GDT(%rbp)
	sidt	MT_PARAMS + MP_KERNEL_IDT(%rbp)
	leaq	modes_tramp_gdt(%rip), %rax
	movq	%rax, tramp_gdt_desc + 2(%rip)
	lgdt	tramp_gdt_desc(%rip)
	pushq	$__KERNEL32_CS
	leaq	compat32(%rip), %rax
	pushq	%rax
	lretq

/* ---- 32-bit code: compatibility mode, then legacy protected mode ---- */
	.code32
compat32:
	movl	$__KERNEL_DS, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	leal	MT_STACK_TOP(%ebp), %esp

	/* step: clear CR0.PG in compatibility mode -> legacy protected mode, no paging */
	movl	%cr0, %eax
	andl	$~PG_CR0_PG, %eax
	movl	%eax, %cr0
	xorl	%edi, %edi
	movl	$MS_CLEAR_PG_COMPAT, %esi
	call	log_step

	/* the 32-bit IDT: #GP resumes after the faulting write */
	leal	OFF(gp_handler32)(%ebp), %eax
	leal	OFF(idt32)(%ebp), %ebx
	movw	%ax, 13 * 8(%ebx)
	movw	$__KERNEL32_CS, 13 * 8 + 2(%ebx)
	movw	$0x8e00, 13 * 8 + 4(%ebx)
	shrl	$16, %eax
	movw	%ax, 13 * 8 + 6(%ebx)
	movl	%ebx, OFF(idt32_desc) + 2(%ebp)
	lidt	OFF(idt32_desc)(%ebp)

/* One guarded step: set up the #GP resume point, run the write, log it. */
.macro STEP id
	leal	OFF(9f)(%ebp), %eax
	movl	%eax, P(MP_RECOVER)
	movl	%esp, P(MP_SAVED_ESP)
	xorl	%edi, %edi
.endm
.macro STEP_END id
9:	movl	$\id, %esi
	call	log_step
.endm
.macro SKIP_UNLESS_ILLEGAL label
	cmpl	$0, P(MP_ILLEGAL)
	je	\label
.endm

	STEP	MS_CLEAR_LME
	movl	$PG_MSR_EFER, %ecx
	rdmsr
	andl	$~PG_EFER_LME, %eax
	wrmsr
	STEP_END MS_CLEAR_LME

	STEP	MS_CR4_LEGACY
	movl	%cr4, %eax
	andl	$~(PG_CR4_PAE | PG_CR4_LA57), %eax
	orl	$PG_CR4_PSE, %eax
	movl	%eax, %cr4
	STEP_END MS_CR4_LEGACY

	STEP	MS_CR3_PD32
	movl	P(MP_CR3_32), %eax
	movl	%eax, %cr3
	STEP_END MS_CR3_PD32

	STEP	MS_SET_PG_32BIT
	movl	%cr0, %eax
	orl	$PG_CR0_PG, %eax
	movl	%eax, %cr0
	STEP_END MS_SET_PG_32BIT

	SKIP_UNLESS_ILLEGAL 1f
	STEP	MS_LME_IN_32BIT
	movl	$PG_MSR_EFER, %ecx
	rdmsr
	orl	$PG_EFER_LME, %eax
	wrmsr
	STEP_END MS_LME_IN_32BIT
1:
	STEP	MS_SET_PAE_PAGING
	movl	%cr4, %eax
	orl	$PG_CR4_PAE, %eax
	movl	%eax, %cr4
	STEP_END MS_SET_PAE_PAGING

	SKIP_UNLESS_ILLEGAL 1f
	STEP	MS_LME_IN_PAE
	movl	$PG_MSR_EFER, %ecx
	rdmsr
	orl	$PG_EFER_LME, %eax
	wrmsr
	STEP_END MS_LME_IN_PAE
1:
	STEP	MS_CLEAR_PG
	movl	%cr0, %eax
	andl	$~PG_CR0_PG, %eax
	movl	%eax, %cr0
	STEP_END MS_CLEAR_PG

	SKIP_UNLESS_ILLEGAL 1f
	STEP	MS_CLEAR_PAE
	movl	%cr4, %eax
	andl	$~PG_CR4_PAE, %eax
	movl	%eax, %cr4
	STEP_END MS_CLEAR_PAE

	STEP	MS_LME_NO_PAE
	movl	$PG_MSR_EFER, %ecx
	rdmsr
	orl	$PG_EFER_LME, %eax
	wrmsr
	STEP_END MS_LME_NO_PAE

	STEP	MS_PG_LME_NO_PAE
	movl	%cr0, %eax
	orl	$PG_CR0_PG, %eax
	movl	%eax, %cr0
	STEP_END MS_PG_LME_NO_PAE
1:
	STEP	MS_CR4_LONG
	movl	%cr4, %eax
	orl	$PG_CR4_PAE, %eax
	orl	P(MP_LA57), %eax
	movl	%eax, %cr4
	STEP_END MS_CR4_LONG

	STEP	MS_CR3_LONG
	movl	P(MP_CR3_LONG), %eax
	movl	%eax, %cr3
	STEP_END MS_CR3_LONG

	STEP	MS_SET_LME
	movl	$PG_MSR_EFER, %ecx
	rdmsr
	orl	$PG_EFER_LME, %eax
	wrmsr
	STEP_END MS_SET_LME

	STEP	MS_SET_PG_LONG
	movl	%cr0, %eax
	orl	$PG_CR0_PG, %eax
	movl	%eax, %cr0
	STEP_END MS_SET_PG_LONG

	/* IA-32e compatibility mode (if the last step took): to 64-bit code */
	pushl	$__KERNEL_CS
	leal	OFF(back64)(%ebp), %eax
	pushl	%eax
	lretl

/* log_step: append {esi = step, edi = vector, CR0, CR3, CR4, EFER} to the log. */
log_step:
	movl	P(MP_NSTEPS), %ebx
	cmpl	$MT_MAX_STEPS, %ebx
	jae	1f
	shll	$5, %ebx
	leal	MT_PARAMS + MP_LOG(%ebp, %ebx), %ebx
	movl	%esi, ML_STEP(%ebx)
	movl	%edi, ML_VECTOR(%ebx)
	movl	%cr0, %eax
	movl	%eax, ML_CR0(%ebx)
	movl	%cr3, %eax
	movl	%eax, ML_CR3(%ebx)
	movl	%cr4, %eax
	movl	%eax, ML_CR4(%ebx)
	movl	$PG_MSR_EFER, %ecx
	rdmsr
	movl	%eax, ML_EFER(%ebx)
	incl	P(MP_NSTEPS)
1:	ret

/* #GP in legacy protected mode: record the vector, resume after the write. */
gp_handler32:
	movl	$13, %edi
	movl	P(MP_SAVED_ESP), %esp
	jmp	*P(MP_RECOVER)

/* ---- back in 64-bit mode, still at the identity address ---- */
	.code64
back64:
	lgdt	MT_PARAMS + MP_KERNEL_GDT(%rbp)
	lidt	MT_PARAMS + MP_KERNEL_IDT(%rbp)
	movl	$__KERNEL_DS, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	/* the kernel's CR4 (PGE, SMEP, SMAP, ...), EFER (NXE, SCE) and CR0 (WP, ...) */
	movq	MT_PARAMS + MP_KERNEL_CR4(%rbp), %rax
	movq	%rax, %cr4
	movl	$PG_MSR_EFER, %ecx
	movq	MT_PARAMS + MP_KERNEL_EFER(%rbp), %rax
	movq	%rax, %rdx
	shrq	$32, %rdx
	wrmsr
	movq	MT_PARAMS + MP_KERNEL_CR0(%rbp), %rax
	movq	%rax, %cr0
	movq	MT_PARAMS + MP_SAVED_RSP(%rbp), %rsp
	POP_CALLEE_SAVED
	ret

	.balign	8
	.globl	modes_tramp_gdt
modes_tramp_gdt:			/* the kernel's descriptors 0-3, put here by modes_env.c */
	.fill	4, 8, 0
tramp_gdt_end:
	.balign	8
	.word	0
tramp_gdt_desc:
	.word	tramp_gdt_end - modes_tramp_gdt - 1
	.quad	0
	.balign	8
	.word	0
idt32_desc:
	.word	32 * 8 - 1
	.long	0
	.balign	8
idt32:
	.fill	32 * 8, 1, 0
	.globl	modes_tramp_end
modes_tramp_end:
