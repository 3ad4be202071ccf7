/*
 * kaslr.c: kernel_randomize_memory, Linux's CONFIG_RANDOMIZE_MEMORY
 * (arch/x86/mm/kaslr.c; docs/memlayout.md, "The randomised layout").
 *
 * The kernel side only: the random numbers (arch/x86/lib/kaslr.c, the same
 * source as the decompressor's, so `kaslr_seed=N` reproduces the layout too)
 * and writing page_offset_base, vmalloc_base and vmemmap_base. The sizes,
 * the entropy and the 1 GiB-aligned bases are lib/paging's
 * pg_linux_kaslr_layout. ptlab has no memory hotplug and no ZONE_DEVICE,
 * so it takes Linux's defaults for that configuration: no physical padding
 * (CONFIG_RANDOMIZE_MEMORY_PHYSICAL_PADDING is 0x0 without MEMORY_HOTPLUG)
 * and a direct map sized to the RAM.
 * With `nokaslr` (the decompressor then leaves KASLR_FLAG clear) the bases
 * are Linux 6.x's fixed ones; `layout=4.7` keeps Linux 4.7's, which had no
 * memory randomisation.
 */
#include <asm/console.h>
#include <asm/kaslr.h>
#include <asm/pgtable.h>
#include <asm/pgtable_64_types.h>
#include <asm/sections.h>
#include <lib/cmdline.h>
#include <lib/vsprintf.h>
#include <linux/mm.h>

uint64_t vmalloc_base = 0xffffc90000000000ULL;
uint64_t vmemmap_base = 0xffffea0000000000ULL;
struct pg_linux_kaslr kaslr_regions;
const char *kaslr_regions_source = "not yet chosen";
static char source_buf[48];

/* Linux's fixed layout (mm.rst): the direct map's and the vmemmap's room, in TiB. */
#define FIXED_DIRECT_MAP_TB(l5) ((l5) ? 32768ULL : 64ULL)
#define FIXED_VMEMMAP_TB(l5)    ((l5) ? 512ULL : 1ULL)

bool kaslr_memory_enabled(void)
{
	return (boot_params.hdr.loadflags & KASLR_FLAG) != 0;
}

/* Linux's bases without randomisation (page_offset_base stays: 6.x's, or 4.7's). */
static void fixed_bases(void)
{
	struct pg_linux_layout def;

	pg_linux_layout_default(kernel_ctx.levels, &def);
	vmalloc_base = def.vmalloc_base;
	vmemmap_base = def.vmemmap_base;
	kaslr_regions.size_tb[PG_LINUX_DIRECT_MAP] = FIXED_DIRECT_MAP_TB(pgtable_l5_enabled);
	kaslr_regions.size_tb[PG_LINUX_VMEMMAP] = FIXED_VMEMMAP_TB(pgtable_l5_enabled);
	for (int i = 0; i < PG_LINUX_NREGIONS; i++)
		kaslr_regions.offset[i] = 0;
	kaslr_regions.entropy = 0;
	kaslr_regions.layout.page_offset_base = page_offset_base;
	kaslr_regions.layout.vmalloc_base = vmalloc_base;
	kaslr_regions.layout.vmemmap_base = vmemmap_base;
	kaslr_regions_source = page_offset_base == PAGE_OFFSET_L4_OLD ? "off (layout=4.7)" : "off (nokaslr)";
}

void kernel_randomize_memory(void)
{
	struct pg_linux_kaslr_config cfg = {
		.levels = kernel_ctx.levels,
		.max_pfn = max_pfn,
		.padding_tb = 0,        /* no MEMORY_HOTPLUG: Linux's default padding is 0 */
		.zone_device = false,   /* no ZONE_DEVICE: the direct map shrinks to the RAM */
		.struct_page_size = sizeof(struct page),
	};
	bool random = kaslr_memory_enabled() && page_offset_base != PAGE_OFFSET_L4_OLD;
	uint64_t rand[PG_LINUX_NREGIONS];
	struct kaslr_rng rng;

	if (random) {
		kaslr_init(&rng, boot_command_line, &boot_params);
		for (int i = 0; i < PG_LINUX_NREGIONS; i++)
			rand[i] = kaslr_get_random_long(&rng);
	}
	int err = pg_linux_kaslr_layout(&cfg, random ? rand : 0, &kaslr_regions);
	if (err)
		panic("kernel_randomize_memory: %s (max_pfn 0x%llx)", pg_strerror(err), (unsigned long long)max_pfn);
	if (!random) {
		fixed_bases();
		return;
	}
	page_offset_base = kaslr_regions.layout.page_offset_base;
	vmalloc_base = kaslr_regions.layout.vmalloc_base;
	vmemmap_base = kaslr_regions.layout.vmemmap_base;
	ksnprintf(source_buf, sizeof(source_buf), "KASLR (entropy: %s)", rng.source);
	kaslr_regions_source = source_buf;
}

void memory_region_extent(enum pg_linux_region r, uint64_t *start, uint64_t *end)
{
	const virt_addr_t base[PG_LINUX_NREGIONS] = { page_offset_base, vmalloc_base, vmemmap_base };

	*start = base[r];
	*end = base[r] + pg_linux_region_size(&kaslr_regions, r);
}

/* The init_mem_mapping block's lines: one base a line with its top-level slot. */
void kernel_randomize_memory_report(void)
{
	static const char *const names[PG_LINUX_NREGIONS] = { "page_offset_base", "vmalloc_base", "vmemmap_base" };
	unsigned int levels = kernel_ctx.levels;

	stage_printk("  kernel_randomize_memory: %s; direct map %llu TiB, vmalloc %llu TiB, vmemmap %llu TiB, "
		     "entropy 0x%llx\n", kaslr_regions_source,
		     (unsigned long long)kaslr_regions.size_tb[PG_LINUX_DIRECT_MAP],
		     (unsigned long long)kaslr_regions.size_tb[PG_LINUX_VMALLOC],
		     (unsigned long long)kaslr_regions.size_tb[PG_LINUX_VMEMMAP],
		     (unsigned long long)kaslr_regions.entropy);
	for (int r = 0; r < PG_LINUX_NREGIONS; r++) {
		uint64_t start, end;
		memory_region_extent((enum pg_linux_region)r, &start, &end);
		stage_printk("  %s = 0x%016llx (pgd index %d)\n", names[r], (unsigned long long)start,
			     pg_va_index(levels, (int)levels, start));
	}
}
