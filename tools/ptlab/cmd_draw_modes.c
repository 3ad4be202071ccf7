/*
 * cmd_draw_modes.c: `ptlab draw modes`: the paging-mode transitions as an
 * SVG, computed by lib/paging's control-register model (pg_cpu_write_cr0,
 * pg_cpu_write_cr4, pg_cpu_write_efer; docs/mmu.md, "Control-register and
 * mode transitions"). From protected mode with paging off, every step that
 * sets or clears CR0.PG, CR4.PAE or EFER.LME (and the far jump between
 * compatibility and 64-bit code) is tried on every state reached: a step the
 * model accepts is an arrow to the state it leads to, a step it refuses with
 * #GP is listed under the state. Nothing here knows the rules: change the
 * model and the picture changes.
 * Depends on: ptlab.h, draw.h, lib/paging (mmu.h).
 */
#include <string.h>

#include <paging/mmu.h>

#include "draw.h"
#include "ptlab.h"

#define M_LEFT   40.0
#define M_TOP    150.0
#define M_COL    450.0
#define M_ROW    165.0
#define M_W      270.0
#define M_H      56.0
#define M_STATES 32

enum op { SET_PG, CLEAR_PG, SET_PAE, CLEAR_PAE, SET_LME, CLEAR_LME, JUMP_64, JUMP_COMPAT, NOPS };

static const char *const op_name[NOPS] = {
    "set CR0.PG", "clear CR0.PG", "set CR4.PAE", "clear CR4.PAE", "set EFER.LME",
    "clear EFER.LME", "far jump to 64-bit code", "far jump to compatibility code",
};

struct mstate {
    struct pg_cpu cpu;
    bool refused[NOPS];
    int to[NOPS];               /* the state a legal step leads to; -1: none (refused, no-op) */
};

struct graph {
    struct mstate s[M_STATES];
    int n;
    struct pg_ctx mem;
};

/* The model's memory: one page of zeros (PDPTEs are loaded from it, all not present). */
static void *zero_page(void *arg, phys_addr_t pa)
{
    static uint64_t zeros[512];
    (void)arg;
    (void)pa;
    return zeros;
}

static bool bit(const struct pg_cpu *c, int which)
{
    switch (which) {
    case 0: return c->cr0 & PG_CR0_PG;
    case 1: return c->cr4 & PG_CR4_PAE;
    case 2: return c->efer & PG_EFER_LME;
    default: return c->cs_l;
    }
}

static bool same(const struct pg_cpu *a, const struct pg_cpu *b)
{
    for (int k = 0; k < 4; k++)
        if (bit(a, k) != bit(b, k))
            return false;
    return true;
}

/* Apply op to c through the model. returns: 0, -PG_EGP, or 1 (not applicable). */
static int apply(struct graph *g, struct pg_cpu *c, enum op op)
{
    switch (op) {
    case SET_PG: return pg_cpu_write_cr0(c, c->cr0 | PG_CR0_PG, &g->mem, NULL);
    case CLEAR_PG: return pg_cpu_write_cr0(c, c->cr0 & ~PG_CR0_PG, &g->mem, NULL);
    case SET_PAE: return pg_cpu_write_cr4(c, c->cr4 | PG_CR4_PAE, &g->mem, NULL);
    case CLEAR_PAE: return pg_cpu_write_cr4(c, c->cr4 & ~PG_CR4_PAE, &g->mem, NULL);
    case SET_LME: return pg_cpu_write_efer(c, c->efer | PG_EFER_LME, NULL);
    case CLEAR_LME: return pg_cpu_write_efer(c, c->efer & ~PG_EFER_LME, NULL);
    case JUMP_64:
        if (pg_cpu_opmode(c) != PG_OPMODE_COMPAT)
            return 1;
        c->cs_l = true;
        return 0;
    case JUMP_COMPAT:
        if (pg_cpu_opmode(c) != PG_OPMODE_64BIT)
            return 1;
        c->cs_l = false;
        return 0;
    default:
        return 1;
    }
}

/* Explore every state reachable from protected mode with paging off. */
static void explore(struct graph *g)
{
    g->mem = (struct pg_ctx){ .phys_to_virt = zero_page };
    pg_cpu_reset(&g->s[0].cpu, PG_CPUID_ALL, 52);
    pg_cpu_write_cr0(&g->s[0].cpu, g->s[0].cpu.cr0 | PG_CR0_PE, &g->mem, NULL);
    g->n = 1;
    for (int i = 0; i < g->n; i++) {
        for (int op = 0; op < NOPS; op++) {
            struct pg_cpu c = g->s[i].cpu;
            int r = apply(g, &c, (enum op)op);
            g->s[i].to[op] = -1;
            g->s[i].refused[op] = r == -PG_EGP;
            if (r != 0 || same(&c, &g->s[i].cpu))
                continue;
            int j = 0;
            while (j < g->n && !same(&g->s[j].cpu, &c))
                j++;
            if (j == g->n && g->n < M_STATES)
                g->s[g->n++].cpu = c;
            g->s[i].to[op] = j < g->n ? j : -1;
        }
    }
}

/* Where a state goes: columns by paging and CS.L, rows by PAE and LME. */
static void position(const struct pg_cpu *c, double *x, double *y)
{
    static const int row[2][2] = { { 0, 3 }, { 1, 2 } };   /* [PAE][LME] */
    int col = !bit(c, 0) ? 0 : bit(c, 3) ? 2 : 1;
    *x = M_LEFT + 150 + col * M_COL;
    *y = M_TOP + row[bit(c, 1)][bit(c, 2)] * M_ROW;
}

static void draw_state(struct ptl_svg *s, const struct graph *g, int i)
{
    const struct pg_cpu *c = &g->s[i].cpu;
    double x, y;
    position(c, &x, &y);
    unsigned pm = pg_cpu_paging_mode(c);
    svg_group(s, "g-state", "data-opmode=\"%s\" data-paging=\"%s\" data-pg=\"%d\" data-pae=\"%d\" "
              "data-lme=\"%d\" data-csl=\"%d\"", pg_opmode_name(pg_cpu_opmode(c)),
              pg_paging_mode_name(pm), bit(c, 0), bit(c, 1), bit(c, 2), bit(c, 3));
    svg_rect(s, x, y, M_W, M_H, 6, pm == 0 ? "box" : pm == PG_MODE_32BIT ? "hdr fld0"
             : pm == PG_MODE_PAE ? "hdr fld1" : "hdr fld2");
    svg_text(s, x + M_W / 2, y + 20, "c b", "%s mode%s", pg_opmode_name(pg_cpu_opmode(c)),
             pm ? "," : "");
    svg_text(s, x + M_W / 2, y + 37, "c", "%s", pm ? pg_paging_mode_name(pm) : "paging off");
    svg_text(s, x + M_W / 2, y + 51, "c small mono", "PG=%d PAE=%d LME=%d%s", bit(c, 0),
             bit(c, 1), bit(c, 2), bit(c, 3) ? " CS.L=1" : "");
    double ly = y + M_H + 14;
    for (int op = 0; op < NOPS; op++)
        if (g->s[i].refused[op]) {
            svg_text(s, x + 6, ly, "small bad", "\u2717 %s: #GP", op_name[op]);
            ly += 14;
        }
    svg_group_end(s);
}

/* A legal step from state i to state j; two opposite steps are drawn side by side. */
static void draw_step(struct ptl_svg *s, const struct graph *g, int i, int j, int op)
{
    double x1, y1, x2, y2;
    position(&g->s[i].cpu, &x1, &y1);
    position(&g->s[j].cpu, &x2, &y2);
    svg_group(s, "g-step", "data-op=\"%s\" data-from=\"%d\" data-to=\"%d\"", op_name[op], i, j);
    double off = (op % 2 ? 8 : -8);     /* set above/left, clear below/right */
    if (y1 == y2) {                     /* across: PG, or the far jump */
        double a = x1 < x2 ? x1 + M_W : x1, b = x1 < x2 ? x2 : x2 + M_W;
        svg_arrow(s, a, y1 + M_H / 2 + off, b, y2 + M_H / 2 + off, false, "arrow");
        svg_text(s, (a + b) / 2, y1 + M_H / 2 + off + (off < 0 ? -5 : 15), "c small", "%s",
                 op_name[op]);
    } else if (x1 == x2 && (y2 - y1 == M_ROW || y1 - y2 == M_ROW)) {
        double a = y1 < y2 ? y1 + M_H : y1, b = y1 < y2 ? y2 : y2 + M_H;
        svg_arrow(s, x1 + M_W / 2 + 3 * off, a, x2 + M_W / 2 + 3 * off, b, false, "arrow");
        svg_text(s, x1 + M_W / 2 + 3 * off + (off < 0 ? -6 : 6), (a + b) / 2 + 4,
                 off < 0 ? "r small" : "small", "%s", op_name[op]);
    } else {                            /* a long way round, on the left */
        double bend = x1 - 70 - (off < 0 ? 0 : 40);
        double p[8] = { x1, y1 + M_H / 2 + off, bend, y1 + M_H / 2, bend, y2 + M_H / 2,
                        x2, y2 + M_H / 2 + off };
        svg_bezier(s, p, "arrow");
        svg_text(s, bend + 8, (y1 + y2) / 2 + M_H / 2 + (off < 0 ? -8 : 8), "small", "%s",
                 op_name[op]);
    }
    svg_group_end(s);
}

/* RESET's real mode and the step into protected mode, above the states. */
static void draw_start(struct ptl_svg *s, struct graph *g)
{
    struct pg_cpu c;
    pg_cpu_reset(&c, PG_CPUID_ALL, 52);
    int r = pg_cpu_write_cr0(&c, c.cr0 | PG_CR0_PE, &g->mem, NULL);
    double x, y;
    position(&g->s[0].cpu, &x, &y);
    svg_group(s, "g-start", "data-opmode=\"%s\"", pg_opmode_name(pg_cpu_opmode(&c)));
    svg_rect(s, x, y - 96, M_W, 40, 6, "cr3");
    svg_text(s, x + M_W / 2, y - 72, "c b", "RESET: real mode");
    svg_arrow(s, x + M_W / 2, y - 56, x + M_W / 2, y, false, r ? "gp" : "arrow");
    svg_text(s, x + M_W / 2 + 8, y - 24, "small", "set CR0.PE%s", r ? ": #GP" : "");
    svg_group_end(s);
}

static const char modes_help[] =
    "usage: ptlab draw modes [-o FILE.svg]\n"
    "Draw the paging-mode transitions as lib/paging's control-register model\n"
    "decides them: from protected mode with paging off, every step that sets or\n"
    "clears CR0.PG, CR4.PAE or EFER.LME (and the far jump between compatibility\n"
    "and 64-bit code) on every state it reaches; legal steps are arrows, steps the\n"
    "model refuses with #GP are listed under their state. Needs no source.\n\n"
    "  -o, --output FILE  write the SVG there (default: standard output)\n";

static const struct option modes_options[] = {
    { "output", required_argument, NULL, 'o' },
    { 0, 0, 0, 0 },
};

struct modes_state {
    const char *output;
};

static int modes_option(void *state, int code, const char *arg)
{
    (void)code;
    ((struct modes_state *)state)->output = arg;
    return 0;
}

static int modes_run(void *state, struct ptl_target *t)
{
    struct modes_state *st = state;
    (void)t;
    static struct graph g;
    explore(&g);
    FILE *f = ptl_draw_open("draw modes", st->output);
    if (!f)
        return PTL_EXIT_FAIL;
    struct ptl_svg s;
    const char *title = "Paging-mode transitions, as lib/paging's model decides them";
    if (!svg_open(&s, f, "modes", title, true)) {
        svg_group(&s, "g-modes", "data-states=\"%d\"", g.n);
        svg_text(&s, M_LEFT, 28, "big", "%s", title);
        svg_text(&s, M_LEFT, 48, "small dim", "Each step writes one control register "
                 "(pg_cpu_write_cr0/cr4/efer). Arrows: accepted; \u2717 ... #GP: refused, "
                 "nothing changes. CR4.LA57 (5-level) changes only with paging off.");
        draw_start(&s, &g);
        for (int i = 0; i < g.n; i++)
            for (int op = 0; op < NOPS; op++)
                if (g.s[i].to[op] >= 0)
                    draw_step(&s, &g, i, g.s[i].to[op], op);
        for (int i = 0; i < g.n; i++)
            draw_state(&s, &g, i);
        svg_group_end(&s);
        svg_close(&s, M_LEFT + 150 + 2 * M_COL + M_W + 40, M_TOP + 4 * M_ROW);
    }
    return ptl_draw_close("draw modes", f, st->output);
}

const struct ptl_cmd ptl_cmd_draw_modes = {
    .name = "draw modes", .summary = "the paging-mode transitions as an SVG", .help = modes_help,
    .run = modes_run, .state_size = sizeof(struct modes_state), .options = modes_options,
    .option = modes_option, .short_opts = "o:", .args_error = "expected no arguments",
};
