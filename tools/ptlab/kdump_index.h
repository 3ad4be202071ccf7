/*
 * kdump_index.h: the persistent index of flattened kdump files (the cache
 * kdump.c reads before indexing a flattened file record by record).
 *
 * A flattened file must be indexed before its first page can be read: one
 * 16-byte {offset, size} header per record, read one at a time (thousands
 * for a guest of a few GiB). The cache keeps those headers, as the file
 * holds them and in file order, in
 * ${XDG_CACHE_HOME:-$HOME/.cache}/ptlab/kdump-index/DEV-INODE.idx, keyed by
 * the file's device, inode, size, modification and change times and a
 * CRC-32 of its first bytes, with a CRC-32 of its own contents. This module
 * stores and checks that; kdump.c checks the headers themselves against the
 * file (docs/formats.md, "kdump-compressed").
 * Nothing here is an error: a cache that cannot be read or written is no
 * cache. PTLAB_NO_CACHE (set, not empty) disables it.
 * Depends on: libc, zlib (crc32).
 */
#ifndef PTLAB_KDUMP_INDEX_H
#define PTLAB_KDUMP_INDEX_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PTL_KDIDX_HEAD      16u     /* one record header */
#define PTL_KDIDX_MAX_FILES 64      /* index files kept; the oldest go first */

/*
 * struct ptl_kdidx - the cache slot of one open file.
 * path         its index file
 * key          the file's identity: device, inode, size, mtime s/ns, ctime
 *              s/ns, a CRC-32 of its first 16 KiB
 */
struct ptl_kdidx {
    char path[PATH_MAX];
    uint64_t key[8];
};

/*
 * ptl_kdidx_init - the cache slot of the file open as fd, which buf (size
 * bytes) maps.
 * returns: 0; -1 if there is no cache (disabled, no cache directory, fd
 *          not a regular file).
 */
int ptl_kdidx_init(struct ptl_kdidx *x, int fd, const uint8_t *buf, size_t size);

/*
 * ptl_kdidx_load - the record headers saved for this file (a malloc'd
 * array of *n * PTL_KDIDX_HEAD bytes for the caller to free), when the
 * index file exists, is whole and its key is this file's.
 * returns: the array; NULL if there is none that fits.
 */
uint8_t *ptl_kdidx_load(const struct ptl_kdidx *x, size_t *n);

/*
 * ptl_kdidx_save - save n record headers for this file: written to a
 * temporary file, renamed over the index file; the directory is created if
 * missing and the oldest index files beyond PTL_KDIDX_MAX_FILES removed.
 * Failure is silent.
 */
void ptl_kdidx_save(const struct ptl_kdidx *x, const uint8_t *heads, size_t n);

#endif /* PTLAB_KDUMP_INDEX_H */
