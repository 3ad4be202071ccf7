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
#define REPORT_WANT_LA57    4 /* returns 1 if startup_32 should enable 5-level paging */

#ifndef __ASSEMBLER__
#include <asm/bootparam.h>
#include <stdbool.h>
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

int report32(struct boot_params *bp, const uint64_t *pgtable, int what);
uint64_t extract_kernel(struct boot_params *bp, uint64_t run_base);
void configure_5level_paging(struct boot_params *bp);
void la57_toggle(uint64_t new_cr3);
extern uint64_t pgtable[], pgtable_l5[];

/* Whether 5-level paging is wanted: CPUID.(EAX=7,ECX=0):ECX[16] and no `no5lvl`. */
bool la57_wanted(const char *cmdline);
#endif

#endif /* COMPRESSED_MISC_H */
