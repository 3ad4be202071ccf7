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
 * The interrupt stack table slot of the double fault (Linux's IST_INDEX_DF):
 * TSS.ist[IST_INDEX_DF] holds the top of a stack of its own (each CPU its
 * own), and the #DF gate selects it (IST = IST_INDEX_DF + 1), so that a kernel
 * stack overflow, which cannot push the #PF frame, still has a stack to
 * report on.
 */
#define IST_INDEX_DF 0

/*
 * cpu_init_gdt - load this CPU's GDT (boot selectors kept, user segments and
 * its TSS added), reload the segment registers and the task register, and
 * point GS at the CPU's per-CPU area again.
 * Precondition: interrupts off; GS already points at this CPU's area. returns: nothing.
 */
void cpu_init_gdt(void);

/* The kernel stack this CPU takes on an entry from ring 3 (and SYSCALL uses): set, read. */
void update_task_stack(uint64_t sp0);
uint64_t current_task_stack(void);

#endif /* ASM_DESC_H */
