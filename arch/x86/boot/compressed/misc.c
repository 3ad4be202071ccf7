/*
 * misc.c: extract_kernel, the decompressor's 64-bit C (stage 1).
 *
 * Runs in 64-bit mode on startup_32's 4 GiB identity map. Chooses where the
 * kernel goes physically (`kernel_phys=`, a random slot with KASLR, or
 * LOAD_PHYSICAL_ADDR), checks that the place is usable RAM clear of the
 * decompressor and the boot data, decompresses the LZ4 payload there,
 * verifies its CRC32, moves its virtual addresses (a random 2 MiB-aligned
 * offset with KASLR) through the relocation table and returns the kernel's
 * entry point.
 * Every failure is a clear message and a failure exit, never a wild write.
 */
#include <asm/bootparam.h>
#include <asm/console.h>
#include <asm/processor.h>
#include <lib/cmdline.h>
#include <lib/crc32.h>
#include <lib/unlz4.h>
#include <paging/pg_env.h>
#include <paging/pgtable.h>

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

/* Tell the kernel that KASLR is on (it randomises its memory regions then), as Linux's decompressor does. */
static void bp_loadflags_set_kaslr(struct boot_params *bp)
{
	bp->hdr.loadflags |= KASLR_FLAG;
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

/* What the kernel must not overwrite while it is being placed. */
struct placement {
	struct kaslr_avoid avoid[3]; /* the decompressor, boot_params, the command line */
	unsigned int navoid;
};

/*
 * Check that [out, out + kernel_mem) is a usable place: 2 MiB aligned, below
 * 4 GiB (the boot identity map), in one E820 RAM range, clear of avoid[].
 * Panics with the reason; `what` names where out came from.
 */
static void check_output(const struct boot_params *bp, const struct placement *pl, uint64_t out,
			 const char *what)
{
	uint64_t kernel_mem = piggy_info.kernel_mem, end = out + kernel_mem;

	if (out & (KERNEL_ALIGN - 1))
		panic("%s0x%llx: must be a multiple of 2 MiB", what, (unsigned long long)out);
	if (out < KERNEL_ALIGN)
		panic("%s0x%llx: must be at least 2 MiB", what, (unsigned long long)out);
	if (end > SZ_4G || end < out)
		panic("the kernel at 0x%llx would end above 4 GiB, outside the boot identity map",
		      (unsigned long long)out);
	for (unsigned int i = 0; i < pl->navoid; i++)
		if (overlaps(out, end, pl->avoid[i].start, pl->avoid[i].end))
			panic("the kernel at [0x%llx-0x%llx) would overwrite %s at [0x%llx-0x%llx)",
			      (unsigned long long)out, (unsigned long long)end,
			      i == 0 ? "the decompressor" : "boot_params or the command line",
			      (unsigned long long)pl->avoid[i].start, (unsigned long long)pl->avoid[i].end);
	if (!e820_ram_covering(bp, out, end))
		panic("not enough memory: the kernel needs [0x%llx-0x%llx) (%llu KiB) as usable RAM, "
		      "but the E820 map has no usable RAM range holding it (RAM ends at 0x%llx)",
		      (unsigned long long)out, (unsigned long long)end,
		      (unsigned long long)(kernel_mem >> 10), (unsigned long long)e820_ram_end(bp));
}

/*
 * Where the kernel goes, physically: kernel_phys= if given; else, with KASLR,
 * a random slot; else LOAD_PHYSICAL_ADDR, or the first 2 MiB boundary past the
 * decompressor when a loader put us there. Panics when no valid place exists.
 */
static uint64_t choose_output(const struct boot_params *bp, const char *cmdline, const struct placement *pl,
			      struct kaslr_rng *rng, bool kaslr)
{
	uint64_t out, slots;
	char value[32];
	int n = cmdline_get_option(cmdline, "kernel_phys", value, sizeof(value));

	if (n == -2 || (n >= 0 && !parse_u64(value, &out)))
		panic("kernel_phys=: not a number (use e.g. kernel_phys=0x2000000)");
	if (n >= 0) {
		check_output(bp, pl, out, "kernel_phys=");
		stage_printk("  physical address from kernel_phys=\n");
		return out;
	}
	if (kaslr) {
		out = kaslr_find_physical(bp, rng, piggy_info.kernel_mem, pl->avoid, pl->navoid, &slots);
		if (out) {
			check_output(bp, pl, out, "KASLR chose ");
			stage_printk("  KASLR physical: 0x%llx, one of %llu free 2 MiB slots in E820 RAM below 4 GiB\n",
				     (unsigned long long)out, (unsigned long long)slots);
			return out;
		}
		stage_printk("  KASLR physical: no free slot, using the default placement\n");
	}
	out = LOAD_PHYSICAL_ADDR;
	if (overlaps(out, out + piggy_info.kernel_mem, pl->avoid[0].start, pl->avoid[0].end))
		out = align_up(pl->avoid[0].end, KERNEL_ALIGN);
	check_output(bp, pl, out, "");
	return out;
}

/*
 * Move the kernel's virtual addresses by delta: add it to every absolute
 * reference the relocation table lists (64-bit and 32-bit sign-extended
 * fields). The table comes from arch/x86/tools/relocs and follows the image.
 */
static void handle_relocations(uint64_t out, uint64_t delta)
{
	const uint32_t *t = (const uint32_t *)(uintptr_t)(out + piggy_info.relocs_offset);
	uint64_t image = piggy_info.relocs_offset, n64 = t[0], n32 = t[1];

	if (8 + 4 * (n64 + n32) != piggy_info.output_len - piggy_info.relocs_offset)
		panic("the kernel's relocation table is corrupt");
	for (uint64_t i = 0; i < n64 + n32; i++) {
		uint64_t off = t[2 + i];
		if (off + (i < n64 ? 8 : 4) > image)
			panic("a relocation points outside the kernel image");
		if (i < n64)
			*(uint64_t *)(uintptr_t)(out + off) += delta;
		else
			*(uint32_t *)(uintptr_t)(out + off) += (uint32_t)delta;
	}
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
	uint64_t cr3 = read_cr3() & PTE_PFN_MASK, new_cr3; /* long mode: bits 51:12 */

	la57_switched = false;
	if (want == have)
		return;
	if (want) {
		memset(pgtable_l5, 0, 4096);
		pgtable_l5[0] = cr3 | 0x007;
		new_cr3 = (uint64_t)(uintptr_t)pgtable_l5;
	} else {
		new_cr3 = ((const uint64_t *)(uintptr_t)cr3)[0] & PTE_PFN_MASK;
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
	struct placement pl = { .navoid = 0 };
	uint64_t bp_pa = (uint64_t)(uintptr_t)bp, cl_pa = boot_cmdline_pa(bp);
	pl.avoid[pl.navoid++] = (struct kaslr_avoid){ run_base, run_end };
	pl.avoid[pl.navoid++] = (struct kaslr_avoid){ bp_pa, bp_pa + sizeof(*bp) };
	if (cl_pa)
		pl.avoid[pl.navoid++] = (struct kaslr_avoid){ cl_pa, cl_pa + strlen(cmdline) + 1 };

	bool kaslr = !cmdline_has_word(cmdline, "nokaslr");
	if (kaslr)
		bp_loadflags_set_kaslr(bp);
	struct kaslr_rng rng;
	kaslr_init(&rng, cmdline, bp);
	uint64_t out = choose_output(bp, cmdline, &pl, &rng, kaslr);

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

	/* The virtual address: __START_KERNEL_map + virt, virt = 16 MiB without KASLR. */
	uint64_t virt = LOAD_PHYSICAL_ADDR, vslots = 1;
	if (kaslr)
		virt = kaslr_find_virtual(&rng, piggy_info.kernel_mem, &vslots);
	handle_relocations(out, virt - LOAD_PHYSICAL_ADDR);
	if (kaslr)
		stage_printk("  KASLR virtual: 0x%016llx, one of %llu 2 MiB slots in the kernel image window (entropy: %s)\n",
			     (unsigned long long)(__START_KERNEL_map + virt), (unsigned long long)vslots, rng.source);
	else
		stage_printk("  KASLR: off (nokaslr)\n");

	stage_printk("  LZ4 payload: %llu bytes -> %llu bytes at 0x%llx, CRC32 %08lx ok\n",
		     (unsigned long long)piggy_info.input_len, (unsigned long long)out_len,
		     (unsigned long long)out, (unsigned long)crc);
	stage_printk("  kernel occupies [0x%llx-0x%llx) with .bss; entry startup_64 at 0x%llx\n",
		     (unsigned long long)out, (unsigned long long)(out + piggy_info.kernel_mem),
		     (unsigned long long)out);
	stage_printk("  kernel: physical 0x%llx, virtual 0x%016llx, phys_base will be 0x%llx\n",
		     (unsigned long long)out, (unsigned long long)(__START_KERNEL_map + virt),
		     (unsigned long long)(out - virt));
	return out;
}
