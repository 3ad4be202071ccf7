/*
 * tables.c: the ACPI tables, through ioremap_cache (see linux/acpi.h;
 * Linux's drivers/acpi/tables.c, osl.c and acpica/tbxfroot.c).
 */
#include <asm/console.h>
#include <asm/io.h>
#include <asm/page.h>
#include <asm/sections.h>
#include <linux/acpi.h>
#include <linux/memblock.h>
#include <linux/vmalloc.h>
#include <uapi/ptlab_unistd.h>

#define ACPI_HDR_SIZE sizeof(struct acpi_table_header)

phys_addr_t acpi_rsdp_pa, acpi_root_pa;
const struct acpi_table_header *acpi_root;
static unsigned int root_entry_size; /* 4 (RSDT) or 8 (XSDT) */

/*
 * Linux's acpi_os_map_memory: RAM is in the direct map already; anything
 * else (reserved ranges, the BIOS area) goes through ioremap_cache.
 */
void *acpi_os_map_memory(phys_addr_t pa, uint64_t len)
{
	if (memblock_is_memory(pa) && memblock_is_memory(pa + len - 1))
		return __va(pa);
	return ioremap_cache(pa, len);
}

void acpi_os_unmap_memory(const void *p)
{
	if (is_vmalloc_addr(p))
		iounmap((void *)p);
}

static uint8_t checksum(const void *p, uint64_t len)
{
	uint8_t sum = 0;
	for (uint64_t i = 0; i < len; i++)
		sum += ((const uint8_t *)p)[i];
	return sum;
}

/* A valid RSDP at p: signature and checksum (and the extended one from revision 2). */
static bool rsdp_valid(const void *area)
{
	const struct acpi_table_rsdp *p = area;
	if (memcmp(p->signature, "RSD PTR ", 8) || checksum(p, 20))
		return false;
	return p->revision < 2 || (p->length >= sizeof(*p) && p->length < 4096 && !checksum(p, p->length));
}

/* Scan [pa, pa + len) on 16-byte boundaries for a block of size bytes that valid() accepts. returns: its address, 0. */
static phys_addr_t scan_area(phys_addr_t pa, uint64_t len, bool (*valid)(const void *p), unsigned int size)
{
	const uint8_t *area = acpi_os_map_memory(pa, len);
	phys_addr_t found = 0;

	if (!area)
		return 0;
	for (uint64_t off = 0; off + size <= len && !found; off += 16)
		if (valid(area + off))
			found = pa + off;
	acpi_os_unmap_memory(area);
	return found;
}

phys_addr_t bios_area_scan(bool (*valid)(const void *p), unsigned int size)
{
	const uint16_t *ebda_seg = acpi_os_map_memory(0x40e, 2); /* the BDA's pointer to the EBDA */
	phys_addr_t ebda = ebda_seg ? (phys_addr_t)*ebda_seg << 4 : 0, found = 0;
	if (ebda_seg)
		acpi_os_unmap_memory(ebda_seg);
	if (ebda >= 0x80000 && ebda < 0xa0000)
		found = scan_area(ebda, 1024, valid, size);
	return found ? found : scan_area(0xe0000, 0x20000, valid, size);
}

/* Linux's acpi_find_root_pointer: the boot loader's word, else the BIOS areas. */
static phys_addr_t acpi_find_root_pointer(void)
{
	if (boot_params.acpi_rsdp_addr)
		return boot_params.acpi_rsdp_addr;
	return bios_area_scan(rsdp_valid, sizeof(struct acpi_table_rsdp));
}

/* Map a whole table at pa (its header first, for the length). returns: the mapping, or NULL. */
static struct acpi_table_header *map_table(phys_addr_t pa)
{
	struct acpi_table_header *h = acpi_os_map_memory(pa, ACPI_HDR_SIZE);
	if (!h)
		return 0;
	uint32_t len = h->length;
	acpi_os_unmap_memory(h);
	if (len < ACPI_HDR_SIZE || len > (1u << 24))
		return 0;
	return acpi_os_map_memory(pa, len);
}

static phys_addr_t root_entry(unsigned int i)
{
	const uint8_t *e = (const uint8_t *)(acpi_root + 1) + i * root_entry_size;
	return root_entry_size == 8 ? *(const uint64_t *)e : *(const uint32_t *)e;
}

static unsigned int root_entries(void)
{
	return acpi_root ? (acpi_root->length - ACPI_HDR_SIZE) / root_entry_size : 0;
}

/* One line as Linux's boot log prints a table. */
static void print_table(const struct acpi_table_header *h, phys_addr_t pa)
{
	stage_printk("  ACPI: %.4s 0x%016llX %06X (v%02d %.6s %.8s %08X %.4s %08X)\n", h->signature,
		     (unsigned long long)pa, h->length, h->revision, h->oem_id, h->oem_table_id, h->oem_revision,
		     h->asl_compiler_id, h->asl_compiler_revision);
}

int acpi_find_table(const char *sig, unsigned int instance, phys_addr_t *pa)
{
	for (unsigned int i = 0; i < root_entries(); i++) {
		struct acpi_table_header *h = acpi_os_map_memory(root_entry(i), ACPI_HDR_SIZE);
		if (!h)
			return -ENOMEM;
		bool match = !memcmp(h->signature, sig, 4);
		acpi_os_unmap_memory(h);
		if (match && instance-- == 0) {
			*pa = root_entry(i);
			return 0;
		}
	}
	return -ENOENT;
}

int acpi_get_table(const char *sig, unsigned int instance, struct acpi_table_header **out)
{
	phys_addr_t pa;
	int err = acpi_find_table(sig, instance, &pa);
	if (err)
		return err;
	struct acpi_table_header *h = map_table(pa);
	if (!h)
		return -ENOMEM;
	if (checksum(h, h->length)) {
		acpi_os_unmap_memory(h);
		return -ENOENT;
	}
	*out = h;
	return 0;
}

void acpi_put_table(struct acpi_table_header *table)
{
	acpi_os_unmap_memory(table);
}

/* Map the RSDT, or the XSDT when the RSDP has one, and keep it mapped. returns: 0, -ENOENT. */
static int map_root_table(const struct acpi_table_rsdp *rsdp)
{
	bool xsdt = rsdp->revision >= 2 && rsdp->xsdt_physical_address;
	struct acpi_table_header *root;

	acpi_root_pa = xsdt ? rsdp->xsdt_physical_address : rsdp->rsdt_physical_address;
	root = map_table(acpi_root_pa);
	if (!root || memcmp(root->signature, xsdt ? "XSDT" : "RSDT", 4) || checksum(root, root->length)) {
		if (root)
			acpi_os_unmap_memory(root);
		return -ENOENT;
	}
	root_entry_size = xsdt ? 8 : 4;
	acpi_root = root;
	return 0;
}

int acpi_table_init(void)
{
	stage_begin("acpi", "the ACPI tables, mapped with ioremap_cache");
	acpi_rsdp_pa = acpi_find_root_pointer();
	const struct acpi_table_rsdp *rsdp = acpi_rsdp_pa ? acpi_os_map_memory(acpi_rsdp_pa, sizeof(*rsdp)) : 0;
	if (!rsdp) {
		stage_printk("  no RSDP: no ACPI tables\n");
		return -ENOENT;
	}
	stage_printk("  ACPI: RSDP 0x%016llX %06X (v%02d %.6s)\n", (unsigned long long)acpi_rsdp_pa,
		     rsdp->revision >= 2 ? rsdp->length : 20, rsdp->revision, rsdp->oem_id);
	int err = map_root_table(rsdp);
	acpi_os_unmap_memory(rsdp);
	if (err) {
		stage_printk("  the root table at 0x%llx is not valid\n", (unsigned long long)acpi_root_pa);
		return err;
	}
	print_table(acpi_root, acpi_root_pa);
	for (unsigned int i = 0; i < root_entries(); i++) {
		struct acpi_table_header *h = acpi_os_map_memory(root_entry(i), ACPI_HDR_SIZE);
		if (h) {
			print_table(h, root_entry(i));
			acpi_os_unmap_memory(h);
		}
	}
	stage_printk("  %.4s mapped at 0x%016llx (%s), kept\n", acpi_root->signature,
		     (unsigned long long)(uintptr_t)acpi_root,
		     is_vmalloc_addr(acpi_root) ? "ioremap_cache, WB" : "in the direct map");
	return 0;
}
