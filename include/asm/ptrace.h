/*
 * ptrace.h: struct pt_regs, the register frame entry_64.S builds for every
 * exception (general registers, vector, error code, then the CPU's frame).
 */
#ifndef ASM_PTRACE_H
#define ASM_PTRACE_H

#include <stdint.h>

struct pt_regs {
	uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
	uint64_t rax, rcx, rdx, rsi, rdi;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

#endif /* ASM_PTRACE_H */
