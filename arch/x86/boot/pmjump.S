/*
 * pmjump.S: protected_mode_jump(entry = EAX, boot_params = EDX) (regparm 3).
 * Sets CR0.PE, far-jumps to 32-bit code through __BOOT_CS, loads __BOOT_DS,
 * and enters the 32-bit entry with ESI = boot_params and EBX = EBP = EDI = 0,
 * as the boot protocol's 32-bit entry contract requires.
 */
#include <asm/segment.h>

	.code16
	.text
	.globl	protected_mode_jump
protected_mode_jump:
	movl	%edx, %esi		/* boot_params, linear */
	xorl	%ebx, %ebx
	movw	%cs, %bx
	shll	$4, %ebx
	addl	%ebx, 2f		/* make the far jump's offset linear */
	jmp	1f			/* flush the prefetched old bytes */
1:
	movw	$__BOOT_DS, %cx
	movl	%cr0, %edx
	orb	$1, %dl			/* CR0.PE */
	movl	%edx, %cr0
	.byte	0x66, 0xea		/* ljmpl __BOOT_CS:in_pm32 */
2:	.long	in_pm32
	.word	__BOOT_CS

	.code32
in_pm32:
	LOAD_DATA_SEGMENTS %ecx
	addl	%ebx, %esp		/* the stack pointer becomes linear too */
	xorl	%ecx, %ecx
	xorl	%edx, %edx
	xorl	%ebx, %ebx
	xorl	%ebp, %ebp
	xorl	%edi, %edi
	jmpl	*%eax
