/*
 * misc.h: what the decompressor's pieces share: the piggy (compressed kernel)
 * description written by mkpiggy, the report phases of the 32-bit blob, and
 * (from asm/boot.h and asm/page_64_types.h) the kernel placement constants
 * and the layout of the boot page tables.
 * Safe to include from assembly (only the #defines are visible there).
 */
#ifndef COMPRESSED_MISC_H
#define COMPRESSED_MISC_H

#include <asm/boot.h>
#include <asm/page_64_types.h>

/* What report32() is asked to print (startup_32). */
#define REPORT_PAGING_OFF   1 /* tables built, CR3/PAE/LME set, paging still off */
#define REPORT_COMPAT       2 /* CR0.PG set: IA-32e compatibility mode */
#define REPORT_NO_LONG_MODE 3 /* CPUID says no x86-64: print why and leave */
#define REPORT_WANT_LA57    4 /* returns 1 if startup_32 should enable 5-level paging */

#ifndef __ASSEMBLER__
#include <asm/bootparam.h>
#include <asm/kaslr.h>
#include <stdbool.h>
#include <stdint.h>

/* Written by mkpiggy next to the compressed kernel (piggy.S). */
struct piggy_info {
	uint64_t input_len;   /* bytes of the LZ4 legacy stream at input_data */
	uint64_t output_len;  /* bytes of vmlinux.bin it decompresses to */
	uint64_t kernel_mem;  /* bytes the kernel occupies in memory, .bss included */
	uint64_t crc32;       /* crc32_le of the decompressed output */
	uint64_t relocs_offset; /* where the relocation table (arch/x86/tools/relocs) starts */
};

/* KASLR (kaslr.c; the random numbers: asm/kaslr.h). */
struct kaslr_avoid {
	uint64_t start, end;
};
/* A random 2 MiB slot of E820 RAM in [16 MiB, 4 GiB) for size bytes clear of
 * avoid[]; *slots receives how many there were. returns: 0 if none. */
uint64_t kaslr_find_physical(const struct boot_params *bp, struct kaslr_rng *rng, uint64_t size,
			     const struct kaslr_avoid *avoid, unsigned int navoid, uint64_t *slots);
/* A random 2 MiB-aligned offset in [16 MiB, 512 MiB - size) of the kernel image window. */
uint64_t kaslr_find_virtual(struct kaslr_rng *rng, uint64_t size, uint64_t *slots);

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
