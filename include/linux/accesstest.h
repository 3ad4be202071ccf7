/*
 * accesstest.h: the live-CPU checks of lib/paging's MMU model (issue 9 part 3),
 * as shell commands (docs/shell.md, docs/mmu.md "On the live CPU").
 *
 * accesstest [quick|full]  enumerates access-rights combinations in the spirit
 *                          of kvm-unit-tests' x86/access on the running CPU and
 *                          compares each outcome with pg_mmu_access.
 * modes [illegal]          leaves long mode through an identity-mapped
 *                          trampoline, walks seed 003's transitions in 32-bit
 *                          protected mode and compares each step with the
 *                          control-register model (pg_cpu_write_*).
 *
 * Both return 0 when every compared outcome agrees with the model, 1 otherwise
 * (bad arguments, setup failure, or a mismatch).
 */
#ifndef LINUX_ACCESSTEST_H
#define LINUX_ACCESSTEST_H

#include <stdbool.h>

int accesstest_command(int argc, char **argv);
int modes_command(int argc, char **argv);

/*
 * The oracle the kernel runs on, for the one place that normalises its known
 * deviations: QEMU TCG (CPUID 0x40000000 "TCGTCGTCGTCG", or `oracle=qemu` on
 * the command line), or anything else (`oracle=bochs`, `oracle=hw`), where
 * every difference from the model is a mismatch and the illegal
 * control-register orders of `modes` may be probed.
 */
bool oracle_is_qemu_tcg(void);
bool oracle_is_bochs(void); /* `oracle=bochs`: Bochs's deviations (accesstest.c) */
const char *oracle_name(void);

#endif /* LINUX_ACCESSTEST_H */
