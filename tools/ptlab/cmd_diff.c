/*
 * cmd_diff.c: `ptlab diff A [B]`: the mappings added, removed and changed
 * between two dumps, or between two CR3s (or vCPUs) of one dump.
 *
 * Each side's mappings come from pg_iterate (merged ranges, shared tables
 * summarised); the two sorted range lists are swept together and every
 * stretch of VA where the sides differ is printed once:
 *   + START-END SIZE  <B's mapping>              only in B
 *   - START-END SIZE  <A's mapping>              only in A
 *   ~ START-END SIZE  <A's mapping> -> <B's>      both, different
 * Accessed and dirty bits are ignored. Exit status as diff(1)'s: 0 if the
 * mappings are the same, 1 if they differ, 2 on trouble (a usage error, a
 * dump that cannot be opened or walked).
 * Depends on: ptlab.h, lib/paging.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ptlab.h"

enum { OPT_CR3_B = PTL_OPT_CMD, OPT_CPU_B };

static const char diff_help[] =
    "usage: ptlab diff [OPTIONS] A [B]\n"
    "Compare the mappings of dump A with those of dump B, or of A under another\n"
    "CR3 or vCPU, and print what was added (+), removed (-) and changed (~).\n"
    "The input options apply to both sides; these change side B only:\n"
    "  --cr3-b VALUE    walk B (or A again) from exactly this CR3 (PCID bits\n"
    "                   masked; --user-pgd/--kernel-pgd do not apply to it)\n"
    "  --cpu-b N        walk B (or A again) from vCPU N's CR3\n"
    "Accessed and dirty bits are not compared.\n"
    "Exit status 0 if the mappings are the same, 1 if they differ, 2 on trouble\n"
    "(a usage error, a dump that cannot be read).\n\n";

struct range_list {
    struct pg_range *v;
    size_t n, cap;
    bool oom;
};

static int collect(void *arg, const struct pg_range *r)
{
    struct range_list *l = arg;
    if (r->kind == PG_RANGE_HOLE)
        return 0;
    l->v = ptl_grow(l->v, l->n, &l->cap, sizeof(*l->v), 1024);
    if (!l->v) {
        l->oom = true;
        return 1;
    }
    l->v[l->n++] = *r;
    return 0;
}

/* A side's state over one stretch [x, ...): the range covering x, or none. */
struct side {
    const struct pg_range *r;
};

#define AD_BITS (PTE_A | PTE_D)

/* The physical address at x of range r (for shared/cycle/unreadable: the table). */
static phys_addr_t pa_at(const struct pg_range *r, uint64_t x)
{
    return r->kind == PG_RANGE_MAPPED ? r->pa + (x - r->start) : r->pa;
}

static bool same_mapping(const struct pg_range *a, const struct pg_range *b, uint64_t x)
{
    if (a->kind != b->kind || pa_at(a, x) != pa_at(b, x) || a->eff != b->eff)
        return false;
    if (a->kind != PG_RANGE_MAPPED)
        return a->level == b->level;
    return (a->prot & ~AD_BITS) == (b->prot & ~AD_BITS) && a->page_size == b->page_size;
}

static void describe(const struct ptl_target *t, const struct pg_range *r, uint64_t x)
{
    char rights[8], psz[32];
    const char *lvl = pg_level_linux_name(t->mode->levels, r->level);
    switch (r->kind) {
    case PG_RANGE_MAPPED:
        printf("%016" PRIx64 " %s %c %-3s %s", pa_at(r, x), ptl_rights_str(r->eff, rights),
               (r->prot & PTE_G) ? 'G' : '-', ptl_mem_type(r->prot, PG_PAT_RESET),
               ptl_page_size_str(r->page_size, psz));
        break;
    case PG_RANGE_SHARED:
        printf("shared %s table %016" PRIx64, lvl, r->pa);
        break;
    case PG_RANGE_CYCLE:
        printf("cycle to %s table %016" PRIx64, lvl, r->pa);
        break;
    default:
        printf("unreadable %s table %016" PRIx64, lvl, r->pa);
        break;
    }
}

/* One pending output line, extended while the next stretch continues it. */
struct pending {
    bool have;
    char sign;
    uint64_t start, end;
    const struct pg_range *a, *b;   /* the ranges at start */
};

static void flush_line(const struct ptl_target *ta, const struct ptl_target *tb,
                       struct pending *p)
{
    if (!p->have)
        return;
    char sz[32];
    printf("%c %016" PRIx64 "-%016" PRIx64 " %6s  ", p->sign, p->start, p->end,
           ptl_size_str(p->end - p->start, sz));
    if (p->a)
        describe(ta, p->a, p->start);
    if (p->a && p->b)
        printf("  ->  ");
    if (p->b)
        describe(tb, p->b, p->start);
    putchar('\n');
    p->have = false;
}

/* True if range q at x continues what range p showed from p_start (same range or seamless). */
static bool continues(const struct pg_range *p, uint64_t p_start, const struct pg_range *q,
                      uint64_t x)
{
    if (!p || !q)
        return p == q;
    if (p == q)
        return true;
    return same_mapping(p, q, p_start) && (p->kind != PG_RANGE_MAPPED ||
                                           pa_at(q, x) == pa_at(p, p_start) + (x - p_start));
}

/* The linear (unsigned, hole-free) order of canonical addresses is their plain order. */
static unsigned long sweep(const struct ptl_target *ta, const struct range_list *A,
                           const struct ptl_target *tb, const struct range_list *B)
{
    size_t i = 0, j = 0;
    unsigned long diffs = 0;
    struct pending p = { 0 };
    uint64_t x = 0;
    bool started = false;
    for (;;) {
        /* Skip ranges that end at or before x (end 0 = top). */
        while (i < A->n && started && A->v[i].start + A->v[i].size != 0 &&
               A->v[i].start + A->v[i].size <= x)
            i++;
        while (j < B->n && started && B->v[j].start + B->v[j].size != 0 &&
               B->v[j].start + B->v[j].size <= x)
            j++;
        if (i >= A->n && j >= B->n)
            break;
        const struct pg_range *a = i < A->n ? &A->v[i] : NULL;
        const struct pg_range *b = j < B->n ? &B->v[j] : NULL;
        if (!started) {
            x = a && b ? (a->start < b->start ? a->start : b->start) : a ? a->start : b->start;
            started = true;
        }
        bool ina = a && a->start <= x, inb = b && b->start <= x;
        if (!ina && !inb) {
            x = a && b ? (a->start < b->start ? a->start : b->start) : a ? a->start : b->start;
            continue;
        }
        /* The stretch [x, y): up to the next boundary on either side. */
        uint64_t y = 0;     /* 0 = top */
        uint64_t cands[4] = { ina ? a->start + a->size : (a ? a->start : 0),
                              inb ? b->start + b->size : (b ? b->start : 0), 0, 0 };
        for (int k = 0; k < 2; k++)
            if (cands[k] != 0 && cands[k] > x && (y == 0 || cands[k] < y))
                y = cands[k];
        const struct pg_range *ra = ina ? a : NULL, *rb = inb ? b : NULL;
        char sign = 0;
        if (ra && !rb)
            sign = '-';
        else if (rb && !ra)
            sign = '+';
        else if (!same_mapping(ra, rb, x))
            sign = '~';
        if (sign) {
            if (p.have && p.sign == sign && p.end == x && continues(p.a, p.start, ra, x) &&
                continues(p.b, p.start, rb, x)) {
                p.end = y;
            } else {
                flush_line(ta, tb, &p);
                p = (struct pending){ true, sign, x, y, ra, rb };
                diffs++;
            }
        }
        if (y == 0)
            break;
        x = y;
    }
    flush_line(ta, tb, &p);
    return diffs;
}

static int load_side(struct ptl_target *t, struct range_list *l)
{
    struct pg_iter_opts o = { .merge = PG_MERGE_RAW, .flags = PG_ITER_PHYS_CONTIG };
    int r = ptl_iterate(t, &o, collect, l);
    if (l->oom)
        return -PG_ENOMEM;
    return r;
}

static const struct option diff_options[] = {
    { "cr3-b", required_argument, NULL, OPT_CR3_B },
    { "cpu-b", required_argument, NULL, OPT_CPU_B },
    { 0, 0, 0, 0 },
};

struct diff_state {
    bool have_cr3_b, have_cpu_b;
    uint64_t cr3_b;
    unsigned long cpu_b;
    const char *path_b;         /* B, or NULL: A again */
};

static int diff_option(void *state, int code, const char *arg)
{
    struct diff_state *s = state;
    if (code == OPT_CR3_B) {
        if (ptl_parse_u64(arg, &s->cr3_b))
            return ptl_usage_error("diff", "--cr3-b: '%s' is not a hex value", arg);
        s->have_cr3_b = true;
    } else {
        if (ptl_parse_dec(arg, 4095, &s->cpu_b))
            return ptl_usage_error("diff", "--cpu-b: '%s' is not a vCPU index", arg);
        s->have_cpu_b = true;
    }
    return 0;
}

static int diff_args(void *state, int argc, char **argv)
{
    struct diff_state *s = state;
    if (argc == 0 && !s->have_cr3_b && !s->have_cpu_b)
        return ptl_usage_error("diff", "one dump: say which other CR3 with --cr3-b or --cpu-b");
    s->path_b = argc ? argv[0] : NULL;
    return 0;
}

/* open_b - side B: dump B (or A again) with A's input options changed by --cr3-b/--cpu-b. */
static int open_b(const struct diff_state *s, const struct ptl_target *ta, struct ptl_target *tb)
{
    struct ptl_input_opts inb = ta->in;
    if (s->path_b)
        inb.path = s->path_b;
    if (s->have_cpu_b) {
        inb.cpu = (int)s->cpu_b;
        inb.have_cr3 = false;
    }
    if (s->have_cr3_b) {
        inb.cr3 = s->cr3_b;
        inb.have_cr3 = true;
        inb.pgd = PTL_PGD_AS_STORED;    /* exactly this CR3 */
    }
    return ptl_target_open(tb, &inb);
}

static int diff_run(void *state, struct ptl_target *ta)
{
    struct ptl_target tb;
    if (open_b(state, ta, &tb))
        return PTL_EXIT_TROUBLE;
    int rc;
    struct range_list A = { 0 }, B = { 0 };
    int r = load_side(ta, &A);
    if (r == 0)
        r = load_side(&tb, &B);
    if (r < 0) {
        ptl_error("diff", "%s", pg_strerror(r));
        rc = PTL_EXIT_TROUBLE;
    } else {
        if (ta->mode->levels != tb.mode->levels)
            printf("# paging modes differ: %s -> %s\n", ta->mode->name, tb.mode->name);
        rc = sweep(ta, &A, &tb, &B) ? PTL_EXIT_FAIL : PTL_EXIT_OK;
    }
    free(A.v);
    free(B.v);
    ptl_target_close(&tb);
    return rc;
}

const struct ptl_cmd ptl_cmd_diff = {
    .name = "diff", .summary = "mappings added, removed and changed between two dumps or CR3s",
    .help = diff_help, .input = true, .run = diff_run, .trouble = PTL_EXIT_TROUBLE,
    .state_size = sizeof(struct diff_state), .options = diff_options, .option = diff_option,
    .min_args = 0, .max_args = 1, .args = diff_args,
    .args_error = "expected dumps A and B, or A with --cr3-b/--cpu-b",
};
