/*
 * cmd_draw_story.c: `ptlab draw story MANIFEST`: one self-contained HTML
 * page that steps through pictures, each step with the text beside it (the
 * boot story: scripts/boot-story writes the manifest from a real boot, the
 * SVGs with the other draw commands). The manifest is text, one item a line:
 *   title TEXT           the page's title
 *   intro TEXT           a paragraph under it (any number)
 *   step NAME: TITLE     a new step (NAME on its button)
 *   note TEXT            a paragraph of the step
 *   svg FILE             a picture of the step, inline (its ids made unique)
 *   text FILE            the text beside the step's pictures (what the kernel
 *                        printed), as preformatted text
 * Relative FILEs are taken from the manifest's directory. Empty lines and
 * lines starting with # are skipped.
 * Depends on: ptlab.h, draw.h, draw_assets.h (generated).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "draw.h"
#include "draw_assets.h"
#include "ptlab.h"

#define STORY_LINE 4096

/* The whole of a file, NUL-terminated (free it). returns: NULL after a message. */
static char *slurp(const char *dir, const char *name)
{
    char path[STORY_LINE + 256];
    if (name[0] == '/' || !dir[0])
        snprintf(path, sizeof(path), "%s", name);
    else
        snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t len = 0;
    FILE *m = f ? open_memstream(&buf, &len) : NULL;
    if (!f || !m) {
        ptl_error("draw story", "%s: %s", path, strerror(errno));
        if (f)
            fclose(f);
        return NULL;
    }
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        fwrite(chunk, 1, n, m);
    bool bad = ferror(f);
    fclose(f);
    fclose(m);
    if (bad) {
        ptl_error("draw story", "%s: read error", path);
        free(buf);
        return NULL;
    }
    return buf;
}

/*
 * An SVG file inline: without its XML declaration, its pattern id renamed to
 * pic<k>-wx, and never shrunk below 80% of its width (draw_page.css).
 */
static void inline_svg(FILE *f, char *svg, unsigned k)
{
    char *p = strstr(svg, "<svg");
    if (!p) {
        ptl_esc(f, svg);
        return;
    }
    char *w = strstr(p, " width=\"");
    if (w && w < strchr(p, '>')) {
        fprintf(f, "<svg style=\"min-width:%.0fpx\"", 0.8 * strtod(w + 8, NULL));
        p += 4;
    }
    char *id = strstr(p, "<pattern id=\"");
    char old[64] = "", new_[32];
    if (id) {
        id += strlen("<pattern id=\"");
        size_t n = strcspn(id, "\"");
        if (n < sizeof(old))
            snprintf(old, sizeof(old), "%.*s", (int)n, id);
    }
    snprintf(new_, sizeof(new_), "pic%u-wx", k);
    size_t ol = strlen(old);
    while (*p) {
        if (ol && !strncmp(p, old, ol)) {
            fputs(new_, f);
            p += ol;
        } else {
            putc(*p++, f);
        }
    }
}

static void text_block(FILE *f, const char *text)
{
    fputs("<pre>", f);
    for (const char *p = text; *p; p++)
        if (*p != '\r') {
            char c[2] = { *p, 0 };
            ptl_esc(f, c);
        }
    fputs("</pre>\n", f);
}

struct story {
    FILE *out;
    const char *dir;
    unsigned steps, pics;
    char *text;         /* the step's text, written after its pictures */
};

/* Close the open step: its pictures, then its text. */
static void end_step(struct story *s)
{
    if (!s->steps)
        return;
    fputs("</div>\n", s->out);
    if (s->text)
        text_block(s->out, s->text);
    free(s->text);
    s->text = NULL;
    fputs("</div></section>\n", s->out);
}

/* One manifest line. returns: 0; -1 after a message. */
static int story_line(struct story *s, char *line, unsigned lineno)
{
    char *arg = strchr(line, ' ');
    if (arg)
        *arg++ = '\0';
    if (!arg || !*arg) {
        ptl_error("draw story", "line %u: '%s' needs an argument", lineno, line);
        return -1;
    }
    FILE *f = s->out;
    if (!strcmp(line, "title") || !strcmp(line, "intro")) {
        if (s->steps) {
            ptl_error("draw story", "line %u: %s after the first step", lineno, line);
            return -1;
        }
        fputs(!strcmp(line, "title") ? "<h1>" : "<p>", f);
        ptl_esc(f, arg);
        fputs(!strcmp(line, "title") ? "</h1>\n" : "</p>\n", f);
    } else if (!strcmp(line, "step")) {
        end_step(s);
        char *title = strchr(arg, ':');
        if (title)
            *title++ = '\0';
        fprintf(f, "<section class=\"step\" id=\"step-%u\" data-name=\"", ++s->steps);
        ptl_esc(f, arg);
        fputs("\"><h2>", f);
        ptl_esc(f, title ? title + strspn(title, " ") : arg);
        fputs("</h2>\n<div class=\"pair\"><div class=\"pics\">\n", f);
    } else if (!s->steps) {
        ptl_error("draw story", "line %u: '%s' before the first step", lineno, line);
        return -1;
    } else if (!strcmp(line, "note")) {
        fputs("<p>", f);
        ptl_esc(f, arg);
        fputs("</p>\n", f);
    } else if (!strcmp(line, "svg") || !strcmp(line, "text")) {
        char *data = slurp(s->dir, arg);
        if (!data)
            return -1;
        if (!strcmp(line, "svg")) {
            inline_svg(f, data, ++s->pics);
            free(data);
        } else {
            free(s->text);
            s->text = data;
        }
    } else {
        ptl_error("draw story", "line %u: unknown item '%s' (title, intro, step, note, svg, "
                  "text)", lineno, line);
        return -1;
    }
    return 0;
}

/* The page from the manifest at path. returns: 0; -1 after a message. */
static int write_story(FILE *out, const char *path)
{
    FILE *m = fopen(path, "r");
    if (!m) {
        ptl_error("draw story", "%s: %s", path, strerror(errno));
        return -1;
    }
    char dir[STORY_LINE];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        dir[0] = '\0';
    struct story s = { .out = out, .dir = dir };
    fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                 "<title>ptlab: the boot, in pictures</title>\n<style>\n%s%s</style></head>\n"
                 "<body class=\"story\"><header>\n", ptl_draw_css, draw_page_css);
    char line[STORY_LINE];
    unsigned lineno = 0;
    int rc = 0;
    bool header = true;
    while (!rc && fgets(line, sizeof(line), m)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        if (header && !strncmp(line, "step ", 5)) {
            fputs("<nav id=\"steps\" class=\"steps\"></nav></header>\n", out);
            header = false;
        }
        rc = story_line(&s, line, lineno);
    }
    end_step(&s);
    fclose(m);
    if (!rc && !s.steps) {
        ptl_error("draw story", "%s: no step", path);
        rc = -1;
    }
    fprintf(out, "<script>\n%s</script>\n</body></html>\n", draw_story_js);
    return rc;
}

static const char story_help[] =
    "usage: ptlab draw story MANIFEST [-o FILE.html]\n"
    "Write one self-contained HTML page that steps through pictures, each step with\n"
    "its text beside them (make boot-story writes the boot's). MANIFEST has one\n"
    "item a line: 'title TEXT', 'intro TEXT', 'step NAME: TITLE', 'note TEXT',\n"
    "'svg FILE' (a picture, inline), 'text FILE' (the text beside the pictures).\n\n"
    "  -o, --output FILE  write the page there (default: standard output)\n";

static const struct option story_options[] = {
    { "output", required_argument, NULL, 'o' },
    { 0, 0, 0, 0 },
};

struct story_state {
    const char *output;
    const char *manifest;
};

static int story_option(void *state, int code, const char *arg)
{
    (void)code;
    ((struct story_state *)state)->output = arg;
    return 0;
}

static int story_args(void *state, int argc, char **argv)
{
    (void)argc;
    ((struct story_state *)state)->manifest = argv[0];
    return 0;
}

static int story_run(void *state, struct ptl_target *t)
{
    struct story_state *st = state;
    (void)t;
    FILE *f = ptl_draw_open("draw story", st->output);
    if (!f)
        return PTL_EXIT_FAIL;
    int bad = write_story(f, st->manifest);
    int rc = ptl_draw_close("draw story", f, st->output);
    return bad ? PTL_EXIT_FAIL : rc;
}

const struct ptl_cmd ptl_cmd_draw_story = {
    .name = "draw story", .summary = "an HTML page stepping through pictures and texts",
    .help = story_help, .run = story_run, .state_size = sizeof(struct story_state),
    .options = story_options, .option = story_option, .short_opts = "o:", .min_args = 1,
    .max_args = 1, .args = story_args, .args_error = "expected one MANIFEST",
};
