/*
 * proc_shell.h: the shell's process and CPU commands (kernel/proc_shell.c,
 * kernel/smp_shell.c; formats in docs/shell.md): ps, run, kill, switches,
 * cpus, shootdowns, and the per-process forms of ptdump (ptdump user PID)
 * and vtop (vtop VA PID). Each takes the shell's argc/argv and returns 0, or
 * nonzero when the command failed.
 */
#ifndef LINUX_PROC_SHELL_H
#define LINUX_PROC_SHELL_H

#include <paging/paging.h>
#include <stddef.h>
#include <stdint.h>

int cmd_ps(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_kill(int argc, char **argv);
int cmd_switches(int argc, char **argv);
/* kernel/smp_shell.c */
int cmd_cpus(int argc, char **argv);
int cmd_shootdowns(int argc, char **argv);
/*
 * The arguments of `NAME [reset]` over the per-CPU counters at offset (size
 * bytes of struct pcpu): `reset` zeroes them ("WHAT statistics reset").
 * returns: 0 or 1 when the command is done (reset, or usage printed), -1 to go on.
 */
int stats_command_args(int argc, char **argv, const char *name, const char *what, size_t offset, size_t size);
/* The table in CPU arg's CR3 (read on that CPU). returns: 0, or 1 (error printed). */
int cpu_arg_root(const char *arg, phys_addr_t *root);
int ptdump_user_pid(const char *pid_arg);
/* `ptdump user-pgd PID`: the whole user PGD of PID's pair under PTI (user space and the entry trampoline). */
int ptdump_user_pgd_pid(const char *pid_arg);
/* Selftests (kernel/proc_test.c): run name with argv to its end. returns: the wait status, or -1. */
int run_to_end(const char *name, int argc, char **argv);
int vtop_pid(uint64_t va, const char *pid_arg);

#endif /* LINUX_PROC_SHELL_H */
