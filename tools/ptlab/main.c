/*
 * main.c: the ptlab host tool's entry point: global help and dispatch to one
 * command, plus the two small commands `info` (what a dump holds) and
 * `explain` (seed 003's split of a VA into table indices and page offset,
 * offline).
 *
 * ptlab reads QEMU dump-guest-memory ELF files and raw memory images and
 * shows, checks and compares the page tables in them with lib/paging.
 * Depends on: ptlab.h and the command files.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ptlab.h"

static const struct ptl_command commands[] = {
    { "info", cmd_info, "what the dump holds: memory segments, vCPUs, mode, root" },
    { "maps", cmd_maps, "merged mappings (also as QEMU info mem / info tlb, Linux ptdump, JSON, CSV)" },
    { "vtop", cmd_vtop, "crash-style walk of a virtual address; --access says if it faults" },
    { "ptov", cmd_ptov, "every virtual address that maps a physical address" },
    { "lint", cmd_lint, "W+X, reserved bits, misaligned pages, bad pointers, cycles" },
    { "diff", cmd_diff, "mappings added, removed and changed between two dumps or CR3s" },
    { "explain", cmd_explain, "split a virtual address into table indices and page offset" },
};

static void global_help(FILE *f)
{
    fprintf(f, "usage: ptlab COMMAND [OPTIONS] ARGUMENTS\n"
               "Read, walk, check and compare x86 page tables in QEMU memory dumps.\n\n"
               "Commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nDUMP is a QEMU dump-guest-memory ELF file (CR3 and CR4 come from its QEMU\n"
               "notes) or, with --raw --cr3 --mode, a raw physical memory image.\n"
               "Run 'ptlab COMMAND --help' for a command's options; see ptlab(1).\n"
               "Exit status: 0 success, 1 failure or lint findings, 2 usage error.\n");
}

int main(int argc, char **argv)
{
    static char outbuf[1 << 20];
    setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
    if (argc < 2) {
        global_help(stderr);
        return PTL_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        if (argc > 2 && strcmp(cmd, "help") == 0) {
            for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                if (!strcmp(argv[2], commands[i].name)) {
                    char *a[] = { argv[2], (char *)"--help", NULL };
                    return commands[i].run(2, a);
                }
        }
        global_help(stdout);
        return PTL_EXIT_OK;
    }
    if (!strcmp(cmd, "--version")) {
        printf("ptlab 0.1\n");
        return PTL_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (!strcmp(cmd, commands[i].name)) {
            int rc = commands[i].run(argc - 1, argv + 1);
            if (fflush(stdout) != 0 && rc == PTL_EXIT_OK) {
                perror("ptlab: stdout");
                rc = PTL_EXIT_FAIL;
            }
            return rc;
        }
    }
    fprintf(stderr, "ptlab: unknown command '%s'\n", cmd);
    global_help(stderr);
    return PTL_EXIT_USAGE;
}

/* ------------------------------------------------------------------------ */
/* info                                                                      */
/* ------------------------------------------------------------------------ */

static const char info_help[] =
    "usage: ptlab info [OPTIONS] DUMP\n"
    "Print what DUMP holds: its format, the guest-physical memory segments, every\n"
    "vCPU's CR0/CR3/CR4, and the paging mode and table root the other commands use.\n\n";

int cmd_info(int argc, char **argv)
{
    static const struct option longopts[] = { PTL_INPUT_OPTIONS, { 0, 0, 0, 0 } };
    struct ptl_input_opts in;
    ptl_input_defaults(&in);
    optind = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == OPT_HELP || c == 'h') {
            printf("%s%s", info_help, ptl_input_help);
            return PTL_EXIT_OK;
        }
        int r = ptl_input_option(c, optarg, &in);
        if (r < 0 || r == 0)
            return ptl_usage_error("info", r < 0 ? "bad option value" : "unknown option");
    }
    if (argc - optind != 1)
        return ptl_usage_error("info", "expected one DUMP argument");
    struct ptl_target t;
    int rc = ptl_target_open(&t, argv[optind], &in);
    if (rc)
        return rc;
    const struct ptl_dump *d = &t.dump;
    printf("file:     %s\n", t.path);
    if (d->is_elf)
        printf("format:   ELF%d core, machine %s\n", d->elf_class == 2 ? 64 : 32,
               d->machine == PTL_EM_X86_64 ? "x86-64" : "i386");
    else
        printf("format:   raw physical memory image\n");
    uint64_t total = 0;
    for (size_t i = 0; i < d->nsegs; i++)
        total += d->segs[i].memsz;
    printf("memory:   %zu segment%s, %" PRIu64 " MiB\n", d->nsegs, d->nsegs == 1 ? "" : "s",
           total >> 20);
    for (size_t i = 0; i < d->nsegs; i++)
        printf("  %016" PRIx64 "-%016" PRIx64 "%s\n", d->segs[i].pa,
               d->segs[i].pa + d->segs[i].memsz,
               d->segs[i].filesz < d->segs[i].memsz ? "  (partly zero-filled)" : "");
    printf("vcpus:    %zu\n", d->ncpus);
    for (size_t i = 0; i < d->ncpus; i++) {
        const struct ptl_cpu *cpu = &d->cpus[i];
        if (cpu->have_cr)
            printf("  cpu %zu: CR0=%016" PRIx64 " CR3=%016" PRIx64 " CR4=%016" PRIx64
                   " (note size %u)\n", i, cpu->cr0, cpu->cr3, cpu->cr4, cpu->state_size);
        else
            printf("  cpu %zu: no control registers (note size %u)\n", i, cpu->state_size);
    }
    printf("mode:     %s\n", t.mode->name);
    printf("cr3:      %016" PRIx64 " (cpu %d%s)\n", t.cr3, t.cpu_index,
           in.have_cr3 ? ", from --cr3" : "");
    printf("root:     %016" PRIx64 "\n", t.root);
    ptl_target_close(&t);
    return PTL_EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* explain                                                                   */
/* ------------------------------------------------------------------------ */

static const char explain_help[] =
    "usage: ptlab explain [--mode 4|5|pae|32] VA\n"
    "Split VA (hex) into the index used at every table level and the byte offset\n"
    "inside a page of each size the mode has, as the MMU does. Needs no dump.\n"
    "  --mode M   paging mode (default 4)\n"
    "  --help     this help\n"
    "Exit status 1 if VA is not a valid linear address of the mode.\n";

int cmd_explain(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "mode", required_argument, NULL, OPT_MODE },
        { "help", no_argument, NULL, OPT_HELP },
        { 0, 0, 0, 0 },
    };
    unsigned levels = PG_MODE_4LEVEL;
    optind = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_MODE:
            levels = ptl_parse_mode(optarg);
            if (!levels)
                return ptl_usage_error("explain", "--mode: '%s' is not one of 4, 5, pae, 32",
                                       optarg);
            break;
        case 'h':
        case OPT_HELP:
            fputs(explain_help, stdout);
            return PTL_EXIT_OK;
        default:
            return ptl_usage_error("explain", "unknown option");
        }
    }
    if (argc - optind != 1)
        return ptl_usage_error("explain", "expected one VA argument");
    uint64_t va;
    if (ptl_parse_u64(argv[optind], &va))
        return ptl_usage_error("explain", "'%s' is not a hex address", argv[optind]);

    const struct pg_mode_desc *m = pg_mode_get(levels);
    printf("VA %016" PRIx64 "  %s paging, %u-bit linear addresses\n", va, m->name, m->va_bits);
    int rc = PTL_EXIT_OK;
    if (!pg_is_canonical(levels, va)) {
        if (m->canonical)
            printf("not canonical: bits 63:%u must all equal bit %u (nearest canonical form: "
                   "%016" PRIx64 "); the CPU raises #GP before any walk\n", m->va_bits,
                   m->va_bits - 1, pg_canonical(levels, va));
        else
            printf("not a 32-bit linear address: bits 63:32 must be zero\n");
        rc = PTL_EXIT_FAIL;
    } else if (m->canonical) {
        printf("canonical, %s half\n", (va >> 63) ? "upper (kernel)" : "lower (user)");
    }
    unsigned idx[PG_MAX_LEVELS + 1];
    uint64_t off;
    pg_va_split(levels, 1, va, idx, &off);
    for (int l = (int)levels; l >= 1; l--) {
        const struct pg_level_desc *ld = &m->level[l];
        unsigned hi = ld->shift + ld->index_bits - 1;
        printf("  %-4s %-5s index %4u  (bits %2u:%-2u)  entry at table + 0x%x\n",
               ld->linux_name, ld->intel_name, idx[l], hi, ld->shift, idx[l] * ld->entry_size);
    }
    for (int l = 1; l <= (int)levels; l++) {
        if (l > 1 && !m->level[l].large_ok)
            continue;
        char sz[32];
        unsigned bits = m->level[l].shift;
        pg_va_split(levels, l, va, idx, &off);
        printf("  offset in a %s page: %#" PRIx64 " (bits %u:0)\n",
               ptl_size_str(pg_level_size(levels, l), sz), off, bits - 1);
    }
    return rc;
}
