/*
 * setup.h: setup_arch and what the kernel head recorded for it.
 */
#ifndef ASM_SETUP_H
#define ASM_SETUP_H

#include <stdint.h>

/* CR3 at kernel entry: the decompressor's 4 GiB identity map (kept for `ptdump boot`). */
extern uint64_t boot_pgtable_pa;
/*
 * The decompressor's pgtable (its layout: asm/boot.h) below boot_pgtable_pa:
 * the same page, or with 5-level paging the one PML5[0] points at.
 * returns: its physical address, or 0 if none was recorded.
 */
uint64_t boot_init_pgt_pa(void);
/* Where the boot loader's boot_params were (the kernel works on a copy). */
extern uint64_t boot_params_pa;

void setup_arch(void);

#endif /* ASM_SETUP_H */
