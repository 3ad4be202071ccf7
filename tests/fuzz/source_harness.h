/*
 * source_harness.h: what the harnesses of the ptlab host tool's memory
 * sources share (fuzz_ptlab_dump.c, fuzz_ptlab_kdump.c, fuzz_ptlab_lime.c):
 * the tool's reader files, included directly (scripts/fuzz-smoke builds
 * harnesses against lib/ only), check() and probe().
 */
#ifndef PTLAB_FUZZ_SOURCE_HARNESS_H
#define PTLAB_FUZZ_SOURCE_HARNESS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/ptlab/notes.c"
#include "../../tools/ptlab/source.c"
#include "../../tools/ptlab/dump.c"
#include "../../tools/ptlab/kdump.c"
#include "../../tools/ptlab/kdump_index.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond)
        abort();
}

/*
 * probe - ptl_source_phys at pa returns NULL, or a span to the end of pa's
 * 4 KiB page that is readable and agrees with ptl_source_read.
 */
static void probe(struct ptl_source *s, uint64_t pa)
{
    static uint8_t copy[4096];
    const uint8_t *p = ptl_source_phys(s, pa);
    size_t span = 4096 - (size_t)(pa & 0xFFF);
    if (!p)
        return;
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < span; i++)
        sink ^= p[i];
    (void)sink;
    check(ptl_source_read(s, pa, copy, span) == 0);
    check(memcmp(copy, p, span) == 0);
}

/*
 * fuzz_source_file - the input as a whole file (an exactly sized heap copy,
 * so that ASan sees any read past its end) opened as a memory source: a
 * failed open leaves a message; the RAM ranges are non-empty and sorted
 * (disjoint unless may_overlap: LiME's may overlap); the first and last
 * bytes of each range (at most 64) and a few addresses from the input are
 * probed.
 */
static inline int fuzz_source_file(const uint8_t *data, size_t size, int may_overlap)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    struct ptl_source s;
    char err[256] = "";
    if (ptl_source_from_buffer(&s, buf, size, false, err, sizeof(err))) {
        check(err[0] != '\0');
        free(buf);
        return 0;
    }
    for (size_t i = 0; i < s.nram && i < 64; i++) {
        const struct ptl_ram *r = &s.ram[i];
        check(r->start < r->end);
        if (i)
            check(may_overlap ? s.ram[i - 1].start <= r->start : s.ram[i - 1].end <= r->start);
        probe(&s, r->start);
        probe(&s, r->end - 8);
    }
    uint64_t seed = 0;
    memcpy(&seed, data, size < 8 ? size : 8);
    probe(&s, seed);
    probe(&s, seed << 12);
    probe(&s, 0);
    ptl_source_close(&s);
    free(buf);
    return 0;
}

#endif
