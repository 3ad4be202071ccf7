/*
 * realmode.h: the real-mode trampoline the APs start in (Linux:
 * arch/x86/include/asm/realmode.h, arch/x86/realmode/init.c,
 * arch/x86/realmode/rm/trampoline_64.S; docs/smp.md).
 *
 * The blob (real_mode_blob .. real_mode_blob_end, in the kernel's .rodata) is
 * copied below 1 MiB, page aligned, by setup_real_mode:
 *   page 0  trampoline_start (16-bit: the SIPI vector points here), startup_32,
 *           startup_64, the trampoline's GDT: text and read-only data
 *   page 1  real_mode_header, trampoline_header, the real-mode stack
 *   page 2  trampoline_pgd: the top-level table an AP turns paging on with
 * The header fields hold offsets in the blob; setup_real_mode adds the
 * blob's physical address to each 32-bit field listed in real_mode_relocs
 * (as Linux relocates its blob). Assembly includes this file for the
 * offsets and flags only.
 */
#ifndef ASM_REALMODE_H
#define ASM_REALMODE_H

/* trampoline_header.flags */
#define TH_FLAGS_HALT     0x2  /* test only (trampoline_halt=N): stop in startup_64, on trampoline_pgd */

/* The CR0 an AP turns paging on with (Linux's CR0_STATE): PE MP ET NE WP AM PG. */
#define CR0_STATE         0x80050033

#ifndef __ASSEMBLER__
#include <stdint.h>

/* Where things are in the copy (physical addresses once relocated). */
struct real_mode_header {
	uint32_t text_start;         /* the first byte of code */
	uint32_t ro_end;             /* the end of code and read-only data */
	uint32_t trampoline_start;   /* the AP's first instruction: SIPI vector = this >> 12 */
	uint32_t trampoline_header;
	uint32_t trampoline_pgd;
};

/* What the BSP tells an AP (filled by setup_real_mode and before each AP). */
struct trampoline_header {
	uint64_t start;              /* where startup_64 jumps: secondary_startup_64 */
	uint64_t efer;               /* EFER for the AP (the BSP's, without LMA) */
	uint32_t cr4;                /* CR4 for the AP (the BSP's, without PCIDE) */
	uint32_t flags;              /* TH_FLAGS_* */
	uint32_t lock;               /* one AP at a time on the trampoline's stack */
};

extern struct real_mode_header *real_mode_header;
/* The trampoline's lock, which secondary_startup_64 releases once on its own stack. */
extern uint32_t *trampoline_lock;
/* Its physical address (page aligned, below 1 MiB), 0 if none. */
extern uint64_t real_mode_base;

/*
 * reserve_real_mode - take the trampoline's pages from memblock below 1 MiB
 * (before the whole low MiB is reserved). Called in the [memblock] stage.
 */
void reserve_real_mode(void);
/*
 * init_real_mode - copy and relocate the blob, fill trampoline_header, build
 * trampoline_pgd (init_trampoline's identity entry plus init_top_pgt's
 * kernel entries, with lib/paging) and give the pages their rights in the
 * direct map (set_real_mode_permissions). returns: 0, or -1 (no trampoline).
 */
int init_real_mode(void);
/* The trampoline's header (through the direct map). */
struct trampoline_header *trampoline_header_va(void);
/* Print trampoline_pgd: its entries and what its identity part maps below 1 MiB. */
void report_trampoline_pgd(void);

/* The blob and its relocations (arch/x86/realmode/rm/trampoline_64.S). */
extern const char real_mode_blob[], real_mode_blob_end[], rm_header[];
extern const uint32_t real_mode_relocs[];
/* head_64.S: where an AP enters the kernel; what it saw. */
void secondary_startup_64(void);
extern uint64_t smpboot_cr3_trampoline, smpboot_cr3_swapper;
extern uint64_t initial_stack, initial_gs;
#endif

#endif /* ASM_REALMODE_H */
