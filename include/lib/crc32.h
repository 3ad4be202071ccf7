/*
 * crc32.h: CRC-32 as used by zlib, gzip, PNG and Ethernet (reflected
 * polynomial 0xEDB88320, initial value and final XOR 0xFFFFFFFF).
 *
 * Freestanding; dependencies: <stddef.h>, <stdint.h>.
 */
#ifndef LIB_CRC32_H
#define LIB_CRC32_H

#include <stddef.h>
#include <stdint.h>

/*
 * crc32_le: extend the CRC `crc` of some data with buf[0 .. len), exactly like
 * zlib's crc32(crc, buf, len). Start with crc = 0; chaining holds:
 * crc32_le(crc32_le(0, a, na), b, nb) == crc32_le(0, a||b, na + nb).
 * buf may be NULL when len == 0.
 * returns:
 *   the updated CRC (crc32_le(0, "123456789", 9) == 0xCBF43926)
 */
uint32_t crc32_le(uint32_t crc, const void *buf, size_t len);

#endif /* LIB_CRC32_H */
