/*
 * draw_walk.c: the picture of one page-table walk (ptl_svg_walk): the VA
 * split into its indices and offset, CR3, one box per level with the
 * table's physical address, the entry's index, address and value, its flag
 * bits and an arrow to the next table, then the page frame with the offset
 * and the physical address. With an access verdict (access.c) the level and
 * the bit that deny it are drawn red, with the model's reason.
 * Every number comes from the lib/paging walk (struct pg_walk), as `vtop`
 * prints it; the groups carry them as data-* attributes too.
 * Depends on: draw.h, lib/paging.
 */
#include <inttypes.h>
#include <string.h>

#include "draw.h"
#include "ptlab.h"

#define W_LEFT      36.0
#define W_BOX       660.0       /* width of a level's box */
#define W_STEP_X    34.0        /* each level's box is this much right of the one above */
#define W_BOX_H     84.0
#define W_GAP       26.0
#define W_CHIP      34.0
#define PX_PER_BIT  10.0

/* One field of the VA bar: bits [lo, hi], a label and its value. */
struct va_field {
    unsigned hi, lo;
    char label[24], value[24];
    const char *cls;
};

/*
 * va_fields - the VA's fields as the MMU uses them: the sign extension (IA-32e), one index per
 * level from the top down to the leaf (or to level 1 if the walk stopped), then the offset.
 * returns: the number of fields.
 */
static unsigned va_fields(const struct pg_mode_desc *m, const struct pg_walk *w,
                          struct va_field f[PG_MAX_LEVELS + 2])
{
    int leaf = w->status == 0 ? w->leaf_level : 1;
    int reached = w->nsteps ? w->step[w->nsteps - 1].level : (int)m->levels + 1;
    unsigned idx[PG_MAX_LEVELS + 1];
    uint64_t off;
    pg_va_split(m->levels, leaf, w->va, idx, &off);
    unsigned n = 0;
    if (m->canonical) {
        bool ok = pg_is_canonical(m->levels, w->va);
        f[n] = (struct va_field){ .hi = 63, .lo = m->va_bits, .cls = ok ? "fldoff" : "flagbad" };
        snprintf(f[n].label, sizeof(f[n].label), "sign");
        snprintf(f[n].value, sizeof(f[n].value), ok ? "= bit %u" : "not canonical", m->va_bits - 1);
        n++;
    }
    for (int l = (int)m->levels; l >= leaf; l--) {
        const struct pg_level_desc *ld = &m->level[l];
        static const char *const colour[] = { "fld0", "fld1", "fld2", "fld3", "fld4" };
        f[n] = (struct va_field){ .hi = ld->shift + ld->index_bits - 1, .lo = ld->shift,
                                  .cls = l < reached ? "fldx" : colour[(m->levels - l) % 5] };
        snprintf(f[n].label, sizeof(f[n].label), "%s index", ld->linux_name);
        snprintf(f[n].value, sizeof(f[n].value), "%u", idx[l]);
        n++;
    }
    f[n] = (struct va_field){ .hi = m->level[leaf].shift - 1, .lo = 0,
                              .cls = w->status == 0 ? "rt-none" : "fldx" };
    snprintf(f[n].label, sizeof(f[n].label), "offset");
    snprintf(f[n].value, sizeof(f[n].value), "0x%" PRIx64, off);
    return n + 1;
}

/* The VA bar at y: each field as wide as its bits (at least 62 px). returns: its height. */
static double draw_va(struct ptl_svg *s, const struct pg_mode_desc *m, const struct pg_walk *w,
                      double y)
{
    struct va_field f[PG_MAX_LEVELS + 2];
    unsigned n = va_fields(m, w, f);
    double x = W_LEFT;
    svg_group(s, "g-va", "data-va=\"%016" PRIx64 "\"", w->va);
    svg_text(s, x, y, "b", "Virtual address %016" PRIx64 " split by the MMU", w->va);
    y += 10;
    for (unsigned i = 0; i < n; i++) {
        unsigned bits = f[i].hi - f[i].lo + 1;
        double wd = bits * PX_PER_BIT * (i == 0 && m->canonical ? 0.45 : 1.0);
        if (wd < 62)
            wd = 62;
        svg_group(s, "g-fld", "data-label=\"%s\" data-hi=\"%u\" data-lo=\"%u\"", f[i].label,
                  f[i].hi, f[i].lo);
        svg_rect(s, x, y, wd, 40, 0, f[i].cls);
        svg_rect(s, x, y, wd, 40, 0, "fld");
        svg_text(s, x + wd / 2, y + 15, "c small", "%s", f[i].label);
        svg_text(s, x + wd / 2, y + 32, "c mono b", "%s", f[i].value);
        svg_text(s, x + wd / 2, y + 54, "c small dim", "%u:%u", f[i].hi, f[i].lo);
        svg_group_end(s);
        x += wd;
    }
    svg_group_end(s);
    return 72;
}

/* The offset widths of every page size of the mode, the one in use bold. returns: height. */
static double draw_offsets(struct ptl_svg *s, const struct pg_mode_desc *m,
                           const struct pg_walk *w, double y)
{
    double x = W_LEFT;
    svg_text(s, x, y, "small dim", "offset by page size:");
    x += 140;
    for (int l = 1; l <= (int)m->levels; l++) {
        if (l > 1 && !m->level[l].large_ok)
            continue;
        unsigned idx[PG_MAX_LEVELS + 1];
        uint64_t off;
        char sz[32];
        pg_va_split(m->levels, l, w->va, idx, &off);
        bool used = w->status == 0 && w->leaf_level == l;
        svg_text(s, x, y, used ? "small b" : "small dim", "%s page: bits %u:0 = 0x%" PRIx64,
                 ptl_size_str(pg_level_size(m->levels, l), sz), m->level[l].shift - 1, off);
        x += 200;
    }
    return 26;
}

/* The flag bits of entry e at `level` as chips; the ones in `bad` red. */
static void draw_chips(struct ptl_svg *s, const struct pg_mode_desc *m,
                       const struct pg_walk_step *st, uint64_t bad, double x, double y)
{
    struct { uint64_t bit; const char *name; } chips[12];
    unsigned n = 0;
    static const char *const low[] = { "P", "W", "U", "PWT", "PCD", "A", "D" };
    for (unsigned b = 0; b < 7; b++)
        chips[n++] = (typeof(chips[0])){ 1ULL << b, low[b] };
    if (st->level == 1)
        chips[n++] = (typeof(chips[0])){ PTE_PAT, "PAT" };
    else if (m->level[st->level].large_ok)
        chips[n++] = (typeof(chips[0])){ PTE_PS, "PS" };
    chips[n++] = (typeof(chips[0])){ PTE_G, "G" };
    if (st->dec.leaf && st->level > 1)
        chips[n++] = (typeof(chips[0])){ PTE_PAT_LARGE, "PAT" };
    if (m->has_nx)
        chips[n++] = (typeof(chips[0])){ PTE_NX, "NX" };
    for (unsigned i = 0; i < n; i++) {
        bool on = st->entry & chips[i].bit, red = bad & chips[i].bit;
        svg_group(s, "g-chip", "data-bit=\"%s\" data-set=\"%d\"", chips[i].name, on);
        svg_rect(s, x, y, W_CHIP - 3, 18, 3, red ? "flagbad" : on ? "flagon" : "flagoff");
        svg_text(s, x + (W_CHIP - 3) / 2, y + 13, on || red ? "c small b" : "c small dim", "%s",
                 chips[i].name);
        svg_group_end(s);
        x += W_CHIP;
    }
}

/* What the entry leads to, in words (right of the chips). */
static void entry_meaning(const struct pg_walk *w, const struct pg_walk_step *st, char *buf,
                          size_t size, const char **cls)
{
    char sz[32];
    *cls = "";
    if (!st->dec.present) {
        snprintf(buf, size, "not present (P = 0): the walk stops here");
        *cls = "bad";
    } else if (w->fault_level == st->level && w->status == -PG_ERSVD) {
        snprintf(buf, size, "reserved bits 0x%" PRIx64 " set: the walk stops here", w->rsvd_bits);
        *cls = "bad";
    } else if (st->dec.leaf) {
        snprintf(buf, size, "-> %s page frame %016" PRIx64,
                 ptl_size_str(st->dec.page_size, sz), st->dec.addr);
    } else {
        snprintf(buf, size, "-> next table at %016" PRIx64, st->dec.addr);
    }
}

/* One level's box at (x, y): the table, the entry, its flags and where it leads. */
static void draw_level(struct ptl_svg *s, const struct ptl_walk_pic *p,
                       const struct pg_walk_step *st, double x, double y)
{
    const struct pg_mode_desc *m = p->t->mode;
    const struct ptl_access *a = p->access;
    bool denied = a && a->outcome == PTL_ACCESS_PF && a->has_step && a->step.level == st->level;
    const struct pg_level_desc *ld = &m->level[st->level];
    svg_group(s, "g-level", "data-level=\"%d\" data-table=\"%016" PRIx64 "\" data-index=\"%u\" "
              "data-entry-pa=\"%016" PRIx64 "\" data-entry=\"%016" PRIx64 "\"", st->level,
              st->table_pa, st->index, st->entry_pa, st->entry);
    char flags[96];
    svg_title(s, "%s entry %u: %s", ld->linux_name, st->index,
              ptl_entry_flags(&st->dec, st->level, flags, sizeof(flags)));
    svg_rect(s, x, y, W_BOX, W_BOX_H, 4, denied ? "box deny" : "box");
    static const char *const colour[] = { "hdr fld0", "hdr fld1", "hdr fld2", "hdr fld3",
                                          "hdr fld4" };
    svg_rect(s, x, y, W_BOX, 22, 4, colour[(m->levels - st->level) % 5]);
    svg_text(s, x + 10, y + 16, "b", "%s (%s) table", ld->intel_name, ld->linux_name);
    svg_text(s, x + 170, y + 16, "mono", "at %016" PRIx64, st->table_pa);
    svg_text(s, x + W_BOX - 10, y + 16, "r small dim", "%u entries of %u bytes",
             1u << ld->index_bits, ld->entry_size);
    svg_rect(s, x + 6, y + 27, W_BOX - 12, 26, 3, denied ? "sel deny" : "sel");
    svg_text(s, x + 14, y + 45, "mono b", "[%u]", st->index);
    svg_text(s, x + 70, y + 45, "mono small dim", "entry at %016" PRIx64, st->entry_pa);
    svg_text(s, x + 330, y + 45, "mono b", "= %016" PRIx64, st->entry);
    draw_chips(s, m, st, denied ? a->bits : 0, x + 8, y + 59);
    char meaning[96];
    const char *cls;
    entry_meaning(p->w, st, meaning, sizeof(meaning), &cls);
    svg_text(s, x + W_BOX - 10, y + 73, *cls ? "r small bad" : "r small mono", "%s", meaning);
    svg_group_end(s);
}

/* The page frame after the last level, or why there is none. returns: the height used. */
static double draw_frame(struct ptl_svg *s, const struct ptl_walk_pic *p, double x, double y)
{
    const struct pg_walk *w = p->w;
    char sz[32];
    if (w->status == 0) {
        phys_addr_t frame = w->pa & ~(w->page_size - 1);
        svg_group(s, "g-frame", "data-frame=\"%016" PRIx64 "\" data-pa=\"%016" PRIx64 "\" "
                  "data-page-size=\"%" PRIu64 "\"", frame, w->pa, w->page_size);
        svg_rect(s, x, y, W_BOX, 50, 4, ptl_rights_class((w->writable ? PTE_W : 0) |
                                                         (w->nx ? PTE_NX : 0)));
        svg_rect(s, x + 6, y + 6, W_BOX - 12, 38, 3, "sel");
        svg_text(s, x + 14, y + 22, "b", "%s page frame", ptl_size_str(w->page_size, sz));
        svg_text(s, x + 150, y + 22, "mono", "%016" PRIx64 " + offset 0x%" PRIx64, frame,
                 w->pa - frame);
        svg_text(s, x + 14, y + 38, "b", "physical address");
        svg_text(s, x + 150, y + 38, "mono b", "%016" PRIx64, w->pa);
        svg_text(s, x + W_BOX - 14, y + 38, "r small", "%s%s%s", w->writable ? "writable" :
                 "read-only", w->nx ? ", not executable" : ", executable",
                 w->user ? ", user" : ", supervisor only");
        svg_group_end(s);
        return 60;
    }
    svg_group(s, "g-stop", "data-status=\"%s\"", pg_strerror(w->status));
    if (w->status == -PG_EIO)
        svg_text(s, x, y + 16, "bad", "the %s table at %016" PRIx64 " cannot be read "
                 "(outside the source's memory): not mapped",
                 pg_level_intel_name(p->t->mode->levels, w->fault_level),
                 w->nsteps ? w->step[w->nsteps - 1].dec.addr : p->t->root);
    else if (w->status == -PG_ERANGE)
        svg_text(s, x, y + 16, "bad", "not a canonical %s address: the CPU raises #GP "
                 "before any walk", p->t->mode->name);
    else
        svg_text(s, x, y + 16, "bad", "not mapped: %s", pg_strerror(w->status));
    svg_group_end(s);
    return 30;
}

/* The access verdict under the walk. returns: the height used. */
static double draw_verdict(struct ptl_svg *s, const struct ptl_walk_pic *p, double y)
{
    const struct ptl_access *a = p->access;
    char what[40], pfec[64];
    ptl_access_what(a, what);
    svg_group(s, "g-verdict", "data-outcome=\"%s\"", a->outcome == PTL_ACCESS_ALLOWED ? "allowed"
              : a->outcome == PTL_ACCESS_PF ? "pf" : "other");
    switch (a->outcome) {
    case PTL_ACCESS_ALLOWED:
        svg_text(s, W_LEFT, y, "big good", "%s: allowed, physical address %016" PRIx64, what,
                 a->r.pa);
        break;
    case PTL_ACCESS_PF:
        svg_text(s, W_LEFT, y, "big bad", "%s: page fault, error code 0x%x (%s)", what,
                 a->r.error_code, pg_pfec_string(a->r.error_code, pfec, sizeof(pfec)));
        if (a->has_step)
            svg_text(s, W_LEFT, y + 22, "bad", "%s, in the %s entry (level %d, index %u)",
                     a->reason, pg_level_linux_name(p->t->mode->levels, a->step.level),
                     a->step.level, a->step.index);
        else
            svg_text(s, W_LEFT, y + 22, "bad", "%s", a->reason);
        break;
    case PTL_ACCESS_GP_CANONICAL:
        svg_text(s, W_LEFT, y, "big bad", "%s: #GP, not a canonical address (no walk)", what);
        break;
    case PTL_ACCESS_GP_PDPTE:
        svg_text(s, W_LEFT, y, "big bad", "%s: #GP, a present PAE PDPTE has reserved bits", what);
        break;
    case PTL_ACCESS_UNKNOWN:
        svg_text(s, W_LEFT, y, "big bad", "%s: cannot tell: %s", what, pg_strerror(a->err));
        break;
    }
    svg_group_end(s);
    return 44;
}

/* The chips' legend at (x, y). */
static void chip_legend(struct ptl_svg *s, double x, double y)
{
    static const char *const cls[] = { "flagon", "flagoff", "flagbad" };
    static const char *const name[] = { "flag bit set", "flag bit clear",
                                        "the bit that denies the access" };
    for (unsigned i = 0; i < 3; i++) {
        svg_rect(s, x, y - 11, 22, 14, 3, cls[i]);
        svg_text(s, x + 28, y, "small", "%s", name[i]);
        x += 28 + 7.0 * (double)strlen(name[i]) + 18;
    }
}

void ptl_svg_walk(FILE *f, const struct ptl_walk_pic *p, bool standalone)
{
    const struct ptl_target *t = p->t;
    const struct pg_walk *w = p->w;
    double width = W_LEFT * 2 + W_BOX + W_STEP_X * (w->nsteps + 1);
    char title[160];
    if (p->title)
        snprintf(title, sizeof(title), "%s", p->title);
    else
        snprintf(title, sizeof(title), "Walk of %016" PRIx64 ", %s paging", w->va, t->mode->name);
    struct ptl_svg s;
    if (svg_open(&s, f, p->tag ? p->tag : "walk", title, standalone))
        return;
    svg_group(&s, "g-walk", "data-va=\"%016" PRIx64 "\" data-mode=\"%u\" data-cr3=\"%016"
              PRIx64 "\" data-root=\"%016" PRIx64 "\" data-status=\"%d\"", w->va,
              t->mode->levels, t->cr3, t->root, w->status);
    svg_text(&s, W_LEFT, 30, "big", "%s", title);
    svg_text(&s, W_LEFT, 50, "small dim", "source %s", t->path);
    double y = 80;
    y += draw_va(&s, t->mode, w, y);
    y += draw_offsets(&s, t->mode, w, y + 10) + 10;
    svg_group(&s, "g-cr3", "data-cr3=\"%016" PRIx64 "\" data-root=\"%016" PRIx64 "\"", t->cr3,
              t->root);
    svg_rect(&s, W_LEFT, y, 330, 34, 4, "cr3");
    svg_text(&s, W_LEFT + 10, y + 22, "mono b", "CR3 = %016" PRIx64, t->cr3);
    svg_text(&s, W_LEFT + 345, y + 22, "small dim", "the top table is at %016" PRIx64, t->root);
    svg_group_end(&s);
    double x = W_LEFT;
    svg_arrow(&s, x + 16, y + 34, x + W_STEP_X, y + 34 + W_GAP + 11, true, "arrow");
    y += 34 + W_GAP;
    for (unsigned i = 0; i < w->nsteps; i++) {
        x += W_STEP_X;
        draw_level(&s, p, &w->step[i], x, y);
        const struct pg_walk_step *st = &w->step[i];
        if (st->dec.present && (i + 1 < w->nsteps || w->status == 0))
            svg_arrow(&s, x + 16, y + W_BOX_H, x + W_STEP_X, y + W_BOX_H + W_GAP +
                      (st->dec.leaf ? 25 : 11), true, "arrow");
        y += W_BOX_H + W_GAP;
    }
    y += draw_frame(&s, p, x + (w->status == 0 ? W_STEP_X : 0), y) + 16;
    if (p->access)
        y += draw_verdict(&s, p, y + 10);
    svg_legend(&s, W_LEFT, y + 8);
    chip_legend(&s, W_LEFT, y + 30);
    svg_group_end(&s);
    svg_close(&s, width, y + 46);
}
