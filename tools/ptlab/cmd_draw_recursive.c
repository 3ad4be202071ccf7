/*
 * cmd_draw_recursive.c: `ptlab draw recursive SOURCE VA`: the recursive
 * slot's paths (docs/linux.md, "The recursive slot"). With top-level entry
 * SLOT pointing back to the top table, going through it once more per level
 * makes the MMU's last step land on a table instead of a page: once, VA's
 * PTE; twice, its PDE; and so on up to the top table's own entry. Each path
 * is drawn as the walk the MMU makes (lib/paging's pg_walk of the address
 * pg_recursive_entry_va gives), ending at the physical address it reads,
 * checked against the entry's address in VA's ordinary walk.
 * Depends on: ptlab.h, draw.h.
 */
#include <inttypes.h>
#include <string.h>

#include "draw.h"
#include "ptlab.h"

#define R_LEFT  24.0
#define R_BOX_W 150.0
#define R_STEP  178.0
#define R_ROW   112.0

/* The first top-level entry pointing back at the top table, or -1. */
static int find_slot(const struct ptl_target *t)
{
    for (unsigned i = 0; i < 512; i++) {
        uint64_t raw;
        struct pg_entry e;
        if (pg_entry_read(&t->ctx, t->root, (int)t->mode->levels, i, &raw) == 0 &&
            pg_entry_decode(&t->ctx, (int)t->mode->levels, raw, &e) == 0 && e.present &&
            !e.leaf && e.addr == t->root)
            return (int)i;
    }
    return -1;
}

/* One step of a path: a box with the table, the index and the entry. */
static void path_step(struct ptl_svg *s, const struct ptl_target *t,
                      const struct pg_walk_step *st, bool slot_hop, double x, double y)
{
    const struct pg_level_desc *ld = &t->mode->level[st->level];
    svg_group(s, "g-step", "data-level=\"%d\" data-table=\"%016" PRIx64 "\" data-index=\"%u\" "
              "data-entry=\"%016" PRIx64 "\"", st->level, st->table_pa, st->index, st->entry);
    svg_title(s, "walk level %d (%s): the table at %016" PRIx64 ", entry %u = %016" PRIx64 "%s",
              st->level, ld->intel_name, st->table_pa, st->index, st->entry,
              slot_hop ? ": the recursive slot, back to the top table" : "");
    svg_rect(s, x, y, R_BOX_W, 56, 4, slot_hop ? "box back-box" : "box");
    svg_text(s, x + 8, y + 16, "small dim", "as %s", ld->intel_name);
    svg_text(s, x + R_BOX_W - 8, y + 16, "r b", "[%u]", st->index);
    svg_text(s, x + 8, y + 33, "mono small", "%016" PRIx64, st->table_pa);
    svg_text(s, x + 8, y + 49, "mono small dim", "= %016" PRIx64, st->entry);
    svg_group_end(s);
}

/*
 * draw_path - one path at y: VA's entry at `level` read through the slot,
 * the walk, what it reads and whether that is the entry's address in VA's
 * own walk (plain).
 */
static void draw_path(struct ptl_svg *s, const struct ptl_target *t, unsigned slot, uint64_t va,
                      const struct pg_walk *plain, int level, double y)
{
    virt_addr_t rva;
    pg_recursive_entry_va(t->mode->levels, slot, va, level, &rva);
    struct pg_walk w;
    pg_walk(&t->ctx, t->root, rva, &w);
    const struct pg_walk_step *want = NULL;
    for (unsigned i = 0; i < plain->nsteps; i++)
        if (plain->step[i].level == level)
            want = &plain->step[i];
    bool ok = w.status == 0 && want && w.pa == want->entry_pa;
    const struct pg_level_desc *ld = &t->mode->level[level];
    svg_group(s, "g-path", "data-level=\"%d\" data-va=\"%016" PRIx64 "\" data-pa=\"%016" PRIx64
              "\" data-want=\"%016" PRIx64 "\" data-ok=\"%d\"", level, rva,
              w.status == 0 ? w.pa : 0, want ? want->entry_pa : 0, ok);
    svg_text(s, R_LEFT, y, "b", "%s %s of %016" PRIx64 ", read at %016" PRIx64 ": through the "
             "slot %d time%s", level == (int)t->mode->levels ? "The top table's entry, the"
             : "The", ld->linux_name, va, rva, level, level == 1 ? "" : "s");
    double x = R_LEFT;
    for (unsigned i = 0; i < w.nsteps; i++) {
        const struct pg_walk_step *st = &w.step[i];
        bool hop = st->dec.present && st->dec.addr == t->root && st->index == slot &&
                   st->table_pa == t->root;
        path_step(s, t, st, hop, x, y + 12);
        if (i + 1 < w.nsteps || w.status == 0)
            svg_arrow(s, x + R_BOX_W, y + 40, x + R_STEP, y + 40, false, hop ? "back" : "arrow");
        x += R_STEP;
    }
    if (w.status == 0)
        svg_text(s, x, y + 32, ok ? "b good" : "b bad", "reads %016" PRIx64 "%s", w.pa,
                 ok ? ":" : ": not the entry's address");
    else
        svg_text(s, x, y + 32, "bad", "stops: %s", pg_strerror(w.status));
    if (want)
        svg_text(s, x, y + 50, "small", "= VA's %s entry at %016" PRIx64 "%s", ld->linux_name,
                 want->entry_pa, ok ? ", as its walk says" : "");
    svg_group_end(s);
}

enum { OPT_OUTPUT = 'o', OPT_SLOT = PTL_OPT_CMD };

static const char recursive_help[] =
    "usage: ptlab draw recursive [OPTIONS] SOURCE VA [-o FILE.svg]\n"
    "Draw the recursive slot's paths to VA's table entries as an SVG: with a\n"
    "top-level entry pointing back at the top table, the MMU reaches VA's PTE, PDE,\n"
    "PDPTE and top-level entry as data by going through the slot once, twice, ...\n"
    "Each path is the walk of the address lib/paging computes for it, ending at the\n"
    "physical address it reads, next to the entry's address in VA's own walk.\n\n"
    "  -o, --output FILE  write the SVG there (default: standard output)\n"
    "  --slot N         the slot (default: the first top-level entry that points at\n"
    "                   the top table; the kernel shell's `recursive on N` makes one)\n\n";

static const struct option recursive_options[] = {
    { "output", required_argument, NULL, OPT_OUTPUT },
    { "slot", required_argument, NULL, OPT_SLOT },
    { 0, 0, 0, 0 },
};

struct recursive_state {
    const char *output;
    int slot;
    uint64_t va;
};

static const struct recursive_state recursive_defaults = { .slot = -1 };

static int recursive_option(void *state, int code, const char *arg)
{
    struct recursive_state *s = state;
    unsigned long n;
    if (code == OPT_OUTPUT) {
        s->output = arg;
    } else {
        if (ptl_parse_dec(arg, 511, &n))
            return ptl_usage_error("draw recursive", "--slot: '%s' is not in 0..511", arg);
        s->slot = (int)n;
    }
    return 0;
}

static int recursive_args(void *state, int argc, char **argv)
{
    (void)argc;
    return ptl_parse_address("draw recursive", argv[0], &((struct recursive_state *)state)->va);
}

static int recursive_run(void *state, struct ptl_target *t)
{
    struct recursive_state *st = state;
    unsigned levels = t->mode->levels;
    if (levels < PG_MODE_4LEVEL) {
        ptl_error("draw recursive", "%s: recursive slots are drawn for 4- and 5-level paging, "
                  "not %s", t->path, t->mode->name);
        return PTL_EXIT_FAIL;
    }
    int slot = st->slot >= 0 ? st->slot : find_slot(t);
    if (slot < 0) {
        ptl_error("draw recursive", "%s: no top-level entry points back at the top table "
                  "(the kernel shell's `recursive on N` makes one; or give --slot)", t->path);
        return PTL_EXIT_FAIL;
    }
    struct pg_walk plain;
    pg_walk(&t->ctx, t->root, st->va, &plain);
    FILE *f = ptl_draw_open("draw recursive", st->output);
    if (!f)
        return PTL_EXIT_FAIL;
    char title[160];
    snprintf(title, sizeof(title), "The recursive slot %d: the paths to the entries of %016"
             PRIx64, slot, st->va);
    struct ptl_svg s;
    if (!svg_open(&s, f, "recursive", title, true)) {
        svg_group(&s, "g-recursive", "data-slot=\"%d\" data-root=\"%016" PRIx64 "\"", slot,
                  t->root);
        svg_text(&s, R_LEFT, 28, "big", "%s", title);
        svg_text(&s, R_LEFT, 48, "small dim", "source %s, %s paging, top table at %016" PRIx64
                 "; purple: the hop through the slot, back to the top table", t->path,
                 t->mode->name, t->root);
        for (int l = 1; l <= (int)levels; l++)
            draw_path(&s, t, (unsigned)slot, st->va, &plain, l, 84 + (l - 1) * R_ROW);
        svg_group_end(&s);
        svg_close(&s, R_LEFT * 2 + (levels + 1) * R_STEP + 300, 60 + levels * R_ROW);
    }
    return ptl_draw_close("draw recursive", f, st->output);
}

const struct ptl_cmd ptl_cmd_draw_recursive = {
    .name = "draw recursive", .summary = "the recursive slot's paths as an SVG",
    .help = recursive_help, .input = true, .run = recursive_run,
    .state_size = sizeof(struct recursive_state), .defaults = &recursive_defaults,
    .options = recursive_options, .option = recursive_option, .short_opts = "o:",
    .min_args = 1, .max_args = 1, .args = recursive_args,
    .args_error = "expected SOURCE and one VA",
};
