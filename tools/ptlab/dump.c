/*
 * dump.c: the reader of the ptlab host tool for the dumps that store memory
 * uncompressed: ELF cores, LiME images, raw images (see dump.h).
 *
 * ELF layout read (docs/formats.md, "QEMU ELF core"): ELF header, program headers (the real
 * count in section 0's sh_info when e_phnum is PN_XNUM), PT_NOTE segments
 * walked note by note by their sizes, PT_LOAD segments giving guest-physical
 * memory by p_paddr. LiME (docs/formats.md, "LiME"): range headers
 * {magic, version 1, s_addr, e_addr inclusive, reserved}, each followed by
 * its bytes. Every offset and size is checked against the file before use,
 * with 64-bit arithmetic that cannot overflow.
 * Depends on: dump.h, libc (mmap for files).
 */
#include "dump.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notes.h"

#define PN_XNUM_        0xFFFFu
#define PT_LOAD_        1u
#define PT_NOTE_        4u
#define ET_CORE_        4u
#define LIME_HEADER_SIZE_ 32u

static int seg_cmp_(const void *a, const void *b)
{
    const struct ptl_segment *x = a, *y = b;
    if (x->pa != y->pa)
        return x->pa < y->pa ? -1 : 1;
    return 0;
}

/*
 * The fields read from the ELF header, a program header and section header 0,
 * as offsets in each class (Elf32_* / Elf64_*); wide: addresses, offsets and
 * sizes are 8 bytes (else 4).
 */
struct elf_layout_ {
    bool wide;
    unsigned ehsize, e_phoff, e_shoff, e_phentsize, e_phnum, e_shentsize, e_shnum;
    unsigned phentsize, p_offset, p_paddr, p_filesz, p_memsz;
    unsigned shentsize, sh_info;
};

static const struct elf_layout_ elf32_ = {
    .wide = false, .ehsize = 52, .e_phoff = 28, .e_shoff = 32, .e_phentsize = 42,
    .e_phnum = 44, .e_shentsize = 46, .e_shnum = 48,
    .phentsize = 32, .p_offset = 4, .p_paddr = 12, .p_filesz = 16, .p_memsz = 20,
    .shentsize = 40, .sh_info = 28,
};

static const struct elf_layout_ elf64_ = {
    .wide = true, .ehsize = 64, .e_phoff = 32, .e_shoff = 40, .e_phentsize = 54,
    .e_phnum = 56, .e_shentsize = 58, .e_shnum = 60,
    .phentsize = 56, .p_offset = 8, .p_paddr = 24, .p_filesz = 32, .p_memsz = 40,
    .shentsize = 64, .sh_info = 44,
};

/* An address, offset or size field of the layout's width. */
static uint64_t get_word_(const struct elf_layout_ *L, const uint8_t *p)
{
    return L->wide ? ptl_get64(p) : ptl_get32(p);
}

/* One program header, decoded from either class. */
struct phdr_ {
    uint32_t type;
    uint64_t offset, paddr, filesz, memsz;
};

static void read_phdr_(const struct elf_layout_ *L, const uint8_t *p, struct phdr_ *ph)
{
    ph->type = ptl_get32(p);
    ph->offset = get_word_(L, p + L->p_offset);
    ph->paddr = get_word_(L, p + L->p_paddr);
    ph->filesz = get_word_(L, p + L->p_filesz);
    ph->memsz = get_word_(L, p + L->p_memsz);
    if (!L->wide && ph->offset == 0xFFFFFFFFu)
        ph->offset = ~0ULL;
}

/*
 * parse_ehdr_ - check the ELF header (a little-endian x86 ET_CORE) and find
 * the program headers: *phoff and *count (the real count from section
 * header 0 when e_phnum is PN_XNUM), all inside the file. Sets d->elf_class
 * and d->machine.
 * returns: the class's layout; NULL with a message in err.
 */
static const struct elf_layout_ *parse_ehdr_(struct ptl_dump *d, uint64_t *phoff,
                                             uint64_t *count, char *err, size_t errlen)
{
    const uint8_t *m = d->map;
    size_t size = d->size;
    if (size < 16) {
        ptl_fail(err, errlen, "truncated ELF header (%zu bytes)", size);
        return NULL;
    }
    if (m[4] != 1 && m[4] != 2) {
        ptl_fail(err, errlen, "unknown ELF class %u", m[4]);
        return NULL;
    }
    if (m[5] != 1) {
        ptl_fail(err, errlen, "not a little-endian ELF file (EI_DATA %u)", m[5]);
        return NULL;
    }
    d->elf_class = m[4];
    const struct elf_layout_ *L = d->elf_class == 2 ? &elf64_ : &elf32_;
    if (size < L->ehsize) {
        ptl_fail(err, errlen, "truncated ELF header (%zu of %u bytes)", size, L->ehsize);
        return NULL;
    }
    unsigned type = ptl_get16(m + 16);
    d->machine = ptl_get16(m + 18);
    unsigned phentsize = ptl_get16(m + L->e_phentsize), phnum = ptl_get16(m + L->e_phnum);
    if (type != ET_CORE_) {
        ptl_fail(err, errlen, "not an ELF core file (e_type %u; expected ET_CORE 4)", type);
        return NULL;
    }
    if (d->machine != PTL_EM_X86_64 && d->machine != PTL_EM_386) {
        ptl_fail(err, errlen, "ELF machine %u is not x86 (expected 62 or 3)", d->machine);
        return NULL;
    }
    if (phentsize != L->phentsize) {
        ptl_fail(err, errlen, "bad e_phentsize %u (expected %u)", phentsize, L->phentsize);
        return NULL;
    }
    *phoff = get_word_(L, m + L->e_phoff);
    *count = phnum;
    if (phnum == PN_XNUM_) {
        /* The real count lives in section header 0's sh_info. */
        uint64_t shoff = get_word_(L, m + L->e_shoff);
        if (ptl_get16(m + L->e_shnum) < 1 || ptl_get16(m + L->e_shentsize) != L->shentsize ||
            !ptl_in_file(shoff, L->shentsize, size)) {
            ptl_fail(err, errlen, "e_phnum is PN_XNUM but section header 0 is missing or "
                     "truncated");
            return NULL;
        }
        *count = ptl_get32(m + shoff + L->sh_info);
    }
    if (*count == 0) {
        ptl_fail(err, errlen, "ELF core without program headers");
        return NULL;
    }
    if (!ptl_in_file(*phoff, *count * phentsize, size)) {
        ptl_fail(err, errlen, "truncated ELF file: %llu program headers at offset %#llx run past "
                 "the end of the file (%zu bytes)", (unsigned long long)*count,
                 (unsigned long long)*phoff, size);
        return NULL;
    }
    return L;
}

/* add_load_ - PT_LOAD number i as a new segment. returns: 0; -1 with a message in err. */
static int add_load_(struct ptl_dump *d, uint64_t i, const struct phdr_ *ph, char *err,
                     size_t errlen)
{
    if (ph->filesz > ph->memsz) {
        ptl_fail(err, errlen, "corrupt PT_LOAD %llu: p_filesz %#llx > p_memsz %#llx",
                 (unsigned long long)i, (unsigned long long)ph->filesz,
                 (unsigned long long)ph->memsz);
        return -1;
    }
    if (ph->paddr + ph->memsz < ph->paddr) {
        ptl_fail(err, errlen, "corrupt PT_LOAD %llu: [%#llx, +%#llx) wraps around",
                 (unsigned long long)i, (unsigned long long)ph->paddr,
                 (unsigned long long)ph->memsz);
        return -1;
    }
    struct ptl_segment *s = &d->segs[d->nsegs++];
    s->pa = ph->paddr;
    s->memsz = ph->memsz;
    s->filesz = ph->filesz;
    if (ph->filesz) {
        if (!ptl_in_file(ph->offset, ph->filesz, d->size)) {
            ptl_fail(err, errlen, "truncated dump: PT_LOAD %llu (guest-physical %#llx) needs "
                     "file bytes up to %#llx, the file has %#zx",
                     (unsigned long long)i, (unsigned long long)ph->paddr,
                     (unsigned long long)(ph->offset + ph->filesz), d->size);
            return -1;
        }
        s->data = d->map + ph->offset;
    }
    if (s->pa + s->memsz > d->phys_end)
        d->phys_end = s->pa + s->memsz;
    return 0;
}

/* Sort the segments by address and note how far the earlier ones reach (find_seg_). */
static void index_segments_(struct ptl_dump *d)
{
    qsort(d->segs, d->nsegs, sizeof(*d->segs), seg_cmp_);
    uint64_t cover = 0;
    for (size_t i = 0; i < d->nsegs; i++) {
        uint64_t end = d->segs[i].pa + d->segs[i].memsz;
        if (i && d->segs[i].pa < cover)
            d->overlapping = true;
        cover = end > cover ? end : cover;
        d->segs[i].cover_end = cover;
    }
}

static int parse_elf_(struct ptl_dump *d, struct ptl_source *s, char *err, size_t errlen)
{
    uint64_t phoff, count;
    const struct elf_layout_ *L = parse_ehdr_(d, &phoff, &count, err, errlen);
    if (!L)
        return -1;
    d->segs = calloc(count, sizeof(*d->segs));
    if (!d->segs) {
        ptl_fail(err, errlen, "out of memory for %llu segments", (unsigned long long)count);
        return -1;
    }
    for (uint64_t i = 0; i < count; i++) {
        struct phdr_ ph;
        read_phdr_(L, d->map + phoff + i * L->phentsize, &ph);
        if (ph.type == PT_NOTE_) {
            if (!ptl_in_file(ph.offset, ph.filesz, d->size)) {
                ptl_fail(err, errlen, "truncated ELF file: the note segment [%#llx, +%#llx) "
                         "runs past the end of the file (%zu bytes)",
                         (unsigned long long)ph.offset, (unsigned long long)ph.filesz, d->size);
                return -1;
            }
            if (ptl_parse_notes(s, d->map + ph.offset, ph.filesz, ph.offset, &d->nprstatus, err,
                                errlen))
                return -1;
        } else if (ph.type == PT_LOAD_ && ph.memsz != 0) {
            if (add_load_(d, i, &ph, err, errlen))
                return -1;
        }
    }
    if (d->nsegs == 0) {
        ptl_fail(err, errlen, "ELF core without PT_LOAD segments: no memory in the dump");
        return -1;
    }
    index_segments_(d);
    return 0;
}

/* parse_raw_ - the whole buffer as memory from physical address 0. */
static int parse_raw_(struct ptl_dump *d, char *err, size_t errlen)
{
    if (d->size == 0) {
        ptl_fail(err, errlen, "empty memory image");
        return -1;
    }
    d->segs = calloc(1, sizeof(*d->segs));
    if (!d->segs) {
        ptl_fail(err, errlen, "out of memory");
        return -1;
    }
    d->segs[0] = (struct ptl_segment){ .pa = 0, .memsz = d->size, .filesz = d->size,
                                       .data = d->map, .cover_end = d->size };
    d->nsegs = 1;
    d->phys_end = d->size;
    return 0;
}

/*
 * lime_range_ - the LiME range header at pos (range number i): its memory
 * [*pa, *pa + *len) follows it. returns: 0; -1 with a message in err.
 */
static int lime_range_(const struct ptl_dump *d, uint64_t pos, uint64_t i, uint64_t *pa,
                       uint64_t *len, char *err, size_t errlen)
{
    if (!ptl_in_file(pos, LIME_HEADER_SIZE_, d->size)) {
        ptl_fail(err, errlen, "truncated LiME image: range header %llu at %#llx is cut off",
                 (unsigned long long)i, (unsigned long long)pos);
        return -1;
    }
    const uint8_t *h = d->map + pos;
    uint32_t magic = ptl_get32(h), version = ptl_get32(h + 4);
    uint64_t start = ptl_get64(h + 8), last = ptl_get64(h + 16);
    if (magic != PTL_LIME_MAGIC || version != 1) {
        ptl_fail(err, errlen, "corrupt LiME image: range header %llu at %#llx has magic %#x, "
                 "version %u (expected %#x, 1)", (unsigned long long)i,
                 (unsigned long long)pos, magic, version, PTL_LIME_MAGIC);
        return -1;
    }
    if (last == UINT64_MAX) {   /* its end, last + 1, would wrap to 0 */
        ptl_fail(err, errlen, "corrupt LiME image: range %llu [%#llx, %#llx] (inclusive) wraps "
                 "around", (unsigned long long)i, (unsigned long long)start,
                 (unsigned long long)last);
        return -1;
    }
    if (last < start || last - start >= d->size ||
        !ptl_in_file(pos + LIME_HEADER_SIZE_, last - start + 1, d->size)) {
        ptl_fail(err, errlen, "%s LiME image: range %llu [%#llx, %#llx] (inclusive) needs "
                 "file bytes up to %#llx, the file has %#zx", last < start ? "corrupt" :
                 "truncated", (unsigned long long)i, (unsigned long long)start,
                 (unsigned long long)last, (unsigned long long)(pos + 32 + (last - start) + 1),
                 d->size);
        return -1;
    }
    *pa = start;
    *len = last - start + 1;
    return 0;
}

/* parse_lime_ - the ranges of a LiME image, one header each (two passes: count, fill). */
static int parse_lime_(struct ptl_dump *d, char *err, size_t errlen)
{
    uint64_t n = 0;
    for (int fill = 0; fill < 2; fill++) {
        uint64_t pos = 0, i = 0, pa, len;
        for (; pos < d->size; pos += LIME_HEADER_SIZE_ + len, i++) {
            if (lime_range_(d, pos, i, &pa, &len, err, errlen))
                return -1;
            if (fill)
                d->segs[i] = (struct ptl_segment){ .pa = pa, .memsz = len, .filesz = len,
                                                   .data = d->map + pos + LIME_HEADER_SIZE_ };
        }
        n = i;
        if (!fill && !(d->segs = calloc(n, sizeof(*d->segs)))) {
            ptl_fail(err, errlen, "out of memory");
            return -1;
        }
    }
    d->nsegs = n;
    for (size_t i = 0; i < n; i++)
        if (d->segs[i].pa + d->segs[i].memsz > d->phys_end)
            d->phys_end = d->segs[i].pa + d->segs[i].memsz;
    index_segments_(d);
    return 0;
}

bool ptl_is_lime(const uint8_t *buf, size_t size)
{
    return size >= 4 && ptl_get32(buf) == PTL_LIME_MAGIC;
}

int ptl_dump_parse(struct ptl_dump *d, struct ptl_source *s, const uint8_t *buf, size_t size,
                   enum ptl_dump_kind kind, char *err, size_t errlen)
{
    memset(d, 0, sizeof(*d));
    d->map = buf;
    d->size = size;
    d->kind = kind;
    int r;
    if (kind == PTL_DUMP_ELF && !(size >= 4 && !memcmp(buf, "\177ELF", 4))) {
        ptl_fail(err, errlen, "not an ELF core (no ELF magic); a raw memory image needs --cr3 "
                 "and --mode");
        r = -1;
    } else if (kind == PTL_DUMP_ELF) {
        d->is_elf = true;
        r = parse_elf_(d, s, err, errlen);
    } else if (kind == PTL_DUMP_LIME) {
        r = parse_lime_(d, err, errlen);
    } else {
        r = parse_raw_(d, err, errlen);
    }
    if (r)
        ptl_dump_close(d);
    return r;
}

void ptl_dump_close(struct ptl_dump *d)
{
    free(d->segs);
    memset(d, 0, sizeof(*d));
}

/*
 * find_seg_ - the segment holding pa, or NULL. With overlapping PT_LOADs (a
 * paging dump) the segment that starts last at or below pa and contains it
 * wins. *run_end receives the end of the stretch from pa on that resolves to
 * the same segment: min(segment end, start of the next segment), 0 meaning 2^64.
 */
static const struct ptl_segment *find_seg_(struct ptl_dump *d, uint64_t pa, uint64_t *run_end)
{
    /* The one-entry cache only when segments are disjoint: with overlaps the
     * answer must not depend on the previous lookup. */
    if (!d->overlapping && d->last_seg < d->nsegs) {
        const struct ptl_segment *s = &d->segs[d->last_seg];
        if (pa >= s->pa && pa - s->pa < s->memsz) {
            *run_end = s->pa + s->memsz;
            return s;
        }
    }
    size_t lo = 0, hi = d->nsegs;   /* find the last segment with s->pa <= pa */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->segs[mid].pa <= pa)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint64_t next_start = lo < d->nsegs ? d->segs[lo].pa : 0;
    if (lo == 0)
        return NULL;
    const struct ptl_segment *s = &d->segs[lo - 1];
    size_t i = lo - 1;
    if (pa - s->pa >= s->memsz) {
        /* An earlier, longer segment may still cover pa (overlapping PT_LOADs);
         * cover_end stops the search as soon as none can. */
        s = NULL;
        while (i-- > 0 && d->segs[i].cover_end > pa) {
            if (pa - d->segs[i].pa < d->segs[i].memsz) {
                s = &d->segs[i];
                break;
            }
        }
        if (!s)
            return NULL;
    }
    uint64_t end = s->pa + s->memsz;
    *run_end = (next_start && (end == 0 || next_start < end)) ? next_start : end;
    d->last_seg = i;
    return s;
}

/* Bytes from pa to run_end (0 = 2^64), capped at cap. */
static uint64_t run_len_(uint64_t pa, uint64_t run_end, uint64_t cap)
{
    uint64_t avail = run_end - pa;     /* wraps correctly for run_end == 0 */
    return avail < cap && avail != 0 ? avail : cap;
}

int ptl_dump_read(struct ptl_dump *d, uint64_t pa, void *buf, size_t n)
{
    uint8_t *out = buf;
    while (n) {
        uint64_t run_end;
        const struct ptl_segment *s = find_seg_(d, pa, &run_end);
        if (!s)
            return -1;
        size_t chunk = (size_t)run_len_(pa, run_end, n);
        uint64_t off = pa - s->pa;
        for (size_t done = 0; done < chunk;) {
            uint64_t o = off + done;
            if (o < s->filesz) {
                uint64_t k = s->filesz - o < chunk - done ? s->filesz - o : chunk - done;
                memcpy(out + done, s->data + o, (size_t)k);
                done += (size_t)k;
            } else {
                memset(out + done, 0, chunk - done);
                done = chunk;
            }
        }
        out += chunk;
        n -= chunk;
        pa += chunk;
        if (n && pa == 0)
            return -1;  /* wrapped past 2^64 */
    }
    return 0;
}

int ptl_dump_map_page(struct ptl_dump *d, uint64_t pa, const void **p)
{
    uint64_t len = PTL_PAGE_SIZE - (pa & (PTL_PAGE_SIZE - 1));
    uint64_t run_end;
    const struct ptl_segment *s = find_seg_(d, pa, &run_end);
    if (!s)
        return -1;
    uint64_t off = pa - s->pa;
    if (run_len_(pa, run_end, len) == len && off < s->filesz && len <= s->filesz - off &&
        !((uintptr_t)(s->data + off) & 7)) {
        *p = s->data + off;     /* the common case: wholly backed by the file, aligned */
        return 0;
    }
    /* Partly backed, in a zero tail, crossing into the next segment, or at a
     * file offset that is not 8-byte aligned (entries must be read aligned):
     * the layer copies it (ptl_dump_read fills zero tails). */
    return 1;
}

/* ---- the ELF core and raw image as a struct ptl_source ---- */

static int elf_read(struct ptl_source *s, uint64_t pa, void *buf, size_t n)
{
    return ptl_dump_read(s->priv, pa, buf, n);
}

static int elf_map_page(struct ptl_source *s, uint64_t pa, const void **p)
{
    return ptl_dump_map_page(s->priv, pa, p);
}

static void elf_close(struct ptl_source *s)
{
    ptl_dump_close(s->priv);
    free(s->priv);
}

static const struct ptl_source_ops dump_ops[] = {
    [PTL_DUMP_ELF] = { .kind = "elf", .read = elf_read, .map_page = elf_map_page,
                       .close = elf_close },
    [PTL_DUMP_LIME] = { .kind = "lime", .read = elf_read, .map_page = elf_map_page,
                        .close = elf_close },
    [PTL_DUMP_RAW] = { .kind = "raw", .read = elf_read, .map_page = elf_map_page,
                       .close = elf_close },
};

/* The format line of `ptlab info`. */
static void describe_(const struct ptl_dump *d, char *out, size_t len)
{
    if (d->kind == PTL_DUMP_ELF)
        snprintf(out, len, "ELF%d core, machine %s", d->elf_class == 2 ? 64 : 32,
                 d->machine == PTL_EM_X86_64 ? "x86-64" : "i386");
    else if (d->kind == PTL_DUMP_LIME)
        snprintf(out, len, "LiME image, %zu range%s", d->nsegs, d->nsegs == 1 ? "" : "s");
    else
        snprintf(out, len, "raw physical memory image");
}

int ptl_dump_source(struct ptl_source *s, const uint8_t *buf, size_t size,
                    enum ptl_dump_kind kind, char *err, size_t errlen)
{
    struct ptl_dump *d = calloc(1, sizeof(*d));
    if (!d) {
        ptl_fail(err, errlen, "out of memory");
        return -1;
    }
    if (ptl_dump_parse(d, s, buf, size, kind, err, errlen)) {
        free(d);
        return -1;
    }
    s->priv = d;
    s->ops = &dump_ops[kind];
    /* A LiME image has no registers: a guest it comes from runs x86-64 Linux. */
    s->long_mode = (d->is_elf && d->machine == PTL_EM_X86_64) || kind == PTL_DUMP_LIME;
    describe_(d, s->format, sizeof(s->format));
    for (size_t i = 0; i < d->nsegs; i++) {
        const struct ptl_segment *g = &d->segs[i];
        if (ptl_source_add_ram(s, g->pa, g->pa + g->memsz, g->filesz < g->memsz)) {
            ptl_fail(err, errlen, "out of memory");
            return -1;      /* the caller closes s, and with it d */
        }
    }
    return 0;
}
