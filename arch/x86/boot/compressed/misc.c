/*
 * misc.c: extract_kernel, the decompressor's 64-bit C (stage 1).
 *
 * Runs in 64-bit mode on startup_32's 4 GiB identity map. Chooses where the
 * kernel goes (LOAD_PHYSICAL_ADDR, or past the decompressor if that overlaps,
 * or `kernel_phys=` from the command line), checks that the place is usable
 * RAM clear of the decompressor and the boot data, decompresses the LZ4
 * payload there, verifies its CRC32 and returns the kernel's entry point.
 * Every failure is a clear message and a failure exit, never a wild write.
 */
#include <asm/bootparam.h>
#include <lib/cmdline.h>
#include <asm/console.h>
#include <asm/processor.h>
#include <lib/crc32.h>
#include <lib/unlz4.h>
#include <paging/pg_env.h>

#include "misc.h"

#define SZ_4G 0x100000000ULL

extern char _end[];
static bool la57_switched;

static uint64_t align_up(uint64_t x, uint64_t a)
{
	return (x + a - 1) & ~(a - 1);
}

static bool overlaps(uint64_t a, uint64_t a_end, uint64_t b, uint64_t b_end)
{
	return a < b_end && b < a_end;
}

/* The E820 RAM entry that holds [start, end), or NULL. */
static const struct boot_e820_entry *e820_ram_covering(const struct boot_params *bp, uint64_t start,
						       uint64_t end)
{
	for (unsigned int i = 0; i < bp->e820_entries && i < E820_MAX_ENTRIES_ZEROPAGE; i++) {
		const struct boot_e820_entry *e = &bp->e820_table[i];
		if (e->type == E820_TYPE_RAM && e->addr <= start && end <= e->addr + e->size)
			return e;
	}
	return 0;
}

static uint64_t e820_ram_end(const struct boot_params *bp)
{
	uint64_t end = 0;
	for (unsigned int i = 0; i < bp->e820_entries && i < E820_MAX_ENTRIES_ZEROPAGE; i++) {
		const struct boot_e820_entry *e = &bp->e820_table[i];
		if (e->type == E820_TYPE_RAM && e->addr + e->size > end)
			end = e->addr + e->size;
	}
	return end;
}

/*
 * Where the kernel goes: kernel_phys= if given (validated), else
 * LOAD_PHYSICAL_ADDR, or the first 2 MiB boundary past the decompressor when
 * a loader put us there. Panics with the reason when no valid place exists.
 */
static uint64_t choose_output(const struct boot_params *bp, const char *cmdline, uint64_t run_base,
			      uint64_t run_end, uint64_t cmdline_len)
{
	uint64_t kernel_mem = piggy_info.kernel_mem, out;
	char value[32];
	int n = cmdline_get_option(cmdline, "kernel_phys", value, sizeof(value));

	if (n == -2 || (n >= 0 && !parse_u64(value, &out)))
		panic("kernel_phys=: not a number (use e.g. kernel_phys=0x2000000)");
	if (n >= 0) {
		if (out & (KERNEL_ALIGN - 1))
			panic("kernel_phys=0x%llx: must be a multiple of 2 MiB", (unsigned long long)out);
		if (out < KERNEL_ALIGN)
			panic("kernel_phys=0x%llx: must be at least 2 MiB", (unsigned long long)out);
	} else {
		out = LOAD_PHYSICAL_ADDR;
		if (overlaps(out, out + kernel_mem, run_base, run_end))
			out = align_up(run_end, KERNEL_ALIGN);
	}

	uint64_t end = out + kernel_mem, bp_pa = (uint64_t)(uintptr_t)bp;
	uint64_t cl_pa = boot_cmdline_pa(bp);
	if (end > SZ_4G || end < out)
		panic("the kernel at 0x%llx would end above 4 GiB, outside the boot identity map",
		      (unsigned long long)out);
	if (overlaps(out, end, run_base, run_end))
		panic("the kernel at [0x%llx-0x%llx) would overwrite the decompressor at [0x%llx-0x%llx)",
		      (unsigned long long)out, (unsigned long long)end, (unsigned long long)run_base,
		      (unsigned long long)run_end);
	if (overlaps(out, end, bp_pa, bp_pa + sizeof(*bp)) ||
	    (cl_pa && overlaps(out, end, cl_pa, cl_pa + cmdline_len + 1)))
		panic("the kernel at [0x%llx-0x%llx) would overwrite boot_params or the command line",
		      (unsigned long long)out, (unsigned long long)end);
	if (!e820_ram_covering(bp, out, end))
		panic("not enough memory: the kernel needs [0x%llx-0x%llx) (%llu KiB) as usable RAM, "
		      "but the E820 map has no usable RAM range holding it (RAM ends at 0x%llx)",
		      (unsigned long long)out, (unsigned long long)end,
		      (unsigned long long)(kernel_mem >> 10), (unsigned long long)e820_ram_end(bp));
	return out;
}

static const char *boot_cmdline(const struct boot_params *bp)
{
	uint64_t cl_pa = boot_cmdline_pa(bp);
	return (cl_pa && cl_pa < SZ_4G) ? (const char *)(uintptr_t)cl_pa : "";
}

/*
 * The 64-bit entry's half of LA57 (Linux's configure_5level_paging): make
 * CR4.LA57 what la57_wanted() says. Reached from startup_32 it normally is
 * already; entered in long mode by a loader (or with boot_path=64) it may
 * not be, and LA57 only changes with paging off: la57_toggle's trampoline.
 * 4 -> 5: pgtable_l5[0] points at the current top (CR3); 5 -> 4: the new top
 * is the table PML5[0] points at. Either must be below 4 GiB.
 */
void configure_5level_paging(struct boot_params *bp)
{
	const char *cmdline = boot_cmdline(bp);
	bool want = la57_wanted(cmdline), have = (read_cr4() & X86_CR4_LA57) != 0;
	uint64_t cr3 = read_cr3() & 0x000ffffffffff000ULL, new_cr3;

	la57_switched = false;
	if (want == have)
		return;
	if (want) {
		memset(pgtable_l5, 0, 4096);
		pgtable_l5[0] = cr3 | 0x007;
		new_cr3 = (uint64_t)(uintptr_t)pgtable_l5;
	} else {
		new_cr3 = ((const uint64_t *)(uintptr_t)cr3)[0] & 0x000ffffffffff000ULL;
	}
	if (new_cr3 >= SZ_4G || (uint64_t)(uintptr_t)la57_toggle >= SZ_4G) {
		serial_init();
		panic("configure_5level_paging: the trampoline and its tables must be below 4 GiB");
	}
	la57_toggle(new_cr3);
	la57_switched = true;
}

uint64_t extract_kernel(struct boot_params *bp, uint64_t run_base)
{
	const char *cmdline = boot_cmdline(bp);
	uint64_t run_end = (uint64_t)(uintptr_t)_end;
	size_t out_len = 0;

	serial_init();
	stage_quiet = cmdline_has_word(cmdline, "quiet");
	stage_begin("decompressor", "64-bit: place, decompress and check the kernel");
	stage_printk("  decompressor at [0x%llx-0x%llx), boot_params at 0x%llx\n",
		     (unsigned long long)run_base, (unsigned long long)run_end,
		     (unsigned long long)(uintptr_t)bp);
	stage_printk("  paging: %s%s\n", (read_cr4() & X86_CR4_LA57) ? "5-level" : "4-level",
		     la57_switched ? " (switched at the 64-bit entry through the 32-bit trampoline)" : "");

	if (bp->e820_entries == 0)
		panic("the boot loader passed no E820 memory map");
	uint64_t out = choose_output(bp, cmdline, run_base, run_end, strlen(cmdline));

	int err = unlz4(input_data, piggy_info.input_len, (void *)(uintptr_t)out, piggy_info.output_len,
			&out_len);
	if (err)
		panic("the compressed kernel is corrupt: %s", unlz4_strerror(err));
	if (out_len != piggy_info.output_len)
		panic("the compressed kernel is corrupt: it decompressed to %llu bytes, expected %llu",
		      (unsigned long long)out_len, (unsigned long long)piggy_info.output_len);
	uint32_t crc = crc32_le(0, (const void *)(uintptr_t)out, out_len);
	if (crc != (uint32_t)piggy_info.crc32)
		panic("the compressed kernel is corrupt: CRC32 %08lx, expected %08lx", (unsigned long)crc,
		      (unsigned long)piggy_info.crc32);

	stage_printk("  LZ4 payload: %llu bytes -> %llu bytes at 0x%llx, CRC32 %08lx ok\n",
		     (unsigned long long)piggy_info.input_len, (unsigned long long)out_len,
		     (unsigned long long)out, (unsigned long)crc);
	stage_printk("  kernel occupies [0x%llx-0x%llx) with .bss; entry startup_64 at 0x%llx\n",
		     (unsigned long long)out, (unsigned long long)(out + piggy_info.kernel_mem),
		     (unsigned long long)out);
	return out;
}
