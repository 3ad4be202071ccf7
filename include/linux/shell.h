/*
 * shell.h: the serial-console shell that explores the live page tables
 * (commands and formats: docs/shell.md).
 */
#ifndef LINUX_SHELL_H
#define LINUX_SHELL_H

#include <paging/pg_format.h>
#include <stdbool.h>

/* For the command files (shell.c, proc_shell.c): lib/paging output to the console, word equality. */
extern const struct pg_sink console_sink;
bool streq(const char *a, const char *b);
/*
 * Linux's ptdump markers for the running paging mode with the direct map at
 * ptlab's PAGE_OFFSET (lib/paging's pg_ptdump_markers_for_layout).
 * returns: a table owned by the shell, ending with a NULL name.
 */
const struct pg_marker *kernel_ptdump_markers(void);

/* Run one command line. returns: 0, or nonzero when the command failed. */
int shell_execute(char *line);
/* Run the `run="a;b"` script of the command line. returns: false if a command failed. */
bool shell_run_script(const char *script);
/* The interactive loop: prompt "ptlab> ", never returns (exit leaves QEMU). */
__attribute__((noreturn)) void shell_loop(void);

#endif /* LINUX_SHELL_H */
