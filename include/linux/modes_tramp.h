/*
 * modes_tramp.h: the layout shared by the `modes` trampoline
 * (arch/x86/kernel/modes_32.S) and its driver (arch/x86/kernel/modes.c):
 * offsets in the trampoline page, the parameter block, the step log and the
 * step numbers. Safe to include from assembly.
 */
#ifndef LINUX_MODES_TRAMP_H
#define LINUX_MODES_TRAMP_H

/* The trampoline page: code and tables from 0, the stack below MT_STACK_TOP,
 * the parameter block (and the log) from MT_PARAMS. */
#define MT_STACK_TOP   0xa00
#define MT_PARAMS      0xa00
#define MT_MAX_STEPS   20

/* Parameter block (8-byte fields; 32-bit code uses their low halves). */
#define MP_KERNEL_GDT  0x00    /* sgdt: 2 + 8 bytes */
#define MP_KERNEL_IDT  0x10    /* sidt */
#define MP_SAVED_RSP   0x20
#define MP_KERNEL_CR4  0x28
#define MP_KERNEL_EFER 0x30
#define MP_KERNEL_CR0  0x38
#define MP_CR3_32      0x40    /* 32-bit page directory (also read as the PAE PDPT) */
#define MP_CR3_LONG    0x48    /* the temporary 4/5-level table, below 4 GiB */
#define MP_LA57        0x50    /* CR4.LA57 to set again before IA-32e, or 0 */
#define MP_ILLEGAL     0x58    /* nonzero: also run the writes that must #GP */
#define MP_NSTEPS      0x60
#define MP_RECOVER     0x68
#define MP_SAVED_ESP   0x70
#define MP_LOG         0x80    /* MT_MAX_STEPS records of 32 bytes */

/* One log record. */
#define ML_STEP        0
#define ML_VECTOR      4       /* 0, or 13 for #GP */
#define ML_CR0         8
#define ML_CR3         12
#define ML_CR4         16
#define ML_EFER        20

/* Steps, in the order the trampoline makes them. */
#define MS_CLEAR_PG_COMPAT  1   /* clear CR0.PG in compatibility mode: leave IA-32e */
#define MS_CLEAR_LME        2   /* WRMSR EFER.LME = 0 (paging off) */
#define MS_CR4_LEGACY       3   /* CR4: PAE = LA57 = 0, PSE = 1 */
#define MS_CR3_PD32         4   /* CR3 = the 32-bit page directory */
#define MS_SET_PG_32BIT     5   /* CR0.PG = 1: 32-bit paging */
#define MS_LME_IN_32BIT     6   /* illegal: EFER.LME = 1 with CR0.PG = 1 -> #GP */
#define MS_SET_PAE_PAGING   7   /* CR4.PAE = 1 with paging on: PAE paging */
#define MS_LME_IN_PAE       8   /* illegal: EFER.LME = 1 with CR0.PG = 1 -> #GP */
#define MS_CLEAR_PG         9   /* CR0.PG = 0: paging off */
#define MS_CLEAR_PAE        10  /* (illegal path) CR4.PAE = 0 */
#define MS_LME_NO_PAE       11  /* (illegal path) EFER.LME = 1, paging off */
#define MS_PG_LME_NO_PAE    12  /* illegal: CR0.PG = 1 with LME = 1, PAE = 0 -> #GP */
#define MS_CR4_LONG         13  /* CR4.PAE = 1 (and LA57 as the kernel) */
#define MS_CR3_LONG         14  /* CR3 = the 4/5-level table */
#define MS_SET_LME          15  /* EFER.LME = 1, paging off */
#define MS_SET_PG_LONG      16  /* CR0.PG = 1: IA-32e, compatibility mode */
#define MS_FAR_JUMP_64      17  /* far jump to a 64-bit code segment: 64-bit mode */

#endif /* LINUX_MODES_TRAMP_H */
