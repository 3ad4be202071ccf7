/*
 * kdump.h: the kdump-compressed (diskdump) reader of the ptlab host tool,
 * one of the memory sources of source.h (ptl_kdump_source).
 *
 * Reads the files `dump-guest-memory -z|-l|-s` and `virsh dump --format
 * kdump-*` write (docs/formats.md, "kdump-compressed"), in both forms:
 *   - flattened (what QEMU 7.2 writes): a "makedumpfile" header, then
 *     big-endian {offset, size} records whose data, put at their offsets,
 *     make the file; the reader indexes the records and reads through them
 *     in place, rebuilding nothing;
 *   - plain (what `makedumpfile -R` rebuilds, and newer QEMUs write).
 * The file: disk_dump_header (block 0), kdump_sub_header (block 1: the ELF
 * notes, where QEMU puts each vCPU's "QEMU" note with CR0/CR3/CR4), the two
 * page bitmaps, one page_desc per dumped page in pfn order, page data
 * compressed one page at a time with zlib, LZO, snappy or zstd (each page
 * says which), or stored. Pages are decompressed on demand into the source
 * layer's page cache.
 *
 * Every offset, size and count is checked against the file: a truncated or
 * corrupt file, an unknown compression, gives a message, never a read out
 * of bounds; a page whose data is corrupt reads as unreadable.
 * Depends on: source.h, notes.h, zlib, liblzo2, libsnappy, libzstd.
 */
#ifndef PTLAB_KDUMP_H
#define PTLAB_KDUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "source.h"

/* The first bytes of the two forms. */
#define PTL_KDUMP_SIGNATURE     "KDUMP   "       /* 8 bytes */
#define PTL_KDUMP_FLAT_SIGNATURE "makedumpfile"  /* 12 bytes, NUL-padded to 16 */

/* True if buf (size bytes) starts like a kdump-compressed file of either form. */
bool ptl_is_kdump(const uint8_t *buf, size_t size);

/*
 * ptl_kdump_source - fill s from the kdump-compressed file in buf (which
 * outlives s): RAM ranges from the dumpable-page bitmap, vCPUs from the
 * QEMU notes, the format named with its form and compression.
 * @fd: the open file that buf maps (read while indexing), or -1
 * @cache: a flattened file's index may come from and go to the index cache
 *         (kdump_index.h; only with fd)
 * returns: 0; -1 with a message in err (s may hold a partial state: the
 *          caller closes it).
 */
int ptl_kdump_source(struct ptl_source *s, const uint8_t *buf, size_t size, int fd, bool cache,
                     char *err, size_t errlen);

#endif /* PTLAB_KDUMP_H */
