/*
 * cmd_vtop.c: `ptlab vtop DUMP VA...`: translate virtual addresses the way
 * crash's vtop shows it (every level's entry address and value, then the
 * leaf's flags), and with --access say whether an access would fault and
 * why: the level and the bit, with the page-fault error code.
 *
 * The walk and its text come from lib/paging (pg_walk, pg_fmt_vtop); the
 * --access verdict comes from lib/paging's MMU model through access.c
 * (ptl_access_check, shared with `draw walk --access`); this file prints it.
 * Depends on: ptlab.h, access.h, lib/paging.
 */
#include <inttypes.h>
#include <string.h>

#include "access.h"
#include "ptlab.h"

enum { OPT_ACCESS = PTL_OPT_CMD, OPT_USER, OPT_FORMAT };

#define VTOP_MAX_VAS 64

static const char vtop_help[] =
    "usage: ptlab vtop [OPTIONS] DUMP VA...\n"
    "Walk each VA (hex) through DUMP's page tables and print every level as crash's\n"
    "vtop does (4- and 5-level; a plain list of the levels for PAE and 32-bit).\n\n"
    "  --access r|w|x   also say whether a read, write or instruction fetch would\n"
    "                   fault, at which level and because of which bit\n"
    "  --user           with --access: a user-mode (CPL 3) access (default:\n"
    "                   supervisor); uses CR0.WP, CR4.SMEP/SMAP and RFLAGS.AC\n"
    "                   from the dump\n"
    "  --format crash|walk  crash's layout (default for 4/5-level) or one line per\n"
    "                   level\n\n"
    "Exit status 1 if a VA is not mapped or the access would fault.\n\n";

struct pgd_va_search {
    phys_addr_t root;
    bool found;
    virt_addr_t va;
};

static int find_root_va(void *arg, const struct pg_range *r)
{
    struct pgd_va_search *s = arg;
    if (r->kind == PG_RANGE_MAPPED && s->root >= r->pa && s->root - r->pa < r->size) {
        s->va = r->start + (s->root - r->pa);
        s->found = true;
        return 1;
    }
    return 0;
}

/* The VA through which the kernel sees its top table (crash prints it as PGD DIRECTORY):
 * preferably in the kernel image mapping, else anywhere in the upper half. */
static virt_addr_t root_kernel_va(struct ptl_target *t)
{
    const struct pg_mode_desc *m = t->mode;
    if (!m->canonical)
        return t->root;
    struct pgd_va_search s = { .root = t->root & ~0xFFFULL };
    struct pg_iter_opts o = { .start = 0xFFFFFFFF80000000ULL, .end = 0, .merge = PG_MERGE_RAW,
                              .flags = PG_ITER_PHYS_CONTIG };
    ptl_iterate(t, &o, find_root_va, &s);
    if (!s.found) {
        o.start = pg_canonical(m->levels, 1ULL << (m->va_bits - 1));
        ptl_iterate(t, &o, find_root_va, &s);
    }
    return s.found ? s.va + (t->root & 0xFFF) : t->root;
}

static void print_step(const struct ptl_target *t, const char *what, const struct pg_walk_step *st)
{
    printf("  reason: %s in the %s entry (level %d, %s index %u) at %016" PRIx64 " = %016" PRIx64
           "\n", what, pg_level_linux_name(t->mode->levels, st->level), st->level,
           pg_level_intel_name(t->mode->levels, st->level), st->index, st->entry_pa, st->entry);
}

static void print_pfec(unsigned ec)
{
    printf("  #PF error code 0x%x (%s%s%s%s%s%s)\n", ec, (ec & PG_PFEC_P) ? "P" : "not-present",
           (ec & PG_PFEC_W) ? " W" : " R", (ec & PG_PFEC_U) ? " U" : " S",
           (ec & PG_PFEC_RSVD) ? " RSVD" : "", (ec & PG_PFEC_ID) ? " I/D" : "",
           (ec & PG_PFEC_PK) ? " PK" : "");
}

/*
 * access_verdict - would `acc` ('r', 'w', 'x') at the VA fault? Decided by
 * lib/paging's MMU model through ptl_access_check (access.c); printed here.
 * returns 0 if the access is allowed, 1 if it faults or cannot be decided.
 */
static int access_verdict(const struct ptl_target *t, const struct pg_walk *walked, char acc,
                          bool user)
{
    struct ptl_access a;
    char what[40];
    ptl_access_check(t, walked->va, acc, user, &a);
    printf("access: %s: ", ptl_access_what(&a, what));
    switch (a.outcome) {
    case PTL_ACCESS_GP_PDPTE:
        printf("#GP, a present PAE PDPTE has reserved bits (loading CR3 faults)\n");
        return 1;
    case PTL_ACCESS_UNKNOWN:
        printf("cannot tell: %s\n", pg_strerror(a.err));
        return 1;
    case PTL_ACCESS_GP_CANONICAL:
        printf("#GP, not a canonical %s address (no walk)\n", t->mode->name);
        return 1;
    case PTL_ACCESS_PF:
        printf("page fault\n");
        if (a.has_step)
            print_step(t, a.reason, &a.step);
        else if (!a.r.fault_level)
            printf("  reason: %s\n", a.reason);
        print_pfec(a.r.error_code);
        return 1;
    case PTL_ACCESS_ALLOWED:
        break;
    }
    printf("allowed, physical address %016" PRIx64 "\n", a.r.pa);
    if (t->mode->levels >= PG_MODE_4LEVEL && (a.cpu.cr4 & (PG_CR4_PKE | PG_CR4_PKS)) &&
        acc != 'x' && a.r.pkey)
        printf("  note: protection key %u not checked (PKRU/PKRS are not in the dump)\n",
               a.r.pkey);
    return 0;
}

/* One line per level: the fallback layout for PAE and 32-bit, and --format walk. */
static void print_walk(const struct ptl_target *t, const struct pg_walk *w)
{
    printf("VA %016" PRIx64 "  (%s, root %016" PRIx64 ")\n", w->va, t->mode->name, t->root);
    for (unsigned i = 0; i < w->nsteps; i++) {
        const struct pg_walk_step *st = &w->step[i];
        printf("  %-4s %-4s index %3u  entry at %016" PRIx64 " = %016" PRIx64 "%s\n",
               pg_level_linux_name(t->mode->levels, st->level),
               pg_level_intel_name(t->mode->levels, st->level), st->index, st->entry_pa,
               st->entry, !st->dec.present ? "  not present" : st->dec.leaf ? "  leaf" : "");
    }
    char sz[32];
    if (w->status == 0)
        printf("  page %016" PRIx64 " (%s)  physical address %016" PRIx64 "\n",
               w->pa & ~(w->page_size - 1), ptl_size_str(w->page_size, sz), w->pa);
    else
        printf("  not mapped: %s\n", pg_strerror(w->status));
}

static const struct option vtop_options[] = {
    { "access", required_argument, NULL, OPT_ACCESS },
    { "user", no_argument, NULL, OPT_USER },
    { "format", required_argument, NULL, OPT_FORMAT },
    { 0, 0, 0, 0 },
};

enum vtop_format { VTOP_AUTO, VTOP_CRASH, VTOP_WALK };

struct vtop_state {
    char access;                /* 0, 'r', 'w' or 'x' */
    bool user;
    enum vtop_format fmt;
    int nva;
    uint64_t vas[VTOP_MAX_VAS];
    /* the kernel's VA of the root table (crash's PGD DIRECTORY), found once */
    bool have_pgd_va;
    virt_addr_t pgd_va;
};

static int vtop_option(void *state, int code, const char *arg)
{
    struct vtop_state *s = state;
    switch (code) {
    case OPT_ACCESS:
        if (strlen(arg) != 1 || !strchr("rwx", arg[0]))
            return ptl_usage_error("vtop", "--access: '%s' is not r, w or x", arg);
        s->access = arg[0];
        break;
    case OPT_USER:
        s->user = true;
        break;
    case OPT_FORMAT:
        if (!strcmp(arg, "crash")) s->fmt = VTOP_CRASH;
        else if (!strcmp(arg, "walk")) s->fmt = VTOP_WALK;
        else return ptl_usage_error("vtop", "--format: '%s' is not crash or walk", arg);
        break;
    }
    return 0;
}

static int vtop_args(void *state, int argc, char **argv)
{
    struct vtop_state *s = state;
    if (s->user && !s->access)
        return ptl_usage_error("vtop", "--user describes the access of --access");
    if (argc > VTOP_MAX_VAS)
        return ptl_usage_error("vtop", "at most %d addresses at a time", VTOP_MAX_VAS);
    s->nva = argc;
    int rc = 0;
    for (int i = 0; i < argc && !rc; i++)
        rc = ptl_parse_address("vtop", argv[i], &s->vas[i]);
    return rc;
}

/*
 * vtop_one - walk va and print it in s->fmt, then the --access verdict.
 * returns: PTL_EXIT_OK; PTL_EXIT_FAIL if va is not mapped or the access faults.
 */
static int vtop_one(struct vtop_state *s, struct ptl_target *t, uint64_t va)
{
    int rc = PTL_EXIT_OK;
    struct pg_walk w;
    pg_walk(&t->ctx, t->root, va, &w);
    if (s->fmt == VTOP_CRASH) {
        if (!s->have_pgd_va) {
            s->pgd_va = root_kernel_va(t);
            s->have_pgd_va = true;
        }
        struct pg_vtop_opts vo = { .user = false, .pgd_va = s->pgd_va,
                                   .phys_bits = t->ctx.phys_bits };
        int r = pg_fmt_vtop(&t->ctx, t->root, va, &vo, &ptl_stdout_sink);
        if (r < 0) {
            ptl_error("vtop", "%016" PRIx64 ": %s", va, r == -PG_ERANGE
                      ? "not a canonical address" : pg_strerror(r));
            if (s->access)
                access_verdict(t, &w, s->access, s->user);
            return PTL_EXIT_FAIL;
        }
    } else {
        print_walk(t, &w);
    }
    if (w.status != 0)
        rc = PTL_EXIT_FAIL;
    if (s->access) {
        if (s->fmt == VTOP_CRASH)
            putchar('\n');
        if (access_verdict(t, &w, s->access, s->user))
            rc = PTL_EXIT_FAIL;
    }
    return rc;
}

static int vtop_run(void *state, struct ptl_target *t)
{
    struct vtop_state *s = state;
    bool paging64 = t->mode->levels >= PG_MODE_4LEVEL;
    if (s->fmt == VTOP_CRASH && !paging64)
        return ptl_usage_error("vtop", "--format crash needs 4- or 5-level paging");
    if (s->fmt == VTOP_AUTO)
        s->fmt = paging64 ? VTOP_CRASH : VTOP_WALK;
    int rc = PTL_EXIT_OK;
    for (int i = 0; i < s->nva; i++) {
        if (i)
            putchar('\n');
        if (vtop_one(s, t, s->vas[i]) != PTL_EXIT_OK)
            rc = PTL_EXIT_FAIL;
    }
    return rc;
}

const struct ptl_cmd ptl_cmd_vtop = {
    .name = "vtop", .summary = "crash-style walk of a virtual address; --access says if it faults",
    .help = vtop_help, .input = true, .run = vtop_run,
    .state_size = sizeof(struct vtop_state), .options = vtop_options, .option = vtop_option,
    .min_args = 1, .max_args = PTL_ARGS_ANY, .args = vtop_args,
    .args_error = "expected DUMP and at least one VA",
};
