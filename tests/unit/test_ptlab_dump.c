/*
 * test_ptlab_dump.c: unit tests for the ptlab host tool's ELF-core and raw
 * image reader (tools/ptlab/dump.c) behind the memory-source layer
 * (source.c, with its page cache for the pages that need a copy); the
 * tool's files are included directly: the generic unit-test rule links only
 * the libraries.
 *
 * Cores are built here in memory (ELF64, one PT_NOTE with QEMU notes, then
 * PT_LOADs), so each test states exactly the layout it exercises: sorted
 * segments, zero tails, pages the file backs only in part, overlapping
 * PT_LOADs, file offsets that are not 8-byte aligned, notes by their size
 * field, truncation at every length, raw images.
 *
 * Dependencies: Criterion.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ptlab_sources.h"

struct seg_spec {
    uint64_t pa, memsz;
    const uint8_t *data;
    uint64_t filesz;
};

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* A QEMU note descriptor of `size` bytes with CR0/CR3/CR4 where they fit. */
static size_t qemu_note(uint8_t *out, uint32_t size, uint64_t cr3, uint64_t cr4)
{
    uint8_t desc[512] = { 0 };
    put32(desc, 1);
    put32(desc + 4, size);
    put64(desc + 392, 0x80050033);
    put64(desc + 416, cr3);
    put64(desc + 424, cr4);
    put32(out, 5);
    put32(out + 4, size);
    put32(out + 8, 0);
    memcpy(out + 12, "QEMU\0\0\0", 8);
    memcpy(out + 20, desc, size);
    return 20 + ((size + 3) & ~3u);
}

/*
 * build_core - an ELF64 core with one QEMU note (note_size bytes) and the
 * segments; `misalign` extra bytes before the first segment's data shift
 * every file offset. Returns a malloc'd buffer and its size in *len.
 */
static uint8_t *build_core(const struct seg_spec *segs, size_t n, uint32_t note_size,
                           size_t misalign, size_t *len)
{
    size_t nph = 1 + n;
    uint8_t notes[600];
    size_t nlen = qemu_note(notes, note_size, 0x1000, 0x20);
    size_t off = 64 + nph * 56;
    size_t note_off = off;
    off += nlen + misalign;
    size_t total = off;
    for (size_t i = 0; i < n; i++)
        total += segs[i].filesz;
    uint8_t *b = calloc(1, total);
    memcpy(b, "\177ELF\2\1\1", 7);
    put16(b + 16, 4);
    put16(b + 18, 62);
    put32(b + 20, 1);
    put64(b + 32, 64);
    put16(b + 52, 64);
    put16(b + 54, 56);
    put16(b + 56, (uint16_t)nph);
    uint8_t *ph = b + 64;
    put32(ph, 4);
    put64(ph + 8, note_off);
    put64(ph + 32, nlen);
    put64(ph + 40, nlen);
    memcpy(b + note_off, notes, nlen);
    for (size_t i = 0; i < n; i++) {
        ph = b + 64 + (i + 1) * 56;
        put32(ph, 1);
        put64(ph + 8, off);
        put64(ph + 16, segs[i].pa);
        put64(ph + 24, segs[i].pa);
        put64(ph + 32, segs[i].filesz);
        put64(ph + 40, segs[i].memsz);
        if (segs[i].filesz)
            memcpy(b + off, segs[i].data, segs[i].filesz);
        off += segs[i].filesz;
    }
    *len = total;
    return b;
}

static uint8_t pattern[3 * 4096];

static void fill_pattern(void)
{
    for (size_t i = 0; i < sizeof(pattern); i++)
        pattern[i] = (uint8_t)(i * 7 + 1);
}

/*
 * parse_core - build_core, then open it as a source *d, which must succeed.
 * Returns the core's buffer, to free after ptl_source_close(d).
 */
static uint8_t *parse_core(const struct seg_spec *segs, size_t n, uint32_t note_size,
                           size_t misalign, struct ptl_source *d)
{
    size_t len;
    char err[256];
    uint8_t *b = build_core(segs, n, note_size, misalign, &len);
    cr_assert_eq(ptl_source_from_buffer(d, b, len, false, err, sizeof(err)), 0, "%s", err);
    return b;
}

/* ptl_source_phys and ptl_source_read agree at pa (or both fail). */
static void check_consistent(struct ptl_source *d, uint64_t pa)
{
    uint8_t copy[4096];
    size_t span = 4096 - (pa & 0xFFF);
    const uint8_t *p = ptl_source_phys(d, pa);
    int r = ptl_source_read(d, pa, copy, span);
    if (!p) {
        return;
    }
    cr_assert_eq(r, 0, "phys ok but read failed at %#llx", (unsigned long long)pa);
    cr_assert_eq(memcmp(p, copy, span), 0, "phys and read disagree at %#llx",
                 (unsigned long long)pa);
    if (!(pa & 7))
        cr_assert_eq((uintptr_t)p & 7, 0, "misaligned pointer for %#llx", (unsigned long long)pa);
}

Test(ptlab_dump, segments_sorted_and_notes)
{
    fill_pattern();
    struct seg_spec s[] = {
        { 0x3000, 0x1000, pattern, 0x1000 },
        { 0x1000, 0x1000, pattern + 4096, 0x1000 },
    };
    struct ptl_source d;
    uint8_t *b = parse_core(s, 2, 440, 0, &d);
    cr_assert_eq(d.nram, 2);
    cr_assert_eq(d.ram[0].start, 0x1000);
    cr_assert_eq(d.ncpus, 1);
    cr_assert(d.cpus[0].have_cr);
    cr_assert_eq(d.cpus[0].cr3, 0x1000);
    cr_assert_eq(d.cpus[0].state_size, 440);
    const uint8_t *p = ptl_source_phys(&d, 0x1010);
    cr_assert_eq(memcmp(p, pattern + 4096 + 0x10, 16), 0);
    cr_assert_null(ptl_source_phys(&d, 0x2000));
    cr_assert_null(ptl_source_phys(&d, 0x4000));
    cr_assert(ptl_source_in_ram(&d, 0x3FFF));
    ptl_source_close(&d);
    free(b);
}

Test(ptlab_dump, note_size_field)
{
    fill_pattern();
    struct seg_spec s[] = { { 0x1000, 0x1000, pattern, 0x1000 } };
    uint32_t sizes[] = { 200, 432, 440, 512 };
    for (size_t i = 0; i < 4; i++) {
        struct ptl_source d;
        uint8_t *b = parse_core(s, 1, sizes[i], 0, &d);
        cr_assert_eq(d.cpus[0].have_cr, sizes[i] >= 432, "size %u", sizes[i]);
        if (sizes[i] >= 432)
            cr_assert_eq(d.cpus[0].cr4, 0x20);
        ptl_source_close(&d);
        free(b);
    }
}

Test(ptlab_dump, zero_tail_and_partial_pages)
{
    fill_pattern();
    /* 0x1000: 0x1800 bytes in the file, 0x3000 in memory. */
    struct seg_spec s[] = { { 0x1000, 0x3000, pattern, 0x1800 } };
    struct ptl_source d;
    uint8_t *b = parse_core(s, 1, 440, 0, &d);
    const uint8_t *full = ptl_source_phys(&d, 0x1000);
    cr_assert_eq(memcmp(full, pattern, 4096), 0);
    const uint8_t *part = ptl_source_phys(&d, 0x2000);     /* half file, half zero */
    cr_assert_not_null(part);
    cr_assert_eq(memcmp(part, pattern + 4096, 0x800), 0);
    for (size_t i = 0x800; i < 4096; i++)
        cr_assert_eq(part[i], 0);
    /* The copy is kept: the same pointer again, and the earlier pointer still valid. */
    cr_assert_eq(ptl_source_phys(&d, 0x2000), part);
    cr_assert_eq(ptl_source_phys(&d, 0x2008), part + 8);
    const uint8_t *zero = ptl_source_phys(&d, 0x3000);
    for (size_t i = 0; i < 4096; i++)
        cr_assert_eq(zero[i], 0);
    cr_assert_eq(memcmp(full, pattern, 4096), 0);
    for (uint64_t pa = 0x1000; pa < 0x4000; pa += 0x3F8)
        check_consistent(&d, pa);
    ptl_source_close(&d);
    free(b);
}

Test(ptlab_dump, overlapping_segments_are_deterministic)
{
    fill_pattern();
    struct seg_spec s[] = {
        { 0x2000, 0x1000, pattern, 0x1000 },
        { 0x2300, 0x1000, pattern + 4096, 0x28 },
        { 0x3000, 0x1000, pattern + 8192, 0x1000 },
    };
    struct ptl_source d;
    uint8_t *b = parse_core(s, 3, 440, 0, &d);
    cr_assert(((struct ptl_dump *)d.priv)->overlapping);
    uint64_t probes[] = { 0x2000, 0x2300, 0x2308, 0x2b00, 0x2fff, 0x3000, 0x32ff, 0x3300, 0x2200 };
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
            check_consistent(&d, probes[i]);
    /* The later segment wins where it starts: 0x2300 reads its bytes, 0x2000 the first's. */
    const uint8_t *p = ptl_source_phys(&d, 0x2300);
    cr_assert_eq(memcmp(p, pattern + 4096, 0x28), 0);
    p = ptl_source_phys(&d, 0x2000);
    cr_assert_eq(memcmp(p, pattern, 0x300), 0);
    ptl_source_close(&d);
    free(b);
}

Test(ptlab_dump, misaligned_file_offsets_give_aligned_tables)
{
    fill_pattern();
    struct seg_spec s[] = { { 0x1000, 0x2000, pattern, 0x2000 } };
    struct ptl_source d;
    uint8_t *b = parse_core(s, 1, 440, 3, &d);
    for (uint64_t pa = 0x1000; pa < 0x3000; pa += 0x200)
        check_consistent(&d, pa);
    const uint64_t *t = ptl_source_phys(&d, 0x2000);
    uint64_t want;
    memcpy(&want, pattern + 4096 + 8, 8);
    cr_assert_eq(t[1], want);
    ptl_source_close(&d);
    free(b);
}

Test(ptlab_dump, every_truncation_fails_cleanly)
{
    fill_pattern();
    struct seg_spec s[] = { { 0x1000, 0x1000, pattern, 0x100 }, { 0x5000, 0x1000, pattern, 0x80 } };
    size_t len;
    uint8_t *b = build_core(s, 2, 440, 0, &len);
    for (size_t n = 0; n < len; n++) {
        uint8_t *cut = malloc(n ? n : 1);
        memcpy(cut, b, n);
        struct ptl_source d;
        char err[256] = "";
        int r = ptl_source_from_buffer(&d, cut, n, false, err, sizeof(err));
        cr_assert_neq(r, 0, "a %zu-byte prefix of a %zu-byte core parsed", n, len);
        cr_assert_neq(err[0], '\0');
        free(cut);
    }
    free(b);
}

Test(ptlab_dump, raw_images)
{
    fill_pattern();
    struct ptl_source d;
    char err[256];
    cr_assert_neq(ptl_source_from_buffer(&d, pattern, sizeof(pattern), false, err, sizeof(err)), 0);
    cr_assert(strstr(err, "--cr3"));
    cr_assert_eq(ptl_source_from_buffer(&d, pattern, sizeof(pattern), true, err, sizeof(err)), 0);
    cr_assert_eq(d.nram, 1);
    cr_assert_eq(ptl_source_phys(&d, 0x1000), pattern + 0x1000);
    cr_assert_null(ptl_source_phys(&d, sizeof(pattern)));
    ptl_source_close(&d);
    cr_assert_neq(ptl_source_from_buffer(&d, pattern, 0, true, err, sizeof(err)), 0);
}
