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
    static const char digits[] = "0123456789abcdef";
    char tmp[16];
    size_t n = 0;
    do {
        tmp[n++] = digits[v & 0xF];
        v >>= 4;
    } while (v);
    while (n < min_width && n < 16)
        tmp[n++] = '0';
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
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
    out_hex_(o, r->start, 16);
    out_str_(o, ": ");
    out_hex_(o, e & tlb_pa_mask_(st->m, r->level), 16);
    out_chr_(o, ' ');
    /* QEMU's flag letters, XGPDACTUW. */
    static const struct { uint64_t bit; char c; } letters[] = {
        { PTE_NX, 'X' }, { PTE_G, 'G' }, { PTE_PS, 'P' }, { PTE_D, 'D' }, { PTE_A, 'A' },
        { PTE_PCD, 'C' }, { PTE_PWT, 'T' }, { PTE_U, 'U' }, { PTE_W, 'W' },
    };
    for (size_t i = 0; i < sizeof(letters) / sizeof(letters[0]); i++)
        out_chr_(o, (e & letters[i].bit) ? letters[i].c : '-');
    out_nl_(o);
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
