/*
 * dump.c: the memory-dump reader of the ptlab host tool (see dump.h).
 *
 * ELF layout read (docs/formats.md, "QEMU ELF core"): ELF header, program headers (the real
 * count in section 0's sh_info when e_phnum is PN_XNUM), PT_NOTE segments
 * walked note by note by their sizes, PT_LOAD segments giving guest-physical
 * memory by p_paddr. Every offset and size is checked against the file
 * before use, with 64-bit arithmetic that cannot overflow.
 * Depends on: dump.h, libc (mmap for files).
 */
#include "dump.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PN_XNUM_        0xFFFFu
#define PT_LOAD_        1u
#define PT_NOTE_        4u
#define ET_CORE_        4u
#define NT_PRSTATUS_    1u
#define QEMU_NOTE_TYPE_ 0u
#define PAGE_SIZE_      4096u

/* QEMUCPUState offsets (docs/formats.md, "QEMU ELF core"). */
#define QS_VERSION  0
#define QS_SIZE     4
#define QS_RSP      56
#define QS_RIP      136
#define QS_RFLAGS   144
#define QS_CR0      392
#define QS_CR2      408
#define QS_CR3      416
#define QS_CR4      424

static void fail_(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail_(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static uint16_t get16_(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32_(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64_(const uint8_t *p) { return get32_(p) | (uint64_t)get32_(p + 4) << 32; }

/* True if [off, off + len) lies inside a file of `size` bytes (no overflow). */
static bool in_file_(uint64_t off, uint64_t len, size_t size)
{
    return off <= size && len <= size - off;
}

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
    return L->wide ? get64_(p) : get32_(p);
}

/* One program header, decoded from either class. */
struct phdr_ {
    uint32_t type;
    uint64_t offset, paddr, filesz, memsz;
};

static void read_phdr_(const struct elf_layout_ *L, const uint8_t *p, struct phdr_ *ph)
{
    ph->type = get32_(p);
    ph->offset = get_word_(L, p + L->p_offset);
    ph->paddr = get_word_(L, p + L->p_paddr);
    ph->filesz = get_word_(L, p + L->p_filesz);
    ph->memsz = get_word_(L, p + L->p_memsz);
    if (!L->wide && ph->offset == 0xFFFFFFFFu)
        ph->offset = ~0ULL;
}

/* Decode the descriptor of a "QEMU" note into a new cpus[] element. */
static int add_qemu_cpu_(struct ptl_dump *d, const uint8_t *desc, uint64_t descsz)
{
    struct ptl_cpu *n = realloc(d->cpus, (d->ncpus + 1) * sizeof(*n));
    if (!n)
        return -1;
    d->cpus = n;
    struct ptl_cpu *c = &d->cpus[d->ncpus++];
    memset(c, 0, sizeof(*c));
    if (descsz < 8)
        return 0;
    c->version = get32_(desc + QS_VERSION);
    c->state_size = get32_(desc + QS_SIZE);
    uint64_t size = c->state_size < descsz ? c->state_size : descsz;
#define HAVE_(off) ((uint64_t)(off) + 8 <= size)
    if (HAVE_(QS_RFLAGS)) {
        c->rip = get64_(desc + QS_RIP);
        c->rflags = get64_(desc + QS_RFLAGS);
        c->rsp = get64_(desc + QS_RSP);
        c->have_rip = true;
    }
    if (HAVE_(QS_CR4)) {
        c->cr0 = get64_(desc + QS_CR0);
        c->cr2 = get64_(desc + QS_CR2);
        c->cr3 = get64_(desc + QS_CR3);
        c->cr4 = get64_(desc + QS_CR4);
        c->have_cr = true;
    }
#undef HAVE_
    return 0;
}

/* Walk the notes of one PT_NOTE segment at [off, off + len). */
static int parse_notes_(struct ptl_dump *d, uint64_t off, uint64_t len, char *err, size_t errlen)
{
    const uint8_t *p = d->map + off;
    uint64_t pos = 0;
    while (len - pos >= 12) {
        uint64_t namesz = get32_(p + pos), descsz = get32_(p + pos + 4);
        uint32_t type = get32_(p + pos + 8);
        uint64_t name_off = pos + 12;
        uint64_t desc_off = name_off + ((namesz + 3) & ~3ULL);
        uint64_t next = desc_off + ((descsz + 3) & ~3ULL);
        if (desc_off > len || descsz > len - desc_off) {
            fail_(err, errlen, "corrupt ELF note at file offset %#llx: sizes run past the "
                  "note segment", (unsigned long long)(off + pos));
            return -1;
        }
        const uint8_t *name = p + name_off;
        bool named_qemu = (namesz == 5 && !memcmp(name, "QEMU", 5)) ||
                          (namesz == 4 && !memcmp(name, "QEMU", 4));
        bool named_core = (namesz == 5 && !memcmp(name, "CORE", 5)) ||
                          (namesz == 4 && !memcmp(name, "CORE", 4));
        if (named_qemu && type == QEMU_NOTE_TYPE_) {
            if (add_qemu_cpu_(d, p + desc_off, descsz)) {
                fail_(err, errlen, "out of memory");
                return -1;
            }
        } else if (named_core && type == NT_PRSTATUS_) {
            d->nprstatus++;
        }
        if (next > len)
            break;      /* last note's padding cut off: tolerated */
        pos = next;
    }
    return 0;
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
        fail_(err, errlen, "truncated ELF header (%zu bytes)", size);
        return NULL;
    }
    if (m[4] != 1 && m[4] != 2) {
        fail_(err, errlen, "unknown ELF class %u", m[4]);
        return NULL;
    }
    if (m[5] != 1) {
        fail_(err, errlen, "not a little-endian ELF file (EI_DATA %u)", m[5]);
        return NULL;
    }
    d->elf_class = m[4];
    const struct elf_layout_ *L = d->elf_class == 2 ? &elf64_ : &elf32_;
    if (size < L->ehsize) {
        fail_(err, errlen, "truncated ELF header (%zu of %u bytes)", size, L->ehsize);
        return NULL;
    }
    unsigned type = get16_(m + 16);
    d->machine = get16_(m + 18);
    unsigned phentsize = get16_(m + L->e_phentsize), phnum = get16_(m + L->e_phnum);
    if (type != ET_CORE_) {
        fail_(err, errlen, "not an ELF core file (e_type %u; expected ET_CORE 4)", type);
        return NULL;
    }
    if (d->machine != PTL_EM_X86_64 && d->machine != PTL_EM_386) {
        fail_(err, errlen, "ELF machine %u is not x86 (expected 62 or 3)", d->machine);
        return NULL;
    }
    if (phentsize != L->phentsize) {
        fail_(err, errlen, "bad e_phentsize %u (expected %u)", phentsize, L->phentsize);
        return NULL;
    }
    *phoff = get_word_(L, m + L->e_phoff);
    *count = phnum;
    if (phnum == PN_XNUM_) {
        /* The real count lives in section header 0's sh_info. */
        uint64_t shoff = get_word_(L, m + L->e_shoff);
        if (get16_(m + L->e_shnum) < 1 || get16_(m + L->e_shentsize) != L->shentsize ||
            !in_file_(shoff, L->shentsize, size)) {
            fail_(err, errlen, "e_phnum is PN_XNUM but section header 0 is missing or truncated");
            return NULL;
        }
        *count = get32_(m + shoff + L->sh_info);
    }
    if (*count == 0) {
        fail_(err, errlen, "ELF core without program headers");
        return NULL;
    }
    if (!in_file_(*phoff, *count * phentsize, size)) {
        fail_(err, errlen, "truncated ELF file: %llu program headers at offset %#llx run past "
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
        fail_(err, errlen, "corrupt PT_LOAD %llu: p_filesz %#llx > p_memsz %#llx",
              (unsigned long long)i, (unsigned long long)ph->filesz,
              (unsigned long long)ph->memsz);
        return -1;
    }
    if (ph->paddr + ph->memsz < ph->paddr) {
        fail_(err, errlen, "corrupt PT_LOAD %llu: [%#llx, +%#llx) wraps around",
              (unsigned long long)i, (unsigned long long)ph->paddr,
              (unsigned long long)ph->memsz);
        return -1;
    }
    struct ptl_segment *s = &d->segs[d->nsegs++];
    s->pa = ph->paddr;
    s->memsz = ph->memsz;
    s->filesz = ph->filesz;
    if (ph->filesz) {
        if (!in_file_(ph->offset, ph->filesz, d->size)) {
            fail_(err, errlen, "truncated dump: PT_LOAD %llu (guest-physical %#llx) needs "
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

static int parse_elf_(struct ptl_dump *d, char *err, size_t errlen)
{
    uint64_t phoff, count;
    const struct elf_layout_ *L = parse_ehdr_(d, &phoff, &count, err, errlen);
    if (!L)
        return -1;
    d->segs = calloc(count, sizeof(*d->segs));
    if (!d->segs) {
        fail_(err, errlen, "out of memory for %llu segments", (unsigned long long)count);
        return -1;
    }
    for (uint64_t i = 0; i < count; i++) {
        struct phdr_ ph;
        read_phdr_(L, d->map + phoff + i * L->phentsize, &ph);
        if (ph.type == PT_NOTE_) {
            if (!in_file_(ph.offset, ph.filesz, d->size)) {
                fail_(err, errlen, "truncated ELF file: the note segment [%#llx, +%#llx) runs "
                      "past the end of the file (%zu bytes)", (unsigned long long)ph.offset,
                      (unsigned long long)ph.filesz, d->size);
                return -1;
            }
            if (parse_notes_(d, ph.offset, ph.filesz, err, errlen))
                return -1;
        } else if (ph.type == PT_LOAD_ && ph.memsz != 0) {
            if (add_load_(d, i, &ph, err, errlen))
                return -1;
        }
    }
    if (d->nsegs == 0) {
        fail_(err, errlen, "ELF core without PT_LOAD segments: no memory in the dump");
        return -1;
    }
    index_segments_(d);
    return 0;
}

int ptl_dump_parse(struct ptl_dump *d, const uint8_t *buf, size_t size, bool raw, char *err,
                   size_t errlen)
{
    memset(d, 0, sizeof(*d));
    d->map = buf;
    d->size = size;
    d->zero_page = calloc(1, PAGE_SIZE_);
    if (!d->zero_page) {
        fail_(err, errlen, "out of memory");
        return -1;
    }
    bool elf = size >= 4 && !memcmp(buf, "\177ELF", 4);
    if (elf && !raw) {
        d->is_elf = true;
        if (parse_elf_(d, err, errlen)) {
            ptl_dump_close(d);
            return -1;
        }
        return 0;
    }
    if (!raw) {
        fail_(err, errlen, "not an ELF core (no ELF magic); a raw memory image needs --cr3 "
              "and --mode");
        ptl_dump_close(d);
        return -1;
    }
    if (size == 0) {
        fail_(err, errlen, "empty memory image");
        ptl_dump_close(d);
        return -1;
    }
    d->segs = calloc(1, sizeof(*d->segs));
    if (!d->segs) {
        fail_(err, errlen, "out of memory");
        ptl_dump_close(d);
        return -1;
    }
    d->segs[0] = (struct ptl_segment){ .pa = 0, .memsz = size, .filesz = size, .data = buf,
                                       .cover_end = size };
    d->nsegs = 1;
    d->phys_end = size;
    return 0;
}

int ptl_dump_open(struct ptl_dump *d, const char *path, bool raw, char *err, size_t errlen)
{
    memset(d, 0, sizeof(*d));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fail_(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        fail_(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        fail_(err, errlen, "%s: not a regular file", path);
        close(fd);
        return -1;
    }
    if (st.st_size == 0) {
        fail_(err, errlen, "%s: empty file", path);
        close(fd);
        return -1;
    }
    size_t size = (size_t)st.st_size;
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        fail_(err, errlen, "%s: mmap: %s", path, strerror(errno));
        return -1;
    }
    /* Table reads are scattered: do not read ahead around them. */
    madvise(map, size, MADV_RANDOM);
    char msg[512];
    if (ptl_dump_parse(d, map, size, raw, msg, sizeof(msg))) {
        fail_(err, errlen, "%s: %s", path, msg);
        munmap(map, size);
        return -1;
    }
    d->mapped = true;
    return 0;
}

void ptl_dump_close(struct ptl_dump *d)
{
    if (d->mapped && d->map)
        munmap((void *)d->map, d->size);
    free(d->segs);
    free(d->cpus);
    for (size_t i = 0; i < d->copies_cap; i++)
        free(d->copies[i].data);
    free(d->copies);
    free(d->zero_page);
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

bool ptl_dump_in_ram(const struct ptl_dump *d, uint64_t pa)
{
    uint64_t run_end;
    return find_seg_((struct ptl_dump *)d, pa, &run_end) != NULL;
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

/* True if every byte of [pa, pa + len) lies in some segment. */
static bool span_in_dump_(struct ptl_dump *d, uint64_t pa, uint64_t len)
{
    while (len) {
        uint64_t run_end;
        if (!find_seg_(d, pa, &run_end))
            return false;
        uint64_t step = run_len_(pa, run_end, len);
        pa += step;
        len -= step;
        if (len && pa == 0)
            return false;
    }
    return true;
}

/* Fill a private copy of the page at `page`: the dump's bytes, zero where it has none. */
static void fill_page_(struct ptl_dump *d, uint64_t page, uint8_t *out)
{
    for (uint64_t off = 0; off < PAGE_SIZE_;) {
        uint64_t run_end;
        const struct ptl_segment *s = find_seg_(d, page + off, &run_end);
        if (!s) {
            out[off++] = 0;
            continue;
        }
        uint64_t so = page + off - s->pa;
        uint64_t n = run_len_(page + off, run_end, PAGE_SIZE_ - off);
        for (uint64_t i = 0; i < n; i++)
            out[off + i] = so + i < s->filesz ? s->data[so + i] : 0;
        off += n;
    }
}

/* The cached private copy of `page`, made on first use; NULL if out of memory. */
static uint8_t *page_copy_(struct ptl_dump *d, uint64_t page)
{
    /* Open addressing on the page number; grown at half load. */
    if (d->ncopies * 2 >= d->copies_cap) {
        size_t cap = d->copies_cap ? d->copies_cap * 2 : 64;
        struct ptl_page_copy *n = calloc(cap, sizeof(*n));
        if (!n)
            return NULL;
        for (size_t i = 0; i < d->copies_cap; i++) {
            if (!d->copies[i].data)
                continue;
            size_t h = (size_t)((d->copies[i].pa >> 12) * 0x9E3779B97F4A7C15ULL >> 20) % cap;
            while (n[h].data)
                h = (h + 1) % cap;
            n[h] = d->copies[i];
        }
        free(d->copies);
        d->copies = n;
        d->copies_cap = cap;
    }
    size_t h = (size_t)((page >> 12) * 0x9E3779B97F4A7C15ULL >> 20) % d->copies_cap;
    while (d->copies[h].data) {
        if (d->copies[h].pa == page)
            return d->copies[h].data;
        h = (h + 1) % d->copies_cap;
    }
    uint8_t *data = malloc(PAGE_SIZE_);
    if (!data)
        return NULL;
    fill_page_(d, page, data);
    d->copies[h].pa = page;
    d->copies[h].data = data;
    d->ncopies++;
    return data;
}

const void *ptl_dump_phys(struct ptl_dump *d, uint64_t pa)
{
    uint64_t len = PAGE_SIZE_ - (pa & (PAGE_SIZE_ - 1));
    uint64_t run_end;
    const struct ptl_segment *s = find_seg_(d, pa, &run_end);
    if (!s)
        return NULL;
    uint64_t off = pa - s->pa;
    bool one_run = run_len_(pa, run_end, len) == len;
    if (one_run && off < s->filesz && len <= s->filesz - off &&
        !((uintptr_t)(s->data + off) & 7))
        return s->data + off;   /* the common case: wholly backed by the file, aligned */
    if (one_run && off >= s->filesz)
        return d->zero_page + (pa & (PAGE_SIZE_ - 1));  /* in the zero tail of a segment */
    /* Partly backed, crossing into the next segment, or at a file offset that is
     * not 8-byte aligned (entries must be read aligned): a private copy of the page
     * that stays valid until the dump is closed (walkers keep pointers to upper
     * tables while they read lower ones). */
    if (!span_in_dump_(d, pa, len))
        return NULL;
    uint64_t page = pa & ~(uint64_t)(PAGE_SIZE_ - 1);
    uint8_t *copy = page_copy_(d, page);
    return copy ? copy + (pa - page) : NULL;
}
