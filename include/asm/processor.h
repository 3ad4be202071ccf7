/*
 * processor.h: the privileged instructions the boot chain and kernel use
 * (CR0/CR2/CR3/CR4, MSRs, CPUID, port I/O); the register bits' names come
 * from asm/processor-flags.h.
 * Works in 16-bit (gcc -m16), 32-bit and 64-bit code: register reads are
 * done at native width and returned as uint64_t.
 */
#ifndef ASM_PROCESSOR_H
#define ASM_PROCESSOR_H

#include <asm/processor-flags.h>
#include <stdint.h>

/* CPUID 0x80000001 EDX */
#define X86_EXT_SYSCALL (1u << 11)
#define X86_EXT_NX      (1u << 20)
#define X86_EXT_GBPAGES (1u << 26)
#define X86_EXT_LM      (1u << 29)

/* outb/inb (bytes) and outl/inl (32 bits, PCI configuration space): one port access each. */
#define X86_PORT_IO(suffix, type)                                              \
	static inline void out##suffix(type v, uint16_t port)                  \
	{                                                                      \
		__asm__ volatile("out" #suffix " %0, %1" : : "a"(v), "dN"(port)); \
	}                                                                      \
	static inline type in##suffix(uint16_t port)                           \
	{                                                                      \
		type v;                                                        \
		__asm__ volatile("in" #suffix " %1, %0" : "=a"(v) : "dN"(port)); \
		return v;                                                      \
	}
X86_PORT_IO(b, uint8_t)
X86_PORT_IO(l, uint32_t)
#undef X86_PORT_IO

static inline void io_delay(void)
{
	outb(0, 0x80);
}

static inline void cpuid(uint32_t leaf, uint32_t subleaf, uint32_t *a, uint32_t *b, uint32_t *c,
			 uint32_t *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(subleaf));
}

/* read_crN: unsigned long is the native register width in 16-, 32- and 64-bit code. */
#define X86_READ_CR(n)                                                  \
	static inline uint64_t read_cr##n(void)                         \
	{                                                               \
		unsigned long v;                                        \
		__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));       \
		return v;                                               \
	}
X86_READ_CR(0)
X86_READ_CR(2)
X86_READ_CR(3)
X86_READ_CR(4)
#undef X86_READ_CR

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

#if defined(__x86_64__)
static inline void write_cr3(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}
static inline void write_cr4(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}
static inline uint64_t read_rip(void)
{
	uint64_t rip;
	__asm__ volatile("lea 0(%%rip), %0" : "=r"(rip));
	return rip;
}
#endif

/* Whether the EFER MSR exists: some CPUID 0x80000001 EDX feature needs it. */
static inline int cpu_has_efer(void)
{
	uint32_t a, b, c, d;
	cpuid(0x80000000u, 0, &a, &b, &c, &d);
	if (a < 0x80000001u)
		return 0;
	cpuid(0x80000001u, 0, &a, &b, &c, &d);
	return (d & (X86_EXT_SYSCALL | X86_EXT_NX | X86_EXT_LM)) != 0;
}

static inline uint64_t read_efer_safe(void)
{
	return cpu_has_efer() ? rdmsr(MSR_EFER) : 0;
}

static inline __attribute__((noreturn)) void halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

#endif /* ASM_PROCESSOR_H */
