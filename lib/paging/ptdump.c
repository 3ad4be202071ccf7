/*
 * ptdump.c: Linux 6.x ptdump text (formats.md §5, linux-paging.md §8).
 *
 * Entries come from pg_iterate one at a time (holes included) and go through
 * the same series state machine Linux uses: a series ends when the raw flags,
 * the effective rights or the level change, or when the address reaches the
 * next marker; at most one marker is printed per finished line; the final
 * flush uses the end of the last range walked (0, the top, for Linux's). Markers are data: Linux's sets for 4- and 5-level
 * below, or the caller's own table.
 * Depends on: paging.h, pg_format.h, pg_internal.h, pg_out.h.
 */
#include "pg_internal.h"
#include "pg_out.h"

static const struct pg_marker markers_4level_[] = {
    { 0x0000000000000000ULL, "User Space", 0 },
    { 0x8000000000000000ULL, "Kernel Space", 0 },
    { 0xFFFF880000000000ULL, "LDT remap", 0 },
    { 0xFFFF888000000000ULL, "Low Kernel Mapping", 0 },
    { 0xFFFFC90000000000ULL, "vmalloc() Area", 0 },
    { 0xFFFFEA0000000000ULL, "Vmemmap", 0 },
    { 0xFFFFEC0000000000ULL, "KASAN shadow", 0 },
    { 0xFFFFFC0000000000ULL, "KASAN shadow end", 0 },
    { 0xFFFFFE0000000000ULL, "CPU entry Area", 0 },
    { 0xFFFFFF0000000000ULL, "ESPfix Area", 16 },
    { 0xFFFFFFEF00000000ULL, "EFI Runtime Services", 0 },
    { 0xFFFFFFFF80000000ULL, "High Kernel Mapping", 0 },
    { 0xFFFFFFFFA0000000ULL, "Modules", 0 },
    { 0xFFFFFFFFFF000000ULL, "End Modules", 0 },
    { 0xFFFFFFFFFF400000ULL, "Fixmap Area", 0 },
    { ~0ULL, NULL, 0 },
};

static const struct pg_marker markers_5level_[] = {
    { 0x0000000000000000ULL, "User Space", 0 },
    { 0x8000000000000000ULL, "Kernel Space", 0 },
    { 0xFF10000000000000ULL, "LDT remap", 0 },
    { 0xFF11000000000000ULL, "Low Kernel Mapping", 0 },
    { 0xFFA0000000000000ULL, "vmalloc() Area", 0 },
    { 0xFFD4000000000000ULL, "Vmemmap", 0 },
    { 0xFFDF000000000000ULL, "KASAN shadow", 0 },
    { 0xFFFFFC0000000000ULL, "KASAN shadow end", 0 },
    { 0xFFFFFE0000000000ULL, "CPU entry Area", 0 },
    { 0xFFFFFF0000000000ULL, "ESPfix Area", 16 },
    { 0xFFFFFFEF00000000ULL, "EFI Runtime Services", 0 },
    { 0xFFFFFFFF80000000ULL, "High Kernel Mapping", 0 },
    { 0xFFFFFFFFA0000000ULL, "Modules", 0 },
    { 0xFFFFFFFFFF000000ULL, "End Modules", 0 },
    { 0xFFFFFFFFFF400000ULL, "Fixmap Area", 0 },
    { ~0ULL, NULL, 0 },
};

static const struct pg_va_range ranges_4level_[] = {
    { 0, 1ULL << 47 },
    { 0xFFFF880000000000ULL, 0 },
};

static const struct pg_va_range ranges_5level_[] = {
    { 0, 1ULL << 56 },
    { 0xFF10000000000000ULL, 0 },
};

const struct pg_marker *pg_ptdump_markers_linux(unsigned levels)
{
    if (levels == PG_MODE_4LEVEL)
        return markers_4level_;
    if (levels == PG_MODE_5LEVEL)
        return markers_5level_;
    return NULL;
}

const struct pg_va_range *pg_ptdump_ranges_linux(unsigned levels, size_t *n)
{
    *n = 2;
    if (levels == PG_MODE_4LEVEL)
        return ranges_4level_;
    if (levels == PG_MODE_5LEVEL)
        return ranges_5level_;
    *n = 0;
    return NULL;
}

/* The series state (Linux's pg_state). */
struct dump_ {
    const struct pg_mode_desc *m;
    const struct pg_marker *marker;     /* current marker; NULL: no markers */
    bool started;
    int level;
    uint64_t prot;                      /* raw flags of the series */
    uint64_t eff;                       /* effective rights of the series */
    virt_addr_t start;
    uint64_t lines;
    uint64_t wx_pages;
    unsigned width;                     /* hex digits of an address */
    struct out_ out;
};

static void print_marker_(struct dump_ *d)
{
    out_str_(&d->out, "---[ ");
    out_str_(&d->out, d->marker->name);
    out_str_(&d->out, " ]---");
    out_nl_(&d->out);
}

static void print_flags_(struct dump_ *d, uint64_t pr, int level)
{
    struct out_ *o = &d->out;
    if (!(pr & PTE_P)) {
        out_spaces_(o, 30);
    } else {
        out_str_(o, (pr & PTE_U) ? "USR " : "    ");
        out_str_(o, (pr & PTE_W) ? "RW " : "ro ");
        out_str_(o, (pr & PTE_PWT) ? "PWT " : "    ");
        out_str_(o, (pr & PTE_PCD) ? "PCD " : "    ");
        out_str_(o, (level >= 2 && (pr & PTE_PS)) ? "PSE " : "    ");
        bool pat = (level == 1 && (pr & PTE_PAT)) ||
                   ((level == 2 || level == 3) && (pr & PTE_PAT_LARGE));
        out_str_(o, pat ? "PAT " : "    ");
        out_str_(o, (pr & PTE_G) ? "GLB " : "    ");
        out_str_(o, (pr & PTE_NX) ? "NX " : "x  ");
    }
    out_str_(o, d->m->level[level].linux_name);
    out_nl_(o);
}

/* Linux's note_page: an entry at addr of `level` with raw flags prot and rights eff. */
static void note_(struct dump_ *d, virt_addr_t addr, int level, uint64_t prot, uint64_t eff)
{
    static const char units[] = "BKMGTPE";
    const struct pg_marker *mk = d->marker;
    bool at_marker = mk && mk[1].name && addr >= mk[1].start;

    if (!d->started) {
        d->started = true;
        d->prot = prot;
        d->eff = eff;
        d->level = level;
        d->lines = 0;
        if (mk && mk->name)
            print_marker_(d);
        return;
    }
    if (prot == d->prot && eff == d->eff && level == d->level && !at_marker)
        return;

    /* Addresses wrap at the top of the mode's space (2^32 or 2^64). */
    uint64_t delta = addr - d->start;
    if (d->m->va_bits <= 32)
        delta &= 0xFFFFFFFFULL;
    if ((d->eff & PTE_W) && !(d->eff & PTE_NX))
        d->wx_pages += delta >> PAGE_SHIFT;

    if (!mk || !mk->max_lines || d->lines < mk->max_lines) {
        struct out_ *o = &d->out;
        char b[24];
        out_str_(o, "0x");
        out_hex_(o, d->start, d->width);
        out_str_(o, "-0x");
        out_hex_(o, addr, d->width);
        out_str_(o, "   ");
        const char *unit = units;
        while (!(delta & 1023) && unit[1]) {
            delta >>= 10;
            unit++;
        }
        size_t n = pg_u64_dec(b, delta);
        if (n < 9)
            out_spaces_(o, 9 - n);
        out_mem_(o, b, n);
        out_chr_(o, *unit);
        out_chr_(o, ' ');
        print_flags_(d, d->prot, d->level);
    }
    d->lines++;

    if (at_marker) {
        if (mk->max_lines && d->lines > mk->max_lines) {
            uint64_t skipped = d->lines - mk->max_lines;
            char b[24];
            out_str_(&d->out, "... ");
            out_mem_(&d->out, b, pg_u64_dec(b, skipped));
            out_str_(&d->out, skipped == 1 ? " entry skipped ... " : " entries skipped ... ");
            out_nl_(&d->out);
        }
        d->marker = ++mk;
        d->lines = 0;
        print_marker_(d);
    }
    d->start = addr;
    d->prot = prot;
    d->eff = eff;
    d->level = level;
}

static int dump_range_(void *arg, const struct pg_range *r)
{
    struct dump_ *d = arg;
    const struct pg_mode_desc *m = d->m;
    uint64_t flags_mask = m->levels == PG_MODE_32BIT ? 0xFFFULL : PTE_FLAGS_MASK;
    int level = r->level;
    uint64_t e = r->entry;
    uint64_t prot, eff;

    switch (r->kind) {
    case PG_RANGE_MAPPED:
        prot = e & flags_mask;
        if (level > 1)
            prot |= e & PTE_PAT_LARGE;
        eff = r->eff & (PTE_U | PTE_W | PTE_NX);
        break;
    case PG_RANGE_HOLE:
        prot = e & flags_mask;
        eff = !e ? 0 : level == (int)m->levels ? prot : (r->eff & (PTE_U | PTE_W | PTE_NX));
        break;
    case PG_RANGE_UNREADABLE:
        /* Nothing can be read below: an empty run at the pointing entry's level. */
        level++;
        prot = 0;
        eff = 0;
        break;
    default:
        /* A shared or cyclic table not expanded: the pointing entry itself. */
        level++;
        prot = e & flags_mask;
        eff = level == (int)m->levels ? prot : (r->eff & (PTE_U | PTE_W | PTE_NX));
        break;
    }
    note_(d, r->start, level, prot, eff);
    return 0;
}

int pg_fmt_ptdump(const struct pg_ctx *ctx, phys_addr_t root, struct pg_ptdump_opts *opts,
                  const struct pg_sink *sink)
{
    const struct pg_mode_desc *m = ctx_mode_(ctx);
    if (!m || !sink || !sink->write)
        return -PG_EINVAL;
    struct pg_ptdump_opts def = { .markers = pg_ptdump_markers_linux(m->levels) };
    if (!opts)
        opts = &def;

    const struct pg_va_range *ranges = opts->ranges;
    size_t nranges = opts->nranges;
    static const struct pg_va_range whole = { 0, 0 };
    if (!ranges) {
        ranges = pg_ptdump_ranges_linux(m->levels, &nranges);
        if (!ranges) {
            ranges = &whole;
            nranges = 1;
        }
    }
    struct dump_ d = {
        .m = m, .marker = opts->markers,
        .width = m->va_bits > 32 ? 16 : 8,
        .out = { .sink = sink },
    };
    struct pg_iter_opts io = {
        .merge = PG_MERGE_NONE,
        .flags = PG_ITER_HOLES |
                 (opts->iter_flags ? opts->iter_flags : PG_ITER_EXPAND_SHARED | PG_ITER_EXPAND_CYCLES),
        .memo = opts->memo, .memo_slots = opts->memo_slots,
    };
    for (size_t i = 0; i < nranges; i++) {
        io.start = ranges[i].start;
        io.end = ranges[i].end;
        if (io.start == 0 && io.end == 0 && nranges > 1)
            continue;
        int r = pg_iterate(ctx, root, &io, dump_range_, &d);
        if (r)
            return r;
    }
    /* Linux flushes the last series with address 0 (its walk ends at the top) and level -1;
     * a walk that ends lower (e.g. a user half) flushes at the end of its last range. */
    if (d.started)
        note_(&d, ranges[nranges - 1].end, -1, 0, 0);
    opts->wx_pages = d.wx_pages;
    return 0;
}
