/*
 * pg_format.h: text formatters of lib/paging, byte-exact imitations of
 * Linux ptdump, QEMU's `info mem` and `info tlb`, and crash's `vtop`.
 *
 * Output goes to a caller-supplied sink, one call per line (or less); the
 * library has no printf. Small number formatters are exported for callers
 * that want the same digits.
 * Depends on: paging.h.
 */
#ifndef PAGING_PG_FORMAT_H
#define PAGING_PG_FORMAT_H

#include <paging/paging.h>

/* Where text goes: write(arg, s, n) receives n bytes (not NUL-terminated). */
struct pg_sink {
    void (*write)(void *arg, const char *s, size_t n);
    void *arg;
};

/*
 * pg_u64_hex - lowercase hex of v, zero-padded to at least min_width digits.
 * @buf: room for 17 bytes (NUL-terminated)
 * returns: the number of digits written.
 */
size_t pg_u64_hex(char *buf, uint64_t v, unsigned min_width);

/* pg_u64_dec - decimal of v. @buf: room for 21 bytes. returns: digits written. */
size_t pg_u64_dec(char *buf, uint64_t v);

/* ------------------------------------------------------------------------ */
/* Linux ptdump                                                              */
/* ------------------------------------------------------------------------ */

/*
 * struct pg_marker - an address marker: `---[ name ]---` is printed when the
 * dump reaches start. max_lines > 0 limits the lines printed in its area (the
 * rest are counted as "... N entries skipped ..."). A table of markers is in
 * ascending order and ends with an entry whose name is NULL.
 */
struct pg_marker {
    virt_addr_t start;
    const char *name;
    unsigned max_lines;
};

/* One VA range walked by ptdump; end == 0 means the top of the address space. */
struct pg_va_range {
    virt_addr_t start, end;
};

/*
 * The configuration options of a Linux kernel that decide which ptdump
 * markers it prints and where Modules starts (struct pg_linux_layout's
 * config). 0 is the configuration of Debian's kernels (and of most
 * distributions'): no KASAN; EFI, the LDT remap (MODIFY_LDT_SYSCALL),
 * ESPfix (X86_ESPFIX64) and RANDOMIZE_BASE on.
 * PG_LINUX_KASAN              CONFIG_KASAN: "KASAN shadow", "KASAN shadow end"
 * PG_LINUX_NO_EFI             no CONFIG_EFI: no "EFI Runtime Services"
 * PG_LINUX_NO_LDT             no CONFIG_MODIFY_LDT_SYSCALL: no "LDT remap"
 * PG_LINUX_NO_ESPFIX          no CONFIG_X86_ESPFIX64: no "ESPfix Area"
 * PG_LINUX_NO_RANDOMIZE_BASE  no CONFIG_RANDOMIZE_BASE: KERNEL_IMAGE_SIZE is
 *                             512 MiB, so MODULES_VADDR is 0xffffffffa0000000
 *                             (0xffffffffc0000000 with it: a 1 GiB image space)
 */
#define PG_LINUX_KASAN              0x01u
#define PG_LINUX_NO_EFI             0x02u
#define PG_LINUX_NO_LDT             0x04u
#define PG_LINUX_NO_ESPFIX          0x08u
#define PG_LINUX_NO_RANDOMIZE_BASE  0x10u

/*
 * pg_linux_config_parse - apply comma-separated words to *config: kasan,
 * efi, ldt, espfix, randomize_base turn the option on, the same words with
 * "no" before them (nokasan, noefi, ...) turn it off; later words win.
 * E.g. "kasan,noefi". *config is unchanged on error.
 * returns: 0; -PG_EINVAL (an empty or unknown word).
 */
int pg_linux_config_parse(const char *words, unsigned *config);

/*
 * struct pg_linux_layout - where a live Linux kernel put the regions that
 * kernel_randomize_memory moves (KASLR of the memory regions): the direct
 * map, vmalloc and the vmemmap; and its configuration (which markers exist,
 * where the module area starts). The other regions of Linux's memory map are
 * fixed for a paging mode. All zero but levels and the bases: Debian's
 * configuration.
 * levels            4 or 5 (4-level or 5-level paging)
 * page_offset_base  start of the direct map (Linux's PAGE_OFFSET)
 * vmalloc_base      start of the vmalloc area (VMALLOC_START)
 * vmemmap_base      start of the struct page array (VMEMMAP_START)
 * modules_vaddr     MODULES_VADDR; 0: by config (PG_LINUX_NO_RANDOMIZE_BASE)
 * config            PG_LINUX_* bits
 */
struct pg_linux_layout {
    unsigned levels;
    virt_addr_t page_offset_base;
    virt_addr_t vmalloc_base;
    virt_addr_t vmemmap_base;
    virt_addr_t modules_vaddr;
    unsigned config;
};

/*
 * pg_linux_layout_default - Linux's bases without memory KASLR for 4-level
 * (0xffff888000000000, 0xffffc90000000000, 0xffffea0000000000) or 5-level
 * paging (0xff11000000000000, 0xffa0000000000000, 0xffd4000000000000);
 * see docs/memlayout.md. modules_vaddr and config are 0 (Debian's
 * configuration: Modules at 0xffffffffc0000000).
 * @levels: 4 or 5; any other value gives l->levels = levels and zero bases
 * returns: nothing.
 */
void pg_linux_layout_default(unsigned levels, struct pg_linux_layout *l);

/* Room for Linux's marker table: up to 15 markers and the terminating entry. */
#define PG_LINUX_MARKERS_MAX 16

/*
 * pg_ptdump_markers_for_layout - Linux 6.x's ptdump marker table for the
 * layout l: the markers l->config has, the fixed regions of l->levels,
 * "Low Kernel Mapping", "vmalloc() Area" and "Vmemmap" at l's bases and
 * "Modules" at MODULES_VADDR, in ascending address order,
 * terminated by an entry with a NULL name (buf[count]). No allocation, no
 * state: the table is the caller's.
 * @buf, @n: the caller's array; n >= PG_LINUX_MARKERS_MAX always suffices
 * returns: the number of markers written before the terminator; 0 (buf
 *          untouched) if l->levels is not 4 or 5 or n is too small.
 */
size_t pg_ptdump_markers_for_layout(const struct pg_linux_layout *l, struct pg_marker *buf,
                                    size_t n);

/*
 * pg_ptdump_markers_linux - Linux 6.x's marker set without KASLR for levels
 * 4 or 5 (docs/memlayout.md; docs/formats.md, "Linux ptdump"): the table
 * of pg_ptdump_markers_for_layout at pg_linux_layout_default's bases and
 * configuration (no KASAN markers; Modules at 0xffffffffc0000000).
 * The Fixmap Area marker uses 0xFFFFFFFFFF400000 (the first PMD of
 * level2_fixmap_pgt's fixmap tables), since Linux's FIXADDR_START depends on
 * its configuration.
 * returns: the static table (ending with a NULL name), or NULL for other modes.
 */
const struct pg_marker *pg_ptdump_markers_linux(unsigned levels);

/*
 * pg_ptdump_ranges_linux - the VA ranges Linux 6.x walks: [0, 2^47) and
 * [guard-hole end, top) (2^56 and 0xFF10000000000000 for 5-level).
 * @n: receives the count. returns: the static table, or NULL (n = 0) for
 * 32-bit and PAE, where the whole space is walked.
 */
const struct pg_va_range *pg_ptdump_ranges_linux(unsigned levels, size_t *n);

/*
 * struct pg_ptdump_opts
 * markers      marker table (NULL: none, i.e. no marker lines)
 * ranges       VA ranges to walk in order (NULL: pg_ptdump_ranges_linux, or
 *              the whole space for 32-bit/PAE)
 * iter_flags   expansion flags for the walk; 0 means PG_ITER_EXPAND_SHARED |
 *              PG_ITER_EXPAND_CYCLES (walk everything, like Linux)
 * memo         optional memo for iter_flags without EXPAND_SHARED
 * wx_pages     out: 4 KiB pages of the walked ranges that are writable and
 *              executable (pg_range_wx), Linux's W+X check
 */
struct pg_ptdump_opts {
    const struct pg_marker *markers;
    const struct pg_va_range *ranges;
    size_t nranges;
    unsigned iter_flags;
    struct pg_memo_slot *memo;
    size_t memo_slots;
    uint64_t wx_pages;
};

/*
 * pg_fmt_ptdump - print the tables as Linux 6.x's ptdump does
 * (/sys/kernel/debug/page_tables/kernel): series split on raw flags,
 * effective rights, level or marker; the last line ends at the end of the
 * last range walked (0, the top of the address space, for Linux's ranges).
 * @opts: may be NULL (Linux markers and ranges for the mode); wx_pages is
 *        written when opts is given
 * returns: 0; -PG_EINVAL; -PG_EIO (root unreadable); pg_iterate's errors.
 */
int pg_fmt_ptdump(const struct pg_ctx *ctx, phys_addr_t root, struct pg_ptdump_opts *opts,
                  const struct pg_sink *sink);

/* ------------------------------------------------------------------------ */
/* QEMU monitor                                                              */
/* ------------------------------------------------------------------------ */

/*
 * pg_fmt_info_tlb - QEMU's `info tlb`: one line per present leaf in index
 * order, `VVVVVVVVVVVVVVVV: PPPPPPPPPPPPPPPP XGPDACTUW` (docs/formats.md, "QEMU info tlb"),
 * including QEMU's per-mode PA masks. Every reference is expanded (shared
 * tables repeat, a recursive slot is walked through), as QEMU does.
 * returns: 0; -PG_EINVAL; -PG_EIO (root unreadable).
 */
int pg_fmt_info_tlb(const struct pg_ctx *ctx, phys_addr_t root, const struct pg_sink *sink);

/*
 * pg_fmt_info_mem - QEMU's `info mem`: runs of equal effective U/W/P
 * merged, `SSSSSSSSSSSSSSSS-EEEEEEEEEEEEEEEE LLLLLLLLLLLLLLLL urw`
 * (docs/formats.md, "QEMU info mem"), canonicalised start, end and length, final flush at
 * 2^32, 2^48 or 2^57. 5-level output is the correct one (without QEMU 7.2's
 * LA57 bug).
 * returns: 0; -PG_EINVAL; -PG_EIO.
 */
int pg_fmt_info_mem(const struct pg_ctx *ctx, phys_addr_t root, const struct pg_sink *sink);

/* ------------------------------------------------------------------------ */
/* crash vtop                                                                */
/* ------------------------------------------------------------------------ */

/*
 * struct pg_vtop_opts
 * user         the user path: no PGD DIRECTORY / PAGE DIRECTORY lines, the
 *              first walk line is `   PGD: <PA> => <value>`
 * pgd_va       kernel path: the virtual address printed as PGD DIRECTORY
 * phys_bits    physical mask for PAGE values: 46 or 52 (0 means 52)
 */
struct pg_vtop_opts {
    bool user;
    virt_addr_t pgd_va;
    unsigned phys_bits;
};

/*
 * pg_fmt_vtop - crash's `vtop ADDRESS` for 4- and 5-level tables
 * (docs/formats.md, "crash vtop"), without the struct page table that crash appends.
 * A non-present non-zero PTE is shown with its flags block (crash prints
 * a swap-entry block there instead).
 * returns: 0 (also for "not mapped", which is output); -PG_EINVAL (not 4-
 *          or 5-level); -PG_ERANGE (va not canonical).
 */
int pg_fmt_vtop(const struct pg_ctx *ctx, phys_addr_t root, virt_addr_t va,
                const struct pg_vtop_opts *opts, const struct pg_sink *sink);

#endif /* PAGING_PG_FORMAT_H */
