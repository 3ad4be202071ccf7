/*
 * cmd_explain.c: `ptlab explain VA`: how the MMU splits a virtual address
 * into the index used at every table level and the byte offset inside a
 * page of each size the paging mode has. Offline: needs no dump.
 * Depends on: ptlab.h, lib/paging.
 */
#include <inttypes.h>

#include "ptlab.h"

enum { OPT_MODE = PTL_OPT_CMD };

static const char explain_help[] =
    "usage: ptlab explain [--mode 4|5|pae|32] VA\n"
    "Split VA (hex) into the index used at every table level and the byte offset\n"
    "inside a page of each size the mode has, as the MMU does. Needs no dump.\n"
    "  --mode M   paging mode (default 4)\n"
    "  --help     this help\n"
    "Exit status 1 if VA is not a valid linear address of the mode.\n";

static const struct option explain_options[] = {
    { "mode", required_argument, NULL, OPT_MODE },
    { 0, 0, 0, 0 },
};

struct explain_state {
    unsigned levels;
    uint64_t va;
};

static const struct explain_state explain_defaults = { .levels = PG_MODE_4LEVEL };

static int explain_option(void *state, int code, const char *arg)
{
    struct explain_state *s = state;
    (void)code;     /* --mode, the only one */
    s->levels = ptl_parse_mode(arg);
    if (!s->levels)
        return ptl_usage_error("explain", "--mode: '%s' is not one of 4, 5, pae, 32", arg);
    return 0;
}

static int explain_args(void *state, int argc, char **argv)
{
    struct explain_state *s = state;
    (void)argc;
    return ptl_parse_address("explain", argv[0], &s->va);
}

/* Whether va is a linear address of the mode, said on a line. returns: true if it is. */
static bool explain_canonical(const struct pg_mode_desc *m, uint64_t va)
{
    if (!pg_is_canonical(m->levels, va)) {
        if (m->canonical)
            printf("not canonical: bits 63:%u must all equal bit %u (nearest canonical form: "
                   "%016" PRIx64 "); the CPU raises #GP before any walk\n", m->va_bits,
                   m->va_bits - 1, pg_canonical(m->levels, va));
        else
            printf("not a 32-bit linear address: bits 63:32 must be zero\n");
        return false;
    }
    if (m->canonical)
        printf("canonical, %s half\n", (va >> 63) ? "upper (kernel)" : "lower (user)");
    return true;
}

static int explain_run(void *state, struct ptl_target *t)
{
    const struct explain_state *s = state;
    (void)t;
    unsigned levels = s->levels;
    uint64_t va = s->va;
    const struct pg_mode_desc *m = pg_mode_get(levels);
    printf("VA %016" PRIx64 "  %s paging, %u-bit linear addresses\n", va, m->name, m->va_bits);
    int rc = explain_canonical(m, va) ? PTL_EXIT_OK : PTL_EXIT_FAIL;
    unsigned idx[PG_MAX_LEVELS + 1];
    uint64_t off;
    pg_va_split(levels, 1, va, idx, &off);
    for (int l = (int)levels; l >= 1; l--) {
        const struct pg_level_desc *ld = &m->level[l];
        unsigned hi = ld->shift + ld->index_bits - 1;
        printf("  %-4s %-5s index %4u  (bits %2u:%-2u)  entry at table + 0x%x\n",
               ld->linux_name, ld->intel_name, idx[l], hi, ld->shift, idx[l] * ld->entry_size);
    }
    for (int l = 1; l <= (int)levels; l++) {
        if (l > 1 && !m->level[l].large_ok)
            continue;
        char sz[32];
        unsigned bits = m->level[l].shift;
        pg_va_split(levels, l, va, idx, &off);
        printf("  offset in a %s page: %#" PRIx64 " (bits %u:0)\n",
               ptl_size_str(pg_level_size(levels, l), sz), off, bits - 1);
    }
    return rc;
}

const struct ptl_cmd ptl_cmd_explain = {
    .name = "explain", .summary = "split a virtual address into table indices and page offset",
    .help = explain_help, .run = explain_run,
    .state_size = sizeof(struct explain_state), .defaults = &explain_defaults,
    .options = explain_options, .option = explain_option,
    .min_args = 1, .max_args = 1, .args = explain_args, .args_error = "expected one VA argument",
};
