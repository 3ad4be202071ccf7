/*
 * draw_tables.h: the page tables of a target as a graph, for the pictures:
 * every table reachable from one or more roots once (a node per table and
 * level), the entries that point from one to another (edges), shared tables
 * with their number of references, pointers back to a table on the path (a
 * recursive slot: back edges, not followed) and tables outside the memory.
 * Entries are read and decoded by lib/paging (pg_entry_read,
 * pg_entry_decode); this only keeps the graph.
 * Depends on: lib/paging.
 */
#ifndef PTLAB_DRAW_TABLES_H
#define PTLAB_DRAW_TABLES_H

#include <stddef.h>

#include <paging/paging.h>

/*
 * struct ptl_tnode - one table.
 * pa, level        the table (level as the walk uses it there)
 * present, leaves  present entries, and of those the leaves (pages)
 * refs             entries pointing at it (from other tables or the same),
 *                  plus 1 for each root it is
 * unreadable       outside the memory: nothing of it was read
 * first_edge, nedges   its outgoing pointers in the graph's edges[]
 */
struct ptl_tnode {
    phys_addr_t pa;
    int level;
    unsigned present, leaves, refs;
    bool unreadable;
    size_t first_edge, nedges;
};

/*
 * struct ptl_tedge - an entry pointing at a table.
 * from, to     node indices; index: the entry's index in `from`
 * entry        the entry's raw value
 * back         `to` is on the path from the root to `from` (a cycle, e.g. a
 *              recursive slot): not followed
 * first        this is the edge through which `to` was first reached (the
 *              tree edge); others to the same node are extra references
 */
struct ptl_tedge {
    size_t from, to;
    unsigned index;
    uint64_t entry;
    bool back, first;
};

/*
 * struct ptl_tgraph - the graph: nodes in depth-first order from the roots
 * (roots[i] is node root_node[i]), edges grouped by their `from` node.
 * truncated    the table budget ran out: the graph is a prefix
 */
struct ptl_tgraph {
    struct ptl_tnode *node;
    size_t nnodes, node_cap;
    struct ptl_tedge *edge;
    size_t nedges, edge_cap;
    size_t root_node[16];
    unsigned nroots;
    bool truncated;
    /* the (pa, level) -> node index hash, internal */
    size_t *hash;
    size_t hash_cap;
};

/*
 * ptl_tables_build - the graph of every table under roots[0..nroots) (at
 * most 16), each table expanded once, at most max_tables tables (0: no limit).
 * returns: 0 (g->truncated says whether the budget ran out); -PG_ENOMEM.
 */
int ptl_tables_build(const struct pg_ctx *ctx, const phys_addr_t *roots, unsigned nroots,
                     size_t max_tables, struct ptl_tgraph *g);

/* ptl_tables_free - release the graph. */
void ptl_tables_free(struct ptl_tgraph *g);

#endif /* PTLAB_DRAW_TABLES_H */
