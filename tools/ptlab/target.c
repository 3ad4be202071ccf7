/*
 * target.c: choosing the paging mode and the root of a memory source (see
 * target.h). The rules are lib/paging's (pg_mode_from_regs, pg_cr3_root, the
 * PTI pair); this file only finds the register values they are applied to.
 * Depends on: target.h, source.h, lib/paging.
 */
#include "target.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <paging/regs.h>

unsigned ptl_parse_mode(const char *s)
{
    if (!strcmp(s, "4") || !strcmp(s, "4-level"))
        return PG_MODE_4LEVEL;
    if (!strcmp(s, "5") || !strcmp(s, "5-level"))
        return PG_MODE_5LEVEL;
    if (!strcmp(s, "pae") || !strcmp(s, "PAE") || !strcmp(s, "3"))
        return PG_MODE_PAE;
    if (!strcmp(s, "32") || !strcmp(s, "32-bit") || !strcmp(s, "2"))
        return PG_MODE_32BIT;
    return 0;
}

/* lib/paging's memory callback: the source's page, or its copy in the page cache. */
static void *target_phys_to_virt(void *arg, phys_addr_t pa)
{
    return (void *)ptl_source_phys(arg, pa);
}

/* An error message of target setup, unless the caller asked for silence (the fuzzer). */
static void target_msg(const struct ptl_input_opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void target_msg(const struct ptl_input_opts *o, const char *fmt, ...)
{
    if (o->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("ptlab: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int ptl_target_open(struct ptl_target *t, const struct ptl_input_opts *o)
{
    char err[600];
    memset(t, 0, sizeof(*t));
    struct ptl_source_spec spec = { .path = o->path, .raw = o->raw, .no_cache = o->no_cache,
                                    .gdb = o->gdb, .mem_file = o->mem_file, .qmp = o->qmp };
    int rc = ptl_source_open(&t->src, &spec, err, sizeof(err));
    if (rc) {
        target_msg(o, "%s", err);
        return rc;
    }
    t->src.stats = o->stats;
    if (ptl_source_pause(&t->src)) {
        target_msg(o, "%s: %s", t->src.name, t->src.err);
        ptl_source_close(&t->src);
        return 1;
    }
    return ptl_target_init(t, o);
}

/*
 * target_cpu - choose t->cpu, the vCPU whose registers are used: o->cpu's
 * note, or none when the dump has no usable note and --cr3 is given.
 * returns: 0; 1 or 2 (as ptl_target_open) after a message.
 */
static int target_cpu(struct ptl_target *t, const struct ptl_input_opts *o)
{
    const struct ptl_source *s = &t->src;
    if (s->ncpus > 0) {
        if (o->cpu < 0 || (size_t)o->cpu >= s->ncpus) {
            target_msg(o, "%s: --cpu %d: the %s has %zu vCPU%s (0..%zu)", t->path, o->cpu,
                       s->live ? "guest" : "dump", s->ncpus, s->ncpus == 1 ? "" : "s",
                       s->ncpus - 1);
            return 2;
        }
        t->cpu = &s->cpus[o->cpu];
        if (!t->cpu->have_cr && !o->have_cr3) {
            target_msg(o, "%s: the QEMU note of vCPU %d is too short to hold CR3 "
                       "(size %u); give --cr3 and --mode", t->path, o->cpu, t->cpu->state_size);
            return 1;
        }
        if (!t->cpu->have_cr)
            t->cpu = NULL;
        return 0;
    }
    if (o->have_cr3)
        return 0;
    if (strcmp(s->ops->kind, "raw"))
        target_msg(o, "%s: no QEMU note with the vCPU state (CR3, CR4) in this %s; give "
                   "--cr3 and --mode", t->path, s->format);
    else
        target_msg(o, "%s: a raw memory image needs --cr3 and --mode", t->path);
    return strcmp(s->ops->kind, "raw") ? 1 : 2;
}

/*
 * target_mode - the paging mode: --mode, else the mode of the vCPU's
 * registers (pg_mode_from_regs), else 4-level for an x86-64 core. A QEMU
 * note has no EFER: QEMU writes an x86-64 core (EM_X86_64) exactly when the
 * guest is in IA-32e mode, so the ELF machine (or the kdump header's, which
 * QEMU fills the same way: s->long_mode) stands for EFER.LMA.
 * returns: 0 with *levels set; 1 or 2 (as ptl_target_open) after a message.
 */
static int target_mode(const struct ptl_target *t, const struct ptl_input_opts *o,
                       unsigned *levels)
{
    *levels = o->mode;
    if (*levels)
        return 0;
    if (t->cpu) {
        uint64_t efer = t->cpu->have_efer ? t->cpu->efer
                        : t->src.long_mode ? PG_EFER_LME | PG_EFER_LMA : 0;
        *levels = pg_mode_from_regs(t->cpu->cr0, t->cpu->cr4, efer);
        if (!*levels) {
            target_msg(o, "%s: vCPU %d has paging disabled (CR0 = %#llx); "
                       "give --mode to walk a table anyway", t->path, o->cpu,
                       (unsigned long long)t->cpu->cr0);
            return 1;
        }
        return 0;
    }
    if (t->src.long_mode) {
        *levels = PG_MODE_4LEVEL;
        return 0;
    }
    target_msg(o, "%s: cannot tell the paging mode without CPU state; give "
               "--mode 4|5|pae|32", t->path);
    return 2;
}

/* target_root - t->cr3 and t->root: the CR3 value, its table, the PTI half asked for. */
static void target_root(struct ptl_target *t, const struct ptl_input_opts *o, unsigned levels)
{
    t->cr3 = o->have_cr3 ? o->cr3 : t->cpu->cr3;
    t->root = pg_cr3_root(levels, t->cr3);
    if (levels >= PG_MODE_4LEVEL) {
        if (o->pgd == PTL_PGD_USER)
            t->root = pg_pti_user_pgd(t->root);
        else if (o->pgd == PTL_PGD_KERNEL)
            t->root = pg_pti_kernel_pgd(t->root);
    }
}

int ptl_target_init(struct ptl_target *t, const struct ptl_input_opts *o)
{
    int rc = ptl_target_choose(t, o);
    if (rc)
        ptl_target_close(t);
    return rc;
}

int ptl_target_choose(struct ptl_target *t, const struct ptl_input_opts *o)
{
    struct ptl_source *s = &t->src;
    unsigned levels;
    t->path = s->name ? s->name : o->path;
    t->in = *o;
    t->cpu_index = o->cpu;
    int rc = target_cpu(t, o);
    if (!rc)
        rc = target_mode(t, o, &levels);
    if (rc)
        return rc;
    t->mode = pg_mode_get(levels);
    target_root(t, o, levels);

    t->max_entries = o->max_entries;
    t->ctx.phys_to_virt = target_phys_to_virt;
    t->ctx.arg = s;
    t->ctx.levels = levels;
    t->ctx.phys_bits = o->phys_bits;
    t->ctx.disabled = 0;
    if (levels == PG_MODE_32BIT && t->cpu && !(t->cpu->cr4 & PG_CR4_PSE))
        t->ctx.disabled |= PG_NO_PSE;

    if (!ptl_source_phys(s, t->root)) {
        target_msg(o, "%s: the page-table root %#llx (CR3 %#llx) is outside the %s's "
                   "memory (%zu segment%s, highest address %#llx)", t->path,
                   (unsigned long long)t->root, (unsigned long long)t->cr3,
                   s->live ? "guest" : "dump", s->nram, s->nram == 1 ? "" : "s",
                   (unsigned long long)(ptl_source_ram_end(s) - 1));
        return 1;
    }
    return 0;
}

void ptl_target_close(struct ptl_target *t)
{
    if (!t->in.keep_stopped)
        ptl_source_resume(&t->src);
    ptl_source_close(&t->src);
}

/* A lib/paging call that needs a memo of `slots` slots (arg: its other arguments). */
typedef int (*memo_call)(struct ptl_target *t, struct pg_memo_slot *memo, size_t slots,
                         void *arg);

/*
 * Run call with a memo of `slots` slots first, grown and retried while the
 * library says -PG_ENOSPC. A Linux guest has a few hundred to a few thousand
 * tables: start small (the library clears the memo on every call, and each
 * page of it costs a page fault) and grow on demand.
 */
static int with_memo(struct ptl_target *t, size_t slots, memo_call call, void *arg)
{
    /* Never more than two slots per page of memory the dump has (+ some). */
    uint64_t pages = 0;
    for (size_t i = 0; i < t->src.nram; i++)
        pages += (t->src.ram[i].end - t->src.ram[i].start) >> 12;
    uint64_t most = pages < (1ULL << 27) ? 2 * pages + 1024 : (1ULL << 28);
    for (;;) {
        struct pg_memo_slot *memo = malloc(slots * sizeof(*memo));
        if (!memo)
            return -PG_ENOMEM;
        int r = call(t, memo, slots, arg);
        free(memo);
        if (r != -PG_ENOSPC || slots >= most)
            return r;
        slots = slots * 4 < most ? slots * 4 : (size_t)most;
    }
}

struct iterate_args {
    struct pg_iter_opts *opts;
    pg_range_fn fn;
    void *arg;
};

static int iterate_call(struct ptl_target *t, struct pg_memo_slot *memo, size_t slots, void *arg)
{
    struct iterate_args *a = arg;
    a->opts->memo = memo;
    a->opts->memo_slots = slots;
    int r = pg_iterate(&t->ctx, t->root, a->opts, a->fn, a->arg);
    a->opts->memo = NULL;
    a->opts->memo_slots = 0;
    return r;
}

int ptl_iterate(struct ptl_target *t, struct pg_iter_opts *opts, pg_range_fn fn, void *arg)
{
    struct iterate_args a = { opts, fn, arg };
    return with_memo(t, 1024, iterate_call, &a);
}

static int layout_call(struct ptl_target *t, struct pg_memo_slot *memo, size_t slots, void *arg)
{
    const struct ptl_source *src = &t->src;
    struct pg_ram_range *ram = malloc((src->nram ? src->nram : 1) * sizeof(*ram));
    if (!ram)
        return -PG_ENOMEM;
    for (size_t i = 0; i < src->nram; i++)
        ram[i] = (struct pg_ram_range){ src->ram[i].start, src->ram[i].end };
    int r = pg_linux_layout_infer(&t->ctx, t->root, ram, src->nram, memo, slots, arg);
    free(ram);
    return r;
}

int ptl_linux_layout(struct ptl_target *t, struct pg_linux_inferred *l)
{
    return with_memo(t, 1024, layout_call, l);
}

struct expansion_count {
    uint64_t n, budget;
    virt_addr_t start, end;
};

static int count_entry(void *arg, const struct pg_range *r)
{
    struct expansion_count *c = arg;
    (void)r;
    return ++c->n > c->budget;
}

static int expanded_call(struct ptl_target *t, struct pg_memo_slot *memo, size_t slots, void *arg)
{
    struct expansion_count *c = arg;
    struct pg_iter_opts o = { .start = c->start, .end = c->end, .memo = memo, .memo_slots = slots };
    return pg_count_expanded(&t->ctx, t->root, &o, c->budget + 1, &c->n);
}

bool ptl_expansion_within(struct ptl_target *t, virt_addr_t start, virt_addr_t end,
                          unsigned flags)
{
    if (!t->max_entries)
        return true;
    struct expansion_count c = { 0, t->max_entries, start, end };
    /* Everything expanded: each table counted once (lib/paging); else count by walking. */
    if ((flags & PG_ITER_EXPAND_SHARED) && (flags & PG_ITER_EXPAND_CYCLES) &&
        c.budget < UINT64_MAX && with_memo(t, 1024, expanded_call, &c) == 0)
        return c.n <= c.budget;
    c.n = 0;
    struct pg_iter_opts o = { .start = start, .end = end, .merge = PG_MERGE_NONE,
                              .flags = flags | PG_ITER_HOLES };
    return pg_iterate(&t->ctx, t->root, &o, count_entry, &c) <= 0;
}

int ptl_check_expansion(struct ptl_target *t, virt_addr_t start, virt_addr_t end, unsigned flags,
                        const char *cmd)
{
    if (!ptl_expansion_within(t, start, end, flags)) {
        fflush(stdout);
        fprintf(stderr, "ptlab %s: %s: the tables expand to more than %llu entries (tables "
                "referenced many times, or recursive slots); give --max-entries 0 to walk them "
                "all anyway\n", cmd, t->path, (unsigned long long)t->max_entries);
        return -1;
    }
    return 0;
}
