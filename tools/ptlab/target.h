/*
 * target.h: what ptlab walks — guest memory plus the page-table root and
 * paging mode chosen from the vCPU state and the command-line overrides.
 *
 * Turns a memory source (source.h: a dump file of any format, or a live
 * QEMU) into a struct pg_ctx for lib/paging: table reads go through
 * ptl_source_phys, the mode follows CR0/CR4 and EFER (for a dump, which has
 * no EFER, the ELF or kdump machine: docs/formats.md, "QEMU ELF core")
 * unless --mode says otherwise, the root is CR3 with the PCID/flag bits
 * masked, and --user-pgd / --kernel-pgd pick one half of a Linux PTI PGD
 * pair; the rules are lib/paging's (pg_mode_from_regs, pg_cr3_root,
 * pg_pti_*_pgd). A live guest is paused while the target is open.
 * Depends on: source.h, paging.h, linux_layout.h.
 */
#ifndef PTLAB_TARGET_H
#define PTLAB_TARGET_H

#include <paging/linux_layout.h>
#include <paging/paging.h>

#include "source.h"

/* Which PGD of a PTI pair to walk. */
enum ptl_pgd_select {
    PTL_PGD_AS_STORED,  /* CR3 as the vCPU had it (what QEMU's monitor walks) */
    PTL_PGD_USER,       /* CR3 with bit 12 set: the PTI user PGD */
    PTL_PGD_KERNEL,     /* CR3 with bit 12 clear: the kernel PGD */
};

/* The input options shared by every command that reads guest memory. */
struct ptl_input_opts {
    const char *path;           /* the memory source: the DUMP file (NULL: live) */
    const char *gdb;            /* --gdb HOST:PORT: a QEMU gdbstub */
    const char *mem_file;       /* --mem-file FILE: a QEMU's shared guest RAM ... */
    const char *qmp;            /* --qmp SOCKET: ... and its QMP socket */
    bool keep_stopped;          /* --keep-stopped: leave a live guest paused */
    bool stats;                 /* --stats: a live source's round trips on stderr */
    int cpu;                    /* vCPU index (default 0) */
    bool have_cr3;
    uint64_t cr3;               /* --cr3: overrides the note */
    unsigned mode;              /* --mode: 0 = from the dump, else 2, 3, 4, 5 */
    bool raw;                   /* --raw: the file is a raw physical image */
    bool no_cache;              /* --no-cache: no kdump index cache */
    enum ptl_pgd_select pgd;
    unsigned phys_bits;         /* --phys-bits: MAXPHYADDR for reserved-bit checks (0 = 52) */
    uint64_t max_entries;       /* --max-entries: budget of an expanding walk (0 = none) */
    bool quiet;                 /* no messages on stderr (the fuzz harness) */
    unsigned ncr3;              /* --cr3 given this many times (draw tree walks them all) */
    uint64_t cr3_all[16];       /* the first 16 of them, in order (cr3 is the last) */
};

/* Default budget of an expanding walk: entries visited (about 1 s of walking). */
#define PTL_DEFAULT_MAX_ENTRIES (1ULL << 26)

/*
 * struct ptl_target - an open memory source ready for lib/paging.
 * path         the source's name for messages (the DUMP file, HOST:PORT, ...)
 * cpu          the vCPU state used (NULL when --cr3 came from the command line
 *              and the dump has no note for that vCPU)
 * cr3          the CR3 value the root came from (unmasked)
 * root         the table root handed to lib/paging
 */
struct ptl_target {
    const char *path;
    struct ptl_input_opts in;   /* the options it was opened with */
    struct ptl_source src;
    struct pg_ctx ctx;
    const struct pg_mode_desc *mode;
    const struct ptl_cpu *cpu;
    int cpu_index;
    uint64_t cr3;
    phys_addr_t root;
    uint64_t max_entries;
};

/* The mode names accepted by --mode: "4", "5", "pae", "32"; returns 0 if unknown. */
unsigned ptl_parse_mode(const char *s);

/*
 * ptl_target_open - open the source o names (pausing a live guest), choose
 * the mode and the root. Prints a message to stderr on failure (unless
 * o->quiet).
 * returns: 0; 1 for a bad or unusable source (corrupt, no CPU state, CR3
 *          outside memory, paging off, unreachable); 2 for a usage error (a
 *          raw image without --cr3/--mode, --cpu out of range).
 */
int ptl_target_open(struct ptl_target *t, const struct ptl_input_opts *o);

/*
 * ptl_target_init - the second half of ptl_target_open, for a source already
 * open in t->src (the fuzz harnesses parse from memory). On failure the
 * source is closed.
 * returns: as ptl_target_open.
 */
int ptl_target_init(struct ptl_target *t, const struct ptl_input_opts *o);

/*
 * ptl_target_choose - ptl_target_init without closing the source on
 * failure: choose the vCPU, the mode and the root again from the source's
 * registers (watch does after every pause of a live guest).
 * returns: as ptl_target_open.
 */
int ptl_target_choose(struct ptl_target *t, const struct ptl_input_opts *o);

/* ptl_target_close - resume a live guest and close the source. */
void ptl_target_close(struct ptl_target *t);

/*
 * ptl_iterate - pg_iterate over t's tables with a memo for shared-table
 * detection, sized by the tool (grown and retried when the library reports
 * -PG_ENOSPC, before anything was reported). opts->memo is filled in here.
 * returns: what pg_iterate returns; -PG_ENOMEM if no memo could be allocated.
 */
int ptl_iterate(struct ptl_target *t, struct pg_iter_opts *opts, pg_range_fn fn, void *arg);

/*
 * ptl_linux_layout - Linux's layout inferred from t's tables
 * (pg_linux_layout_infer), the dump's memory segments taken as its RAM, with
 * a memo sized as ptl_iterate sizes it.
 * returns: what pg_linux_layout_infer returns; -PG_ENOMEM.
 */
int ptl_linux_layout(struct ptl_target *t, struct pg_linux_inferred *l);

/*
 * ptl_check_expansion - make sure a walk that expands shared tables (and,
 * with PG_ITER_EXPAND_CYCLES, walks through recursive slots) stays within
 * t->max_entries visited entries. Needed before lib/paging's formatters and
 * --expand walks: a few table pages that point at each other can expand to
 * 512^4 entries, which would never finish. Counts with one pg_iterate pass
 * (no merging, holes included) that stops at the budget.
 * @cmd: the command name for the message
 * returns: 0 within budget (or no budget); -1 after printing why not.
 */
int ptl_check_expansion(struct ptl_target *t, virt_addr_t start, virt_addr_t end, unsigned flags,
                        const char *cmd);

/* ptl_expansion_within - the same test without a message: true if within budget. */
bool ptl_expansion_within(struct ptl_target *t, virt_addr_t start, virt_addr_t end,
                          unsigned flags);

#endif /* PTLAB_TARGET_H */
