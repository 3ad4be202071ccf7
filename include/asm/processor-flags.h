/*
 * processor-flags.h: the kernel's Linux names for the control-register and
 * IA32_EFER bits (X86_CR0_*, X86_CR4_*, MSR_EFER, EFER_*), defined from
 * lib/paging's include/paging/regs.h so that each bit is written once.
 * Safe to include from assembly (the values are plain 1 << n there).
 */
#ifndef ASM_PROCESSOR_FLAGS_H
#define ASM_PROCESSOR_FLAGS_H

#include <paging/regs.h>

#define X86_CR0_PE    PG_CR0_PE
#define X86_CR0_MP    PG_CR0_MP
#define X86_CR0_EM    PG_CR0_EM
#define X86_CR0_TS    PG_CR0_TS
#define X86_CR0_ET    PG_CR0_ET
#define X86_CR0_NE    PG_CR0_NE
#define X86_CR0_WP    PG_CR0_WP
#define X86_CR0_AM    PG_CR0_AM
#define X86_CR0_NW    PG_CR0_NW
#define X86_CR0_CD    PG_CR0_CD
#define X86_CR0_PG    PG_CR0_PG

#define X86_CR4_PSE   PG_CR4_PSE
#define X86_CR4_PAE   PG_CR4_PAE
#define X86_CR4_MCE   PG_CR4_MCE
#define X86_CR4_PGE   PG_CR4_PGE
#define X86_CR4_LA57  PG_CR4_LA57
#define X86_CR4_PCIDE PG_CR4_PCIDE
#define X86_CR4_SMEP  PG_CR4_SMEP
#define X86_CR4_SMAP  PG_CR4_SMAP
#define X86_CR4_PKE   PG_CR4_PKE

#define MSR_EFER      PG_MSR_EFER
#define EFER_SCE      PG_EFER_SCE
#define EFER_LME      PG_EFER_LME
#define EFER_LMA      PG_EFER_LMA
#define EFER_NXE      PG_EFER_NXE

#endif /* ASM_PROCESSOR_FLAGS_H */
