/*
 * src_shm.c: the live source of a QEMU whose guest RAM is a shared file
 * (`--mem-file FILE --qmp SOCKET`; QEMU started with
 * -object memory-backend-file,id=ID,mem-path=FILE,share=on,size=SIZE
 * -machine memory-backend=ID and -qmp unix:SOCKET,server=on,wait=off).
 *
 * The file is mapped read-only and shared: every page is read in place,
 * nothing is copied. It is not laid out at guest-physical offsets (RAM
 * above the PCI hole lives higher in the guest than in the file), so the
 * map comes from QMP: query-memdev and qom-get find the backend whose
 * mem-path is this very file (same device and inode), then `info mtree -f`
 * says where each piece of that backend sits in the guest.
 * A pause stops the guest through QMP if it runs and reads every vCPU's
 * registers (`info registers -a`); a resume lets it run again if the pause
 * stopped it. While it runs, STOP events say that someone else stopped it.
 * Depends on: source.h, qmp.h, notes.h (ptl_fail), libc (mmap).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "notes.h"
#include "qmp.h"
#include "sockio.h"
#include "source.h"

#define MAX_RANGES 64

/* One piece of guest RAM in the file: guest [start, end) at file offset off. */
struct shm_range {
    uint64_t start, end, off;
};

struct shm_src {
    struct qmp q;
    const uint8_t *map;
    size_t size;
    struct stat st;
    char backend[64];
    struct shm_range r[MAX_RANGES];
    size_t nr;
    bool we_stopped;
    unsigned pauses;
};

/* ---- memory ---- */

/* find - the range holding pa. returns: it; NULL. */
static const struct shm_range *find(const struct shm_src *p, uint64_t pa)
{
    for (size_t i = 0; i < p->nr; i++)
        if (pa >= p->r[i].start && pa < p->r[i].end)
            return &p->r[i];
    return NULL;
}

static int shm_map_page(struct ptl_source *s, uint64_t pa, const void **ptr)
{
    const struct shm_src *p = s->priv;
    const struct shm_range *r = find(p, pa);
    uint64_t page_end = (pa | (PTL_PAGE_SIZE - 1)) + 1;
    if (!r || page_end > r->end)
        return r ? 1 : -1;      /* a page split between ranges: the layer copies it */
    *ptr = p->map + r->off + (pa - r->start);
    return 0;
}

static int shm_read(struct ptl_source *s, uint64_t pa, void *buf, size_t n)
{
    const struct shm_src *p = s->priv;
    while (n > 0) {
        const struct shm_range *r = find(p, pa);
        if (!r)
            return -1;
        size_t k = r->end - pa < n ? (size_t)(r->end - pa) : n;
        memcpy(buf, p->map + r->off + (pa - r->start), k);
        pa += k;
        n -= k;
        buf = (uint8_t *)buf + k;
    }
    return 0;
}

/* ---- pause, resume, close ---- */

static int qmp_err(struct ptl_source *s)
{
    struct shm_src *p = s->priv;
    snprintf(s->err, sizeof(s->err), "%s", p->q.err);
    return -1;
}

/* set_cpus - every vCPU's registers from `info registers -a` into s->cpus. */
static int set_cpus(struct ptl_source *s, char *text)
{
    struct qmp_regs r[256];
    int n = text ? qmp_parse_registers(text, r, 256) : -1;
    free(text);
    if (n <= 0) {
        snprintf(s->err, sizeof(s->err), "%s", n < 0 ? ((struct shm_src *)s->priv)->q.err
                                                     : "QMP: `info registers -a` shows no vCPU");
        return -1;
    }
    for (int i = 0; i < n && i < 256; i++) {
        struct ptl_cpu *c = (size_t)i < s->ncpus ? &s->cpus[i] : ptl_source_add_cpu(s);
        if (!c)
            break;
        *c = (struct ptl_cpu){ .have_cr = r[i].have & QMP_HAVE_CR, .cr0 = r[i].cr0,
                               .cr2 = r[i].cr2, .cr3 = r[i].cr3, .cr4 = r[i].cr4,
                               .have_efer = r[i].have & QMP_HAVE_EFER, .efer = r[i].efer,
                               .have_rip = r[i].have & QMP_HAVE_RIP, .rip = r[i].rip,
                               .rsp = r[i].rsp, .rflags = r[i].rflags };
    }
    return 0;
}

/*
 * shm_pause - in one round trip: was it running, stop it (nothing if it was
 * not), every vCPU's registers.
 */
static int shm_pause(struct ptl_source *s)
{
    struct shm_src *p = s->priv;
    size_t len;
    unsigned long status = qmp_send(&p->q, "query-status", NULL);
    unsigned long stop = status ? qmp_send(&p->q, "stop", NULL) : 0;
    unsigned long regs = stop ? qmp_send_hmp(&p->q, "info registers -a") : 0;
    int running = qmp_reply_running(&p->q, status);
    if (running < 0 || !qmp_reply(&p->q, stop, &len))
        return qmp_err(s);
    p->we_stopped = running;
    p->pauses++;
    if (set_cpus(s, qmp_reply_text(&p->q, regs))) {
        if (running)
            qmp_execute(&p->q, "cont", NULL, &len);     /* as it was */
        p->we_stopped = false;
        return -1;
    }
    return 0;
}

static int shm_resume(struct ptl_source *s)
{
    struct shm_src *p = s->priv;
    size_t len;
    if (p->we_stopped && !qmp_execute(&p->q, "cont", NULL, &len))
        return qmp_err(s);
    p->we_stopped = false;
    return 0;
}

static int shm_wait(struct ptl_source *s, int ms)
{
    struct shm_src *p = s->priv;
    unsigned stops = p->q.stop_events;
    long long end = sockio_now_ms() + ms;
    for (long long left = ms; left > 0; left = end - sockio_now_ms()) {
        if (p->q.stop_events != stops)
            return 1;
        int r = qmp_wait_event(&p->q, (int)left);
        if (r < 0)
            return qmp_err(s);
        if (r == 0)
            break;
    }
    return p->q.stop_events != stops;
}

static void shm_close(struct ptl_source *s)
{
    struct shm_src *p = s->priv;
    if (!p)
        return;
    if (s->stats)
        fprintf(stderr, "ptlab: shared RAM %s: %lu QMP round trips for %u pause%s\n",
                s->name ? s->name : "", p->q.round_trips, p->pauses, p->pauses == 1 ? "" : "s");
    if (p->map)
        munmap((void *)p->map, p->size);
    qmp_close(&p->q);
    free(p);
    s->priv = NULL;
}

static const struct ptl_source_ops shm_ops = {
    .kind = "shm", .read = shm_read, .map_page = shm_map_page, .pause = shm_pause,
    .resume = shm_resume, .wait = shm_wait, .close = shm_close,
};

/* ---- opening ---- */

/* map_file - map path read-only and shared. returns: 0; -1. */
static int map_file(struct shm_src *p, const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ptl_fail(err, errlen, "%s", strerror(errno));
        return -1;
    }
    const char *why = fstat(fd, &p->st) < 0 ? strerror(errno)
                      : !S_ISREG(p->st.st_mode) ? "not a regular file"
                      : p->st.st_size == 0 ? "empty file" : NULL;
    void *map = why ? MAP_FAILED : mmap(NULL, (size_t)p->st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    if (!why && map == MAP_FAILED)
        why = strerror(errno);
    close(fd);
    if (why) {
        ptl_fail(err, errlen, "%s", why);
        return -1;
    }
    madvise(map, (size_t)p->st.st_size, MADV_RANDOM);
    p->map = map;
    p->size = (size_t)p->st.st_size;
    return 0;
}

/* The memory backends of query-memdev: their ids and whether they are shared. */
struct memdevs {
    char id[16][64];
    bool shared[16];
    int n;
};

/* list_memdevs - query-memdev's reply [v, v + len) into m. */
static void list_memdevs(const char *v, size_t len, struct memdevs *m)
{
    const char *it = v, *e, *ee, *f, *fe;
    m->n = 0;
    while (m->n < 16 && qmp_json_next(&it, v + len, &e, &ee)) {
        char *id = qmp_json_member(e, ee, "id", &f, &fe) ? qmp_json_string(f, fe, NULL) : NULL;
        if (id && strlen(id) < sizeof(m->id[0]) && !strpbrk(id, "\"\\")) {
            strcpy(m->id[m->n], id);
            m->shared[m->n++] = qmp_json_member(e, ee, "share", &f, &fe) && !strncmp(f, "true", 4);
        }
        free(id);
    }
}

/*
 * find_backend - which backend's mem-path is this very file (qom-get for
 * each, in one round trip), and that it is shared.
 * returns: 0 (p->backend set); -1 with a message in err.
 */
static int find_backend(struct shm_src *p, const struct memdevs *m, const char *file, char *err,
                        size_t errlen)
{
    unsigned long ids[16];
    char list[400] = "";
    int found = -1;
    for (int i = 0; i < m->n; i++) {
        char args[200];
        snprintf(args, sizeof(args), "{\"path\": \"/objects/%s\", \"property\": \"mem-path\"}",
                 m->id[i]);
        ids[i] = qmp_send(&p->q, "qom-get", args);
    }
    for (int i = 0; i < m->n; i++) {
        size_t len, used = strlen(list);
        struct stat st;
        const char *v = qmp_reply(&p->q, ids[i], &len);
        char *path = v ? qmp_json_string(v, v + len, NULL) : NULL;
        if (!v && !strstr(p->q.err, "QMP qom-get")) {   /* not just "no mem-path" */
            ptl_fail(err, errlen, "%s", p->q.err);
            return -1;
        }
        if (path && stat(path, &st) == 0 && st.st_dev == p->st.st_dev && st.st_ino == p->st.st_ino)
            found = i;
        snprintf(list + used, sizeof(list) - used, "%s%s (%s)", used ? ", " : "", m->id[i],
                 path ? path : "not a file");
        free(path);
    }
    if (found >= 0 && m->shared[found]) {
        snprintf(p->backend, sizeof(p->backend), "%s", m->id[found]);
        return 0;
    }
    if (found >= 0)
        ptl_fail(err, errlen, "this is guest RAM but not shared (share=off): QEMU's writes "
                 "stay private to it; start QEMU with share=on");
    else
        ptl_fail(err, errlen, "not the guest RAM of this QEMU (its memory backends: %s); start "
                 "QEMU with -object memory-backend-file,id=ram0,mem-path=%s,share=on,size=... "
                 "-machine memory-backend=ram0", list[0] ? list : "none", file);
    return -1;
}

/* find_ranges - where the backend's pieces sit in the guest (`info mtree -f`). returns: 0; -1. */
static int find_ranges(struct ptl_source *s, char *text, char *err, size_t errlen)
{
    struct shm_src *p = s->priv;
    struct qmp_ram r[256];
    int n = text ? qmp_parse_mtree(text, r, 256) : -1;
    if (n < 0)
        ptl_fail(err, errlen, "%s", text ? "no system memory in `info mtree -f`" : p->q.err);
    free(text);
    if (n < 0)
        return -1;
    for (int i = 0; i < n && i < 256; i++) {
        if (!r[i].ram || strcmp(r[i].name, p->backend))
            continue;
        uint64_t size = r[i].end - r[i].start;
        if (r[i].offset > p->size || size > p->size - r[i].offset || p->nr == MAX_RANGES) {
            ptl_fail(err, errlen, "QEMU maps %#llx bytes at offset %#llx of the file, which "
                     "has %#zx", (unsigned long long)size, (unsigned long long)r[i].offset,
                     p->size);
            return -1;
        }
        p->r[p->nr++] = (struct shm_range){ r[i].start, r[i].end, r[i].offset };
        if (ptl_source_add_ram(s, r[i].start, r[i].end, false)) {
            ptl_fail(err, errlen, "out of memory");
            return -1;
        }
    }
    if (p->nr == 0) {
        ptl_fail(err, errlen, "memory backend %s is mapped nowhere in the guest", p->backend);
        return -1;
    }
    return 0;
}

int ptl_shm_source(struct ptl_source *s, const char *mem_file, const char *qmp, char *err,
                   size_t errlen)
{
    struct shm_src *p = calloc(1, sizeof(*p));
    if (!p) {
        ptl_fail(err, errlen, "out of memory");
        return -1;
    }
    p->q.fd = -1;
    s->priv = p;
    s->ops = &shm_ops;
    s->live = true;
    if (map_file(p, mem_file, err, errlen))
        return -1;
    if (qmp_connect(&p->q, qmp, QMP_TIMEOUT_MS)) {
        ptl_fail(err, errlen, "%s", p->q.err);
        return -1;
    }
    /* One round trip for the backends and the memory map, one for the backends' files. */
    unsigned long memdev = qmp_send(&p->q, "query-memdev", NULL);
    unsigned long mtree = memdev ? qmp_send_hmp(&p->q, "info mtree -f") : 0;
    size_t len;
    const char *v = qmp_reply(&p->q, memdev, &len);
    struct memdevs m;
    if (!v) {
        ptl_fail(err, errlen, "%s", p->q.err);
        return -1;
    }
    list_memdevs(v, len, &m);
    char *text = qmp_reply_text(&p->q, mtree);
    if (find_backend(p, &m, mem_file, err, errlen)) {
        free(text);
        return -1;
    }
    if (find_ranges(s, text, err, errlen))      /* frees text */
        return -1;
    snprintf(s->format, sizeof(s->format), "QEMU shared RAM, backend %.40s, with QMP",
             p->backend);
    return 0;
}
