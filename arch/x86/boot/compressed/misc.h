/*
 * misc.h: what the decompressor's pieces share: the piggy (compressed kernel)
 * description written by mkpiggy, the report phases of the 32-bit blob, and
 * the kernel placement constants.
 * Safe to include from assembly (only the #defines are visible there).
 */
#ifndef COMPRESSED_MISC_H
#define COMPRESSED_MISC_H

#define LOAD_PHYSICAL_ADDR 0x1000000   /* default physical address of the kernel */
#define KERNEL_ALIGN       0x200000    /* CONFIG_PHYSICAL_ALIGN: 2 MiB */
#define BOOT_INIT_PGT_SIZE (6 * 4096)  /* seed 001: PML4 + PDPT + 4 PDs */
#define BOOT_STACK_SIZE    0x4000

/* What report32() is asked to print (startup_32). */
#define REPORT_PAGING_OFF   1 /* tables built, CR3/PAE/LME set, paging still off */
#define REPORT_COMPAT       2 /* CR0.PG set: IA-32e compatibility mode */
#define REPORT_NO_LONG_MODE 3 /* CPUID says no x86-64: print why and leave */

#ifndef __ASSEMBLER__
#include <asm/bootparam.h>
#include <stdint.h>

/* Written by mkpiggy next to the compressed kernel (piggy.S). */
struct piggy_info {
	uint64_t input_len;   /* bytes of the LZ4 legacy stream at input_data */
	uint64_t output_len;  /* bytes of vmlinux.bin it decompresses to */
	uint64_t kernel_mem;  /* bytes the kernel occupies in memory, .bss included */
	uint64_t crc32;       /* crc32_le of vmlinux.bin */
};

extern const struct piggy_info piggy_info;
extern const uint8_t input_data[];

void report32(struct boot_params *bp, const uint64_t *pgtable, int what);
uint64_t extract_kernel(struct boot_params *bp, uint64_t run_base);
#endif

#endif /* COMPRESSED_MISC_H */
