/*
 * cmd_vtop.c: `ptlab vtop DUMP VA...`: translate virtual addresses the way
 * crash's vtop shows it (every level's entry address and value, then the
 * leaf's flags), and with --access say whether an access would fault and
 * why: the level and the bit, with the page-fault error code.
 *
 * The walk and its text come from lib/paging (pg_walk, pg_fmt_vtop); the
 * --access verdict comes from lib/paging's MMU model (pg_mmu_access, see
 * docs/mmu.md) with CR0.WP, CR4 and RFLAGS from the dump's vCPU note; this
 * file only explains it. Protection keys are not checked (PKRU/PKRS are not
 * in a QEMU dump).
 * Depends on: ptlab.h, lib/paging.
 */
#include <inttypes.h>
#include <string.h>

#include <paging/mmu.h>

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

/* The walk step of `level`, or NULL. */
static const struct pg_walk_step *step_at(const struct pg_walk *w, int level)
{
    for (unsigned i = 0; i < w->nsteps; i++)
        if (w->step[i].level == level)
            return &w->step[i];
    return NULL;
}

/* The first step (from the top) whose entry has `bit` clear (want_set) or set; PAE PDPTEs skipped. */
static const struct pg_walk_step *first_step(const struct ptl_target *t, const struct pg_walk *w,
                                             uint64_t bit, bool set)
{
    for (unsigned i = 0; i < w->nsteps; i++) {
        const struct pg_walk_step *st = &w->step[i];
        if (t->mode->levels == PG_MODE_PAE && st->level == 3)
            continue;
        if (((st->entry & bit) != 0) == set)
            return st;
    }
    return NULL;
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
 * model_cpu - the CPU state of the dump for lib/paging's MMU model: the mode
 * and root of the target, CR0.WP, CR4 (PSE, SMEP, SMAP, PKE, PKS) and RFLAGS
 * from the vCPU note (without one: WP = 1, nothing else). A QEMU dump has no
 * EFER, PKRU, PKRS or PDPTE registers: NXE follows the walk context (on
 * unless PG_NO_NX), every key allows everything, and in PAE mode the PDPTE
 * registers are loaded from memory as the last MOV CR3 would have.
 * returns: 0, or the -PG_E* code of the PDPTE load (-PG_EGP, -PG_EIO).
 */
static int model_cpu(const struct ptl_target *t, bool user, struct pg_cpu *mc)
{
    const struct ptl_cpu *cpu = t->cpu;
    unsigned levels = t->mode->levels;
    pg_cpu_reset(mc, PG_CPUID_ALL, t->ctx.phys_bits ? t->ctx.phys_bits
                                   : levels == PG_MODE_32BIT ? 40 : 52);
    uint64_t keep = PG_CR4_SMEP | PG_CR4_SMAP | PG_CR4_PKE | PG_CR4_PKS;
    if (cpu)
        mc->cr4 = cpu->cr4 & keep;
    if (levels == PG_MODE_32BIT && !(t->ctx.disabled & PG_NO_PSE))
        mc->cr4 |= PG_CR4_PSE;
    int err = pg_cpu_set_paging(mc, levels, t->root, &t->ctx);
    if (err)
        return err;
    if (cpu && !(cpu->cr0 & PG_CR0_WP))
        mc->cr0 &= ~PG_CR0_WP;
    if (t->ctx.disabled & PG_NO_NX)
        mc->efer &= ~PG_EFER_NXE;
    mc->rflags = cpu ? cpu->rflags : 0x2;
    mc->cpl = user ? 3 : 0;
    return 0;
}

/*
 * denial - why the MMU model denied an access to a present page (deny: its
 * PG_DENY_* bits), and the entry responsible: the first from the top whose
 * bit denies it, or the leaf's.
 * returns: that step (NULL if the walk has none); *why: the reason.
 */
static const struct pg_walk_step *denial(const struct ptl_target *t, const struct pg_walk *w,
                                         unsigned deny, bool user, const char **why)
{
    if (deny & PG_DENY_USER) {
        *why = "U/S (bit 2) is clear: a supervisor page";
        return first_step(t, w, PTE_U, false);
    }
    if (deny & PG_DENY_WRITE) {
        *why = user ? "R/W (bit 1) is clear: read-only"
                    : "R/W (bit 1) is clear: read-only, and CR0.WP = 1";
        return first_step(t, w, PTE_W, false);
    }
    if (deny & PG_DENY_XD) {
        *why = "XD (bit 63) is set: not executable";
        return first_step(t, w, PTE_NX, true);
    }
    if (deny & PG_DENY_SMEP)
        *why = "CR4.SMEP = 1 and the page is a user page (U/S set at every level)";
    else if (deny & PG_DENY_SMAP)
        *why = "CR4.SMAP = 1, RFLAGS.AC = 0 and the page is a user page";
    else
        *why = "the protection key denies it";
    return step_at(w, w->leaf_level);
}

/*
 * access_verdict - would `acc` ('r', 'w', 'x') at the VA fault? Decided by
 * lib/paging's MMU model (pg_mmu_access, A/D only reported: the dump is not
 * changed); this function only explains the outcome. Prints the verdict;
 * returns 0 if the access is allowed, 1 if it faults or cannot be decided.
 */
static int access_verdict(const struct ptl_target *t, const struct pg_walk *walked, char acc,
                          bool user)
{
    bool write = acc == 'w', fetch = acc == 'x';
    printf("access: %s %s: ", user ? "user" : "supervisor",
           write ? "write" : fetch ? "instruction fetch" : "read");

    struct pg_cpu mc;
    struct pg_mmu_result r;
    int err = model_cpu(t, user, &mc);
    if (err == -PG_EGP) {
        printf("#GP, a present PAE PDPTE has reserved bits (loading CR3 faults)\n");
        return 1;
    }
    if (!err)
        err = pg_mmu_access(&t->ctx, &mc, walked->va,
                            write ? PG_ACC_WRITE : fetch ? PG_ACC_FETCH : PG_ACC_READ,
                            PG_MMU_REPORT_AD, NULL, &r);
    if (err) {
        printf("cannot tell: %s\n", pg_strerror(err));
        return 1;
    }
    const struct pg_walk *w = &r.walk;
    if (r.vector == PG_VEC_GP) {
        printf("#GP, not a canonical %s address (no walk)\n", t->mode->name);
        return 1;
    }
    if (r.vector == PG_VEC_PF && r.fault_level) {
        const struct pg_walk_step *st = step_at(w, r.fault_level);
        char what[64];
        if (r.error_code & PG_PFEC_RSVD)
            snprintf(what, sizeof(what), "reserved bits %#" PRIx64 " are set", r.rsvd_bits);
        else
            snprintf(what, sizeof(what), "P (bit 0) is clear");
        printf("page fault\n");
        if (st)
            print_step(t, what, st);
        print_pfec(r.error_code);
        return 1;
    }
    if (r.vector == PG_VEC_PF) {
        const char *why;
        const struct pg_walk_step *bad = denial(t, w, r.deny, user, &why);
        printf("page fault\n");
        if (bad)
            print_step(t, why, bad);
        else
            printf("  reason: %s\n", why);
        print_pfec(r.error_code);
        return 1;
    }
    printf("allowed, physical address %016" PRIx64 "\n", r.pa);
    if (t->mode->levels >= PG_MODE_4LEVEL && (mc.cr4 & (PG_CR4_PKE | PG_CR4_PKS)) && !fetch &&
        r.pkey)
        printf("  note: protection key %u not checked (PKRU/PKRS are not in the dump)\n", r.pkey);
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
