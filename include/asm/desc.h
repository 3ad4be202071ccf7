/*
 * desc.h: the kernel's GDT and TSS (arch/x86/kernel/gdt.c), one pair per CPU.
 *
 * The GDT keeps the boot selectors (0x08 32-bit kernel code, 0x10 kernel
 * code, 0x18 kernel data) and adds Linux's user segments in the order
 * SYSCALL/SYSRET need (0x23 user 32-bit code, 0x2b user data, 0x33 user
 * code) and a 64-bit TSS at 0x40, whose RSP0 is the kernel stack the CPU
 * switches to when an interrupt or exception arrives in ring 3, and whose
 * IST 1 is the CPU's #DF stack.
 */
#ifndef ASM_DESC_H
#define ASM_DESC_H

/* Offsets in struct tss_struct, for the entry code. */
#define TSS_sp0                   4
#define TSS_sp2                   20
#define TSS_pti_flags             104
#define TSS_user_pcid_flush_mask  112
#define TSS_pti_cr3_stats         120
#define PTI_FLAG_ON               1 /* pti_flags: switch CR3 on entry and exit */
#define PTI_FLAG_PCID             2 /* ... with PCIDs (user PCID, no-flush bit) */

#ifndef __ASSEMBLER__
#include <stdbool.h>
#include <stdint.h>

/* The 64-bit hardware TSS (Intel SDM Vol. 3A, 8.7). */
struct x86_hw_tss {
	uint32_t reserved1;
	uint64_t sp0, sp1, sp2; /* stacks for CPL 0, 1, 2 */
	uint64_t reserved2;
	uint64_t ist[7];        /* interrupt stack table */
	uint32_t reserved3, reserved4;
	uint16_t reserved5;
	uint16_t io_bitmap_base; /* past the limit: no I/O bitmap, ring 3 has no port access */
} __attribute__((packed));

/*
 * CR3 loads by the entry code under PTI, per CPU (the shell's `cr3`, the
 * PTI bench): to the kernel PGD on entry, to the user PGD on exit, with a
 * TLB flush of the PCID loaded (always without PCID) or without (bit 63).
 */
struct pti_cr3_stats {
	uint64_t kernel_flush, kernel_noflush;
	uint64_t user_flush, user_noflush;
};

/*
 * tss_struct - the page of a CPU's TSS (Linux's cpu_tss_rw): the hardware
 * TSS and what the entry code reads or writes through %gs while it may run
 * on the user CR3 (offsets TSS_*): the PTI switches (PTI_FLAG_*), the kernel
 * PCIDs whose user twin must be flushed on the next exit to user mode
 * (Linux's user_pcid_flush_mask, one bit per kernel PCID), the CR3 counts.
 * Nothing else of the kernel: under PTI the user PGD maps this page.
 */
struct tss_struct {
	struct x86_hw_tss x86_tss;
	uint64_t pti_flags;
	uint64_t user_pcid_flush_mask;
	struct pti_cr3_stats pti_cr3_stats;
} __attribute__((aligned(4096)));

_Static_assert(__builtin_offsetof(struct tss_struct, pti_flags) == TSS_pti_flags, "TSS_pti_flags");
_Static_assert(__builtin_offsetof(struct tss_struct, user_pcid_flush_mask) == TSS_user_pcid_flush_mask, "mask");
_Static_assert(__builtin_offsetof(struct tss_struct, pti_cr3_stats) == TSS_pti_cr3_stats, "stats");
_Static_assert(__builtin_offsetof(struct x86_hw_tss, sp0) == TSS_sp0, "TSS_sp0");
_Static_assert(__builtin_offsetof(struct x86_hw_tss, sp2) == TSS_sp2, "TSS_sp2");
#endif /* !__ASSEMBLER__ */

/*
 * The interrupt stack table slot of the double fault (Linux's IST_INDEX_DF):
 * TSS.ist[IST_INDEX_DF] holds the top of a stack of its own (each CPU its
 * own), and the #DF gate selects it (IST = IST_INDEX_DF + 1), so that a kernel
 * stack overflow, which cannot push the #PF frame, still has a stack to
 * report on.
 */
#define IST_INDEX_DF 0

#ifndef __ASSEMBLER__
/*
 * cpu_init_gdt - load this CPU's GDT (boot selectors kept, user segments and
 * its TSS added), reload the segment registers and the task register, and
 * point GS at the CPU's per-CPU area again.
 * Precondition: interrupts off; GS already points at this CPU's area. returns: nothing.
 */
void cpu_init_gdt(void);

/*
 * update_task_stack - the top of the kernel stack of the task now running on
 * this CPU: where SYSCALL switches to and where an entry from ring 3 puts
 * its frame. Without PTI it is also TSS.RSP0; under PTI TSS.RSP0 stays this
 * CPU's entry stack in the cpu_entry_area, and the entry code moves the frame.
 */
void update_task_stack(uint64_t sp0);
/*
 * load_direct_gdt - under PTI, make this CPU use its GDT and TSS at their
 * per-CPU addresses (direct) or again through its cpu_entry_area (Linux's
 * load_direct_gdt / load_fixmap_gdt, which also reloads TR here): for code
 * that runs on page tables without the cpu_entry_area's NX mappings usable
 * (accesstest's probe window with EFER.NXE = 0). Nothing without PTI.
 * Precondition: interrupts off.
 */
void load_direct_gdt(bool direct);

/* The hardware TSS.RSP0 (where the CPU lands from ring 3): read, or replace (returns the old one). */
uint64_t current_task_stack(void);
uint64_t load_sp0(uint64_t sp0);
#endif /* !__ASSEMBLER__ */

#endif /* ASM_DESC_H */
