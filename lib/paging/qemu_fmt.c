/*
 * qemu_fmt.c: number formatting and QEMU monitor imitations (`info tlb`,
 * `info mem`), built on pg_iterate (docs/formats.md, "QEMU info tlb" and
 * "QEMU info mem").
 *
 * QEMU walks every entry of every table with no sharing or cycle detection,
 * so both formatters expand everything; its per-mode quirks (PA masks that
 * let high bits leak, PS cleared on 4 KiB lines, canonicalised lengths) are
 * reproduced on purpose.
 * Depends on: paging.h, pg_format.h, pg_internal.h, pg_out.h.
 */
#include "pg_internal.h"
#include "pg_out.h"

size_t pg_u64_hex(char *buf, uint64_t v, unsigned min_width)
{
    /* Two digits per step: the formatters print millions of these. */
    static const char pairs[513] =
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
        "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
        "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
        "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
        "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
        "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
        "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
        "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
    size_t n = min_width < 1 ? 1 : min_width > 16 ? 16 : min_width, i;
    while (n < 16 && (v >> (4 * n)))
        n++;
    buf[n] = '\0';
    for (i = n; i >= 2; i -= 2, v >>= 8)
        memcpy(buf + i - 2, pairs + (v & 0xFF) * 2, 2);
    if (i)
        buf[0] = pairs[(v & 0xF) * 2 + 1];
    return n;
}

size_t pg_u64_dec(char *buf, uint64_t v)
{
    /* Repeated subtraction of powers of ten: no 64-bit division helper needed on 32-bit targets. */
    static const uint64_t pow10[20] = {
        10000000000000000000ULL, 1000000000000000000ULL, 100000000000000000ULL,
        10000000000000000ULL, 1000000000000000ULL, 100000000000000ULL, 10000000000000ULL,
        1000000000000ULL, 100000000000ULL, 10000000000ULL, 1000000000ULL, 100000000ULL,
        10000000ULL, 1000000ULL, 100000ULL, 10000ULL, 1000ULL, 100ULL, 10ULL, 1ULL,
    };
    size_t n = 0;
    for (int k = 0; k < 20; k++) {
        char d = '0';
        while (v >= pow10[k]) {
            v -= pow10[k];
            d++;
        }
        if (d != '0' || n || k == 19)
            buf[n++] = d;
    }
    buf[n] = '\0';
    return n;
}

/* ---- info tlb ---- */

struct tlb_state_ {
    const struct pg_mode_desc *m;
    struct out_ out;
};

/* QEMU's PA mask for a leaf of `level` in each mode. */
static uint64_t tlb_pa_mask_(const struct pg_mode_desc *m, int level)
{
    switch (m->levels) {
    case PG_MODE_32BIT:
        return level == 1 ? ~0xFFFULL : ~0x1FFFFFULL;
    case PG_MODE_PAE:
        return level == 1 ? ~0xFFFULL : ~0xFFFFFULL;
    default:
        if (level == 1)
            return 0x3FFFFFFFFF000ULL;
        return level == 2 ? 0x3FFFFFFE00000ULL : 0x3FFFFC0000000ULL;
    }
}

static int tlb_line_(void *arg, const struct pg_range *r)
{
    struct tlb_state_ *st = arg;
    struct out_ *o = &st->out;
    if (r->kind != PG_RANGE_MAPPED)
        return 0;
    uint64_t e = r->entry;
    if (r->level == 1)
        e &= ~PTE_PS;
    /* The line has a fixed shape (16 + 2 + 16 + 1 + 9 letters + newline): built in place. */
    char line[48];
    pg_u64_hex(line, r->start, 16);
    line[16] = ':';
    line[17] = ' ';
    pg_u64_hex(line + 18, e & tlb_pa_mask_(st->m, r->level), 16);
    line[34] = ' ';
    /* QEMU's flag letters, XGPDACTUW (one statement each: this runs per entry). */
    line[35] = (e & PTE_NX) ? 'X' : '-';
    line[36] = (e & PTE_G) ? 'G' : '-';
    line[37] = (e & PTE_PS) ? 'P' : '-';
    line[38] = (e & PTE_D) ? 'D' : '-';
    line[39] = (e & PTE_A) ? 'A' : '-';
    line[40] = (e & PTE_PCD) ? 'C' : '-';
    line[41] = (e & PTE_PWT) ? 'T' : '-';
    line[42] = (e & PTE_U) ? 'U' : '-';
    line[43] = (e & PTE_W) ? 'W' : '-';
    line[44] = '\n';
    out_mem_(o, line, 45);
    out_flush_(o);
    return 0;
}

/* Every entry one by one, every reference expanded, as QEMU walks; holes if asked. */
static int qemu_walk_(const struct pg_ctx *ctx, phys_addr_t root, unsigned holes, pg_range_fn fn,
                      void *state)
{
    struct pg_iter_opts o = {
        .merge = PG_MERGE_NONE,
        .flags = holes | PG_ITER_EXPAND_SHARED | PG_ITER_EXPAND_CYCLES,
    };
    return pg_iterate(ctx, root, &o, fn, state);
}

int pg_fmt_info_tlb(const struct pg_ctx *ctx, phys_addr_t root, const struct pg_sink *sink)
{
    const struct pg_mode_desc *m = ctx_mode_(ctx);
    if (!m || !sink || !sink->write)
        return -PG_EINVAL;
    struct tlb_state_ st = { .m = m, .out = { .sink = sink } };
    return qemu_walk_(ctx, root, 0, tlb_line_, &st);
}

/* ---- info mem ---- */

struct mem_state_ {
    const struct pg_mode_desc *m;
    uint64_t start;         /* linear start of the current run; valid if have */
    bool have;
    uint64_t last_prot;
    struct out_ out;
};

/* QEMU's addr_canonical: in IA-32e modes, set the bits above va_bits if
 * bit va_bits-1 is set; nothing is masked (so 2^48 stays 0001000000000000). */
static uint64_t qemu_canon_(const struct pg_mode_desc *m, uint64_t a)
{
    if (m->canonical && (a & (1ULL << (m->va_bits - 1))))
        a |= ~((1ULL << m->va_bits) - 1);
    return a;
}

/* QEMU's mem_print: called at every entry start with that entry's prot. */
static void mem_note_(struct mem_state_ *st, uint64_t lin, uint64_t prot)
{
    if (prot == st->last_prot)
        return;
    if (st->have) {
        struct out_ *o = &st->out;
        out_hex_(o, qemu_canon_(st->m, st->start), 16);
        out_chr_(o, '-');
        out_hex_(o, qemu_canon_(st->m, lin), 16);
        out_chr_(o, ' ');
        out_hex_(o, qemu_canon_(st->m, lin - st->start), 16);
        out_chr_(o, ' ');
        out_chr_(o, (st->last_prot & PTE_U) ? 'u' : '-');
        out_chr_(o, 'r');
        out_chr_(o, (st->last_prot & PTE_W) ? 'w' : '-');
        out_nl_(o);
    }
    st->have = prot != 0;
    st->start = lin;
    st->last_prot = prot;
}

static int mem_range_(void *arg, const struct pg_range *r)
{
    struct mem_state_ *st = arg;
    uint64_t prot = r->kind == PG_RANGE_MAPPED ? (r->eff & (PTE_P | PTE_U | PTE_W)) : 0;
    mem_note_(st, linear_(st->m, r->start), prot);
    return 0;
}

int pg_fmt_info_mem(const struct pg_ctx *ctx, phys_addr_t root, const struct pg_sink *sink)
{
    const struct pg_mode_desc *m = ctx_mode_(ctx);
    if (!m || !sink || !sink->write)
        return -PG_EINVAL;
    struct mem_state_ st = { .m = m, .out = { .sink = sink } };
    int r = qemu_walk_(ctx, root, PG_ITER_HOLES, mem_range_, &st);
    if (r)
        return r;
    mem_note_(&st, 1ULL << m->va_bits, 0);
    return 0;
}
