/*
 * linux_layout.h: naming a Linux x86-64 guest's memory regions from its page
 * tables alone (no symbols, no vmcoreinfo).
 *
 * Linux moves the direct map, the vmalloc area and the vmemmap by random
 * 1 GiB steps at boot (kernel_randomize_memory) and the kernel image by
 * random 2 MiB steps (KASLR); everything else sits at fixed addresses of the
 * paging mode. pg_linux_layout_infer reads one tree and finds, each with the
 * evidence used or the reason it cannot:
 *   page_offset_base   the direct map: the 1 GiB-aligned VA - PA constant
 *                      that maps most of the RAM (and at least half of it)
 *   vmalloc_base       the first page table after the direct map (vmalloc
 *                      hands out its lowest addresses first), checked against
 *                      the top-level entries Linux preallocates for the area
 *   vmemmap_base       the first page table after the vmalloc area (the
 *                      struct page of pfn 0 is at vmemmap_base)
 *   kernel_text_start  the lowest mapping of the kernel image window,
 *   phys_base,         executable; phys_base and the KASLR offset follow
 *   kaslr_offset       from its VA and PA
 *   modules_vaddr      where module mappings say the module area starts
 * and the regions (named as Linux's ptdump markers name them): LDT remap,
 * Low Kernel Mapping, vmalloc() Area, Vmemmap, CPU entry Area, ESPfix Area,
 * EFI Runtime Services, Kernel text / rodata / data/bss (split by their
 * rights), Modules, Fixmap Area. docs/memlayout.md, "Linux's randomised
 * layout", gives the rules and the numbers.
 *
 * A tree with no direct map or no kernel image (an identity map, a 32-bit or
 * PAE tree, a PTI user PGD, an empty tree) gets the verdict "not a Linux
 * layout" and a summary of what it holds instead.
 *
 * Work is bounded on any input: one pg_iterate pass over the whole tree with
 * the caller's memo (a shared table is expanded once, a recursive slot never)
 * and three small walks that stop after a fixed number of entries.
 * Freestanding: no allocation, no state.
 * Depends on: paging.h, pg_format.h (struct pg_linux_layout).
 */
#ifndef PAGING_LINUX_LAYOUT_H
#define PAGING_LINUX_LAYOUT_H

#include <paging/paging.h>
#include <paging/pg_format.h>

/* A range of the guest's RAM, half-open [start, end). */
struct pg_ram_range {
    phys_addr_t start, end;
};

/* The values the inference looks for. */
enum pg_linux_fact {
    PG_LF_PAGE_OFFSET_BASE,
    PG_LF_VMALLOC_BASE,
    PG_LF_VMEMMAP_BASE,
    PG_LF_PHYS_BASE,
    PG_LF_KERNEL_TEXT_START,
    PG_LF_KASLR_OFFSET,
    PG_LF_MODULES_VADDR,
    PG_LF_NFACTS
};

/*
 * Why a value or region is what it is, or why it is unknown: the evidence.
 * pg_linux_why_text() words each one, with the two numbers n[0], n[1] that
 * go with it.
 */
enum pg_linux_why {
    PG_LW_NONE,
    /* evidence for a value */
    PG_LW_DIRECT_MAP,           /* n: RAM bytes covered, RAM bytes */
    PG_LW_DIRECT_MAP_NO_RAM,    /* n: bytes mapped (no RAM ranges given) */
    PG_LW_VMALLOC_PREALLOC,     /* n: top-level entries, area size */
    PG_LW_VMALLOC_FIRST_TABLE,  /* n: top-level entries present, entries the area covers */
    PG_LW_VMEMMAP,              /* n: struct page bytes mapped, RAM span */
    PG_LW_TEXT,                 /* n: text end, image end */
    PG_LW_PHYS_BASE,            /* n: the text's PA, its offset from __START_KERNEL_map */
    PG_LW_KASLR_OFFSET,         /* n: -, - */
    PG_LW_MODULES_KASLR,        /* n: lowest module mapping (0: none) */
    PG_LW_MODULES_MAPPED,       /* n: lowest module mapping */
    /* reasons a value is unknown */
    PG_LW_NOT_LINUX,
    PG_LW_NO_DIRECT_MAP,        /* n: best RAM bytes covered, RAM bytes */
    PG_LW_NO_VMALLOC_TABLE,
    PG_LW_NO_VMEMMAP_TABLE,
    PG_LW_NEEDS_VMALLOC,
    PG_LW_RAM_HIGH,             /* n: lowest RAM address */
    PG_LW_NO_IMAGE,
    PG_LW_TEXT_NOT_EXEC,        /* n: lowest mapping of the window */
    PG_LW_NEEDS_TEXT,
    PG_LW_NO_MODULES,
    PG_LW_WALK_BUDGET,
    PG_LW_UNREADABLE,           /* n: address whose table is outside memory */
    /* evidence for a region */
    PG_LW_FIXED,                /* n: bytes mapped, shared-table references */
    PG_LW_REGION_DIRECT_MAP,    /* n: RAM bytes covered, highest PA mapped */
    PG_LW_REGION_VMALLOC,       /* n: bytes mapped, area size */
    PG_LW_REGION_VMEMMAP,       /* n: bytes mapped */
    PG_LW_REGION_TEXT,          /* n: bytes mapped */
    PG_LW_REGION_RODATA,        /* n: bytes mapped */
    PG_LW_REGION_DATA,          /* n: bytes mapped */
    PG_LW_REGION_DATA_UNALIGNED, /* n: bytes mapped: data right after rodata (no 2 MiB _sdata) */
    PG_LW_REGION_DATA_NO_RODATA, /* n: bytes mapped: the image after the text, no rodata */
    PG_LW_REGION_NO_RODATA,     /* n: bytes mapped: one executable block (no mark_rodata_ro yet) */
    PG_LW_REGION_MODULES,       /* n: bytes mapped */
    PG_LW_REGION_FIXMAP,        /* n: bytes mapped, first fixmap page table */
    PG_LW_NWHY_
};

/* One inferred value: known, its value and the evidence, or the reason it is not known. */
struct pg_linux_value {
    bool known;
    uint64_t value;
    enum pg_linux_why why;
    uint64_t n[2];
};

/* One region, [start, end) (end == 0: the top of the address space). */
struct pg_linux_region {
    const char *name;
    virt_addr_t start, end;
    enum pg_linux_why why;
    uint64_t n[2];
};

#define PG_LINUX_MAX_REGIONS 16

/* Whether the tree looks like Linux's, or the first thing that says it does not. */
enum pg_linux_verdict {
    PG_LV_LINUX,
    PG_LV_NOT_LONG_MODE,        /* 32-bit or PAE paging */
    PG_LV_EMPTY_KERNEL_HALF,    /* nothing in the upper canonical half */
    PG_LV_PTI_USER_PGD,         /* the kernel half of a PTI user PGD: entry trampolines only */
    PG_LV_NO_DIRECT_MAP,
    PG_LV_NO_KERNEL_IMAGE,
};

/*
 * What the tree holds, whatever the verdict (bytes are bytes of VA space
 * mapped by present leaves).
 * user_bytes       in the lower half (all of it in 32-bit and PAE paging)
 * identity_bytes   of those, mapped with VA == PA
 * kernel_bytes     in the upper canonical half
 * top_user, top_kernel   present top-level entries in each half
 * cycles, first_cycle    pointers back to a table on the path (recursive slots)
 * unreadable       table pointers outside the memory
 * shared           references to tables reached more than once
 * dm_covered, dm_delta   the best direct-map candidate: RAM bytes it covers and its VA - PA
 * ram_bytes        the RAM given by the caller
 */
struct pg_linux_found {
    uint64_t user_bytes, identity_bytes, kernel_bytes;
    unsigned top_user, top_kernel;
    unsigned cycles, unreadable, shared;
    virt_addr_t first_cycle;
    uint64_t dm_covered, dm_delta;
    uint64_t ram_bytes;
};

/*
 * struct pg_linux_inferred - the result.
 * verdict    PG_LV_LINUX, or why not
 * layout     levels, the three randomised bases and modules_vaddr (0 where
 *            unknown), config 0: what pg_ptdump_markers_for_layout takes
 *            (the caller sets config, e.g. from pg_linux_config_parse)
 * value[]    each enum pg_linux_fact
 * region[]   nregions regions in ascending address order, disjoint
 * found      the summary
 */
struct pg_linux_inferred {
    enum pg_linux_verdict verdict;
    struct pg_linux_layout layout;
    struct pg_linux_value value[PG_LF_NFACTS];
    struct pg_linux_region region[PG_LINUX_MAX_REGIONS];
    size_t nregions;
    struct pg_linux_found found;
};

/*
 * pg_linux_layout_infer - infer Linux's layout from the tree at root.
 * @ram, @nram: the guest's RAM ranges (for a QEMU dump: its memory segments);
 *        nram may be 0 (the direct map is then the candidate mapping most)
 * @memo, @memo_slots: workspace for pg_iterate (shared-table detection), about
 *        twice the number of tables in the tree
 * @out: the result (written in full on success)
 * A tree that is not Linux's is not an error: out->verdict says so.
 * returns: 0; -PG_ENOSPC (memo too small: call again with a bigger one);
 *          -PG_EIO (root unreadable); -PG_EINVAL (bad ctx, no memo, NULL out).
 */
int pg_linux_layout_infer(const struct pg_ctx *ctx, phys_addr_t root,
                          const struct pg_ram_range *ram, size_t nram,
                          struct pg_memo_slot *memo, size_t memo_slots,
                          struct pg_linux_inferred *out);

/* pg_linux_fact_name - "page_offset_base", ...; NULL for an invalid value. */
const char *pg_linux_fact_name(enum pg_linux_fact f);

/* pg_linux_verdict_text - "Linux layout", or why not; "?" for an invalid value. */
const char *pg_linux_verdict_text(enum pg_linux_verdict v);

/*
 * pg_linux_why_text - the evidence or reason `why`, worded with its numbers.
 * @buf, @size: receives the text, NUL-terminated (truncated to size - 1)
 * returns: the length of the whole text (as snprintf: >= size means truncated).
 */
size_t pg_linux_why_text(enum pg_linux_why why, const uint64_t n[2], char *buf, size_t size);

/*
 * pg_linux_region_of - the region holding va.
 * returns: the region, or NULL if va is in none.
 */
const struct pg_linux_region *pg_linux_region_of(const struct pg_linux_inferred *l, virt_addr_t va);

#endif /* PAGING_LINUX_LAYOUT_H */
