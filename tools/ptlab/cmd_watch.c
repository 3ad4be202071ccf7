/*
 * cmd_watch.c: `ptlab watch SOURCE`: on a running guest, walk the tables
 * again and again and print, as they happen, the mappings added, removed
 * and changed since the walk before, in diff's format (ptl_mappings_diff,
 * shared with `ptlab diff`), each batch under a line with the time:
 *   # 12:04:31.250 walk 7, CR3 0000000001a3c000
 *   + 0000000000400000-0000000000401000     4K  000000000a4c3000 r-xu - WB  4K
 * A walk happens every interval, and whenever the guest is stopped by
 * someone else (a monitor's `stop`, a debugger): the guest is paused for the
 * walk (so that it sees one moment) and let run again. Each walk starts
 * from the CR3 the vCPU has then (or --cr3), so a change of process shows
 * as a change of CR3 and of the user mappings. Ctrl-C (or SIGTERM) ends
 * the watch and leaves the guest running.
 * Exit status: 0 after Ctrl-C; 1 if the guest or the connection went away;
 * 2 for a usage error (a dump is no running guest).
 * Depends on: ptlab.h, target.h, source.h, lib/paging.
 */
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ptlab.h"

enum { OPT_INTERVAL = PTL_OPT_CMD, OPT_EVERY_WALK };

static const char watch_help[] =
    "usage: ptlab watch [OPTIONS] --gdb HOST:PORT\n"
    "       ptlab watch [OPTIONS] --mem-file FILE --qmp SOCKET\n"
    "Walk a running guest's page tables every interval, and whenever the guest is\n"
    "stopped by someone else, and print the mappings added (+), removed (-) and\n"
    "changed (~) since the walk before, as `ptlab diff` does, under a line with the\n"
    "time. Each walk starts from the vCPU's CR3 of that moment (--cr3: always this\n"
    "one). The guest is paused during a walk. Ctrl-C ends the watch; the guest runs on.\n"
    "  --interval SECONDS  time between walks (default 1; decimals allowed; 0: walk\n"
    "                   only when the guest is stopped by someone else)\n"
    "  --every-walk     a time line for every walk, also one that changes nothing\n"
    "With --stats, how long the walks took (from pause to resume) on stderr at the end.\n"
    "Exit status 0 after Ctrl-C, 1 if the guest or the connection went away.\n\n";

struct watch_state {
    double interval;
    bool every_walk;
};

static const struct watch_state watch_defaults = { 1.0, false };

static const struct option watch_options[] = {
    { "interval", required_argument, NULL, OPT_INTERVAL },
    { "every-walk", no_argument, NULL, OPT_EVERY_WALK },
    { 0, 0, 0, 0 },
};

static int watch_option(void *state, int code, const char *arg)
{
    struct watch_state *w = state;
    char *end;
    if (code == OPT_EVERY_WALK) {
        w->every_walk = true;
        return 0;
    }
    w->interval = strtod(arg, &end);
    if (end == arg || *end || !isfinite(w->interval) || w->interval < 0 || w->interval > 86400)
        return ptl_usage_error("watch", "--interval: '%s' is not a number of seconds", arg);
    return 0;
}

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* stamp - the wall-clock time now as HH:MM:SS.mmm. */
static const char *stamp(char buf[16])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    localtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, 16, "%H:%M:%S", &tm);
    snprintf(buf + n, 16 - n, ".%03u", (unsigned)(ts.tv_nsec / 1000000) % 1000u);
    return buf;
}

/* now_ms - a monotonic clock in milliseconds. */
static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * wait_for_walk - let the interval pass (forever for 0), or the guest be
 * stopped by someone else, or Ctrl-C come, checking for it every 200 ms.
 * returns: 1 time to walk; 0 Ctrl-C; -1 the source failed (s->err).
 */
static int wait_for_walk(struct ptl_source *s, double interval)
{
    double until = now_ms() + interval * 1000;
    while (!stop_requested) {
        double left = interval > 0 ? until - now_ms() : 200;
        if (left < 1)
            return 1;
        int slice = left < 200 ? (int)left : 200;
        int r = s->ops->wait ? s->ops->wait(s, slice) : (usleep((useconds_t)slice * 1000), 0);
        if (r)
            return r;
    }
    return 0;
}

/*
 * walk - pause the guest, choose the root again from its registers (quietly)
 * and walk into m (emptied first).
 * returns: 0; 1 no root to walk now (paging off, say); -1 with a message
 *          printed (the guest or the connection went away).
 */
static int walk(struct ptl_target *t, struct ptl_mappings *m)
{
    if (ptl_source_pause(&t->src)) {
        ptl_error("watch", "%s: %s", t->path, t->src.err);
        return -1;
    }
    struct ptl_input_opts o = t->in;
    o.quiet = true;
    if (ptl_target_choose(t, &o))
        return 1;
    m->n = 0;
    m->oom = false;
    int r = ptl_mappings_load(t, m);
    if (r < 0) {
        ptl_error("watch", "%s: %s", t->path, pg_strerror(r));
        return -1;
    }
    return 0;
}

/*
 * report - print what changed from the last walk (*prev, in mode *pmode at
 * *pcr3) to this one (cur), with the time (always: also when nothing did),
 * then make this one the last.
 * returns: 0; -1 if stdout failed.
 */
static int report(struct ptl_target *t, unsigned long n, bool always, struct ptl_mappings *prev,
                  struct ptl_mappings *cur, const struct pg_mode_desc **pmode, uint64_t *pcr3)
{
    char *text = NULL, ts[16];
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem)
        return -1;
    unsigned long lines = ptl_mappings_diff(mem, *pmode, prev, t->mode, cur);
    fclose(mem);
    if (always || lines || *pcr3 != t->cr3 || *pmode != t->mode) {
        printf("# %s walk %lu, CR3 %016" PRIx64, stamp(ts), n, t->cr3);
        if (*pcr3 != t->cr3)
            printf(" (was %016" PRIx64 ")", *pcr3);
        if (*pmode != t->mode)
            printf(", %s (was %s)", t->mode->name, (*pmode)->name);
        printf(": %lu change%s\n%s", lines, lines == 1 ? "" : "s", text ? text : "");
    }
    free(text);
    struct ptl_mappings swap = *prev;
    *prev = *cur;
    *cur = swap;
    *pmode = t->mode;
    *pcr3 = t->cr3;
    return fflush(stdout) ? -1 : 0;
}

/* The walks of one watch: the last two, and how long each took (for --stats). */
struct watch_run {
    struct ptl_mappings prev, cur;
    double *ms;
    size_t n, cap;
};

/* one_walk - pause, walk, report, resume: walk number n. returns: 0; an exit status. */
static int one_walk(struct ptl_target *t, const struct watch_state *w, struct watch_run *run,
                    unsigned long n, const struct pg_mode_desc **mode, uint64_t *cr3, bool *off)
{
    char ts[16];
    double start = now_ms();
    int r = walk(t, &run->cur);
    if (r < 0)
        return PTL_EXIT_FAIL;
    if (r > 0 && !*off)
        printf("# %s walk %lu: vCPU %d has no table to walk now (paging off?)\n", stamp(ts), n,
               t->in.cpu);
    *off = r > 0;
    if ((*off && fflush(stdout)) ||
        (!*off && report(t, n, w->every_walk, &run->prev, &run->cur, mode, cr3))) {
        ptl_error("watch", "stdout: write failed");
        return PTL_EXIT_FAIL;
    }
    if (ptl_source_resume(&t->src)) {
        ptl_error("watch", "%s: %s", t->path, t->src.err);
        return PTL_EXIT_FAIL;
    }
    run->ms = ptl_grow(run->ms, run->n, &run->cap, sizeof(*run->ms), 64);
    if (run->ms)
        run->ms[run->n++] = now_ms() - start;
    else
        run->n = run->cap = 0;
    return 0;
}

/* watch_loop - wait, then walk, until Ctrl-C (the guest runs). returns: the exit status. */
static int watch_loop(struct ptl_target *t, const struct watch_state *w, struct watch_run *run)
{
    const struct pg_mode_desc *mode = t->mode;
    uint64_t cr3 = t->cr3;
    bool off = false;
    if (ptl_source_resume(&t->src)) {
        ptl_error("watch", "%s: %s", t->path, t->src.err);
        return PTL_EXIT_FAIL;
    }
    for (unsigned long n = 2;; n++) {
        int r = wait_for_walk(&t->src, w->interval);
        if (r < 0)
            ptl_error("watch", "%s: %s", t->path, t->src.err);
        if (r <= 0)
            return r ? PTL_EXIT_FAIL : PTL_EXIT_OK;
        r = one_walk(t, w, run, n, &mode, &cr3, &off);
        if (r)
            return r;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* print_stats - how long the walks took (--stats). */
static void print_stats(const struct ptl_target *t, struct watch_run *run)
{
    if (!t->in.stats || run->n == 0)
        return;
    qsort(run->ms, run->n, sizeof(*run->ms), cmp_double);
    fprintf(stderr, "ptlab watch: %zu walks after the first, from pause to resume: median "
            "%.2f ms, min %.2f ms, max %.2f ms\n", run->n, run->ms[run->n / 2], run->ms[0],
            run->ms[run->n - 1]);
}

static int watch_run(void *state, struct ptl_target *t)
{
    const struct watch_state *w = state;
    if (!t->src.live) {
        ptl_error("watch", "%s is a dump: watch needs a running guest (--gdb HOST:PORT, or "
                  "--mem-file FILE --qmp SOCKET)", t->path);
        return PTL_EXIT_USAGE;
    }
    struct watch_run run = { 0 };
    int r = ptl_mappings_load(t, &run.prev);   /* the guest is paused since it was opened */
    if (r < 0) {
        ptl_error("watch", "%s: %s", t->path, pg_strerror(r));
        free(run.prev.v);
        return PTL_EXIT_FAIL;
    }
    char ts[16];
    printf("# %s watching %s vCPU %d, %s, CR3 %016" PRIx64 ": %zu mapped ranges; ", stamp(ts),
           t->path, t->in.cpu, t->mode->name, t->cr3, run.prev.n);
    if (w->interval > 0)
        printf("a walk every %g s and whenever the guest stops; Ctrl-C ends\n", w->interval);
    else
        printf("a walk whenever the guest stops; Ctrl-C ends\n");
    fflush(stdout);
    struct sigaction sa = { .sa_handler = on_signal }, old_int, old_term, old_pipe;
    struct sigaction ign = { .sa_handler = SIG_IGN };
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGPIPE, &ign, &old_pipe);
    int rc = watch_loop(t, w, &run);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
    print_stats(t, &run);
    free(run.prev.v);
    free(run.cur.v);
    free(run.ms);
    return rc;
}

const struct ptl_cmd ptl_cmd_watch = {
    .name = "watch", .summary = "on a running guest, print mappings as they change",
    .help = watch_help, .input = true, .run = watch_run, .state_size = sizeof(struct watch_state),
    .defaults = &watch_defaults, .options = watch_options, .option = watch_option,
    .min_args = 0, .max_args = 0, .args_error = "expected no argument after the source",
};
