/*
 * fuzz_ptlab_walk.c: libFuzzer harness for the ptlab host tool's walks over
 * hostile page tables: tools/ptlab's dump reader and target setup (included
 * directly) driving lib/paging's iteration (every merge policy, memo and
 * expansion flag), walks, and the QEMU / ptdump / crash formatters.
 *
 * Input: an ELF core (CR3 and mode from its QEMU note), or else a raw image
 * whose first byte picks the mode (2..5) and next four bytes the CR3, the
 * rest being physical memory from address 0.
 * The formatters expand every reference, so they run only when the expansion
 * budget check (ptl_expansion_within, the same check the tool makes) passes
 * with a small budget: the harness must never hang either.
 * Properties checked: ranges are non-empty, in increasing VA order (per
 * iteration) and canonical; every formatter write is readable.
 * Seed corpus: tests/fuzz/corpus/ptlab_walk/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_target.h"
#include <paging/pg_format.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond)
        abort();
}

struct order {
    const struct ptl_target *t;
    bool have;
    uint64_t last_end_lin;
    unsigned long n;
};

static int check_range(void *arg, const struct pg_range *r)
{
    struct order *o = arg;
    const struct pg_mode_desc *m = o->t->mode;
    check(r->size > 0 || (r->start == 0 && m->va_bits == 64));
    check(pg_is_canonical(m->levels, r->start));
    uint64_t lin = m->canonical ? r->start & ((1ULL << m->va_bits) - 1) : r->start;
    if (o->have)
        check(lin >= o->last_end_lin);
    o->have = true;
    o->last_end_lin = lin + r->size;
    return ++o->n > 200000;     /* enough: stop */
}

static void null_write(void *arg, const char *s, size_t n)
{
    volatile char c = 0;
    for (size_t i = 0; i < n; i++)
        c ^= s[i];
    (void)c;
    *(size_t *)arg += n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ptl_target t;
    uint8_t *buf = fuzz_open_target(&t, data, size, 20000);
    if (!buf)
        return 0;

    static const enum pg_merge merges[] = { PG_MERGE_NONE, PG_MERGE_RIGHTS, PG_MERGE_RAW };
    static const unsigned flags[] = { 0, PG_ITER_HOLES | PG_ITER_PHYS_CONTIG, PG_ITER_EXPAND_FIRST };
    for (unsigned i = 0; i < 3; i++) {
        struct pg_iter_opts o = { .merge = merges[i], .flags = flags[i] };
        struct order ord = { .t = &t };
        ptl_iterate(&t, &o, check_range, &ord);
    }

    uint64_t vas[4] = { 0, ~0ULL, 0xFFFFFFFF81000000ULL, 0 };
    if (size >= 16)
        memcpy(&vas[3], data + size - 8, 8);
    for (int i = 0; i < 4; i++) {
        struct pg_walk w;
        pg_walk(&t.ctx, t.root, vas[i], &w);
        check(w.nsteps <= PG_MAX_LEVELS);
        if (w.status == 0)
            check(w.page_size != 0);
    }

    size_t written = 0;
    struct pg_sink sink = { null_write, &written };
    if (ptl_expansion_within(&t, 0, 0, PG_ITER_EXPAND_SHARED | PG_ITER_EXPAND_CYCLES)) {
        pg_fmt_info_tlb(&t.ctx, t.root, &sink);
        pg_fmt_info_mem(&t.ctx, t.root, &sink);
        struct pg_ptdump_opts po = { .markers = pg_ptdump_markers_linux(t.ctx.levels) };
        pg_fmt_ptdump(&t.ctx, t.root, &po, &sink);
    }
    for (int i = 0; i < 4; i++) {
        struct pg_vtop_opts vo = { .user = i & 1, .pgd_va = 0xFFFFFFFF82000000ULL };
        pg_fmt_vtop(&t.ctx, t.root, vas[i], &vo, &sink);
    }
    ptl_target_close(&t);
    free(buf);
    return 0;
}
