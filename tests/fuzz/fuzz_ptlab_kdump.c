/*
 * fuzz_ptlab_kdump.c: libFuzzer harness for the ptlab host tool's
 * kdump-compressed reader (tools/ptlab/kdump.c, both forms, every
 * compression) behind the memory-source layer; the tool's files are
 * included directly: scripts/fuzz-smoke builds harnesses against lib/ only.
 *
 * The input is a whole file, from an exactly sized heap copy (so ASan sees
 * any read past its end). Properties checked besides the sanitizers':
 *   - a failed open leaves a message;
 *   - RAM ranges are sorted, non-empty and page-aligned;
 *   - ptl_source_phys returns NULL or a readable span that agrees with
 *     ptl_source_read, for the first and last page of each range (at most
 *     64 ranges) and a few addresses from the input.
 * Seed corpus: tests/fuzz/corpus/ptlab_kdump/ (small cores of
 * scripts/ptlab-mkcore through scripts/ptlab-convert kdump, each method and form).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/ptlab/notes.c"
#include "../../tools/ptlab/source.c"
#include "../../tools/ptlab/dump.c"
#include "../../tools/ptlab/kdump.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond)
        abort();
}

static void probe(struct ptl_source *s, uint64_t pa)
{
    static uint8_t copy[4096];
    const uint8_t *p = ptl_source_phys(s, pa);
    size_t span = 4096 - (size_t)(pa & 0xFFF);
    if (!p)
        return;
    check(ptl_source_read(s, pa, copy, span) == 0);
    check(memcmp(copy, p, span) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
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
            check(s.ram[i - 1].end <= r->start);
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
