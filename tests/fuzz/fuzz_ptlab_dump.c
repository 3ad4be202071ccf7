/*
 * fuzz_ptlab_dump.c: libFuzzer harness for the ptlab host tool's ELF-core
 * and raw-image reader (tools/ptlab/dump.c) behind the memory-source layer
 * (source.c, its page cache); the tool's files come through
 * source_harness.h, with check() and probe().
 *
 * The input is a whole file, parsed both as an ELF core and as a raw image
 * from an exactly sized heap copy (so ASan sees any read past its end).
 * Properties checked besides the sanitizers':
 *   - a failed parse leaves a message;
 *   - every segment's bytes lie inside the input and segments are sorted;
 *   - ptl_source_phys returns NULL or a pointer whose span to the end of the
 *     4 KiB page is readable, and agrees with ptl_source_read.
 * Seed corpus: tests/fuzz/corpus/ptlab_dump/ (scripts/ptlab-mkcore --corpus).
 */
#include "source_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    uint64_t seed = 0;
    memcpy(&seed, data, size < 8 ? size : 8);

    for (int raw = 0; raw < 2; raw++) {
        struct ptl_source s;
        char err[256] = "";
        if (ptl_source_from_buffer(&s, buf, size, raw != 0, err, sizeof(err))) {
            check(err[0] != '\0');
            continue;
        }
        const struct ptl_dump *d = s.priv;
        check(d->nsegs > 0 && s.nram == d->nsegs);
        for (size_t i = 0; i < d->nsegs; i++) {
            const struct ptl_segment *g = &d->segs[i];
            check(g->filesz <= g->memsz);
            if (g->filesz) {
                check(g->data >= buf && g->data + g->filesz <= buf + size);
            }
            if (i)
                check(d->segs[i - 1].pa <= g->pa);
            probe(&s, g->pa);
            probe(&s, g->pa + g->memsz / 2);
            probe(&s, g->pa + g->memsz - 1);
            probe(&s, (g->pa + g->memsz) & ~0xFFFULL);
            probe(&s, g->pa - 1);
            if (i > 64)
                break;
        }
        probe(&s, seed);
        probe(&s, seed & 0xFFFFF000);
        probe(&s, ~0ULL);
        for (size_t i = 0; i < s.ncpus; i++)
            check(!s.cpus[i].have_cr || s.cpus[i].state_size >= 432);
        ptl_source_close(&s);
    }
    free(buf);
    return 0;
}
