/*
 * pg_internal.h: helpers shared by the lib/paging sources (not installed).
 *
 * Everything here is static inline; names end in '_' (library-internal).
 * Depends on: paging.h.
 */
#ifndef PAGING_PG_INTERNAL_H
#define PAGING_PG_INTERNAL_H

#include <paging/paging.h>

/* Bits hi..lo set (hi >= lo), 0 if hi < lo. */
static inline uint64_t bits_(unsigned hi, unsigned lo)
{
    if (hi < lo || lo > 63)
        return 0;
    uint64_t top = hi >= 63 ? ~0ULL : ((1ULL << (hi + 1)) - 1);
    return top & ~((1ULL << lo) - 1);
}

/* The effective MAXPHYADDR of a context. */
static inline unsigned phys_bits_(const struct pg_ctx *ctx)
{
    if (ctx->phys_bits)
        return ctx->phys_bits > 52 ? 52 : ctx->phys_bits;
    return ctx->levels == PG_MODE_32BIT ? 40 : 52;
}

/* True if the mode can express NX and the CPU has it enabled. */
static inline bool nx_enabled_(const struct pg_ctx *ctx, const struct pg_mode_desc *m)
{
    return m->has_nx && !(ctx->disabled & PG_NO_NX);
}

/* True if a PS=1 entry at `level` is a large leaf (architecturally, in this state). */
static inline bool large_leaf_level_(const struct pg_ctx *ctx, const struct pg_mode_desc *m, int level)
{
    if (!m->level[level].large_ok)
        return false;
    if (m->levels == PG_MODE_32BIT && (ctx->disabled & PG_NO_PSE))
        return false;
    return true;
}

/* Like large_leaf_level_, but also requires that new leaves there are legal (Page1GB). */
static inline bool large_leaf_creatable_(const struct pg_ctx *ctx, const struct pg_mode_desc *m, int level)
{
    if (!large_leaf_level_(ctx, m, level))
        return false;
    if (level == 3 && (ctx->disabled & PG_NO_1G))
        return false;
    return true;
}

/* Read / write one raw entry through a mapped table pointer. */
static inline uint64_t load_entry_(const void *table, unsigned entry_size, unsigned index)
{
    if (entry_size == 4)
        return ((const uint32_t *)table)[index];
    return ((const uint64_t *)table)[index];
}

static inline void store_entry_(void *table, unsigned entry_size, unsigned index, uint64_t v)
{
    if (entry_size == 4)
        ((uint32_t *)table)[index] = (uint32_t)v;
    else
        ((uint64_t *)table)[index] = v;
}

/* Linear (non-sign-extended) form of a VA: its low va_bits. */
static inline uint64_t linear_(const struct pg_mode_desc *m, virt_addr_t va)
{
    return va & ((1ULL << m->va_bits) - 1);
}

/* Canonical form of a linear address. */
static inline virt_addr_t canon_(const struct pg_mode_desc *m, uint64_t lin)
{
    if (!m->canonical)
        return lin;
    unsigned sh = 64 - m->va_bits;
    return (virt_addr_t)((int64_t)(lin << sh) >> sh);
}

/* Address of the table or page an entry points to (decode fast path). */
uint64_t entry_addr_(const struct pg_ctx *ctx, const struct pg_mode_desc *m, int level, uint64_t raw,
                     bool leaf);

/* Canonical protection of a raw entry (decode fast path). */
uint64_t entry_prot_(const struct pg_mode_desc *m, int level, uint64_t raw, bool leaf);

/* The flags given to new intermediate entries at `level` (a table pointer there). */
uint64_t table_entry_flags_(const struct pg_ctx *ctx, const struct pg_mode_desc *m, int level);

/* A leaf entry from a frame address and canonical protection (no checks). */
uint64_t make_leaf_(const struct pg_ctx *ctx, const struct pg_mode_desc *m, int level,
                    phys_addr_t pa, uint64_t prot);

/* Validate ctx and return its mode, or NULL. */
const struct pg_mode_desc *ctx_mode_(const struct pg_ctx *ctx);

#endif /* PAGING_PG_INTERNAL_H */
