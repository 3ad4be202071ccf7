/*
 * notes.h: the ELF notes of QEMU's dumps, shared by the readers of the
 * formats that carry them: the PT_NOTE segments of an ELF core, and the note
 * area of a kdump-compressed file's sub-header (QEMU writes the same notes
 * into both). Each "QEMU" note (type 0) holds one vCPU's QEMUCPUState, read
 * by its own size field (docs/formats.md, "QEMU ELF core").
 * Depends on: source.h.
 */
#ifndef PTLAB_NOTES_H
#define PTLAB_NOTES_H

#include <stddef.h>
#include <stdint.h>

#include "source.h"

/*
 * ptl_parse_notes - walk the notes in [p, p + len): each "QEMU" note adds a
 * vCPU to s (ptl_source_add_cpu); "CORE" NT_PRSTATUS notes are counted in
 * *nprstatus. The padding of the last note may be cut off.
 * @where: the file offset of p, for messages
 * returns: 0; -1 with a message in err (sizes that run past len, out of memory).
 */
int ptl_parse_notes(struct ptl_source *s, const uint8_t *p, uint64_t len, uint64_t where,
                    size_t *nprstatus, char *err, size_t errlen);

/* Little-endian loads, bounds checked by the caller. */
static inline uint16_t ptl_get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t ptl_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t ptl_get64(const uint8_t *p)
{
    return ptl_get32(p) | (uint64_t)ptl_get32(p + 4) << 32;
}

/* ptl_fail - format a message into err (errlen bytes; nothing if err is NULL). */
void ptl_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ptl_in_file - true if [off, off + len) lies inside a file of size bytes (no overflow). */
static inline int ptl_in_file(uint64_t off, uint64_t len, uint64_t size)
{
    return off <= size && len <= size - off;
}

#endif /* PTLAB_NOTES_H */
