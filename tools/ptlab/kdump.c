/*
 * kdump.c: the kdump-compressed reader of the ptlab host tool (see kdump.h).
 *
 * Layout read (docs/formats.md, "kdump-compressed"): the header's fields at
 * the offsets of QEMU's DiskDumpHeader64 (or DiskDumpHeader32, which QEMU
 * writes for a guest outside long mode), the sub-header's note area and
 * max_mapnr_64, the second bitmap (the pages that have a descriptor), the
 * descriptors {int64 offset; u32 size; u32 flags; u64 page_flags}.
 * The flattened form is read through an index of its records sorted by the
 * file offset they stand for (records that overlap are refused), built
 * from their headers, which the index cache keeps (kdump_index.h).
 * Depends on: kdump.h, kdump_index.h, notes.h, source.h, zlib, liblzo2, libsnappy, libzstd.
 */
#include "kdump.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lzo/lzo1x.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "kdump_index.h"
#include "notes.h"

#define FLAT_HEADER_SIZE    4096u   /* the flattened form's header block */
#define HEADER_READ         464u    /* enough of disk_dump_header for both layouts */
#define SUB_HEADER_READ     104u    /* kdump_sub_header up to max_mapnr_64 */
#define DESC_SIZE           24u

/* page_desc.flags and the header's status: how pages are compressed. */
#define KD_ZLIB     0x01u
#define KD_LZO      0x02u
#define KD_SNAPPY   0x04u
#define KD_INCOMPLETE 0x08u     /* status only: makedumpfile stopped early */
#define KD_EXCL_VMEMMAP 0x10u   /* status only */
#define KD_ZSTD     0x20u
#define KD_METHODS  (KD_ZLIB | KD_LZO | KD_SNAPPY | KD_ZSTD)

/* Header fields that differ between the 64- and 32-bit layouts. */
struct kd_layout {
    unsigned status, block_size, sub_hdr_size, bitmap_blocks, max_mapnr;
    unsigned sub_note_off, sub_note_size, sub_max_mapnr_64;
};

static const struct kd_layout kd_layout64 = { 424, 428, 432, 436, 440, 48, 56, 96 };
static const struct kd_layout kd_layout32 = { 412, 416, 420, 424, 428, 36, 44, 84 };

/* One record of the flattened form: file bytes [off, off + size) are at data. */
struct kd_rec {
    uint64_t off, size;
    const uint8_t *data;
};

struct kdump {
    const uint8_t *buf;
    size_t size;
    int fd;                 /* the file buf maps, or -1 */
    bool flat;
    struct kd_rec *recs;    /* flattened: sorted by off, disjoint */
    size_t nrecs;
    uint64_t vsize;         /* the size of the file the records make (else size) */
    uint64_t max_mapnr;
    const uint8_t *bitmap;  /* the second bitmap: max_mapnr bits */
    uint8_t *bitmap_copy;   /* owned when the bitmap is not contiguous in buf */
    uint32_t *rank;         /* per 64-bit word of the bitmap: set bits before it */
    uint64_t desc_off, ndesc;
    z_stream zs;
    bool zs_ready;
    ZSTD_DCtx *zstd;
    uint8_t scratch[PTL_PAGE_SIZE];     /* a page read in part */
    uint8_t cdata[PTL_PAGE_SIZE];       /* compressed bytes split across records */
};

static uint64_t get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

bool ptl_is_kdump(const uint8_t *buf, size_t size)
{
    return (size >= 8 && !memcmp(buf, PTL_KDUMP_SIGNATURE, 8)) ||
           (size >= 16 && !memcmp(buf, PTL_KDUMP_FLAT_SIGNATURE "\0\0\0", 16));
}

/* ---- the file's bytes, through the records of the flattened form ---- */

/* find_rec - the index of the last record starting at or below off (nrecs if none). */
static size_t find_rec(const struct kdump *k, uint64_t off)
{
    size_t lo = 0, hi = k->nrecs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (k->recs[mid].off <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? lo - 1 : k->nrecs;
}

/* vptr - a pointer to file bytes [off, off + len) when they lie in one piece, else NULL. */
static const uint8_t *vptr(const struct kdump *k, uint64_t off, uint64_t len)
{
    if (!k->flat)
        return ptl_in_file(off, len, k->size) ? k->buf + off : NULL;
    size_t i = find_rec(k, off);
    if (i == k->nrecs || !ptl_in_file(off - k->recs[i].off, len, k->recs[i].size))
        return NULL;
    return k->recs[i].data + (off - k->recs[i].off);
}

/* vread - copy file bytes [off, off + len) to out. returns: 0; -1 if some are missing. */
static int vread(const struct kdump *k, uint64_t off, void *out, uint64_t len)
{
    uint8_t *o = out;
    while (len) {
        if (!k->flat) {
            if (!ptl_in_file(off, len, k->size))
                return -1;
            memcpy(o, k->buf + off, len);
            return 0;
        }
        size_t i = find_rec(k, off);
        if (i == k->nrecs || off - k->recs[i].off >= k->recs[i].size)
            return -1;
        uint64_t n = k->recs[i].size - (off - k->recs[i].off);
        n = n < len ? n : len;
        memcpy(o, k->recs[i].data + (off - k->recs[i].off), n);
        o += n;
        off += n;
        len -= n;
    }
    return 0;
}

static int rec_cmp(const void *a, const void *b)
{
    const struct kd_rec *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

/*
 * The record headers of a flattened file, in file order, 16 bytes each as
 * in the file: read from the file (saved NULL), or the n saved in the
 * index cache (kdump_index.h), some of which are compared with the file.
 * With collect, those read from the file are kept in out (for the cache).
 */
struct kd_heads {
    const uint8_t *saved;
    size_t n;
    bool collect;
    uint8_t *out;
    size_t nout, cap;
};

/* keep_head - append header h to hs->out; on no memory, stop collecting. */
static void keep_head(struct kd_heads *hs, const uint8_t *h)
{
    if (hs->nout == hs->cap) {
        hs->cap = hs->cap ? hs->cap * 2 : 1024;
        uint8_t *n = realloc(hs->out, hs->cap * 16);
        if (!n) {
            free(hs->out);
            *hs = (struct kd_heads){ 0 };
            return;
        }
        hs->out = n;
    }
    memcpy(hs->out + hs->nout++ * 16, h, 16);
}

/*
 * flat_record - the {offset, size} header of record i, at pos (in the file,
 * checked). Read with pread when the file is open: the headers are 16 KiB
 * apart, and touching the mapping for each costs a page fault (far more
 * than a system call). A saved header is compared with the file for the
 * first and the last (end) record and every (n / 8 + 1)th.
 * returns: 0; -1 if the saved headers end early or differ from the file.
 */
static int flat_record(const struct kdump *k, struct kd_heads *hs, size_t i, uint64_t pos,
                       uint64_t *off, uint64_t *len)
{
    uint8_t h[16];
    const uint8_t *p = h;
    bool check = hs->saved && (i == 0 || i + 1 == hs->n || i % (hs->n / 8 + 1) == 0);
    if (hs->saved && i >= hs->n)
        return -1;
    if (hs->saved)
        p = hs->saved + i * 16;
    if (!hs->saved || check) {
        if (k->fd < 0 || pread(k->fd, h, sizeof(h), (off_t)pos) != (ssize_t)sizeof(h))
            memcpy(h, k->buf + pos, sizeof(h));
        if (check && memcmp(h, p, 16))
            return -1;
    }
    if (hs->collect)
        keep_head(hs, h);
    *off = get_be64(p);
    *len = get_be64(p + 8);
    return 0;
}

/* add_rec - append record {off, len}, its data at k->buf + pos. returns: 0; -1 (no memory). */
static int add_rec(struct kdump *k, size_t *cap, uint64_t off, uint64_t len, uint64_t pos)
{
    if (k->nrecs == *cap) {
        *cap = *cap ? *cap * 2 : 1024;
        struct kd_rec *n = realloc(k->recs, *cap * sizeof(*n));
        if (!n)
            return -1;
        k->recs = n;
    }
    k->recs[k->nrecs++] = (struct kd_rec){ off, len, k->buf + pos };
    k->vsize = off + len > k->vsize ? off + len : k->vsize;
    return 0;
}

/*
 * index_records - the records of a flattened file whose header block is
 * checked, from hs (see struct kd_heads), into k->recs, unsorted;
 * *sorted says whether they came in order. returns: 0; -1 with a message.
 */
static int index_records(struct kdump *k, struct kd_heads *hs, bool *sorted, char *err,
                         size_t errlen)
{
    size_t cap = 0, i = 0;
    uint64_t pos = FLAT_HEADER_SIZE;
    for (;; i++) {
        if (!ptl_in_file(pos, 16, k->size)) {
            ptl_fail(err, errlen, "truncated flattened kdump: no end record (file ends at "
                     "%#zx)", k->size);
            return -1;
        }
        uint64_t off, len;
        if (flat_record(k, hs, i, pos, &off, &len)) {
            ptl_fail(err, errlen, "the kdump index cache is not this file's");
            return -1;
        }
        if (off == ~0ULL)
            break;
        if ((int64_t)off < 0 || !ptl_in_file(pos + 16, len, k->size) || off + len < off) {
            ptl_fail(err, errlen, "%s flattened kdump: the record at %#llx (offset %#llx, "
                     "size %#llx) runs past the end of the file", (int64_t)off < 0 ?
                     "corrupt" : "truncated", (unsigned long long)pos,
                     (unsigned long long)off, (unsigned long long)len);
            return -1;
        }
        if (k->nrecs && len && off < k->recs[k->nrecs - 1].off)
            *sorted = false;
        if (len && add_rec(k, &cap, off, len, pos + 16)) {
            ptl_fail(err, errlen, "out of memory");
            return -1;
        }
        pos += 16 + len;
    }
    if (hs->saved && i + 1 != hs->n) {
        ptl_fail(err, errlen, "the kdump index cache is not this file's");
        return -1;
    }
    return 0;
}

/* sort_records - sort k->recs by offset and refuse overlaps. returns: 0; -1 with a message. */
static int sort_records(struct kdump *k, bool sorted, char *err, size_t errlen)
{
    if (!sorted)
        qsort(k->recs, k->nrecs, sizeof(*k->recs), rec_cmp);
    for (size_t i = 1; i < k->nrecs; i++) {
        if (k->recs[i].off < k->recs[i - 1].off + k->recs[i - 1].size) {
            ptl_fail(err, errlen, "flattened kdump with overlapping records at file offset "
                     "%#llx: rebuild it with makedumpfile -R", (unsigned long long)k->recs[i].off);
            return -1;
        }
    }
    return 0;
}

/*
 * index_from - index_records and sort_records from hs, starting afresh.
 * returns: 0; -1 with a message.
 */
static int index_from(struct kdump *k, struct kd_heads *hs, char *err, size_t errlen)
{
    bool sorted = true;
    k->nrecs = 0;
    k->vsize = 0;
    return index_records(k, hs, &sorted, err, errlen) || sort_records(k, sorted, err, errlen)
           ? -1 : 0;
}

/*
 * index_flat - the records of a flattened file, sorted: from the index
 * cache when it holds this file's headers, else from the file (then saved
 * to the cache). With cache false, or the file not open, no cache.
 * returns: 0; -1 with a message.
 */
static int index_flat(struct kdump *k, bool cache, char *err, size_t errlen)
{
    const uint8_t *b = k->buf;
    if (k->size < FLAT_HEADER_SIZE || get_be64(b + 16) != 1 || get_be64(b + 24) != 1) {
        ptl_fail(err, errlen, "truncated or unknown flattened kdump header (type and version "
                 "must be 1)");
        return -1;
    }
    struct ptl_kdidx x;
    struct kd_heads hs = { 0 };
    cache = cache && ptl_kdidx_init(&x, k->fd, k->buf, k->size) == 0;
    if (cache && (hs.saved = ptl_kdidx_load(&x, &hs.n))) {
        int r = index_from(k, &hs, err, errlen);
        free((void *)hs.saved);
        if (r == 0)
            return 0;
        hs = (struct kd_heads){ 0 };    /* stale or corrupt: build it again */
    }
    hs.collect = cache;
    int r = index_from(k, &hs, err, errlen);
    if (r == 0 && hs.collect)
        ptl_kdidx_save(&x, hs.out, hs.nout);
    free(hs.out);
    return r;
}

/* ---- headers, bitmap, notes ---- */

/* The header fields the reader uses. */
struct kd_header {
    const struct kd_layout *L;
    uint32_t version, status, block_size, sub_hdr_size, bitmap_blocks;
    uint64_t max_mapnr, note_off, note_size;
    char machine[66];
};

/*
 * read_header - the disk_dump_header and kdump_sub_header. The layout is the
 * one whose block_size is the x86 page size (the 64-bit one first).
 * returns: 0; -1 with a message in err.
 */
static int read_header(const struct kdump *k, struct kd_header *h, char *err, size_t errlen)
{
    uint8_t hb[HEADER_READ], sb[SUB_HEADER_READ];
    if (vread(k, 0, hb, sizeof(hb)) || memcmp(hb, PTL_KDUMP_SIGNATURE, 8)) {
        ptl_fail(err, errlen, "truncated kdump header, or no \"KDUMP\" signature");
        return -1;
    }
    h->L = ptl_get32(hb + kd_layout64.block_size) == PTL_PAGE_SIZE ? &kd_layout64
           : ptl_get32(hb + kd_layout32.block_size) == PTL_PAGE_SIZE ? &kd_layout32 : NULL;
    if (!h->L) {
        ptl_fail(err, errlen, "kdump block size is not the x86 page size 4096 (corrupt "
                 "header, or another architecture's dump)");
        return -1;
    }
    const struct kd_layout *L = h->L;
    h->version = ptl_get32(hb + 8);
    memcpy(h->machine, hb + 12 + 4 * 65, 65);
    h->machine[65] = '\0';
    h->status = ptl_get32(hb + L->status);
    h->block_size = PTL_PAGE_SIZE;
    h->sub_hdr_size = ptl_get32(hb + L->sub_hdr_size);
    h->bitmap_blocks = ptl_get32(hb + L->bitmap_blocks);
    h->max_mapnr = ptl_get32(hb + L->max_mapnr);
    if (h->status & ~(KD_METHODS | KD_INCOMPLETE | KD_EXCL_VMEMMAP) ||
        __builtin_popcount(h->status & KD_METHODS) > 1) {
        ptl_fail(err, errlen, "unknown kdump compression (status %#x; known: zlib 0x1, lzo "
                 "0x2, snappy 0x4, zstd 0x20)", h->status);
        return -1;
    }
    if (h->sub_hdr_size == 0 || h->bitmap_blocks == 0 || h->bitmap_blocks % 2 ||
        vread(k, PTL_PAGE_SIZE, sb, sizeof(sb))) {
        ptl_fail(err, errlen, "corrupt or truncated kdump header (sub-header %u blocks, "
                 "bitmaps %u blocks)", h->sub_hdr_size, h->bitmap_blocks);
        return -1;
    }
    h->note_off = ptl_get64(sb + L->sub_note_off);
    h->note_size = ptl_get64(sb + L->sub_note_size);
    if (h->version >= 6)
        h->max_mapnr = ptl_get64(sb + L->sub_max_mapnr_64);
    return 0;
}

/* load_bitmap - the second bitmap and its rank table. returns: 0; -1 with a message. */
static int load_bitmap(struct kdump *k, const struct kd_header *h, char *err, size_t errlen)
{
    uint64_t half = (uint64_t)h->bitmap_blocks / 2 * h->block_size;
    uint64_t off = (1 + (uint64_t)h->sub_hdr_size + h->bitmap_blocks / 2) * h->block_size;
    k->max_mapnr = h->max_mapnr;
    if (k->max_mapnr > half * 8) {
        ptl_fail(err, errlen, "corrupt kdump header: %llu pages but bitmaps of %llu bytes",
                 (unsigned long long)k->max_mapnr, (unsigned long long)half);
        return -1;
    }
    uint64_t words = (k->max_mapnr + 63) / 64;
    k->bitmap = vptr(k, off, words * 8);
    if (!k->bitmap) {
        if (words * 8 > k->vsize || !(k->bitmap_copy = malloc(words * 8 + 1)) ||
            vread(k, off, k->bitmap_copy, words * 8)) {
            ptl_fail(err, errlen, "truncated kdump: the page bitmap at %#llx is not in the "
                     "file", (unsigned long long)off);
            return -1;
        }
        k->bitmap = k->bitmap_copy;
    }
    k->rank = malloc((words + 1) * sizeof(*k->rank));
    if (!k->rank) {
        ptl_fail(err, errlen, "out of memory");
        return -1;
    }
    uint64_t n = 0;
    for (uint64_t w = 0; w < words; w++) {
        k->rank[w] = (uint32_t)n;
        uint64_t bits = ptl_get64(k->bitmap + w * 8);
        if (w == words - 1 && k->max_mapnr % 64)
            bits &= (1ULL << (k->max_mapnr % 64)) - 1;
        n += (uint64_t)__builtin_popcountll(bits);
    }
    k->rank[words] = (uint32_t)n;
    k->ndesc = n;
    k->desc_off = (1 + (uint64_t)h->sub_hdr_size + h->bitmap_blocks) * h->block_size;
    return 0;
}

/* page_in_dump - true if the bitmap says pfn has a descriptor; *idx receives its index. */
static bool page_in_dump(const struct kdump *k, uint64_t pfn, uint64_t *idx)
{
    if (pfn >= k->max_mapnr)
        return false;
    uint64_t bits = ptl_get64(k->bitmap + pfn / 64 * 8);
    if (!(bits >> (pfn % 64) & 1))
        return false;
    *idx = k->rank[pfn / 64] + (uint64_t)__builtin_popcountll(bits & ((1ULL << (pfn % 64)) - 1));
    return true;
}

/* add_ram - the runs of set bits of the bitmap as RAM ranges. returns: 0; -1. */
static int add_ram(struct ptl_source *s, const struct kdump *k)
{
    uint64_t start = 0;
    bool in = false;
    for (uint64_t w = 0; w * 64 < k->max_mapnr; w++) {
        uint64_t bits = ptl_get64(k->bitmap + w * 8);
        if ((bits == ~0ULL && in) || (bits == 0 && !in))
            continue;       /* the whole word continues the current state */
        for (uint64_t pfn = w * 64; pfn < w * 64 + 64 && pfn < k->max_mapnr; pfn++) {
            bool set = bits >> (pfn % 64) & 1;
            if (set && !in)
                start = pfn;
            else if (!set && in && ptl_source_add_ram(s, start << 12, pfn << 12, false))
                return -1;
            in = set;
        }
    }
    return in ? ptl_source_add_ram(s, start << 12, k->max_mapnr << 12, false) : 0;
}

/* read_notes - the QEMU notes of the sub-header's note area. returns: 0; -1 with a message. */
static int read_notes(struct ptl_source *s, const struct kdump *k, const struct kd_header *h,
                      char *err, size_t errlen)
{
    if (h->note_size == 0)
        return 0;
    if (h->note_size > k->vsize || h->note_off > k->vsize - h->note_size) {
        ptl_fail(err, errlen, "corrupt kdump sub-header: notes [%#llx, +%#llx) outside the "
                 "file", (unsigned long long)h->note_off, (unsigned long long)h->note_size);
        return -1;
    }
    uint8_t *notes = malloc(h->note_size);
    if (!notes || vread(k, h->note_off, notes, h->note_size)) {
        free(notes);
        ptl_fail(err, errlen, notes ? "truncated kdump: the notes are not in the file"
                                    : "out of memory");
        return -1;
    }
    size_t nprstatus = 0;
    int r = ptl_parse_notes(s, notes, h->note_size, h->note_off, &nprstatus, err, errlen);
    free(notes);
    return r;
}

/* ---- pages ---- */

/* inflate_page - zlib data into a whole page. returns: 0; -1. */
static int inflate_page(struct kdump *k, const uint8_t *src, uint32_t len, uint8_t *out)
{
    if (!k->zs_ready) {
        if (inflateInit(&k->zs) != Z_OK)
            return -1;
        k->zs_ready = true;
    } else if (inflateReset(&k->zs) != Z_OK) {
        return -1;
    }
    k->zs.next_in = (Bytef *)src;
    k->zs.avail_in = len;
    k->zs.next_out = out;
    k->zs.avail_out = PTL_PAGE_SIZE;
    return inflate(&k->zs, Z_FINISH) == Z_STREAM_END && k->zs.avail_out == 0 ? 0 : -1;
}

/* decompress - one page's data (flags of its descriptor) into out. returns: 0; -1. */
static int decompress(struct kdump *k, uint32_t flags, const uint8_t *src, uint32_t len,
                      uint8_t *out)
{
    size_t n = PTL_PAGE_SIZE;
    switch (flags & KD_METHODS) {
    case 0:
        if (len != PTL_PAGE_SIZE)
            return -1;
        memcpy(out, src, PTL_PAGE_SIZE);
        return 0;
    case KD_ZLIB:
        return inflate_page(k, src, len, out);
    case KD_LZO: {
        lzo_uint ln = PTL_PAGE_SIZE;
        return lzo1x_decompress_safe(src, len, out, &ln, NULL) == LZO_E_OK &&
               ln == PTL_PAGE_SIZE ? 0 : -1;
    }
    case KD_SNAPPY:
        if (snappy_uncompressed_length((const char *)src, len, &n) != SNAPPY_OK ||
            n != PTL_PAGE_SIZE)
            return -1;
        return snappy_uncompress((const char *)src, len, (char *)out, &n) == SNAPPY_OK &&
               n == PTL_PAGE_SIZE ? 0 : -1;
    case KD_ZSTD:
        if (!k->zstd && !(k->zstd = ZSTD_createDCtx()))
            return -1;
        n = ZSTD_decompressDCtx(k->zstd, out, PTL_PAGE_SIZE, src, len);
        return !ZSTD_isError(n) && n == PTL_PAGE_SIZE ? 0 : -1;
    default:
        return -1;      /* more than one method */
    }
}

/* read_page - the page at pfn into out (4096 bytes). returns: 0; -1 (s->err says why). */
static int read_page(struct ptl_source *s, uint64_t pfn, uint8_t *out)
{
    struct kdump *k = s->priv;
    uint64_t idx;
    if (!page_in_dump(k, pfn, &idx))
        return -1;
    uint8_t d[DESC_SIZE];
    if (vread(k, k->desc_off + idx * DESC_SIZE, d, DESC_SIZE)) {
        snprintf(s->err, sizeof(s->err), "page %#llx: its descriptor is not in the file",
                 (unsigned long long)(pfn << 12));
        return -1;
    }
    uint64_t off = ptl_get64(d);
    uint32_t len = ptl_get32(d + 8), flags = ptl_get32(d + 12);
    const uint8_t *src = len <= PTL_PAGE_SIZE ? vptr(k, off, len) : NULL;
    if (!src && len <= PTL_PAGE_SIZE && !vread(k, off, k->cdata, len))
        src = k->cdata;
    if (!src || decompress(k, flags, src, len, out)) {
        snprintf(s->err, sizeof(s->err), "page %#llx: %s (descriptor: offset %#llx, size "
                 "%u, flags %#x)", (unsigned long long)(pfn << 12),
                 src ? "corrupt compressed data" : "its data is not in the file",
                 (unsigned long long)off, len, flags);
        return -1;
    }
    return 0;
}

static int kdump_read(struct ptl_source *s, uint64_t pa, void *buf, size_t n)
{
    struct kdump *k = s->priv;
    uint8_t *out = buf;
    while (n) {
        uint64_t in_page = pa & (PTL_PAGE_SIZE - 1);
        size_t chunk = PTL_PAGE_SIZE - in_page < n ? PTL_PAGE_SIZE - in_page : n;
        if (chunk == PTL_PAGE_SIZE) {
            if (read_page(s, pa >> 12, out))
                return -1;
        } else {
            if (read_page(s, pa >> 12, k->scratch))
                return -1;
            memcpy(out, k->scratch + in_page, chunk);
        }
        out += chunk;
        n -= chunk;
        pa += chunk;
        if (n && pa == 0)
            return -1;
    }
    return 0;
}

static void kdump_close(struct ptl_source *s)
{
    struct kdump *k = s->priv;
    if (!k)
        return;
    if (k->zs_ready)
        inflateEnd(&k->zs);
    ZSTD_freeDCtx(k->zstd);
    free(k->recs);
    free(k->bitmap_copy);
    free(k->rank);
    free(k);
}

static const struct ptl_source_ops kdump_ops = {
    .kind = "kdump", .read = kdump_read, .close = kdump_close,
};

/* The compression named by a header's status. */
static const char *method_name(uint32_t status)
{
    switch (status & KD_METHODS) {
    case KD_ZLIB: return "zlib";
    case KD_LZO: return "lzo";
    case KD_SNAPPY: return "snappy";
    case KD_ZSTD: return "zstd";
    default: return "uncompressed";
    }
}

/*
 * check_extent - the descriptor table and the last page's data are in the
 * file (QEMU and makedumpfile write data in pfn order: a file cut short
 * loses that one first). returns: 0; -1 with a message.
 */
static int check_extent(const struct kdump *k, char *err, size_t errlen)
{
    uint8_t d[DESC_SIZE];
    if (k->ndesc > k->vsize / DESC_SIZE || k->desc_off > k->vsize - k->ndesc * DESC_SIZE ||
        (k->ndesc && vread(k, k->desc_off + (k->ndesc - 1) * DESC_SIZE, d, DESC_SIZE))) {
        ptl_fail(err, errlen, "truncated kdump: %llu page descriptors at %#llx are not all in "
                 "the file (%#llx bytes)", (unsigned long long)k->ndesc,
                 (unsigned long long)k->desc_off, (unsigned long long)k->vsize);
        return -1;
    }
    if (k->ndesc && !vptr(k, ptl_get64(d), ptl_get32(d + 8))) {
        uint8_t probe;
        if (ptl_get32(d + 8) == 0 || vread(k, ptl_get64(d) + ptl_get32(d + 8) - 1, &probe, 1)) {
            ptl_fail(err, errlen, "truncated kdump: the last page's data [%#llx, +%#x) is not "
                     "in the file (%#llx bytes)", (unsigned long long)ptl_get64(d),
                     ptl_get32(d + 8), (unsigned long long)k->vsize);
            return -1;
        }
    }
    return 0;
}

int ptl_kdump_source(struct ptl_source *s, const uint8_t *buf, size_t size, int fd, bool cache,
                     char *err, size_t errlen)
{
    struct kdump *k = calloc(1, sizeof(*k));
    if (!k) {
        ptl_fail(err, errlen, "out of memory");
        return -1;
    }
    s->priv = k;
    s->ops = &kdump_ops;
    k->buf = buf;
    k->size = size;
    k->fd = fd;
    k->vsize = size;
    k->flat = size >= 8 && memcmp(buf, PTL_KDUMP_SIGNATURE, 8);
    if (k->flat) {
        if (index_flat(k, cache, err, errlen))
            return -1;
    }
    struct kd_header h;
    if (read_header(k, &h, err, errlen) || load_bitmap(k, &h, err, errlen) ||
        check_extent(k, err, errlen) || read_notes(s, k, &h, err, errlen))
        return -1;
    if (add_ram(s, k)) {
        ptl_fail(err, errlen, "out of memory");
        return -1;
    }
    s->long_mode = h.L == &kd_layout64;
    snprintf(s->format, sizeof(s->format), "kdump-compressed%s (%s), version %u, %s",
             k->flat ? " flattened" : "", method_name(h.status), h.version,
             h.L == &kd_layout64 ? "64-bit header" : "32-bit header");
    return 0;
}
