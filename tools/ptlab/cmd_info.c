/*
 * cmd_info.c: `ptlab info DUMP`: what a memory source holds: its format, the
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

static void print_memory(const struct ptl_source *s)
{
    uint64_t total = 0;
    for (size_t i = 0; i < s->nram; i++)
        total += s->ram[i].end - s->ram[i].start;
    printf("memory:   %zu segment%s, %" PRIu64 " MiB\n", s->nram, s->nram == 1 ? "" : "s",
           total >> 20);
    for (size_t i = 0; i < s->nram; i++)
        printf("  %016" PRIx64 "-%016" PRIx64 "%s\n", s->ram[i].start, s->ram[i].end,
               s->ram[i].partly_zero ? "  (partly zero-filled)" : "");
}

static void print_cpus(const struct ptl_source *s)
{
    printf("vcpus:    %zu\n", s->ncpus);
    for (size_t i = 0; i < s->ncpus; i++) {
        const struct ptl_cpu *cpu = &s->cpus[i];
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
    const struct ptl_source *s = &t->src;
    printf("%s %s\n", s->live ? "guest:   " : "file:    ", t->path);
    printf("format:   %s\n", s->format);
    print_memory(s);
    print_cpus(s);
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
