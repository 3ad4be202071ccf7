/*
 * linux_layout.c: Linux's x86-64 memory layout inferred from the page tables
 * alone (see linux_layout.h; the rules are in docs/memlayout.md, "Linux's
 * randomised layout").
 *
 * One pg_iterate pass over the whole tree (merged by rights, physically
 * contiguous, each shared table expanded once, recursive slots never) feeds
 * a scanner that keeps a handful of numbers: direct-map candidates (a
 * 1 GiB-aligned VA - PA shared by the ranges), the kernel image's parts by
 * their rights, the bytes mapped in each fixed region, the last cluster of
 * mappings below the CPU entry area (the vmemmap). Three small walks with a
 * fixed budget then find the first page table after the direct map
 * (vmalloc_base), after the vmalloc area (vmemmap_base) and above the module
 * area (the fixmap). Where the tables do not say, a value stays unknown with
 * the reason.
 * Depends on: paging.h, pg_format.h, linux_layout.h (public API only).
 */
#include <paging/linux_layout.h>

/* ---- Linux's numbers that the marker table (pg_ptdump_markers_linux) does not hold ---- */

#define GIB_                (1ULL << 30)
#define TIB_                (1ULL << 40)
#define IMAGE_WINDOW_KASLR_ (1ULL << 30)    /* KERNEL_IMAGE_SIZE with RANDOMIZE_BASE */
#define IMAGE_WINDOW_FIXED_ (512ULL << 20)  /* KERNEL_IMAGE_SIZE without it */
#define START_KERNEL_OFF_   (16ULL << 20)   /* __START_KERNEL - __START_KERNEL_map */
#define AREA_512G_          (512ULL << 30)  /* cpu_entry_area and ESPfix areas */
#define EFI_VA_START_       0xFFFFFFFF00000000ULL
#define FIXADDR_END_        0xFFFFFFFFFF800000ULL   /* FIXADDR_TOP + PAGE_SIZE */
#define VMALLOC_SIZE_L4_    (32ULL * TIB_)
#define VMALLOC_SIZE_L5_    (12800ULL * TIB_)
#define STRUCT_PAGE_SIZE_   64ULL
#define WALK_BUDGET_        (1u << 16)      /* entries a small walk may visit */
#define NCAND_              8               /* direct-map candidates kept */

/* The fixed regions, in the order of their names below. */
enum area_ { A_LDT_, A_CEA_, A_ESPFIX_, A_EFI_, A_FIXMAP_, NAREA_ };

static const char *const area_marker_[NAREA_] = {
    "LDT remap", "CPU entry Area", "ESPfix Area", "EFI Runtime Services", "Fixmap Area",
};

/* The addresses of one paging mode. */
struct consts_ {
    const struct pg_mode_desc *m;
    uint64_t slot;                  /* bytes one top-level entry maps */
    virt_addr_t half;               /* start of the upper canonical half */
    virt_addr_t dm_lo, dm_hi;       /* where page_offset_base can be: [LDT remap, CEA) */
    uint64_t vmalloc_size;
    virt_addr_t area_lo[NAREA_], area_hi[NAREA_];
    virt_addr_t hkm;                /* __START_KERNEL_map */
    virt_addr_t modules_end;
};

/* A direct-map candidate: a VA - PA constant and what it maps. */
struct cand_ {
    uint64_t delta, covered, mapped;
    virt_addr_t lo, hi;             /* VA extent */
    phys_addr_t pa_lo, pa_hi;
};

enum img_state_ { IMG_NONE_, IMG_TEXT_, IMG_GAP_, IMG_RODATA_, IMG_DATA_ };

/* The kernel image: [start, end) at one VA - PA, split by rights. */
struct image_ {
    enum img_state_ state;
    uint64_t delta;
    virt_addr_t start, end, first;      /* first: the window's lowest mapping */
    bool first_exec;
    virt_addr_t text_end, ro_start, ro_end, data_start;
    virt_addr_t after;                  /* the first mapping after the text, then after rodata */
    uint64_t data_bytes, after_bytes;
    virt_addr_t mod_lo;                 /* lowest mapping of another VA - PA (0: none) */
    uint64_t mod_bytes;
};

struct scan_ {
    const struct consts_ *k;
    const struct pg_ram_range *ram;
    size_t nram;
    struct pg_linux_found *found;
    struct cand_ cand[NCAND_];
    unsigned ncand;
    uint64_t area_bytes[NAREA_];
    unsigned area_shared[NAREA_];
    struct image_ img;
    virt_addr_t clu_lo, clu_hi;         /* the last cluster of mappings in [dm_lo, CEA) */
    uint64_t clu_bytes;
};

/* ---- small helpers ---- */

static bool streq_(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

/* Start of the marker `name` in Linux's table for the mode (~0 if absent). */
static virt_addr_t marker_(unsigned levels, const char *name)
{
    const struct pg_marker *mk = pg_ptdump_markers_linux(levels);
    for (; mk && mk->name; mk++)
        if (streq_(mk->name, name))
            return mk->start;
    return ~0ULL;
}

static uint64_t round_up_(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }
static uint64_t min_(uint64_t a, uint64_t b) { return a < b ? a : b; }
static uint64_t max_(uint64_t a, uint64_t b) { return a > b ? a : b; }

/* Bytes of [lo, hi) inside [a, b) (hi, b: exclusive; 0 for the top). */
static uint64_t overlap_(uint64_t lo, uint64_t hi, uint64_t a, uint64_t b)
{
    uint64_t s = max_(lo, a), e = min_(hi - 1, b - 1);
    return e >= s && (hi - 1 >= lo) ? e - s + 1 : 0;
}

static void consts_init_(struct consts_ *k, const struct pg_mode_desc *m)
{
    unsigned l = m->levels;
    k->m = m;
    k->slot = 1ULL << m->level[l].shift;
    k->half = ~0ULL << (m->va_bits - 1);
    k->vmalloc_size = l == PG_MODE_5LEVEL ? VMALLOC_SIZE_L5_ : VMALLOC_SIZE_L4_;
    for (int a = 0; a < NAREA_; a++)
        k->area_lo[a] = marker_(l, area_marker_[a]);
    k->area_hi[A_LDT_] = k->area_lo[A_LDT_] + k->slot;
    k->area_hi[A_CEA_] = k->area_lo[A_CEA_] + AREA_512G_;
    k->area_hi[A_ESPFIX_] = k->area_lo[A_ESPFIX_] + AREA_512G_;
    k->area_hi[A_EFI_] = EFI_VA_START_;
    k->modules_end = marker_(l, "End Modules");
    /* The fixmap's page tables are looked for from MODULES_END up. */
    k->area_lo[A_FIXMAP_] = k->modules_end;
    k->area_hi[A_FIXMAP_] = FIXADDR_END_;
    k->dm_lo = k->area_lo[A_LDT_];
    k->dm_hi = k->area_lo[A_CEA_];
    k->hkm = marker_(l, "High Kernel Mapping");
}

/* ---- the scanner (pg_iterate callback) ---- */

static uint64_t ram_overlap_(const struct scan_ *s, phys_addr_t pa, uint64_t size)
{
    uint64_t n = 0;
    for (size_t i = 0; i < s->nram; i++)
        n += overlap_(pa, pa + size, s->ram[i].start, s->ram[i].end);
    return n;
}

/* A mapped range in the direct-map window with a 1 GiB-aligned VA - PA in the window. */
static void scan_direct_map_(struct scan_ *s, const struct pg_range *r)
{
    const struct consts_ *k = s->k;
    uint64_t delta = r->start - r->pa;
    if (r->start < k->dm_lo || r->start >= k->dm_hi || (delta & (GIB_ - 1)) ||
        delta < k->dm_lo || delta >= k->dm_hi)
        return;
    struct cand_ *c = NULL;
    for (unsigned i = 0; i < s->ncand; i++)
        if (s->cand[i].delta == delta)
            c = &s->cand[i];
    if (!c) {
        if (s->ncand < NCAND_) {
            c = &s->cand[s->ncand++];
        } else {
            c = &s->cand[0];    /* replace the one that maps least */
            for (unsigned i = 1; i < NCAND_; i++)
                if (s->cand[i].mapped < c->mapped)
                    c = &s->cand[i];
        }
        *c = (struct cand_){ .delta = delta, .lo = r->start, .pa_lo = r->pa };
    }
    c->mapped += r->size;
    c->covered += ram_overlap_(s, r->pa, r->size);
    c->hi = r->start + r->size;
    c->pa_hi = max_(c->pa_hi, r->pa + r->size);
}

/* Rights class of a mapped range: executable, read-only or writable. */
enum cls_ { CLS_X_, CLS_RO_, CLS_RW_ };

static enum cls_ cls_(const struct pg_range *r)
{
    if (!(r->eff & PTE_NX))
        return CLS_X_;
    return (r->eff & PTE_W) ? CLS_RW_ : CLS_RO_;
}

/* The image's parts follow each other: text (X), a gap, rodata (RO), data (from _sdata). */
static void image_step_(struct image_ *g, const struct pg_range *r, virt_addr_t end)
{
    enum cls_ c = cls_(r);
    switch (g->state) {
    case IMG_TEXT_:
        if (c == CLS_X_ && r->start == g->text_end) {
            g->text_end = end;
            return;
        }
        g->state = IMG_GAP_;
        g->after = r->start;
        /* fall through */
    case IMG_GAP_:
        if (c != CLS_RO_) {
            g->after_bytes += r->size;
            return;
        }
        g->state = IMG_RODATA_;
        g->ro_start = r->start;
        g->ro_end = end;
        return;
    case IMG_RODATA_:
        if (c == CLS_RO_ && r->start == g->ro_end) {
            g->ro_end = end;
            return;
        }
        /* _sdata is 2 MiB aligned (__end_rodata_hpage_align). */
        g->state = IMG_DATA_;
        g->data_start = round_up_(g->ro_end, PMD_SIZE);
        g->after = r->start;
        g->after_bytes = 0;
        /* fall through */
    default:
        g->data_bytes += overlap_(r->start, end, g->data_start, 0);
        g->after_bytes += r->size;
        return;
    }
}

/* A mapped range in [__START_KERNEL_map, MODULES_END). */
static void scan_image_(struct scan_ *s, const struct pg_range *r)
{
    struct image_ *g = &s->img;
    virt_addr_t end = r->start + r->size;
    if (g->state == IMG_NONE_) {
        if (r->start >= s->k->hkm + IMAGE_WINDOW_KASLR_)
            goto module;
        g->first = r->start;
        g->first_exec = cls_(r) == CLS_X_;
        g->delta = r->start - r->pa;
        g->start = g->text_end = r->start;
        g->state = IMG_TEXT_;
    }
    if (r->start - r->pa == g->delta && r->start < s->k->hkm + IMAGE_WINDOW_KASLR_) {
        g->end = end;
        image_step_(g, r, end);
        return;
    }
module:
    if (!g->mod_lo)
        g->mod_lo = r->start;
    g->mod_bytes += r->size;
}

/* Mapped ranges below the CPU entry area, in clusters at least 1 GiB apart. */
static void scan_cluster_(struct scan_ *s, const struct pg_range *r)
{
    if (r->start < s->k->dm_lo || r->start >= s->k->dm_hi)
        return;
    if (!s->clu_bytes || r->start - s->clu_hi >= GIB_) {
        s->clu_lo = r->start;
        s->clu_bytes = 0;
    }
    s->clu_hi = r->start + r->size;
    s->clu_bytes += r->size;
}

static void scan_mapped_(struct scan_ *s, const struct pg_range *r)
{
    const struct consts_ *k = s->k;
    struct pg_linux_found *f = s->found;
    if (!k->m->canonical || r->start < k->half) {
        f->user_bytes += r->size;
        if (r->pa == r->start)
            f->identity_bytes += r->size;
        return;
    }
    f->kernel_bytes += r->size;
    scan_direct_map_(s, r);
    scan_cluster_(s, r);
    for (int a = 0; a < NAREA_; a++)
        s->area_bytes[a] += overlap_(r->start, r->start + r->size, k->area_lo[a], k->area_hi[a]);
    if (r->start >= k->hkm && r->start < k->modules_end)
        scan_image_(s, r);
}

static int scan_range_(void *arg, const struct pg_range *r)
{
    struct scan_ *s = arg;
    struct pg_linux_found *f = s->found;
    switch (r->kind) {
    case PG_RANGE_MAPPED:
        scan_mapped_(s, r);
        break;
    case PG_RANGE_CYCLE:
        if (!f->cycles++)
            f->first_cycle = r->start;
        break;
    case PG_RANGE_UNREADABLE:
        f->unreadable++;
        break;
    case PG_RANGE_SHARED:
        f->shared++;
        for (int a = 0; a < NAREA_; a++)
            if (overlap_(r->start, r->start + r->size, s->k->area_lo[a], s->k->area_hi[a]))
                s->area_shared[a]++;
        break;
    default:
        break;
    }
    return 0;
}

/* ---- small walks: the first page table at or below a level ---- */

struct first_ {
    int level;
    uint64_t size;      /* bytes of an entry at `level` */
    unsigned visited;
    virt_addr_t va;
    enum pg_linux_why why;
};

static int first_range_(void *arg, const struct pg_range *r)
{
    struct first_ *w = arg;
    if (++w->visited > WALK_BUDGET_) {
        w->why = PG_LW_WALK_BUDGET;
        return 1;
    }
    /* Not present there, or a pointer back up the path (a recursive slot): no table of its own. */
    if ((r->kind == PG_RANGE_HOLE && r->level >= w->level) || r->kind == PG_RANGE_CYCLE)
        return 0;
    if (r->kind == PG_RANGE_UNREADABLE) {
        w->why = PG_LW_UNREADABLE;
        w->va = r->start;
        return 1;
    }
    w->why = PG_LW_NONE;
    w->va = r->start & ~(w->size - 1);
    return 1;
}

/*
 * The lowest address of [start, end) whose entry at `level` is present (a
 * table or a leaf there or above), aligned to that entry. At most
 * WALK_BUDGET_ entries are visited.
 * returns: PG_LW_NONE and *va; PG_LW_WALK_BUDGET, PG_LW_UNREADABLE (*va: where),
 *          or `none` when there is no such entry.
 */
static enum pg_linux_why first_table_(const struct pg_ctx *ctx, phys_addr_t root,
                                      virt_addr_t start, virt_addr_t end, int level,
                                      enum pg_linux_why none, virt_addr_t *va)
{
    if (end != 0 && end <= start)
        return none;
    struct first_ w = { .level = level, .size = pg_level_size(ctx->levels, level), .why = none };
    struct pg_iter_opts o = { .start = start, .end = end, .merge = PG_MERGE_NONE,
                              .flags = PG_ITER_HOLES };
    if (pg_iterate(ctx, root, &o, first_range_, &w) < 0)
        return PG_LW_UNREADABLE;
    *va = w.va;
    return w.why;
}

/* Present top-level entries whose slots overlap [start, start + size). */
static unsigned top_present_(const struct pg_ctx *ctx, phys_addr_t root, const struct consts_ *k,
                             virt_addr_t start, uint64_t size, unsigned *slots)
{
    int top = (int)k->m->levels;
    unsigned first = (unsigned)pg_va_index(k->m->levels, top, start);
    unsigned last = (unsigned)pg_va_index(k->m->levels, top, start + size - 1);
    unsigned n = 0;
    *slots = last - first + 1;
    for (unsigned i = first; i <= last; i++) {
        uint64_t e = 0;
        if (!pg_entry_read(ctx, root, top, i, &e) && (e & PTE_P))
            n++;
    }
    return n;
}

/* ---- from the scan to values and regions ---- */

static void set_value_(struct pg_linux_inferred *out, enum pg_linux_fact f, bool known,
                       uint64_t value, enum pg_linux_why why, uint64_t n0, uint64_t n1)
{
    out->value[f] = (struct pg_linux_value){ known, known ? value : 0, why, { n0, n1 } };
}

static void add_region_(struct pg_linux_inferred *out, const char *name, virt_addr_t start,
                        virt_addr_t end, enum pg_linux_why why, uint64_t n0, uint64_t n1)
{
    if (out->nregions >= PG_LINUX_MAX_REGIONS || (end != 0 && end <= start))
        return;
    /* Insertion in address order. */
    size_t i = out->nregions++;
    for (; i > 0 && out->region[i - 1].start > start; i--)
        out->region[i] = out->region[i - 1];
    out->region[i] = (struct pg_linux_region){ name, start, end, why, { n0, n1 } };
}

/* The direct map: the candidate covering most RAM (or, without RAM ranges,
 * mapping most from physical address 0); it must cover half of the RAM. */
static const struct cand_ *pick_direct_map_(const struct scan_ *s, struct pg_linux_found *f)
{
    const struct cand_ *best = NULL;
    for (unsigned i = 0; i < s->ncand; i++) {
        const struct cand_ *c = &s->cand[i];
        uint64_t score = s->nram ? c->covered : (c->pa_lo == 0 ? c->mapped : 0);
        uint64_t top = best ? (s->nram ? best->covered : best->mapped) : 0;
        if (score > top)
            best = c;
    }
    if (best) {
        f->dm_covered = best->covered;
        f->dm_delta = best->delta;
    }
    if (!best || (s->nram && best->covered < f->ram_bytes - f->ram_bytes / 2))
        return NULL;
    return best;
}

/* kernel_text_start, phys_base, the KASLR offset and the image's regions. */
static void infer_image_(const struct scan_ *s, struct pg_linux_inferred *out)
{
    const struct image_ *g = &s->img;
    virt_addr_t start_kernel = s->k->hkm + START_KERNEL_OFF_;
    if (!g->first_exec || (g->first & (PMD_SIZE - 1))) {
        set_value_(out, PG_LF_KERNEL_TEXT_START, false, 0, PG_LW_TEXT_NOT_EXEC, g->first, 0);
        set_value_(out, PG_LF_PHYS_BASE, false, 0, PG_LW_NEEDS_TEXT, 0, 0);
        set_value_(out, PG_LF_KASLR_OFFSET, false, 0, PG_LW_NEEDS_TEXT, 0, 0);
        return;
    }
    phys_addr_t text_pa = g->first - g->delta;
    set_value_(out, PG_LF_KERNEL_TEXT_START, true, g->first, PG_LW_TEXT, g->text_end, g->end);
    /* __pa_symbol(x) = x - __START_KERNEL_map + phys_base */
    set_value_(out, PG_LF_PHYS_BASE, true, s->k->hkm - g->delta, PG_LW_PHYS_BASE, text_pa,
               g->first - s->k->hkm);
    set_value_(out, PG_LF_KASLR_OFFSET, g->first >= start_kernel, g->first - start_kernel,
               g->first >= start_kernel ? PG_LW_KASLR_OFFSET : PG_LW_NEEDS_TEXT, 0, 0);

    if (g->state == IMG_TEXT_) {
        add_region_(out, "Kernel text", g->first, g->text_end, PG_LW_REGION_NO_RODATA,
                    g->text_end - g->first, 0);
        return;
    }
    add_region_(out, "Kernel text", g->first, g->text_end, PG_LW_REGION_TEXT,
                g->text_end - g->first, 0);
    if (g->state >= IMG_RODATA_)
        add_region_(out, "Kernel rodata", g->ro_start, g->ro_end, PG_LW_REGION_RODATA,
                    g->ro_end - g->ro_start, 0);
    if (g->state == IMG_DATA_ && g->data_start < g->end)
        add_region_(out, "Kernel data/bss", g->data_start, g->end, PG_LW_REGION_DATA,
                    g->data_bytes, 0);
    else if (g->state == IMG_DATA_)     /* an image without Linux's 2 MiB-aligned _sdata */
        add_region_(out, "Kernel data/bss", g->after, g->end, PG_LW_REGION_DATA_UNALIGNED,
                    g->after_bytes, 0);
    else if (g->state == IMG_GAP_)      /* no read-only part at all */
        add_region_(out, "Kernel data/bss", g->after, g->end, PG_LW_REGION_DATA_NO_RODATA,
                    g->after_bytes, 0);
}

/* MODULES_VADDR: after a 1 GiB image window when the text is randomised (or
 * modules are mapped there), after a 512 MiB one when modules are mapped below. */
static void infer_modules_(const struct scan_ *s, struct pg_linux_inferred *out)
{
    const struct image_ *g = &s->img;
    const struct pg_linux_value *text = &out->value[PG_LF_KERNEL_TEXT_START];
    virt_addr_t kaslr_end = s->k->hkm + IMAGE_WINDOW_KASLR_;
    virt_addr_t fixed_end = s->k->hkm + IMAGE_WINDOW_FIXED_;
    virt_addr_t base;
    enum pg_linux_why why = PG_LW_MODULES_MAPPED;
    if (text->known && text->value != s->k->hkm + START_KERNEL_OFF_) {
        base = kaslr_end;
        why = PG_LW_MODULES_KASLR;
    } else if (g->mod_lo >= kaslr_end) {
        base = kaslr_end;
    } else if (g->mod_lo >= fixed_end && g->mod_lo >= g->end) {
        base = fixed_end;
    } else {
        set_value_(out, PG_LF_MODULES_VADDR, false, 0, PG_LW_NO_MODULES, g->mod_lo, 0);
        return;
    }
    set_value_(out, PG_LF_MODULES_VADDR, true, base, why, g->mod_lo, 0);
    if (g->mod_bytes)
        add_region_(out, "Modules", base, s->k->modules_end, PG_LW_REGION_MODULES, g->mod_bytes,
                    0);
}

/* vmalloc_base: the first page table after the direct map, leaving room for the area. */
static void infer_vmalloc_(const struct pg_ctx *ctx, phys_addr_t root, const struct scan_ *s,
                           const struct cand_ *dm, struct pg_linux_inferred *out)
{
    const struct consts_ *k = s->k;
    virt_addr_t va = 0;
    enum pg_linux_why why = first_table_(ctx, root, round_up_(dm->hi, GIB_), k->dm_hi, 3,
                                         PG_LW_NO_VMALLOC_TABLE, &va);
    if (why == PG_LW_NONE && (va + k->vmalloc_size - 1 >= k->dm_hi || va + k->vmalloc_size < va))
        why = PG_LW_NO_VMALLOC_TABLE;
    if (why != PG_LW_NONE) {
        set_value_(out, PG_LF_VMALLOC_BASE, false, 0, why, va, 0);
        return;
    }
    unsigned slots;
    unsigned present = top_present_(ctx, root, k, va, k->vmalloc_size, &slots);
    if (present == slots)
        set_value_(out, PG_LF_VMALLOC_BASE, true, va, PG_LW_VMALLOC_PREALLOC, slots,
                   k->vmalloc_size);
    else
        set_value_(out, PG_LF_VMALLOC_BASE, true, va, PG_LW_VMALLOC_FIRST_TABLE, present, slots);
    add_region_(out, "vmalloc() Area", va, va + k->vmalloc_size, PG_LW_REGION_VMALLOC,
                k->vmalloc_size, 0);
}

/* vmemmap_base: the first page table after the vmalloc area (pfn 0's struct page). */
static void infer_vmemmap_(const struct pg_ctx *ctx, phys_addr_t root, const struct scan_ *s,
                           struct pg_linux_inferred *out)
{
    const struct consts_ *k = s->k;
    const struct pg_linux_value *vm = &out->value[PG_LF_VMALLOC_BASE];
    if (!vm->known) {
        set_value_(out, PG_LF_VMEMMAP_BASE, false, 0, PG_LW_NEEDS_VMALLOC, 0, 0);
        return;
    }
    phys_addr_t ram_lo = ~0ULL;
    for (size_t i = 0; i < s->nram; i++)
        ram_lo = min_(ram_lo, s->ram[i].start);
    if (s->nram && (ram_lo >> PAGE_SHIFT) * STRUCT_PAGE_SIZE_ >= GIB_) {
        set_value_(out, PG_LF_VMEMMAP_BASE, false, 0, PG_LW_RAM_HIGH, ram_lo, 0);
        return;
    }
    virt_addr_t va = 0;
    enum pg_linux_why why = first_table_(ctx, root, round_up_(vm->value + k->vmalloc_size, GIB_),
                                         k->dm_hi, 3, PG_LW_NO_VMEMMAP_TABLE, &va);
    if (why != PG_LW_NONE) {
        set_value_(out, PG_LF_VMEMMAP_BASE, false, 0, why, va, 0);
        return;
    }
    bool cluster = s->clu_bytes && s->clu_lo >= va;
    uint64_t bytes = cluster ? s->clu_bytes : 0;
    set_value_(out, PG_LF_VMEMMAP_BASE, true, va, PG_LW_VMEMMAP, bytes,
               bytes / STRUCT_PAGE_SIZE_ * PAGE_SIZE);
    add_region_(out, "Vmemmap", va, cluster ? s->clu_hi : va + GIB_, PG_LW_REGION_VMEMMAP,
                bytes, 0);
}

/* The fixed regions that hold something, and the fixmap from its first page table. */
static void add_fixed_regions_(const struct pg_ctx *ctx, phys_addr_t root, const struct scan_ *s,
                               const struct cand_ *dm, struct pg_linux_inferred *out)
{
    const struct consts_ *k = s->k;
    for (int a = 0; a < A_FIXMAP_; a++) {
        if (!s->area_bytes[a] && !s->area_shared[a])
            continue;
        /* Linux 4.7's direct map started where the LDT remap is now. */
        if (a == A_LDT_ && dm->delta < k->area_hi[a])
            continue;
        add_region_(out, area_marker_[a], k->area_lo[a], k->area_hi[a], PG_LW_FIXED,
                    s->area_bytes[a], s->area_shared[a]);
    }
    virt_addr_t va = 0;
    if (first_table_(ctx, root, k->area_lo[A_FIXMAP_], k->area_hi[A_FIXMAP_], 2, PG_LW_NO_IMAGE,
                     &va) == PG_LW_NONE)
        add_region_(out, area_marker_[A_FIXMAP_], va, k->area_hi[A_FIXMAP_], PG_LW_REGION_FIXMAP,
                    s->area_bytes[A_FIXMAP_], va);
}

/* Present top-level entries in each half. */
static void count_top_(const struct pg_ctx *ctx, phys_addr_t root, const struct consts_ *k,
                       struct pg_linux_found *f)
{
    int top = (int)k->m->levels;
    unsigned n = 1u << k->m->level[top].index_bits;
    for (unsigned i = 0; i < n; i++) {
        uint64_t e = 0;
        if (pg_entry_read(ctx, root, top, i, &e) || !(e & PTE_P))
            continue;
        if (k->m->canonical && i >= n / 2)
            f->top_kernel++;
        else
            f->top_user++;
    }
}

static enum pg_linux_verdict verdict_(const struct scan_ *s, const struct cand_ *dm,
                                      phys_addr_t root)
{
    const struct pg_linux_found *f = s->found;
    if (s->k->m->levels < PG_MODE_4LEVEL)
        return PG_LV_NOT_LONG_MODE;
    if (!f->kernel_bytes)
        return PG_LV_EMPTY_KERNEL_HALF;
    if (!dm)
        return (root & PG_PTI_USER_PGD_BIT) && s->area_bytes[A_CEA_] ? PG_LV_PTI_USER_PGD
                                                                      : PG_LV_NO_DIRECT_MAP;
    if (s->img.state == IMG_NONE_)
        return PG_LV_NO_KERNEL_IMAGE;
    return PG_LV_LINUX;
}

int pg_linux_layout_infer(const struct pg_ctx *ctx, phys_addr_t root,
                          const struct pg_ram_range *ram, size_t nram,
                          struct pg_memo_slot *memo, size_t memo_slots,
                          struct pg_linux_inferred *out)
{
    const struct pg_mode_desc *m = ctx ? pg_mode_get(ctx->levels) : NULL;
    if (!m || !out || !memo || (nram && !ram))
        return -PG_EINVAL;
    memset(out, 0, sizeof(*out));
    struct consts_ k;
    consts_init_(&k, m);
    struct scan_ s = { .k = &k, .ram = ram, .nram = nram, .found = &out->found };
    for (size_t i = 0; i < nram; i++)
        if (ram[i].end > ram[i].start)
            out->found.ram_bytes += ram[i].end - ram[i].start;

    struct pg_iter_opts o = { .merge = PG_MERGE_RIGHTS, .memo = memo, .memo_slots = memo_slots,
                              .flags = PG_ITER_PHYS_CONTIG | PG_ITER_EXPAND_FIRST };
    int r = pg_iterate(ctx, root, &o, scan_range_, &s);
    if (r)
        return r;
    count_top_(ctx, root, &k, &out->found);

    const struct cand_ *dm = m->levels >= PG_MODE_4LEVEL ? pick_direct_map_(&s, &out->found) : NULL;
    out->verdict = verdict_(&s, dm, root);
    out->layout.levels = m->levels;
    if (out->verdict != PG_LV_LINUX) {
        for (int f = 0; f < PG_LF_NFACTS; f++)
            set_value_(out, (enum pg_linux_fact)f, false, 0, PG_LW_NOT_LINUX, 0, 0);
        return 0;
    }
    set_value_(out, PG_LF_PAGE_OFFSET_BASE, true, dm->delta,
               nram ? PG_LW_DIRECT_MAP : PG_LW_DIRECT_MAP_NO_RAM,
               nram ? dm->covered : dm->mapped, out->found.ram_bytes);
    add_region_(out, "Low Kernel Mapping", dm->delta, dm->hi, PG_LW_REGION_DIRECT_MAP,
                dm->covered, dm->pa_hi);
    infer_vmalloc_(ctx, root, &s, dm, out);
    infer_vmemmap_(ctx, root, &s, out);
    infer_image_(&s, out);
    infer_modules_(&s, out);
    add_fixed_regions_(ctx, root, &s, dm, out);
    out->layout.page_offset_base = dm->delta;
    out->layout.vmalloc_base = out->value[PG_LF_VMALLOC_BASE].value;
    out->layout.vmemmap_base = out->value[PG_LF_VMEMMAP_BASE].value;
    out->layout.modules_vaddr = out->value[PG_LF_MODULES_VADDR].value;   /* 0: unknown */
    return 0;
}

/* ---- names and words ---- */

const char *pg_linux_fact_name(enum pg_linux_fact f)
{
    static const char *const names[PG_LF_NFACTS] = {
        [PG_LF_PAGE_OFFSET_BASE] = "page_offset_base",
        [PG_LF_VMALLOC_BASE] = "vmalloc_base",
        [PG_LF_VMEMMAP_BASE] = "vmemmap_base",
        [PG_LF_PHYS_BASE] = "phys_base",
        [PG_LF_KERNEL_TEXT_START] = "kernel_text_start",
        [PG_LF_KASLR_OFFSET] = "kaslr_offset",
        [PG_LF_MODULES_VADDR] = "modules_vaddr",
    };
    return (unsigned)f < PG_LF_NFACTS ? names[f] : NULL;
}

const char *pg_linux_verdict_text(enum pg_linux_verdict v)
{
    static const char *const text[] = {
        [PG_LV_LINUX] = "Linux layout",
        [PG_LV_NOT_LONG_MODE] = "not a Linux layout: 32-bit or PAE paging (Linux's x86-64 layout "
                                "needs 4- or 5-level paging)",
        [PG_LV_EMPTY_KERNEL_HALF] = "not a Linux layout: nothing is mapped in the kernel half",
        [PG_LV_PTI_USER_PGD] = "not a Linux layout: the kernel half holds the CPU entry area but "
                               "no direct map, as a PTI user PGD does (its kernel PGD is the "
                               "4 KiB page below)",
        [PG_LV_NO_DIRECT_MAP] = "not a Linux layout: no direct map (no 1 GiB-aligned VA - PA "
                                "constant maps half of the RAM)",
        [PG_LV_NO_KERNEL_IMAGE] = "not a Linux layout: nothing is mapped in the kernel image "
                                  "window (0xffffffff80000000-0xffffffffc0000000)",
    };
    return (unsigned)v < sizeof(text) / sizeof(text[0]) ? text[v] : "?";
}

/* The words of each why; %x, %d and %s take n[0], then n[1], as hex, decimal
 * or a size ("1.9 GiB"). */
static const char *const why_text_[PG_LW_NWHY_] = {
    [PG_LW_NONE] = "",
    [PG_LW_DIRECT_MAP] = "VA - PA is this constant, 1 GiB aligned, over %s of the %s of RAM: "
                         "the direct map",
    [PG_LW_DIRECT_MAP_NO_RAM] = "VA - PA is this constant, 1 GiB aligned, from physical address 0 "
                                "over %s, more than any other (no RAM ranges given)",
    [PG_LW_VMALLOC_PREALLOC] = "the first page table after the direct map, at a 1 GiB step; all "
                               "%d top-level entries over the %s from there are present, as Linux "
                               "preallocates them for vmalloc",
    [PG_LW_VMALLOC_FIRST_TABLE] = "the first page table after the direct map, at a 1 GiB step "
                                  "(vmalloc fills its area from the bottom); %d of the %d "
                                  "top-level entries over the area are present",
    [PG_LW_VMEMMAP] = "the first page table after the vmalloc area, at a 1 GiB step; %s of "
                      "struct pages mapped there, describing %s",
    [PG_LW_TEXT] = "the lowest mapping of the kernel image window, executable and 2 MiB "
                   "aligned; executable up to %x, the image up to %x",
    [PG_LW_PHYS_BASE] = "__START_KERNEL_map minus the image's VA - PA: the text's physical "
                        "address %x minus its offset %x from __START_KERNEL_map",
    [PG_LW_KASLR_OFFSET] = "the text's start minus __START_KERNEL (0xffffffff81000000)",
    [PG_LW_MODULES_KASLR] = "the text is randomised (KASLR), so the image window is 1 GiB and "
                            "the module area follows it",
    [PG_LW_MODULES_MAPPED] = "the lowest mapping outside the kernel image, %x, is in the module "
                             "area that starts here",
    [PG_LW_NOT_LINUX] = "not a Linux layout",
    [PG_LW_NO_DIRECT_MAP] = "no 1 GiB-aligned VA - PA constant maps half of the RAM (the best "
                            "covers %s of %s)",
    [PG_LW_NO_VMALLOC_TABLE] = "no page table between the direct map and the CPU entry area "
                               "leaves room for the vmalloc area",
    [PG_LW_NO_VMEMMAP_TABLE] = "no page table between the vmalloc area and the CPU entry area",
    [PG_LW_NEEDS_VMALLOC] = "vmalloc_base is unknown, and the vmemmap is looked for after the "
                            "vmalloc area",
    [PG_LW_RAM_HIGH] = "RAM starts at %x: the first struct page is not in vmemmap_base's first "
                       "GiB",
    [PG_LW_NO_IMAGE] = "nothing is mapped in the kernel image window",
    [PG_LW_TEXT_NOT_EXEC] = "the lowest mapping of the kernel image window, %x, is not "
                            "executable or not 2 MiB aligned",
    [PG_LW_NEEDS_TEXT] = "kernel_text_start is unknown or below __START_KERNEL",
    [PG_LW_NO_MODULES] = "no module is mapped and the text is not randomised: the area starts "
                         "at 0xffffffffa0000000 or 0xffffffffc0000000 by the kernel's "
                         "configuration",
    [PG_LW_WALK_BUDGET] = "the page tables there expand beyond the walk's budget",
    [PG_LW_UNREADABLE] = "a page table near %x is outside the memory",
    [PG_LW_FIXED] = "Linux's fixed address; %s mapped, shared-table references not "
                    "expanded: %d",
    [PG_LW_REGION_DIRECT_MAP] = "page_offset_base up to the highest direct-mapped address; "
                                "%s of RAM covered, physical addresses up to %x",
    [PG_LW_REGION_VMALLOC] = "vmalloc_base plus the area's size, %s",
    [PG_LW_REGION_VMEMMAP] = "vmemmap_base up to the last struct page mapped; %s mapped",
    [PG_LW_REGION_TEXT] = "executable and read-only; %s",
    [PG_LW_REGION_RODATA] = "read-only and NX, after the text; %s",
    [PG_LW_REGION_DATA] = "writable and NX, from the 2 MiB boundary after rodata (_sdata) to "
                          "the image's end; %s mapped",
    [PG_LW_REGION_DATA_UNALIGNED] = "writable and NX, from the end of rodata to the image's "
                                    "end (no 2 MiB-aligned _sdata inside the image); %s mapped",
    [PG_LW_REGION_DATA_NO_RODATA] = "everything of the image after the text (no read-only, NX "
                                    "part); %s mapped",
    [PG_LW_REGION_NO_RODATA] = "the whole image is executable (tables from before "
                               "mark_rodata_ro); %s",
    [PG_LW_REGION_MODULES] = "MODULES_VADDR up to MODULES_END; %s mapped",
    [PG_LW_REGION_FIXMAP] = "the first fixmap page table up to FIXADDR_TOP; %s mapped, tables "
                            "from %x",
};

/* Appends to a bounded buffer, counting what would have been written. */
struct text_ {
    char *buf;
    size_t size, len;
};

static void put_(struct text_ *t, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++, t->len++)
        if (t->len + 1 < t->size)
            t->buf[t->len] = s[i];
}

/* A size in the largest binary unit it reaches, with one decimal when not whole. */
static void put_size_(struct text_ *t, uint64_t v)
{
    static const char *const unit[] = { " bytes", " KiB", " MiB", " GiB", " TiB", " PiB", " EiB" };
    unsigned u = 0;
    while (u + 1 < sizeof(unit) / sizeof(unit[0]) && (v >> (10 * (u + 1))))
        u++;
    char b[24];
    uint64_t whole = v >> (10 * u);
    put_(t, b, pg_u64_dec(b, whole));
    uint64_t tenth = u ? ((v - (whole << (10 * u))) * 10) >> (10 * u) : 0;
    if (tenth) {
        put_(t, ".", 1);
        put_(t, b, pg_u64_dec(b, tenth));
    }
    put_(t, unit[u], strlen(unit[u]));
}

size_t pg_linux_why_text(enum pg_linux_why why, const uint64_t n[2], char *buf, size_t size)
{
    struct text_ t = { buf, size, 0 };
    const char *f = (unsigned)why < PG_LW_NWHY_ ? why_text_[why] : "?";
    unsigned arg = 0;
    char b[24];
    for (; *f; f++) {
        if (f[0] != '%' || !f[1] || arg > 1) {
            put_(&t, f, 1);
            continue;
        }
        uint64_t v = n[arg++];
        switch (*++f) {
        case 'x':
            put_(&t, "0x", 2);
            put_(&t, b, pg_u64_hex(b, v, 1));
            break;
        case 'd':
            put_(&t, b, pg_u64_dec(b, v));
            break;
        default:
            put_size_(&t, v);
            break;
        }
    }
    if (size)
        buf[t.len < size ? t.len : size - 1] = '\0';
    return t.len;
}

const struct pg_linux_region *pg_linux_region_of(const struct pg_linux_inferred *l, virt_addr_t va)
{
    for (size_t i = 0; i < l->nregions; i++) {
        const struct pg_linux_region *r = &l->region[i];
        if (va >= r->start && (r->end == 0 || va < r->end))
            return r;
    }
    return NULL;
}
