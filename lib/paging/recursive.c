/*
 * recursive.c: addresses of a recursive (self-referencing) top-level slot
 * (docs/linux.md, "The recursive slot"). With top entry R pointing to the top table
 * itself, going through R once more per level turns the MMU's last step
 * into a read of a table instead of a page: R once gives PTEs, R twice PDEs,
 * and so on up to the top table itself.
 * Depends on: paging.h, pg_internal.h.
 */
#include "pg_internal.h"

static const struct pg_mode_desc *recursive_mode_(unsigned levels, unsigned slot)
{
    if ((levels != PG_MODE_4LEVEL && levels != PG_MODE_5LEVEL) || slot > 511)
        return NULL;
    return pg_mode_get(levels);
}

int pg_recursive_entry_va(unsigned levels, unsigned slot, virt_addr_t va, int level,
                          virt_addr_t *out)
{
    const struct pg_mode_desc *m = recursive_mode_(levels, slot);
    if (!m || level < 1 || level > (int)levels)
        return -PG_EINVAL;
    unsigned top_shift = m->level[levels].shift;     /* 39 or 48 */
    uint64_t a = 0;
    for (int k = 0; k < level; k++)
        a |= (uint64_t)slot << (top_shift - 9 * k);
    uint64_t low_mask = (1ULL << (top_shift - 9 * (level - 1))) - 8;
    a |= (linear_(m, va) >> (9 * level)) & low_mask;
    *out = canon_(m, a);
    return 0;
}

int pg_recursive_table_va(unsigned levels, unsigned slot, virt_addr_t va, int level,
                          virt_addr_t *out)
{
    int r = pg_recursive_entry_va(levels, slot, va, level, out);
    if (r == 0)
        *out &= PAGE_MASK;
    return r;
}

int pg_recursive_window(unsigned levels, unsigned slot, virt_addr_t *start, virt_addr_t *end)
{
    const struct pg_mode_desc *m = recursive_mode_(levels, slot);
    if (!m)
        return -PG_EINVAL;
    unsigned top_shift = m->level[levels].shift;
    *start = canon_(m, (uint64_t)slot << top_shift);
    *end = *start + (1ULL << top_shift);
    return 0;
}
