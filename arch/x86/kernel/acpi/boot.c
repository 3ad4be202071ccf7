/*
 * boot.c: the CPUs from ACPI's MADT, or from Intel's MP table (Linux:
 * arch/x86/kernel/acpi/boot.c, arch/x86/kernel/mpparse.c).
 *
 * The tables are read through drivers/acpi/tables.c: the MADT with
 * acpi_get_table (ioremap_cache, given back with acpi_put_table), the MP
 * table's floating pointer found by bios_area_scan and its configuration
 * table mapped with acpi_os_map_memory, so that the kernel's tables are as
 * before once the CPUs are known.
 * Depends on: asm/acpi.h, linux/acpi.h.
 */
#include <asm/acpi.h>
#include <asm/console.h>
#include <linux/acpi.h>

struct __attribute__((packed)) acpi_table_madt {
	struct acpi_table_header header;
	uint32_t address;           /* the local APIC's physical address */
	uint32_t flags;
};

#define ACPI_MADT_TYPE_LOCAL_APIC   0
#define ACPI_MADT_TYPE_LOCAL_X2APIC 9
#define ACPI_MADT_ENABLED           1u

static bool checksum_ok(const void *p, uint64_t len)
{
	uint8_t sum = 0;
	for (uint64_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + ((const uint8_t *)p)[i]);
	return sum == 0;
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
	struct acpi_table_header *madt;
	phys_addr_t madt_pa;

	if (acpi_find_table("APIC", 0, &madt_pa) || acpi_get_table("APIC", 0, &madt))
		return -1;
	if (madt->length < sizeof(struct acpi_table_madt)) {
		acpi_put_table(madt);
		return -1;
	}
	*out = (struct fw_cpus){ .table_pa = madt_pa, .source = "ACPI MADT" };
	acpi_parse_madt((const struct acpi_table_madt *)madt, out);
	acpi_put_table(madt);
	return out->n ? 0 : -1;
}

/* Intel MP spec 1.4, 4.1: "_MP_" and the 16 bytes summing to 0. */
static bool mpf_valid(const void *p)
{
	return memcmp(p, "_MP_", 4) == 0 && checksum_ok(p, 16);
}

/* Intel MP spec 1.4: the floating pointer, the configuration table, its processor entries. */
int mpparse_find_cpus(struct fw_cpus *out)
{
	uint64_t mpf_pa = bios_area_scan(mpf_valid, 16);
	const uint8_t *mpf = mpf_pa ? acpi_os_map_memory(mpf_pa, 16) : 0;
	uint32_t cfg_pa = 0;

	if (!mpf)
		return -1;
	memcpy(&cfg_pa, mpf + 4, 4);
	acpi_os_unmap_memory(mpf);
	const uint8_t *hdr = cfg_pa ? acpi_os_map_memory(cfg_pa, 44) : 0;
	if (!hdr)
		return -1;
	uint16_t len = (uint16_t)(hdr[4] | hdr[5] << 8), count = (uint16_t)(hdr[34] | hdr[35] << 8);
	bool ok = memcmp(hdr, "PCMP", 4) == 0 && len >= 44;
	acpi_os_unmap_memory(hdr);
	const uint8_t *cfg = ok ? acpi_os_map_memory(cfg_pa, len) : 0;
	if (!cfg)
		return -1;
	if (!checksum_ok(cfg, len)) {
		acpi_os_unmap_memory(cfg);
		return -1;
	}
	*out = (struct fw_cpus){ .table_pa = cfg_pa, .source = "MP table" };
	memcpy(&out->lapic_pa, cfg + 36, 4);
	const uint8_t *p = cfg + 44, *end = cfg + len;
	for (unsigned int i = 0; i < count && p < end; i++) {
		if (p[0] == 0 && (p[3] & 1)) /* processor entry, enabled */
			add_cpu(out, p[1], (p[3] & 2) != 0);
		p += p[0] == 0 ? 20 : 8;
	}
	acpi_os_unmap_memory(cfg);
	return out->n ? 0 : -1;
}
