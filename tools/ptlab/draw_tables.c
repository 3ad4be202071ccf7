/*
 * draw_tables.c: the graph of a target's page tables (draw_tables.h).
 * Each table is read once: its entries are scanned (lib/paging reads and
 * decodes them), the tables they point to become nodes, then each new node
 * is expanded in turn, depth first. A pointer to a table on the path is a
 * back edge and is not followed.
 * Depends on: draw_tables.h, lib/paging.
 */
#include <stdlib.h>
#include <string.h>

#include "draw_tables.h"
#include "ptlab.h"

#define NONE ((size_t)-1)

static size_t hash_slot(const struct ptl_tgraph *g, phys_addr_t pa, int level)
{
    uint64_t k = (pa ^ (uint64_t)level) * 0x9E3779B97F4A7C15ULL;
    return (size_t)(k >> 20) & (g->hash_cap - 1);
}

/* The node of (pa, level), or NONE. */
static size_t find_node(const struct ptl_tgraph *g, phys_addr_t pa, int level)
{
    for (size_t i = hash_slot(g, pa, level);; i = (i + 1) & (g->hash_cap - 1)) {
        size_t n = g->hash[i];
        if (n == NONE || (g->node[n].pa == pa && g->node[n].level == level))
            return n;
    }
}

/* Rebuild the hash at twice the size when it is half full. returns: 0; -PG_ENOMEM. */
static int grow_hash(struct ptl_tgraph *g)
{
    if (g->hash && 2 * (g->nnodes + 1) < g->hash_cap)
        return 0;
    size_t cap = g->hash_cap ? 2 * g->hash_cap : 1024;
    size_t *h = malloc(cap * sizeof(*h));
    if (!h)
        return -PG_ENOMEM;
    free(g->hash);
    g->hash = h;
    g->hash_cap = cap;
    memset(h, 0xFF, cap * sizeof(*h));
    for (size_t n = 0; n < g->nnodes; n++) {
        size_t i = hash_slot(g, g->node[n].pa, g->node[n].level);
        while (h[i] != NONE)
            i = (i + 1) & (cap - 1);
        h[i] = n;
    }
    return 0;
}

/* A new node for (pa, level). returns: its index; NONE when out of memory. */
static size_t add_node(struct ptl_tgraph *g, phys_addr_t pa, int level)
{
    if (grow_hash(g))
        return NONE;
    g->node = ptl_grow(g->node, g->nnodes, &g->node_cap, sizeof(*g->node), 256);
    if (!g->node)
        return NONE;
    size_t n = g->nnodes++;
    g->node[n] = (struct ptl_tnode){ .pa = pa, .level = level };
    size_t i = hash_slot(g, pa, level);
    while (g->hash[i] != NONE)
        i = (i + 1) & (g->hash_cap - 1);
    g->hash[i] = n;
    return n;
}

static int add_edge(struct ptl_tgraph *g, struct ptl_tedge e)
{
    g->edge = ptl_grow(g->edge, g->nedges, &g->edge_cap, sizeof(*g->edge), 1024);
    if (!g->edge)
        return -PG_ENOMEM;
    g->edge[g->nedges++] = e;
    return 0;
}

struct build {
    const struct pg_ctx *ctx;
    struct ptl_tgraph *g;
    size_t max_tables;
    size_t path[PG_MAX_LEVELS + 1];     /* the nodes from the root down to the one scanned */
    unsigned depth;
};

/* The entry of node n at index i points at the table pa: record the edge. */
static int point(struct build *b, size_t n, unsigned i, uint64_t raw, phys_addr_t pa)
{
    struct ptl_tgraph *g = b->g;
    int level = g->node[n].level - 1;
    for (unsigned d = 0; d < b->depth; d++)
        if (g->node[b->path[d]].pa == pa)
            return add_edge(g, (struct ptl_tedge){ n, b->path[d], i, raw, true, false });
    size_t to = find_node(g, pa, level);
    bool first = to == NONE;
    if (first) {
        if (b->max_tables && g->nnodes >= b->max_tables) {
            g->truncated = true;
            return 0;
        }
        to = add_node(g, pa, level);
        if (to == NONE)
            return -PG_ENOMEM;
    }
    g->node[to].refs++;
    return add_edge(g, (struct ptl_tedge){ n, to, i, raw, false, first });
}

/* Scan node n's entries, then expand the tables first reached from it. */
static int expand(struct build *b, size_t n)
{
    struct ptl_tgraph *g = b->g;
    const struct pg_mode_desc *m = pg_mode_get(b->ctx->levels);
    int level = g->node[n].level;
    unsigned count = 1u << m->level[level].index_bits;
    b->path[b->depth++] = n;
    g->node[n].first_edge = g->nedges;
    for (unsigned i = 0; i < count; i++) {
        uint64_t raw;
        struct pg_entry e;
        if (pg_entry_read(b->ctx, g->node[n].pa, level, i, &raw)) {
            g->node[n].unreadable = true;
            break;
        }
        if (pg_entry_decode(b->ctx, level, raw, &e) || !e.present)
            continue;
        g->node[n].present++;
        if (e.leaf) {
            g->node[n].leaves++;
        } else {
            int err = point(b, n, i, raw, e.addr);
            if (err)
                return err;
        }
    }
    size_t first = g->node[n].first_edge, end = g->nedges;
    g->node[n].nedges = end - first;
    for (size_t k = first; k < end; k++) {
        if (!g->edge[k].first)
            continue;
        int err = expand(b, g->edge[k].to);
        if (err)
            return err;
    }
    b->depth--;
    return 0;
}

int ptl_tables_build(const struct pg_ctx *ctx, const phys_addr_t *roots, unsigned nroots,
                     size_t max_tables, struct ptl_tgraph *g)
{
    memset(g, 0, sizeof(*g));
    struct build b = { .ctx = ctx, .g = g, .max_tables = max_tables };
    if (nroots > sizeof(g->root_node) / sizeof(g->root_node[0]))
        nroots = sizeof(g->root_node) / sizeof(g->root_node[0]);
    for (unsigned r = 0; r < nroots; r++) {
        size_t n = g->nnodes ? find_node(g, roots[r], (int)ctx->levels) : NONE;
        bool fresh = n == NONE;
        if (fresh && (n = add_node(g, roots[r], (int)ctx->levels)) == NONE)
            return -PG_ENOMEM;
        g->node[n].refs++;
        g->root_node[g->nroots++] = n;
        int err = fresh ? expand(&b, n) : 0;
        if (err)
            return err;
    }
    return 0;
}

void ptl_tables_free(struct ptl_tgraph *g)
{
    free(g->node);
    free(g->edge);
    free(g->hash);
    memset(g, 0, sizeof(*g));
}
