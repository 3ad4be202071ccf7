/*
 * fuzz_ptlab_dump.c: libFuzzer harness for the ptlab host tool's dump reader
 * (tools/ptlab/dump.c, included directly: scripts/fuzz-smoke builds harnesses
 * against lib/ only).
 *
 * The input is a whole file, parsed both as an ELF core and as a raw image
 * from an exactly sized heap copy (so ASan sees any read past its end).
 * Properties checked besides the sanitizers':
 *   - a failed parse leaves a message;
 *   - every segment's bytes lie inside the input and segments are sorted;
 *   - ptl_dump_phys returns NULL or a pointer whose span to the end of the
 *     4 KiB page is readable, and agrees with ptl_dump_read.
 * Seed corpus: tests/fuzz/corpus/ptlab_dump/ (scripts/ptlab-mkcore --corpus).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/ptlab/dump.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond)
        abort();
}

/* Read through ptl_dump_phys at pa and compare with ptl_dump_read. */
static void probe(struct ptl_dump *d, uint64_t pa)
{
    static uint8_t copy[4096];
    const uint8_t *p = ptl_dump_phys(d, pa);
    size_t span = 4096 - (size_t)(pa & 0xFFF);
    if (!p) {
        return;
    }
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < span; i++)
        sink ^= p[i];
    (void)sink;
    check(ptl_dump_read(d, pa, copy, span) == 0);
    check(memcmp(copy, p, span) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    uint64_t seed = 0;
    memcpy(&seed, data, size < 8 ? size : 8);

    for (int raw = 0; raw < 2; raw++) {
        struct ptl_dump d;
        char err[256] = "";
        if (ptl_dump_parse(&d, buf, size, raw != 0, err, sizeof(err))) {
            check(err[0] != '\0');
            continue;
        }
        check(d.nsegs > 0);
        for (size_t i = 0; i < d.nsegs; i++) {
            const struct ptl_segment *s = &d.segs[i];
            check(s->filesz <= s->memsz);
            if (s->filesz) {
                check(s->data >= buf && s->data + s->filesz <= buf + size);
            }
            if (i)
                check(d.segs[i - 1].pa <= s->pa);
            probe(&d, s->pa);
            probe(&d, s->pa + s->memsz / 2);
            probe(&d, s->pa + s->memsz - 1);
            probe(&d, (s->pa + s->memsz) & ~0xFFFULL);
            probe(&d, s->pa - 1);
            if (i > 64)
                break;
        }
        probe(&d, seed);
        probe(&d, seed & 0xFFFFF000);
        probe(&d, ~0ULL);
        for (size_t i = 0; i < d.ncpus; i++)
            check(!d.cpus[i].have_cr || d.cpus[i].state_size >= 432);
        ptl_dump_close(&d);
    }
    free(buf);
    return 0;
}
