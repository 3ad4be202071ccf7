/*
 * dump.h: the reader of the ptlab host tool for the dumps that store memory
 * uncompressed, memory sources of source.h (ptl_dump_source).
 *
 * Reads QEMU `dump-guest-memory` ELF cores (ELF32 or ELF64: guest-physical
 * memory from the PT_LOAD segments, per-vCPU control registers from the
 * "QEMU" notes, parsed by their size field), LiME images (a 32-byte header
 * before each range of memory; no registers), and raw physical memory
 * images (file offset = physical address). Reads come straight from the file's
 * bytes (mapped by the source layer); a page the file backs only in part, or
 * at a misaligned offset, is left to the layer's page cache (bytes past
 * p_filesz read as zero, as the ELF rules say).
 *
 * Every structure of the file is bounds-checked: a truncated, corrupt or
 * hostile file gives an error message, never an out-of-bounds read.
 * Depends on: source.h, notes.h; libc only (no lib/paging), so the fuzz
 * harness can include dump.c directly.
 */
#ifndef PTLAB_DUMP_H
#define PTLAB_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "source.h"

/* One range of guest-physical memory: [pa, pa + memsz); bytes past filesz read as zero. */
struct ptl_segment {
    uint64_t pa;
    uint64_t memsz;
    uint64_t filesz;
    const uint8_t *data;    /* file bytes of pa; NULL when filesz == 0 */
    uint64_t cover_end;     /* max(pa + memsz) over this and all earlier segments (sorted) */
};

/* What a dump file is. */
enum ptl_dump_kind { PTL_DUMP_ELF, PTL_DUMP_LIME, PTL_DUMP_RAW };

/* The magic of a LiME range header ("EMiL" in the file). */
#define PTL_LIME_MAGIC  0x4C694D45u

/* ELF machine values the reader cares about. */
#define PTL_EM_386      3
#define PTL_EM_X86_64   62

/*
 * struct ptl_dump - an open ELF core or raw image.
 * map, size        the whole file (owned by the caller)
 * kind             ELF core, LiME or raw image
 * is_elf           ELF core
 * elf_class        1 (ELF32) or 2 (ELF64); 0 for raw
 * machine          e_machine (PTL_EM_*), 0 for raw
 * segs, nsegs      physical memory, sorted by pa
 * nprstatus        number of "CORE"/NT_PRSTATUS notes seen
 * phys_end         highest pa + memsz over all segments
 */
struct ptl_dump {
    const uint8_t *map;
    size_t size;
    enum ptl_dump_kind kind;
    bool is_elf;
    int elf_class;
    unsigned machine;
    struct ptl_segment *segs;
    size_t nsegs;
    size_t nprstatus;
    uint64_t phys_end;
    size_t last_seg;        /* lookup cache */
    bool overlapping;       /* some PT_LOADs overlap (paging dumps): no cache */
};

/*
 * ptl_dump_parse - parse a dump of the given kind in memory (buf stays owned
 * by the caller and must outlive d). The vCPUs of an ELF core's QEMU notes
 * are added to s.
 * returns: 0; -1 with a message in err (d is left closed).
 */
int ptl_dump_parse(struct ptl_dump *d, struct ptl_source *s, const uint8_t *buf, size_t size,
                   enum ptl_dump_kind kind, char *err, size_t errlen);

/*
 * ptl_dump_source - fill s from the dump of the given kind in buf (which
 * outlives s): its segments as RAM ranges, its vCPUs, its format line.
 * returns: 0; -1 with a message in err (the caller closes s).
 */
int ptl_dump_source(struct ptl_source *s, const uint8_t *buf, size_t size,
                    enum ptl_dump_kind kind, char *err, size_t errlen);

/* True if buf starts with a LiME range header's magic. */
bool ptl_is_lime(const uint8_t *buf, size_t size);

/* ptl_dump_close - release the segments; safe on a zeroed or closed dump. */
void ptl_dump_close(struct ptl_dump *d);

/*
 * ptl_dump_map_page - the source's map_page (source.h): a pointer into the
 * file for the bytes from pa to the end of its 4 KiB page.
 * returns: 0 with *p set when the file holds all of them, in one segment, at
 *          an 8-byte aligned offset; 1 when pa is in the dump but the bytes
 *          need a copy (zero tail, partly backed, crossing segments,
 *          misaligned); -1 when pa is in no segment.
 */
int ptl_dump_map_page(struct ptl_dump *d, uint64_t pa, const void **p);

/*
 * ptl_dump_read - copy n bytes of guest-physical memory at pa into buf.
 * returns: 0; -1 if any byte is outside the dump's memory.
 */
int ptl_dump_read(struct ptl_dump *d, uint64_t pa, void *buf, size_t n);

#endif /* PTLAB_DUMP_H */
