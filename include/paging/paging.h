/*
 * paging.h: the public API of lib/paging, the freestanding x86 paging library
 * shared by the kernel and the host tools.
 *
 * The library builds, walks, lists and prints x86 page tables in all four
 * paging modes (32-bit, PAE, 4-level, 5-level). It never touches the CPU:
 * table memory is reached through the callbacks of a struct pg_ctx, it never
 * allocates memory of its own, keeps no global state and never flushes a TLB
 * (operations report what needs flushing instead).
 *
 * Vocabulary
 *   level    1 = PT (pte), 2 = PD (pmd), 3 = PDPT (pud), 4 = PML4 (p4d, or
 *            pgd in 4-level mode), 5 = PML5 (pgd). The top level of a mode is
 *            ctx->levels. 32-bit paging has levels 2 (PD, Linux pgd) and 1.
 *   prot     leaf protection in "canonical" form: the flag bits of a 64-bit
 *            entry with PS cleared and the PAT bit always at bit 12
 *            (PTE_PAT_LARGE), whatever the page size. The library moves PAT to
 *            bit 7 when it writes a 4 KiB PTE and back when it reads one, so
 *            __PAGE_KERNEL_LARGE and __PAGE_KERNEL both work as map protections.
 *   ranges   half-open [start, end). end == 0 stands for the top of the
 *            address space (2^64); addresses are canonical (sign-extended).
 *
 * Errors: functions return 0 (or a count) on success and a negative -PG_E*
 * code on failure; pg_strerror() names them.
 *
 * Depends on: pg_env.h, pgtable.h.
 */
#ifndef PAGING_PAGING_H
#define PAGING_PAGING_H

#include <paging/pg_env.h>
#include <paging/pgtable.h>

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

enum pg_error {
    /* PG_ENOMEM: alloc_table failed (no table frame). The tables are left
     * exactly as they were before the call. */
    PG_ENOMEM = 1,
    /* PG_EEXIST: part of the range is already mapped (pg_map without
     * PG_MAP_REPLACE). */
    PG_EEXIST,
    /* PG_EHUGE: a large page covers the address and the operation would have
     * to split it, but splitting was not allowed (PG_MAP_NOSPLIT), or an entry
     * below a large leaf was asked for (pg_entry_lookup). */
    PG_EHUGE,
    /* PG_EALIGN: an address or size is not aligned as the contract requires
     * (4 KiB for map/unmap/protect; PAE root 32 bytes). */
    PG_EALIGN,
    /* PG_ERANGE: a virtual address is not canonical, a range crosses the
     * non-canonical hole, or a physical address exceeds the mode's limit. */
    PG_ERANGE,
    /* PG_ENOTMAPPED: the address (or part of the range) is not mapped. */
    PG_ENOTMAPPED,
    /* PG_EIO: a table could not be read (phys_to_virt returned NULL), e.g.
     * a table pointer outside the memory of a dump. */
    PG_EIO,
    /* PG_EINVAL: invalid argument (unknown mode, empty page-size mask, flags
     * that contain address bits, PS or P in a protection change, ...). */
    PG_EINVAL,
    /* PG_ERSVD: a present entry has reserved bits set (the walk stops there,
     * as the MMU would with a #PF with RSVD set). */
    PG_ERSVD,
    /* PG_ENOSPC: a caller-supplied buffer (iteration memo) is too small. */
    PG_ENOSPC,
    /* PG_EGP: the MMU model's CPU refuses the operation with #GP(0) (a
     * control-register write, INVLPG or INVPCID; mmu.h). */
    PG_EGP,
    /* PG_EUD: the MMU model's CPU raises #UD (INVPCID without CPUID support). */
    PG_EUD,
    PG_NERRORS_
};

/*
 * pg_strerror - name an error code.
 * @err: 0, a negative -PG_E* code or any other int
 * returns: a constant string; "success" for 0, "unknown error" for codes
 *          the library does not define.
 */
const char *pg_strerror(int err);

/* ------------------------------------------------------------------------ */
/* Context                                                                   */
/* ------------------------------------------------------------------------ */

/* Paging modes, numbered by their number of levels (the pg_ctx.levels value). */
enum pg_mode {
    PG_MODE_32BIT = 2,  /* CR4.PAE = 0: 4-byte entries, 4 KiB and 4 MiB pages (PSE, PSE-36) */
    PG_MODE_PAE = 3,    /* CR4.PAE = 1, 32-bit linear: 4 PDPTEs, 4 KiB and 2 MiB pages */
    PG_MODE_4LEVEL = 4, /* IA-32e: 48-bit linear, 4 KiB, 2 MiB and 1 GiB pages */
    PG_MODE_5LEVEL = 5, /* IA-32e with CR4.LA57: 57-bit linear */
};

/* CPU features that can be switched off in pg_ctx.disabled (0 = all present). */
#define PG_NO_NX    0x01u   /* EFER.NXE = 0: bit 63 reserved, no execute-disable */
#define PG_NO_PSE   0x02u   /* 32-bit mode: CR4.PSE = 0, no 4 MiB pages */
#define PG_NO_1G    0x04u   /* no Page1GB: PS in a PDPTE is reserved */
#define PG_NO_PAT   0x08u   /* no PAT: PAT bits reserved in 32-bit mode */
#define PG_NO_PSE36 0x10u   /* 32-bit mode: no PSE-36 (4 MiB pages below 4 GiB only) */

/*
 * struct pg_ctx - how the library reaches physical memory.
 *
 * phys_to_virt  pointer through which the table at physical address pa can be
 *               read (and, for map operations, written): 8-byte aligned (entries
 *               are read as uint64_t), valid for the whole table (4 KiB; 32 bytes
 *               for the PAE PDPT), and valid for as long as the operation runs:
 *               walks and iteration keep the pointers of every table on the
 *               current path (up to five) while they read the tables below.
 *               NULL means "unreadable": walks report it (PG_EIO), iteration
 *               reports a hole.
 * alloc_table   provide a zeroed, 4 KiB-aligned 4 KiB frame in *pa; return 0,
 *               or a negative code (any negative value is reported as
 *               -PG_ENOMEM). May be NULL for read-only use.
 * free_table    give a table frame back (optional, may be NULL: frames are then
 *               leaked). The library calls it for tables that became empty or
 *               were replaced; the TLB may still cache them until the caller
 *               performs the reported flush, so the kernel must not reuse the
 *               frame before that.
 * arg           opaque pointer passed to every callback.
 * levels        the paging mode (enum pg_mode): 2, 3, 4 or 5.
 * table_flags   flags for new intermediate entries; 0 means _PAGE_TABLE (0x67).
 *               PAE PDPTEs keep only P, PWT and PCD of it.
 * phys_bits     MAXPHYADDR (M); 0 means 52 (40 in 32-bit mode).
 * disabled      PG_NO_* features absent in this CPU state; 0 = all present.
 * pti           4/5-level only: every root given to pg_map/pg_unmap/pg_protect/
 *               pg_free_tables is the kernel PGD of a PTI pair (see
 *               pg_pti_set_user_pgtbl): each write of a user-half top-level
 *               entry is mirrored into the user PGD at root + 4096.
 */
struct pg_ctx {
    void *(*phys_to_virt)(void *arg, phys_addr_t pa);
    int (*alloc_table)(void *arg, phys_addr_t *pa);
    void (*free_table)(void *arg, phys_addr_t pa);
    void *arg;
    unsigned levels;
    uint64_t table_flags;
    unsigned phys_bits;
    unsigned disabled;
    bool pti;
};

/* ------------------------------------------------------------------------ */
/* Modes and level descriptors                                               */
/* ------------------------------------------------------------------------ */

#define PG_MAX_LEVELS 5

/* Reserved-bit rule of a level (docs/mmu.md, "Reserved bits"). */
enum pg_rsvd_rule {
    PG_RSVD_32_PD,      /* 32-bit PDE: 4 MiB leaf rules (PSE-36, PAT) */
    PG_RSVD_32_PT,      /* 32-bit PTE: bit 7 without PAT */
    PG_RSVD_PAE_PDPTE,  /* PAE PDPTE: 2:1, 8:5, 63:M */
    PG_RSVD_PAE,        /* PAE PDE/PTE: 62:M, 63 without NX, 2 MiB leaf 20:13 */
    PG_RSVD_LM_TOP,     /* 4/5-level PML4E/PML5E: 51:M, 63 without NX, bit 7 */
    PG_RSVD_LM,         /* 4/5-level PDPTE/PDE/PTE: 51:M, 63 without NX, leaf 29:13 / 20:13 */
};

/*
 * struct pg_level_desc - one level of one paging mode, as data.
 * shift        lowest VA bit indexed at this level (12, 21/22, 30, 39, 48)
 * index_bits   width of the index (10 in 32-bit mode, 2 for the PAE PDPT, else 9)
 * entry_size   4 (32-bit mode) or 8 bytes
 * large_ok     a PS=1 entry at this level is a large leaf (when the mode's
 *              features allow it: PSE in 32-bit mode, Page1GB at the PDPT)
 * no_rights    the entries take no part in access rights and have no
 *              accessed flag: the PAE PDPTEs, which the CPU loads into
 *              registers (docs/mmu.md, "Walk formats")
 * rsvd         reserved-bit rule
 * linux_name   "pgd", "p4d", "pud", "pmd", "pte" (as Linux ptdump prints them)
 * intel_name   "PML5", "PML4", "PDPT", "PD", "PT"
 */
struct pg_level_desc {
    uint8_t shift;
    uint8_t index_bits;
    uint8_t entry_size;
    uint8_t large_ok;
    uint8_t no_rights;
    uint8_t rsvd;
    const char *linux_name;
    const char *intel_name;
};

/*
 * struct pg_mode_desc - a paging mode: its levels and address widths.
 * level[l] describes level l (1 = PT ... levels = top); level[0] is unused.
 */
struct pg_mode_desc {
    const char *name;           /* "32-bit", "PAE", "4-level", "5-level" */
    unsigned levels;
    unsigned va_bits;           /* 32, 32, 48, 57 */
    bool canonical;             /* IA-32e: addresses are sign-extended from va_bits-1 */
    bool has_nx;                /* entries can carry NX (bit 63) */
    struct pg_level_desc level[PG_MAX_LEVELS + 1];
};

/*
 * pg_mode_get - the descriptor of a mode.
 * @levels: 2, 3, 4 or 5
 * returns: the static descriptor, or NULL for any other value.
 */
const struct pg_mode_desc *pg_mode_get(unsigned levels);

/*
 * pg_level_linux_name / pg_level_intel_name - the names of a level:
 * Linux's ("pud") and Intel's ("PDPT").
 * returns: a constant string; NULL for an invalid mode or level.
 */
const char *pg_level_linux_name(unsigned levels, int level);
const char *pg_level_intel_name(unsigned levels, int level);

/*
 * pg_level_size - bytes mapped by one entry of `level` in mode `levels`.
 * returns: 4096, 2M or 4M, 1G, 512G, 256T; 0 for an invalid mode or level.
 */
uint64_t pg_level_size(unsigned levels, int level);

/*
 * pg_va_index - index of va in the table at `level`.
 * @va: any address (only the bits of that level are used)
 * returns: the index, or -PG_EINVAL for an invalid mode or level.
 */
int pg_va_index(unsigned levels, int level, virt_addr_t va);

/*
 * pg_va_split - split a VA into its per-level indices and the page offset
 * for a leaf at `leaf_level` (offset = 12 bits for 4 KiB, 21 bits for 2 MiB,
 * 22 bits for 4 MiB, 30 bits for 1 GiB).
 * @idx: receives idx[l] for levels leaf_level..levels (others untouched)
 * @offset: receives the byte offset inside the page (may be NULL)
 * returns: 0, or -PG_EINVAL for an invalid mode/level.
 */
int pg_va_split(unsigned levels, int leaf_level, virt_addr_t va,
                unsigned idx[PG_MAX_LEVELS + 1], uint64_t *offset);

/*
 * pg_canonical - sign-extend va from the mode's top linear-address bit
 * (bit 47 or 56); 32-bit and PAE keep the low 32 bits.
 * returns: the canonical address (va unchanged for an invalid mode).
 */
virt_addr_t pg_canonical(unsigned levels, virt_addr_t va);

/*
 * pg_is_canonical - is va a valid linear address of the mode?
 * returns: true if canonical (below 4 GiB for 32-bit and PAE); false
 *          otherwise or for an invalid mode.
 */
bool pg_is_canonical(unsigned levels, virt_addr_t va);

/* ------------------------------------------------------------------------ */
/* Entries                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * struct pg_entry - a decoded entry.
 * raw        the entry as stored (32-bit mode: zero-extended)
 * present    P bit
 * leaf       maps a page (level 1, or PS at a level that allows it)
 * addr       next table's PA (non-leaf) or page frame PA (leaf); PSE-36 decoded
 * prot       canonical protection (see top of file): flags with PS removed and
 *            PAT at bit 12; for tables simply the flag bits
 * page_size  bytes mapped by a leaf (0 for tables)
 */
struct pg_entry {
    uint64_t raw;
    bool present;
    bool leaf;
    phys_addr_t addr;
    uint64_t prot;
    uint64_t page_size;
};

/*
 * pg_entry_decode - decode a raw entry of `level`.
 * returns: 0, or -PG_EINVAL for an invalid mode or level.
 */
int pg_entry_decode(const struct pg_ctx *ctx, int level, uint64_t raw, struct pg_entry *out);

/*
 * pg_entry_encode - build a raw entry.
 * @leaf: true for a page (a large leaf above level 1 gets PS), false for a
 *        pointer to the table at addr
 * @addr: page frame (aligned to the page size) or table PA (4 KiB aligned;
 *        32 bytes is enough for nothing but the PAE root, which is not an entry)
 * @prot: canonical protection (PS ignored, PAT at bit 12); bits the mode
 *        cannot hold (NX in 32-bit mode or with PG_NO_NX, PK outside IA-32e)
 *        are dropped; PAE PDPTEs keep only P, PWT, PCD.
 * @out: receives the entry
 * returns: 0; -PG_EINVAL (bad level, leaf not allowed at that level, address
 *          bits in prot); -PG_EALIGN (addr misaligned); -PG_ERANGE (addr beyond
 *          the mode's physical limit).
 */
int pg_entry_encode(const struct pg_ctx *ctx, int level, bool leaf, phys_addr_t addr,
                    uint64_t prot, uint64_t *out);

/*
 * pg_entry_reserved - the reserved bits set in a present entry, per the
 * mode's rules and ctx->phys_bits / ctx->disabled (docs/mmu.md, "Reserved bits").
 * returns: the mask of offending bits (0 if none, or if the entry is not present).
 */
uint64_t pg_entry_reserved(const struct pg_ctx *ctx, int level, uint64_t raw);

/*
 * pg_entry_read / pg_entry_write - one entry of the table at table_pa.
 * returns: 0; -PG_EIO if the table is unreadable; -PG_EINVAL for a bad level.
 */
int pg_entry_read(const struct pg_ctx *ctx, phys_addr_t table_pa, int level, unsigned index,
                  uint64_t *raw);
int pg_entry_write(const struct pg_ctx *ctx, phys_addr_t table_pa, int level, unsigned index,
                   uint64_t raw);

/* ------------------------------------------------------------------------ */
/* Walk                                                                      */
/* ------------------------------------------------------------------------ */

/* One level of a walk. */
struct pg_walk_step {
    int level;              /* 1 = PT ... top */
    phys_addr_t table_pa;   /* the table read at this level */
    phys_addr_t entry_pa;   /* table_pa + index * entry_size */
    unsigned index;
    uint64_t entry;         /* raw entry */
    struct pg_entry dec;    /* decoded */
};

/*
 * struct pg_walk - the full outcome of translating one VA.
 * status       0 (mapped) or -PG_ENOTMAPPED / -PG_ERSVD / -PG_ERANGE / -PG_EIO
 * fault_level  level whose entry was not present / had reserved bits / whose
 *              table was unreadable; 0 when status is 0 or -PG_ERANGE
 * nsteps       records in step[] (top level first); entries that were read
 * rsvd_bits    offending bits when status is -PG_ERSVD
 * leaf_level, pa, page_size, leaf_prot   valid when status is 0
 * writable, user, nx   effective rights: R/W and U/S ANDed over every entry
 *              used, NX ORed (PAE PDPTEs take no part; nx is always false in
 *              32-bit mode and with PG_NO_NX)
 */
struct pg_walk {
    virt_addr_t va;
    int status;
    int fault_level;
    unsigned nsteps;
    struct pg_walk_step step[PG_MAX_LEVELS];
    uint64_t rsvd_bits;
    int leaf_level;
    phys_addr_t pa;
    uint64_t page_size;
    uint64_t leaf_prot;
    bool writable, user, nx;
};

/*
 * pg_walk - translate va from the top table at root, recording every level.
 * @root: PA of the top table (CR3 & base mask; PAE: the 32-byte-aligned PDPT)
 * Outcomes are data: the function never fails on bad tables.
 * returns: w->status: 0 if mapped; -PG_ENOTMAPPED (an entry not present);
 *          -PG_ERSVD (reserved bits set); -PG_ERANGE (va not canonical, or
 *          above 4 GiB in 32-bit/PAE mode); -PG_EIO (table unreadable);
 *          -PG_EINVAL (bad mode; w->status is set too).
 */
int pg_walk(const struct pg_ctx *ctx, phys_addr_t root, virt_addr_t va, struct pg_walk *w);

/*
 * pg_walk_begin / pg_walk_levels - pg_walk in two parts, for callers that
 * supply the upper levels themselves (the MMU model's PAE PDPTE registers).
 * pg_walk_begin zeroes w for va with the rights all granted (writable = user
 * = true, nx = false). pg_walk_levels then walks from level `top` down,
 * starting with the table at `table`, appending to w->step[] and ANDing/ORing
 * into w->writable/user/nx (which therefore hold the rights of the steps so
 * far, also when the walk stops early). No canonical check: va's bits above
 * the mode's linear width are ignored.
 * @top: 1 .. ctx->levels; w->nsteps + top must not exceed PG_MAX_LEVELS
 * returns: w->status as for pg_walk (0, -PG_ENOTMAPPED, -PG_ERSVD, -PG_EIO),
 *          or -PG_EINVAL for a bad mode or level.
 */
void pg_walk_begin(struct pg_walk *w, virt_addr_t va);
int pg_walk_levels(const struct pg_ctx *ctx, phys_addr_t table, int top, struct pg_walk *w);

/*
 * pg_translate - the fast path: va to pa without per-level records.
 * @pa, @prot, @level: out (each may be NULL): physical address, leaf
 *        protection with effective W/U/NX (W and U cleared unless granted at
 *        every level, NX set if any level has it), leaf level
 * Reserved bits are not checked (use pg_walk for a full MMU verdict).
 * returns: 0; -PG_ENOTMAPPED; -PG_ERANGE; -PG_EIO; -PG_EINVAL.
 */
int pg_translate(const struct pg_ctx *ctx, phys_addr_t root, virt_addr_t va,
                 phys_addr_t *pa, uint64_t *prot, int *level);

/*
 * pg_entry_lookup - PA of va's entry at `level` (e.g. 1 for its PTE), without
 * allocating anything.
 * returns: 0 and *entry_pa; -PG_ENOTMAPPED (an upper entry is not present);
 *          -PG_EHUGE (a large leaf above `level` maps va; *entry_pa is that
 *          leaf's entry); -PG_ERANGE; -PG_EIO; -PG_EINVAL.
 */
int pg_entry_lookup(const struct pg_ctx *ctx, phys_addr_t root, virt_addr_t va, int level,
                    phys_addr_t *entry_pa);

/* ------------------------------------------------------------------------ */
/* Map, unmap, protect                                                       */
/* ------------------------------------------------------------------------ */

/* Page sizes a mapping may use (bit = level): */
#define PG_SIZE_4K  (1u << 1)       /* level 1 */
#define PG_SIZE_2M  (1u << 2)       /* level 2: 2 MiB (PAE, 4/5-level) */
#define PG_SIZE_4M  (1u << 2)       /* level 2: 4 MiB (32-bit mode) */
#define PG_SIZE_1G  (1u << 3)       /* level 3: 1 GiB (4/5-level) */
#define PG_MASK_4K  PG_SIZE_4K
#define PG_MASK_2M  (PG_SIZE_4K | PG_SIZE_2M)
#define PG_MASK_1G  (PG_SIZE_4K | PG_SIZE_2M | PG_SIZE_1G)

/* pg_map flags. */
#define PG_MAP_REPLACE  0x1u    /* overwrite existing mappings (splitting large pages) */
#define PG_MAP_NOSPLIT  0x2u    /* never split a large page: fail with -PG_EHUGE */

/*
 * struct pg_flush - TLB invalidation needed after an operation, accumulated
 * over any number of calls. The library never flushes.
 * start, end   canonical half-open cover of every VA whose translation
 *              changed (end == 0: top of the address space); valid if pages > 0
 * pages        number of 4 KiB pages inside changed ranges (to choose between
 *              INVLPG per page and a full flush)
 * tables_freed a table was freed or replaced: paging-structure caches must be
 *              invalidated before the frame is reused (INVLPG of any address
 *              in the range does it; if pages == 0, reload CR3)
 */
struct pg_flush {
    virt_addr_t start, end;
    uint64_t pages;
    bool tables_freed;
};

/* pg_flush_init - make f an empty accumulator. returns: nothing. */
void pg_flush_init(struct pg_flush *f);

/*
 * pg_map - map [start, end) to [pa, pa + (end - start)) with protection prot.
 * Each piece gets the largest page size in size_mask that VA and PA alignment
 * and the range allow (Linux's split_mem_range rule: 4K head, 2M, 1G, 2M, 4K
 * tail). Missing tables are allocated with ctx->table_flags.
 * @start, @end: 4 KiB aligned, canonical, within one canonical half
 * @pa: 4 KiB aligned; start and pa must have equal offsets modulo a large
 *      page size for that size to be used
 * @prot: canonical protection; must include PTE_P
 * @size_mask: PG_SIZE_* bits (PG_SIZE_4K is always implied)
 * @flags: PG_MAP_REPLACE (overwrite; large pages partly overwritten are split
 *         keeping their protection, replaced subtrees are freed),
 *         PG_MAP_NOSPLIT
 * @flush: accumulator for changed present entries (may be NULL)
 * All tables needed are allocated before anything is written: on any error
 * the tables are unchanged.
 * returns: 0; -PG_EALIGN; -PG_ERANGE; -PG_EINVAL; -PG_EEXIST (something in the
 *          range is mapped and no PG_MAP_REPLACE); -PG_EHUGE (PG_MAP_NOSPLIT
 *          and a large page would need splitting); -PG_ENOMEM; -PG_EIO.
 */
int pg_map(const struct pg_ctx *ctx, phys_addr_t root, virt_addr_t start, virt_addr_t end,
           phys_addr_t pa, uint64_t prot, unsigned size_mask, unsigned flags,
           struct pg_flush *flush);

/*
 * pg_unmap - remove every mapping in [start, end). Large pages partly inside
 * the range are split (the rest keeps its protection); tables that become
 * empty are freed (never the root). Holes in the range are fine.
 * returns: 0; -PG_EALIGN; -PG_ERANGE; -PG_EINVAL; -PG_EHUGE (PG_MAP_NOSPLIT
 *          in flags and a split needed); -PG_ENOMEM (a split needed a table;
 *          nothing changed); -PG_EIO.
 */
int pg_unmap(const struct pg_ctx *ctx, phys_addr_t root, virt_addr_t start, virt_addr_t end,
             unsigned flags, struct pg_flush *flush);

/*
 * pg_protect - change the protection of every page in [start, end):
 * new = (old & ~clear) | set, in canonical form. Large pages partly inside the
 * range are split if their protection changes.
 * @set, @clear: must not contain PTE_P, PTE_PS or address bits
 * returns: 0; -PG_ENOTMAPPED (a page in the range is not mapped; nothing
 *          changed); -PG_EALIGN; -PG_ERANGE; -PG_EINVAL; -PG_EHUGE; -PG_ENOMEM;
 *          -PG_EIO.
 */
int pg_protect(const struct pg_ctx *ctx, phys_addr_t root, virt_addr_t start, virt_addr_t end,
               uint64_t set, uint64_t clear, unsigned flags, struct pg_flush *flush);

/*
 * pg_free_tables - unmap everything below root and free every table except
 * root itself (which is cleared). Shared or cyclic references are not
 * followed twice: only tables reachable as a proper tree are freed.
 * returns: 0; -PG_EIO; -PG_EINVAL.
 */
int pg_free_tables(const struct pg_ctx *ctx, phys_addr_t root);

/*
 * struct pg_split_piece - one piece of pg_split_range.
 * start, end   half-open range; size = 4096, 2M (4M in 32-bit mode) or 1G
 */
struct pg_split_piece {
    uint64_t start, end;
    uint64_t page_size;
};

/*
 * pg_split_range - Linux's split_mem_range on [start, end): at most five
 * pieces (4K head, 2M, 1G, 2M, 4K tail), equal neighbours merged, empty
 * pieces dropped. The addresses are the ones whose alignment matters (for a
 * direct map, physical = virtual - offset, both work).
 * @start, @end: 4 KiB aligned, start <= end
 * @size_mask: PG_SIZE_* (4K implied)
 * @levels: the mode (2: large pages are 4 MiB; 1G only in 4/5-level)
 * @out: room for 5 pieces
 * returns: the number of pieces (0..5); -PG_EALIGN; -PG_EINVAL.
 */
int pg_split_range(unsigned levels, uint64_t start, uint64_t end, unsigned size_mask,
                   struct pg_split_piece out[5]);

/* ------------------------------------------------------------------------ */
/* Iterate                                                                   */
/* ------------------------------------------------------------------------ */

enum pg_range_kind {
    PG_RANGE_MAPPED,        /* present leaves */
    PG_RANGE_HOLE,          /* non-present entries (only with PG_ITER_HOLES) */
    PG_RANGE_UNREADABLE,    /* a table pointer phys_to_virt cannot reach */
    PG_RANGE_SHARED,        /* a table referenced more than once, not expanded */
    PG_RANGE_CYCLE,         /* a pointer to a table already on the path (e.g. a recursive slot) */
};

/*
 * struct pg_range - one reported range (one entry, or several merged ones).
 * start        canonical VA; end = start + size (wraps to 0 at the top)
 * level        level of the entries (leaf level; for holes the level of the
 *              non-present entry; for unreadable/shared/cycle the level of the
 *              table pointed to)
 * entry        raw value of the first entry
 * prot         canonical protection of the first entry (pg_entry.prot)
 * pa           MAPPED: PA of start; others: the table PA pointed to (0 for holes)
 * page_size    bytes per entry at `level`
 * eff          effective rights of the first entry: PTE_P|PTE_W|PTE_U|PTE_NX
 *              subset (W/U ANDed down the levels, NX ORed; for non-present
 *              entries P is clear and the other bits are what the walk has so far)
 * count        entries merged into this range
 * refs         SHARED: number of references to the table (0 if unknown)
 */
struct pg_range {
    virt_addr_t start;
    uint64_t size;
    enum pg_range_kind kind;
    int level;
    uint64_t entry;
    uint64_t prot;
    phys_addr_t pa;
    uint64_t page_size;
    uint64_t eff;
    uint64_t count;
    unsigned refs;
};

/* How neighbours (VA-contiguous, same kind) merge. */
enum pg_merge {
    PG_MERGE_NONE,      /* one range per entry (like QEMU's info tlb) */
    PG_MERGE_RIGHTS,    /* equal effective rights P/W/U/NX (like QEMU's info mem, plus NX) */
    PG_MERGE_RAW,       /* equal raw flags, effective rights and level (like Linux ptdump) */
};

/* pg_iter_opts.flags */
#define PG_ITER_HOLES           0x01u   /* report non-present entries */
#define PG_ITER_PHYS_CONTIG     0x02u   /* MAPPED ranges merge only if physically contiguous */
#define PG_ITER_EXPAND_SHARED   0x04u   /* expand every reference to a shared table */
#define PG_ITER_EXPAND_FIRST    0x08u   /* expand a shared table at its first reference only */
#define PG_ITER_EXPAND_CYCLES   0x10u   /* follow pointers to ancestor tables (bounded by depth) */

/* One slot of the caller-supplied memo (hash table keyed by table PA and level). */
struct pg_memo_slot {
    uint64_t key;
    uint32_t refs;
    uint32_t state;
};

/*
 * struct pg_iter_opts - what to visit and how.
 * start, end   canonical VA range (end == 0: to the top); start == end == 0
 *              means the whole address space
 * merge, flags see above
 * memo, memo_slots  workspace for shared-table detection (a counting pass
 *              runs first). Without it (NULL) every table is expanded at every
 *              reference (cycles are still detected through the path). It
 *              needs one slot per distinct table; give about twice that.
 */
struct pg_iter_opts {
    virt_addr_t start, end;
    enum pg_merge merge;
    unsigned flags;
    struct pg_memo_slot *memo;
    size_t memo_slots;
};

/*
 * pg_range_fn - iteration callback. Return 0 to continue; any other value
 * stops the iteration and is returned by pg_iterate.
 */
typedef int (*pg_range_fn)(void *arg, const struct pg_range *r);

/*
 * pg_iterate - visit every mapping under root in VA order and report merged
 * ranges. Cycles never loop; tables reached more than once are reported as
 * PG_RANGE_SHARED with their reference count unless asked to expand; a table
 * pointer phys_to_virt cannot reach is PG_RANGE_UNREADABLE. Reserved bits
 * are ignored (ranges follow what the entries say). Ranges never cross the
 * non-canonical hole.
 * @opts: NULL for the whole space, PG_MERGE_RAW, no holes, no memo
 * returns: 0; the callback's nonzero value; -PG_ENOSPC (memo too small,
 *          nothing reported); -PG_ERANGE (bad VA range); -PG_EINVAL; -PG_EIO
 *          (root unreadable).
 */
int pg_iterate(const struct pg_ctx *ctx, phys_addr_t root, const struct pg_iter_opts *opts,
               pg_range_fn fn, void *arg);

/*
 * pg_count_expanded - how many ranges pg_iterate would report over opts'
 * range with PG_MERGE_NONE, PG_ITER_HOLES, PG_ITER_EXPAND_SHARED and
 * PG_ITER_EXPAND_CYCLES (one per entry reached, every table expanded at every
 * reference), without expanding: a whole table's count is computed once per
 * (table PA, level). Stops counting at cap.
 * @opts: start, end and the memo (required: one slot per distinct table above
 *        the PTs, about twice that); merge and flags are ignored
 * @n: receives the count, or cap if it is cap or more
 * returns: 0; -PG_ENOSPC (memo too small); -PG_ERANGE (bad VA range);
 *          -PG_EIO (root unreadable); -PG_EINVAL.
 */
int pg_count_expanded(const struct pg_ctx *ctx, phys_addr_t root, const struct pg_iter_opts *opts,
                      uint64_t cap, uint64_t *n);

/*
 * pg_count_tables - the number of distinct tables at each level reachable
 * from root, the root included: counts[level] for level 1 (PTs) to
 * ctx->levels; counts[0] is 0. A table referenced several times counts once;
 * pointers back to a table on the path (a recursive slot) are not followed; a
 * table phys_to_virt cannot reach counts but is not read.
 * @memo, @memo_slots: workspace, about twice the number of tables
 * returns: 0; -PG_ENOSPC (memo too small); -PG_EIO (root unreadable); -PG_EINVAL.
 */
int pg_count_tables(const struct pg_ctx *ctx, phys_addr_t root, struct pg_memo_slot *memo,
                    size_t memo_slots, uint64_t counts[PG_MAX_LEVELS + 1]);

/* ------------------------------------------------------------------------ */
/* Policies: what the kernel, the host tool and the MMU model decide alike   */
/* ------------------------------------------------------------------------ */

/*
 * pg_mode_from_regs - the paging mode the CPU is in with these register
 * values (Intel SDM Vol. 3A, 4.1.1): none without CR0.PG; 32-bit paging
 * without CR4.PAE; PAE paging unless IA-32e mode is active (EFER.LMA, or
 * EFER.LME together with CR0.PG: the CPU sets LMA from them); in IA-32e mode
 * 5-level with CR4.LA57, else 4-level. Nothing else is looked at.
 * @cr0, @cr4, @efer: the raw register values (PG_CR0_*, PG_CR4_*, PG_EFER_*)
 * returns: 0 (paging off) or PG_MODE_32BIT / PG_MODE_PAE / PG_MODE_4LEVEL /
 *          PG_MODE_5LEVEL.
 */
unsigned pg_mode_from_regs(uint64_t cr0, uint64_t cr4, uint64_t efer);

/*
 * pg_cr3_root - the physical address of the top table as the CPU takes it
 * from CR3 in paging mode `mode` (Intel SDM Vol. 3A, 4.5): 32-bit paging
 * bits 31:12; PAE paging bits 31:5 (the 32-byte PDPT); 4/5-level bits 51:12.
 * PWT, PCD, the PCID (bits 11:0 under CR4.PCIDE) and bit 63 (the no-flush
 * hint of MOV to CR3) are masked off. Bits above MAXPHYADDR are not checked
 * (a MOV to CR3 with them set faults; see pg_cpu_write_cr3).
 * @mode: PG_MODE_32BIT, PG_MODE_PAE, PG_MODE_4LEVEL or PG_MODE_5LEVEL
 * returns: the root's physical address; 0 for any other mode.
 */
phys_addr_t pg_cr3_root(unsigned mode, uint64_t cr3);

/*
 * Linux's page-table isolation (PTI) pair: each process has two PGDs in one
 * 8 KiB-aligned pair of frames, the kernel half (all of the address space)
 * at bit 12 clear and the user half (user space plus the entry trampoline)
 * at bit 12 set; CR3 switches between them by flipping that bit
 * (Linux's kernel_to_user_pgdp / user_to_kernel_pgdp).
 * pg_pti_kernel_pgd / pg_pti_user_pgd - the kernel or user PGD of the pair
 * that pgd (either half, or a CR3 root) belongs to.
 * returns: the PGD's physical address.
 */
#define PG_PTI_USER_PGD_BIT (1ULL << 12)

static inline phys_addr_t pg_pti_kernel_pgd(phys_addr_t pgd)
{
    return pgd & ~PG_PTI_USER_PGD_BIT;
}

static inline phys_addr_t pg_pti_user_pgd(phys_addr_t pgd)
{
    return pgd | PG_PTI_USER_PGD_BIT;
}

/*
 * pg_pti_pgdp_maps_userspace - does top-level slot `index` of a `levels`-level
 * PGD map user space (the lower half: 0..255 in 4- and 5-level paging)?
 * Linux's pgdp_maps_userspace. returns: true for the user half.
 */
static inline bool pg_pti_pgdp_maps_userspace(unsigned levels, unsigned index)
{
    (void)levels;
    return index < 256;
}

/*
 * pg_pti_set_user_pgtbl - the PTI rule for a write of `pgd` into slot `index`
 * of the kernel PGD of a pair (Linux's __pti_set_user_pgtbl): a user-half
 * slot is written unchanged into the user PGD (user_pgd, that pair's second
 * page, as an array of 512 entries); the kernel copy of a present user entry
 * gets NX when nx is true (the CPU has it), so that running user code on the
 * kernel CR3 faults. Kernel-half slots are the caller's business (the user
 * PGD maps only the entry trampoline there) and are returned unchanged.
 * returns: the value to store in the kernel PGD.
 */
uint64_t pg_pti_set_user_pgtbl(uint64_t *user_pgd, unsigned levels, unsigned index, uint64_t pgd,
                               bool nx);

/*
 * PCIDs under PTI (Linux's kern_pcid / user_pcid, arch/x86/mm/tlb.c): the
 * user half of an address space runs on the kernel PCID with bit 11 set.
 * CR3 on the way out to user mode (SWITCH_TO_USER_CR3): bit 12 (the user PGD)
 * set and, with PCID, bit 11 and the no-flush bit 63 unless a flush of the
 * user PCID is pending. On the way in (SWITCH_TO_KERNEL_CR3): bits 12 and 11
 * cleared and, with PCID, bit 63 set (the kernel PCID is never flushed by an
 * entry). The entry code does this in assembly; these are its reference.
 */
#define PG_PTI_USER_PCID_BIT (1u << 11)

static inline uint16_t pg_pti_user_pcid(uint16_t kern_pcid)
{
    return (uint16_t)(kern_pcid | PG_PTI_USER_PCID_BIT);
}

static inline uint64_t pg_pti_user_cr3(uint64_t kernel_cr3, bool pcid, bool flush)
{
    uint64_t cr3 = (kernel_cr3 & ~(1ULL << 63)) | PG_PTI_USER_PGD_BIT;
    if (pcid)
        cr3 |= PG_PTI_USER_PCID_BIT | (flush ? 0 : 1ULL << 63);
    return cr3;
}

static inline uint64_t pg_pti_kernel_cr3(uint64_t user_cr3, bool pcid)
{
    uint64_t cr3 = user_cr3 & ~(PG_PTI_USER_PGD_BIT | PG_PTI_USER_PCID_BIT | 1ULL << 63);
    return pcid ? cr3 | 1ULL << 63 : cr3;
}

/*
 * pg_pti_meltdown_affected - Linux's decision for `pti=auto`
 * (X86_BUG_CPU_MELTDOWN, arch/x86/kernel/cpu/common.c): AMD and Hygon CPUs
 * are not affected; any other vendor is, unless IA32_ARCH_CAPABILITIES
 * (MSR 0x10a, present when CPUID.(EAX=7,ECX=0):EDX[29]) reports RDCL_NO
 * (bit 0).
 * @vendor: the 12 bytes of the CPUID leaf 0 vendor string
 * @arch_caps: the MSR's value, 0 when the CPU has no such MSR
 * returns: true if the CPU needs PTI.
 */
bool pg_pti_meltdown_affected(const char vendor[12], uint64_t arch_caps);
#define PG_ARCH_CAP_RDCL_NO 1ULL

/*
 * What Linux maps in the kernel half of a PTI user PGD (arch/x86/mm/pti.c,
 * 6.1): pti_clone_user_shared clones the cpu_entry_area's top-level entry and
 * maps each CPU's TSS page (cpu_tss_rw, writable, NX) at its per-CPU address,
 * for the scratch word SYSCALL's entry keeps in TSS.sp2;
 * pti_clone_entry_text maps the entry text read-only and executable;
 * pti_setup_espfix64 clones the ESPfix area's entry, pti_setup_vsyscall the
 * vsyscall page; pti_clone_kernel_text (pti=auto on a CPU without PCID) the
 * kernel image's text and rodata, read-only; and the LDT of a process that
 * has one is mapped read-only at the LDT remap. Addresses (Linux's fixed
 * ones, docs/memlayout.md): CPU_ENTRY_AREA_BASE 0xfffffe0000000000 and
 * ESPFIX_BASE_ADDR 0xffffff0000000000, 512 GiB each, with 4- and 5-level
 * paging alike; the LDT remap is top-level slot -240 (0xffff880000000000, or
 * 0xff10000000000000 with 5 levels); the image window
 * [0xffffffff80000000, 0xffffffffc0000000); the vsyscall page
 * 0xffffffffff600000.
 */
enum pg_pti_clone {
    PG_PTI_NOT_CLONED,          /* nothing Linux maps there: a finding */
    PG_PTI_USER_SPACE,          /* the user half: not the rule's business */
    PG_PTI_CPU_ENTRY_AREA,      /* inside the cpu_entry_area, any rights */
    PG_PTI_ENTRY_TEXT,          /* read-only and executable, supervisor */
    PG_PTI_TSS,                 /* not executable, each frame also in the cpu_entry_area */
    PG_PTI_ESPFIX,              /* read-only, in the ESPfix area */
    PG_PTI_KERNEL_IMAGE,        /* read-only, in the kernel image window (rodata) */
    PG_PTI_LDT,                 /* read-only, in the LDT remap */
    PG_PTI_VSYSCALL,            /* read-only, the vsyscall page (may be user) */
};

#define PG_PTI_CPU_ENTRY_AREA_BASE  0xfffffe0000000000ULL
#define PG_PTI_CPU_ENTRY_AREA_END   0xfffffe8000000000ULL

/*
 * pg_pti_user_clone - which of Linux's clones (above) explains a mapped range
 * [va, va + size) of a PTI user PGD with effective rights eff (PTE_W, PTE_U,
 * PTE_NX as pg_iterate reports them); the whole range must lie in one region.
 * @cea_alias: every frame of the range is also mapped in the cpu_entry_area
 *             (the caller knows the tables; a TSS page has that alias)
 * returns: the clone, PG_PTI_USER_SPACE below the kernel half, or
 *          PG_PTI_NOT_CLONED: kernel memory Linux keeps out of user PGDs.
 */
enum pg_pti_clone pg_pti_user_clone(unsigned levels, virt_addr_t va, uint64_t size, uint64_t eff,
                                    bool cea_alias);

/* pg_pti_clone_name - a short description of a clone ("cpu_entry_area", ...). */
const char *pg_pti_clone_name(enum pg_pti_clone c);

/*
 * pg_range_wx - is an iterated range writable and executable, the mappings
 * Linux's W+X check (ptdump's note_wx) counts? True for a PG_RANGE_MAPPED
 * range whose effective rights (r->eff: R/W ANDed, NX ORed down the walk)
 * are writable and not execute-disabled; false for holes, unreadable,
 * shared and cyclic ranges (nothing is mapped there as far as the range
 * says). User or supervisor does not matter.
 * returns: true if W+X.
 */
bool pg_range_wx(const struct pg_range *r);

/*
 * pg_count_wx - the 4 KiB pages of [start, end) that are W+X by pg_range_wx
 * (a large page counts as its 4 KiB pages). The walk is pg_iterate's with
 * no memo: a table referenced twice is counted twice, a pointer back to a
 * table on the path (a recursive slot) is not followed.
 * @start, @end: canonical half-open range; start == end == 0 for the whole
 *        address space (as in struct pg_iter_opts)
 * @pages: receives the count (0 on error)
 * returns: 0; -PG_ERANGE (bad range); -PG_EIO (root unreadable); -PG_EINVAL.
 */
int pg_count_wx(const struct pg_ctx *ctx, phys_addr_t root, virt_addr_t start, virt_addr_t end,
                uint64_t *pages);

/* ------------------------------------------------------------------------ */
/* Recursive mapping                                                         */
/* ------------------------------------------------------------------------ */

/*
 * pg_recursive_entry_va - with top-level slot `slot` pointing to the top
 * table itself, the VA through which va's entry at `level` can be read
 * (level 1: its PTE, 2: PDE, 3: PDPTE, 4: PML4E, 5: PML5E).
 * @levels: 4 or 5; @slot: 0..511
 * returns: 0 and *out (canonical); -PG_EINVAL.
 */
int pg_recursive_entry_va(unsigned levels, unsigned slot, virt_addr_t va, int level,
                          virt_addr_t *out);

/*
 * pg_recursive_table_va - the VA of the whole table at `level` covering va
 * (the entry VA with the low 12 bits cleared).
 * returns: 0 and *out; -PG_EINVAL.
 */
int pg_recursive_table_va(unsigned levels, unsigned slot, virt_addr_t va, int level,
                          virt_addr_t *out);

/*
 * pg_recursive_window - the VA range [*start, *end) the slot uses up
 * (*end == 0 for slot 511: the top of the address space).
 * returns: 0; -PG_EINVAL.
 */
int pg_recursive_window(unsigned levels, unsigned slot, virt_addr_t *start, virt_addr_t *end);

#endif /* PAGING_PAGING_H */
