/*
 * regs.h: the architectural bits of the x86 control registers, IA32_EFER and
 * RFLAGS that paging depends on (Intel SDM Vol. 3A, 2.5 and 4.1), named once
 * for the library, the MMU model, the kernel and the host tool.
 *
 * Freestanding, no types: usable from C and from assembly (the values are
 * plain 1 << n there). The policies built on them (CR3 to the top table,
 * paging mode from the registers) are in paging.h.
 *
 * Depends on: nothing.
 */
#ifndef PAGING_REGS_H
#define PAGING_REGS_H

#ifdef __ASSEMBLER__
#define PG_REG_U64_(x)  x
#else
#define PG_REG_U64_(x)  x##ULL
#endif
#define PG_REG_BIT_(n)  (PG_REG_U64_(1) << (n))

/* CR0 */
#define PG_CR0_PE       PG_REG_BIT_(0)      /* protection enable */
#define PG_CR0_MP       PG_REG_BIT_(1)
#define PG_CR0_EM       PG_REG_BIT_(2)
#define PG_CR0_TS       PG_REG_BIT_(3)
#define PG_CR0_ET       PG_REG_BIT_(4)
#define PG_CR0_NE       PG_REG_BIT_(5)
#define PG_CR0_WP       PG_REG_BIT_(16)     /* write protect: supervisor writes obey R/W */
#define PG_CR0_AM       PG_REG_BIT_(18)
#define PG_CR0_NW       PG_REG_BIT_(29)
#define PG_CR0_CD       PG_REG_BIT_(30)
#define PG_CR0_PG       PG_REG_BIT_(31)     /* paging */

/* CR3 (the table base itself: pg_cr3_root) */
#define PG_CR3_PWT      PG_REG_BIT_(3)
#define PG_CR3_PCD      PG_REG_BIT_(4)
#define PG_CR3_PCID     PG_REG_U64_(0xFFF) /* bits 11:0 under CR4.PCIDE */
#define PG_CR3_NOFLUSH  PG_REG_BIT_(63)     /* MOV-source hint under PCIDE, never stored */

/* CR4 */
#define PG_CR4_VME      PG_REG_BIT_(0)
#define PG_CR4_PVI      PG_REG_BIT_(1)
#define PG_CR4_TSD      PG_REG_BIT_(2)
#define PG_CR4_DE       PG_REG_BIT_(3)
#define PG_CR4_PSE      PG_REG_BIT_(4)      /* 4 MiB pages in 32-bit paging */
#define PG_CR4_PAE      PG_REG_BIT_(5)      /* 64-bit entries (PAE, 4/5-level) */
#define PG_CR4_MCE      PG_REG_BIT_(6)
#define PG_CR4_PGE      PG_REG_BIT_(7)      /* global pages */
#define PG_CR4_PCE      PG_REG_BIT_(8)
#define PG_CR4_OSFXSR   PG_REG_BIT_(9)
#define PG_CR4_OSXMMEXCPT PG_REG_BIT_(10)
#define PG_CR4_LA57     PG_REG_BIT_(12)     /* 5-level paging */
#define PG_CR4_FSGSBASE PG_REG_BIT_(16)
#define PG_CR4_PCIDE    PG_REG_BIT_(17)     /* process-context identifiers */
#define PG_CR4_OSXSAVE  PG_REG_BIT_(18)
#define PG_CR4_SMEP     PG_REG_BIT_(20)
#define PG_CR4_SMAP     PG_REG_BIT_(21)
#define PG_CR4_PKE      PG_REG_BIT_(22)     /* protection keys, user pages (PKRU) */
#define PG_CR4_CET      PG_REG_BIT_(23)
#define PG_CR4_PKS      PG_REG_BIT_(24)     /* protection keys, supervisor pages (PKRS) */

/* IA32_EFER (MSR 0xC0000080) */
#define PG_MSR_EFER     0xC0000080
#define PG_EFER_SCE     PG_REG_BIT_(0)
#define PG_EFER_LME     PG_REG_BIT_(8)      /* long mode enable */
#define PG_EFER_LMA     PG_REG_BIT_(10)     /* long mode active (CR0.PG && LME) */
#define PG_EFER_NXE     PG_REG_BIT_(11)     /* execute-disable bit usable */

/* RFLAGS */
#define PG_RFLAGS_VM    PG_REG_BIT_(17)
#define PG_RFLAGS_AC    PG_REG_BIT_(18)

/* IA32_PAT (MSR 0x277) at reset */
#define PG_MSR_PAT      0x277
#define PG_PAT_RESET    PG_REG_U64_(0x0007040600070406)

#endif /* PAGING_REGS_H */
