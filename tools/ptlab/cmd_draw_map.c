/*
 * cmd_draw_map.c: `ptlab draw map SOURCE`: the whole address space as one
 * self-contained HTML page: a zoomable map (one cell per table entry, from
 * the top table down to 4 KiB pages) coloured by rights, with page sizes,
 * Linux's region names, aliases (one physical address mapped at several
 * VAs) and, with --diff OTHER, what changed. Hovering a cell lists its
 * entries; clicking shows the walk.
 *
 * This file writes the page: the data (merged ranges as `maps` lists them,
 * the regions `regions` infers, every table's entries as runs, the paging
 * mode's level geometry) as JSON, the legend's CSS, and the script
 * (draw_map.js, embedded by the build) that draws from that data. Every
 * number the page shows comes from here; the script only looks things up.
 * Depends on: ptlab.h, draw.h, draw_tables.h, draw_assets.h (generated).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <paging/linux_layout.h>

#include "draw.h"
#include "draw_assets.h"
#include "draw_tables.h"
#include "ptlab.h"

#define MAP_MAX_TABLES 200000

/* What the page is drawn from. */
struct map_data {
    struct ptl_target *t;
    struct pg_range *r;         /* merged ranges in VA order (no holes) */
    size_t n, cap;
    bool oom;
    long *alias;                /* per range: another range mapping some of its PAs, or -1 */
    struct pg_linux_inferred layout;
    bool have_layout;
    struct ptl_tgraph g;
    const char *diff_source;    /* --diff OTHER: the source compared with (NULL: none) */
    char *diff;                 /* `ptlab diff OTHER SOURCE`'s lines */
    size_t diff_len;
};

static int collect(void *arg, const struct pg_range *r)
{
    struct map_data *d = arg;
    if (r->kind == PG_RANGE_HOLE)
        return 0;
    d->r = ptl_grow(d->r, d->n, &d->cap, sizeof(*d->r), 1024);
    if (!d->r) {
        d->oom = true;
        return 1;
    }
    d->r[d->n++] = *r;
    return 0;
}

/* qsort_r order of range indices by physical address (arg: the ranges). */
static int by_pa(const void *a, const void *b, void *arg)
{
    const struct pg_range *r = arg;
    const struct pg_range *x = &r[*(const size_t *)a], *y = &r[*(const size_t *)b];
    return x->pa < y->pa ? -1 : x->pa > y->pa;
}

/*
 * find_aliases - for every mapped range, another range that maps some of
 * the same physical addresses (d->alias[i], -1 if none): in PA order, a
 * range that starts below the highest end so far overlaps the range with
 * that end; each of the two gets the other if it has no partner yet. A range
 * that overlaps another always meets one of them so.
 * returns: 0; -1 when out of memory.
 */
static int find_aliases(struct map_data *d)
{
    size_t *order = malloc((d->n + 1) * sizeof(*order));
    d->alias = malloc((d->n + 1) * sizeof(*d->alias));
    if (!order || !d->alias) {
        free(order);
        return -1;
    }
    size_t m = 0;
    for (size_t i = 0; i < d->n; i++) {
        d->alias[i] = -1;
        if (d->r[i].kind == PG_RANGE_MAPPED)
            order[m++] = i;
    }
    qsort_r(order, m, sizeof(*order), by_pa, d->r);
    size_t holder = 0;
    uint64_t top = 0;       /* the highest end so far (holder's) */
    for (size_t k = 0; k < m; k++) {
        const struct pg_range *r = &d->r[order[k]];
        if (k && r->pa < top) {
            if (d->alias[order[k]] < 0)
                d->alias[order[k]] = (long)holder;
            if (d->alias[holder] < 0)
                d->alias[holder] = (long)order[k];
        }
        if (!k || r->pa + r->size > top) {
            top = r->pa + r->size;
            holder = order[k];
        }
    }
    free(order);
    return 0;
}

/* The region holding va (index into the layout), or -1. */
static int region_of(const struct map_data *d, virt_addr_t va)
{
    if (!d->have_layout || d->layout.verdict != PG_LV_LINUX)
        return -1;
    const struct pg_linux_region *r = pg_linux_region_of(&d->layout, va);
    return r ? (int)(r - d->layout.region) : -1;
}

/* ---- the JSON ---- */

static void json_mode(FILE *f, const struct ptl_target *t)
{
    const struct pg_mode_desc *m = t->mode;
    fprintf(f, "\"mode\":{\"name\":\"%s\",\"levels\":%u,\"va_bits\":%u},\"levels\":[null",
            m->name, m->levels, m->va_bits);
    for (unsigned l = 1; l <= m->levels; l++)
        fprintf(f, ",{\"shift\":%u,\"bits\":%u,\"esize\":%u,\"large\":%s,\"name\":\"%s\","
                   "\"intel\":\"%s\"}", m->level[l].shift, m->level[l].index_bits,
                m->level[l].entry_size, m->level[l].large_ok ? "true" : "false",
                m->level[l].linux_name, m->level[l].intel_name);
    /* The first VA of each top-level entry, and the halves they fall in. */
    unsigned n = 1u << m->level[m->levels].index_bits, shift = m->level[m->levels].shift;
    fprintf(f, "],\"top\":[");
    for (unsigned i = 0; i < n; i++)
        fprintf(f, "%s\"%" PRIx64 "\"", i ? "," : "",
                pg_canonical(m->levels, (uint64_t)i << shift));
    if (m->canonical)
        fprintf(f, "],\"halves\":[[0,%u,\"lower half: user space\"],[%u,%u,\"upper half: "
                   "kernel space\"]],", n / 2, n / 2, n);
    else
        fprintf(f, "],\"halves\":[[0,%u,\"the 4 GiB linear address space\"]],", n);
}

static void json_range(FILE *f, const struct map_data *d, size_t i)
{
    const struct pg_range *r = &d->r[i];
    static const char *const kinds[] = { "m", "h", "u", "s", "c" };
    char rights[8];
    bool mapped = r->kind == PG_RANGE_MAPPED;
    fprintf(f, "%s[\"%" PRIx64 "\",\"%" PRIx64 "\",\"%s\",\"%" PRIx64 "\",\"%s\",\"%s\","
               "\"%s\",\"%" PRIx64 "\",\"%s\",%" PRIu64 ",%u,%ld,%d,\"%" PRIx64 "\"]",
            i ? ",\n" : "", r->start, r->size, kinds[r->kind], r->pa,
            ptl_rights_str(r->eff, rights), mapped ? ptl_rights_class(r->eff) : "",
            mapped ? ptl_mem_type(r->prot, PG_PAT_RESET) : "", r->page_size,
            pg_level_linux_name(d->t->mode->levels, r->level), r->count, r->refs, d->alias[i],
            region_of(d, r->start), r->entry);
}

static void json_regions(FILE *f, const struct map_data *d)
{
    bool linux_ = d->have_layout && d->layout.verdict == PG_LV_LINUX;
    fprintf(f, "\"linux\":%s,\"verdict\":", linux_ ? "true" : "false");
    ptl_json_str(f, d->have_layout ? pg_linux_verdict_text(d->layout.verdict) : "unknown");
    fprintf(f, ",\"regions\":[");
    for (size_t i = 0; linux_ && i < d->layout.nregions; i++) {
        const struct pg_linux_region *r = &d->layout.region[i];
        fprintf(f, "%s[", i ? "," : "");
        ptl_json_str(f, r->name);
        fprintf(f, ",\"%" PRIx64 "\",\"%" PRIx64 "\"]", r->start, r->end);
    }
    fprintf(f, "],");
}

/*
 * json_table - one table as [pa, level, runs, unreadable], its entries as
 * runs [index, count, raw, kind, addr, flags]: kind T (a pointer to the table at addr), L (count pages, entry k
 * = raw + k x page size, frame addr + k x page size), R (present with
 * reserved bits addr), N (not present but not zero, count equal entries).
 * Zero entries are left out.
 */
static void json_table(FILE *f, const struct ptl_target *t, const struct ptl_tnode *nd, bool comma)
{
    const struct pg_level_desc *ld = &t->mode->level[nd->level];
    unsigned count = nd->unreadable ? 0 : 1u << ld->index_bits;
    fprintf(f, "%s[\"%" PRIx64 "\",%d,[", comma ? ",\n" : "", nd->pa, nd->level);
    bool first = true;
    for (unsigned i = 0; i < count;) {
        uint64_t raw, next;
        struct pg_entry e, en;
        if (pg_entry_read(&t->ctx, nd->pa, nd->level, i, &raw) || raw == 0 ||
            pg_entry_decode(&t->ctx, nd->level, raw, &e)) {
            i++;
            continue;
        }
        uint64_t rsvd = e.present ? pg_entry_reserved(&t->ctx, nd->level, raw) : 0;
        char kind = !e.present ? 'N' : rsvd ? 'R' : e.leaf ? 'L' : 'T';
        unsigned n = 1;
        while ((kind == 'L' || kind == 'N') && i + n < count &&
               !pg_entry_read(&t->ctx, nd->pa, nd->level, i + n, &next) &&
               next == raw + (kind == 'L' ? n * e.page_size : 0) &&
               !pg_entry_decode(&t->ctx, nd->level, next, &en) &&
               en.addr == e.addr + (kind == 'L' ? n * e.page_size : 0) &&
               !pg_entry_reserved(&t->ctx, nd->level, next))
            n++;
        char flags[96];
        fprintf(f, "%s[%u,%u,\"%" PRIx64 "\",\"%c\",\"%" PRIx64 "\",\"%s\"]", first ? "" : ",",
                i, n, raw, kind, kind == 'R' ? rsvd : e.addr,
                ptl_entry_flags(&e, nd->level, flags, sizeof(flags)));
        first = false;
        i += n;
    }
    fprintf(f, "],%d]", nd->unreadable);
}

/*
 * json_diff - "diff": [[sign, start, end, line], ...] from diff's lines (end
 * 0, the top of the address space, as 2^64), and "diff_source"; nothing
 * without --diff.
 */
static void json_diff(FILE *f, const struct map_data *d)
{
    if (!d->diff_source)
        return;
    fprintf(f, "\"diff_source\":");
    ptl_json_str(f, d->diff_source);
    fprintf(f, ",\"diff\":[");
    bool first = true;
    for (char *line = d->diff; line && line < d->diff + d->diff_len;) {
        char *nl = memchr(line, '\n', (size_t)(d->diff + d->diff_len - line));
        if (!nl)
            break;
        *nl = 0;
        uint64_t start, end;
        char sign;
        if (sscanf(line, "%c %" SCNx64 "-%" SCNx64, &sign, &start, &end) == 3) {
            fprintf(f, "%s[\"%c\",\"%" PRIx64 "\",\"%s%" PRIx64 "\",", first ? "" : ",\n", sign,
                    start, end ? "" : "1", end);
            ptl_json_str(f, line);
            fputc(']', f);
            first = false;
        }
        line = nl + 1;
    }
    fprintf(f, "],\n");
}

static void json_data(FILE *f, const struct map_data *d)
{
    const struct ptl_target *t = d->t;
    fprintf(f, "{\"source\":");
    ptl_json_str(f, t->path);
    fprintf(f, ",\"cr3\":\"%" PRIx64 "\",\"root\":\"%" PRIx64 "\",", t->cr3, t->root);
    json_mode(f, t);
    json_regions(f, d);
    fprintf(f, "\"ranges\":[\n");
    for (size_t i = 0; i < d->n; i++)
        json_range(f, d, i);
    fprintf(f, "],\n");
    json_diff(f, d);
    fprintf(f, "\"truncated\":%s,\"tables\":[\n", d->g.truncated ? "true" : "false");
    for (size_t n = 0; n < d->g.nnodes; n++)
        json_table(f, t, &d->g.node[n], n > 0);
    fprintf(f, "]}");
}

/* ---- the page ---- */

static void page_legend(FILE *f)
{
    static const char *const cls[] = { "rt-ro", "rt-rw", "rt-rx", "rt-wx", "rt-none" };
    static const char *const name[] = { "read-only", "read-write", "read-execute",
                                        "W+X: writable and executable", "not mapped" };
    fputs("<div id=\"legend\" class=\"legend\">", f);
    for (unsigned i = 0; i < 5; i++)
        fprintf(f, "<span><i class=\"sw %s\"></i>%s</span>", cls[i], name[i]);
    fputs("<span><i class=\"sw rt-rw part\"></i>partly mapped (bar: the fraction)</span>"
          "<span><i class=\"sw rt-ro usr\"></i>user-accessible</span>"
          "<span><i class=\"sw rt-ro alias\"></i>alias: its frames are mapped at another VA "
          "too</span><span><i class=\"sw sh\"></i>shared or recursive table</span>"
          "<span><b>4K 2M 1G</b> page sizes in the cell</span></div>\n", f);
}

static void write_page(FILE *f, const struct map_data *d)
{
    const struct ptl_target *t = d->t;
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>", f);
    ptl_escf(f, "Address space of %s", t->path);
    fprintf(f, "</title>\n<style>\n%s%s</style></head>\n<body>\n<header><h1>", ptl_draw_css,
            draw_page_css);
    ptl_escf(f, "Address space of %s", t->path);
    fprintf(f, "</h1><p id=\"summary\" class=\"dim\"></p></header>\n"
               "<noscript><p>This map is drawn by the script inside the page: enable "
               "JavaScript.</p></noscript>\n<main id=\"app\"><section id=\"mapcol\">"
               "<nav id=\"crumbs\"></nav><div id=\"grid\"></div>\n");
    page_legend(f);
    fputs("</section>\n<aside id=\"side\"><form id=\"goto\"><label>Walk of address "
          "<input id=\"addr\" size=\"20\" spellcheck=\"false\" placeholder=\"hex, e.g. "
          "ffffffff81000000\"></label> <button type=\"submit\">Walk</button></form>\n"
          "<div id=\"hover\" class=\"panel\"></div>\n<div id=\"walk\" class=\"panel\"></div>\n"
          "<div id=\"diff\" class=\"panel\"></div>\n<div id=\"regions\" class=\"panel\"></div>"
          "</aside></main>\n<script type=\"application/json\" id=\"ptlab-data\">", f);
    json_data(f, d);
    fprintf(f, "</script>\n<script>\n%s</script>\n</body></html>\n", draw_map_js);
}

/* Gather everything the page shows. returns: 0; a -PG_E* code. */
static int map_load(struct map_data *d, struct ptl_target *t)
{
    d->t = t;
    struct pg_iter_opts o = { .merge = PG_MERGE_RAW, .flags = PG_ITER_PHYS_CONTIG };
    int r = ptl_iterate(t, &o, collect, d);
    if (d->oom)
        return -PG_ENOMEM;
    if (r < 0)
        return r;
    d->have_layout = ptl_linux_layout(t, &d->layout) == 0;
    if (find_aliases(d))
        return -PG_ENOMEM;
    return ptl_tables_build(&t->ctx, &t->root, 1, MAP_MAX_TABLES, &d->g);
}

/*
 * map_load_diff - what changed from the source OTHER (opened with SOURCE's
 * input options, as a dump) to SOURCE, in diff's lines, into d->diff.
 * returns: 0; -1 after a message.
 */
static int map_load_diff(struct map_data *d, const char *other)
{
    struct ptl_input_opts in = d->t->in;
    in.path = other;
    in.gdb = in.mem_file = in.qmp = NULL;
    struct ptl_target to;
    if (ptl_target_open(&to, &in))
        return -1;
    struct ptl_mappings a = { 0 }, b = { 0 };
    int r = ptl_mappings_load(&to, &a);
    if (r == 0)
        r = ptl_mappings_load(d->t, &b);
    FILE *m = r == 0 ? open_memstream(&d->diff, &d->diff_len) : NULL;
    if (r == 0 && !m)
        r = -PG_ENOMEM;
    if (m) {
        ptl_mappings_diff(m, to.mode, &a, d->t->mode, &b);
        if (fclose(m))
            r = -PG_ENOMEM;
    }
    if (r)
        ptl_error("draw map", "--diff %s: %s", other, pg_strerror(r));
    d->diff_source = other;
    free(a.v);
    free(b.v);
    ptl_target_close(&to);
    return r ? -1 : 0;
}

static void map_free(struct map_data *d)
{
    free(d->diff);
    free(d->r);
    free(d->alias);
    ptl_tables_free(&d->g);
}

enum { OPT_OUTPUT = 'o', OPT_DIFF = PTL_OPT_CMD };

static const char map_help[] =
    "usage: ptlab draw map [OPTIONS] SOURCE [-o FILE.html]\n"
    "Write one self-contained HTML page (no network, no file besides itself) with\n"
    "SOURCE's whole address space as a zoomable map: one cell per table entry,\n"
    "from the top table down to 4 KiB pages, coloured by rights (W+X red and\n"
    "hatched), with page sizes, the user and kernel halves, Linux's region names\n"
    "(as `ptlab regions` infers them) and aliases (frames mapped at several VAs).\n"
    "Hovering a cell lists its ranges and entry; clicking zooms in, or at a page\n"
    "shows its walk (as `draw walk`); any address can be walked from the box.\n\n"
    "  -o, --output FILE  write the page there (default: standard output)\n"
    "      --diff OTHER   also what changed from the dump OTHER to SOURCE (as\n"
    "                     `ptlab diff OTHER SOURCE`): added, removed and changed\n"
    "                     ranges coloured, listed beside the map\n\n";

static const struct option map_options[] = {
    { "output", required_argument, NULL, OPT_OUTPUT },
    { "diff", required_argument, NULL, OPT_DIFF },
    { 0, 0, 0, 0 },
};

struct map_state {
    const char *output;
    const char *diff;
};

static int map_option(void *state, int code, const char *arg)
{
    struct map_state *s = state;
    if (code == OPT_OUTPUT)
        s->output = arg;
    else if (code == OPT_DIFF)
        s->diff = arg;
    return 0;
}

static int map_run(void *state, struct ptl_target *t)
{
    struct map_state *s = state;
    struct map_data d = { 0 };
    int rc = PTL_EXIT_FAIL;
    int err = map_load(&d, t);
    if (err) {
        ptl_error("draw map", "%s: %s", t->path, pg_strerror(err));
    } else if (!s->diff || map_load_diff(&d, s->diff) == 0) {
        FILE *f = ptl_draw_open("draw map", s->output);
        if (f) {
            write_page(f, &d);
            rc = ptl_draw_close("draw map", f, s->output);
        }
    }
    map_free(&d);
    return rc;
}

const struct ptl_cmd ptl_cmd_draw_map = {
    .name = "draw map", .summary = "the address space as a zoomable HTML map", .help = map_help,
    .input = true, .run = map_run, .state_size = sizeof(struct map_state),
    .options = map_options, .option = map_option, .short_opts = "o:",
    .args_error = "expected one SOURCE",
};
