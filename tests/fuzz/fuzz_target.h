/*
 * fuzz_target.h: the input the ptlab fuzz harnesses share, opened as the
 * tool opens a dump. The bytes are an ELF core (CR3 and mode from its QEMU
 * note) or else a raw image whose first byte picks the mode (2..5, from its
 * low two bits) and next four bytes the CR3, the rest being physical memory
 * from address 0. tools/ptlab's memory sources and target setup are
 * included directly (notes.c, source.c, dump.c, kdump.c, target.c), so a
 * harness is one file.
 * Header-only: include it once per harness.
 */
#ifndef TESTS_FUZZ_FUZZ_TARGET_H
#define TESTS_FUZZ_FUZZ_TARGET_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/ptlab/notes.c"
#include "../../tools/ptlab/source.c"
#include "../../tools/ptlab/dump.c"
#include "../../tools/ptlab/kdump.c"
#include "../../tools/ptlab/kdump_index.c"
#include "../../tools/ptlab/target.c"

/*
 * fuzz_open_target - open a private copy of data (the dump reader wants
 * memory that outlives the target) as a target, quietly.
 * @max_entries: the expansion budget (ptl_expansion_within)
 * returns: the copy (free it after ptl_target_close) with t open; NULL if the
 *          input is no usable dump (nothing to close or free).
 */
static uint8_t *fuzz_open_target(struct ptl_target *t, const uint8_t *data, size_t size,
                                 uint64_t max_entries)
{
    struct ptl_input_opts in;
    char err[256];
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return NULL;
    memcpy(buf, data, size);
    memset(&in, 0, sizeof(in));
    in.quiet = true;
    in.max_entries = max_entries;
    in.path = "fuzz";
    memset(t, 0, sizeof(*t));
    int rc = -1;
    if (ptl_source_from_buffer(&t->src, buf, size, false, err, sizeof(err)) == 0) {
        rc = ptl_target_init(t, &in);
    } else if (size >= 5 + 8) {
        uint32_t cr3;
        memcpy(&cr3, buf + 1, 4);
        in.mode = 2 + (buf[0] & 3);
        in.cr3 = cr3;
        in.have_cr3 = true;
        in.raw = true;
        memset(t, 0, sizeof(*t));
        if (ptl_source_from_buffer(&t->src, buf + 5, size - 5, true, err, sizeof(err)) == 0)
            rc = ptl_target_init(t, &in);
    }
    if (rc) {
        free(buf);
        return NULL;
    }
    return buf;
}

#endif /* TESTS_FUZZ_FUZZ_TARGET_H */
