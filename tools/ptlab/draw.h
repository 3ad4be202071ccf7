/*
 * draw.h: what the `ptlab draw` pictures share: the output file (-o), a
 * small SVG writer (escaped text, boxes, arrows, groups carrying the numbers
 * as data attributes), HTML escaping, the one colour legend (rights, W+X,
 * not mapped) as CSS used by the SVG and the HTML pages alike, and the
 * pictures the commands make of the same things (a walk, a table tree).
 * Every picture is self-contained: no script, font or image from outside.
 * Depends on: target.h, access.h, lib/paging.
 */
#ifndef PTLAB_DRAW_H
#define PTLAB_DRAW_H

#include <stdarg.h>
#include <stdio.h>

#include <paging/paging.h>

#include "access.h"
#include "target.h"

/* ---- output (draw_out.c) ---- */

/*
 * ptl_draw_open - the file a picture goes to: path, or stdout if path is
 * NULL or "-".
 * returns: the stream; NULL after printing "ptlab CMD: PATH: reason".
 */
FILE *ptl_draw_open(const char *cmd, const char *path);

/*
 * ptl_draw_close - finish the picture: flush and close it (stdout is only
 * flushed); a failed write is reported.
 * returns: PTL_EXIT_OK, or PTL_EXIT_FAIL after printing why.
 */
int ptl_draw_close(const char *cmd, FILE *f, const char *path);

/* s as XML/HTML text or attribute value: & < > " ' escaped. */
void ptl_esc(FILE *f, const char *s);

/* printf, then ptl_esc of the result (at most 1023 bytes). */
void ptl_escf(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* s as a JSON string literal (for data embedded in a page; "</" written "<\/"). */
void ptl_json_str(FILE *f, const char *s);

/*
 * The legend's CSS: the classes every picture uses (fonts, rights colours
 * rt-ro / rt-rw / rt-rx / rt-wx / rt-none, boxes, highlights). One copy,
 * written into each SVG's <style> and each HTML page's.
 */
extern const char ptl_draw_css[];

/* ---- SVG writer (draw_out.c) ---- */

/*
 * struct ptl_svg - an SVG being written: the elements go to f (a buffer)
 * until svg_close knows the size and writes it all to out.
 * id       a prefix for the ids inside (the W+X hatch pattern), unique in
 *          a page holding several pictures
 */
struct ptl_svg {
    FILE *f;
    FILE *out;
    char *buf;
    size_t len;
    const char *id;
    const char *title;
    bool standalone;
};

/*
 * svg_open - start an SVG for out with title (its <title>, the picture's
 * name for screen readers and tooltips).
 * @standalone: write the XML declaration (a file of its own) or not (inline
 *              in an HTML page)
 * returns: 0; -1 when out of memory (nothing written).
 */
int svg_open(struct ptl_svg *s, FILE *out, const char *id, const char *title, bool standalone);

/* svg_close - write the <svg> of w x h pixels with the legend's CSS and everything drawn. */
void svg_close(struct ptl_svg *s, double w, double h);

/* <rect> with CSS classes cls (rounded by rx). */
void svg_rect(struct ptl_svg *s, double x, double y, double w, double h, double rx,
              const char *cls);

/* <text> at (x, y) (baseline) with classes cls; the text is printf'd and escaped. */
void svg_text(struct ptl_svg *s, double x, double y, const char *cls, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* A straight line (classes cls). */
void svg_line(struct ptl_svg *s, double x1, double y1, double x2, double y2, const char *cls);

/*
 * svg_arrow - an arrow from (x1, y1) to (x2, y2) with its head at the end:
 * straight, or (elbow) down first, then across. Heads are polygons (no
 * marker ids).
 */
void svg_arrow(struct ptl_svg *s, double x1, double y1, double x2, double y2, bool elbow,
               const char *cls);

/*
 * svg_bezier - a cubic Bezier arrow: p = start, two control points, end
 * (x, y pairs); the head at the end points away from the second control point.
 */
void svg_bezier(struct ptl_svg *s, const double p[8], const char *cls);

/* <g class="cls" ATTRS>: attrs (printf'd, not escaped: numbers only) may be NULL. */
void svg_group(struct ptl_svg *s, const char *cls, const char *attrs, ...)
    __attribute__((format(printf, 3, 4)));
void svg_group_end(struct ptl_svg *s);

/* <title> (a tooltip) of the enclosing element, printf'd and escaped. */
void svg_title(struct ptl_svg *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The rights class of effective rights eff (pg_range.eff): "rt-wx", "rt-rx", "rt-rw", "rt-ro". */
const char *ptl_rights_class(uint64_t eff);

/*
 * svg_legend - the rights legend (read-only, read-write, read-execute,
 * W+X, not mapped) as a row of swatches at (x, y).
 * returns: the width used.
 */
double svg_legend(struct ptl_svg *s, double x, double y);

/* ---- pictures shared by several commands ---- */

/*
 * ptl_entry_flags - the flag names of an entry at `level` as lib/paging
 * decodes it (dec: its pg_entry): "P W U PWT PCD A D PS G PAT NX PK=n"
 * for the bits that are set, space-separated, into buf.
 * returns: buf.
 */
char *ptl_entry_flags(const struct pg_entry *dec, int level, char *buf, size_t size);

/*
 * struct ptl_walk_pic - what a walk picture shows: the walk, the target it
 * was made on, and optionally an access verdict to highlight (NULL: none).
 * title        the heading line (NULL: "Walk of VA ...")
 * tag          an id prefix, unique in the page (the SVG's ids)
 */
struct ptl_walk_pic {
    const struct ptl_target *t;
    const struct pg_walk *w;
    const struct ptl_access *access;
    const char *title;
    const char *tag;
};

/*
 * ptl_svg_walk - the walk as an SVG (draw_walk.c): the VA split into its
 * indices and offset, CR3, one box per level (table PA, index, entry,
 * decoded flags, an arrow to the next table), the frame with the offset
 * (and the widths for each page size of the mode), the access verdict.
 * A walk that stops (not present, reserved bits, unreadable, not
 * canonical) is drawn up to where it stops, with the reason.
 */
void ptl_svg_walk(FILE *f, const struct ptl_walk_pic *p, bool standalone);

#endif /* PTLAB_DRAW_H */
