/*
 * report32.c: the stage reports of startup_32, printed from 32-bit code.
 *
 * Built with -m32 -fpic into a flat blob that head_64.S includes at the
 * label report32 (blob32.lds puts report32() at byte 0), so that protected
 * mode and IA-32e compatibility mode report for themselves with the same
 * printk the other stages use. Paging is off or on the 4 GiB identity map, so
 * physical addresses are usable as pointers.
 */
#include <asm/bootparam.h>
#include <lib/cmdline.h>
#include <asm/console.h>
#include <asm/processor.h>

#include "misc.h"

/* pgtable: the decompressor's identity map (asm/boot.h); CR3 may point at a PML5 above it. */
static void report_identity_map(const uint64_t *pgtable)
{
	const uint64_t *pml5 = 0;

	stage_printk("  pgtable at 0x%08lx: 6 pages (1 PML4, 1 PDPT, 4 PDs), identity map of [0, 4 GiB)\n",
		     (unsigned long)(uintptr_t)pgtable);
	if (read_cr4() & X86_CR4_LA57) {
		pml5 = (const uint64_t *)(uintptr_t)read_cr3();
		stage_printk("  5-level: pgtable_l5 at 0x%08lx above it, CR4.LA57 set before paging\n",
			     (unsigned long)(uintptr_t)pml5);
	}
	boot_pgt_print(stage_printk, pml5, pgtable);
}

__attribute__((section(".text.entry"))) int report32(struct boot_params *bp, const uint64_t *pgtable,
						    int what)
{
	const char *cmdline = (const char *)(uintptr_t)bp->hdr.cmd_line_ptr;
	char path[4];

	if (!cmdline)
		cmdline = "";
	stage_quiet = cmdline_has_word(cmdline, "quiet");
	switch (what) {
	case REPORT_WANT_LA57:
		/* boot_path=64: enter long mode 4-level, as a 64-bit boot loader would,
		 * and let the 64-bit entry switch through its trampoline. */
		if (cmdline_get_option(cmdline, "boot_path", path, sizeof(path)) == 2 && path[0] == '6' &&
		    path[1] == '4')
			return 0;
		return la57_wanted(cmdline);
	case REPORT_NO_LONG_MODE:
		serial_init();
		printk("\nptlab: this CPU does not support long mode (x86-64): "
		       "CPUID 0x80000001 EDX bit 29 (LM) is clear\n"
		       "ptlab: cannot boot a 64-bit kernel; stopping\n");
		qemu_exit(QEMU_EXIT_FAILURE);
	case REPORT_PAGING_OFF:
		serial_init();
		stage_begin("startup_32", "decompressor: the 4 GiB identity map");
		stage_printk("  loaded at 0x%08lx, boot_params at 0x%08lx\n",
			     (unsigned long)bp->hdr.code32_start, (unsigned long)(uintptr_t)bp);
		report_identity_map(pgtable);
		stage_printk("  CR4.PAE set, CR3 = pgtable, EFER.LME set; next: CR0.PG\n");
		break;
	case REPORT_COMPAT:
		stage_begin("startup_32:paging", "CR0.PG set: long mode active, running 32-bit code");
		stage_printk("  EFER.LMA=%d CR0.PG=%d CR4.LA57=%d; next: far return through __KERNEL_CS (L=1) to startup_64\n",
			     !!(read_efer_safe() & EFER_LMA), !!(read_cr0() & X86_CR0_PG),
			     !!(read_cr4() & X86_CR4_LA57));
		break;
	}
	return 0;
}
