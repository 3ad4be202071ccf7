/*
 * command.c: what every ptlab command shares (see struct ptl_cmd in
 * ptlab.h): its option state, the one option loop (the command's own
 * options, the input options, --help), the memory source and the other
 * arguments, opening the target, running, closing it, and the exit status.
 * Depends on: ptlab.h.
 */
#include <stdlib.h>
#include <string.h>

#include "ptlab.h"

#define OPT_HELP    (PTL_OPT_CMD - 1)
#define GO          (-1)    /* parse: run the command */
#define MAX_OPTIONS 40

static int trouble(const struct ptl_cmd *cmd)
{
    return cmd->trouble ? cmd->trouble : PTL_EXIT_FAIL;
}

static size_t count_options(const struct option *o)
{
    size_t n = 0;
    while (o && o[n].name)
        n++;
    return n;
}

/* cmd's getopt_long table into tab: the input options (if it reads memory), its own, --help. */
static void option_table(const struct ptl_cmd *cmd, struct option tab[MAX_OPTIONS])
{
    size_t ni = cmd->input ? count_options(ptl_input_options) : 0;
    size_t nc = count_options(cmd->options);
    if (ni + nc + 2 > MAX_OPTIONS)
        abort();    /* a command declares more options than this table holds */
    if (ni)
        memcpy(tab, ptl_input_options, ni * sizeof(*tab));
    if (nc)
        memcpy(tab + ni, cmd->options, nc * sizeof(*tab));
    tab[ni + nc] = (struct option){ "help", no_argument, NULL, OPT_HELP };
    tab[ni + nc + 1] = (struct option){ 0, 0, 0, 0 };
}

/*
 * parse - argv's options into state and *in, the memory source into *in,
 * then the command's own arguments (cmd->args).
 * returns: GO; or the exit status after --help or a usage error.
 */
static int parse(const struct ptl_cmd *cmd, int argc, char **argv, void *state,
                 struct ptl_input_opts *in)
{
    struct option tab[MAX_OPTIONS];
    option_table(cmd, tab);
    optind = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", tab, NULL)) != -1) {
        if (c == 'h' || c == OPT_HELP) {
            fputs(cmd->help, stdout);
            if (cmd->input)
                fputs(ptl_input_help, stdout);
            return PTL_EXIT_OK;
        }
        int r = cmd->input ? ptl_input_option(cmd->name, c, optarg, in) : -1;
        if (r < 0 && c >= PTL_OPT_CMD)
            r = cmd->option(state, c, optarg);
        if (r < 0)      /* '?': getopt_long has said which */
            return ptl_usage_error(cmd->name, "unknown option");
        if (r > 0)
            return r;
    }
    int nargs = argc - optind;
    char **args = argv + optind;
    int r = cmd->input ? ptl_input_source(cmd->name, in, &nargs, &args) : 0;
    if (r > 0)
        return r;
    if (r < 0 || (unsigned)nargs < cmd->min_args || (unsigned)nargs > cmd->max_args)
        return ptl_usage_error(cmd->name, "%s", cmd->args_error);
    r = cmd->args ? cmd->args(state, nargs, args) : 0;
    return r ? r : GO;
}

/* run - open the target (for a command with input), run cmd on it, close it. */
static int run(const struct ptl_cmd *cmd, void *state, const struct ptl_input_opts *in)
{
    if (!cmd->input)
        return cmd->run(state, NULL);
    struct ptl_target t;
    int rc = ptl_target_open(&t, in);
    if (rc)
        return rc > trouble(cmd) ? rc : trouble(cmd);
    rc = cmd->run(state, &t);
    ptl_target_close(&t);
    return rc;
}

int ptl_cmd_main(const struct ptl_cmd *cmd, int argc, char **argv)
{
    void *state = calloc(1, cmd->state_size ? cmd->state_size : 1);
    if (!state) {
        ptl_error(cmd->name, "out of memory");
        return trouble(cmd);
    }
    if (cmd->defaults)
        memcpy(state, cmd->defaults, cmd->state_size);
    struct ptl_input_opts in;
    ptl_input_defaults(&in);
    int rc = parse(cmd, argc, argv, state, &in);
    if (rc == GO)
        rc = run(cmd, state, &in);
    free(state);
    if (fflush(stdout) != 0 && rc < trouble(cmd)) {
        perror("ptlab: stdout");
        rc = trouble(cmd);
    }
    return rc;
}
