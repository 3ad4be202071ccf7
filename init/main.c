/*
 * main.c: start_kernel, the boot script of the kernel proper. One call per
 * stage; each stage prints its block.
 */
#include <asm/console.h>
#include <asm/processor.h>
#include <asm/sections.h>
#include <asm/setup.h>
#include <asm/smp.h>
#include <lib/cmdline.h>
#include <linux/acpi.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/sched.h>
#include <linux/selftest.h>
#include <linux/shell.h>
#include <linux/vmalloc.h>

static char run_script[COMMAND_LINE_SIZE];

static const char rodata_target[8] = "rodata";

/* Test-only: recurse with a 256-byte frame until the stack runs out (Linux's lkdtm EXHAUST_STACK). */
static __attribute__((noinline)) uint64_t recurse(uint64_t depth)
{
	volatile char frame[256];

	frame[0] = (char)depth;
	if (depth == ~0ULL)
		return 0; /* never: the recursion only looks unbounded */
	return recurse(depth + 1) + (uint64_t)frame[0];
}

static void overflow_stack(void)
{
	recurse(0);
	panic("fault_test: the recursion returned");
}

/*
 * Test-only: `fault_test=rodata` writes to .rodata (the #PF report and a
 * panic must follow); `fault_test=stack` lets a kernel thread exhaust its
 * vmalloc'd stack (the double fault's report must name it).
 */
static void fault_test(void)
{
	char what[16];

	if (cmdline_get_option(boot_command_line, "fault_test", what, sizeof(what)) < 0)
		return;
	if (memcmp(what, "rodata", 7) == 0) {
		printk("fault_test: writing to .rodata at 0x%016llx\n",
		       (unsigned long long)(uintptr_t)rodata_target);
		*(volatile char *)rodata_target = 'X';
		panic("fault_test: the write to .rodata did not fault");
	}
	if (memcmp(what, "stack", 6) == 0) {
		struct task_struct *t = kernel_thread(overflow_stack, "stack_overflow");
		if (!t)
			panic("fault_test: no task for the stack overflow");
		printk("fault_test: task %d (%s) recurses on its stack [0x%016llx-0x%016llx)\n", t->pid, t->comm,
		       (unsigned long long)(uintptr_t)t->stack, (unsigned long long)(uintptr_t)t->stack + THREAD_SIZE);
		schedule();
		panic("fault_test: the stack overflow did not fault");
	}
	panic("fault_test=%s: unknown (known: rodata, stack)", what);
}

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

	setup_arch();               /* CPU, memblock, direct map, swapper_pg_dir, least privilege */
	mem_init();                 /* [mem_init]: struct pages (sparse vmemmap), buddy allocator */
	vmalloc_init();             /* [vmalloc_init]: the vmalloc area's top-level entries, PAT */
	acpi_table_init();          /* [acpi]: the ACPI tables through ioremap_cache */
	bochs_vga_init();           /* [pci]: the VGA's framebuffer (ioremap_wc) and registers (ioremap) */
	sched_init();               /* processes: GDT with user segments, TSS, SYSCALL, PCID */
	smp_init();                 /* [smp_init]: the other CPUs, through the real-mode trampoline */
	fault_test();               /* test-only faults (fault_test=) */

	bool tests_ok = true, scripted = cmdline_get_option(boot_command_line, "run", run_script,
							     sizeof(run_script)) >= 0;
	if (selftest_requested()) {
		tests_ok = selftest_run(false);
		printk(tests_ok ? "ALL TESTS PASSED\n" : "SOME TESTS FAILED\n");
		if (!scripted)
			qemu_exit(tests_ok ? QEMU_EXIT_SUCCESS : QEMU_EXIT_FAILURE);
	}
	printk("ptlab: boot complete: %llu MiB free\n", (unsigned long long)(nr_free_pages() >> 8));
	if (cmdline_has_word(boot_command_line, "halt")) {
		/* Stay up with the tables live, for QEMU's monitor (info tlb, gva2gpa). */
		printk("ptlab: halted (`halt` on the command line)\n");
		halt_forever();
	}
	if (scripted) {
		bool ok = shell_run_script(run_script); /* run="cmd1;cmd2": no prompt, then leave */
		qemu_exit(ok && tests_ok ? QEMU_EXIT_SUCCESS : QEMU_EXIT_FAILURE);
	}
	shell_loop();               /* the interactive shell on the serial console */
}
