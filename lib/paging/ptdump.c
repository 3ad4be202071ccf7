/*
 * ptdump.c: Linux 6.x ptdump text (docs/formats.md, "Linux ptdump").
 *
 * Entries come from pg_iterate one at a time (holes included) and go through
 * the same series state machine Linux uses: a series ends when the raw flags,
 * the effective rights or the level change, or when the address reaches the
 * next marker; at most one marker is printed per finished line; the final
 * flush uses the end of the last range walked (0, the top, for Linux's), and
 * the first series starts at the start of the first one. Markers are data:
 * Linux's for 4- and 5-level paging and a kernel configuration (which
 * markers exist, where Modules starts) below, or the caller's own table.
 * Depends on: paging.h, pg_format.h, pg_internal.h, pg_out.h.
 */
#include "pg_internal.h"
#include "pg_out.h"

/*
 * Linux's address markers (arch/x86/mm/dump_pagetables.c), written once:
 * MARKER_(name, max_lines, base, cond, 4-level start, 5-level start).
 * `base` says which start a struct pg_linux_layout moves (FIXED_: none); the
 * starts given for the moved ones are Linux's defaults without memory KASLR
 * (and Modules' with RANDOMIZE_BASE). `cond` is the configuration option
 * the marker exists with (ALWAYS_: every x86-64 kernel).
 */
#define LINUX_MARKERS_(MARKER_)                                                                        \
    MARKER_("User Space", 0, FIXED_, ALWAYS_, 0x0000000000000000ULL, 0x0000000000000000ULL)            \
    MARKER_("Kernel Space", 0, FIXED_, ALWAYS_, 0x8000000000000000ULL, 0x8000000000000000ULL)          \
    MARKER_("LDT remap", 0, FIXED_, LDT_, 0xFFFF880000000000ULL, 0xFF10000000000000ULL)                \
    MARKER_("Low Kernel Mapping", 0, PAGE_OFFSET_, ALWAYS_, 0xFFFF888000000000ULL,                     \
            0xFF11000000000000ULL)                                                                     \
    MARKER_("vmalloc() Area", 0, VMALLOC_, ALWAYS_, 0xFFFFC90000000000ULL, 0xFFA0000000000000ULL)      \
    MARKER_("Vmemmap", 0, VMEMMAP_, ALWAYS_, 0xFFFFEA0000000000ULL, 0xFFD4000000000000ULL)             \
    MARKER_("KASAN shadow", 0, FIXED_, KASAN_, 0xFFFFEC0000000000ULL, 0xFFDF000000000000ULL)           \
    MARKER_("KASAN shadow end", 0, FIXED_, KASAN_, 0xFFFFFC0000000000ULL, 0xFFFFFC0000000000ULL)       \
    MARKER_("CPU entry Area", 0, FIXED_, ALWAYS_, 0xFFFFFE0000000000ULL, 0xFFFFFE0000000000ULL)        \
    MARKER_("ESPfix Area", 16, FIXED_, ESPFIX_, 0xFFFFFF0000000000ULL, 0xFFFFFF0000000000ULL)          \
    MARKER_("EFI Runtime Services", 0, FIXED_, EFI_, 0xFFFFFFEF00000000ULL, 0xFFFFFFEF00000000ULL)     \
    MARKER_("High Kernel Mapping", 0, FIXED_, ALWAYS_, 0xFFFFFFFF80000000ULL, 0xFFFFFFFF80000000ULL)   \
    MARKER_("Modules", 0, MODULES_, ALWAYS_, 0xFFFFFFFFC0000000ULL, 0xFFFFFFFFC0000000ULL)             \
    MARKER_("End Modules", 0, FIXED_, ALWAYS_, 0xFFFFFFFFFF000000ULL, 0xFFFFFFFFFF000000ULL)           \
    MARKER_("Fixmap Area", 0, FIXED_, ALWAYS_, 0xFFFFFFFFFF400000ULL, 0xFFFFFFFFFF400000ULL)

enum marker_base_ { FIXED_, PAGE_OFFSET_, VMALLOC_, VMEMMAP_, MODULES_ };

/* The config bit that turns a marker off (NO_*) or on (KASAN); 0: always there. */
enum marker_cond_ {
    ALWAYS_ = 0,
    LDT_ = PG_LINUX_NO_LDT,
    KASAN_ = PG_LINUX_KASAN,
    ESPFIX_ = PG_LINUX_NO_ESPFIX,
    EFI_ = PG_LINUX_NO_EFI,
};

/* MODULES_VADDR without RANDOMIZE_BASE: __START_KERNEL_map + a 512 MiB KERNEL_IMAGE_SIZE. */
#define MODULES_VADDR_FIXED_ 0xFFFFFFFFA0000000ULL

struct marker_row_ {
    const char *name;
    unsigned max_lines;
    enum marker_base_ base;
    enum marker_cond_ cond;
    virt_addr_t start[2];       /* 4-level, 5-level */
};

/* The static tables hold the markers of the default configuration (config 0). */
#define ROW_(name, max, base, cond, s4, s5) { (name), (max), (base), (cond), { (s4), (s5) } },
#define AT4_(name, max, base, cond, s4, s5) DEFAULT_##cond((s4), (name), (max))
#define AT5_(name, max, base, cond, s4, s5) DEFAULT_##cond((s5), (name), (max))
#define DEFAULT_ALWAYS_(s, name, max) { s, name, max },
#define DEFAULT_LDT_(s, name, max) { s, name, max },
#define DEFAULT_ESPFIX_(s, name, max) { s, name, max },
#define DEFAULT_EFI_(s, name, max) { s, name, max },
#define DEFAULT_KASAN_(s, name, max)
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
    *l = (struct pg_linux_layout){ .levels = levels };
    l->page_offset_base = ok ? default_base_(levels, PAGE_OFFSET_) : 0;
    l->vmalloc_base = ok ? default_base_(levels, VMALLOC_) : 0;
    l->vmemmap_base = ok ? default_base_(levels, VMEMMAP_) : 0;
}

/* Whether the configuration has the marker of row. */
static bool row_present_(const struct marker_row_ *row, unsigned config)
{
    if (row->cond == KASAN_)
        return config & PG_LINUX_KASAN;
    return !(config & row->cond);
}

/* The start of row in the layout l. */
static virt_addr_t row_start_(const struct marker_row_ *row, const struct pg_linux_layout *l)
{
    switch (row->base) {
    case PAGE_OFFSET_: return l->page_offset_base;
    case VMALLOC_: return l->vmalloc_base;
    case VMEMMAP_: return l->vmemmap_base;
    case MODULES_:
        if (l->modules_vaddr)
            return l->modules_vaddr;
        if (l->config & PG_LINUX_NO_RANDOMIZE_BASE)
            return MODULES_VADDR_FIXED_;
        break;
    case FIXED_:
        break;
    }
    return row->start[l->levels - PG_MODE_4LEVEL];
}

size_t pg_ptdump_markers_for_layout(const struct pg_linux_layout *l, struct pg_marker *buf,
                                    size_t n)
{
    if ((l->levels != PG_MODE_4LEVEL && l->levels != PG_MODE_5LEVEL) || n < NMARKERS_ + 1)
        return 0;
    size_t count = 0;
    for (size_t i = 0; i < NMARKERS_; i++) {
        const struct marker_row_ *row = &linux_markers_[i];
        if (!row_present_(row, l->config))
            continue;
        virt_addr_t start = row_start_(row, l);
        /* Insertion in address order (stable: equal starts keep Linux's order). */
        size_t k = count++;
        for (; k > 0 && buf[k - 1].start > start; k--)
            buf[k] = buf[k - 1];
        buf[k] = (struct pg_marker){ start, row->name, row->max_lines };
    }
    buf[count] = (struct pg_marker)END_MARKER_;
    return count;
}

/* The words of pg_linux_config_parse, each with the bit it sets (`no` + word: clears). */
static const struct { const char *word; unsigned bit; bool set_by_no; } config_words_[] = {
    { "kasan", PG_LINUX_KASAN, false },
    { "efi", PG_LINUX_NO_EFI, true },
    { "ldt", PG_LINUX_NO_LDT, true },
    { "espfix", PG_LINUX_NO_ESPFIX, true },
    { "randomize_base", PG_LINUX_NO_RANDOMIZE_BASE, true },
};

/* The config bit word[0, n) names: set (*set = true) or cleared. returns: 0, -PG_EINVAL. */
static int config_word_(const char *w, size_t n, unsigned *bit, bool *set)
{
    bool no = n > 2 && w[0] == 'n' && w[1] == 'o';
    for (int pass = 0; pass < 2; pass++) {
        const char *s = pass ? w + 2 : w;
        size_t len = pass ? n - 2 : n;
        if (pass && !no)
            break;
        for (size_t i = 0; i < sizeof(config_words_) / sizeof(config_words_[0]); i++) {
            const char *cw = config_words_[i].word;
            if (strlen(cw) == len && !memcmp(cw, s, len)) {
                *bit = config_words_[i].bit;
                *set = config_words_[i].set_by_no == (pass == 1);
                return 0;
            }
        }
    }
    return -PG_EINVAL;
}

int pg_linux_config_parse(const char *words, unsigned *config)
{
    unsigned c = *config;
    const char *w = words;
    for (;;) {
        size_t n = 0;
        while (w[n] && w[n] != ',')
            n++;
        unsigned bit;
        bool set;
        if (config_word_(w, n, &bit, &set))
            return -PG_EINVAL;
        c = set ? c | bit : c & ~bit;
        if (!w[n])
            break;
        w += n + 1;
    }
    *config = c;
    return 0;
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
        /* A large page's PAT bit (12) is not in pr (see dump_range_): only a PTE's prints. */
        out_str_(o, (level == 1 && (pr & PTE_PAT)) ? "PAT " : "    ");
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
        /* Linux's raw flags are the entry without bits 12-51 (PTE_FLAGS_MASK) at every
         * level: a 2 MiB or 1 GiB page's PAT bit, bit 12, neither splits a series nor
         * prints (docs/formats.md, "Linux ptdump"). */
        prot = entry_flags_(m, e);
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

/*
 * The first series starts where the walk starts (Linux's walk starts at 0),
 * under the last marker at or below that address: a walk of a sub-range
 * that starts at a break of Linux's series prints Linux's lines there
 * (docs/formats.md, "Linux ptdump", "A sub-range").
 */
static void start_at_(struct dump_ *d, const struct pg_va_range *ranges, size_t nranges)
{
    size_t i = 0;
    if (!nranges)
        return;
    while (i + 1 < nranges && ranges[i].start == 0 && ranges[i].end == 0)
        i++;
    d->start = ranges[i].start;
    const struct pg_marker *mk = d->marker;
    while (mk && mk->name && mk[1].name && mk[1].start <= d->start)
        mk++;
    d->marker = mk;
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
    start_at_(&d, ranges, nranges);
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
