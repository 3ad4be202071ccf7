/*
 * main.c: start_kernel, the boot script of the kernel proper. One call per
 * stage, each printing its block; the stages after the kernel head arrive
 * with the direct-map, shell and process work.
 */
#include <asm/console.h>
#include <asm/processor.h>
#include <asm/sections.h>
#include <lib/cmdline.h>

void start_kernel(void)
{
	stage_begin("start_kernel", "the C kernel at its virtual address");
	stage_printk("  start_kernel at 0x%016llx, RIP 0x%016llx\n",
		     (unsigned long long)(uintptr_t)start_kernel, (unsigned long long)read_rip());
	stage_printk("  command line: \"%s\"\n", boot_command_line);
	stage_printk("  loader type 0x%02x, %u E820 entries, kernel image [0x%016llx-0x%016llx)\n",
		     boot_params.hdr.type_of_loader, boot_params.e820_entries,
		     (unsigned long long)(uintptr_t)_text, (unsigned long long)(uintptr_t)_end);

	printk("ptlab: start_kernel reached at 0x%016llx\n", (unsigned long long)(uintptr_t)start_kernel);
	if (cmdline_has_word(boot_command_line, "halt")) {
		/* Stay up with the tables live, for QEMU's monitor (info tlb, gva2gpa). */
		printk("ptlab: halted (`halt` on the command line)\n");
		halt_forever();
	}
	qemu_exit(QEMU_EXIT_SUCCESS);
}
