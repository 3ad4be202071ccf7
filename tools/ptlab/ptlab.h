/*
 * ptlab.h: declarations shared by the ptlab host tool's command files.
 *
 * Every command is a struct ptl_cmd (one per cmd_*.c file): its help, its
 * own options and its arguments, and the function that runs it. command.c
 * does the rest for all of them: the option loop, the input options and the
 * memory source (input.c), opening the target, --help and usage errors. The
 * helpers here parse numbers and ranges, describe ranges for humans (rights,
 * memory type, page size) and write output.
 * Exit status of every command: 0 success, 1 a failure or findings (lint,
 * vtop, ptov), 2 a usage error; diff, as diff(1): 0 same, 1 different,
 * 2 trouble.
 * Depends on: target.h, lib/paging.
 */
#ifndef PTLAB_PTLAB_H
#define PTLAB_PTLAB_H

#include <getopt.h>
#include <stdio.h>

#include <paging/paging.h>
#include <paging/pg_format.h>
#include <paging/regs.h>

#include "target.h"

#define PTL_EXIT_OK       0
#define PTL_EXIT_FAIL     1
#define PTL_EXIT_USAGE    2
#define PTL_EXIT_TROUBLE  2     /* diff: usage errors and unreadable input alike */

/* ---- commands (command.c) ---- */

/* getopt_long codes of a command's own options start here (the input options' are below). */
#define PTL_OPT_CMD 0x200

/* How many arguments after the memory source: no upper limit. */
#define PTL_ARGS_ANY (~0U)

/*
 * struct ptl_cmd - one command, as its file declares it.
 * name, summary    the command word and its line in `ptlab --help`
 * help             the --help text: usage line, what it does, its own options
 *                  (for a command with input, the input options' text follows)
 * input            true: the command reads guest memory. It takes the input
 *                  options and a memory source (the DUMP argument), and run()
 *                  gets the target opened from them
 * state_size, defaults  the command's own option state: state_size bytes,
 *                  copied from defaults (NULL: zeroed), handed to every call
 * options          its own getopt_long rows, codes from PTL_OPT_CMD up,
 *                  {0}-terminated (NULL: none)
 * option           handles one of them (arg: optarg)
 * min_args, max_args  how many arguments follow the memory source
 * args_error       the usage message when their number is outside that
 * args             checks the options together and parses those arguments
 *                  (argv[0..argc)), after every option and before the memory
 *                  is opened, so that usage errors come first (NULL: nothing)
 * run              the command proper; t is NULL without input
 * trouble          the exit status when the input cannot be opened or read
 *                  (0: PTL_EXIT_FAIL); diff's is PTL_EXIT_TROUBLE, as its 1
 *                  means "different"
 * option and args return 0 to go on, or an exit status (ptl_usage_error's);
 * run returns the exit status.
 */
struct ptl_cmd {
    const char *name;
    const char *summary;
    const char *help;
    bool input;
    size_t state_size;
    const void *defaults;
    const struct option *options;
    int (*option)(void *state, int code, const char *arg);
    unsigned min_args, max_args;
    const char *args_error;
    int (*args)(void *state, int argc, char **argv);
    int (*run)(void *state, struct ptl_target *t);
    int trouble;
};

extern const struct ptl_cmd ptl_cmd_info, ptl_cmd_maps, ptl_cmd_vtop, ptl_cmd_ptov,
    ptl_cmd_lint, ptl_cmd_diff, ptl_cmd_explain, ptl_cmd_regions;

/*
 * ptl_cmd_main - run one command: argv[0] is the command's name, then its
 * options and arguments in any order (getopt_long's permutation).
 * returns: the exit status (stdout flushed; a failed write is a failure).
 */
int ptl_cmd_main(const struct ptl_cmd *cmd, int argc, char **argv);

/* ---- the input options and the memory source (input.c) ---- */

/* The getopt_long rows of the input options, {0}-terminated. */
extern const struct option ptl_input_options[];

/* The help text lines describing the input options. */
extern const char ptl_input_help[];

/* Defaults of the input options. */
void ptl_input_defaults(struct ptl_input_opts *o);

/*
 * ptl_input_option - handle one getopt_long result if it is an input option.
 * @cmd: the command name for messages
 * returns: 0 if handled; -1 if c is not an input option; PTL_EXIT_USAGE
 *          after printing a usage error for a bad value.
 */
int ptl_input_option(const char *cmd, int c, const char *arg, struct ptl_input_opts *o);

/*
 * ptl_input_source - take the memory source from the arguments left after
 * the options: the first one, the DUMP file, unless a live source was given
 * by an option (--gdb, --mem-file with --qmp), which takes none. *argc and
 * *argv are advanced past what was taken.
 * @cmd: the command name for messages
 * returns: 0; -1 if the source is missing; PTL_EXIT_USAGE after printing a
 *          usage error (conflicting source options).
 */
int ptl_input_source(const char *cmd, struct ptl_input_opts *o, int *argc, char ***argv);

/* ---- parsing and messages (opts.c) ---- */

/*
 * ptl_parse_u64 - an address or size: hex with or without 0x (addresses are
 * hex, as in QEMU's monitor and crash); an optional K, M, G or T suffix
 * multiplies by 2^10, 2^20, 2^30, 2^40.
 * returns: 0; -1 if s is not such a number or it does not fit in 64 bits.
 */
int ptl_parse_u64(const char *s, uint64_t *v);

/*
 * ptl_parse_address - an address argument of command cmd (ptl_parse_u64).
 * returns: 0; PTL_EXIT_USAGE after saying that s is not a hex address.
 */
int ptl_parse_address(const char *cmd, const char *s, uint64_t *v);

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

/* v as a JSON string literal on stdout (quotes, backslashes and control characters escaped). */
void ptl_json_literal(const char *v);

/* Page size name of a range's entries ("4K", "2M", "4M", "1G", "512G", ...). */
const char *ptl_page_size_str(uint64_t page_size, char buf[32]);

/* The IA32_PAT value Linux programs (entry 1 = WC); the power-on value is PG_PAT_RESET. */
#define PTL_PAT_LINUX   0x0407050600070106ULL

/* Memory type of a leaf with canonical protection prot under the PAT MSR value pat. */
const char *ptl_mem_type(uint64_t prot, uint64_t pat);

/* "rwxu" string of effective rights (eff from pg_range.eff). */
const char *ptl_rights_str(uint64_t eff, char buf[8]);

/*
 * ptl_grow - room for element n of a growable array v of *cap elements of
 * size bytes: v itself while n < *cap, else v moved to a block of twice the
 * capacity (first elements the first time).
 * returns: the array; NULL when out of memory, with v freed (the caller
 *          gives up: the array and *cap are empty).
 */
void *ptl_grow(void *v, size_t n, size_t *cap, size_t size, size_t first);

#endif /* PTLAB_PTLAB_H */
