/*
 * pgtable.h: x86 page-table entry bits, Linux's composite protections, and
 * Linux's level geometry (PAGE_SHIFT ... PGDIR_SHIFT, PTRS_PER_*, and the
 * pgd_index ... pte_index of 4-level paging).
 *
 * Entries are plain uint64_t everywhere: the library (paging.h) decodes them
 * per level and mode with a level descriptor, which also covers 32-bit
 * paging; there are no per-level entry types.
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

/* Index of va in each level's table. */
static inline unsigned pgd_index(virt_addr_t va) { return (unsigned)(va >> PGDIR_SHIFT) & (PTRS_PER_PGD - 1); }
static inline unsigned pgd_index_l5(virt_addr_t va) { return (unsigned)(va >> PGDIR_SHIFT_L5) & (PTRS_PER_PGD - 1); }
static inline unsigned p4d_index(virt_addr_t va) { return (unsigned)(va >> P4D_SHIFT) & (PTRS_PER_P4D - 1); }
static inline unsigned pud_index(virt_addr_t va) { return (unsigned)(va >> PUD_SHIFT) & (PTRS_PER_PUD - 1); }
static inline unsigned pmd_index(virt_addr_t va) { return (unsigned)(va >> PMD_SHIFT) & (PTRS_PER_PMD - 1); }
static inline unsigned pte_index(virt_addr_t va) { return (unsigned)(va >> PAGE_SHIFT) & (PTRS_PER_PTE - 1); }

#endif /* PAGING_PGTABLE_H */
