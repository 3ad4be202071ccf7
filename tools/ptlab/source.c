/*
 * source.c: the memory-source layer of the ptlab host tool (see source.h):
 * opening a source (a file recognised by its first bytes, or a live QEMU),
 * the page cache behind ptl_source_phys, and the RAM and vCPU lists the
 * readers fill.
 * Depends on: source.h, the readers (dump.h, kdump.h), libc (mmap).
 */
#include "source.h"

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dump.h"
#include "kdump.h"
#include "notes.h"

/* ---- recognising and opening ---- */

/*
 * parse - ptl_source_from_buffer, with the file buf maps open as fd (or -1);
 * cache: the kdump index cache may be used.
 */
static int parse(struct ptl_source *s, const uint8_t *buf, size_t size, int fd, bool raw,
                 bool cache, char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    bool elf = size >= 4 && !memcmp(buf, "\177ELF", 4);
    int r;
    if (!raw && ptl_is_kdump(buf, size))
        r = ptl_kdump_source(s, buf, size, fd, cache, err, errlen);
    else if (!raw && ptl_is_lime(buf, size))
        r = ptl_dump_source(s, buf, size, PTL_DUMP_LIME, err, errlen);
    else if (raw || elf)
        r = ptl_dump_source(s, buf, size, raw ? PTL_DUMP_RAW : PTL_DUMP_ELF, err, errlen);
    else {
        ptl_fail(err, errlen, "not a dump ptlab knows (no ELF magic, no kdump or LiME "
                 "signature); a raw memory image needs --raw, --cr3 and --mode");
        return 2;
    }
    if (r) {
        ptl_source_close(s);
        return 1;
    }
    return 0;
}

int ptl_source_from_buffer(struct ptl_source *s, const uint8_t *buf, size_t size, bool raw,
                           char *err, size_t errlen)
{
    return parse(s, buf, size, -1, raw, false, err, errlen);
}

/*
 * map_file - map path read-only into s->map, the file left open in *fd.
 * returns: 0; -1 with a message in err.
 */
static int map_file(struct ptl_source *s, const char *path, int *fd, char *err, size_t errlen)
{
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0) {
        ptl_fail(err, errlen, "%s", strerror(errno));
        return -1;
    }
    struct stat st;
    const char *why = NULL;
    if (fstat(*fd, &st) < 0)
        why = strerror(errno);
    else if (!S_ISREG(st.st_mode))
        why = "not a regular file";
    else if (st.st_size == 0)
        why = "empty file";
    if (why) {
        ptl_fail(err, errlen, "%s", why);
        close(*fd);
        return -1;
    }
    size_t size = (size_t)st.st_size;
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, *fd, 0);
    if (map == MAP_FAILED) {
        close(*fd);
        ptl_fail(err, errlen, "mmap: %s", strerror(errno));
        return -1;
    }
    /* Table reads are scattered: do not read ahead around them. */
    madvise(map, size, MADV_RANDOM);
    s->map = map;
    s->map_size = size;
    return 0;
}

/* open_file - map spec->path and parse it. returns: as ptl_source_open (s closed on failure). */
static int open_file(struct ptl_source *s, const struct ptl_source_spec *spec, char *err,
                     size_t errlen)
{
    int fd;
    if (map_file(s, spec->path, &fd, err, errlen))
        return 1;
    const uint8_t *map = s->map;
    size_t size = s->map_size;
    s->map = NULL;      /* parse closes s on failure: unmap here */
    int r = parse(s, map, size, fd, spec->raw, !spec->no_cache, err, errlen);
    close(fd);
    if (r) {
        munmap((void *)map, size);
        return r;
    }
    s->map = map;
    s->map_size = size;
    return 0;
}

int ptl_source_open(struct ptl_source *s, const struct ptl_source_spec *spec, char *err,
                    size_t errlen)
{
    const char *name = spec->gdb ? spec->gdb : spec->mem_file ? spec->mem_file : spec->path;
    char msg[512];
    int r;
    memset(s, 0, sizeof(*s));
    if (spec->gdb)
        r = ptl_gdb_source(s, spec->gdb, msg, sizeof(msg)) ? 1 : 0;
    else if (spec->mem_file)
        r = ptl_shm_source(s, spec->mem_file, spec->qmp, msg, sizeof(msg)) ? 1 : 0;
    else
        r = open_file(s, spec, msg, sizeof(msg));
    if (r) {
        ptl_source_close(s);
        ptl_fail(err, errlen, "%s: %s", name, msg);
        return r;
    }
    s->name = name;
    return 0;
}

void ptl_source_close(struct ptl_source *s)
{
    if (s->ops && s->ops->close)
        s->ops->close(s);
    if (s->map)
        munmap((void *)s->map, s->map_size);
    ptl_source_invalidate(s);
    free(s->cache);
    free(s->chunks);
    free(s->ram);
    free(s->cpus);
    memset(s, 0, sizeof(*s));
}

/*
 * The live sources are built from their own files (src_gdb.c, src_shm.c);
 * until those are linked in, these weak definitions say so.
 */
__attribute__((weak)) int ptl_gdb_source(struct ptl_source *s, const char *hostport, char *err,
                                         size_t errlen)
{
    (void)s;
    (void)hostport;
    ptl_fail(err, errlen, "this ptlab was built without the gdbstub source");
    return -1;
}

__attribute__((weak)) int ptl_shm_source(struct ptl_source *s, const char *mem_file,
                                         const char *qmp, char *err, size_t errlen)
{
    (void)s;
    (void)mem_file;
    (void)qmp;
    ptl_fail(err, errlen, "this ptlab was built without the shared-RAM source");
    return -1;
}

/* ---- the page cache ---- */

static size_t cache_hash(uint64_t page, size_t cap)
{
    return (size_t)((page >> 12) * 0x9E3779B97F4A7C15ULL >> 20) & (cap - 1);
}

/* cache_grow - double the table (power of two) at half load. returns: 0; -1. */
static int cache_grow(struct ptl_source *s)
{
    size_t cap = s->cache_cap ? s->cache_cap * 2 : 256;
    struct ptl_cached_page *n = calloc(cap, sizeof(*n));
    if (!n)
        return -1;
    for (size_t i = 0; i < s->cache_cap; i++) {
        if (!s->cache[i].data)
            continue;
        size_t h = cache_hash(s->cache[i].pa, cap);
        while (n[h].data)
            h = (h + 1) & (cap - 1);
        n[h] = s->cache[i];
    }
    free(s->cache);
    s->cache = n;
    s->cache_cap = cap;
    return 0;
}

/* cache_alloc - a page of storage from the current chunk. returns: it; NULL. */
static uint8_t *cache_alloc(struct ptl_source *s)
{
    if (!s->chunk || s->chunk_used == PTL_CACHE_CHUNK) {
        if (s->nchunks == s->chunks_cap) {
            size_t cap = s->chunks_cap ? s->chunks_cap * 2 : 16;
            void **n = realloc(s->chunks, cap * sizeof(*n));
            if (!n)
                return NULL;
            s->chunks = n;
            s->chunks_cap = cap;
        }
        s->chunk = aligned_alloc(PTL_PAGE_SIZE, (size_t)PTL_CACHE_CHUNK * PTL_PAGE_SIZE);
        if (!s->chunk)
            return NULL;
        s->chunks[s->nchunks++] = s->chunk;
        s->chunk_used = 0;
    }
    return s->chunk + (size_t)PTL_PAGE_SIZE * s->chunk_used++;
}

/*
 * cache_fill - make bytes [off, 4096) of entry e's page known: the whole
 * page if the source has it, else only from off on (the rest stays unknown:
 * e->valid_from). returns: 0; -1 if the source lacks some byte from off on.
 */
static int cache_fill(struct ptl_source *s, struct ptl_cached_page *e, unsigned off)
{
    if (e->valid_from == PTL_PAGE_SIZE && !s->ops->read(s, e->pa, e->data, PTL_PAGE_SIZE)) {
        e->valid_from = 0;
        return 0;
    }
    unsigned end = e->valid_from < PTL_PAGE_SIZE ? e->valid_from : PTL_PAGE_SIZE;
    if (s->ops->read(s, e->pa + off, e->data + off, end - off))
        return -1;
    if (e->valid_from == PTL_PAGE_SIZE)
        memset(e->data, 0, off);
    e->valid_from = (uint16_t)off;
    return 0;
}

/* cached_phys - the page cache's pointer for pa (see ptl_source_phys). */
static const void *cached_phys(struct ptl_source *s, uint64_t pa)
{
    uint64_t page = pa & ~(uint64_t)(PTL_PAGE_SIZE - 1);
    unsigned off = (unsigned)(pa - page);
    if (s->cache_cap) {
        for (size_t h = cache_hash(page, s->cache_cap); s->cache[h].data;
             h = (h + 1) & (s->cache_cap - 1)) {
            struct ptl_cached_page *e = &s->cache[h];
            if (e->pa != page)
                continue;
            if (off < e->valid_from && cache_fill(s, e, off))
                return NULL;
            return e->data + off;
        }
    }
    if ((s->ncached + 1) * 2 > s->cache_cap && cache_grow(s))
        return NULL;
    size_t h = cache_hash(page, s->cache_cap);
    while (s->cache[h].data)
        h = (h + 1) & (s->cache_cap - 1);
    struct ptl_cached_page e = { .pa = page, .data = cache_alloc(s),
                                 .valid_from = PTL_PAGE_SIZE };
    if (!e.data)
        return NULL;
    if (cache_fill(s, &e, off)) {
        s->chunk_used--;        /* give the storage back: the page is not there */
        return NULL;
    }
    s->cache[h] = e;
    s->ncached++;
    return e.data + off;
}

const void *ptl_source_phys(struct ptl_source *s, uint64_t pa)
{
    if (s->ops->map_page) {
        const void *p;
        int r = s->ops->map_page(s, pa, &p);
        if (r <= 0)
            return r ? NULL : p;
    }
    return cached_phys(s, pa);
}

void ptl_source_invalidate(struct ptl_source *s)
{
    for (size_t i = 0; i < s->nchunks; i++)
        free(s->chunks[i]);
    s->nchunks = 0;
    s->chunk = NULL;
    s->chunk_used = 0;
    if (s->cache)
        memset(s->cache, 0, s->cache_cap * sizeof(*s->cache));
    s->ncached = 0;
}

/* ---- reads, RAM and vCPUs ---- */

int ptl_source_read(struct ptl_source *s, uint64_t pa, void *buf, size_t n)
{
    return s->ops->read(s, pa, buf, n);
}

bool ptl_source_in_ram(const struct ptl_source *s, uint64_t pa)
{
    for (size_t i = 0; i < s->nram && s->ram[i].start <= pa; i++)
        if (pa < s->ram[i].end)
            return true;
    return false;
}

uint64_t ptl_source_ram_end(const struct ptl_source *s)
{
    uint64_t end = 0;
    for (size_t i = 0; i < s->nram; i++)
        end = s->ram[i].end > end ? s->ram[i].end : end;
    return end;
}

int ptl_source_pause(struct ptl_source *s)
{
    if (!s->ops->pause)
        return 0;
    ptl_source_invalidate(s);
    return s->ops->pause(s);
}

int ptl_source_resume(struct ptl_source *s)
{
    return s->ops->resume ? s->ops->resume(s) : 0;
}

/* grow - room for element n of *v (cap elements of size bytes), doubling. returns: 0; -1. */
static int grow(void **v, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 8;
    void *nv = ncap <= SIZE_MAX / size ? realloc(*v, ncap * size) : NULL;
    if (!nv)
        return -1;
    *v = nv;
    *cap = ncap;
    return 0;
}

int ptl_source_add_ram(struct ptl_source *s, uint64_t start, uint64_t end, bool partly_zero)
{
    if (grow((void **)&s->ram, s->nram, &s->ram_cap, sizeof(*s->ram)))
        return -1;
    s->ram[s->nram++] = (struct ptl_ram){ start, end, partly_zero };
    return 0;
}

struct ptl_cpu *ptl_source_add_cpu(struct ptl_source *s)
{
    if (grow((void **)&s->cpus, s->ncpus, &s->cpus_cap, sizeof(*s->cpus)))
        return NULL;
    memset(&s->cpus[s->ncpus], 0, sizeof(*s->cpus));
    return &s->cpus[s->ncpus++];
}

static int ram_cmp(const void *a, const void *b)
{
    const struct ptl_ram *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

void ptl_source_sort_ram(struct ptl_source *s)
{
    qsort(s->ram, s->nram, sizeof(*s->ram), ram_cmp);
}
