/*
 * fuzz_linux_layout.c: libFuzzer harness for lib/paging's Linux layout
 * inference (pg_linux_layout_infer) over hostile page tables.
 *
 * Input: as fuzz_ptlab_walk.c's (fuzz_target.h): an ELF core, or a raw
 * image with the mode and CR3 in its first five bytes.
 * The inference runs three times: with the dump's segments as the RAM, with
 * no RAM ranges, and with one RAM range taken from the input's last bytes;
 * its memo grows on -PG_ENOSPC as the tool's does.
 * Properties checked: the verdict and every reason are valid; a tree that is
 * not Linux's has no regions and no known value; a Linux one has a known
 * page_offset_base equal to its layout's, regions in ascending order,
 * disjoint and non-empty, each found again by pg_linux_region_of; every
 * evidence text is NUL-terminated within its buffer. Termination is checked
 * by libFuzzer's timeout: random tables must not make the inference loop.
 * Seed corpus: tests/fuzz/corpus/linux_layout/ (scripts/ptlab-mkcore's
 * linux4, linux5, linux4-pti and a few cores that are not Linux's).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <paging/linux_layout.h>

#include "fuzz_target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond)
        abort();
}

static void check_why(enum pg_linux_why why, const uint64_t n[2])
{
    char buf[96];
    check((unsigned)why < PG_LW_NWHY_);
    size_t len = pg_linux_why_text(why, n, buf, sizeof(buf));
    check(strlen(buf) == (len < sizeof(buf) ? len : sizeof(buf) - 1));
}

static void check_result(const struct pg_linux_inferred *l)
{
    check(pg_linux_verdict_text(l->verdict)[0] != '?');
    for (int f = 0; f < PG_LF_NFACTS; f++) {
        check_why(l->value[f].why, l->value[f].n);
        check(l->value[f].known || l->value[f].value == 0);
    }
    if (l->verdict != PG_LV_LINUX) {
        check(l->nregions == 0);
        for (int f = 0; f < PG_LF_NFACTS; f++)
            check(!l->value[f].known && l->value[f].why == PG_LW_NOT_LINUX);
        return;
    }
    check(l->value[PG_LF_PAGE_OFFSET_BASE].known);
    check(l->layout.page_offset_base == l->value[PG_LF_PAGE_OFFSET_BASE].value);
    check(l->layout.vmalloc_base == l->value[PG_LF_VMALLOC_BASE].value);
    check(l->layout.vmemmap_base == l->value[PG_LF_VMEMMAP_BASE].value);
    check(l->nregions <= PG_LINUX_MAX_REGIONS);
    for (size_t i = 0; i < l->nregions; i++) {
        const struct pg_linux_region *r = &l->region[i];
        check(r->name && r->name[0]);
        check(r->end == 0 || r->start < r->end);
        check_why(r->why, r->n);
        if (i > 0)
            check(l->region[i - 1].end != 0 && l->region[i - 1].end <= r->start);
        check(pg_linux_region_of(l, r->start) == r);
    }
}

/* The inference with a memo grown on -PG_ENOSPC (up to a bound, as ptlab does). */
static void infer(struct ptl_target *t, const struct pg_ram_range *ram, size_t nram)
{
    size_t slots = 64;
    for (;;) {
        struct pg_memo_slot *memo = malloc(slots * sizeof(*memo));
        struct pg_linux_inferred *l = malloc(sizeof(*l));
        check(memo && l);
        int r = pg_linux_layout_infer(&t->ctx, t->root, ram, nram, memo, slots, l);
        if (r == 0)
            check_result(l);
        free(memo);
        free(l);
        if (r != -PG_ENOSPC || slots >= (1u << 20))
            return;
        slots *= 8;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ptl_target t;
    uint8_t *buf = fuzz_open_target(&t, data, size, 0);
    if (!buf)
        return 0;

    struct pg_ram_range ram[16];
    size_t nram = 0;
    for (size_t i = 0; i < t.src.nram && nram < 16; i++)
        ram[nram++] = (struct pg_ram_range){ t.src.ram[i].start, t.src.ram[i].end };
    infer(&t, ram, nram);
    infer(&t, NULL, 0);
    if (size >= 16) {
        struct pg_ram_range one;
        memcpy(&one.start, data + size - 16, 8);
        memcpy(&one.end, data + size - 8, 8);
        infer(&t, &one, 1);
    }
    ptl_target_close(&t);
    free(buf);
    return 0;
}
