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

#define PD_ENTRIES 2048

static void report_identity_map(const uint64_t *pgtable)
{
	const uint64_t *pml4 = pgtable, *pdpt = pgtable + 512, *pd = pgtable + 1024;

	stage_printk("  pgtable at 0x%08lx: 6 pages (1 PML4, 1 PDPT, 4 PDs), identity map of [0, 4 GiB)\n",
		     (unsigned long)(uintptr_t)pgtable);
	stage_printk("  PML4[0]    = 0x%016llx\n", (unsigned long long)pml4[0]);
	for (int i = 0; i < 4; i++)
		stage_printk("  PDPT[%d]    = 0x%016llx\n", i, (unsigned long long)pdpt[i]);
	stage_printk("  PD[0]      = 0x%016llx\n", (unsigned long long)pd[0]);
	stage_printk("  PD[1]      = 0x%016llx\n", (unsigned long long)pd[1]);
	stage_printk("  PD[%d]   = 0x%016llx\n", PD_ENTRIES - 1, (unsigned long long)pd[PD_ENTRIES - 1]);
}

__attribute__((section(".text.entry"))) void report32(struct boot_params *bp, const uint64_t *pgtable,
						     int what)
{
	const char *cmdline = (const char *)(uintptr_t)bp->hdr.cmd_line_ptr;

	stage_quiet = cmdline && cmdline_has_word(cmdline, "quiet");
	switch (what) {
	case REPORT_NO_LONG_MODE:
		serial_init();
		printk("\nptlab: this CPU does not support long mode (x86-64): "
		       "CPUID 0x80000001 EDX bit 29 (LM) is clear\n"
		       "ptlab: cannot boot a 64-bit kernel; stopping\n");
		qemu_exit(QEMU_EXIT_FAILURE);
	case REPORT_PAGING_OFF:
		serial_init();
		stage_begin("startup_32", "decompressor: the 4 GiB identity map (seed 001)");
		stage_printk("  loaded at 0x%08lx, boot_params at 0x%08lx\n",
			     (unsigned long)bp->hdr.code32_start, (unsigned long)(uintptr_t)bp);
		report_identity_map(pgtable);
		stage_printk("  CR4.PAE set, CR3 = pgtable, EFER.LME set; next: CR0.PG\n");
		break;
	case REPORT_COMPAT:
		stage_begin("startup_32:paging", "CR0.PG set: long mode active, running 32-bit code");
		stage_printk("  EFER.LMA=%d CR0.PG=%d; next: far return through __KERNEL_CS (L=1) to startup_64\n",
			     (int)((read_efer_safe() >> 10) & 1), (int)((read_cr0() >> 31) & 1));
		break;
	}
}
