/*
 * header.S: the first sectors of the bzImage.
 *
 * Offset 0: a boot-sector stub that tells a BIOS user to use a boot loader.
 * Offset 0x1F1: the Linux boot protocol setup header (version 2.15) that
 * QEMU's -kernel and GRUB's `linux` read; fields marked "patched" are filled
 * in by tools/build.c. Offset 0x200: the real-mode entry: normalise segments
 * and stack, verify the whole setup was loaded, clear .bss, call main().
 * Linked at 0 in one 64 KiB real-mode segment (setup.ld).
 */
#include <asm/boot.h>
#include <asm/segment.h>

#define LOADED_HIGH  0x01
#define CAN_USE_HEAP 0x80
#define STACK_SIZE   0x1000

	.code16
	.section ".bstext", "ax"
	.globl	bootsect_start
bootsect_start:
	ljmp	$0x07c0, $1f		/* BIOS loaded us as a boot sector */
1:	movw	%cs, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	xorw	%sp, %sp
	sti
	cld
	movw	$bugger_off_msg, %si
2:	lodsb
	andb	%al, %al
	jz	3f
	movb	$0x0e, %ah
	movw	$7, %bx
	int	$0x10
	jmp	2b
3:	xorw	%ax, %ax		/* wait for a key, then reboot */
	int	$0x16
	int	$0x19
	ljmp	$0xf000, $0xfff0

	.section ".bsdata", "a"
bugger_off_msg:
	.ascii	"ptlab is a bzImage: boot it with QEMU -kernel or GRUB's linux command.\r\n"
	.ascii	"Press a key to reboot.\r\n"
	.byte	0

	.section ".header", "a"
	.globl	hdr
hdr:
setup_sects:	.byte	0		/* patched */
root_flags:	.word	0
syssize:	.long	0		/* patched */
ram_size:	.word	0
vid_mode:	.word	0xffff
root_dev:	.word	0
boot_flag:	.word	0xAA55

	/* offset 0x200: real-mode entry; the jump's displacement also gives the header length */
	.globl	_start
_start:
	.byte	0xeb
	.byte	start_of_setup - 1f
1:
	.ascii	"HdrS"
	.word	0x020F			/* boot protocol 2.15 */
realmode_swtch:	.word	0, 0
start_sys_seg:	.word	0x1000
		.word	0		/* kernel_version string: none */
type_of_loader:	.byte	0
loadflags:	.byte	LOADED_HIGH
setup_move_size: .word	0x8000
code32_start:	.long	0x100000
ramdisk_image:	.long	0
ramdisk_size:	.long	0
bootsect_kludge: .long	0
heap_end_ptr:	.word	_end + STACK_SIZE - 512
ext_loader_ver:	.byte	0
ext_loader_type: .byte	0
cmd_line_ptr:	.long	0
initrd_addr_max: .long	0x7fffffff
kernel_alignment: .long	0x200000	/* CONFIG_PHYSICAL_ALIGN */
relocatable_kernel: .byte 1
min_alignment:	.byte	21		/* log2(2 MiB) */
xloadflags:	.word	0
cmdline_size:	.long	2047
hardware_subarch: .long	0
hardware_subarch_data: .quad 0
payload_offset:	.long	0
payload_length:	.long	0
setup_data:	.quad	0
pref_address:	.quad	LOAD_PHYSICAL_ADDR
init_size:	.long	0		/* patched */
handover_offset: .long	0
kernel_info_offset: .long 0

	.section ".entrytext", "ax"
start_of_setup:
#ifdef BENCH_STUB
	/* The firmware floor for bench/: leave QEMU as soon as setup gains control. */
	movb	$0x10, %al
	outb	%al, $0xf4
	cli
	hlt
#endif
	movw	%ds, %ax
	movw	%ax, %es
	cld
	/* Stack: below heap_end_ptr + 512 if the loader gave us a heap, else after .bss. */
	movw	%ss, %dx
	cmpw	%ax, %dx
	movw	%sp, %dx
	je	2f
	movw	$_end + STACK_SIZE, %dx
	testb	$CAN_USE_HEAP, loadflags
	jz	1f
	movw	heap_end_ptr, %dx
	addw	$512, %dx
	jnz	1f
	movw	$0xfffc, %dx		/* heap_end_ptr + 512 wrapped to 0 */
1:	movw	%ax, %ss
2:	andw	$~3, %dx
	movzwl	%dx, %esp
	sti
	/* CS := DS */
	pushw	%ds
	pushw	$3f
	lretw
3:
	cmpl	$0x5a5aaa55, setup_sig
	jne	setup_bad
	/* clear .bss */
	movw	$__bss_start, %di
	movw	$_end + 3, %cx
	xorl	%eax, %eax
	subw	%di, %cx
	shrw	$2, %cx
	rep	stosl
	calll	main
setup_bad:
	/* The loader did not load all of setup: nothing more we can trust. */
	movb	$0x11, %al
	outb	%al, $0xf4
4:	cli
	hlt
	jmp	4b
