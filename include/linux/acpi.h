/*
 * acpi.h: access to the firmware's ACPI tables (drivers/acpi/tables.c).
 *
 * The tables are not in the direct map (E820 marks them reserved, and the
 * RSDP lives in the BIOS area, which is no RAM either): every access maps
 * them with ioremap_cache, as Linux's acpi_os_map_memory does. The root
 * table (RSDT or XSDT) stays mapped; acpi_get_table maps one table for its
 * caller, acpi_put_table gives the mapping back. One instance of a signature
 * at a time is enough for the MADT ("APIC") and its kin.
 */
#ifndef LINUX_ACPI_H
#define LINUX_ACPI_H

#include <paging/pgtable.h>
#include <stdbool.h>
#include <stdint.h>

/* The header every ACPI table starts with (ACPI 6.x, 5.2.6). */
struct __attribute__((packed)) acpi_table_header {
	char signature[4];
	uint32_t length;            /* of the whole table, header included */
	uint8_t revision;
	uint8_t checksum;           /* all bytes of the table sum to 0 */
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char asl_compiler_id[4];
	uint32_t asl_compiler_revision;
};

/* The Root System Description Pointer (5.2.5.3): 20 bytes in ACPI 1.0, 36 from 2.0. */
struct __attribute__((packed)) acpi_table_rsdp {
	char signature[8];          /* "RSD PTR " */
	uint8_t checksum;           /* of the first 20 bytes */
	char oem_id[6];
	uint8_t revision;           /* 0: ACPI 1.0 (RSDT only); 2: XSDT too */
	uint32_t rsdt_physical_address;
	uint32_t length;
	uint64_t xsdt_physical_address;
	uint8_t extended_checksum;  /* of all `length` bytes */
	uint8_t reserved[3];
};

/*
 * acpi_table_init - find the RSDP (boot_params.acpi_rsdp_addr, else the
 * first KiB of the EBDA, else the BIOS area 0xE0000-0xFFFFF), map the RSDT
 * or XSDT and keep it mapped, and print the [acpi] block with every table,
 * as Linux's boot log lists them. Runs after vmalloc_init.
 * returns: 0; -ENOENT when there is no valid RSDP or root table.
 */
int acpi_table_init(void);

/*
 * acpi_get_table - map the instance-th table (0 = the first) whose
 * signature is sig (4 characters, e.g. "APIC" for the MADT), all of its
 * length, and check its checksum.
 * returns: 0 and *out (release with acpi_put_table); -ENOENT (no ACPI, no
 *          such table, or a bad checksum); -ENOMEM (no room to map it).
 */
int acpi_get_table(const char *sig, unsigned int instance, struct acpi_table_header **out);
void acpi_put_table(struct acpi_table_header *table);

/* acpi_find_table - the physical address of that table, unmapped. returns: 0; -ENOENT; -ENOMEM. */
int acpi_find_table(const char *sig, unsigned int instance, phys_addr_t *pa);

/*
 * acpi_os_map_memory - firmware memory [pa, pa + len) for reading: the
 * direct map when it is RAM, else ioremap_cache. returns: NULL when there is
 * no room. acpi_os_unmap_memory gives an ioremap back.
 */
void *acpi_os_map_memory(phys_addr_t pa, uint64_t len);
void acpi_os_unmap_memory(const void *p);

/*
 * bios_area_scan - where the BIOS keeps its tables (the first KiB of the
 * EBDA, then 0xE0000-0xFFFFF), on 16-byte boundaries: the first block of
 * size bytes that valid() accepts (the RSDP; the MP floating pointer).
 * returns: its physical address, 0 if none.
 */
phys_addr_t bios_area_scan(bool (*valid)(const void *p), unsigned int size);

/* Where the RSDP and the root table are (0: not found), and the root table's mapping. */
extern phys_addr_t acpi_rsdp_pa, acpi_root_pa;
extern const struct acpi_table_header *acpi_root;

#endif /* LINUX_ACPI_H */
