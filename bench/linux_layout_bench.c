/*
 * linux_layout_bench.c: how long pg_linux_layout_infer takes (figures,
 * never asserted).
 *
 * Without arguments: synthetic Linux guests in the unit tests' arena, their
 * direct map in 1G, 2M or 4K pages (2 GiB, and 16 GiB in 4K pages: what a
 * guest booted with debug_pagealloc or without large pages has), plus a
 * kernel image, a vmalloc page and a vmemmap page at Debian 6.1's bases.
 * With DUMP arguments (QEMU dump-guest-memory ELF cores, read with
 * tools/ptlab's dump reader): the inference on each, the dump's segments as
 * the RAM. Every figure is the median of 21 runs of the library call alone
 * (the dump already mapped; `ptlab regions` as a whole process is timed by
 * bench/ptlab_bench.py).
 * Target: the whole `ptlab regions` process <= 10 ms on a 2 GiB guest.
 */
#include <paging/linux_layout.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../tests/unit/arena.h"
#include "../tools/ptlab/dump.c"
#include "../tools/ptlab/target.c"

#define RUNS 21
static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static struct pg_memo_slot *memo;
static size_t memo_slots;

/* The median time of one inference (ms), and its result in *l. */
static double time_infer(const struct pg_ctx *c, phys_addr_t root, const struct pg_ram_range *ram,
                         size_t nram, struct pg_linux_inferred *l)
{
    double t[RUNS];
    for (int i = 0; i < RUNS; i++) {
        double t0 = now_ms();
        int r = pg_linux_layout_infer(c, root, ram, nram, memo, memo_slots, l);
        t[i] = now_ms() - t0;
        if (r) {
            fprintf(stderr, "linux_layout_bench: %s\n", pg_strerror(r));
            exit(1);
        }
    }
    qsort(t, RUNS, sizeof(t[0]), cmp_double);
    return t[RUNS / 2];
}

static void must_map(const struct pg_ctx *c, phys_addr_t root, virt_addr_t va, uint64_t len,
                     phys_addr_t pa, uint64_t prot, unsigned mask)
{
    int r = pg_map(c, root, va, va + len, pa, prot, mask, 0, NULL);
    if (r) {
        fprintf(stderr, "linux_layout_bench: map %llx: %s\n", (unsigned long long)va,
                pg_strerror(r));
        exit(1);
    }
}

static void synthetic(uint64_t ram, unsigned mask, const char *what)
{
    struct arena a;
    arena_init(&a, 9000);
    struct pg_ctx c = arena_ctx(&a, 4);
    c.table_flags = _KERNPG_TABLE;
    phys_addr_t root = arena_root(&a);
    must_map(&c, root, 0xFFFF8B0D00000000ULL, ram, 0, __PAGE_KERNEL, mask);
    must_map(&c, root, 0xFFFFCDB500000000ULL, 0x4000, 0x7DC02000, __PAGE_KERNEL, PG_MASK_4K);
    must_map(&c, root, 0xFFFFEFE380000000ULL, ram / 64, 0x40000000, __PAGE_KERNEL, PG_MASK_2M);
    must_map(&c, root, 0xFFFFFFFFA7E00000ULL, 14 << 20, 0x14000000, __PAGE_KERNEL_RX, PG_MASK_2M);
    must_map(&c, root, 0xFFFFFFFFA8E00000ULL, 9 << 20, 0x15000000, __PAGE_KERNEL_RO, PG_MASK_2M);
    must_map(&c, root, 0xFFFFFFFFA9800000ULL, 28 << 20, 0x15A00000, __PAGE_KERNEL, PG_MASK_2M);
    struct pg_ram_range r = { 0, ram };
    struct pg_linux_inferred l;
    double ms = time_infer(&c, root, &r, 1, &l);
    printf("%-44s %9.3f ms  (%zu table pages; %s)\n", what, ms, a.live,
           pg_linux_verdict_text(l.verdict));
    arena_fini(&a);
}

static void dump(const char *path)
{
    struct ptl_target t;
    struct ptl_input_opts in = { .path = path };
    if (ptl_target_open(&t, &in))
        exit(1);
    struct pg_ram_range ram[64];
    size_t n = 0;
    for (size_t i = 0; i < t.dump.nsegs && n < 64; i++)
        ram[n++] = (struct pg_ram_range){ t.dump.segs[i].pa,
                                          t.dump.segs[i].pa + t.dump.segs[i].memsz };
    struct pg_linux_inferred l;
    double ms = time_infer(&t.ctx, t.root, ram, n, &l);
    printf("%s: %.3f ms (%s, %s; %zu regions)\n", path, ms, t.mode->name,
           pg_linux_verdict_text(l.verdict), l.nregions);
    for (int f = 0; f < PG_LF_NFACTS; f++) {
        if (l.value[f].known)
            printf("  %-18s %016llx\n", pg_linux_fact_name((enum pg_linux_fact)f),
                   (unsigned long long)l.value[f].value);
        else
            printf("  %-18s null\n", pg_linux_fact_name((enum pg_linux_fact)f));
    }
    ptl_target_close(&t);
}

int main(int argc, char **argv)
{
    memo_slots = 1 << 16;
    memo = malloc(memo_slots * sizeof(*memo));
    if (!memo)
        return 1;
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            dump(argv[i]);
        return 0;
    }
    printf("pg_linux_layout_infer, median of %d runs (4-level):\n", RUNS);
    synthetic(2ULL << 30, PG_MASK_1G, "2 GiB direct map, 1G pages");
    synthetic(2ULL << 30, PG_MASK_2M, "2 GiB direct map, 2M pages");
    synthetic(2ULL << 30, PG_MASK_4K, "2 GiB direct map, 4K pages");
    synthetic(16ULL << 30, PG_MASK_4K, "16 GiB direct map, 4K pages");
    free(memo);
    return 0;
}
