/*
 * main.c: the real-mode setup's main(), stage 0 of the boot chain.
 *
 * Entered from header.S in real mode with CS = DS = ES = SS = the setup
 * segment. Copies the setup header into the zero page, reads the command
 * line, detects memory with the BIOS (E820), reports, then switches to
 * protected mode and jumps to the 32-bit entry (code32_start).
 * A loader that uses the 32-bit protocol (GRUB's `linux`) skips all of this.
 */
#include "boot.h"

#include <lib/cmdline.h>
#include <asm/console.h>
#include <paging/pg_env.h>

struct boot_params boot_params __attribute__((aligned(16)));
static char cmdline[COMMAND_LINE_SIZE];

/* Copy the command line (below 1 MiB, reached through FS) into our segment. */
static void read_cmdline(void)
{
	uint32_t pa = boot_params.hdr.cmd_line_ptr;

	cmdline[0] = '\0';
	if (!pa || pa >= 0x100000)
		return;
	set_fs((uint16_t)(pa >> 4));
	for (uint16_t i = 0; i < COMMAND_LINE_SIZE - 1; i++) {
		cmdline[i] = (char)rdfs8((uint16_t)((pa & 0xf) + i));
		if (!cmdline[i])
			return;
	}
	cmdline[COMMAND_LINE_SIZE - 1] = '\0';
}

void main(void)
{
	memcpy(&boot_params.hdr, &hdr, sizeof(hdr));
	read_cmdline();
	serial_init();
	stage_quiet = cmdline_has_word(cmdline, "quiet");

	stage_begin("setup", "real-mode setup: boot protocol header, E820, A20, protected mode");
	stage_printk("  boot protocol %u.%02u, loader type 0x%02x, setup at %04x:0000, %u setup sectors\n",
		     hdr.version >> 8, hdr.version & 0xff, hdr.type_of_loader, ds(),
		     hdr.setup_sects);
	stage_printk("  command line at 0x%08lx: \"%s\"\n", (unsigned long)hdr.cmd_line_ptr, cmdline);

	int n = detect_memory();
	if (n <= 0)
		panic("setup: the BIOS gave no E820 memory map (INT 15h AX=E820h)");
	stage_printk("  BIOS-e820: %d entries\n", n);
	for (int i = 0; i < n; i++) {
		const struct boot_e820_entry *e = &boot_params.e820_table[i];
		stage_printk("    [mem 0x%016llx-0x%016llx] %s\n", (unsigned long long)e->addr,
			     (unsigned long long)(e->addr + e->size - 1), e820_type_name(e->type));
	}
	stage_printk("  jumping to the 32-bit entry at 0x%08lx, boot_params at 0x%08lx\n",
		     (unsigned long)boot_params.hdr.code32_start,
		     (unsigned long)(((uint32_t)ds() << 4) + (uint32_t)(uintptr_t)&boot_params));
	go_to_protected_mode();
}
