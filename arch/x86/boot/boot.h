/*
 * boot.h: helpers for the 16-bit real-mode setup (gcc -m16): far memory
 * access through FS/GS and the setup's own functions.
 */
#ifndef BOOT_BOOT_H
#define BOOT_BOOT_H

#include <asm/bootparam.h>
#include <stdint.h>

extern struct setup_header hdr;      /* the header as the loader left it (header.S) */
extern struct boot_params boot_params;

static inline uint16_t ds(void)
{
	uint16_t seg;
	__asm__("movw %%ds, %0" : "=rm"(seg));
	return seg;
}

static inline void set_fs(uint16_t seg)
{
	__asm__ volatile("movw %0, %%fs" : : "rm"(seg));
}

static inline void set_gs(uint16_t seg)
{
	__asm__ volatile("movw %0, %%gs" : : "rm"(seg));
}

static inline uint8_t rdfs8(uint16_t off)
{
	uint8_t v;
	__asm__ volatile("movb %%fs:(%1), %0" : "=q"(v) : "r"((uint32_t)off));
	return v;
}

static inline uint32_t rdfs32(uint16_t off)
{
	uint32_t v;
	__asm__ volatile("movl %%fs:(%1), %0" : "=r"(v) : "r"((uint32_t)off));
	return v;
}

static inline void wrfs32(uint32_t v, uint16_t off)
{
	__asm__ volatile("movl %0, %%fs:(%1)" : : "r"(v), "r"((uint32_t)off) : "memory");
}

static inline uint32_t rdgs32(uint16_t off)
{
	uint32_t v;
	__asm__ volatile("movl %%gs:(%1), %0" : "=r"(v) : "r"((uint32_t)off));
	return v;
}

int detect_memory(void);
int enable_a20(void);
__attribute__((noreturn)) void go_to_protected_mode(void);
__attribute__((noreturn)) void protected_mode_jump(uint32_t entry, uint32_t boot_params_linear);

#endif /* BOOT_BOOT_H */
