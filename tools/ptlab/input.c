/*
 * input.c: the input options of the ptlab host tool and the memory source
 * they describe, shared by every command that reads guest memory.
 *
 * This is the one place that knows which options select and interpret the
 * memory (--cpu, --cr3, --mode, --raw, the PTI PGD, --phys-bits,
 * --max-entries) and where the source comes from: the DUMP argument (a QEMU
 * ELF core, a kdump-compressed file, a LiME image, or with --raw a raw
 * image), or a running QEMU named by --gdb HOST:PORT or --mem-file FILE
 * --qmp SOCKET (then there is no DUMP argument). A new source is one more
 * option row, its case in ptl_input_option and its branch in
 * ptl_input_source, plus its reader behind ptl_source_open (source.c); the
 * commands do not change.
 * Depends on: ptlab.h.
 */
#include <stdio.h>
#include <string.h>

#include "ptlab.h"

/* getopt_long codes of the input options (the commands' own start at PTL_OPT_CMD). */
enum {
    OPT_CPU = 0x100, OPT_CR3, OPT_MODE, OPT_RAW, OPT_USER_PGD, OPT_KERNEL_PGD, OPT_PHYS_BITS,
    OPT_MAX_ENTRIES, OPT_GDB, OPT_MEM_FILE, OPT_QMP, OPT_KEEP_STOPPED, OPT_STATS, OPT_NO_CACHE,
};

const struct option ptl_input_options[] = {
    { "cpu", required_argument, NULL, OPT_CPU },
    { "cr3", required_argument, NULL, OPT_CR3 },
    { "mode", required_argument, NULL, OPT_MODE },
    { "raw", no_argument, NULL, OPT_RAW },
    { "user-pgd", no_argument, NULL, OPT_USER_PGD },
    { "kernel-pgd", no_argument, NULL, OPT_KERNEL_PGD },
    { "phys-bits", required_argument, NULL, OPT_PHYS_BITS },
    { "max-entries", required_argument, NULL, OPT_MAX_ENTRIES },
    { "gdb", required_argument, NULL, OPT_GDB },
    { "mem-file", required_argument, NULL, OPT_MEM_FILE },
    { "qmp", required_argument, NULL, OPT_QMP },
    { "keep-stopped", no_argument, NULL, OPT_KEEP_STOPPED },
    { "stats", no_argument, NULL, OPT_STATS },
    { "no-cache", no_argument, NULL, OPT_NO_CACHE },
    { 0, 0, 0, 0 },
};

const char ptl_input_help[] =
    "Input options:\n"
    "  --cpu N          use vCPU N's CR3 and CR4 from the dump (default 0)\n"
    "  --cr3 VALUE      walk the tables at this CR3 (PCID and flag bits are masked)\n"
    "  --mode 4|5|pae|32  paging mode (default: from CR0, CR4 and the ELF machine)\n"
    "  --raw            the file is a raw physical memory image (needs --cr3, --mode)\n"
    "  --no-cache       index a flattened kdump file afresh, without the index\n"
    "                   cache (also: PTLAB_NO_CACHE=1)\n"
    "  --gdb HOST:PORT  a running QEMU through its gdbstub (-s, -gdb tcp::PORT)\n"
    "                   instead of DUMP\n"
    "  --mem-file FILE --qmp SOCKET  a running QEMU through its guest RAM shared\n"
    "                   in FILE (memory-backend-file, share=on) and its QMP socket\n"
    "  --keep-stopped   leave a live guest paused when done (else it runs on)\n"
    "  --stats          say on stderr how many round trips a live source took\n"
    "  --user-pgd       walk the user PGD of a Linux PTI pair (CR3 with bit 12 set)\n"
    "  --kernel-pgd     walk the kernel PGD of a PTI pair (CR3 with bit 12 clear)\n"
    "  --phys-bits N    MAXPHYADDR for reserved-bit checks (default 52)\n"
    "  --max-entries N  give up on walks that expand shared or recursive tables to\n"
    "                   more than N entries (default 67108864; 0: no limit)\n"
    "  --help           this help\n";

void ptl_input_defaults(struct ptl_input_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->cpu = 0;
    o->pgd = PTL_PGD_AS_STORED;
    o->max_entries = PTL_DEFAULT_MAX_ENTRIES;
}

int ptl_input_option(const char *cmd, int c, const char *arg, struct ptl_input_opts *o)
{
    unsigned long n;
    switch (c) {
    case OPT_CPU:
        if (ptl_parse_dec(arg, 4095, &n))
            return ptl_usage_error(cmd, "--cpu: '%s' is not a vCPU index", arg);
        o->cpu = (int)n;
        return 0;
    case OPT_CR3:
        if (ptl_parse_u64(arg, &o->cr3))
            return ptl_usage_error(cmd, "--cr3: '%s' is not a hex value", arg);
        o->have_cr3 = true;
        if (o->ncr3 < sizeof(o->cr3_all) / sizeof(o->cr3_all[0]))
            o->cr3_all[o->ncr3++] = o->cr3;
        return 0;
    case OPT_MODE:
        o->mode = ptl_parse_mode(arg);
        if (!o->mode)
            return ptl_usage_error(cmd, "--mode: '%s' is not one of 4, 5, pae, 32", arg);
        return 0;
    case OPT_RAW:
        o->raw = true;
        return 0;
    case OPT_USER_PGD:
        o->pgd = PTL_PGD_USER;
        return 0;
    case OPT_KERNEL_PGD:
        o->pgd = PTL_PGD_KERNEL;
        return 0;
    case OPT_PHYS_BITS:
        if (ptl_parse_dec(arg, 52, &n) || n < 32)
            return ptl_usage_error(cmd, "--phys-bits: '%s' is not in 32..52", arg);
        o->phys_bits = (unsigned)n;
        return 0;
    case OPT_MAX_ENTRIES:
        if (ptl_parse_dec(arg, ~0UL, &n))
            return ptl_usage_error(cmd, "--max-entries: '%s' is not a number", arg);
        o->max_entries = n;
        return 0;
    case OPT_GDB:
        o->gdb = arg;
        return 0;
    case OPT_MEM_FILE:
        o->mem_file = arg;
        return 0;
    case OPT_QMP:
        o->qmp = arg;
        return 0;
    case OPT_KEEP_STOPPED:
        o->keep_stopped = true;
        return 0;
    case OPT_STATS:
        o->stats = true;
        return 0;
    case OPT_NO_CACHE:
        o->no_cache = true;
        return 0;
    default:
        return -1;
    }
}

int ptl_input_source(const char *cmd, struct ptl_input_opts *o, int *argc, char ***argv)
{
    if (o->gdb && o->mem_file)
        return ptl_usage_error(cmd, "--gdb and --mem-file name two sources: give one");
    if (!o->mem_file != !o->qmp)
        return ptl_usage_error(cmd, "--mem-file and --qmp go together");
    if (o->gdb || o->mem_file) {
        if (o->raw)
            return ptl_usage_error(cmd, "--raw is for a DUMP file, not a running guest");
        return 0;
    }
    if (*argc < 1)
        return -1;
    o->path = (*argv)[0];
    (*argc)--;
    (*argv)++;
    return 0;
}
