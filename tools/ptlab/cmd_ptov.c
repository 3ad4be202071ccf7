/*
 * cmd_ptov.c: `ptlab ptov DUMP PA`: every virtual address that maps a
 * physical address, in VA order, with the mapping's rights and page size.
 *
 * Mappings come from pg_iterate. A table referenced many times (Linux's
 * ESPfix area) is searched once, at its first reference span, and its other
 * references are counted rather than listed unless --expand.
 * Depends on: ptlab.h, lib/paging.
 */
#include <inttypes.h>
#include <string.h>

#include "ptlab.h"

enum { OPT_EXPAND = PTL_OPT_CMD, OPT_LIMIT };

static const char ptov_help[] =
    "usage: ptlab ptov [OPTIONS] DUMP PA\n"
    "Print every virtual address whose translation is PA (hex), one per line, with\n"
    "the rights (r w x u), global bit, page size and level of the mapping.\n\n"
    "  --expand         list the VAs reached through every reference of a shared\n"
    "                   table (default: the first reference and a count)\n"
    "  --limit N        stop after N addresses (default: no limit)\n\n"
    "Exit status 1 if no virtual address maps PA.\n\n";

struct ptov_state {
    struct ptl_target *t;
    phys_addr_t pa;
    bool expand;
    unsigned long limit;
    unsigned long found;
    bool stopped;
    bool failed;
    /* a sub-search inside one shared-table span */
    unsigned long sub_found;
    virt_addr_t sub_first;
};

static void print_hit(struct ptov_state *s, virt_addr_t va, const struct pg_range *r,
                      const char *note)
{
    char rights[8], psz[32];
    printf("%016" PRIx64 "  %s %c %4s %s%s\n", va, ptl_rights_str(r->eff, rights),
           (r->prot & PTE_G) ? 'G' : '-', ptl_page_size_str(r->page_size, psz),
           pg_level_linux_name(s->t->mode->levels, r->level), note ? note : "");
}

static int ptov_sub(void *arg, const struct pg_range *r)
{
    struct ptov_state *s = arg;
    if (r->kind == PG_RANGE_MAPPED && s->pa >= r->pa && s->pa - r->pa < r->size) {
        if (!s->sub_found++)
            s->sub_first = r->start + (s->pa - r->pa);
        if (s->limit && s->found >= s->limit) {
            s->stopped = true;
            return 1;
        }
        s->found++;
        print_hit(s, r->start + (s->pa - r->pa), r, NULL);
    }
    return 0;
}

static int ptov_range(void *arg, const struct pg_range *r)
{
    struct ptov_state *s = arg;
    if (s->limit && s->found >= s->limit) {
        s->stopped = true;
        return 1;
    }
    if (r->kind == PG_RANGE_MAPPED) {
        if (s->pa >= r->pa && s->pa - r->pa < r->size) {
            s->found++;
            print_hit(s, r->start + (s->pa - r->pa), r, NULL);
        }
        return 0;
    }
    if (r->kind != PG_RANGE_SHARED)
        return 0;
    /* Search the first reference's span with everything below it expanded. */
    uint64_t span = r->size / (r->count ? r->count : 1);
    struct pg_iter_opts o = { .start = r->start, .end = r->start + span, .merge = PG_MERGE_RAW,
                              .flags = PG_ITER_PHYS_CONTIG | PG_ITER_EXPAND_SHARED };
    s->sub_found = 0;
    if (ptl_check_expansion(s->t, o.start, o.end, o.flags, "ptov")) {
        s->failed = true;
        return 1;
    }
    int rc = pg_iterate(&s->t->ctx, s->t->root, &o, ptov_sub, s);
    if (rc > 0)
        return 1;
    if (s->sub_found && r->count > 1) {
        uint64_t more = (r->count - 1) * s->sub_found;
        printf("  ... and %" PRIu64 " more: the %s table %016" PRIx64 " is referenced %" PRIu64
               " times in %016" PRIx64 "-%016" PRIx64 " (--expand lists them)\n", more,
               pg_level_linux_name(s->t->mode->levels, r->level), r->pa, r->count, r->start,
               r->start + r->size);
        s->found += more;
    }
    return 0;
}

static const struct option ptov_options[] = {
    { "expand", no_argument, NULL, OPT_EXPAND },
    { "limit", required_argument, NULL, OPT_LIMIT },
    { 0, 0, 0, 0 },
};

static int ptov_option(void *state, int code, const char *arg)
{
    struct ptov_state *s = state;
    if (code == OPT_EXPAND) {
        s->expand = true;
    } else if (ptl_parse_dec(arg, ~0UL, &s->limit) || s->limit == 0) {
        return ptl_usage_error("ptov", "--limit: '%s' is not a positive number", arg);
    }
    return 0;
}

static int ptov_args(void *state, int argc, char **argv)
{
    struct ptov_state *s = state;
    (void)argc;
    return ptl_parse_address("ptov", argv[0], &s->pa);
}

static int ptov_run(void *state, struct ptl_target *t)
{
    struct ptov_state *s = state;
    s->t = t;
    struct pg_iter_opts o = { .merge = PG_MERGE_RAW, .flags = PG_ITER_PHYS_CONTIG };
    int r;
    if (s->expand) {
        o.flags |= PG_ITER_EXPAND_SHARED;
        if (ptl_check_expansion(t, 0, 0, o.flags, "ptov"))
            return PTL_EXIT_FAIL;
        r = pg_iterate(&t->ctx, t->root, &o, ptov_range, s);
    } else {
        r = ptl_iterate(t, &o, ptov_range, s);
    }
    if (s->failed)
        return PTL_EXIT_FAIL;
    if (r < 0) {
        ptl_error("ptov", "%s: %s", t->path, pg_strerror(r));
        return PTL_EXIT_FAIL;
    }
    if (!s->found) {
        ptl_error("ptov", "no virtual address maps %#" PRIx64, s->pa);
        return PTL_EXIT_FAIL;
    }
    if (s->stopped)
        printf("(stopped after %lu addresses: --limit)\n", s->limit);
    return PTL_EXIT_OK;
}

const struct ptl_cmd ptl_cmd_ptov = {
    .name = "ptov", .summary = "every virtual address that maps a physical address",
    .help = ptov_help, .input = true, .run = ptov_run,
    .state_size = sizeof(struct ptov_state), .options = ptov_options, .option = ptov_option,
    .min_args = 1, .max_args = 1, .args = ptov_args, .args_error = "expected DUMP and PA",
};
