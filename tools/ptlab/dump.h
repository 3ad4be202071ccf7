/*
 * dump.h: the memory-dump reader of the ptlab host tool.
 *
 * Reads QEMU `dump-guest-memory` ELF cores (ELF32 or ELF64: guest-physical
 * memory from the PT_LOAD segments, per-vCPU control registers from the
 * "QEMU" notes, parsed by their size field) and raw physical memory images
 * (file offset = physical address). The file is mapped read-only; nothing is
 * copied except a page that is partly backed by the file (bytes past p_filesz
 * read as zero, as the ELF rules say).
 *
 * Every structure of the file is bounds-checked: a truncated, corrupt or
 * hostile file gives an error message, never an out-of-bounds read.
 * Depends on: libc only (no lib/paging), so the fuzz harness can include
 * dump.c directly.
 */
#ifndef PTLAB_DUMP_H
#define PTLAB_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One range of guest-physical memory: [pa, pa + memsz); bytes past filesz read as zero. */
struct ptl_segment {
    uint64_t pa;
    uint64_t memsz;
    uint64_t filesz;
    const uint8_t *data;    /* file bytes of pa; NULL when filesz == 0 */
    uint64_t cover_end;     /* max(pa + memsz) over this and all earlier segments (sorted) */
};

/* The state of one vCPU from its "QEMU" note (fields absent from a short note stay 0). */
struct ptl_cpu {
    uint32_t version;
    uint32_t state_size;    /* the note's own size field */
    bool have_cr;           /* CR0..CR4 were inside the note */
    uint64_t cr0, cr2, cr3, cr4;
    uint64_t rip, rsp, rflags;
    bool have_rip;
};

/* A private copy of a page that the file backs only in part. */
struct ptl_page_copy {
    uint64_t pa;
    uint8_t *data;
};

/* ELF machine values the reader cares about. */
#define PTL_EM_386      3
#define PTL_EM_X86_64   62

/*
 * struct ptl_dump - an open dump.
 * map, size        the whole file, mapped read-only (or a caller's buffer)
 * is_elf           ELF core (else a raw image)
 * elf_class        1 (ELF32) or 2 (ELF64); 0 for raw
 * machine          e_machine (PTL_EM_*), 0 for raw
 * segs, nsegs      physical memory, sorted by pa
 * cpus, ncpus      vCPU states in note order (empty without QEMU notes)
 * nprstatus        number of "CORE"/NT_PRSTATUS notes seen
 * phys_end         highest pa + memsz over all segments
 */
struct ptl_dump {
    const uint8_t *map;
    size_t size;
    bool mapped;            /* map came from mmap (ptl_dump_close unmaps it) */
    bool is_elf;
    int elf_class;
    unsigned machine;
    struct ptl_segment *segs;
    size_t nsegs;
    struct ptl_cpu *cpus;
    size_t ncpus;
    size_t nprstatus;
    uint64_t phys_end;
    size_t last_seg;        /* lookup cache */
    bool overlapping;       /* some PT_LOADs overlap (paging dumps): no cache */
    uint8_t *zero_page;     /* served for pages in a segment's zero tail */
    struct ptl_page_copy *copies;   /* hash table of pages copied once (partly backed,
                                     * crossing segments, or misaligned in the file) */
    size_t ncopies, copies_cap;
};

/*
 * ptl_dump_open - map the file at path and parse it.
 * @raw: treat the file as a raw physical image even if it looks like ELF
 * @err: receives a one-line message on failure (errlen bytes)
 * returns: 0; -1 on failure (d is left closed, nothing to free).
 */
int ptl_dump_open(struct ptl_dump *d, const char *path, bool raw, char *err, size_t errlen);

/*
 * ptl_dump_parse - parse a dump already in memory (buf stays owned by the
 * caller and must outlive d). Used by ptl_dump_open and by the fuzzer.
 * An input that does not start with the ELF magic is a raw image when raw
 * is true, an error otherwise.
 * returns: 0; -1 with a message in err.
 */
int ptl_dump_parse(struct ptl_dump *d, const uint8_t *buf, size_t size, bool raw, char *err,
                   size_t errlen);

/* ptl_dump_close - release everything; safe on a zeroed or closed dump. */
void ptl_dump_close(struct ptl_dump *d);

/*
 * ptl_dump_phys - a pointer to guest-physical pa through which the bytes
 * from pa to the end of its 4 KiB page can be read.
 * returns: the pointer, 8-byte aligned whenever pa is, valid until
 *          ptl_dump_close (a page the file backs only in part, or at a
 *          misaligned file offset, is copied once and kept); NULL if any byte
 *          of that span lies outside the dump's memory.
 */
const void *ptl_dump_phys(struct ptl_dump *d, uint64_t pa);

/*
 * ptl_dump_read - copy n bytes of guest-physical memory at pa into buf.
 * returns: 0; -1 if any byte is outside the dump's memory.
 */
int ptl_dump_read(struct ptl_dump *d, uint64_t pa, void *buf, size_t n);

/* ptl_dump_in_ram - true if pa lies inside some segment. */
bool ptl_dump_in_ram(const struct ptl_dump *d, uint64_t pa);

#endif /* PTLAB_DUMP_H */
