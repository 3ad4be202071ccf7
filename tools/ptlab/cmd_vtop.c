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
#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#include <paging/mmu.h>

#include "ptlab.h"

#define CR0_WP      (1ULL << 16)

#define PFEC_P      0x01u
#define PFEC_W      0x02u
#define PFEC_U      0x04u
#define PFEC_RSVD   0x08u
#define PFEC_ID     0x10u

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
    printf("  #PF error code 0x%x (%s%s%s%s%s%s)\n", ec, (ec & PFEC_P) ? "P" : "not-present",
           (ec & PFEC_W) ? " W" : " R", (ec & PFEC_U) ? " U" : " S",
           (ec & PFEC_RSVD) ? " RSVD" : "", (ec & PFEC_ID) ? " I/D" : "",
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
    if (cpu && !(cpu->cr0 & CR0_WP))
        mc->cr0 &= ~PG_CR0_WP;
    if (t->ctx.disabled & PG_NO_NX)
        mc->efer &= ~PG_EFER_NXE;
    mc->rflags = cpu ? cpu->rflags : 0x2;
    mc->cpl = user ? 3 : 0;
    return 0;
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
        if (r.error_code & PFEC_RSVD)
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
        const struct pg_walk_step *bad = NULL;
        const char *why;
        char whybuf[96];
        if (r.deny & PG_DENY_USER) {
            bad = first_step(t, w, PTE_U, false);
            why = "U/S (bit 2) is clear: a supervisor page";
        } else if (r.deny & PG_DENY_WRITE) {
            bad = first_step(t, w, PTE_W, false);
            why = user ? "R/W (bit 1) is clear: read-only"
                       : "R/W (bit 1) is clear: read-only, and CR0.WP = 1";
        } else if (r.deny & PG_DENY_XD) {
            bad = first_step(t, w, PTE_NX, true);
            why = "XD (bit 63) is set: not executable";
        } else if (r.deny & PG_DENY_SMEP) {
            bad = step_at(w, w->leaf_level);
            why = "CR4.SMEP = 1 and the page is a user page (U/S set at every level)";
        } else if (r.deny & PG_DENY_SMAP) {
            bad = step_at(w, w->leaf_level);
            why = "CR4.SMAP = 1, RFLAGS.AC = 0 and the page is a user page";
        } else {
            bad = step_at(w, w->leaf_level);
            why = "the protection key denies it";
        }
        printf("page fault\n");
        if (bad) {
            print_step(t, why, bad);
        } else {
            snprintf(whybuf, sizeof(whybuf), "  reason: %s\n", why);
            fputs(whybuf, stdout);
        }
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

int cmd_vtop(int argc, char **argv)
{
    static const struct option longopts[] = {
        PTL_INPUT_OPTIONS,
        { "access", required_argument, NULL, OPT_ACCESS },
        { "user", no_argument, NULL, OPT_USER },
        { "format", required_argument, NULL, OPT_FORMAT },
        { 0, 0, 0, 0 },
    };
    struct ptl_input_opts in;
    ptl_input_defaults(&in);
    char access = 0;
    bool user = false;
    int fmt = -1;   /* -1 auto, 0 crash, 1 walk */
    optind = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        int r = ptl_input_option(c, optarg, &in);
        if (r < 0)
            return ptl_usage_error("vtop", "bad option value");
        if (r > 0)
            continue;
        switch (c) {
        case 'h':
        case OPT_HELP:
            printf("%s%s", vtop_help, ptl_input_help);
            return PTL_EXIT_OK;
        case OPT_ACCESS:
            if (strlen(optarg) != 1 || !strchr("rwx", optarg[0]))
                return ptl_usage_error("vtop", "--access: '%s' is not r, w or x", optarg);
            access = optarg[0];
            break;
        case OPT_USER:
            user = true;
            break;
        case OPT_FORMAT:
            if (!strcmp(optarg, "crash")) fmt = 0;
            else if (!strcmp(optarg, "walk")) fmt = 1;
            else return ptl_usage_error("vtop", "--format: '%s' is not crash or walk", optarg);
            break;
        default:
            return ptl_usage_error("vtop", "unknown option");
        }
    }
    if (argc - optind < 2)
        return ptl_usage_error("vtop", "expected DUMP and at least one VA");
    if (user && !access)
        return ptl_usage_error("vtop", "--user describes the access of --access");
    uint64_t vas[64];
    int nva = argc - optind - 1;
    if (nva > 64)
        return ptl_usage_error("vtop", "at most 64 addresses at a time");
    for (int i = 0; i < nva; i++)
        if (ptl_parse_u64(argv[optind + 1 + i], &vas[i]))
            return ptl_usage_error("vtop", "'%s' is not a hex address", argv[optind + 1 + i]);

    struct ptl_target t;
    int rc = ptl_target_open(&t, argv[optind], &in);
    if (rc)
        return rc;
    unsigned levels = t.mode->levels;
    if (fmt == 0 && levels < PG_MODE_4LEVEL) {
        ptl_target_close(&t);
        return ptl_usage_error("vtop", "--format crash needs 4- or 5-level paging");
    }
    if (fmt < 0)
        fmt = levels >= PG_MODE_4LEVEL ? 0 : 1;
    virt_addr_t pgd_va = 0;
    bool have_pgd_va = false;

    for (int i = 0; i < nva; i++) {
        if (i)
            putchar('\n');
        struct pg_walk w;
        pg_walk(&t.ctx, t.root, vas[i], &w);
        if (fmt == 0) {
            if (!have_pgd_va) {
                pgd_va = root_kernel_va(&t);
                have_pgd_va = true;
            }
            struct pg_vtop_opts vo = { .user = false, .pgd_va = pgd_va,
                                       .phys_bits = t.ctx.phys_bits };
            int r = pg_fmt_vtop(&t.ctx, t.root, vas[i], &vo, &ptl_stdout_sink);
            if (r < 0) {
                ptl_error("vtop", "%016" PRIx64 ": %s", vas[i], r == -PG_ERANGE
                          ? "not a canonical address" : pg_strerror(r));
                rc = PTL_EXIT_FAIL;
                if (access)
                    access_verdict(&t, &w, access, user);
                continue;
            }
        } else {
            print_walk(&t, &w);
        }
        if (w.status != 0)
            rc = PTL_EXIT_FAIL;
        if (access) {
            if (fmt == 0)
                putchar('\n');
            if (access_verdict(&t, &w, access, user))
                rc = PTL_EXIT_FAIL;
        }
    }
    ptl_target_close(&t);
    return rc;
}
