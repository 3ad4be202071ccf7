/*
 * cmd_draw_tree.c: `ptlab draw tree SOURCE`: the table tree as an SVG.
 * Every table is a node (its level, physical address and used entries),
 * columns by level from the top table on the left. A table reached through
 * several entries (Linux's ESPfix area; with --cr3 given several times, the
 * kernel half that pgd_alloc copies into every process) is drawn once with
 * its number of references, and every entry pointing at it is an edge; a
 * pointer back to a table on the path (a recursive slot) is a dashed back
 * edge. Runs of childless sibling tables are folded into one box so that a
 * large tree stays readable (the box says how many and what they hold).
 * The graph is draw_tables.c's; this file lays it out and draws it.
 * Depends on: ptlab.h, draw.h, draw_tables.h.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "draw.h"
#include "draw_tables.h"
#include "ptlab.h"

#define T_LEFT      24.0
#define T_TOP       96.0
#define T_CR3_W     170.0       /* the CR3 column */
#define T_COL       340.0       /* column step, one per level */
#define T_NODE_W    290.0
#define T_NODE_H    38.0
#define T_ROW       46.0
#define T_FOLD_MIN  3           /* empty siblings folded from this many on */
#define T_RUN_MAX   8           /* longer runs of childless siblings keep 3 + 2 visible */
#define T_MAX_TABLES 200000

/* The entries of one table pointing at one other: merged into one drawn edge. */
struct link {
    size_t from, to;
    unsigned count, lo, hi;
    bool back, tree;
};

/* A box of folded sibling tables. */
struct fold {
    size_t parent, first_link, nlinks;
    double y;
};

struct layout {
    const struct ptl_tgraph *g;
    struct link *link;          /* grouped by `from`, in index order of their first entry */
    size_t nlinks, link_cap;
    size_t *first_link, *nlinks_of; /* per node */
    double *y;                  /* per node; < 0: not drawn (folded, or unreachable) */
    struct fold *fold;
    size_t nfolds, fold_cap;
    double row;                 /* next free row's y */
    int top;
};

/* Merge each node's edges to the same table into links. returns: 0; -1 (memory). */
static int make_links(struct layout *L)
{
    const struct ptl_tgraph *g = L->g;
    for (size_t n = 0; n < g->nnodes; n++) {
        L->first_link[n] = L->nlinks;
        for (size_t k = 0; k < g->node[n].nedges; k++) {
            const struct ptl_tedge *e = &g->edge[g->node[n].first_edge + k];
            size_t j = L->first_link[n];
            while (j < L->nlinks && L->link[j].to != e->to)
                j++;
            if (j == L->nlinks) {
                L->link = ptl_grow(L->link, L->nlinks, &L->link_cap, sizeof(*L->link), 256);
                if (!L->link)
                    return -1;
                L->link[L->nlinks++] = (struct link){ n, e->to, 0, e->index, e->index, e->back,
                                                      false };
            }
            struct link *l = &L->link[j];
            l->count++;
            l->hi = e->index;
            l->tree |= e->first;
        }
        L->nlinks_of[n] = L->nlinks - L->first_link[n];
    }
    return 0;
}

/* Tree children (links through which a table was first reached) that have none themselves. */
static bool childless(const struct layout *L, size_t n)
{
    for (size_t j = 0; j < L->nlinks_of[n]; j++)
        if (L->link[L->first_link[n] + j].tree)
            return false;
    return true;
}

static bool foldable(const struct layout *L, const struct link *l)
{
    return l->tree && childless(L, l->to) && L->g->node[l->to].refs == 1;
}

static int add_fold(struct layout *L, size_t parent, size_t first, size_t n)
{
    L->fold = ptl_grow(L->fold, L->nfolds, &L->fold_cap, sizeof(*L->fold), 16);
    if (!L->fold)
        return -1;
    L->fold[L->nfolds++] = (struct fold){ parent, first, n, L->row };
    L->row += T_ROW;
    return 0;
}

static int place(struct layout *L, size_t n);

/*
 * place_run - the childless siblings links[a, b) of node n: all folded when
 * they are empty, else the first 3 and the last 2 drawn and the rest folded
 * when there are more than T_RUN_MAX.
 */
static int place_run(struct layout *L, size_t n, size_t a, size_t b)
{
    bool empty = true;
    for (size_t j = a; j < b; j++)
        empty &= L->g->node[L->link[j].to].present == 0;
    size_t fa = b, fb = b;          /* the folded part [fa, fb) */
    if (empty && b - a >= T_FOLD_MIN)
        fa = a;
    else if (b - a > T_RUN_MAX)
        fa = a + 3, fb = b - 2;
    for (size_t j = a; j < b; j++) {
        if (j == fa && add_fold(L, n, fa, fb - fa))
            return -1;
        if ((j < fa || j >= fb) && place(L, L->link[j].to))
            return -1;
    }
    return 0;
}

/* Give node n and its tree children their rows (depth first). returns: 0; -1 (memory). */
static int place(struct layout *L, size_t n)
{
    size_t first = L->first_link[n], end = first + L->nlinks_of[n];
    double start = L->row;
    bool any = false;
    for (size_t j = first; j < end;) {
        if (!L->link[j].tree) {
            j++;
            continue;
        }
        any = true;
        size_t k = j;
        while (k < end && foldable(L, &L->link[k]))
            k++;
        if (k > j) {
            if (place_run(L, n, j, k))
                return -1;
            j = k;
        } else {
            if (place(L, L->link[j].to))
                return -1;
            j++;
        }
    }
    if (!any) {
        L->y[n] = L->row;
        L->row += T_ROW;
    } else {
        L->y[n] = (start + L->row - T_ROW) / 2;
    }
    return 0;
}

static double col_x(const struct layout *L, int level)
{
    return T_LEFT + T_CR3_W + (L->top - level) * T_COL;
}

static const char *level_class(const struct layout *L, int level)
{
    static const char *const colour[] = { "hdr fld0", "hdr fld1", "hdr fld2", "hdr fld3",
                                          "hdr fld4" };
    return colour[(L->top - level) % 5];
}

/* One table's box. */
static void draw_node(struct ptl_svg *s, const struct layout *L, const struct ptl_target *t,
                      size_t n)
{
    const struct ptl_tnode *nd = &L->g->node[n];
    const struct pg_level_desc *ld = &t->mode->level[nd->level];
    double x = col_x(L, nd->level), y = L->y[n];
    unsigned entries = 1u << ld->index_bits;
    svg_group(s, "g-node", "data-pa=\"%016" PRIx64 "\" data-level=\"%d\" data-used=\"%u\" "
              "data-refs=\"%u\"", nd->pa, nd->level, nd->present, nd->refs);
    svg_title(s, "%s (%s) table at %016" PRIx64 ": %u of %u entries present, %u of them pages; "
              "%u reference%s", ld->intel_name, ld->linux_name, nd->pa, nd->present, entries,
              nd->leaves, nd->refs, nd->refs == 1 ? "" : "s");
    svg_rect(s, x, y, T_NODE_W, T_NODE_H, 4, nd->unreadable ? "box deny" : "box");
    svg_rect(s, x, y, 62, T_NODE_H, 4, level_class(L, nd->level));
    svg_text(s, x + 31, y + 16, "c b", "%s", ld->intel_name);
    svg_text(s, x + 31, y + 31, "c small", "%s", ld->linux_name);
    svg_text(s, x + 70, y + 16, "mono", "%016" PRIx64, nd->pa);
    if (nd->unreadable)
        svg_text(s, x + 70, y + 31, "small bad", "unreadable: outside the memory");
    else
        svg_text(s, x + 70, y + 31, "small", "%u/%u used, %u page%s", nd->present, entries,
                 nd->leaves, nd->leaves == 1 ? "" : "s");
    if (nd->refs > 1) {
        char badge[32];
        double bw = 12 + 7.0 * snprintf(badge, sizeof(badge), "shared x%u", nd->refs);
        svg_rect(s, x + T_NODE_W - bw - 4, y + 3, bw, 16, 8, "flagbad");
        svg_text(s, x + T_NODE_W - bw / 2 - 4, y + 15, "c small b", "%s", badge);
    }
    svg_group_end(s);
}

/* A box standing for folded sibling tables. */
static void draw_fold(struct ptl_svg *s, const struct layout *L, const struct ptl_target *t,
                      const struct fold *f)
{
    const struct link *l = &L->link[f->first_link];
    int level = L->g->node[l->to].level;
    unsigned used = 0, pages = 0;
    for (size_t j = 0; j < f->nlinks; j++) {
        used += L->g->node[l[j].to].present;
        pages += L->g->node[l[j].to].leaves;
    }
    double x = col_x(L, level);
    svg_group(s, "g-fold", "data-level=\"%d\" data-tables=\"%zu\" data-used=\"%u\"", level,
              f->nlinks, used);
    svg_title(s, "%zu %s tables reached through entries %u to %u: %u entries present, %u pages",
              f->nlinks, t->mode->level[level].intel_name, l[0].lo, l[f->nlinks - 1].hi, used,
              pages);
    svg_rect(s, x, f->y, T_NODE_W, T_NODE_H, 4, "box");
    svg_rect(s, x, f->y, 62, T_NODE_H, 4, level_class(L, level));
    svg_text(s, x + 31, f->y + 16, "c b", "%zu x", f->nlinks);
    svg_text(s, x + 31, f->y + 31, "c small", "%s", t->mode->level[level].intel_name);
    svg_text(s, x + 70, f->y + 16, "", "%zu more %s tables", f->nlinks,
             t->mode->level[level].intel_name);
    svg_text(s, x + 70, f->y + 31, "small", used ? "%u entries used, %u pages"
             : "all empty (%u entries used)", used, pages);
    svg_group_end(s);
}

/* The entries of one link as a label: "[5]" or "[0-511] x512". */
static void link_label(const struct link *l, char *buf, size_t n)
{
    if (l->count == 1)
        snprintf(buf, n, "[%u]", l->lo);
    else
        snprintf(buf, n, "[%u-%u] x%u", l->lo, l->hi, l->count);
}

/* One link: parent to child (tree or extra reference), or back to an ancestor. */
static void draw_link(struct ptl_svg *s, const struct layout *L, const struct link *l, double ty)
{
    double x1 = col_x(L, L->g->node[l->from].level) + T_NODE_W, y1 = L->y[l->from] + T_NODE_H / 2;
    char label[48];
    link_label(l, label, sizeof(label));
    svg_group(s, "g-link", "data-from=\"%016" PRIx64 "\" data-to=\"%016" PRIx64 "\" "
              "data-index=\"%u\" data-count=\"%u\" data-back=\"%d\"", L->g->node[l->from].pa,
              L->g->node[l->to].pa, l->lo, l->count, l->back);
    if (l->back) {
        double x2 = col_x(L, L->g->node[l->to].level) + T_NODE_W, y2 = L->y[l->to] + T_NODE_H;
        double p[8] = { x1, y1, x1 + 90, y1 + 10, x2 + 90, y2 + 60, x2 - 20, y2 };
        if (l->from == l->to)
            p[5] = y2 + 40, p[6] = x2 - 40;
        svg_bezier(s, p, "back");
        svg_text(s, x1 + 8, y1 - 6, "small b", "%s back to the %s table: a recursive slot",
                 label, L->g->node[l->to].level == L->top ? "top" : "ancestor");
    } else {
        double x2 = col_x(L, L->g->node[l->to].level), y2 = ty + T_NODE_H / 2;
        double p[8] = { x1, y1, x1 + 40, y1, x2 - 50, y2, x2, y2 };
        svg_bezier(s, p, l->tree ? "arrow" : "arrow share");
        svg_text(s, x2 - 6, y2 - 5, "r small mono", "%s", label);
    }
    svg_group_end(s);
}

/* The fold's one link from its parent, labelled with the entries it stands for. */
static void draw_fold_link(struct ptl_svg *s, const struct layout *L, const struct fold *f)
{
    const struct link *a = &L->link[f->first_link], *b = a + f->nlinks - 1;
    double x1 = col_x(L, L->g->node[f->parent].level) + T_NODE_W;
    double y1 = L->y[f->parent] + T_NODE_H / 2;
    double x2 = col_x(L, L->g->node[a->to].level), y2 = f->y + T_NODE_H / 2;
    double p[8] = { x1, y1, x1 + 40, y1, x2 - 50, y2, x2, y2 };
    svg_bezier(s, p, "arrow");
    svg_text(s, x2 - 6, y2 - 5, "r small mono", "[%u..%u]", a->lo, b->hi);
}

/* The summary line: tables per level, shared tables, back edges. */
static void draw_summary(struct ptl_svg *s, const struct layout *L, const struct ptl_target *t,
                         double y)
{
    const struct ptl_tgraph *g = L->g;
    size_t per[PG_MAX_LEVELS + 1] = { 0 }, shared = 0, back = 0;
    for (size_t n = 0; n < g->nnodes; n++) {
        per[g->node[n].level]++;
        shared += g->node[n].refs > 1;
    }
    for (size_t j = 0; j < L->nlinks; j++)
        back += L->link[j].back;
    char line[256];
    size_t k = (size_t)snprintf(line, sizeof(line), "%zu tables:", g->nnodes);
    for (int l = L->top; l >= 1 && k < sizeof(line); l--)
        k += (size_t)snprintf(line + k, sizeof(line) - k, " %zu %s%s", per[l],
                              t->mode->level[l].intel_name, l > 1 ? "," : ";");
    if (k < sizeof(line))
        snprintf(line + k, sizeof(line) - k, " %zu shared, %zu back edge%s%s", shared, back,
                 back == 1 ? "" : "s", g->truncated ? "; TRUNCATED (too many tables)" : "");
    svg_text(s, T_LEFT, y, "", "%s", line);
}

static void draw_legend(struct ptl_svg *s, const struct layout *L, const struct ptl_target *t,
                        double y)
{
    double x = T_LEFT;
    for (int l = L->top; l >= 1; l--) {
        svg_rect(s, x, y - 12, 22, 15, 3, level_class(L, l));
        svg_text(s, x + 28, y, "small", "%s (%s)", t->mode->level[l].intel_name,
                 t->mode->level[l].linux_name);
        x += 110;
    }
    svg_rect(s, x, y - 12, 76, 16, 8, "flagbad");
    svg_text(s, x + 38, y, "c small b", "shared xN");
    svg_text(s, x + 84, y, "small", "one table, N entries point at it (dashed: more of them)");
    x += 420;
    double p[8] = { x, y - 4, x + 15, y - 4, x + 25, y - 4, x + 40, y - 4 };
    svg_bezier(s, p, "back");
    svg_text(s, x + 48, y, "small", "pointer back to a table on the path (recursive slot)");
}

/* Draw the laid-out graph. */
static void draw_all(struct ptl_svg *s, const struct layout *L, const struct ptl_target *t)
{
    const struct ptl_tgraph *g = L->g;
    for (unsigned r = 0; r < g->nroots; r++) {
        size_t n = g->root_node[r];
        uint64_t cr3 = t->in.ncr3 > 1 ? t->in.cr3_all[r] : t->cr3;
        double y = L->y[n] + 2;
        svg_group(s, "g-root", "data-cr3=\"%016" PRIx64 "\" data-pa=\"%016" PRIx64 "\"", cr3,
                  g->node[n].pa);
        svg_rect(s, T_LEFT, y, T_CR3_W - 40, T_NODE_H - 4, 4, "cr3");
        svg_text(s, T_LEFT + 8, y + 14, "small b", "CR3%s", g->nroots > 1 ? "" : " (root)");
        svg_text(s, T_LEFT + 8, y + 28, "mono small", "%016" PRIx64, cr3);
        svg_arrow(s, T_LEFT + T_CR3_W - 40, y + T_NODE_H / 2 - 2, col_x(L, L->top),
                  y + T_NODE_H / 2 - 2, false, "arrow");
        svg_group_end(s);
    }
    for (size_t j = 0; j < L->nlinks; j++)
        if (L->y[L->link[j].to] >= 0 && L->y[L->link[j].from] >= 0)
            draw_link(s, L, &L->link[j], L->y[L->link[j].to]);
    for (size_t f = 0; f < L->nfolds; f++)
        draw_fold_link(s, L, &L->fold[f]);
    for (size_t n = 0; n < g->nnodes; n++)
        if (L->y[n] >= 0)
            draw_node(s, L, t, n);
    for (size_t f = 0; f < L->nfolds; f++)
        draw_fold(s, L, t, &L->fold[f]);
}

/* Lay out g (roots first, each subtree once). returns: 0; -1 (memory). */
static int lay_out(struct layout *L)
{
    const struct ptl_tgraph *g = L->g;
    L->first_link = calloc(g->nnodes + 1, sizeof(*L->first_link));
    L->nlinks_of = calloc(g->nnodes + 1, sizeof(*L->nlinks_of));
    L->y = malloc((g->nnodes + 1) * sizeof(*L->y));
    if (!L->first_link || !L->nlinks_of || !L->y || make_links(L))
        return -1;
    for (size_t n = 0; n < g->nnodes; n++)
        L->y[n] = -1;
    L->row = T_TOP;
    for (unsigned r = 0; r < g->nroots; r++)
        if (L->y[g->root_node[r]] < 0 && place(L, g->root_node[r]))
            return -1;
    return 0;
}

static void free_layout(struct layout *L)
{
    free(L->link);
    free(L->first_link);
    free(L->nlinks_of);
    free(L->y);
    free(L->fold);
}

/* ---- the command ---- */

enum { OPT_OUTPUT = 'o' };

static const char tree_help[] =
    "usage: ptlab draw tree [OPTIONS] SOURCE [-o FILE.svg]\n"
    "Draw the table tree under CR3 as an SVG: every table a node with its level,\n"
    "physical address and used entries, columns by level. A table several entries\n"
    "point at (Linux's ESPfix area) is drawn once with its number of references;\n"
    "a pointer back to a table on the path (a recursive slot) is a dashed back\n"
    "edge. Runs of childless sibling tables are folded into one box.\n"
    "Give --cr3 several times (up to 16) to draw several trees together: the\n"
    "tables they share (the kernel half pgd_alloc copies into every process) are\n"
    "drawn once.\n\n"
    "  -o, --output FILE  write the SVG there (default: standard output)\n\n";

static const struct option tree_options[] = {
    { "output", required_argument, NULL, OPT_OUTPUT },
    { 0, 0, 0, 0 },
};

struct tree_state {
    const char *output;
};

static int tree_option(void *state, int code, const char *arg)
{
    (void)code;
    ((struct tree_state *)state)->output = arg;
    return 0;
}

static int tree_run(void *state, struct ptl_target *t)
{
    struct tree_state *st = state;
    phys_addr_t roots[16];
    unsigned nroots = t->in.ncr3 > 1 ? t->in.ncr3 : 1;
    roots[0] = t->root;
    for (unsigned r = 0; t->in.ncr3 > 1 && r < nroots; r++)
        roots[r] = pg_cr3_root(t->mode->levels, t->in.cr3_all[r]);
    struct ptl_tgraph g;
    struct layout L = { .g = &g, .top = (int)t->mode->levels };
    int rc = PTL_EXIT_FAIL;
    if (ptl_tables_build(&t->ctx, roots, nroots, T_MAX_TABLES, &g) || lay_out(&L)) {
        ptl_error("draw tree", "out of memory");
        goto out;
    }
    FILE *f = ptl_draw_open("draw tree", st->output);
    if (!f)
        goto out;
    char title[160];
    snprintf(title, sizeof(title), "Page-table tree of %s (%s paging)", t->path, t->mode->name);
    struct ptl_svg s;
    if (!svg_open(&s, f, "tree", title, true)) {
        svg_group(&s, "g-tree", "data-mode=\"%u\" data-tables=\"%zu\"", t->mode->levels,
                  g.nnodes);
        svg_text(&s, T_LEFT, 28, "big", "%s", title);
        draw_summary(&s, &L, t, 50);
        draw_legend(&s, &L, t, 74);
        draw_all(&s, &L, t);
        svg_group_end(&s);
        int low = L.top;
        bool back = false;
        for (size_t n = 0; n < g.nnodes; n++)
            if (L.y[n] >= 0 && g.node[n].level < low)
                low = g.node[n].level;
        for (size_t j = 0; j < L.nlinks; j++)
            back |= L.link[j].back;
        double right = col_x(&L, low) + T_NODE_W + T_LEFT + (back ? 380 : 0);
        svg_close(&s, right > 1020 ? right : 1020, L.row + T_ROW);
    }
    rc = ptl_draw_close("draw tree", f, st->output);
out:
    free_layout(&L);
    ptl_tables_free(&g);
    return rc;
}

const struct ptl_cmd ptl_cmd_draw_tree = {
    .name = "draw tree", .summary = "the table tree as an SVG", .help = tree_help,
    .input = true, .run = tree_run, .state_size = sizeof(struct tree_state),
    .options = tree_options, .option = tree_option, .short_opts = "o:",
    .args_error = "expected one SOURCE",
};
