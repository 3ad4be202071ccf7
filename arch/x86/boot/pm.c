/*
 * pm.c: go_to_protected_mode, the last step of the real-mode setup:
 * interrupts and NMI off, A20 on, PICs masked, a null IDT, the boot GDT
 * (__BOOT_CS 0x10, __BOOT_DS 0x18, values as Linux's), then
 * protected_mode_jump() to code32_start with ESI = boot_params.
 */
#include "boot.h"

#include <asm/console.h>
#include <asm/processor.h>
#include <asm/segment.h>

struct __attribute__((packed)) gdt_ptr {
	uint16_t len;
	uint32_t ptr;
};

static const uint64_t boot_gdt[] __attribute__((aligned(16))) = {
	[__BOOT_CS / 8] = GDT_BOOT_CS,
	[__BOOT_DS / 8] = GDT_BOOT_DS,
};

void go_to_protected_mode(void)
{
	static struct gdt_ptr gdt;
	static const struct gdt_ptr null_idt = { 0, 0 };
	uint32_t base = (uint32_t)ds() << 4;

	__asm__ volatile("cli");
	outb(0x80, 0x70); /* NMI off */
	io_delay();
	if (enable_a20())
		panic("setup: the A20 gate cannot be enabled; memory above 1 MiB would wrap");

	outb(0xff, 0xa1); /* mask all interrupts on the secondary PIC */
	io_delay();
	outb(0xfb, 0x21); /* and all but the cascade on the primary */
	io_delay();

	__asm__ volatile("lidtl %0" : : "m"(null_idt));
	gdt.len = sizeof(boot_gdt) - 1;
	gdt.ptr = base + (uint32_t)(uintptr_t)boot_gdt;
	__asm__ volatile("lgdtl %0" : : "m"(gdt));

	protected_mode_jump(boot_params.hdr.code32_start, base + (uint32_t)(uintptr_t)&boot_params);
}
