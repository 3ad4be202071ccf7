/*
 * boot.h: where the decompressor puts the kernel, and the page tables it
 * builds (docs/linux.md, "The decompressor"), described once for startup_32
 * (arch/x86/boot/compressed/head_64.S), its report (report32.c), setup_arch
 * (which keeps the pages) and the shell's `stages`.
 *
 * pgtable, BOOT_INIT_PGT_SIZE bytes of the decompressor's .bss, identity-maps
 * [0, 4 GiB) with 2 MiB pages:
 *
 *   page BOOT_PGT_PML4      the PML4: [0] -> the PDPT
 *   page BOOT_PGT_PDPT      the PDPT: [0..3] -> the four PDs
 *   pages BOOT_PGT_PD..+3   four PDs, BOOT_PGT_PD_ENTRIES entries in a row:
 *                           entry i maps [i * 2 MiB, (i + 1) * 2 MiB)
 *
 * Table entries carry BOOT_PGT_TABLE_FLAGS, the 2 MiB leaves
 * BOOT_PGT_LEAF_FLAGS. With 5-level paging one more page, pgtable_l5, is the
 * top table: its [0] -> pgtable.
 * Safe to include from assembly (only the #defines are visible there).
 */
#ifndef ASM_BOOT_H
#define ASM_BOOT_H

#define LOAD_PHYSICAL_ADDR 0x1000000 /* the kernel's default physical address */
#define KERNEL_ALIGN       0x200000  /* its physical alignment (CONFIG_PHYSICAL_ALIGN): 2 MiB */
#define BOOT_STACK_SIZE    0x4000    /* the decompressor's stack */

#define BOOT_PGT_PML4        0      /* page index in pgtable */
#define BOOT_PGT_PDPT        1
#define BOOT_PGT_PD          2      /* the first of BOOT_PGT_NR_PD */
#define BOOT_PGT_NR_PD       4      /* 4 x 1 GiB */
#define BOOT_INIT_PGT_PAGES  (BOOT_PGT_PD + BOOT_PGT_NR_PD)
#define BOOT_INIT_PGT_SIZE   (BOOT_INIT_PGT_PAGES * 4096)
#define BOOT_PGT_PD_ENTRIES  (BOOT_PGT_NR_PD * 512)
#define BOOT_PGT_TABLE_FLAGS 0x007  /* P RW US */
#define BOOT_PGT_LEAF_FLAGS  0x183  /* P RW PS G */

#ifndef __ASSEMBLER__
#include <stdint.h>

/* The table at page `page` (BOOT_PGT_*) of pgtable. */
static inline const uint64_t *boot_pgt_page(const uint64_t *pgtable, unsigned int page)
{
	return pgtable + page * 512;
}

/*
 * Print the boot tables' telling entries through pr (printk or
 * stage_printk): PML5[0] when pml5 is not NULL, then PML4[0], PDPT[0..3],
 * the first two PD entries and the last.
 */
static inline void boot_pgt_print(int (*pr)(const char *fmt, ...), const uint64_t *pml5,
				  const uint64_t *pgtable)
{
	const uint64_t *pdpt = boot_pgt_page(pgtable, BOOT_PGT_PDPT), *pd = boot_pgt_page(pgtable, BOOT_PGT_PD);

	if (pml5)
		pr("  PML5[0]    = 0x%016llx\n", (unsigned long long)pml5[0]);
	pr("  PML4[0]    = 0x%016llx\n", (unsigned long long)boot_pgt_page(pgtable, BOOT_PGT_PML4)[0]);
	for (int i = 0; i < BOOT_PGT_NR_PD; i++)
		pr("  PDPT[%d]    = 0x%016llx\n", i, (unsigned long long)pdpt[i]);
	pr("  PD[0]      = 0x%016llx\n", (unsigned long long)pd[0]);
	pr("  PD[1]      = 0x%016llx\n", (unsigned long long)pd[1]);
	pr("  PD[%d]   = 0x%016llx\n", BOOT_PGT_PD_ENTRIES - 1, (unsigned long long)pd[BOOT_PGT_PD_ENTRIES - 1]);
}
#endif

#endif /* ASM_BOOT_H */
