/*
 * pgtable.h: x86 page-table entry bits, Linux's composite protections, and
 * the Linux-style per-level entry types and helpers (pgd/p4d/pud/pmd/pte).
 *
 * The per-level types are distinct struct wrappers around uint64_t, so that
 * passing a pmd_t where a pte_t is expected is a compile error. They describe
 * the 64-bit formats (PAE, 4-level, 5-level). The generic library code
 * (paging.h) works on raw uint64_t entries plus a level descriptor and also
 * covers 32-bit paging; these helpers exist for readers and for kernel code
 * that mirrors Linux.
 *
 * Depends on: pg_env.h only.
 */
#ifndef PAGING_PGTABLE_H
#define PAGING_PGTABLE_H

#include <paging/pg_env.h>

typedef uint64_t phys_addr_t;
typedef uint64_t virt_addr_t;

/* ---- Hardware flag bits (64-bit entry formats; 32-bit uses bits 0..12). ---- */
#define PTE_P           0x001ULL                /* present */
#define PTE_W           0x002ULL                /* writable (R/W) */
#define PTE_U           0x004ULL                /* user (U/S) */
#define PTE_PWT         0x008ULL                /* write-through */
#define PTE_PCD         0x010ULL                /* cache disable */
#define PTE_A           0x020ULL                /* accessed */
#define PTE_D           0x040ULL                /* dirty (leaves) */
#define PTE_PS          0x080ULL                /* page size: large leaf (PD/PDPT level) */
#define PTE_PAT         0x080ULL                /* PAT bit of a 4 KiB PTE (same bit as PS) */
#define PTE_G           0x100ULL                /* global (leaves) */
#define PTE_SOFTW1      0x200ULL                /* ignored by hardware, software use */
#define PTE_SOFTW2      0x400ULL
#define PTE_SOFTW3      0x800ULL
#define PTE_PAT_LARGE   0x1000ULL               /* PAT bit of a 2M/4M/1G leaf */
#define PTE_PK_SHIFT    59
#define PTE_PK_MASK     (0xFULL << PTE_PK_SHIFT) /* protection key (4/5-level leaves) */
#define PTE_NX          (1ULL << 63)            /* execute disable (PAE, 4/5-level, EFER.NXE) */

/* Address and flag halves of a 64-bit entry (52-bit physical addresses). */
#define PTE_PFN_MASK    0x000FFFFFFFFFF000ULL
#define PTE_FLAGS_MASK  (~PTE_PFN_MASK)

/* ---- Linux composite protections (values of arch/x86 pgtable_types.h). ---- */
#define _PAGE_TABLE                 0x067ULL                /* P RW US A D: intermediate, user reachable */
#define _KERNPG_TABLE               0x063ULL                /* P RW A D: intermediate, kernel only */
#define __PAGE_KERNEL_EXEC          0x163ULL                /* P RW A D G */
#define __PAGE_KERNEL               0x8000000000000163ULL   /* + NX */
#define __PAGE_KERNEL_RO            0x8000000000000121ULL   /* P A G NX (Linux 6.x; 4.7 had 0x...161) */
#define __PAGE_KERNEL_RO_OLD        0x8000000000000161ULL
#define __PAGE_KERNEL_RX            0x0000000000000121ULL   /* P A G */
#define __PAGE_KERNEL_NOCACHE       0x800000000000017BULL   /* + PWT PCD */
#define __PAGE_KERNEL_LARGE         0x80000000000001E3ULL   /* __PAGE_KERNEL | PSE */
#define __PAGE_KERNEL_LARGE_EXEC    0x1E3ULL                /* __PAGE_KERNEL_EXEC | PSE */
#define __PAGE_BOOT_IDENT_UPPER     0x007ULL                /* decompressor PML4E/PDPTE */
#define __PAGE_BOOT_IDENT_2M        0x183ULL                /* decompressor 2 MiB leaf: P RW PSE G */
#define __PAGE_EARLY_PMD            0x0E3ULL                /* head identity PMD, early_pmd_flags */

/* ---- Level geometry (4-level without LA57 unless suffixed _L5). ---- */
#define PAGE_SHIFT      12
#define PAGE_SIZE       (1ULL << PAGE_SHIFT)
#define PAGE_MASK       (~(PAGE_SIZE - 1))
#define PMD_SHIFT       21
#define PMD_SIZE        (1ULL << PMD_SHIFT)
#define PMD_MASK        (~(PMD_SIZE - 1))
#define PUD_SHIFT       30
#define PUD_SIZE        (1ULL << PUD_SHIFT)
#define PUD_MASK        (~(PUD_SIZE - 1))
#define P4D_SHIFT       39
#define P4D_SIZE        (1ULL << P4D_SHIFT)
#define P4D_MASK        (~(P4D_SIZE - 1))
#define PGDIR_SHIFT     39                      /* 4-level: the PGD is the PML4 (p4d folded) */
#define PGDIR_SHIFT_L5  48                      /* 5-level: the PGD is the PML5 */
#define PGDIR_SIZE      (1ULL << PGDIR_SHIFT)
#define PGDIR_MASK      (~(PGDIR_SIZE - 1))
#define PGDIR_SIZE_L5   (1ULL << PGDIR_SHIFT_L5)
#define PGDIR_MASK_L5   (~(PGDIR_SIZE_L5 - 1))
#define PTRS_PER_PGD    512
#define PTRS_PER_P4D    512                     /* 1 when folded (4-level) */
#define PTRS_PER_PUD    512
#define PTRS_PER_PMD    512
#define PTRS_PER_PTE    512

/* ---- Distinct per-level entry types (no bitfields). ---- */
typedef struct { uint64_t pgd; } pgd_t;
typedef struct { uint64_t p4d; } p4d_t;
typedef struct { uint64_t pud; } pud_t;
typedef struct { uint64_t pmd; } pmd_t;
typedef struct { uint64_t pte; } pte_t;

/*
 * The same helper family for every level: constructor __X(v), accessor
 * X_val(e), X_none, X_present, X_flags, X_addr (next table or page frame).
 */
#define PG_DEFINE_LEVEL_HELPERS_(lvl)                                               \
    static inline lvl##_t __##lvl(uint64_t v) { lvl##_t e = { v }; return e; }     \
    static inline uint64_t lvl##_val(lvl##_t e) { return e.lvl; }                   \
    static inline bool lvl##_none(lvl##_t e) { return e.lvl == 0; }                 \
    static inline bool lvl##_present(lvl##_t e) { return (e.lvl & PTE_P) != 0; }    \
    static inline uint64_t lvl##_flags(lvl##_t e) { return e.lvl & PTE_FLAGS_MASK; } \
    static inline phys_addr_t lvl##_addr(lvl##_t e) { return e.lvl & PTE_PFN_MASK; }

PG_DEFINE_LEVEL_HELPERS_(pgd)
PG_DEFINE_LEVEL_HELPERS_(p4d)
PG_DEFINE_LEVEL_HELPERS_(pud)
PG_DEFINE_LEVEL_HELPERS_(pmd)
PG_DEFINE_LEVEL_HELPERS_(pte)

/* Large leaves: PS set in a present PUD (1 GiB) or PMD (2 MiB) entry. */
static inline bool pud_large(pud_t e) { return (e.pud & (PTE_P | PTE_PS)) == (PTE_P | PTE_PS); }
static inline bool pmd_large(pmd_t e) { return (e.pmd & (PTE_P | PTE_PS)) == (PTE_P | PTE_PS); }
static inline phys_addr_t pud_large_addr(pud_t e) { return e.pud & PTE_PFN_MASK & PUD_MASK; }
static inline phys_addr_t pmd_large_addr(pmd_t e) { return e.pmd & PTE_PFN_MASK & PMD_MASK; }

/* Index of va in each level's table. */
static inline unsigned pgd_index(virt_addr_t va) { return (unsigned)(va >> PGDIR_SHIFT) & (PTRS_PER_PGD - 1); }
static inline unsigned pgd_index_l5(virt_addr_t va) { return (unsigned)(va >> PGDIR_SHIFT_L5) & (PTRS_PER_PGD - 1); }
static inline unsigned p4d_index(virt_addr_t va) { return (unsigned)(va >> P4D_SHIFT) & (PTRS_PER_P4D - 1); }
static inline unsigned pud_index(virt_addr_t va) { return (unsigned)(va >> PUD_SHIFT) & (PTRS_PER_PUD - 1); }
static inline unsigned pmd_index(virt_addr_t va) { return (unsigned)(va >> PMD_SHIFT) & (PTRS_PER_PMD - 1); }
static inline unsigned pte_index(virt_addr_t va) { return (unsigned)(va >> PAGE_SHIFT) & (PTRS_PER_PTE - 1); }

/* Pointer to va's entry in a table already mapped at `table` (a virtual pointer). */
static inline pgd_t *pgd_offset(pgd_t *table, virt_addr_t va) { return table + pgd_index(va); }
static inline p4d_t *p4d_offset(p4d_t *table, virt_addr_t va) { return table + p4d_index(va); }
static inline pud_t *pud_offset(pud_t *table, virt_addr_t va) { return table + pud_index(va); }
static inline pmd_t *pmd_offset(pmd_t *table, virt_addr_t va) { return table + pmd_index(va); }
static inline pte_t *pte_offset(pte_t *table, virt_addr_t va) { return table + pte_index(va); }

/*
 * X_addr_end(addr, end): the end of the part of [addr, end) covered by addr's
 * entry at that level, i.e. min(next boundary, end). Safe at the top of the
 * address space: a boundary that wraps to 0 compares as 2^64, and end == 0
 * stands for 2^64.
 */
static inline virt_addr_t pg_boundary_end_(virt_addr_t addr, virt_addr_t end, uint64_t size)
{
    virt_addr_t boundary = (addr + size) & ~(size - 1);
    return (boundary - 1 < end - 1) ? boundary : end;
}
static inline virt_addr_t pgd_addr_end(virt_addr_t a, virt_addr_t e) { return pg_boundary_end_(a, e, PGDIR_SIZE); }
static inline virt_addr_t pgd_addr_end_l5(virt_addr_t a, virt_addr_t e) { return pg_boundary_end_(a, e, PGDIR_SIZE_L5); }
static inline virt_addr_t p4d_addr_end(virt_addr_t a, virt_addr_t e) { return pg_boundary_end_(a, e, P4D_SIZE); }
static inline virt_addr_t pud_addr_end(virt_addr_t a, virt_addr_t e) { return pg_boundary_end_(a, e, PUD_SIZE); }
static inline virt_addr_t pmd_addr_end(virt_addr_t a, virt_addr_t e) { return pg_boundary_end_(a, e, PMD_SIZE); }

#endif /* PAGING_PGTABLE_H */
