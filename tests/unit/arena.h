/*
 * arena.h: a host "physical memory" for the lib/paging unit tests.
 *
 * A malloc'd buffer stands for physical memory starting at ARENA_BASE; a
 * frame allocator hands out zeroed 4 KiB pages (free list + bump), can be
 * told to fail after N more allocations (to test ENOMEM), poisons freed
 * frames and catches double frees. Snapshots compare the allocated frames and
 * their contents, so a test can check that a failed operation changed nothing.
 * Header-only: every function is static.
 */
#ifndef TESTS_UNIT_ARENA_H
#define TESTS_UNIT_ARENA_H

#include <paging/paging.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BASE 0x100000ULL

struct arena {
    uint8_t *mem;
    size_t pages;
    uint8_t *used;          /* one byte per frame */
    phys_addr_t *free_stack;
    size_t nfree;
    size_t bump;            /* next never-used frame */
    long fail_after;        /* allocations left before failure; -1: never fail */
    size_t live, allocs, frees;
    unsigned long faults;   /* double frees, frees of unknown frames */
};

static inline void arena_init(struct arena *a, size_t pages)
{
    memset(a, 0, sizeof(*a));
    a->pages = pages;
    a->mem = aligned_alloc(4096, pages * 4096);
    a->used = calloc(pages, 1);
    a->free_stack = calloc(pages, sizeof(phys_addr_t));
    a->fail_after = -1;
    if (!a->mem || !a->used || !a->free_stack) {
        fprintf(stderr, "arena: out of host memory\n");
        abort();
    }
    memset(a->mem, 0x5A, pages * 4096);
}

static inline void arena_fini(struct arena *a)
{
    free(a->mem);
    free(a->used);
    free(a->free_stack);
    memset(a, 0, sizeof(*a));
}

static inline void *arena_p2v(void *arg, phys_addr_t pa)
{
    struct arena *a = arg;
    if (pa < ARENA_BASE || pa >= ARENA_BASE + a->pages * 4096)
        return NULL;
    return a->mem + (pa - ARENA_BASE);
}

static inline int arena_alloc(void *arg, phys_addr_t *pa)
{
    struct arena *a = arg;
    if (a->fail_after == 0)
        return -1;
    if (a->fail_after > 0)
        a->fail_after--;
    size_t frame;
    if (a->nfree) {
        frame = (size_t)((a->free_stack[--a->nfree] - ARENA_BASE) / 4096);
    } else if (a->bump < a->pages) {
        frame = a->bump++;
    } else {
        return -1;
    }
    a->used[frame] = 1;
    memset(a->mem + frame * 4096, 0, 4096);
    *pa = ARENA_BASE + frame * 4096;
    a->live++;
    a->allocs++;
    return 0;
}

static inline void arena_free(void *arg, phys_addr_t pa)
{
    struct arena *a = arg;
    size_t frame = (size_t)((pa - ARENA_BASE) / 4096);
    if (pa < ARENA_BASE || frame >= a->pages || (pa & 4095) || !a->used[frame]) {
        a->faults++;
        return;
    }
    a->used[frame] = 0;
    memset(a->mem + frame * 4096, 0xA5, 4096);
    a->free_stack[a->nfree++] = pa;
    a->live--;
    a->frees++;
}

/* A context over the arena for a mode. */
static inline struct pg_ctx arena_ctx(struct arena *a, unsigned levels)
{
    struct pg_ctx c = {
        .phys_to_virt = arena_p2v,
        .alloc_table = arena_alloc,
        .free_table = arena_free,
        .arg = a,
        .levels = levels,
    };
    return c;
}

/* A fresh root table. */
static inline phys_addr_t arena_root(struct arena *a)
{
    phys_addr_t pa = 0;
    if (arena_alloc(a, &pa)) {
        fprintf(stderr, "arena: no root\n");
        abort();
    }
    return pa;
}

/* Raw 64-bit / 32-bit entry access for hand-built tables. */
static inline void arena_set64(struct arena *a, phys_addr_t table, unsigned i, uint64_t v)
{
    ((uint64_t *)arena_p2v(a, table))[i] = v;
}
static inline void arena_set32(struct arena *a, phys_addr_t table, unsigned i, uint32_t v)
{
    ((uint32_t *)arena_p2v(a, table))[i] = v;
}

/* Snapshot of the allocated frames and their contents. */
struct arena_snap {
    uint8_t *mem;
    uint8_t *used;
    size_t pages;
};

static inline void arena_snapshot(const struct arena *a, struct arena_snap *s)
{
    s->pages = a->pages;
    s->mem = malloc(a->pages * 4096);
    s->used = malloc(a->pages);
    memcpy(s->mem, a->mem, a->pages * 4096);
    memcpy(s->used, a->used, a->pages);
}

/* True if the same frames are allocated and hold the same bytes. */
static inline int arena_same(const struct arena *a, const struct arena_snap *s)
{
    if (memcmp(a->used, s->used, a->pages))
        return 0;
    for (size_t i = 0; i < a->pages; i++)
        if (a->used[i] && memcmp(a->mem + i * 4096, s->mem + i * 4096, 4096))
            return 0;
    return 1;
}

static inline void arena_snap_free(struct arena_snap *s)
{
    free(s->mem);
    free(s->used);
}

/* A sink that appends to a growing string. */
struct strbuf {
    char *s;
    size_t n, cap;
};

static inline void strbuf_write(void *arg, const char *s, size_t n)
{
    struct strbuf *b = arg;
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->s = realloc(b->s, b->cap);
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

/* Read a whole file (golden output); NULL if missing. */
static inline char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, f);
    fclose(f);
    s[got] = '\0';
    if (len)
        *len = got;
    return s;
}

#endif /* TESTS_UNIT_ARENA_H */
