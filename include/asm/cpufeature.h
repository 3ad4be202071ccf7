/*
 * cpufeature.h: what CPUID says about paging, read once at boot.
 */
#ifndef ASM_CPUFEATURE_H
#define ASM_CPUFEATURE_H

#include <stdbool.h>
#include <stdint.h>

struct cpuinfo_x86 {
	char vendor[13];
	uint32_t max_leaf, max_ext_leaf;
	unsigned int phys_bits, virt_bits; /* MAXPHYADDR, linear-address width */
	bool pse, pae, pge, pat, pse36, pcid, invpcid, smep, smap, pku, la57, nx, gbpages, lm;
};

extern struct cpuinfo_x86 boot_cpu_data;

/* Read CPUID into boot_cpu_data and enable EFER.NXE (when NX exists) and EFER.SCE. */
void early_cpu_init(void);

#endif /* ASM_CPUFEATURE_H */
