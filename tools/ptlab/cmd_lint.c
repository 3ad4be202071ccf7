/*
 * cmd_lint.c: `ptlab lint DUMP`: findings in a dump's page tables:
 *   wx            mappings both writable and executable (effective rights)
 *   reserved      present entries with reserved bits set (the MMU faults there)
 *   misaligned    large-page leaves whose frame is not aligned to the page size
 *   outside-ram   table pointers to memory the dump does not have
 *   user-table    a page-table page mapped user-accessible
 *   cycle         an entry pointing back to a table on its own walk
 *   pti-user      in a PTI user PGD, kernel memory Linux's pti.c does not
 *                 clone there (lib/paging's pg_pti_user_clone)
 * Exit status 1 when there is any finding.
 *
 * Everything comes from lib/paging: pg_iterate (each shared table expanded at
 * its first reference, so each table is examined once), pg_walk for the
 * entries above each leaf table, pg_entry_reserved for the leaves,
 * pg_pti_user_clone for the kernel half of a PTI user PGD.
 * Depends on: ptlab.h, lib/paging.
 */
#include <stdarg.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ptlab.h"

static const char lint_help[] =
    "usage: ptlab lint [OPTIONS] DUMP\n"
    "Check DUMP's page tables and print one line per finding:\n"
    "  wx           writable and executable mapping (effective rights)\n"
    "  reserved     a present entry with reserved bits set (see --phys-bits)\n"
    "  misaligned   a 2M/1G/4M leaf whose frame is not aligned to its size\n"
    "  outside-ram  a table pointer to memory the dump does not contain\n"
    "  user-table   a page-table page mapped user-accessible\n"
    "  cycle        an entry pointing back to a table on its own walk\n"
    "  pti-user     kernel memory in a PTI user PGD that Linux never maps there:\n"
    "               anything but the cpu_entry_area, read-only executable (entry)\n"
    "               text, each CPU's TSS page (a frame the cpu_entry_area maps\n"
    "               too), and read-only ESPfix, kernel image, LDT and vsyscall\n"
    "               pages; checked with --user-pgd, or when CR3 is a user PGD\n"
    "               (bit 12 set, a kernel half with the cpu_entry_area and no\n"
    "               direct map)\n"
    "Exit status 1 if anything is found, 0 if the tables are clean.\n\n";

struct pa_set {
    phys_addr_t *v;
    size_t n, cap;
};

static int pa_set_add(struct pa_set *s, phys_addr_t pa)
{
    s->v = ptl_grow(s->v, s->n, &s->cap, sizeof(*s->v), 256);
    if (!s->v)
        return -1;
    s->v[s->n++] = pa;
    return 0;
}

static int pa_cmp(const void *a, const void *b)
{
    phys_addr_t x = *(const phys_addr_t *)a, y = *(const phys_addr_t *)b;
    return x < y ? -1 : x > y;
}

struct user_range {
    virt_addr_t va;
    phys_addr_t pa;
    uint64_t size;
    uint64_t eff;
};

struct lint_state {
    struct ptl_target *t;
    unsigned long findings;
    struct pa_set tables;
    struct user_range *user;
    size_t nuser, user_cap;
    uint64_t last_block;        /* the table block of the last pg_walk */
    bool have_block;
    uint64_t reported_rsvd_table;
    bool oom;
};

static void finding(struct lint_state *s, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void finding(struct lint_state *s, const char *kind, const char *fmt, ...)
{
    va_list ap;
    printf("%-11s ", kind);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    s->findings++;
}

/* Pass 1 (merged ranges): W+X, unreadable tables, cycles, and the user ranges. */
static int lint_ranges(void *arg, const struct pg_range *r)
{
    struct lint_state *s = arg;
    const struct pg_mode_desc *m = s->t->mode;
    const char *lvl = pg_level_linux_name(m->levels, r->level);
    uint64_t end = r->start + r->size;
    char sz[32];
    switch (r->kind) {
    case PG_RANGE_MAPPED:
        if (pg_range_wx(r))
            finding(s, "wx", "%016" PRIx64 "-%016" PRIx64 " %s writable and executable%s",
                    r->start, end, ptl_size_str(r->size, sz),
                    (r->eff & PTE_U) ? ", user" : "");
        if (r->eff & PTE_U) {
            s->user = ptl_grow(s->user, s->nuser, &s->user_cap, sizeof(*s->user), 256);
            if (!s->user) {
                s->oom = true;
                return 1;
            }
            s->user[s->nuser++] = (struct user_range){ r->start, r->pa, r->size, r->eff };
        }
        break;
    case PG_RANGE_UNREADABLE:
        finding(s, "outside-ram", "%016" PRIx64 "-%016" PRIx64 " points to a %s table at "
                "%016" PRIx64 ", outside the dump's memory (entry %016" PRIx64 ")", r->start,
                end, lvl, r->pa, r->entry);
        break;
    case PG_RANGE_CYCLE:
        finding(s, "cycle", "%016" PRIx64 "-%016" PRIx64 " entry %016" PRIx64 " points back to "
                "table %016" PRIx64 " on its own walk (there used as a %s table)", r->start, end,
                r->entry, r->pa, lvl);
        break;
    default:
        break;
    }
    return 0;
}

/* Pass 2 (one range per entry): reserved bits, misaligned leaves, and the table set. */
static int lint_entries(void *arg, const struct pg_range *r)
{
    struct lint_state *s = arg;
    struct ptl_target *t = s->t;
    const struct pg_mode_desc *m = t->mode;
    if (r->kind != PG_RANGE_MAPPED)
        return 0;
    const char *lvl = pg_level_linux_name(m->levels, r->level);

    /* The tables above this leaf: walked once per leaf table. */
    uint64_t block_size = pg_level_size(m->levels, r->level + 1 <= (int)m->levels ? r->level + 1
                                                                                  : r->level);
    uint64_t block = r->start & ~(block_size - 1);
    if (!s->have_block || block != s->last_block) {
        s->have_block = true;
        s->last_block = block;
        struct pg_walk w;
        pg_walk(&t->ctx, t->root, r->start, &w);
        for (unsigned i = 0; i < w.nsteps; i++)
            if (pa_set_add(&s->tables, w.step[i].table_pa)) {
                s->oom = true;
                return 1;
            }
        if (w.status == -PG_ERSVD && w.fault_level > r->level) {
            const struct pg_walk_step *st = NULL;
            for (unsigned i = 0; i < w.nsteps; i++)
                if (w.step[i].level == w.fault_level)
                    st = &w.step[i];
            if (st && st->entry_pa != s->reported_rsvd_table) {
                s->reported_rsvd_table = st->entry_pa;
                finding(s, "reserved", "%s entry at %016" PRIx64 " = %016" PRIx64 " (above %016"
                        PRIx64 "): reserved bits %#" PRIx64, pg_level_linux_name(m->levels,
                        st->level), st->entry_pa, st->entry, r->start, w.rsvd_bits);
            }
        }
    }

    uint64_t rsvd = pg_entry_reserved(&t->ctx, r->level, r->entry);
    uint64_t misalign = 0;
    if (r->level > 1 && m->levels != PG_MODE_32BIT)
        misalign = r->entry & PTE_PFN_MASK & (r->page_size - 1) & ~PTE_PAT_LARGE;
    if (misalign) {
        char sz[32];
        finding(s, "misaligned", "%016" PRIx64 " %s leaf %016" PRIx64 ": frame not aligned to "
                "%s (bits %#" PRIx64 ")", r->start, lvl, r->entry,
                ptl_size_str(r->page_size, sz), misalign);
        rsvd &= ~misalign;
    }
    if (rsvd)
        finding(s, "reserved", "%016" PRIx64 " %s leaf %016" PRIx64 ": reserved bits %#" PRIx64,
                r->start, lvl, r->entry, rsvd);
    return 0;
}

/* Pass 3: page-table pages reachable through a user-accessible mapping. */
static void lint_user_tables(struct lint_state *s)
{
    qsort(s->tables.v, s->tables.n, sizeof(phys_addr_t), pa_cmp);
    for (size_t i = 0; i < s->nuser; i++) {
        const struct user_range *u = &s->user[i];
        size_t lo = 0, hi = s->tables.n;
        while (lo < hi) {   /* the first table >= u->pa */
            size_t mid = lo + (hi - lo) / 2;
            if (s->tables.v[mid] < u->pa)
                lo = mid + 1;
            else
                hi = mid;
        }
        phys_addr_t prev = ~0ULL;
        for (size_t k = lo; k < s->tables.n && s->tables.v[k] - u->pa < u->size; k++) {
            if (s->tables.v[k] == prev)
                continue;
            prev = s->tables.v[k];
            finding(s, "user-table", "page table %016" PRIx64 " is mapped user-accessible"
                    "%s at %016" PRIx64, prev, (u->eff & PTE_W) ? " and writable" : "",
                    u->va + (prev - u->pa));
        }
    }
}

/* The PTI pass: the cpu_entry_area's frames, then the kernel half's ranges. */
struct pti_state {
    struct lint_state *s;
    struct user_range *cea;     /* the cpu_entry_area's ranges (va, pa, size) */
    size_t ncea, cea_cap;
};

static int pti_cea_range(void *arg, const struct pg_range *r)
{
    struct pti_state *p = arg;
    if (r->kind != PG_RANGE_MAPPED)
        return 0;
    p->cea = ptl_grow(p->cea, p->ncea, &p->cea_cap, sizeof(*p->cea), 64);
    if (!p->cea) {
        p->s->oom = true;
        return 1;
    }
    p->cea[p->ncea++] = (struct user_range){ r->start, r->pa, r->size, r->eff };
    return 0;
}

/* Is every frame of [pa, pa + size) also mapped in the cpu_entry_area? */
static bool pti_cea_alias(const struct pti_state *p, phys_addr_t pa, uint64_t size)
{
    for (uint64_t off = 0; off < size; off += PAGE_SIZE) {
        bool found = false;
        for (size_t i = 0; i < p->ncea && !found; i++)
            found = pa + off - p->cea[i].pa < p->cea[i].size;
        if (!found)
            return false;
    }
    return true;
}

static int pti_kernel_range(void *arg, const struct pg_range *r)
{
    struct pti_state *p = arg;
    if (r->kind != PG_RANGE_MAPPED)
        return 0;
    bool alias = !(r->eff & PTE_NX) ? false : pti_cea_alias(p, r->pa, r->size);
    if (pg_pti_user_clone(p->s->t->mode->levels, r->start, r->size, r->eff, alias)
        != PG_PTI_NOT_CLONED)
        return 0;
    char sz[32], rights[8];
    finding(p->s, "pti-user", "%016" PRIx64 "-%016" PRIx64 " %s %s kernel memory in a PTI user "
            "PGD that none of Linux's PTI clones maps", r->start,
            r->start + r->size, ptl_size_str(r->size, sz), ptl_rights_str(r->eff, rights));
    return 0;
}

/*
 * Is t's root a PTI user PGD? --user-pgd says so; with the CR3 as stored,
 * bit 12 set and a kernel half that Linux's layout inference calls a PTI
 * user PGD (the cpu_entry_area, no direct map). 4- and 5-level only.
 */
static bool pti_user_root(struct ptl_target *t)
{
    if (t->mode->levels < PG_MODE_4LEVEL || t->in.pgd == PTL_PGD_KERNEL)
        return false;
    if (t->in.pgd == PTL_PGD_USER)
        return true;
    if (!(t->root & PG_PTI_USER_PGD_BIT))
        return false;
    struct pg_linux_inferred *l = malloc(sizeof(*l));
    bool pti = l && ptl_linux_layout(t, l) == 0 && l->verdict == PG_LV_PTI_USER_PGD;
    free(l);
    return pti;
}

static int lint_pti(struct lint_state *s)
{
    struct ptl_target *t = s->t;
    struct pti_state p = { .s = s };
    struct pg_iter_opts o = { .start = PG_PTI_CPU_ENTRY_AREA_BASE, .end = PG_PTI_CPU_ENTRY_AREA_END,
                              .merge = PG_MERGE_RAW,
                              .flags = PG_ITER_EXPAND_FIRST | PG_ITER_PHYS_CONTIG };
    int r = ptl_iterate(t, &o, pti_cea_range, &p);
    if (r == 0 && !s->oom) {
        struct pg_iter_opts k = { .start = ~0ULL << (t->mode->va_bits - 1),
                                  .merge = PG_MERGE_RAW,
                                  .flags = PG_ITER_EXPAND_FIRST | PG_ITER_PHYS_CONTIG };
        r = ptl_iterate(t, &k, pti_kernel_range, &p);
    }
    free(p.cea);
    return r;
}

static int lint_run(void *state, struct ptl_target *t)
{
    (void)state;
    int rc;
    struct lint_state s = { .t = t };
    struct pg_iter_opts o1 = { .merge = PG_MERGE_RAW,
                               .flags = PG_ITER_EXPAND_FIRST | PG_ITER_PHYS_CONTIG };
    int r = ptl_iterate(t, &o1, lint_ranges, &s);
    if (r == 0) {
        struct pg_iter_opts o2 = { .merge = PG_MERGE_NONE, .flags = PG_ITER_EXPAND_FIRST };
        r = ptl_iterate(t, &o2, lint_entries, &s);
    }
    if (r == 0 && !s.oom && s.nuser && s.tables.n)
        lint_user_tables(&s);
    if (r == 0 && !s.oom && pti_user_root(t))
        r = lint_pti(&s);
    if (s.oom) {
        ptl_error("lint", "out of memory");
        rc = PTL_EXIT_FAIL;
    } else if (r < 0) {
        ptl_error("lint", "%s: %s", t->path, pg_strerror(r));
        rc = PTL_EXIT_FAIL;
    } else {
        printf("%lu finding%s\n", s.findings, s.findings == 1 ? "" : "s");
        rc = s.findings ? PTL_EXIT_FAIL : PTL_EXIT_OK;
    }
    free(s.tables.v);
    free(s.user);
    return rc;
}

const struct ptl_cmd ptl_cmd_lint = {
    .name = "lint", .summary = "W+X, reserved bits, misaligned pages, bad pointers, cycles, PTI leaks",
    .help = lint_help, .input = true, .run = lint_run,
    .args_error = "expected one DUMP argument",
};
