/*
 * source.h: the memory-source layer of the ptlab host tool.
 *
 * Every command reads guest memory through one struct ptl_source, whatever
 * holds that memory: a QEMU ELF core or a raw image (dump.c), a
 * kdump-compressed file (kdump.c), a LiME image (dump.c), or a running QEMU
 * (its gdbstub, or its RAM shared through a file plus QMP). A source gives:
 *   - guest-physical memory: read n bytes at pa (ops->read), and, when it can
 *     without copying, a pointer to a whole page (ops->map_page: the mapped
 *     ELF file, shared RAM);
 *   - the RAM ranges it holds (ram[], sorted by start);
 *   - each vCPU's control registers (cpus[]);
 *   - for a running guest, pause and resume.
 * The layer adds the page cache that serves lib/paging's phys_to_virt for
 * the sources that cannot hand out pointers (compressed dumps, the gdbstub):
 * a page read once stays at the same address until ptl_source_invalidate or
 * ptl_source_close, so every pointer a walk holds stays valid for the whole
 * walk (include/paging/paging.h, struct pg_ctx).
 *
 * Adding a source: a reader that fills a struct ptl_source (its ops, ram,
 * cpus, format) from a file's bytes or from a connection, and its branch in
 * ptl_source_open (source.c); the commands do not change.
 * Depends on: libc only (no lib/paging), so the fuzz harnesses can include
 * the readers directly.
 */
#ifndef PTLAB_SOURCE_H
#define PTLAB_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PTL_PAGE_SIZE   4096u

/* One range of guest RAM: [start, end). */
struct ptl_ram {
    uint64_t start, end;
    bool partly_zero;       /* some of it is not in the file and reads as zero */
};

/*
 * The state of one vCPU (fields a source does not have stay 0 and their
 * have_* flag false). version and state_size are those of a QEMU note
 * (QEMUCPUState), for the dumps that carry one.
 */
struct ptl_cpu {
    uint32_t version;
    uint32_t state_size;    /* the note's own size field */
    bool have_cr;           /* CR0, CR2, CR3, CR4 are known */
    uint64_t cr0, cr2, cr3, cr4;
    bool have_efer;         /* EFER is known (live sources; dumps have none) */
    uint64_t efer;
    bool have_rip;
    uint64_t rip, rsp, rflags;
};

struct ptl_source;

/*
 * struct ptl_source_ops - what a kind of source does. Every function gets
 * the source itself; its private state is s->priv.
 * kind         short name: "elf", "raw", "kdump", "lime", "gdb", "shm"
 * read         copy n bytes of guest-physical memory at pa into buf.
 *              returns: 0; -1 if any byte is not in the source (or, live,
 *              could not be read: the reason in s->err)
 * map_page     optional (NULL: every page goes through the page cache): a
 *              pointer through which the bytes from pa to the end of its
 *              4 KiB page can be read, valid until ptl_source_close.
 *              returns: 0 with *p set, 8-byte aligned whenever pa is; 1 if
 *              the source has those bytes but no such pointer (the layer
 *              then copies them into its cache with read); -1 if pa is not
 *              in the source
 * pause        optional (dumps: NULL): stop the guest and load the vCPUs'
 *              registers into cpus[]. returns: 0; -1 with s->err set
 * resume       optional: let the guest run again (only if pause stopped it).
 *              returns: 0; -1 with s->err set
 * wait         optional: after resume, wait up to ms milliseconds for the
 *              guest to be stopped by someone else (a monitor, a debugger).
 *              returns: 1 it stopped; 0 not within ms; -1 with s->err set
 * close        release the private state (not s->ram, s->cpus: the layer
 *              frees those)
 */
struct ptl_source_ops {
    const char *kind;
    int (*read)(struct ptl_source *s, uint64_t pa, void *buf, size_t n);
    int (*map_page)(struct ptl_source *s, uint64_t pa, const void **p);
    int (*pause)(struct ptl_source *s);
    int (*resume)(struct ptl_source *s);
    int (*wait)(struct ptl_source *s, int ms);
    void (*close)(struct ptl_source *s);
};

/* One page of the layer's cache (source.c). */
struct ptl_cached_page {
    uint64_t pa;            /* page address; the slot is free when data is NULL */
    uint8_t *data;
    uint16_t valid_from;    /* bytes before this offset are not known to be in the source */
};

/*
 * struct ptl_source - an open memory source.
 * name         for messages: the file, or HOST:PORT
 * format       what it is, for `ptlab info` ("ELF64 core, machine x86-64", ...)
 * ram, nram    the RAM ranges, sorted by start (they may overlap: ELF
 *              paging dumps repeat memory)
 * cpus, ncpus  the vCPUs' registers, in the source's order
 * long_mode    the source says the guest was in IA-32e mode (an x86-64 ELF
 *              or kdump file); used for the paging mode when a vCPU has no EFER
 * live         a running guest: the memory can change between pauses
 * stats        a live source prints its round trips on stderr when closed (--stats)
 * map, map_size  the file, mapped read-only by ptl_source_open (else NULL)
 * err          the last failure of a live source, for messages
 */
struct ptl_source {
    const struct ptl_source_ops *ops;
    void *priv;
    const char *name;
    char format[96];
    struct ptl_ram *ram;
    size_t nram, ram_cap;
    struct ptl_cpu *cpus;
    size_t ncpus, cpus_cap;
    bool long_mode;
    bool live;
    bool stats;                     /* say what a live source cost when closing */
    const uint8_t *map;
    size_t map_size;
    char err[256];
    struct ptl_cached_page *cache;  /* open addressing on the page number */
    size_t ncached, cache_cap;
    uint8_t *chunk;                 /* pages are carved from chunks of PTL_CACHE_CHUNK */
    size_t chunk_used;
    void **chunks;
    size_t nchunks, chunks_cap;
};

/* Pages per allocation of the cache. */
#define PTL_CACHE_CHUNK 64

/*
 * struct ptl_source_spec - which source to open, from the input options.
 * path         a dump file (ELF core, kdump-compressed, LiME; with raw, a raw
 *              image); NULL for a live source
 * raw          the file is a raw physical image (file offset = pa)
 * gdb          HOST:PORT of a QEMU gdbstub (live)
 * mem_file, qmp  a QEMU's shared RAM file and its QMP socket (live)
 * no_cache     do not use the index cache of flattened kdump files
 */
struct ptl_source_spec {
    const char *path;
    bool raw;
    bool no_cache;
    const char *gdb;
    const char *mem_file;
    const char *qmp;
};

/*
 * ptl_source_open - open the source that spec names. A file is mapped and
 * recognised by its first bytes (ELF magic, kdump or flattened-kdump
 * signature, LiME magic); anything else needs raw.
 * @err: a one-line message on failure (errlen bytes)
 * returns: 0; 1 for a bad or unreadable source (s is left closed); 2 for a
 *          usage problem (a file of no known format without raw).
 */
int ptl_source_open(struct ptl_source *s, const struct ptl_source_spec *spec, char *err,
                    size_t errlen);

/*
 * ptl_source_from_buffer - recognise and parse a dump held in memory (buf
 * stays owned by the caller and must outlive s; s needs no initialising):
 * what ptl_source_open does after mapping the file. The fuzz harnesses and
 * unit tests start here.
 * returns: as ptl_source_open.
 */
int ptl_source_from_buffer(struct ptl_source *s, const uint8_t *buf, size_t size, bool raw,
                           char *err, size_t errlen);

/* ptl_source_close - release everything; safe on a zeroed or closed source. */
void ptl_source_close(struct ptl_source *s);

/*
 * ptl_source_phys - lib/paging's phys_to_virt for this source: a pointer
 * through which the bytes from pa to the end of its 4 KiB page can be read,
 * 8-byte aligned whenever pa is. The source's own pointer when it has one,
 * else a copy in the page cache, kept at the same address until
 * ptl_source_invalidate or ptl_source_close.
 * returns: the pointer; NULL if any byte of that span is not in the source.
 */
const void *ptl_source_phys(struct ptl_source *s, uint64_t pa);

/* ptl_source_read - n bytes at pa (ops->read). returns: 0; -1. */
int ptl_source_read(struct ptl_source *s, uint64_t pa, void *buf, size_t n);

/* ptl_source_in_ram - true if pa lies in one of the source's RAM ranges. */
bool ptl_source_in_ram(const struct ptl_source *s, uint64_t pa);

/* ptl_source_ram_end - the end of the highest RAM range (0 without RAM). */
uint64_t ptl_source_ram_end(const struct ptl_source *s);

/*
 * ptl_source_invalidate - forget every cached page (a live guest ran): the
 * pointers ptl_source_phys gave before are no longer valid.
 */
void ptl_source_invalidate(struct ptl_source *s);

/*
 * ptl_source_pause / ptl_source_resume - stop a live guest and reload its
 * vCPUs' registers (the page cache is emptied: memory may have changed), and
 * let it run again. Nothing for a dump.
 * returns: 0; -1 with the reason in s->err.
 */
int ptl_source_pause(struct ptl_source *s);
int ptl_source_resume(struct ptl_source *s);

/*
 * ptl_source_add_ram / ptl_source_add_cpu - for the readers: append a RAM
 * range or a zeroed vCPU (the layer owns and frees both arrays).
 * returns: 0 / the new vCPU; -1 / NULL when out of memory.
 */
int ptl_source_add_ram(struct ptl_source *s, uint64_t start, uint64_t end, bool partly_zero);
struct ptl_cpu *ptl_source_add_cpu(struct ptl_source *s);

/* ptl_source_sort_ram - sort ram[] by start (readers that collect out of order). */
void ptl_source_sort_ram(struct ptl_source *s);

/*
 * The live sources (src_gdb.c, src_shm.c): connect and fill s (ops with
 * pause and resume, ram, cpus after a first pause; s->live set).
 * returns: 0; -1 with a message in err.
 */
int ptl_gdb_source(struct ptl_source *s, const char *hostport, char *err, size_t errlen);
int ptl_shm_source(struct ptl_source *s, const char *mem_file, const char *qmp, char *err,
                   size_t errlen);

#endif /* PTLAB_SOURCE_H */
