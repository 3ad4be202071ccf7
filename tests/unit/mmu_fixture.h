/*
 * mmu_fixture.h: a CPU and hand-built page tables for the MMU-model tests
 * (tests/unit/test_mmu_*.c).
 *
 * A fixture is an arena (arena.h) for physical memory, a struct pg_cpu in a
 * chosen paging mode (all features, MAXPHYADDR 52 unless told otherwise) and
 * helpers that map one VA through a fresh chain of tables with given flags at
 * each level, read entries back and run one access.
 * Header-only: every function is static.
 */
#ifndef TESTS_UNIT_MMU_FIXTURE_H
#define TESTS_UNIT_MMU_FIXTURE_H

#include <criterion/criterion.h>
#include <paging/mmu.h>

#include "arena.h"

/* The frame every leaf maps (1 GiB aligned, below 4 GiB: valid for every page size and mode). */
#define FX_FRAME 0x40000000ULL

/* Common entry flag sets. */
#define FX_URW  (PTE_P | PTE_W | PTE_U)     /* user, writable */
#define FX_UR   (PTE_P | PTE_U)             /* user, read-only */
#define FX_SRW  (PTE_P | PTE_W)             /* supervisor, writable */
#define FX_SR   (PTE_P)                     /* supervisor, read-only */

struct fx {
    struct arena a;
    struct pg_ctx mem;
    struct pg_cpu cpu;
    unsigned levels;
    phys_addr_t root;
    phys_addr_t entry_pa[PG_MAX_LEVELS + 1];    /* of the last fx_map, per level */
    int leaf_level;
};

static inline unsigned fx_esize(const struct fx *f)
{
    return f->levels == PG_MODE_32BIT ? 4 : 8;
}

static inline uint64_t fx_peek(const struct fx *f, phys_addr_t pa)
{
    void *p = arena_p2v((void *)&f->a, pa);
    cr_assert(p, "fx_peek: %llx outside the arena", (unsigned long long)pa);
    if (fx_esize(f) == 4)
        return *(uint32_t *)p;
    return *(uint64_t *)p;
}

static inline void fx_poke(struct fx *f, phys_addr_t pa, uint64_t v)
{
    void *p = arena_p2v(&f->a, pa);
    cr_assert(p);
    if (fx_esize(f) == 4)
        *(uint32_t *)p = (uint32_t)v;
    else
        *(uint64_t *)p = v;
}

/* The current value of the last map's entry at `level`. */
static inline uint64_t fx_entry(const struct fx *f, int level)
{
    return fx_peek(f, f->entry_pa[level]);
}

static inline void fx_set_entry(struct fx *f, int level, uint64_t v)
{
    fx_poke(f, f->entry_pa[level], v);
}

/*
 * fx_init - a CPU in paging mode `levels` (0 = paging off) with an empty root,
 * features PG_CPUID_* and MAXPHYADDR phys_bits.
 */
static inline void fx_init_cpu(struct fx *f, unsigned levels, unsigned features, unsigned phys_bits)
{
    memset(f, 0, sizeof(*f));
    arena_init(&f->a, 64);
    f->mem = arena_ctx(&f->a, levels ? levels : 4);
    f->levels = levels;
    f->root = arena_root(&f->a);
    pg_cpu_reset(&f->cpu, features, phys_bits);
    cr_assert_eq(pg_cpu_set_paging(&f->cpu, levels, f->root, &f->mem), 0);
}

static inline void fx_init(struct fx *f, unsigned levels)
{
    fx_init_cpu(f, levels, PG_CPUID_ALL, levels == PG_MODE_32BIT ? 40 : 52);
}

static inline void fx_fini(struct fx *f)
{
    arena_fini(&f->a);
}

/*
 * fx_map - map va through fresh tables below the root: flags[l] are the flag
 * bits of the level-l entry (without address; PS is added to a large leaf),
 * the leaf is at leaf_level and maps FX_FRAME. In PAE mode the PDPTE
 * registers are reloaded (as a MOV CR3 would).
 */
static inline void fx_map(struct fx *f, virt_addr_t va, int leaf_level, const uint64_t *flags)
{
    phys_addr_t table = f->root;
    for (int l = (int)f->levels; l >= leaf_level; l--) {
        int idx = pg_va_index(f->levels, l, va);
        cr_assert_geq(idx, 0);
        phys_addr_t epa = table + (uint64_t)idx * fx_esize(f);
        f->entry_pa[l] = epa;
        uint64_t v;
        if (l == leaf_level) {
            v = FX_FRAME | flags[l] | (l > 1 ? PTE_PS : 0);
        } else {
            phys_addr_t next = arena_root(&f->a);
            v = next | flags[l];
            table = next;
        }
        fx_poke(f, epa, v);
    }
    f->leaf_level = leaf_level;
    if (f->levels == PG_MODE_PAE)
        cr_assert_eq(pg_cpu_load_pdptes(&f->cpu, &f->mem), 0);
}

/* fx_map with the same flags at every level (PAE PDPTE: P only). */
static inline void fx_map_all(struct fx *f, virt_addr_t va, int leaf_level, uint64_t flags)
{
    uint64_t fl[PG_MAX_LEVELS + 1];
    for (int l = 0; l <= PG_MAX_LEVELS; l++)
        fl[l] = flags;
    if (f->levels == PG_MODE_PAE)
        fl[3] = PTE_P;
    fx_map(f, va, leaf_level, fl);
}

/* One access; asserts the model decided. */
static inline struct pg_mmu_result fx_access(struct fx *f, virt_addr_t va, unsigned access)
{
    struct pg_mmu_result r;
    int err = pg_mmu_access(&f->mem, &f->cpu, va, access, 0, NULL, &r);
    cr_assert_eq(err, 0, "pg_mmu_access: %s", pg_strerror(err));
    return r;
}

/* Assert an allowed access / a #PF with exactly error code ec. */
#define fx_assert_ok(r) \
    cr_assert_eq((r).vector, PG_VEC_NONE, "expected no fault, got vector %d ec %#x", \
                 (r).vector, (r).error_code)
#define fx_assert_pf(r, ec) \
    do { \
        cr_assert_eq((r).vector, PG_VEC_PF, "expected #PF, got vector %d", (r).vector); \
        cr_assert_eq((r).error_code, (uint32_t)(ec), "error code %#x, expected %#x", \
                     (r).error_code, (uint32_t)(ec)); \
    } while (0)

#endif /* TESTS_UNIT_MMU_FIXTURE_H */
