/*
 * unlz4.h: decompressor for the LZ4 legacy frame format (`lz4 -l`).
 *
 * Stream layout: a 4-byte little-endian magic 0x184C2102, then any number of
 * blocks, each a 4-byte little-endian compressed size followed by that many
 * bytes of raw LZ4 block data. Every block decodes independently to at most
 * 8 MiB. The stream ends where the input ends. A block size equal to the magic
 * marks the start of a concatenated stream and is skipped.
 *
 * Freestanding: depends only on <stddef.h> and memcpy/memset (paging/pg_env.h).
 */
#ifndef LIB_UNLZ4_H
#define LIB_UNLZ4_H

#include <stddef.h>

#define UNLZ4_LEGACY_MAGIC     0x184C2102u
#define UNLZ4_LEGACY_BLOCK_MAX (8u << 20)   /* decoded bytes per block */

/* Error codes returned by unlz4() (all negative; 0 is success). */
#define UNLZ4_OK            0
#define UNLZ4_EMAGIC      (-1) /* the stream does not start with the legacy magic */
#define UNLZ4_ETRUNC      (-2) /* block header/data past the input end, or a
                                  literal run / match offset past the block end */
#define UNLZ4_EOVERFLOW   (-3) /* output would exceed out_cap */
#define UNLZ4_EOFFSET     (-4) /* match offset is zero or reaches before the start
                                  of the current block's output */
#define UNLZ4_EBLOCKSIZE  (-5) /* a block decodes (or could decode) to > 8 MiB */
#define UNLZ4_ETRAILING   (-6) /* 1-3 trailing bytes, too short for a block header */

/*
 * unlz4: decompress a whole legacy-frame stream.
 *   in, in_len    the compressed stream; never read outside [in, in+in_len)
 *   out, out_cap  the destination; never written outside [out, out+out_cap)
 *   out_len       set to the number of bytes written (also on error: bytes
 *                 produced before the error was detected); may be NULL
 * Blocks are independent: a match may not reach into an earlier block's output.
 * returns:
 *   0                 success, *out_len = decompressed size
 *   UNLZ4_EMAGIC      in_len < 4 or wrong magic
 *   UNLZ4_ETRUNC      truncated block header, block data or sequence
 *                     (including an empty block or one ending in a match)
 *   UNLZ4_EOVERFLOW   output does not fit in out_cap
 *   UNLZ4_EOFFSET     zero match offset, or one reaching before the block start
 *   UNLZ4_EBLOCKSIZE  a block's output exceeds UNLZ4_LEGACY_BLOCK_MAX, or its
 *                     compressed size exceeds the LZ4 bound for that size
 *   UNLZ4_ETRAILING   1-3 bytes left after the last block
 */
int unlz4(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len);

/*
 * unlz4_strerror: a static English description of an unlz4() return value.
 * returns: a non-NULL string ("success" for 0, "unknown error" if unknown)
 */
const char *unlz4_strerror(int err);

#endif /* LIB_UNLZ4_H */
