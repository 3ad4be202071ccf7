/*
 * trampoline_64.S: where an AP starts (Linux: arch/x86/realmode/rm/trampoline_64.S).
 *
 * The BSP copies this blob to a page below 1 MiB (arch/x86/realmode/init.c)
 * and sends the AP a STARTUP IPI whose vector is that page's number: the AP
 * starts at trampoline_start in real mode with CS = page << 8, IP = 0. It
 *   - takes the trampoline's lock (one AP at a time on its stack),
 *   - loads the trampoline's GDT and a null IDT, sets CR0.PE: protected mode,
 *   - startup_32: CR4 from trampoline_header (PAE, LA57 when 5-level), CR3 =
 *     trampoline_pgd, EFER (LME, NXE, SCE), CR0.PG: long mode, compatibility
 *     mode, then a far return to startup_64 through __KERNEL_CS: 64-bit mode,
 *     still at its low physical address, mapped identity by trampoline_pgd[0],
 *   - startup_64: jumps to trampoline_header.start (secondary_startup_64 at the
 *     kernel's virtual address, mapped by trampoline_pgd's kernel entries),
 *     which switches to swapper_pg_dir (arch/x86/kernel/head_64.S).
 * The code computes every absolute address from the blob's base (CS << 4 in
 * real mode, kept in ESI), so the only relocations are data fields, listed
 * in real_mode_relocs for setup_real_mode. Nothing here is executed in the
 * kernel image: it is data in .rodata until copied.
 */
#include <asm/processor-flags.h>
#include <asm/realmode.h>
#include <asm/segment.h>

#define BLOB_OFF(x) ((x) - real_mode_blob)

	.section ".rodata.realmode", "a"
	.balign	4096
	.globl	real_mode_blob
real_mode_blob:

/* ---- page 0: text and read-only data ---------------------------------- */
	.code16
trampoline_start:
	cli
	movw	%cs, %ax		/* code and data in the same place */
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
1:	lock btsl $0, BLOB_OFF(tr_lock)	/* one AP at a time on the real-mode stack */
	jnc	2f
	pause
	jmp	1b
2:	movl	$BLOB_OFF(rm_stack_end), %esp
	xorl	%esi, %esi
	movw	%cs, %si
	shll	$4, %esi		/* ESI: the blob's physical base */
	lidtl	BLOB_OFF(tr_idt)	/* null IDT: a fault now shuts the AP down */
	lgdtl	BLOB_OFF(tr_gdt_desc)	/* 32-bit operand: the GDT may be anywhere below 4 GiB */
	movl	$(CR0_STATE & ~X86_CR0_PG), %eax
	movl	%eax, %cr0		/* protected mode */
	pushl	$__KERNEL32_CS
	leal	BLOB_OFF(startup_32)(%esi), %eax
	pushl	%eax
	lretl				/* reload CS from the GDT: 32-bit code */

	.code32
startup_32:
	movl	$__KERNEL_DS, %edx
	movl	%edx, %ds
	movl	%edx, %es
	movl	%edx, %ss
	movl	%edx, %fs
	movl	%edx, %gs
	leal	BLOB_OFF(rm_stack_end)(%esi), %esp
	movl	BLOB_OFF(tr_cr4)(%esi), %eax
	movl	%eax, %cr4		/* PAE (and LA57 with 5-level paging) */
	leal	BLOB_OFF(trampoline_pgd)(%esi), %eax
	movl	%eax, %cr3
	movl	$MSR_EFER, %ecx
	movl	BLOB_OFF(tr_efer)(%esi), %eax
	movl	BLOB_OFF(tr_efer + 4)(%esi), %edx
	wrmsr				/* LME */
	movl	$CR0_STATE, %eax
	movl	%eax, %cr0		/* paging: long mode, compatibility mode */
	pushl	$__KERNEL_CS
	leal	BLOB_OFF(startup_64)(%esi), %eax
	pushl	%eax
	lret				/* a 64-bit code segment: 64-bit mode */

	.code64
startup_64:
	testl	$TH_FLAGS_HALT, tr_flags(%rip)
	jnz	3f
	jmpq	*tr_start(%rip)		/* into the kernel, at its virtual address */
3:	movl	$0, tr_lock(%rip)	/* test only: stop here, on trampoline_pgd, leaving the lock free */
4:	cli
	hlt
	jmp	4b

	/*
	 * The kernel's selectors, with the accessed bit already set (as Linux's
	 * tr_gdt): the page is read-only once paging is on, and loading a
	 * descriptor whose accessed bit is clear writes it (Bochs faults there).
	 */
	.balign	16
tr_gdt:
	.quad	0
	.quad	0x00cf9b000000ffff	/* 0x08 __KERNEL32_CS */
	.quad	0x00af9b000000ffff	/* 0x10 __KERNEL_CS */
	.quad	0x00cf93000000ffff	/* 0x18 __KERNEL_DS */
tr_gdt_end:
	.balign	8
	.word	0
tr_gdt_desc:
	.word	tr_gdt_end - tr_gdt - 1
rel_gdt:
	.long	BLOB_OFF(tr_gdt)	/* relocated */
	.balign	8
tr_idt:
	.word	0
	.long	0
ro_end:

/* ---- page 1: real_mode_header, trampoline_header, stack ----------------- */
	.balign	4096
	.globl	rm_header
rm_header:
rel_text_start:		.long	BLOB_OFF(trampoline_start)
rel_ro_end:		.long	BLOB_OFF(ro_end)
rel_trampoline_start:	.long	BLOB_OFF(trampoline_start)
rel_trampoline_header:	.long	BLOB_OFF(trampoline_header)
rel_trampoline_pgd:	.long	BLOB_OFF(trampoline_pgd)
	.balign	8
trampoline_header:
tr_start:	.quad	0
tr_efer:	.quad	0
tr_cr4:		.long	0
tr_flags:	.long	0
tr_lock:	.long	0
	.balign	16
rm_stack:
	.fill	1024, 1, 0
rm_stack_end:

/* ---- page 2: trampoline_pgd ---------------------------------------------- */
	.balign	4096
trampoline_pgd:
	.fill	4096, 1, 0
	.globl	real_mode_blob_end
real_mode_blob_end:

	.section ".rodata", "a"
	.balign	4
	.globl	real_mode_relocs
real_mode_relocs:			/* count, then blob offsets of 32-bit fields to add the base to */
	.long	6
	.long	BLOB_OFF(rel_gdt), BLOB_OFF(rel_text_start), BLOB_OFF(rel_ro_end)
	.long	BLOB_OFF(rel_trampoline_start), BLOB_OFF(rel_trampoline_header), BLOB_OFF(rel_trampoline_pgd)
