/*
 * src_gdb.c: the live source of a QEMU reached through its gdbstub
 * (`--gdb HOST:PORT`; QEMU started with -s or -gdb tcp::PORT).
 *
 * Opening connects (which stops a running guest: QEMU stops it for every
 * client), finds cr0, cr2, cr3, cr4, efer, rip, rsp and eflags by name in
 * the target description, lists the threads (one per vCPU) and the RAM
 * ranges (`info mtree -f` through qRcmd: the flat view's RAM and ROM).
 * A pause stops the guest if it runs, turns on QEMU's physical-memory mode
 * (`m` then reads guest-physical memory) and reads every vCPU's registers
 * in one round trip; then it prefetches the page tables of every vCPU's
 * root: a walk of lib/paging (pg_iterate, each table once) in which a table
 * not yet read is only noted, then all the noted tables read in one
 * pipelined batch, again until a walk notes nothing — one round trip per
 * level instead of one per table. The commands' own walks then find every
 * table in the layer's page cache; anything else (another root, data) is
 * read when asked, one round trip per page.
 * A resume puts the physical-memory mode back as it was and, if the pause
 * stopped the guest, lets it run (`c`); closing leaves it as it is.
 * The connection failing in the middle of a read ends ptlab with a message
 * (exit status 1): a walk must not go on with holes where the guest was.
 * Depends on: source.h, gdbrsp.h, qmp.h (the mtree reader), lib/paging.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <paging/paging.h>

#include "gdbrsp.h"
#include "notes.h"
#include "qmp.h"
#include "source.h"

/* The registers read from every vCPU; the first three must exist. */
enum { R_CR0, R_CR3, R_CR4, R_CR2, R_EFER, R_RIP, R_RSP, R_EFLAGS, NREGS };
static const char *const reg_names[NREGS] = {
    "cr0", "cr3", "cr4", "cr2", "efer", "rip", "rsp", "eflags",
};

/* How read serves a page that is not in the layer's cache. */
enum read_mode {
    RD_FETCH,       /* read it from the stub (one round trip) */
    RD_NOTE,        /* prefetch walk: note it, answer "not there" */
    RD_SERVE,       /* prefetch batch: copy it from the batch just read */
};

#define MAX_VCPUS 256

struct gdb_src {
    struct gdb_rsp g;
    struct gdb_reg regs[NREGS];
    struct gdb_reg use[NREGS];      /* the registers the stub has, in read order */
    int slot[NREGS];                /* reg -> index in use (-1: absent) */
    size_t nuse;
    char (*threads)[32];
    size_t nthreads;
    bool paused_once, we_stopped, phys_on, phys_was;
    enum read_mode rd;
    uint64_t *noted;                /* pages noted by a prefetch walk */
    size_t nnoted, noted_cap;
    uint8_t *batch;                 /* the pages of noted[], read in one batch */
    /* statistics (--stats) */
    unsigned long rt_open, rt_pause, rt_walk, single_pages, prefetched;
    unsigned pauses, passes;
};

/* fatal - the connection failed under a walk: say so and end ptlab (output not yet
 * written is dropped: it would be a walk with holes). */
static void fatal(struct ptl_source *s)
{
    struct gdb_src *p = s->priv;
    fprintf(stderr, "ptlab: %s: %s\n", s->name ? s->name : "gdbstub", p->g.err);
    _exit(1);
}

/* fetch_page - read the page at pa from the stub into buf (one round trip). */
static int fetch_page(struct ptl_source *s, uint64_t page, uint8_t *buf)
{
    struct gdb_src *p = s->priv;
    uint8_t *bufs[1] = { buf };
    if (gdb_rsp_read_pages(&p->g, &page, 1, bufs))
        fatal(s);
    p->single_pages++;
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* note_page - remember page for the next batch. returns: 0; -1 out of memory. */
static int note_page(struct gdb_src *p, uint64_t page)
{
    if (p->nnoted == p->noted_cap) {
        size_t cap = p->noted_cap ? p->noted_cap * 2 : 1024;
        uint64_t *n = realloc(p->noted, cap * sizeof(*n));
        if (!n)
            return -1;
        p->noted = n;
        p->noted_cap = cap;
    }
    p->noted[p->nnoted++] = page;
    return 0;
}

/* copy_page - bytes [off, off + n) of page into buf, as the read mode says. returns: 0; -1. */
static int copy_page(struct ptl_source *s, uint64_t page, unsigned off, void *buf, size_t n)
{
    struct gdb_src *p = s->priv;
    uint8_t tmp[PTL_PAGE_SIZE];
    if (p->rd == RD_NOTE) {
        note_page(p, page);         /* out of memory: not prefetched, read later */
        return -1;
    }
    if (p->rd == RD_SERVE) {
        const uint64_t *hit = bsearch(&page, p->noted, p->nnoted, sizeof(page), cmp_u64);
        if (hit) {
            memcpy(buf, p->batch + (size_t)(hit - p->noted) * PTL_PAGE_SIZE + off, n);
            return 0;
        }
    }
    if (fetch_page(s, page, tmp))
        return -1;
    memcpy(buf, tmp + off, n);
    return 0;
}

/* gdb_read - ops->read: guest-physical bytes, RAM only (QEMU reads anything else as junk). */
static int gdb_read(struct ptl_source *s, uint64_t pa, void *buf, size_t n)
{
    while (n > 0) {
        uint64_t page = pa & ~(uint64_t)(PTL_PAGE_SIZE - 1);
        unsigned off = (unsigned)(pa - page);
        size_t k = PTL_PAGE_SIZE - off < n ? PTL_PAGE_SIZE - off : n;
        if (!ptl_source_in_ram(s, pa) || !ptl_source_in_ram(s, pa + k - 1) ||
            copy_page(s, page, off, buf, k))
            return -1;
        pa += k;
        n -= k;
        buf = (uint8_t *)buf + k;
    }
    return 0;
}

/* ---- prefetching the page tables ---- */

static void *prefetch_phys(void *arg, phys_addr_t pa)
{
    return (void *)ptl_source_phys(arg, pa);
}

static int ignore_range(void *arg, const struct pg_range *r)
{
    (void)arg;
    (void)r;
    return 0;
}

/*
 * note_walk - one walk of root's tables (each distinct table once) in
 * RD_NOTE mode: every table not in the cache is noted.
 * returns: 0; -1 out of memory.
 */
static int note_walk(struct ptl_source *s, unsigned levels, uint64_t root)
{
    struct pg_ctx ctx = { .phys_to_virt = prefetch_phys, .arg = s, .levels = levels };
    size_t slots = 2 * (s->ncached + 4096);
    for (;;) {
        struct pg_iter_opts o = { .merge = PG_MERGE_RAW, .flags = PG_ITER_EXPAND_FIRST,
                                  .memo = malloc(slots * sizeof(*o.memo)), .memo_slots = slots };
        if (!o.memo)
            return -1;
        int r = pg_iterate(&ctx, root, &o, ignore_range, NULL);
        free(o.memo);
        if (r != -PG_ENOSPC || slots > (1u << 26))
            return 0;       /* an unreadable root is a hole like any other */
        slots *= 4;
    }
}

/* read_noted - read the noted pages in one batch into the layer's cache. returns: 0; -1. */
static int read_noted(struct ptl_source *s)
{
    struct gdb_src *p = s->priv;
    uint8_t **bufs = malloc(p->nnoted * sizeof(*bufs));
    p->batch = malloc(p->nnoted * PTL_PAGE_SIZE);
    if (!bufs || !p->batch) {
        free(bufs);
        free(p->batch);
        p->batch = NULL;
        return -1;
    }
    for (size_t i = 0; i < p->nnoted; i++)
        bufs[i] = p->batch + i * PTL_PAGE_SIZE;
    if (gdb_rsp_read_pages(&p->g, p->noted, p->nnoted, bufs))
        fatal(s);
    free(bufs);
    p->rd = RD_SERVE;
    for (size_t i = 0; i < p->nnoted; i++)
        ptl_source_phys(s, p->noted[i]);
    p->rd = RD_FETCH;
    p->prefetched += p->nnoted;
    free(p->batch);
    p->batch = NULL;
    return 0;
}

/* The distinct (mode, root) pairs of the vCPUs in paging mode. */
static size_t vcpu_roots(const struct ptl_source *s, unsigned *levels, uint64_t *roots)
{
    size_t n = 0;
    for (size_t i = 0; i < s->ncpus; i++) {
        const struct ptl_cpu *c = &s->cpus[i];
        unsigned l = c->have_cr ? pg_mode_from_regs(c->cr0, c->cr4, c->efer) : 0;
        uint64_t root = l ? pg_cr3_root(l, c->cr3) : 0;
        size_t k = 0;
        while (k < n && !(levels[k] == l && roots[k] == root))
            k++;
        if (l && k == n) {
            levels[n] = l;
            roots[n++] = root;
        }
    }
    return n;
}

/*
 * prefetch - read every table under the vCPUs' roots into the cache, one
 * batch per level. Failing to prefetch is not an error: the walk then
 * reads what it needs itself.
 */
static void prefetch(struct ptl_source *s)
{
    struct gdb_src *p = s->priv;
    unsigned levels[MAX_VCPUS];
    uint64_t roots[MAX_VCPUS];
    size_t nroots = vcpu_roots(s, levels, roots);
    for (unsigned pass = 0; pass <= PG_MAX_LEVELS + 1; pass++) {
        p->nnoted = 0;
        p->rd = RD_NOTE;
        for (size_t i = 0; i < nroots; i++)
            if (note_walk(s, levels[i], roots[i]))
                break;
        p->rd = RD_FETCH;
        qsort(p->noted, p->nnoted, sizeof(*p->noted), cmp_u64);
        size_t u = 0;
        for (size_t i = 0; i < p->nnoted; i++)
            if (u == 0 || p->noted[i] != p->noted[u - 1])
                p->noted[u++] = p->noted[i];
        p->nnoted = u;
        if (u == 0 || read_noted(s))
            break;
        p->passes++;
    }
}

/* ---- pause, resume, close ---- */

/* gdb_err - the client's failure as the source's. returns: -1. */
static int gdb_err(struct ptl_source *s)
{
    struct gdb_src *p = s->priv;
    snprintf(s->err, sizeof(s->err), "%s", p->g.err);
    return -1;
}

/* phys_mode - turn QEMU's physical-memory mode on (keeping its old value), or back. */
static int phys_mode(struct ptl_source *s, bool on)
{
    struct gdb_src *p = s->priv;
    if (on == p->phys_on)
        return 0;
    int r = gdb_rsp_phys_mode(&p->g, on ? true : p->phys_was, on ? &p->phys_was : NULL);
    if (r > 0)
        snprintf(s->err, sizeof(s->err), "the stub has no physical-memory mode "
                 "(qqemu.PhyMemMode): ptlab reads guest RAM through QEMU's gdbstub only");
    else if (r < 0)
        gdb_err(s);
    else
        p->phys_on = on;
    return r ? -1 : 0;
}

/*
 * read_cpus - every vCPU's registers into s->cpus (added on the first
 * call); queued: the requests were queued already (with others before them).
 */
static int read_cpus(struct ptl_source *s, bool queued)
{
    struct gdb_src *p = s->priv;
    uint64_t *v = calloc(p->nthreads * p->nuse, sizeof(*v));
    if (!v || (!queued && gdb_rsp_queue_regs(&p->g, p->threads, p->nthreads, p->use, p->nuse)) ||
        gdb_rsp_regs_replies(&p->g, p->threads, p->nthreads, p->use, p->nuse, v)) {
        snprintf(s->err, sizeof(s->err), "%s", v ? p->g.err : "out of memory");
        free(v);
        return -1;
    }
    for (size_t t = 0; t < p->nthreads; t++) {
        struct ptl_cpu *c = t < s->ncpus ? &s->cpus[t] : ptl_source_add_cpu(s);
        const uint64_t *r = v + t * p->nuse;
        if (!c)
            break;
        uint64_t get[NREGS];        /* registers the stub lacks read as 0 */
        for (int i = 0; i < NREGS; i++)
            get[i] = p->slot[i] >= 0 ? r[p->slot[i]] : 0;
        *c = (struct ptl_cpu){ .have_cr = true, .cr0 = get[R_CR0], .cr2 = get[R_CR2],
                               .cr3 = get[R_CR3], .cr4 = get[R_CR4],
                               .have_efer = p->slot[R_EFER] >= 0, .efer = get[R_EFER],
                               .have_rip = p->slot[R_RIP] >= 0, .rip = get[R_RIP],
                               .rsp = get[R_RSP], .rflags = get[R_EFLAGS] };
    }
    free(v);
    return 0;
}

/*
 * pause_again - a pause after the first, in one round trip: stop the guest
 * if it runs, the physical-memory mode on, every vCPU's registers.
 */
static int pause_again(struct ptl_source *s)
{
    struct gdb_src *p = s->priv;
    const char *r;
    if (gdb_rsp_queue_pause(&p->g) || gdb_rsp_queue(&p->g, "Qqemu.PhyMemMode:1") ||
        gdb_rsp_queue_regs(&p->g, p->threads, p->nthreads, p->use, p->nuse) ||
        !gdb_rsp_reply(&p->g))
        return gdb_err(s);
    p->we_stopped = p->g.stops > 0;
    if (!(r = gdb_rsp_reply(&p->g)))
        return gdb_err(s);
    p->phys_on = !strcmp(r, "OK");
    if (!p->phys_on)
        snprintf(s->err, sizeof(s->err), "the stub refuses physical-memory mode (reply "
                 "'%.16s')", r);
    return read_cpus(s, true) || !p->phys_on ? -1 : 0;
}

static int gdb_pause(struct ptl_source *s)
{
    struct gdb_src *p = s->priv;
    unsigned long rt = p->g.round_trips;
    int r;
    if (!p->paused_once) {
        p->we_stopped = p->g.stopped_at_connect;   /* connecting stopped it */
        p->paused_once = true;
        r = phys_mode(s, true) || read_cpus(s, false);
    } else {
        r = pause_again(s);
    }
    if (r) {
        phys_mode(s, false);        /* as it was: the pause did not happen */
        if (p->we_stopped)
            gdb_rsp_continue(&p->g);
        p->we_stopped = false;
        return -1;
    }
    p->pauses++;
    p->rt_pause += p->g.round_trips - rt;
    rt = p->g.round_trips;
    prefetch(s);
    p->rt_walk += p->g.round_trips - rt;
    return 0;
}

static int gdb_resume(struct ptl_source *s)
{
    struct gdb_src *p = s->priv;
    if (phys_mode(s, false))
        return -1;
    if (p->we_stopped && gdb_rsp_continue(&p->g))
        return gdb_err(s);
    p->we_stopped = false;
    return 0;
}

static int gdb_wait(struct ptl_source *s, int ms)
{
    struct gdb_src *p = s->priv;
    if (p->g.running) {
        int r = gdb_rsp_wait_stop(&p->g, ms);
        return r < 0 ? gdb_err(s) : r;
    }
    /* Stopped by someone else, who will let it run: nothing to say meanwhile. */
    usleep((useconds_t)ms * 1000);
    return 0;
}

static void gdb_close(struct ptl_source *s)
{
    struct gdb_src *p = s->priv;
    if (!p)
        return;
    if (p->g.fd >= 0 && !p->g.running)
        phys_mode(s, false);
    if (p->g.fd >= 0 && !p->paused_once && p->g.stopped_at_connect)
        gdb_rsp_continue(&p->g);    /* opening failed: the guest runs on as it did */
    if (s->stats)
        fprintf(stderr, "ptlab: gdbstub %s: %lu round trips, %lu packets: %lu to connect, "
                "%lu for %u pause%s, %lu for the tables (%u prefetch batch%s, %lu pages), "
                "%lu single pages\n", s->name ? s->name : "", p->g.round_trips, p->g.packets,
                p->rt_open, p->rt_pause, p->pauses, p->pauses == 1 ? "" : "s", p->rt_walk,
                p->passes, p->passes == 1 ? "" : "es", p->prefetched, p->single_pages);
    gdb_rsp_close(&p->g);
    free(p->threads);
    free(p->noted);
    free(p);
    s->priv = NULL;
}

static const struct ptl_source_ops gdb_ops = {
    .kind = "gdb", .read = gdb_read, .pause = gdb_pause, .resume = gdb_resume,
    .wait = gdb_wait, .close = gdb_close,
};

/* ---- opening ---- */

/* find_regs - the registers by name; cr0, cr3 and cr4 are needed. returns: 0; -1. */
static int find_regs(struct gdb_src *p, char *err, size_t errlen)
{
    for (int i = 0; i < NREGS; i++)
        p->regs[i] = (struct gdb_reg){ reg_names[i], -1, 0 };
    if (gdb_rsp_find_regs(&p->g, p->regs, NREGS)) {
        ptl_fail(err, errlen, "%s", p->g.err);
        return -1;
    }
    for (int i = 0; i < NREGS; i++) {
        bool ok = p->regs[i].regnum >= 0 && p->regs[i].bitsize > 0 && p->regs[i].bitsize <= 64 &&
                  p->regs[i].bitsize % 8 == 0;
        if (!ok && i <= R_CR4) {
            ptl_fail(err, errlen, "the stub's target description has no register %s (not "
                     "QEMU's x86 gdbstub?)", reg_names[i]);
            return -1;
        }
        p->slot[i] = ok ? (int)p->nuse : -1;
        if (ok)
            p->use[p->nuse++] = p->regs[i];
    }
    return 0;
}

/* find_ram - the RAM ranges from `info mtree -f`. returns: 0; -1. */
static int find_ram(struct ptl_source *s, char *err, size_t errlen)
{
    struct gdb_src *p = s->priv;
    char *text = gdb_rsp_monitor(&p->g, "info mtree -f");
    if (!text) {
        ptl_fail(err, errlen, "%s", p->g.err);
        return -1;
    }
    struct qmp_ram r[256];
    int n = qmp_parse_mtree(text, r, 256);
    free(text);
    for (int i = 0; i < n && i < 256; i++)
        if (r[i].ram && ptl_source_add_ram(s, r[i].start, r[i].end ? r[i].end : UINT64_MAX,
                                           false)) {
            ptl_fail(err, errlen, "out of memory");
            return -1;
        }
    if (s->nram == 0) {
        ptl_fail(err, errlen, "the stub's `info mtree -f` lists no RAM");
        return -1;
    }
    return 0;
}

int ptl_gdb_source(struct ptl_source *s, const char *hostport, char *err, size_t errlen)
{
    struct gdb_src *p = calloc(1, sizeof(*p));
    if (!p) {
        ptl_fail(err, errlen, "out of memory");
        return -1;
    }
    s->priv = p;
    s->ops = &gdb_ops;
    s->live = true;
    if (gdb_rsp_connect(&p->g, hostport, GDB_RSP_TIMEOUT_MS)) {
        ptl_fail(err, errlen, "%s", p->g.err);
        return -1;
    }
    if (find_regs(p, err, errlen))
        return -1;
    p->threads = calloc(MAX_VCPUS, sizeof(*p->threads));
    int n = p->threads ? gdb_rsp_threads(&p->g, p->threads, MAX_VCPUS) : -1;
    if (n <= 0) {
        ptl_fail(err, errlen, "%s", n == 0 ? "the stub lists no vCPU" : p->g.err);
        return -1;
    }
    p->nthreads = (size_t)n;
    if (find_ram(s, err, errlen))
        return -1;
    snprintf(s->format, sizeof(s->format), "QEMU gdbstub, %zu vCPU%s", p->nthreads,
             p->nthreads == 1 ? "" : "s");
    p->rt_open = p->g.round_trips;
    return 0;
}
