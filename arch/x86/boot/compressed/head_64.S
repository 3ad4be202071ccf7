/*
 * head_64.S: the decompressor's entry points (stage 1: the decompressor's
 * 4 GiB identity map).
 *
 * startup_32 (offset 0): the boot protocol's 32-bit entry: protected mode,
 * paging off, ESI = boot_params, reached from ptlab's real-mode setup or
 * directly from GRUB. It loads its own GDT, checks for long mode, builds the
 * 4 GiB identity map as Linux's startup_32 does (one PML4 entry, four PDPT
 * entries, 2048 PD entries of 2 MiB pages; layout in asm/boot.h), sets
 * CR4.PAE, loads CR3, sets
 * EFER.LME, sets CR0.PG and far-returns into 64-bit mode.
 * startup_64 (offset 0x200): calls extract_kernel() and jumps to the kernel.
 *
 * Linked at 0 and run wherever the loader put us: 32-bit code addresses its
 * data as symbol(%ebp), EBP = run-time base; 64-bit code is RIP-relative.
 */
#include <asm/processor-flags.h>
#include <asm/segment.h>
#include "misc.h"

#define BP_scratch   0x1e4
/* CR0 for long mode: PE MP ET NE WP AM PG (0x80050033), as Linux */
#define CR0_STATE (X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP | X86_CR0_AM | X86_CR0_PG)

	.code32
	.section ".head.text", "ax"
	.globl	startup_32
startup_32:
	cld
	cli
	/* Find where we run: boot_params.scratch is a 4-byte stack for call/pop. */
	leal	(BP_scratch + 4)(%esi), %esp
	call	1f
1:	popl	%ebp
	subl	$1b, %ebp

	/* Our GDT; its first slot holds its own pointer, patched with our base. */
	leal	gdt(%ebp), %eax
	movl	%eax, 2(%eax)
	lgdt	(%eax)
	movl	$__KERNEL_DS, %eax
	LOAD_DATA_SEGMENTS %eax
	pushl	$__KERNEL32_CS
	leal	2f(%ebp), %eax
	pushl	%eax
	lret
2:
	/* Clear .bss: it holds the boot page tables and our stack. */
	leal	_bss(%ebp), %edi
	leal	_ebss(%ebp), %ecx
	subl	%edi, %ecx
	shrl	$2, %ecx
	xorl	%eax, %eax
	rep	stosl
	leal	boot_stack_end(%ebp), %esp
	jmp	startup_32_long_mode

	.code64
	.org	0x200
	.globl	startup_64
startup_64:
	/* 64-bit mode on the identity map; ESI = boot_params (upper half undefined). */
	movl	$__KERNEL_DS, %eax
	LOAD_DATA_SEGMENTS %eax
	leaq	boot_stack_end(%rip), %rsp
	movl	%esi, %r15d			/* boot_params, zero-extended */
	movq	%r15, %rdi
	call	configure_5level_paging		/* LA57 as wanted; a trampoline if it must change */
	movq	%r15, %rdi
	leaq	startup_32(%rip), %rsi		/* where the decompressor runs */
	call	extract_kernel			/* -> kernel entry (physical) */
	movq	%r15, %rsi			/* the kernel wants RSI = boot_params */
	jmp	*%rax

	.code32
	.text
/* Continues startup_32 (kept out of the first 0x200 bytes). EBP = base, ESI = boot_params. */
startup_32_long_mode:
	/* CPUID must exist (EFLAGS.ID toggles) and report long mode. */
	pushfl
	popl	%eax
	movl	%eax, %ecx
	xorl	$0x200000, %eax
	pushl	%eax
	popfl
	pushfl
	popl	%eax
	pushl	%ecx
	popfl
	xorl	%ecx, %eax
	testl	$0x200000, %eax
	jz	no_long_mode
	movl	$0x80000000, %eax
	cpuid
	cmpl	$0x80000001, %eax
	jb	no_long_mode
	movl	$0x80000001, %eax
	cpuid
	btl	$29, %edx			/* LM */
	jnc	no_long_mode

	/* CR4.PAE: long mode needs PAE-format tables. */
	movl	%cr4, %eax
	orl	$X86_CR4_PAE, %eax
	movl	%eax, %cr4

	/*
	 * The 4 GiB identity map in pgtable. Zero pgtable first (clearing .bss
	 * did already; the tables do not rely on it).
	 */
	leal	pgtable(%ebp), %edi
	xorl	%eax, %eax
	movl	$(BOOT_INIT_PGT_SIZE / 4), %ecx
	rep	stosl

	/* The PML4's entry 0 points at the PDPT (asm/boot.h has the layout). */
	leal	pgtable + BOOT_PGT_PML4 * 4096(%ebp), %edi
	leal	pgtable + BOOT_PGT_PDPT * 4096 + BOOT_PGT_TABLE_FLAGS(%ebp), %eax
	movl	%eax, 0(%edi)

	/* The PDPT's entries 0..3 point at the four PDs. */
	leal	pgtable + BOOT_PGT_PDPT * 4096(%ebp), %edi
	leal	pgtable + BOOT_PGT_PD * 4096 + BOOT_PGT_TABLE_FLAGS(%ebp), %eax
	movl	$BOOT_PGT_NR_PD, %ecx
1:	movl	%eax, 0x00(%edi)
	addl	$0x00001000, %eax
	addl	$8, %edi
	decl	%ecx
	jnz	1b

	/* The PDs: 2048 leaves of 2 MiB, entry i -> physical i * 2 MiB. */
	leal	pgtable + BOOT_PGT_PD * 4096(%ebp), %edi
	movl	$BOOT_PGT_LEAF_FLAGS, %eax
	movl	$BOOT_PGT_PD_ENTRIES, %ecx
1:	movl	%eax, 0(%edi)
	addl	$0x00200000, %eax
	addl	$8, %edi
	decl	%ecx
	jnz	1b

	/*
	 * 5-level paging (LA57) if the CPU has it and the command line does not
	 * say no5lvl: a PML5 page above the identity map, CR4.LA57 set now,
	 * while paging is still off (it cannot change once long mode is active).
	 */
	pushl	$REPORT_WANT_LA57
	pushl	$0
	pushl	%esi
	call	report32
	addl	$12, %esp
	leal	pgtable(%ebp), %edx		/* the top table: pgtable's PML4 ... */
	testl	%eax, %eax
	jz	1f
	leal	pgtable_l5(%ebp), %edi
	xorl	%eax, %eax
	movl	$1024, %ecx
	rep	stosl
	leal	0x007(%edx), %eax
	movl	%eax, pgtable_l5(%ebp)		/* PML5[0] -> PML4, P|RW|US */
	leal	pgtable_l5(%ebp), %edx		/* ... or the PML5 above it */
	movl	%cr4, %eax
	orl	$X86_CR4_LA57, %eax
	movl	%eax, %cr4
1:
	/* CR3 = the top table (paging is still off: nothing is translated yet) */
	movl	%edx, %cr3

	/* EFER.LME: long mode enabled, to become active with CR0.PG */
	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$EFER_LME, %eax
	wrmsr

	pushl	$REPORT_PAGING_OFF
	leal	pgtable(%ebp), %eax
	pushl	%eax
	pushl	%esi
	call	report32
	addl	$12, %esp

	/* CR0.PG: long mode is active; this code runs on in compatibility mode */
	movl	$CR0_STATE, %eax
	movl	%eax, %cr0

	pushl	$REPORT_COMPAT
	leal	pgtable(%ebp), %eax
	pushl	%eax
	pushl	%esi
	call	report32
	addl	$12, %esp

	/* Far return through __KERNEL_CS (L = 1): 64-bit mode at startup_64 */
	pushl	$__KERNEL_CS
	leal	startup_64(%ebp), %eax
	pushl	%eax
	lret

no_long_mode:
	pushl	$REPORT_NO_LONG_MODE
	pushl	$0
	pushl	%esi
	call	report32			/* prints why and leaves QEMU */
1:	cli
	hlt
	jmp	1b

/*
 * void la57_toggle(uint64_t new_cr3)
 * Flip CR4.LA57 from 64-bit mode, which the CPU only allows with paging off:
 * far return to 32-bit compatibility mode (__KERNEL32_CS), clear CR0.PG (long
 * mode becomes inactive), flip CR4.LA57 and load CR3 with new_cr3 (a top table
 * of the new depth that identity-maps this code), set CR0.PG (long mode is
 * active again: EFER.LME stays set), far return to 64-bit mode (__KERNEL_CS).
 * The code, its stack and new_cr3 must be below 4 GiB; the decompressor is.
 */
	.code64
	.globl	la57_toggle
la57_toggle:
	pushq	%rbx
	pushq	%rbp
	movq	%rsp, %rbp
	movl	%edi, %ebx
	leaq	1f(%rip), %rax
	pushq	$__KERNEL32_CS
	pushq	%rax
	lretq
	.code32
1:	movl	%cr0, %eax
	btrl	$31, %eax
	movl	%eax, %cr0			/* paging off: EFER.LMA = 0 */
	movl	%ebx, %cr3
	movl	%cr4, %eax
	btcl	$12, %eax			/* CR4.LA57 */
	movl	%eax, %cr4
	movl	%cr0, %eax
	btsl	$31, %eax
	movl	%eax, %cr0			/* paging on: EFER.LMA = 1 */
	call	2f
2:	popl	%eax
	addl	$(3f - 2b), %eax
	pushl	$__KERNEL_CS
	pushl	%eax
	lret
	.code64
3:	movq	%rbp, %rsp
	popq	%rbp
	popq	%rbx
	ret

	.code32
/*
 * report32: the stage reports of startup_32, C compiled for 32-bit and linked
 * into a flat position-independent blob (report32.c); its entry is byte 0.
 */
	.balign	16
	.globl	report32
report32:
	.incbin	REPORT32_BIN

	.data
	.balign	8
gdt:
	.word	gdt_end - gdt - 1
	.long	0
	.word	0
	.quad	GDT_KERNEL32_CS		/* 0x08 */
	.quad	GDT_KERNEL_CS		/* 0x10: 64-bit */
	.quad	GDT_KERNEL_DS		/* 0x18 */
gdt_end:

	.bss
	.balign	4096
	.globl	pgtable
pgtable:
	.fill	BOOT_INIT_PGT_SIZE, 1, 0
	.globl	pgtable_l5
pgtable_l5:					/* the PML5 above pgtable, with LA57 */
	.fill	4096, 1, 0
	.balign	16
boot_stack:
	.fill	BOOT_STACK_SIZE, 1, 0
	.globl	boot_stack_end
boot_stack_end:
