/*
 * cmd_info.c: `ptlab info DUMP`: what a dump holds: its format, the
 * guest-physical memory segments, every vCPU's control registers, and the
 * paging mode and table root the other commands use.
 * Depends on: ptlab.h.
 */
#include <inttypes.h>

#include "ptlab.h"

static const char info_help[] =
    "usage: ptlab info [OPTIONS] DUMP\n"
    "Print what DUMP holds: its format, the guest-physical memory segments, every\n"
    "vCPU's CR0/CR3/CR4, and the paging mode and table root the other commands use.\n\n";

static void print_memory(const struct ptl_dump *d)
{
    uint64_t total = 0;
    for (size_t i = 0; i < d->nsegs; i++)
        total += d->segs[i].memsz;
    printf("memory:   %zu segment%s, %" PRIu64 " MiB\n", d->nsegs, d->nsegs == 1 ? "" : "s",
           total >> 20);
    for (size_t i = 0; i < d->nsegs; i++)
        printf("  %016" PRIx64 "-%016" PRIx64 "%s\n", d->segs[i].pa,
               d->segs[i].pa + d->segs[i].memsz,
               d->segs[i].filesz < d->segs[i].memsz ? "  (partly zero-filled)" : "");
}

static void print_cpus(const struct ptl_dump *d)
{
    printf("vcpus:    %zu\n", d->ncpus);
    for (size_t i = 0; i < d->ncpus; i++) {
        const struct ptl_cpu *cpu = &d->cpus[i];
        if (cpu->have_cr)
            printf("  cpu %zu: CR0=%016" PRIx64 " CR3=%016" PRIx64 " CR4=%016" PRIx64
                   " (note size %u)\n", i, cpu->cr0, cpu->cr3, cpu->cr4, cpu->state_size);
        else
            printf("  cpu %zu: no control registers (note size %u)\n", i, cpu->state_size);
    }
}

static int info_run(void *state, struct ptl_target *t)
{
    (void)state;
    const struct ptl_dump *d = &t->dump;
    printf("file:     %s\n", t->path);
    if (d->is_elf)
        printf("format:   ELF%d core, machine %s\n", d->elf_class == 2 ? 64 : 32,
               d->machine == PTL_EM_X86_64 ? "x86-64" : "i386");
    else
        printf("format:   raw physical memory image\n");
    print_memory(d);
    print_cpus(d);
    printf("mode:     %s\n", t->mode->name);
    printf("cr3:      %016" PRIx64 " (cpu %d%s)\n", t->cr3, t->cpu_index,
           t->in.have_cr3 ? ", from --cr3" : "");
    printf("root:     %016" PRIx64 "\n", t->root);
    return PTL_EXIT_OK;
}

const struct ptl_cmd ptl_cmd_info = {
    .name = "info", .summary = "what the dump holds: memory segments, vCPUs, mode, root",
    .help = info_help, .input = true, .run = info_run,
    .args_error = "expected one DUMP argument",
};
