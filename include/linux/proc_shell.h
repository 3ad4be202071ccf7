/*
 * proc_shell.h: the shell's process commands (kernel/proc_shell.c; formats
 * in docs/shell.md): ps, run, kill, switches, and the per-process forms of
 * ptdump (ptdump user PID) and vtop (vtop VA PID). Each takes the shell's
 * argc/argv and returns 0, or nonzero when the command failed.
 */
#ifndef LINUX_PROC_SHELL_H
#define LINUX_PROC_SHELL_H

#include <stdint.h>

int cmd_ps(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_kill(int argc, char **argv);
int cmd_switches(int argc, char **argv);
int ptdump_user_pid(const char *pid_arg);
int vtop_pid(uint64_t va, const char *pid_arg);

#endif /* LINUX_PROC_SHELL_H */
