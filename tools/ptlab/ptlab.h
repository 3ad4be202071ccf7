/*
 * ptlab.h: declarations shared by the ptlab host tool's command files.
 *
 * main.c parses the command line and dispatches to one cmd_* function per
 * command; the helpers here parse numbers and ranges, describe ranges for
 * humans (rights, memory type, page size) and write output.
 * Exit status of every command: 0 success, 1 a failure or (lint) findings,
 * 2 a usage error.
 * Depends on: target.h, lib/paging.
 */
#ifndef PTLAB_PTLAB_H
#define PTLAB_PTLAB_H

#include <stdio.h>

#include <paging/paging.h>
#include <paging/pg_format.h>

#include "target.h"

#define PTL_EXIT_OK     0
#define PTL_EXIT_FAIL   1
#define PTL_EXIT_USAGE  2

/* One command: its name, its entry point (argv[0] = the command name) and a summary. */
struct ptl_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

int cmd_info(int argc, char **argv);
int cmd_maps(int argc, char **argv);
int cmd_vtop(int argc, char **argv);
int cmd_ptov(int argc, char **argv);
int cmd_lint(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_explain(int argc, char **argv);

/* ---- option parsing (opts.c) ---- */

/* getopt_long codes of the input options every dump-reading command takes. */
enum {
    OPT_CPU = 0x100, OPT_CR3, OPT_MODE, OPT_RAW, OPT_USER_PGD, OPT_KERNEL_PGD, OPT_PHYS_BITS,
    OPT_HELP, OPT_FORMAT, OPT_RANGE, OPT_USER, OPT_KERNEL, OPT_PERM, OPT_EXPAND, OPT_ACCESS,
    OPT_PAT, OPT_CR3_B, OPT_CPU_B, OPT_ALL, OPT_LIMIT, OPT_MAX_ENTRIES,
};

/* The struct option rows of the input options (to splice into a command's table). */
#define PTL_INPUT_OPTIONS                                               \
    { "cpu", required_argument, NULL, OPT_CPU },                        \
    { "cr3", required_argument, NULL, OPT_CR3 },                        \
    { "mode", required_argument, NULL, OPT_MODE },                      \
    { "raw", no_argument, NULL, OPT_RAW },                              \
    { "user-pgd", no_argument, NULL, OPT_USER_PGD },                    \
    { "kernel-pgd", no_argument, NULL, OPT_KERNEL_PGD },                \
    { "phys-bits", required_argument, NULL, OPT_PHYS_BITS },            \
    { "max-entries", required_argument, NULL, OPT_MAX_ENTRIES },        \
    { "help", no_argument, NULL, OPT_HELP }

/* The help text lines describing the input options. */
extern const char ptl_input_help[];

/*
 * ptl_input_option - handle one getopt_long result if it is an input option.
 * returns: 1 if handled; 0 if c is not an input option; -1 after printing a
 *          usage error for a bad value.
 */
int ptl_input_option(int c, const char *arg, struct ptl_input_opts *o);

/* Defaults of the input options. */
void ptl_input_defaults(struct ptl_input_opts *o);

/*
 * ptl_parse_u64 - an address or size: hex with or without 0x (addresses are
 * hex, as in QEMU's monitor and crash); an optional K, M, G or T suffix
 * multiplies by 2^10, 2^20, 2^30, 2^40.
 * returns: 0; -1 if s is not such a number or it does not fit in 64 bits.
 */
int ptl_parse_u64(const char *s, uint64_t *v);

/* ptl_parse_dec - a decimal number in [0, max]. returns: 0; -1. */
int ptl_parse_dec(const char *s, unsigned long max, unsigned long *v);

/*
 * ptl_parse_range - "A-B" (hex, B exclusive, B = 0 or omitted: the top of
 * the address space), or "A+SIZE".
 * returns: 0; -1.
 */
int ptl_parse_range(const char *s, uint64_t *start, uint64_t *end);

/* Print "ptlab CMD: MSG" and the pointer to --help; returns PTL_EXIT_USAGE. */
int ptl_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print "ptlab CMD: MSG" to stderr. */
void ptl_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- output and descriptions (describe.c) ---- */

/* A sink writing to stdout (buffered). */
extern const struct pg_sink ptl_stdout_sink;

/* Size in the largest unit that divides it exactly: "4K", "2M", "1G", "12288" bytes as "12K". */
const char *ptl_size_str(uint64_t size, char buf[32]);

/* Page size name of a range's entries ("4K", "2M", "4M", "1G", "512G", ...). */
const char *ptl_page_size_str(uint64_t page_size, char buf[32]);

/* Memory-type names of the 8 PAT indexes for the IA-32 power-on PAT value, and for Linux's. */
#define PTL_PAT_RESET   0x0007040600070406ULL
#define PTL_PAT_LINUX   0x0407050600070106ULL

/* Memory type of a leaf with canonical protection prot under the PAT MSR value pat. */
const char *ptl_mem_type(uint64_t prot, uint64_t pat);

/* "rwxu" string of effective rights (eff from pg_range.eff); nx_capable: mode has NX. */
const char *ptl_rights_str(uint64_t eff, char buf[8]);

#endif /* PTLAB_PTLAB_H */
