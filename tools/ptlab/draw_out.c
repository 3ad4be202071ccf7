/*
 * draw_out.c: the writer under every `ptlab draw` picture: the output file,
 * XML/HTML/JSON escaping, SVG elements, the colour legend as CSS, and the
 * flag names of an entry. Plain text out: no library.
 * Depends on: draw.h, ptlab.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "draw.h"
#include "ptlab.h"

/*
 * The legend, one copy for SVG and HTML. Rights colours: blue read-only,
 * green read-write, amber read-execute, red (hatched where drawn large)
 * writable and executable, grey not mapped; user-accessible pages get a
 * dotted outline.
 */
const char ptl_draw_css[] =
    "text,.txt{font-family:\"DejaVu Sans\",\"Segoe UI\",Helvetica,Arial,sans-serif;"
    "font-size:13px;fill:#1d1d1d;color:#1d1d1d}\n"
    ".mono{font-family:\"DejaVu Sans Mono\",Menlo,Consolas,monospace}\n"
    ".small{font-size:11px}.big{font-size:16px;font-weight:bold}.b{font-weight:bold}\n"
    ".c{text-anchor:middle}.r{text-anchor:end}.dim{fill:#6b6b6b;color:#6b6b6b}\n"
    ".bad{fill:#b00020;color:#b00020;font-weight:bold}.good{fill:#1a7f37;color:#1a7f37}\n"
    ".box{fill:#fbfbfb;stroke:#555;stroke-width:1.2}.hdr{stroke:#555;stroke-width:1.2}\n"
    ".cr3{fill:#fff3cd;stroke:#8a6d00;stroke-width:1.2}.sel{fill:#ffffff;stroke:#1f5fa8;"
    "stroke-width:2}\n"
    ".deny{stroke:#b00020 !important;stroke-width:3 !important}\n"
    ".arrow{stroke:#1f5fa8;stroke-width:1.8;fill:none}.head{fill:#1f5fa8}\n"
    ".share{stroke-dasharray:5 3}\n"
    ".back{stroke:#8e44ad;stroke-width:1.6;fill:none;stroke-dasharray:6 3}.backhead{fill:#8e44ad}\n"
    ".back-box{fill:#f3e9f9;stroke:#8e44ad;stroke-width:1.6}.gp{stroke:#b00020;"
    "stroke-width:1.4;fill:none;stroke-dasharray:4 3}\n"
    ".flagon{fill:#dbe9f7;stroke:#1f5fa8}.flagoff{fill:#ffffff;stroke:#c8c8c8}"
    ".flagbad{fill:#f9d6dc;stroke:#b00020;stroke-width:2}\n"
    ".fld{stroke:#555;stroke-width:1;fill:none}\n"
    ".fld0{fill:#f4e3c1;background:#f4e3c1}.fld1{fill:#d4e6c3;background:#d4e6c3}\n"
    ".fld2{fill:#cfe0f1;background:#cfe0f1}.fld3{fill:#e5d4ef;background:#e5d4ef}\n"
    ".fld4{fill:#f6d0d0;background:#f6d0d0}.fldoff{fill:#ececec}.fldx{fill:#ffffff}\n"
    ".rt-none{fill:#efefef;background:#efefef}\n"
    ".rt-ro{fill:#74a9d8;background:#74a9d8}\n"
    ".rt-rw{fill:#6cc070;background:#6cc070}\n"
    ".rt-rx{fill:#f5b041;background:#f5b041}\n"
    ".rt-wx{fill:#d7191c;background:repeating-linear-gradient(45deg,#d7191c 0 6px,"
    "#7a0010 6px 9px)}\n"
    ".usr{stroke:#000;stroke-dasharray:3 2;outline:2px dotted #000;outline-offset:-3px}\n"
    ".g-legend rect{stroke:#555;stroke-width:.8}\n";

FILE *ptl_draw_open(const char *cmd, const char *path)
{
    if (!path || !strcmp(path, "-"))
        return stdout;
    FILE *f = fopen(path, "w");
    if (!f)
        ptl_error(cmd, "%s: %s", path, strerror(errno));
    return f;
}

int ptl_draw_close(const char *cmd, FILE *f, const char *path)
{
    bool to_stdout = f == stdout;
    int bad = ferror(f) | (to_stdout ? fflush(f) : fclose(f));
    if (bad) {
        ptl_error(cmd, "%s: write failed", to_stdout ? "stdout" : path);
        return PTL_EXIT_FAIL;
    }
    return PTL_EXIT_OK;
}

void ptl_esc(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: putc(*s, f); break;
        }
    }
}

static void vescf(FILE *f, const char *fmt, va_list ap)
{
    char buf[1024];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    ptl_esc(f, buf);
}

void ptl_escf(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vescf(f, fmt, ap);
    va_end(ap);
}

void ptl_json_str(FILE *f, const char *s)
{
    putc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else if (*p == '<')
            fputs("\\u003c", f);    /* never "</script>" inside a script element */
        else
            putc(*p, f);
    }
    putc('"', f);
}

int svg_open(struct ptl_svg *s, FILE *out, const char *id, const char *title, bool standalone)
{
    *s = (struct ptl_svg){ .out = out, .id = id, .title = title, .standalone = standalone };
    s->f = open_memstream(&s->buf, &s->len);
    return s->f ? 0 : -1;
}

void svg_close(struct ptl_svg *s, double w, double h)
{
    FILE *f = s->out;
    fclose(s->f);
    if (s->standalone)
        fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "viewBox=\"0 0 %.0f %.0f\" role=\"img\">\n<title>", w, h, w, h);
    ptl_esc(f, s->title);
    fprintf(f, "</title>\n<style>\n%s</style>\n", ptl_draw_css);
    fprintf(f, "<defs><pattern id=\"%s-wx\" width=\"8\" height=\"8\" "
               "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
               "<rect width=\"8\" height=\"8\" fill=\"#d7191c\"/>"
               "<rect width=\"3\" height=\"8\" fill=\"#7a0010\"/></pattern></defs>\n", s->id);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n");
    fwrite(s->buf, 1, s->len, f);
    fputs("</svg>\n", f);
    free(s->buf);
    s->buf = NULL;
}

void svg_rect(struct ptl_svg *s, double x, double y, double w, double h, double rx,
              const char *cls)
{
    fprintf(s->f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"", x, y, w, h);
    if (rx > 0)
        fprintf(s->f, " rx=\"%.1f\"", rx);
    if (!strcmp(cls, "rt-wx"))     /* the hatch: unmistakable even in grey */
        fprintf(s->f, " class=\"rt-wx\" fill=\"url(#%s-wx)\"/>\n", s->id);
    else
        fprintf(s->f, " class=\"%s\"/>\n", cls);
}

void svg_text(struct ptl_svg *s, double x, double y, const char *cls, const char *fmt, ...)
{
    fprintf(s->f, "<text x=\"%.1f\" y=\"%.1f\" class=\"%s\">", x, y, cls);
    va_list ap;
    va_start(ap, fmt);
    vescf(s->f, fmt, ap);
    va_end(ap);
    fputs("</text>\n", s->f);
}

void svg_line(struct ptl_svg *s, double x1, double y1, double x2, double y2, const char *cls)
{
    fprintf(s->f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"%s\"/>\n",
            x1, y1, x2, y2, cls);
}

/* sqrt(v) for v >= 0 by Newton's method (the tool links no libm). */
static double root2(double v)
{
    double r = v > 1 ? v : 1;
    for (int i = 0; i < 60 && v > 0; i++)
        r = 0.5 * (r + v / r);
    return v > 0 ? r : 0;
}

/* The arrowhead at (x2, y2) pointing along (dx, dy) (any length, not 0). */
static void arrow_head(struct ptl_svg *s, double x2, double y2, double dx, double dy,
                       const char *cls)
{
    double len = root2(dx * dx + dy * dy);
    dx = len > 0 ? dx / len : 1;
    dy = len > 0 ? dy / len : 0;
    double bx = x2 - 9 * dx, by = y2 - 9 * dy;     /* 9 long, 8 wide */
    fprintf(s->f, "<polygon points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\" class=\"%s\"/>\n", x2, y2,
            bx - 4 * dy, by + 4 * dx, bx + 4 * dy, by - 4 * dx,
            !strcmp(cls, "back") ? "backhead" : "head");
}

void svg_arrow(struct ptl_svg *s, double x1, double y1, double x2, double y2, bool elbow,
               const char *cls)
{
    if (elbow)
        fprintf(s->f, "<path d=\"M%.1f %.1f V%.1f H%.1f\" class=\"%s\"/>\n", x1, y1, y2, x2, cls);
    else
        fprintf(s->f, "<path d=\"M%.1f %.1f L%.1f %.1f\" class=\"%s\"/>\n", x1, y1, x2, y2, cls);
    arrow_head(s, x2, y2, elbow ? x2 - x1 : x2 - x1, elbow ? 0 : y2 - y1, cls);
}

void svg_bezier(struct ptl_svg *s, const double p[8], const char *cls)
{
    fprintf(s->f, "<path d=\"M%.1f %.1f C%.1f %.1f %.1f %.1f %.1f %.1f\" class=\"%s\"/>\n", p[0],
            p[1], p[2], p[3], p[4], p[5], p[6], p[7], cls);
    arrow_head(s, p[6], p[7], p[6] - p[4], p[7] - p[5], cls);
}

void svg_group(struct ptl_svg *s, const char *cls, const char *attrs, ...)
{
    fprintf(s->f, "<g class=\"%s\"", cls);
    if (attrs) {
        putc(' ', s->f);
        va_list ap;
        va_start(ap, attrs);
        vfprintf(s->f, attrs, ap);
        va_end(ap);
    }
    fputs(">\n", s->f);
}

void svg_group_end(struct ptl_svg *s)
{
    fputs("</g>\n", s->f);
}

void svg_title(struct ptl_svg *s, const char *fmt, ...)
{
    fputs("<title>", s->f);
    va_list ap;
    va_start(ap, fmt);
    vescf(s->f, fmt, ap);
    va_end(ap);
    fputs("</title>\n", s->f);
}

const char *ptl_rights_class(uint64_t eff)
{
    bool w = eff & PTE_W, x = !(eff & PTE_NX);
    return w && x ? "rt-wx" : x ? "rt-rx" : w ? "rt-rw" : "rt-ro";
}

double svg_legend(struct ptl_svg *s, double x, double y)
{
    static const char *const cls[] = { "rt-ro", "rt-rw", "rt-rx", "rt-wx", "rt-none" };
    static const char *const name[] = { "read-only", "read-write", "read-execute",
                                        "W+X (writable and executable)", "not mapped" };
    double x0 = x;
    svg_group(s, "g-legend", NULL);
    for (unsigned i = 0; i < 5; i++) {
        svg_rect(s, x, y - 11, 22, 14, 2, cls[i]);
        svg_text(s, x + 28, y, "small", "%s", name[i]);
        x += 28 + 7.0 * (double)strlen(name[i]) + 18;
    }
    svg_group_end(s);
    return x - x0;
}

/* Append " word" (no space first) to buf[0..*n) of size bytes. */
static void append(char *buf, size_t size, size_t *n, const char *word)
{
    *n += (size_t)snprintf(buf + *n, *n < size ? size - *n : 0, "%s%s", *n ? " " : "", word);
}

char *ptl_entry_flags(const struct pg_entry *dec, int level, char *buf, size_t size)
{
    static const struct { uint64_t bit; const char *name; } names[] = {
        { PTE_P, "P" }, { PTE_W, "W" }, { PTE_U, "U" }, { PTE_PWT, "PWT" }, { PTE_PCD, "PCD" },
        { PTE_A, "A" }, { PTE_D, "D" }, { PTE_G, "G" }, { PTE_PAT_LARGE, "PAT" },
        { PTE_NX, "NX" },
    };
    size_t n = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (names[i].bit == PTE_G && dec->leaf && level > 1)
            append(buf, size, &n, "PS");    /* bit 7, between D and G */
        if (dec->prot & names[i].bit)
            append(buf, size, &n, names[i].name);
    }
    if (dec->prot & PTE_PK_MASK) {
        char pk[16];
        snprintf(pk, sizeof(pk), "PK=%u", (unsigned)((dec->prot & PTE_PK_MASK) >> PTE_PK_SHIFT));
        append(buf, size, &n, pk);
    }
    return buf;
}
