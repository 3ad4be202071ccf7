/*
 * main.c: the ptlab host tool's entry point: global help and dispatch to
 * one command (struct ptl_cmd, run by command.c).
 *
 * ptlab reads QEMU dump-guest-memory ELF files and raw memory images and
 * shows, checks and compares the page tables in them with lib/paging.
 * Depends on: ptlab.h and the command files.
 */
#include <string.h>

#include "ptlab.h"

static const struct ptl_cmd *const commands[] = {
    &ptl_cmd_info, &ptl_cmd_maps, &ptl_cmd_regions, &ptl_cmd_vtop, &ptl_cmd_ptov, &ptl_cmd_lint,
    &ptl_cmd_diff, &ptl_cmd_explain,
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct ptl_cmd *find_command(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(name, commands[i]->name))
            return commands[i];
    return NULL;
}

static void global_help(FILE *f)
{
    fprintf(f, "usage: ptlab COMMAND [OPTIONS] ARGUMENTS\n"
               "Read, walk, check and compare x86 page tables in QEMU memory dumps.\n\n"
               "Commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-8s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(f, "\nDUMP is a QEMU dump-guest-memory ELF file (CR3 and CR4 come from its QEMU\n"
               "notes) or, with --raw --cr3 --mode, a raw physical memory image.\n"
               "Run 'ptlab COMMAND --help' for a command's options; see ptlab(1).\n"
               "Exit status: 0 success, 1 failure or findings (diff: differences), 2 usage\n"
               "error (diff: also unreadable input).\n");
}

int main(int argc, char **argv)
{
    static char outbuf[1 << 20];
    setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
    if (argc < 2) {
        global_help(stderr);
        return PTL_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
        const struct ptl_cmd *cmd = argc > 2 && !strcmp(name, "help") ? find_command(argv[2])
                                                                      : NULL;
        if (cmd) {
            char *a[] = { argv[2], (char *)"--help", NULL };
            return ptl_cmd_main(cmd, 2, a);
        }
        global_help(stdout);
        return PTL_EXIT_OK;
    }
    if (!strcmp(name, "--version")) {
        printf("ptlab 0.1\n");
        return PTL_EXIT_OK;
    }
    const struct ptl_cmd *cmd = find_command(name);
    if (cmd)
        return ptl_cmd_main(cmd, argc - 1, argv + 1);
    fprintf(stderr, "ptlab: unknown command '%s'\n", name);
    global_help(stderr);
    return PTL_EXIT_USAGE;
}
