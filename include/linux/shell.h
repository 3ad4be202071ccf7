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
 * Linux's ptdump markers for the running paging mode at the live
 * page_offset_base, vmalloc_base and vmemmap_base (lib/paging's
 * pg_ptdump_markers_for_layout).
 * returns: a table owned by the shell, ending with a NULL name.
 */
const struct pg_marker *kernel_ptdump_markers(void);

/* `layout` (arch/x86/mm/dump_layout.c): the memory map as Linux's mm.rst, the vmalloc areas. */
int cmd_layout(int argc, char **argv);

/* Run one command line. returns: 0, or nonzero when the command failed. */
int shell_execute(char *line);
/* Run the `run="a;b"` script of the command line. returns: false if a command failed. */
bool shell_run_script(const char *script);
/* The interactive loop: prompt "ptlab> ", never returns (exit leaves QEMU). */
__attribute__((noreturn)) void shell_loop(void);

#endif /* LINUX_SHELL_H */
