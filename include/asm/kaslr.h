/*
 * kaslr.h: KASLR's entropy, shared by the decompressor (where the kernel
 * goes) and the kernel (where its memory regions go), as Linux's
 * arch/x86/lib/kaslr.c; and the kernel's memory-region randomisation
 * (arch/x86/mm/kaslr.c).
 */
#ifndef ASM_KASLR_H
#define ASM_KASLR_H

#include <asm/bootparam.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * struct kaslr_rng - one source of random numbers: seeded by `kaslr_seed=N`
 * (reproducible), else mixed from boot_params and, at every draw, RDRAND and
 * RDTSC (or RDTSC and the i8254 without RDRAND).
 */
struct kaslr_rng {
	bool seeded, rdrand;
	uint64_t state;
	const char *source; /* "kaslr_seed", "RDRAND and RDTSC", "RDTSC and the i8254" */
};

/* Prepare rng from the command line and boot_params; panics on a malformed kaslr_seed=. */
void kaslr_init(struct kaslr_rng *rng, const char *cmdline, const struct boot_params *bp);
/* The next 64 random bits. */
uint64_t kaslr_get_random_long(struct kaslr_rng *rng);

#ifdef KERNEL
#include <paging/linux_kaslr.h>

/* Whether the decompressor randomised the kernel (boot_params' KASLR_FLAG): memory KASLR follows it. */
bool kaslr_memory_enabled(void);
/*
 * kernel_randomize_memory - choose page_offset_base, vmalloc_base and
 * vmemmap_base (Linux's order, sizes and entropy; lib/paging's
 * pg_linux_kaslr_layout), or Linux's fixed bases with `nokaslr` or
 * `layout=4.7`. Needs max_pfn; runs before init_mem_mapping.
 */
void kernel_randomize_memory(void);
/* The computation behind the bases (sizes, entropy, offsets). */
extern struct pg_linux_kaslr kaslr_regions;
/* Why the bases are what they are: "KASLR (...)", "off (nokaslr)", "off (layout=4.7)". */
extern const char *kaslr_regions_source;
/*
 * memory_region_extent - [*start, *end) of region r as placed: its base and
 * its size (the randomised size, or Linux's fixed room without KASLR).
 */
void memory_region_extent(enum pg_linux_region r, uint64_t *start, uint64_t *end);
/* Print the bases into the init_mem_mapping block: `page_offset_base = 0x...` etc., one a line. */
void kernel_randomize_memory_report(void);
#endif

#endif /* ASM_KASLR_H */
