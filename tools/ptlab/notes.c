/*
 * notes.c: QEMU's ELF notes, for the ELF and kdump readers (see notes.h).
 * Depends on: notes.h, source.h, libc.
 */
#include "notes.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define NT_PRSTATUS_    1u
#define QEMU_NOTE_TYPE_ 0u

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

void ptl_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Decode the descriptor of a "QEMU" note into a new vCPU of s. returns: 0; -1. */
static int add_qemu_cpu(struct ptl_source *s, const uint8_t *desc, uint64_t descsz)
{
    struct ptl_cpu *c = ptl_source_add_cpu(s);
    if (!c)
        return -1;
    if (descsz < 8)
        return 0;
    c->version = ptl_get32(desc + QS_VERSION);
    c->state_size = ptl_get32(desc + QS_SIZE);
    uint64_t size = c->state_size < descsz ? c->state_size : descsz;
#define HAVE_(off) ((uint64_t)(off) + 8 <= size)
    if (HAVE_(QS_RFLAGS)) {
        c->rip = ptl_get64(desc + QS_RIP);
        c->rflags = ptl_get64(desc + QS_RFLAGS);
        c->rsp = ptl_get64(desc + QS_RSP);
        c->have_rip = true;
    }
    if (HAVE_(QS_CR4)) {
        c->cr0 = ptl_get64(desc + QS_CR0);
        c->cr2 = ptl_get64(desc + QS_CR2);
        c->cr3 = ptl_get64(desc + QS_CR3);
        c->cr4 = ptl_get64(desc + QS_CR4);
        c->have_cr = true;
    }
#undef HAVE_
    return 0;
}

/* True if the note's name (namesz bytes at name) is want, with or without its NUL. */
static bool note_named(const uint8_t *name, uint64_t namesz, const char *want)
{
    size_t n = strlen(want);
    return (namesz == n + 1 || namesz == n) && !memcmp(name, want, namesz == n ? n : n + 1);
}

int ptl_parse_notes(struct ptl_source *s, const uint8_t *p, uint64_t len, uint64_t where,
                    size_t *nprstatus, char *err, size_t errlen)
{
    uint64_t pos = 0;
    while (len - pos >= 12) {
        uint64_t namesz = ptl_get32(p + pos), descsz = ptl_get32(p + pos + 4);
        uint32_t type = ptl_get32(p + pos + 8);
        uint64_t name_off = pos + 12;
        uint64_t desc_off = name_off + ((namesz + 3) & ~3ULL);
        uint64_t next = desc_off + ((descsz + 3) & ~3ULL);
        if (desc_off > len || descsz > len - desc_off) {
            ptl_fail(err, errlen, "corrupt ELF note at file offset %#llx: sizes run past the "
                     "note segment", (unsigned long long)(where + pos));
            return -1;
        }
        const uint8_t *name = p + name_off;
        if (note_named(name, namesz, "QEMU") && type == QEMU_NOTE_TYPE_) {
            if (add_qemu_cpu(s, p + desc_off, descsz)) {
                ptl_fail(err, errlen, "out of memory");
                return -1;
            }
        } else if (note_named(name, namesz, "CORE") && type == NT_PRSTATUS_) {
            (*nprstatus)++;
        }
        if (next > len)
            break;      /* last note's padding cut off: tolerated */
        pos = next;
    }
    return 0;
}
