/*
 * ptdump.c: Linux 6.x ptdump text (docs/formats.md, "Linux ptdump").
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

/*
 * Linux's address markers (arch/x86/mm/dump_pagetables.c), written once:
 * MARKER_(name, max_lines, base, 4-level start, 5-level start). `base` says
 * which start a struct pg_linux_layout moves (FIXED_: none); the starts
 * given for the moved ones are Linux's defaults without KASLR.
 */
#define LINUX_MARKERS_(MARKER_)                                                                     \
    MARKER_("User Space", 0, FIXED_, 0x0000000000000000ULL, 0x0000000000000000ULL)                  \
    MARKER_("Kernel Space", 0, FIXED_, 0x8000000000000000ULL, 0x8000000000000000ULL)                \
    MARKER_("LDT remap", 0, FIXED_, 0xFFFF880000000000ULL, 0xFF10000000000000ULL)                   \
    MARKER_("Low Kernel Mapping", 0, PAGE_OFFSET_, 0xFFFF888000000000ULL, 0xFF11000000000000ULL)    \
    MARKER_("vmalloc() Area", 0, VMALLOC_, 0xFFFFC90000000000ULL, 0xFFA0000000000000ULL)            \
    MARKER_("Vmemmap", 0, VMEMMAP_, 0xFFFFEA0000000000ULL, 0xFFD4000000000000ULL)                   \
    MARKER_("KASAN shadow", 0, FIXED_, 0xFFFFEC0000000000ULL, 0xFFDF000000000000ULL)                \
    MARKER_("KASAN shadow end", 0, FIXED_, 0xFFFFFC0000000000ULL, 0xFFFFFC0000000000ULL)            \
    MARKER_("CPU entry Area", 0, FIXED_, 0xFFFFFE0000000000ULL, 0xFFFFFE0000000000ULL)              \
    MARKER_("ESPfix Area", 16, FIXED_, 0xFFFFFF0000000000ULL, 0xFFFFFF0000000000ULL)                \
    MARKER_("EFI Runtime Services", 0, FIXED_, 0xFFFFFFEF00000000ULL, 0xFFFFFFEF00000000ULL)        \
    MARKER_("High Kernel Mapping", 0, FIXED_, 0xFFFFFFFF80000000ULL, 0xFFFFFFFF80000000ULL)         \
    MARKER_("Modules", 0, FIXED_, 0xFFFFFFFFA0000000ULL, 0xFFFFFFFFA0000000ULL)                     \
    MARKER_("End Modules", 0, FIXED_, 0xFFFFFFFFFF000000ULL, 0xFFFFFFFFFF000000ULL)                 \
    MARKER_("Fixmap Area", 0, FIXED_, 0xFFFFFFFFFF400000ULL, 0xFFFFFFFFFF400000ULL)

enum marker_base_ { FIXED_, PAGE_OFFSET_, VMALLOC_, VMEMMAP_ };

struct marker_row_ {
    const char *name;
    unsigned max_lines;
    enum marker_base_ base;
    virt_addr_t start[2];       /* 4-level, 5-level */
};

#define ROW_(name, max, base, s4, s5) { (name), (max), (base), { (s4), (s5) } },
#define AT4_(name, max, base, s4, s5) { (s4), (name), (max) },
#define AT5_(name, max, base, s4, s5) { (s5), (name), (max) },
#define END_MARKER_ { ~0ULL, NULL, 0 }

static const struct marker_row_ linux_markers_[] = { LINUX_MARKERS_(ROW_) };
static const struct pg_marker markers_4level_[] = { LINUX_MARKERS_(AT4_) END_MARKER_ };
static const struct pg_marker markers_5level_[] = { LINUX_MARKERS_(AT5_) END_MARKER_ };

#define NMARKERS_ (sizeof(linux_markers_) / sizeof(linux_markers_[0]))
_Static_assert(NMARKERS_ + 1 == PG_LINUX_MARKERS_MAX, "PG_LINUX_MARKERS_MAX");

/* The default start of the row that a layout moves. */
static virt_addr_t default_base_(unsigned levels, enum marker_base_ base)
{
    for (size_t i = 0; i < NMARKERS_; i++)
        if (linux_markers_[i].base == base)
            return linux_markers_[i].start[levels - PG_MODE_4LEVEL];
    return 0;
}

void pg_linux_layout_default(unsigned levels, struct pg_linux_layout *l)
{
    bool ok = levels == PG_MODE_4LEVEL || levels == PG_MODE_5LEVEL;
    l->levels = levels;
    l->page_offset_base = ok ? default_base_(levels, PAGE_OFFSET_) : 0;
    l->vmalloc_base = ok ? default_base_(levels, VMALLOC_) : 0;
    l->vmemmap_base = ok ? default_base_(levels, VMEMMAP_) : 0;
}

size_t pg_ptdump_markers_for_layout(const struct pg_linux_layout *l, struct pg_marker *buf,
                                    size_t n)
{
    if ((l->levels != PG_MODE_4LEVEL && l->levels != PG_MODE_5LEVEL) || n < NMARKERS_ + 1)
        return 0;
    for (size_t i = 0; i < NMARKERS_; i++) {
        const struct marker_row_ *row = &linux_markers_[i];
        virt_addr_t start = row->start[l->levels - PG_MODE_4LEVEL];
        if (row->base == PAGE_OFFSET_)
            start = l->page_offset_base;
        else if (row->base == VMALLOC_)
            start = l->vmalloc_base;
        else if (row->base == VMEMMAP_)
            start = l->vmemmap_base;
        /* Insertion in address order (stable: equal starts keep Linux's order). */
        size_t k = i;
        for (; k > 0 && buf[k - 1].start > start; k--)
            buf[k] = buf[k - 1];
        buf[k] = (struct pg_marker){ start, row->name, row->max_lines };
    }
    buf[NMARKERS_] = (struct pg_marker)END_MARKER_;
    return NMARKERS_;
}

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
    int level = r->level;
    uint64_t e = r->entry;
    uint64_t prot, eff;

    if (pg_range_wx(r))
        d->wx_pages += r->size >> PAGE_SHIFT;
    switch (r->kind) {
    case PG_RANGE_MAPPED:
        prot = entry_flags_(m, e);
        if (level > 1)
            prot |= e & PTE_PAT_LARGE;
        eff = r->eff & (PTE_U | PTE_W | PTE_NX);
        break;
    case PG_RANGE_HOLE:
        prot = entry_flags_(m, e);
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
        prot = entry_flags_(m, e);
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
