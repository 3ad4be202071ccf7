/*
 * sections.h: linker-script symbols of the kernel image (vmlinux.lds) and
 * the compile-time page tables of head_64.S.
 */
#ifndef ASM_SECTIONS_H
#define ASM_SECTIONS_H

#include <asm/bootparam.h>
#include <asm/page_64_types.h>
#include <stdint.h>

extern char _text[], _etext[], __end_rodata[], _sdata[], _edata[], __bss_start[], __bss_stop[], _end[];

extern uint64_t early_top_pgt[512];
extern uint64_t early_dynamic_pgts[EARLY_DYNAMIC_PAGE_TABLES][512];
extern uint64_t init_top_pgt[512];
extern uint64_t level4_kernel_pgt[512];
extern uint64_t level3_kernel_pgt[512];
extern uint64_t level2_kernel_pgt[512];
extern uint64_t level2_fixmap_pgt[512];

/* Set by head_64.S / head64.c (in .data, they survive clear_bss). */
extern uint64_t phys_base;
extern uint64_t early_load_delta;
extern uint64_t early_rip_before_jump, early_rip_after_jump;
extern struct boot_params boot_params;
extern char boot_command_line[COMMAND_LINE_SIZE];

void x86_64_start_kernel(void);
void start_kernel(void);

#endif /* ASM_SECTIONS_H */
