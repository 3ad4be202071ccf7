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

/* read_cpus - every vCPU's registers (`info registers -a`) into s->cpus. */
static int read_cpus(struct ptl_source *s)
{
    struct shm_src *p = s->priv;
    char *text = qmp_hmp(&p->q, "info registers -a");
    if (!text)
        return qmp_err(s);
    struct qmp_regs r[256];
    int n = qmp_parse_registers(text, r, 256);
    free(text);
    if (n <= 0) {
        snprintf(s->err, sizeof(s->err), "QMP: `info registers -a` shows no vCPU");
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

static int shm_pause(struct ptl_source *s)
{
    struct shm_src *p = s->priv;
    size_t len;
    int running = qmp_running(&p->q);
    if (running < 0)
        return qmp_err(s);
    if (running && !qmp_execute(&p->q, "stop", NULL, &len))
        return qmp_err(s);
    p->we_stopped = running;
    p->pauses++;
    if (read_cpus(s)) {
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

/*
 * backend_of - does memory backend id (shared or not) have this file as its
 * mem-path? Appends "id (path)" to list for the message otherwise.
 * returns: 1 yes; 0 no; -1 QMP failed.
 */
static int backend_of(struct shm_src *p, const char *id, char *list, size_t listlen)
{
    char args[200];
    size_t len;
    snprintf(args, sizeof(args), "{\"path\": \"/objects/%s\", \"property\": \"mem-path\"}", id);
    const char *v = qmp_execute(&p->q, "qom-get", args, &len);
    char *path = v ? qmp_json_string(v, v + len, NULL) : NULL;
    struct stat st;
    int r = path && stat(path, &st) == 0 && st.st_dev == p->st.st_dev && st.st_ino == p->st.st_ino;
    size_t used = strlen(list);
    snprintf(list + used, listlen - used, "%s%s (%s)", used ? ", " : "", id,
             path ? path : "not a file");
    free(path);
    return v || strstr(p->q.err, "QMP qom-get") ? r : -1;
}

/* find_backend - the backend whose file is ours, and that it is shared. returns: 0; -1. */
static int find_backend(struct shm_src *p, const char *file, char *err, size_t errlen)
{
    size_t len;
    char list[300] = "";
    const char *v = qmp_execute(&p->q, "query-memdev", NULL, &len), *it = v, *e, *ee, *m, *me;
    if (!v) {
        ptl_fail(err, errlen, "%s", p->q.err);
        return -1;
    }
    while (qmp_json_next(&it, v + len, &e, &ee)) {
        char *id = qmp_json_member(e, ee, "id", &m, &me) ? qmp_json_string(m, me, NULL) : NULL;
        bool shared = qmp_json_member(e, ee, "share", &m, &me) && !strncmp(m, "true", 4);
        int r = id && strlen(id) < sizeof(p->backend) && !strpbrk(id, "\"\\")
                ? backend_of(p, id, list, sizeof(list)) : 0;
        if (r == 1)
            snprintf(p->backend, sizeof(p->backend), "%s", id);
        free(id);
        if (r < 0 || (r == 1 && !shared)) {
            ptl_fail(err, errlen, "%s", r < 0 ? p->q.err : "this is guest RAM but not shared "
                     "(share=off): QEMU's writes stay private to it; start QEMU with share=on");
            return -1;
        }
        if (r == 1)
            return 0;
    }
    ptl_fail(err, errlen, "not the guest RAM of this QEMU (its memory backends: %s); start "
             "QEMU with -object memory-backend-file,id=ram0,mem-path=%s,share=on,size=... "
             "-machine memory-backend=ram0", list[0] ? list : "none", file);
    return -1;
}

/* find_ranges - where the backend's pieces sit in the guest (`info mtree -f`). returns: 0; -1. */
static int find_ranges(struct ptl_source *s, char *err, size_t errlen)
{
    struct shm_src *p = s->priv;
    char *text = qmp_hmp(&p->q, "info mtree -f");
    struct qmp_ram r[256];
    int n = text ? qmp_parse_mtree(text, r, 256) : -1;
    free(text);
    if (n < 0) {
        ptl_fail(err, errlen, "%s", text ? "no system memory in `info mtree -f`" : p->q.err);
        return -1;
    }
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
    if (find_backend(p, mem_file, err, errlen) || find_ranges(s, err, errlen))
        return -1;
    snprintf(s->format, sizeof(s->format), "QEMU shared RAM, backend %.40s, with QMP",
             p->backend);
    return 0;
}
