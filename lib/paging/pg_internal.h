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

/* Can PS make a large leaf in this state? Not in 32-bit paging without CR4.PSE. */
static inline bool ps_ok_(const struct pg_ctx *ctx, const struct pg_mode_desc *m)
{
    return !(m->levels == PG_MODE_32BIT && (ctx->disabled & PG_NO_PSE));
}

/* True if a PS=1 entry at `level` is a large leaf (architecturally, in this state). */
static inline bool large_leaf_level_(const struct pg_ctx *ctx, const struct pg_mode_desc *m, int level)
{
    return m->level[level].large_ok && ps_ok_(ctx, m);
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

/* Is va a linear address of the mode (canonical; below 4 GiB for 32-bit and PAE)? */
static inline bool va_ok_(const struct pg_mode_desc *m, virt_addr_t va)
{
    if (!m->canonical)
        return (va >> 32) == 0;
    return canon_(m, linear_(m, va)) == va;
}

/* ------------------------------------------------------------------------ */
/* The per-level step                                                        */
/*                                                                           */
/* Every traversal of the library (walk, translate, entry lookup, iterate,   */
/* count, map/unmap/protect, free) goes through these: the index of a VA at  */
/* a level, the entry's flags and the address it holds, leaf or table, and   */
/* the rights accumulated down the levels. A single-VA descent uses struct   */
/* step_; the subtree recursions visit a table's entries with each_present_. */
/* ------------------------------------------------------------------------ */

/* Index of linear address lin in a table of level d. */
static inline unsigned level_index_(const struct pg_level_desc *d, uint64_t lin)
{
    return (unsigned)(lin >> d->shift) & ((1u << d->index_bits) - 1);
}

/* Masks of an entry's flag bits (11:0 in 32-bit mode; all but the address
 * field otherwise) and of its 4 KiB-aligned address field (a table's
 * address, or a 4 KiB page's frame). */
static inline uint64_t flags_mask_(const struct pg_mode_desc *m)
{
    return m->levels == PG_MODE_32BIT ? 0xFFFULL : PTE_FLAGS_MASK;
}

static inline uint64_t pfn_mask_(const struct pg_mode_desc *m)
{
    return m->levels == PG_MODE_32BIT ? 0xFFFFF000ULL : PTE_PFN_MASK;
}

static inline uint64_t entry_flags_(const struct pg_mode_desc *m, uint64_t e)
{
    return e & flags_mask_(m);
}

static inline phys_addr_t pfn_addr_(const struct pg_mode_desc *m, uint64_t e)
{
    return e & pfn_mask_(m);
}

/*
 * The leaf rule: a present entry e of `level` (descriptor d) maps a page if
 * it is at level 1, or has PS at a level that allows large pages while the
 * state allows them (ps_ok: ps_ok_).
 */
static inline bool is_leaf_(const struct pg_level_desc *d, int level, bool ps_ok, uint64_t e)
{
    return level == 1 || ((e & PTE_PS) && d->large_ok && ps_ok);
}

static inline bool entry_leaf_(const struct pg_ctx *ctx, const struct pg_mode_desc *m, int level,
                               uint64_t e)
{
    return is_leaf_(&m->level[level], level, ps_ok_(ctx, m), e);
}

/* PTE_NX if entries' NX bits count in this state, else 0. */
static inline uint64_t nx_mask_(const struct pg_ctx *ctx, const struct pg_mode_desc *m)
{
    return nx_enabled_(ctx, m) ? PTE_NX : 0;
}

/*
 * The rights rule (Intel SDM Vol. 3A, 4.6): rights (a PTE_W | PTE_U | PTE_NX
 * subset) after one more entry e of level d: W and U ANDed, NX ORed (only if
 * nx_mask says NX counts). A level with no_rights (PAE PDPTEs) leaves them.
 */
static inline uint64_t rights_after_(const struct pg_level_desc *d, uint64_t rights, uint64_t e,
                                     uint64_t nx_mask)
{
    if (d->no_rights)
        return rights;
    return (rights & e & (PTE_W | PTE_U)) | ((rights | e) & nx_mask);
}

/* Address of the table or page an entry points to (PSE-36 decoded for a 4 MiB leaf). */
phys_addr_t entry_addr_(const struct pg_ctx *ctx, const struct pg_mode_desc *m, int level,
                        uint64_t raw, bool leaf);

/* Canonical protection of a raw entry (decode fast path). */
uint64_t entry_prot_(const struct pg_mode_desc *m, int level, uint64_t raw, bool leaf);

/*
 * struct step_ - a descent along one linear address, level by level:
 *   step_begin_ (top table), then per level step_read_ (the entry) and, for a
 *   present entry, step_enter_ (rights folded in; leaf, or down one level).
 */
struct step_ {
    const struct pg_ctx *ctx;
    const struct pg_mode_desc *m;
    uint64_t lin;           /* the linear address */
    uint64_t nx_mask;       /* the state, fixed for the descent: nx_mask_, pfn_mask_, ps_ok_ */
    uint64_t pfn_mask;
    bool ps_ok;
    int level;              /* the level being read */
    phys_addr_t table;      /* its table */
    unsigned index;         /* step_read_: lin's index in the table */
    uint64_t e;             /* step_read_: the entry */
    uint64_t rights;        /* PTE_W | PTE_U | PTE_NX of the entries entered so far */
};

static inline void step_begin_(struct step_ *s, const struct pg_ctx *ctx,
                               const struct pg_mode_desc *m, virt_addr_t va, int top,
                               phys_addr_t table, uint64_t rights)
{
    s->ctx = ctx;
    s->m = m;
    s->lin = linear_(m, va);
    s->nx_mask = nx_mask_(ctx, m);
    s->pfn_mask = pfn_mask_(m);
    s->ps_ok = ps_ok_(ctx, m);
    s->level = top;
    s->table = table;
    s->rights = rights;
}

/* Read lin's entry at s->level. returns: 0, or -PG_EIO (the table is unreadable). */
static inline int step_read_(struct step_ *s)
{
    const struct pg_level_desc *d = &s->m->level[s->level];
    s->index = level_index_(d, s->lin);
    const void *t = s->ctx->phys_to_virt(s->ctx->arg, s->table);
    if (!t)
        return -PG_EIO;
    s->e = load_entry_(t, d->entry_size, s->index);
    return 0;
}

/* The physical address of the entry step_read_ read. */
static inline phys_addr_t step_entry_pa_(const struct step_ *s)
{
    return s->table + (uint64_t)s->index * s->m->level[s->level].entry_size;
}

/*
 * Enter the present entry just read: fold its rights in; if it is a table
 * pointer, move to that table one level down.
 * returns: true if the entry is a leaf (s->level stays the leaf's level).
 */
static inline bool step_enter_(struct step_ *s)
{
    const struct pg_level_desc *d = &s->m->level[s->level];
    s->rights = rights_after_(d, s->rights, s->e, s->nx_mask);
    if (is_leaf_(d, s->level, s->ps_ok, s->e))
        return true;
    s->table = s->e & s->pfn_mask;
    s->level--;
    return false;
}

/*
 * The child visitor of the subtree recursions: fn(arg, level, index, e,
 * leaf, addr) for every present entry of the table t (already mapped) at
 * `level`, in index order; addr is entry_addr_'s (next table or frame).
 * returns: 0, or the first nonzero value fn returned (the visit stops there).
 */
typedef int (*entry_fn_)(void *arg, int level, unsigned index, uint64_t e, bool leaf,
                         phys_addr_t addr);
int each_present_(const struct pg_ctx *ctx, const struct pg_mode_desc *m, int level,
                  const void *t, entry_fn_ fn, void *arg);

/* The flags given to new intermediate entries at `level` (a table pointer there). */
uint64_t table_entry_flags_(const struct pg_ctx *ctx, const struct pg_mode_desc *m, int level);

/* A leaf entry from a frame address and canonical protection (no checks). */
uint64_t make_leaf_(const struct pg_ctx *ctx, const struct pg_mode_desc *m, int level,
                    phys_addr_t pa, uint64_t prot);

/* Validate ctx and return its mode, or NULL. */
const struct pg_mode_desc *ctx_mode_(const struct pg_ctx *ctx);

#endif /* PAGING_PG_INTERNAL_H */
