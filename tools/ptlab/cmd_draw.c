/*
 * cmd_draw.c: `ptlab draw`, the pictures: the group word and its
 * subcommands, and `draw walk SOURCE VA`, one walk as an SVG (draw_walk.c)
 * with --access's verdict (access.c) drawn on it. The other pictures are in
 * cmd_draw_*.c.
 * Depends on: ptlab.h, draw.h.
 */
#include <string.h>

#include "draw.h"
#include "ptlab.h"

extern const struct ptl_cmd ptl_cmd_draw_walk, ptl_cmd_draw_map, ptl_cmd_draw_tree,
    ptl_cmd_draw_recursive, ptl_cmd_draw_modes, ptl_cmd_draw_story;

static const char draw_help[] =
    "usage: ptlab draw PICTURE [OPTIONS] ...\n"
    "Draw the page tables of a memory source (the same sources as every other\n"
    "command) as self-contained SVG or HTML:\n\n"
    "  walk SOURCE VA       one walk: CR3, every level's table, index, entry and flags,\n"
    "                       the frame and the offset; --access r|w|x [--user] marks\n"
    "                       the level and bit that deny the access (SVG)\n"
    "  map SOURCE           the whole address space as a zoomable map of regions,\n"
    "                       rights, page sizes and aliases; click for a walk; --diff\n"
    "                       OTHER colours what changed (HTML)\n"
    "  tree SOURCE          the table tree: every table with its level, address and\n"
    "                       used entries; shared tables once with their references,\n"
    "                       recursive slots as back edges; --cr3 more than once (SVG)\n"
    "  recursive SOURCE VA  the recursive slot's four paths to VA's PT, PD, PDPT and\n"
    "                       the top table itself (SVG)\n"
    "  modes                the paging-mode transitions of lib/paging's model: legal\n"
    "                       and refused steps (SVG; no source)\n"
    "  story                one HTML page stepping through pictures and texts (the\n"
    "                       boot story: make boot-story)\n\n"
    "Every picture takes -o FILE (default: standard output).\n"
    "Run 'ptlab draw PICTURE --help' for its options; see ptlab(1).\n";

static const struct ptl_cmd *const draw_subcommands[] = {
    &ptl_cmd_draw_walk, &ptl_cmd_draw_map, &ptl_cmd_draw_tree, &ptl_cmd_draw_recursive,
    &ptl_cmd_draw_modes, &ptl_cmd_draw_story, NULL,
};

const struct ptl_cmd ptl_cmd_draw = {
    .name = "draw", .summary = "pictures: a walk, the address-space map, the table tree (SVG/HTML)",
    .help = draw_help, .subcommands = draw_subcommands,
};

/* ---- draw walk ---- */

enum { OPT_ACCESS = PTL_OPT_CMD, OPT_USER, OPT_OUTPUT = 'o' };

static const char walk_help[] =
    "usage: ptlab draw walk [OPTIONS] SOURCE VA [-o FILE.svg]\n"
    "Draw the walk of VA (hex) through SOURCE's page tables as an SVG: the VA split\n"
    "into indices and offset, CR3, one box per level (the table's physical address,\n"
    "the entry's index, address and value, its flag bits, an arrow to the next\n"
    "table), the page frame with the offset and the physical address. A walk that\n"
    "stops is drawn up to the entry that stops it.\n\n"
    "  -o, --output FILE  write the SVG there (default: standard output)\n"
    "  --access r|w|x   would a read, write or instruction fetch fault: the level\n"
    "                   and the bit that deny it drawn red, with the reason (the\n"
    "                   same verdict as vtop --access)\n"
    "  --user           with --access: a user-mode (CPL 3) access\n\n"
    "Exit status 0 when the picture is written (also for an address that is not\n"
    "mapped), 1 if the source cannot be read or the file written.\n\n";

static const struct option walk_options[] = {
    { "access", required_argument, NULL, OPT_ACCESS },
    { "user", no_argument, NULL, OPT_USER },
    { "output", required_argument, NULL, OPT_OUTPUT },
    { 0, 0, 0, 0 },
};

struct walk_state {
    char access;
    bool user;
    const char *output;
    uint64_t va;
};

static int walk_option(void *state, int code, const char *arg)
{
    struct walk_state *s = state;
    switch (code) {
    case OPT_ACCESS:
        if (strlen(arg) != 1 || !strchr("rwx", arg[0]))
            return ptl_usage_error("draw walk", "--access: '%s' is not r, w or x", arg);
        s->access = arg[0];
        break;
    case OPT_USER:
        s->user = true;
        break;
    case OPT_OUTPUT:
        s->output = arg;
        break;
    }
    return 0;
}

static int walk_args(void *state, int argc, char **argv)
{
    struct walk_state *s = state;
    (void)argc;
    if (s->user && !s->access)
        return ptl_usage_error("draw walk", "--user describes the access of --access");
    return ptl_parse_address("draw walk", argv[0], &s->va);
}

static int walk_run(void *state, struct ptl_target *t)
{
    struct walk_state *s = state;
    struct pg_walk w;
    struct ptl_access a;
    pg_walk(&t->ctx, t->root, s->va, &w);
    if (s->access)
        ptl_access_check(t, s->va, s->access, s->user, &a);
    FILE *f = ptl_draw_open("draw walk", s->output);
    if (!f)
        return PTL_EXIT_FAIL;
    struct ptl_walk_pic p = { .t = t, .w = &w, .access = s->access ? &a : NULL };
    ptl_svg_walk(f, &p, true);
    return ptl_draw_close("draw walk", f, s->output);
}

const struct ptl_cmd ptl_cmd_draw_walk = {
    .name = "draw walk", .summary = "one walk as an SVG", .help = walk_help, .input = true,
    .run = walk_run, .state_size = sizeof(struct walk_state), .options = walk_options,
    .option = walk_option, .short_opts = "o:", .min_args = 1, .max_args = 1, .args = walk_args,
    .args_error = "expected SOURCE and one VA",
};
