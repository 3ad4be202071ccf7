/*
 * paging_bench.c: figures for lib/paging (printed, never asserted).
 *
 *   - walks per second over random VAs in a 4-level and a 5-level table that
 *     maps 1 GiB in 4 KiB pages: pg_translate (fast path) and pg_walk;
 *   - iteration cost per leaf over the same tables (pg_iterate);
 *   - time and table pages to map 64 GiB under the 1G, 2M and 4K masks,
 *     next to the theoretical minimum.
 * Every figure is the median of several repetitions. `paging_bench walks`
 * prints the walk and iteration figures only (to compare two builds of the
 * library quickly, run alternately).
 * Targets of the paging library: >= 20 M walks/s, <= 5 ns per leaf, table pages = minimum.
 * Physical memory is a malloc'd arena with a bump allocator.
 */
#include <paging/paging.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REPS 7
#define ARENA_BASE 0x100000ULL

struct arena {
    uint8_t *mem;
    size_t pages, used;
};

static void *arena_p2v(void *arg, phys_addr_t pa)
{
    struct arena *a = arg;
    uint64_t off = pa - ARENA_BASE;
    return off < a->pages * 4096 ? a->mem + off : NULL;
}

static int arena_alloc(void *arg, phys_addr_t *pa)
{
    struct arena *a = arg;
    if (a->used == a->pages)
        return -1;
    memset(a->mem + a->used * 4096, 0, 4096);
    *pa = ARENA_BASE + a->used++ * 4096;
    return 0;
}

static void arena_reset(struct arena *a, size_t pages)
{
    if (pages > a->pages) {
        free(a->mem);
        a->mem = aligned_alloc(4096, pages * 4096);
        if (!a->mem) {
            fprintf(stderr, "paging_bench: out of memory\n");
            exit(1);
        }
        a->pages = pages;
    }
    a->used = 0;
}

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return v[n / 2];
}

static uint64_t rng = 0x2545F4914F6CDD1DULL;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static volatile uint64_t sink_;

static int count_leaves(void *arg, const struct pg_range *r)
{
    *(uint64_t *)arg += r->count;
    return 0;
}

#define NVA (1u << 20)

static void bench_walks(unsigned levels, struct arena *a)
{
    const uint64_t size = 1ULL << 30;
    const virt_addr_t base = levels == 5 ? 0xFF11000000000000ULL : 0xFFFF888000000000ULL;
    arena_reset(a, 600);
    struct pg_ctx c = { .phys_to_virt = arena_p2v, .alloc_table = arena_alloc, .arg = a, .levels = levels };
    phys_addr_t root = 0;
    arena_alloc(a, &root);
    int r = pg_map(&c, root, base, base + size, 0x40000000, __PAGE_KERNEL, PG_MASK_4K, 0, NULL);
    if (r) {
        fprintf(stderr, "paging_bench: map: %s\n", pg_strerror(r));
        exit(1);
    }
    virt_addr_t *vas = malloc(NVA * sizeof(*vas));
    for (unsigned i = 0; i < NVA; i++)
        vas[i] = base + (rnd() & (size - 1));

    double fast[REPS], full[REPS], iter_raw[REPS], iter_none[REPS];
    for (int rep = 0; rep < REPS; rep++) {
        uint64_t acc = 0;
        double t0 = now_ns();
        for (unsigned i = 0; i < NVA; i++) {
            phys_addr_t pa;
            pg_translate(&c, root, vas[i], &pa, NULL, NULL);
            acc += pa;
        }
        double t1 = now_ns();
        struct pg_walk w;
        for (unsigned i = 0; i < NVA; i++) {
            pg_walk(&c, root, vas[i], &w);
            acc += w.pa;
        }
        double t2 = now_ns();
        sink_ = acc;
        fast[rep] = NVA / ((t1 - t0) / 1e9);
        full[rep] = NVA / ((t2 - t1) / 1e9);

        uint64_t leaves = 0;
        struct pg_iter_opts o = { .merge = PG_MERGE_RAW };
        t0 = now_ns();
        pg_iterate(&c, root, &o, count_leaves, &leaves);
        t1 = now_ns();
        iter_raw[rep] = (t1 - t0) / (double)leaves;
        leaves = 0;
        o.merge = PG_MERGE_NONE;
        t0 = now_ns();
        pg_iterate(&c, root, &o, count_leaves, &leaves);
        t1 = now_ns();
        iter_none[rep] = (t1 - t0) / (double)leaves;
    }
    printf("%u-level, 1 GiB in 4 KiB pages (%zu table pages), %u random VAs, median of %d:\n",
           levels, a->used, NVA, REPS);
    printf("  pg_translate      %8.1f M walks/s   (target >= 20)\n", median(fast, REPS) / 1e6);
    printf("  pg_walk           %8.1f M walks/s   (with per-level records)\n", median(full, REPS) / 1e6);
    printf("  pg_iterate raw    %8.2f ns/leaf     (target <= 5; merged ranges)\n", median(iter_raw, REPS));
    printf("  pg_iterate none   %8.2f ns/leaf     (one callback per leaf)\n", median(iter_none, REPS));
    free(vas);
}

/* The fewest tables (root included) that can map `size` bytes at a top-slot-aligned VA with leaves at leaf_level. */
static uint64_t min_tables(unsigned levels, int leaf_level, uint64_t size)
{
    uint64_t n = 1;     /* the root */
    for (int l = leaf_level; l < (int)levels; l++) {
        uint64_t span = pg_level_size(levels, l) * 512;  /* bytes covered by one table at level l */
        n += (size + span - 1) / span;
    }
    return n;
}

static void bench_map64(unsigned levels, struct arena *a)
{
    static const struct { const char *name; unsigned mask; int leaf; } masks[] = {
        { "1G", PG_MASK_1G, 3 }, { "2M", PG_MASK_2M, 2 }, { "4K", PG_MASK_4K, 1 },
    };
    const uint64_t size = 64ULL << 30;
    const virt_addr_t base = levels == 5 ? 0xFF11000000000000ULL : 0xFFFF888000000000ULL;
    printf("%u-level, map 64 GiB at %016llx, median of %d:\n", levels, (unsigned long long)base, REPS);
    for (int k = 0; k < 3; k++) {
        double t[REPS];
        size_t used = 0;
        uint64_t min = min_tables(levels, masks[k].leaf, size);
        for (int rep = 0; rep < REPS; rep++) {
            arena_reset(a, min + 16);
            struct pg_ctx c = { .phys_to_virt = arena_p2v, .alloc_table = arena_alloc, .arg = a,
                                .levels = levels };
            phys_addr_t root = 0;
            arena_alloc(a, &root);
            double t0 = now_ns();
            int r = pg_map(&c, root, base, base + size, 0, __PAGE_KERNEL, masks[k].mask, 0, NULL);
            t[rep] = now_ns() - t0;
            if (r) {
                fprintf(stderr, "paging_bench: map 64G: %s\n", pg_strerror(r));
                exit(1);
            }
            used = a->used;
        }
        printf("  mask %s  %10.3f ms  %6zu table pages  (minimum %llu%s)\n", masks[k].name,
               median(t, REPS) / 1e6, used, (unsigned long long)min,
               used == min ? ", exact" : ", NOT minimal");
    }
}

int main(int argc, char **argv)
{
    struct arena a = { 0 };
    bool walks_only = argc > 1 && !strcmp(argv[1], "walks");
    printf("lib/paging benchmark\n");
    bench_walks(4, &a);
    bench_walks(5, &a);
    if (!walks_only) {
        bench_map64(4, &a);
        bench_map64(5, &a);
    }
    free(a.mem);
    return 0;
}
