/*
 * head_64.S: the kernel's entry and its compile-time page tables (stage 2:
 * early_top_pgt -> level3_kernel_pgt -> level2_kernel_pgt, the high mapping).
 *
 * startup_64 is entered by the decompressor in 64-bit mode (4- or 5-level
 * paging, CR4.LA57 says which) on its 4 GiB identity map, at whatever
 * 2 MiB-aligned physical address the kernel was placed, with RSI =
 * boot_params. __startup_64() (head64.c) relocates the tables by load_delta
 * and adds a temporary identity map of the image; then CR3 = early_top_pgt
 * and the jump to the virtual address (docs/linux.md, "The kernel head").
 *
 * The tables: early_top_pgt[511] -> level3_kernel_pgt (5-level: ->
 * level4_kernel_pgt, whose [511] -> level3_kernel_pgt), whose [510] ->
 * level2_kernel_pgt (2 MiB pages over the 512 MiB kernel image window) and
 * [511] -> level2_fixmap_pgt. Entry values are link-time physical addresses
 * (symbol - __START_KERNEL_map) plus flags.
 */
#include <asm/page_64_types.h>
#include <asm/percpu.h>
#include <asm/processor-flags.h>
#include <asm/segment.h>

/* Flag values (include/paging/pgtable.h has them for C). */
#define _PAGE_TABLE              0x067	/* P RW US A D */
#define _KERNPG_TABLE            0x063	/* P RW A D */
#define __PAGE_KERNEL_LARGE_EXEC 0x1e3	/* P RW A D PSE G */
#define PMD_SHIFT                21

	.section ".head.text", "ax"
	.code64
	.globl	startup_64
startup_64:
	/* Running at the physical address the decompressor chose. */
	leaq	early_stack_end(%rip), %rsp
	movq	%rsi, %r15			/* boot_params */

	/* Our own GDT (the decompressor's will not stay mapped). */
	leaq	early_gdt(%rip), %rax
	movq	%rax, early_gdt_descr + 2(%rip)
	lgdt	early_gdt_descr(%rip)
	movl	$__KERNEL_DS, %eax
	LOAD_DATA_SEGMENTS %eax
	pushq	$__KERNEL_CS
	leaq	1f(%rip), %rax
	pushq	%rax
	lretq
1:
	leaq	_text(%rip), %rdi		/* physical address of _text */
	movabsq	$_text, %rsi			/* its link-time virtual address */
	movq	%r15, %rdx
	call	__startup_64

	/* CR4: keep PAE (and LA57, MCE), add PSE and PGE, as common_startup_64 */
	movq	%cr4, %rax
	andl	$(X86_CR4_PAE | X86_CR4_LA57 | X86_CR4_MCE), %eax
	orl	$(X86_CR4_PSE | X86_CR4_PGE), %eax
	movq	%rax, %cr4

	/* CR3 = early_top_pgt: the high mapping plus the image's identity map */
	leaq	early_top_pgt(%rip), %rax
	movq	%rax, %cr3

	/* Jump to the link-time (virtual) address of the next instruction */
	leaq	0(%rip), %rax
	movq	%rax, early_rip_before_jump(%rip)
	movabsq	$1f, %rax
	jmp	*%rax
1:
	leaq	0(%rip), %rax
	movq	%rax, early_rip_after_jump(%rip)

	/* Reload the GDT through its virtual address; switch to the kernel stack. */
	movq	$early_gdt, %rax
	movq	%rax, early_gdt_descr + 2(%rip)
	lgdt	early_gdt_descr(%rip)
	movq	$init_stack_end, %rsp
	xorl	%ebp, %ebp
	call	x86_64_start_kernel
2:	cli
	hlt
	jmp	2b

/*
 * secondary_startup_64: where an AP enters the kernel from the real-mode
 * trampoline (arch/x86/realmode/rm/trampoline_64.S): 64-bit mode, at the
 * kernel's virtual address, on trampoline_pgd, interrupts off. Switch to
 * swapper_pg_dir (init_top_pgt, as Linux: phys_base + its link-time offset),
 * recording CR3 before and after for the [smp_init] report; the kernel's
 * early GDT and segments; the idle task's stack (initial_stack); release the
 * trampoline for the next AP; GS = this CPU's per-CPU area (initial_gs);
 * then start_secondary (arch/x86/kernel/smpboot.c).
 */
	.text
	.globl	secondary_startup_64
secondary_startup_64:
	movq	%cr3, %rax
	movq	%rax, smpboot_cr3_trampoline(%rip)
	lgdt	early_gdt_descr(%rip)		/* its base is virtual: set after the BSP's jump */
	movq	phys_base(%rip), %rax
	addq	$(init_top_pgt - __START_KERNEL_map), %rax
	movq	%rax, %cr3			/* swapper_pg_dir */
	movq	%cr3, %rax
	movq	%rax, smpboot_cr3_swapper(%rip)
	movl	$__KERNEL_DS, %eax
	LOAD_DATA_SEGMENTS %eax
	movq	initial_stack(%rip), %rsp
	pushq	$__KERNEL_CS
	leaq	1f(%rip), %rax
	pushq	%rax
	lretq
1:
	movq	trampoline_lock(%rip), %rax	/* off the trampoline's stack: the next AP may use it */
	movl	$0, (%rax)
	movl	$MSR_GS_BASE, %ecx
	movl	initial_gs(%rip), %eax
	movl	initial_gs + 4(%rip), %edx
	wrmsr
	xorl	%ebp, %ebp
	call	start_secondary
2:	cli
	hlt
	jmp	2b

	.section ".data..page_aligned", "aw"
	.balign	4096
	.globl	early_top_pgt
early_top_pgt:
	.fill	511, 8, 0
	.quad	level3_kernel_pgt - __START_KERNEL_map + _PAGE_TABLE

	.globl	early_dynamic_pgts
early_dynamic_pgts:
	.fill	512 * EARLY_DYNAMIC_PAGE_TABLES, 8, 0

	/*
	 * swapper_pg_dir and, in the next page, its user twin (page-table
	 * isolation, arch/x86/mm/pti.c): an 8 KiB-aligned pair, as Linux's.
	 */
	.balign	8192
	.globl	init_top_pgt
init_top_pgt:
	.fill	512, 8, 0
	.globl	init_top_pgt_user
init_top_pgt_user:
	.fill	512, 8, 0

	/* 5-level only: early_top_pgt[511] is pointed here by __startup_64 */
	.globl	level4_kernel_pgt
level4_kernel_pgt:
	.fill	511, 8, 0
	.quad	level3_kernel_pgt - __START_KERNEL_map + _PAGE_TABLE

	.globl	level3_kernel_pgt
level3_kernel_pgt:
	.fill	510, 8, 0
	.quad	level2_kernel_pgt - __START_KERNEL_map + _KERNPG_TABLE
	.quad	level2_fixmap_pgt - __START_KERNEL_map + _PAGE_TABLE

	/* 512 MiB kernel mapping: 256 entries of 2 MiB, physical 0 upwards. */
	.globl	level2_kernel_pgt
level2_kernel_pgt:
	i = 0
	.rept	(KERNEL_IMAGE_SIZE >> PMD_SHIFT)
	.quad	(i << PMD_SHIFT) + __PAGE_KERNEL_LARGE_EXEC
	i = i + 1
	.endr
	.fill	512 - (KERNEL_IMAGE_SIZE >> PMD_SHIFT), 8, 0

	.globl	level2_fixmap_pgt
level2_fixmap_pgt:
	.fill	506, 8, 0
	.quad	level1_fixmap_pgt - __START_KERNEL_map + _PAGE_TABLE
	.quad	level1_fixmap_pgt + 4096 - __START_KERNEL_map + _PAGE_TABLE
	.fill	4, 8, 0

	.globl	level1_fixmap_pgt
level1_fixmap_pgt:
	.fill	1024, 8, 0

	/* The boot stack: in .data, so that clearing .bss does not clear it under us. */
	.balign	4096
init_stack:
	.fill	0x4000, 1, 0
	.globl	init_stack_end
init_stack_end:
early_stack:
	.fill	0x1000, 1, 0
early_stack_end:

	.data
	.balign	8
early_gdt:
	.quad	0
	.quad	GDT_KERNEL32_CS			/* 0x08 */
	.quad	GDT_KERNEL_CS			/* 0x10 */
	.quad	GDT_KERNEL_DS			/* 0x18 */
early_gdt_end:
	.balign	8
	.word	0
early_gdt_descr:
	.word	early_gdt_end - early_gdt - 1
	.quad	0
