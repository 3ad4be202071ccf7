/*
 * acpi.h: what ptlab reads of the firmware's tables: the CPUs (Linux:
 * arch/x86/kernel/acpi/boot.c and mpparse.c; include/acpi/actbl*.h for the
 * layouts, ACPI 6.x 5.2).
 *
 * ACPI: the RSDP (found in the EBDA or in 0xe0000-0xfffff) points at the
 * RSDT (32-bit pointers) or XSDT (64-bit), which list the other tables; the
 * MADT ("APIC") lists one Processor Local APIC (or x2APIC) entry per CPU.
 * Without ACPI, Intel's MultiProcessor table (floating pointer "_MP_", then
 * the "PCMP" configuration table) lists the processors instead.
 * The tables are read through linux/acpi.h (drivers/acpi/tables.c).
 */
#ifndef ASM_ACPI_H
#define ASM_ACPI_H

#include <stdbool.h>
#include <stdint.h>

/* What the firmware says about one CPU. */
struct fw_cpu {
	uint32_t apicid;
	bool bsp;        /* the MP table marks the boot CPU; ACPI does not (the BSP reads its APIC ID) */
};

#define FW_MAX_CPUS 64

/* The CPUs the firmware lists, and where it said so. */
struct fw_cpus {
	unsigned int n;             /* entries found (enabled CPUs), up to FW_MAX_CPUS */
	struct fw_cpu cpu[FW_MAX_CPUS];
	uint64_t table_pa;          /* the MADT's (or the MP configuration table's) address */
	const char *source;         /* "ACPI MADT" or "MP table" */
	uint64_t lapic_pa;          /* the local APIC address the table gives */
};

/*
 * acpi_boot_init - read the MADT's enabled Processor Local APIC (and
 * x2APIC) entries into *out. returns: 0; -1 if there is no RSDP or no MADT
 * (or a checksum fails).
 */
int acpi_boot_init(struct fw_cpus *out);
/* The same from the MP table. returns: 0, or -1 if there is none. */
int mpparse_find_cpus(struct fw_cpus *out);

#endif /* ASM_ACPI_H */
