/*
 * boot.c: the CPUs from ACPI's MADT, or from Intel's MP table (Linux:
 * arch/x86/kernel/acpi/boot.c, drivers/acpi/tables.c, arch/x86/kernel/mpparse.c).
 *
 * Firmware memory is read through acpi_map_table(pa, len): the direct map
 * when every page of the range is RAM (memblock), else a temporary mapping
 * in a window of the kernel half built with lib/paging's pg_map and removed
 * again with pg_unmap (tables freed, flush_tlb_kernel_range on every CPU),
 * so that the kernel's tables are as before once the CPUs are known.
 * Depends on: asm/acpi.h, lib/paging, memblock.
 */
#include <asm/acpi.h>
#include <asm/console.h>
#include <asm/page.h>
#include <asm/pgtable.h>
#include <asm/sections.h>
#include <asm/tlbflush.h>
#include <linux/memblock.h>
#include <paging/pg_env.h>

/* The temporary window: the start of Linux's vmalloc area, unused by ptlab so far. */
#define ACPI_MAP_WINDOW     0xffffc90000000000ULL
#define ACPI_MAP_PAGES      64

struct __attribute__((packed)) acpi_table_rsdp {
	char signature[8];          /* "RSD PTR " */
	uint8_t checksum;           /* of the first 20 bytes */
	char oem_id[6];
	uint8_t revision;           /* 0: ACPI 1.0 (RSDT only); 2: the fields below */
	uint32_t rsdt_physical_address;
	uint32_t length;
	uint64_t xsdt_physical_address;
	uint8_t extended_checksum;
	uint8_t reserved[3];
};

struct __attribute__((packed)) acpi_table_header {
	char signature[4];
	uint32_t length;
	uint8_t revision, checksum;
	char oem_id[6], oem_table_id[8];
	uint32_t oem_revision;
	char asl_compiler_id[4];
	uint32_t asl_compiler_revision;
};

struct __attribute__((packed)) acpi_table_madt {
	struct acpi_table_header header;
	uint32_t address;           /* the local APIC's physical address */
	uint32_t flags;
};

#define ACPI_MADT_TYPE_LOCAL_APIC   0
#define ACPI_MADT_TYPE_LOCAL_X2APIC 9
#define ACPI_MADT_ENABLED           1u

static unsigned int window_used, window_users;

static bool range_is_ram(uint64_t first, uint64_t last)
{
	for (uint64_t pa = first; pa < last; pa += PAGE_SIZE)
		if (!memblock_is_memory(pa))
			return false;
	return true;
}

void *acpi_map_table(uint64_t pa, uint64_t len)
{
	uint64_t first = pa & PAGE_MASK, last = (pa + len + PAGE_SIZE - 1) & PAGE_MASK;
	unsigned int pages = (unsigned int)((last - first) >> PAGE_SHIFT);

	if (!len || last < first)
		return 0;
	if (range_is_ram(first, last))
		return __va(pa);
	if (pages > ACPI_MAP_PAGES - window_used)
		return 0;
	uint64_t va = ACPI_MAP_WINDOW + (uint64_t)window_used * PAGE_SIZE;
	int err = pg_map(&kernel_ctx, __pa_symbol(init_top_pgt), va, va + (uint64_t)pages * PAGE_SIZE, first,
			 __PAGE_KERNEL_RO, PG_MASK_4K, 0, 0);
	if (err) {
		printk("ptlab: acpi_map_table 0x%llx: %s\n", (unsigned long long)pa, pg_strerror(err));
		return 0;
	}
	window_used += pages;
	window_users++;
	return (void *)(uintptr_t)(va + (pa - first));
}

void acpi_unmap_table(void *p, uint64_t len)
{
	uint64_t va = (uint64_t)(uintptr_t)p, first = va & PAGE_MASK, last = (va + len + PAGE_SIZE - 1) & PAGE_MASK;
	struct pg_flush flush;

	if (va < ACPI_MAP_WINDOW || va >= ACPI_MAP_WINDOW + ACPI_MAP_PAGES * PAGE_SIZE)
		return; /* the direct map */
	pg_flush_init(&flush);
	int err = pg_unmap(&kernel_ctx, __pa_symbol(init_top_pgt), first, last, 0, &flush);
	if (err)
		panic("acpi_unmap_table: %s", pg_strerror(err));
	flush_tlb_kernel_range(first, last);
	if (--window_users == 0)
		window_used = 0;
}

static bool checksum_ok(const void *p, uint64_t len)
{
	uint8_t sum = 0;
	for (uint64_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + ((const uint8_t *)p)[i]);
	return sum == 0;
}

/* The first 16-byte aligned place in [pa, pa + len) where sig (of n bytes) starts a block whose first sumlen bytes sum to 0. */
static uint64_t scan_for(uint64_t pa, uint64_t len, const char *sig, unsigned int n, unsigned int sumlen)
{
	const uint8_t *p = acpi_map_table(pa, len);
	uint64_t found = 0;

	if (!p)
		return 0;
	for (uint64_t off = 0; off + sumlen <= len && !found; off += 16)
		if (memcmp(p + off, sig, n) == 0 && checksum_ok(p + off, sumlen))
			found = pa + off;
	acpi_unmap_table((void *)p, len);
	return found;
}

/* Where the BIOS keeps such tables: the first KiB of the EBDA, then 0xe0000-0xfffff. */
static uint64_t scan_bios_areas(const char *sig, unsigned int n, unsigned int sumlen)
{
	const uint16_t *ebda_seg = acpi_map_table(0x40e, 2);
	uint64_t ebda = ebda_seg ? (uint64_t)*ebda_seg << 4 : 0, found = 0;

	if (ebda_seg)
		acpi_unmap_table((void *)ebda_seg, 2);
	if (ebda >= 0x80000 && ebda < 0xa0000)
		found = scan_for(ebda, 1024, sig, n, sumlen);
	return found ? found : scan_for(0xe0000, 0x20000, sig, n, sumlen);
}

/* Map a whole table whose header is at pa, checking its checksum. returns: it, or NULL. */
static const struct acpi_table_header *map_whole_table(uint64_t pa)
{
	const struct acpi_table_header *h = acpi_map_table(pa, sizeof(*h));
	uint32_t len;

	if (!h)
		return 0;
	len = h->length;
	acpi_unmap_table((void *)h, sizeof(*h));
	if (len < sizeof(*h) || len > 0x100000)
		return 0;
	h = acpi_map_table(pa, len);
	if (h && !checksum_ok(h, len)) {
		acpi_unmap_table((void *)h, len);
		return 0;
	}
	return h;
}

/* The physical address of the table with signature sig, through the XSDT or RSDT. returns: it, or 0. */
static uint64_t acpi_find_table(const struct acpi_table_rsdp *rsdp, const char sig[4])
{
	bool x = rsdp->revision >= 2 && rsdp->xsdt_physical_address;
	const struct acpi_table_header *root = map_whole_table(x ? rsdp->xsdt_physical_address
								 : rsdp->rsdt_physical_address);
	unsigned int width = x ? 8 : 4;
	uint64_t found = 0;

	if (!root)
		return 0;
	for (uint32_t off = sizeof(*root); off + width <= root->length && !found; off += width) {
		uint64_t pa = 0;
		memcpy(&pa, (const uint8_t *)root + off, width);
		const struct acpi_table_header *h = acpi_map_table(pa, sizeof(*h));
		if (!h)
			continue;
		if (memcmp(h->signature, sig, 4) == 0)
			found = pa;
		acpi_unmap_table((void *)h, sizeof(*h));
	}
	acpi_unmap_table((void *)root, root->length);
	return found;
}

static void add_cpu(struct fw_cpus *out, uint32_t apicid, bool bsp)
{
	if (out->n < FW_MAX_CPUS)
		out->cpu[out->n] = (struct fw_cpu){ apicid, bsp };
	out->n++;
}

/* The enabled local APIC and x2APIC entries of the MADT. */
static void acpi_parse_madt(const struct acpi_table_madt *madt, struct fw_cpus *out)
{
	const uint8_t *p = (const uint8_t *)(madt + 1), *end = (const uint8_t *)madt + madt->header.length;

	out->lapic_pa = madt->address;
	while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
		uint32_t flags, id;
		if (p[0] == ACPI_MADT_TYPE_LOCAL_APIC && p[1] >= 8) {
			memcpy(&flags, p + 4, 4);
			if (flags & ACPI_MADT_ENABLED)
				add_cpu(out, p[3], false);
		} else if (p[0] == ACPI_MADT_TYPE_LOCAL_X2APIC && p[1] >= 16) {
			memcpy(&id, p + 4, 4);
			memcpy(&flags, p + 8, 4);
			if (flags & ACPI_MADT_ENABLED)
				add_cpu(out, id, false);
		}
		p += p[1];
	}
}

int acpi_boot_init(struct fw_cpus *out)
{
	uint64_t rsdp_pa = scan_bios_areas("RSD PTR ", 8, 20);
	const struct acpi_table_rsdp *rsdp;
	uint64_t madt_pa;

	if (!rsdp_pa || !(rsdp = acpi_map_table(rsdp_pa, sizeof(*rsdp))))
		return -1;
	madt_pa = acpi_find_table(rsdp, "APIC");
	acpi_unmap_table((void *)rsdp, sizeof(*rsdp));
	const struct acpi_table_header *madt = madt_pa ? map_whole_table(madt_pa) : 0;
	if (!madt)
		return -1;
	*out = (struct fw_cpus){ .table_pa = madt_pa, .source = "ACPI MADT" };
	acpi_parse_madt((const struct acpi_table_madt *)madt, out);
	acpi_unmap_table((void *)madt, madt->length);
	return out->n ? 0 : -1;
}

/* Intel MP spec 1.4: the floating pointer, the configuration table, its processor entries. */
int mpparse_find_cpus(struct fw_cpus *out)
{
	uint64_t mpf_pa = scan_bios_areas("_MP_", 4, 16);
	const uint8_t *mpf = mpf_pa ? acpi_map_table(mpf_pa, 16) : 0;
	uint32_t cfg_pa = 0;

	if (!mpf)
		return -1;
	memcpy(&cfg_pa, mpf + 4, 4);
	acpi_unmap_table((void *)mpf, 16);
	const uint8_t *hdr = cfg_pa ? acpi_map_table(cfg_pa, 44) : 0;
	if (!hdr)
		return -1;
	uint16_t len = (uint16_t)(hdr[4] | hdr[5] << 8), count = (uint16_t)(hdr[34] | hdr[35] << 8);
	bool ok = memcmp(hdr, "PCMP", 4) == 0 && len >= 44;
	acpi_unmap_table((void *)hdr, 44);
	const uint8_t *cfg = ok ? acpi_map_table(cfg_pa, len) : 0;
	if (!cfg || !checksum_ok(cfg, len))
		return -1;
	*out = (struct fw_cpus){ .table_pa = cfg_pa, .source = "MP table" };
	memcpy(&out->lapic_pa, cfg + 36, 4);
	const uint8_t *p = cfg + 44, *end = cfg + len;
	for (unsigned int i = 0; i < count && p < end; i++) {
		if (p[0] == 0 && (p[3] & 1)) /* processor entry, enabled */
			add_cpu(out, p[1], (p[3] & 2) != 0);
		p += p[0] == 0 ? 20 : 8;
	}
	acpi_unmap_table((void *)cfg, len);
	return out->n ? 0 : -1;
}
