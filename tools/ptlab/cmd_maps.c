/*
 * cmd_maps.c: `ptlab maps DUMP`: the mappings of a dump's page tables in VA
 * order, as merged ranges (text, JSON, CSV) or in the exact text formats of
 * QEMU's `info mem` / `info tlb` and Linux's ptdump (lib/paging formatters).
 *
 * Ranges come from pg_iterate with PG_MERGE_RAW and physical contiguity;
 * neighbours that only differ by being physically scattered are shown as one
 * range with PA "scattered". Tables referenced more than once are summarised
 * (one line with the reference count) unless --expand.
 * Depends on: ptlab.h, lib/paging.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ptlab.h"

enum maps_format { FMT_TEXT, FMT_JSON, FMT_CSV, FMT_QEMU_MEM, FMT_QEMU_TLB, FMT_PTDUMP };

enum { OPT_FORMAT = PTL_OPT_CMD, OPT_RANGE, OPT_USER, OPT_KERNEL, OPT_PERM, OPT_EXPAND, OPT_PAT,
       OPT_REGION, OPT_LINUX_CONFIG };

static const char maps_help[] =
    "usage: ptlab maps [OPTIONS] DUMP\n"
    "List the mappings of DUMP's page tables in VA order: merged ranges with their\n"
    "size, physical address (or \"scattered\"), effective rights (r, w, x, u = user),\n"
    "global bit, memory type, protection key and page size.\n\n"
    "  --format F       text (default), json, csv, qemu-mem (QEMU's info mem),\n"
    "                   qemu-tlb (QEMU's info tlb), ptdump (Linux page_tables/kernel)\n"
    "  --range A-B      only [A, B) (hex; B omitted or 0: to the top); also A+SIZE\n"
    "  --region NAME    only the Linux region NAME as `ptlab regions` infers it from\n"
    "                   the tables (e.g. 'Low Kernel Mapping', vmalloc, 'Kernel text',\n"
    "                   Modules: a name or the unique start of one, any case)\n"
    "  --user           only user-accessible mappings (U/S set at every level)\n"
    "  --kernel         only supervisor mappings\n"
    "  --perm SPEC      only ranges with these rights: letters r w x u, each may be\n"
    "                   preceded by ! for \"must not have\" (e.g. wx, 'w!x')\n"
    "  --expand         list every reference to a shared table (e.g. Linux's ESPfix\n"
    "                   area) instead of one summary line with its count\n"
    "  --pat linux|reset|HEX  IA32_PAT value for the memory type (default reset:\n"
    "                   the power-on value; Linux reprograms entry 1 to WC)\n"
    "  --linux-config WORDS  the guest kernel's options that decide ptdump's markers,\n"
    "                   comma-separated: [no]kasan, [no]efi, [no]ldt, [no]espfix,\n"
    "                   [no]randomize_base (default: Debian's kernels, nokasan,efi,\n"
    "                   ldt,espfix,randomize_base)\n\n"
    "On a Linux guest the JSON ranges name their region and ptdump's markers sit at\n"
    "the inferred direct map, vmalloc and vmemmap bases (ptlab regions).\n\n";

static const struct option maps_options[] = {
    { "format", required_argument, NULL, OPT_FORMAT },
    { "range", required_argument, NULL, OPT_RANGE },
    { "user", no_argument, NULL, OPT_USER },
    { "kernel", no_argument, NULL, OPT_KERNEL },
    { "perm", required_argument, NULL, OPT_PERM },
    { "expand", no_argument, NULL, OPT_EXPAND },
    { "pat", required_argument, NULL, OPT_PAT },
    { "region", required_argument, NULL, OPT_REGION },
    { "linux-config", required_argument, NULL, OPT_LINUX_CONFIG },
    { 0, 0, 0, 0 },
};

/* The options, then the state of the listing. */
struct maps_state {
    enum maps_format fmt;
    uint64_t pat;
    uint64_t need, forbid;      /* eff bits required / forbidden (PTE_NX inverted for x) */
    bool user_only, kernel_only;
    bool filtered;              /* --user, --kernel or --perm */
    bool expand;
    bool have_range;
    uint64_t rstart, rend;
    const char *region;         /* --region NAME */
    unsigned linux_config;      /* --linux-config: PG_LINUX_* */
    bool have_linux_config;
    struct ptl_target *t;
    struct pg_linux_inferred layout;    /* valid when have_layout */
    bool have_layout;
    /* the display range being built */
    bool have;
    struct pg_range cur;
    bool scattered;
    unsigned long printed;
};

static const char *kind_name(enum pg_range_kind k)
{
    switch (k) {
    case PG_RANGE_MAPPED: return "mapped";
    case PG_RANGE_HOLE: return "hole";
    case PG_RANGE_UNREADABLE: return "unreadable";
    case PG_RANGE_SHARED: return "shared";
    case PG_RANGE_CYCLE: return "cycle";
    }
    return "?";
}

/* True if r passes the --user/--kernel/--perm filters. */
static bool maps_wanted(const struct maps_state *s, const struct pg_range *r)
{
    uint64_t have = r->eff & (PTE_P | PTE_W | PTE_U);
    if (!(r->eff & PTE_NX))
        have |= PTE_NX;     /* "x" is the absence of NX */
    if ((s->user_only || s->kernel_only || s->need || s->forbid) && r->kind != PG_RANGE_MAPPED)
        return false;       /* filters select mappings; summary lines have no final rights */
    if (s->user_only && !(r->eff & PTE_U))
        return false;
    if (s->kernel_only && (r->eff & PTE_U))
        return false;
    if ((have & s->need) != s->need || (have & s->forbid))
        return false;
    return true;
}

static void json_str(const char *key, const char *v, bool comma)
{
    printf("\"%s\":\"%s\"%s", key, v, comma ? "," : "");
}

/* The columns of a range that every format shows, as text. */
struct range_cols {
    uint64_t end;               /* exclusive; 0 at the top of the space */
    bool mapped;
    const char *lvl;
    unsigned pkey;
    bool has_pk;
    char pa[24], pks[4], size[32], psz[32], rights[8];
};

static void range_cols(const struct maps_state *s, const struct pg_range *r, bool scattered,
                       struct range_cols *c)
{
    const struct pg_mode_desc *m = s->t->mode;
    c->end = r->start + r->size;
    c->mapped = r->kind == PG_RANGE_MAPPED;
    c->lvl = pg_level_linux_name(m->levels, r->level);
    c->pkey = (unsigned)((r->prot & PTE_PK_MASK) >> PTE_PK_SHIFT);
    c->has_pk = m->levels >= PG_MODE_4LEVEL;
    strcpy(c->pks, "-");
    if (c->has_pk && c->mapped)
        snprintf(c->pks, sizeof(c->pks), "%u", c->pkey);
    if (c->mapped && scattered)
        strcpy(c->pa, "scattered");
    else
        snprintf(c->pa, sizeof(c->pa), "%016" PRIx64, r->pa);
    ptl_rights_str(r->eff, c->rights);
    ptl_size_str(r->size, c->size);
    ptl_page_size_str(r->page_size, c->psz);
}

static void print_text(const struct maps_state *s, const struct pg_range *r,
                       const struct range_cols *c)
{
    printf("%016" PRIx64 "-%016" PRIx64 " %6s ", r->start, c->end, c->size);
    if (c->mapped) {
        printf("%-16s %s %c %-3s %2s %4s %s\n", c->pa, c->rights, (r->prot & PTE_G) ? 'G' : '-',
               ptl_mem_type(r->prot, s->pat), c->pks, c->psz, c->lvl);
    } else if (r->kind == PG_RANGE_SHARED) {
        printf("shared %s table %016" PRIx64 ": %" PRIu64 " entr%s here, %u references "
               "in all (--expand lists them)\n", c->lvl, r->pa, r->count,
               r->count == 1 ? "y" : "ies", r->refs);
    } else if (r->kind == PG_RANGE_CYCLE) {
        printf("cycle: %" PRIu64 " entr%s pointing back to table %016" PRIx64 " (already on "
               "the walk's path), here as a %s table\n", r->count, r->count == 1 ? "y" : "ies",
               r->pa, c->lvl);
    } else if (r->kind == PG_RANGE_UNREADABLE) {
        printf("unreadable: %s table %016" PRIx64 " is outside the dump's memory\n", c->lvl,
               r->pa);
    } else {
        printf("hole\n");
    }
}

static void print_csv(const struct maps_state *s, const struct pg_range *r,
                      const struct range_cols *c)
{
    printf("%016" PRIx64 ",%016" PRIx64 ",%" PRIu64 ",%s,%s,", r->start, c->end, r->size,
           kind_name(r->kind), c->mapped ? c->pa : "");
    if (r->kind != PG_RANGE_MAPPED)
        printf("%016" PRIx64, r->pa);
    printf(",%c,%c,%c,%c,%c,%s,%s,%" PRIu64 ",%s,%" PRIu64 ",%u,%016" PRIx64 "\n",
           (r->eff & PTE_P) ? 'r' : '-', (r->eff & PTE_W) ? 'w' : '-',
           (r->eff & PTE_NX) ? '-' : 'x', (r->eff & PTE_U) ? 'u' : '-',
           (r->prot & PTE_G) ? 'g' : '-', c->mapped ? ptl_mem_type(r->prot, s->pat) : "",
           c->has_pk && c->mapped ? c->pks : "",
           r->page_size, c->lvl, r->count, r->refs, r->entry);
}

static void print_json(const struct maps_state *s, const struct pg_range *r, bool scattered,
                       const struct range_cols *c)
{
    printf("%s\n{", s->printed > 1 ? "," : "");
    printf("\"start\":\"0x%" PRIx64 "\",\"end\":\"0x%" PRIx64 "\",\"size\":%" PRIu64 ",",
           r->start, c->end, r->size);
    json_str("kind", kind_name(r->kind), true);
    if (c->mapped && scattered)
        printf("\"pa\":null,\"scattered\":true,");
    else if (c->mapped)
        printf("\"pa\":\"0x%" PRIx64 "\",\"scattered\":false,", r->pa);
    else
        printf("\"table\":\"0x%" PRIx64 "\",", r->pa);
    printf("\"r\":%s,\"w\":%s,\"x\":%s,\"user\":%s,", (r->eff & PTE_P) ? "true" : "false",
           (r->eff & PTE_W) ? "true" : "false", (r->eff & PTE_NX) ? "false" : "true",
           (r->eff & PTE_U) ? "true" : "false");
    if (c->mapped) {
        printf("\"global\":%s,", (r->prot & PTE_G) ? "true" : "false");
        json_str("memtype", ptl_mem_type(r->prot, s->pat), true);
        if (c->has_pk)
            printf("\"pkey\":%u,", c->pkey);
    }
    printf("\"page_size\":%" PRIu64 ",", r->page_size);
    const struct pg_linux_region *reg =
        s->have_layout ? pg_linux_region_of(&s->layout, r->start) : NULL;
    printf("\"region\":");
    if (reg)
        ptl_json_literal(reg->name);
    else
        printf("null");
    putchar(',');
    json_str("level", c->lvl, true);
    printf("\"count\":%" PRIu64 ",\"refs\":%u,\"entry\":\"0x%" PRIx64 "\"}", r->count,
           r->refs, r->entry);
}

static void print_range(struct maps_state *s, const struct pg_range *r, bool scattered)
{
    struct range_cols c;
    range_cols(s, r, scattered, &c);
    s->printed++;
    switch (s->fmt) {
    case FMT_TEXT:
        print_text(s, r, &c);
        break;
    case FMT_CSV:
        print_csv(s, r, &c);
        break;
    case FMT_JSON:
        print_json(s, r, scattered, &c);
        break;
    default:
        break;
    }
}

/* Join a new library range to the display range when only physical contiguity split them. */
static int maps_range(void *arg, const struct pg_range *r)
{
    struct maps_state *s = arg;
    if (!maps_wanted(s, r)) {
        if (s->have) {
            print_range(s, &s->cur, s->scattered);
            s->have = false;
        }
        return 0;
    }
    if (s->have && r->kind == PG_RANGE_MAPPED && s->cur.kind == PG_RANGE_MAPPED &&
        s->cur.start + s->cur.size == r->start && s->cur.eff == r->eff &&
        s->cur.prot == r->prot && s->cur.level == r->level) {
        if (s->cur.pa + s->cur.size != r->pa)
            s->scattered = true;
        s->cur.size += r->size;
        s->cur.count += r->count;
        return 0;
    }
    if (s->have)
        print_range(s, &s->cur, s->scattered);
    s->cur = *r;
    s->have = true;
    s->scattered = false;
    return 0;
}

static int parse_perm(const char *spec, uint64_t *need, uint64_t *forbid)
{
    *need = *forbid = 0;
    bool neg = false;
    for (const char *p = spec; *p; p++) {
        uint64_t bit;
        switch (*p) {
        case '!': neg = true; continue;
        case 'r': bit = PTE_P; break;
        case 'w': bit = PTE_W; break;
        case 'x': bit = PTE_NX; break;
        case 'u': bit = PTE_U; break;
        default: return -1;
        }
        if (neg)
            *forbid |= bit;
        else
            *need |= bit;
        neg = false;
    }
    return neg || !(*need | *forbid) ? -1 : 0;
}

static const struct maps_state maps_defaults = { .fmt = FMT_TEXT, .pat = PG_PAT_RESET };

static int parse_format(const char *arg, enum maps_format *fmt)
{
    static const char *const names[] = {
        [FMT_TEXT] = "text", [FMT_JSON] = "json", [FMT_CSV] = "csv",
        [FMT_QEMU_MEM] = "qemu-mem", [FMT_QEMU_TLB] = "qemu-tlb", [FMT_PTDUMP] = "ptdump",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcmp(arg, names[i])) {
            *fmt = (enum maps_format)i;
            return 0;
        }
    return -1;
}

static int maps_option(void *state, int code, const char *arg)
{
    struct maps_state *s = state;
    switch (code) {
    case OPT_FORMAT:
        if (parse_format(arg, &s->fmt))
            return ptl_usage_error("maps", "--format: '%s' is not one of text, json, csv, "
                                   "qemu-mem, qemu-tlb, ptdump", arg);
        break;
    case OPT_RANGE:
        if (ptl_parse_range(arg, &s->rstart, &s->rend))
            return ptl_usage_error("maps", "--range: '%s' is not A-B or A+SIZE (hex, A < B)",
                                   arg);
        s->have_range = true;
        break;
    case OPT_USER: s->user_only = true; s->filtered = true; break;
    case OPT_KERNEL: s->kernel_only = true; s->filtered = true; break;
    case OPT_PERM:
        if (parse_perm(arg, &s->need, &s->forbid))
            return ptl_usage_error("maps", "--perm: '%s' is not made of r w x u (each "
                                   "optionally preceded by !)", arg);
        s->filtered = true;
        break;
    case OPT_EXPAND: s->expand = true; break;
    case OPT_REGION: s->region = arg; break;
    case OPT_LINUX_CONFIG:
        if (pg_linux_config_parse(arg, &s->linux_config))
            return ptl_usage_error("maps", "--linux-config: '%s' is not a comma-separated "
                                   "list of [no]kasan, [no]efi, [no]ldt, [no]espfix, "
                                   "[no]randomize_base", arg);
        s->have_linux_config = true;
        break;
    case OPT_PAT:
        if (!strcmp(arg, "linux")) s->pat = PTL_PAT_LINUX;
        else if (!strcmp(arg, "reset")) s->pat = PG_PAT_RESET;
        else if (ptl_parse_u64(arg, &s->pat))
            return ptl_usage_error("maps", "--pat: '%s' is not linux, reset or a hex value",
                                   arg);
        break;
    }
    return 0;
}

/* True for the formats that print every reference as QEMU's monitor and Linux do. */
static bool foreign_format(enum maps_format fmt)
{
    return fmt == FMT_QEMU_MEM || fmt == FMT_QEMU_TLB || fmt == FMT_PTDUMP;
}

static int maps_args(void *state, int argc, char **argv)
{
    struct maps_state *s = state;
    (void)argc;
    (void)argv;
    if (s->user_only && s->kernel_only)
        return ptl_usage_error("maps", "--user and --kernel exclude each other");
    if ((s->fmt == FMT_QEMU_MEM || s->fmt == FMT_QEMU_TLB) &&
        (s->filtered || s->have_range || s->expand))
        return ptl_usage_error("maps", "--format qemu-mem/qemu-tlb print the whole address "
                               "space as QEMU does: no filters");
    if (s->fmt == FMT_PTDUMP && (s->filtered || s->expand))
        return ptl_usage_error("maps", "--format ptdump takes only --range, --region and "
                               "--linux-config");
    if (s->have_linux_config && s->fmt != FMT_PTDUMP)
        return ptl_usage_error("maps", "--linux-config goes with --format ptdump");
    if (s->region && (s->fmt == FMT_QEMU_MEM || s->fmt == FMT_QEMU_TLB))
        return ptl_usage_error("maps", "--format qemu-mem/qemu-tlb print the whole address "
                               "space as QEMU does: no --region");
    return 0;
}

/*
 * The layout ptdump's markers follow: the tree's own; for a PTI user PGD, which
 * holds no direct map, that of its kernel PGD (the page below), since Linux's
 * markers are the kernel's whichever PGD it walks. NULL: not a Linux layout.
 */
static const struct pg_linux_inferred *marker_layout(struct maps_state *s,
                                                     struct pg_linux_inferred *buf)
{
    if (!s->have_layout)
        return NULL;
    if (s->layout.verdict == PG_LV_PTI_USER_PGD) {
        phys_addr_t root = s->t->root;
        s->t->root = pg_pti_kernel_pgd(root);
        int r = ptl_linux_layout(s->t, buf);
        s->t->root = root;
        return r == 0 && buf->verdict == PG_LV_LINUX ? buf : NULL;
    }
    return s->layout.verdict == PG_LV_LINUX ? &s->layout : NULL;
}

/* ptdump's markers: Linux's for --linux-config, at the inferred bases on a Linux guest
 * (the defaults where the tables do not show a base). NULL for 32-bit and PAE. */
static const struct pg_marker *ptdump_markers(struct maps_state *s,
                                              struct pg_marker buf[PG_LINUX_MARKERS_MAX])
{
    unsigned levels = s->t->mode->levels;
    struct pg_linux_layout l, def;
    pg_linux_layout_default(levels, &def);
    l = def;
    struct pg_linux_inferred kernel;
    const struct pg_linux_inferred *inf = marker_layout(s, &kernel);
    if (inf) {
        l = inf->layout;
        if (!inf->value[PG_LF_VMALLOC_BASE].known)
            l.vmalloc_base = def.vmalloc_base;
        if (!inf->value[PG_LF_VMEMMAP_BASE].known)
            l.vmemmap_base = def.vmemmap_base;
    }
    l.config = s->linux_config;
    if (!pg_ptdump_markers_for_layout(&l, buf, PG_LINUX_MARKERS_MAX))
        return NULL;
    return buf;
}

/* The formats of lib/paging: QEMU's info mem and info tlb, Linux's ptdump. */
static int maps_foreign(struct maps_state *s)
{
    struct ptl_target *t = s->t;
    switch (s->fmt) {
    case FMT_QEMU_MEM:
        return pg_fmt_info_mem(&t->ctx, t->root, &ptl_stdout_sink);
    case FMT_QEMU_TLB:
        return pg_fmt_info_tlb(&t->ctx, t->root, &ptl_stdout_sink);
    default: {
        struct pg_marker markers[PG_LINUX_MARKERS_MAX];
        struct pg_ptdump_opts po = { .markers = ptdump_markers(s, markers) };
        struct pg_va_range one = { s->rstart, s->rend };
        if (s->have_range) {
            po.ranges = &one;
            po.nranges = 1;
        }
        return pg_fmt_ptdump(&t->ctx, t->root, &po, &ptl_stdout_sink);
    }
    }
}

/* The ranges as text, JSON or CSV. */
static int maps_list(struct maps_state *s)
{
    struct ptl_target *t = s->t;
    struct pg_iter_opts io = {
        .start = s->rstart, .end = s->rend, .merge = PG_MERGE_RAW,
        .flags = PG_ITER_PHYS_CONTIG | (s->expand ? PG_ITER_EXPAND_SHARED : 0),
    };
    if (s->fmt == FMT_JSON) {
        printf("{\"file\":");
        ptl_json_literal(t->path);
        printf(",\"mode\":\"%s\",\"cr3\":\"0x%" PRIx64 "\",\"root\":\"0x%" PRIx64
               "\",\"ranges\":[", t->mode->name, t->cr3, t->root);
    } else if (s->fmt == FMT_CSV) {
        printf("start,end,size,kind,pa,table,r,w,x,u,g,memtype,pkey,page_size,level,count,"
               "refs,entry\n");
    }
    int r;
    if (s->expand)
        r = pg_iterate(&t->ctx, t->root, &io, maps_range, s);
    else
        r = ptl_iterate(t, &io, maps_range, s);
    if (r == 0 && s->have)
        print_range(s, &s->cur, s->scattered);
    if (s->fmt == FMT_JSON)
        printf("\n]}\n");
    return r;
}

/* True if name is the region's name or the start of it, ignoring case. */
static bool region_matches(const char *name, const char *region, bool whole)
{
    size_t n = strlen(name);
    return strncasecmp(name, region, n) == 0 && (!whole || region[n] == '\0');
}

/* --region: the range of the region named (exactly, or by the unique start of its name). */
static int maps_region(struct maps_state *s)
{
    const struct pg_linux_inferred *l = &s->layout;
    if (l->verdict != PG_LV_LINUX) {
        ptl_error("maps", "--region: %s: %s", s->t->path, pg_linux_verdict_text(l->verdict));
        return PTL_EXIT_FAIL;
    }
    const struct pg_linux_region *found = NULL;
    size_t matches = 0;
    for (int whole = 1; whole >= 0 && !found; whole--) {
        matches = 0;
        for (size_t i = 0; i < l->nregions; i++)
            if (region_matches(s->region, l->region[i].name, whole) && !matches++)
                found = &l->region[i];
        if (matches > 1)
            found = NULL;
    }
    if (!found) {
        ptl_error("maps", "--region: '%s' %s; the regions here:", s->region,
                  matches > 1 ? "names several regions" : "is no region of this guest");
        for (size_t i = 0; i < l->nregions; i++)
            fprintf(stderr, "  %s\n", l->region[i].name);
        return PTL_EXIT_USAGE;
    }
    uint64_t end = s->have_range && s->rend - 1 < found->end - 1 ? s->rend : found->end;
    s->rstart = s->have_range && s->rstart > found->start ? s->rstart : found->start;
    s->rend = end;
    if (s->rend && s->rend <= s->rstart) {
        ptl_error("maps", "--range and --region %s do not overlap", found->name);
        return PTL_EXIT_FAIL;
    }
    s->have_range = true;
    return 0;
}

/* The Linux layout, for --region, the JSON region names and ptdump's markers. */
static int maps_layout(struct maps_state *s)
{
    if (!s->region && s->fmt != FMT_JSON && s->fmt != FMT_PTDUMP)
        return 0;
    int r = ptl_linux_layout(s->t, &s->layout);
    if (r < 0) {
        ptl_error("maps", "%s: %s", s->t->path, pg_strerror(r));
        return PTL_EXIT_FAIL;
    }
    s->have_layout = true;
    return s->region ? maps_region(s) : 0;
}

static int maps_run(void *state, struct ptl_target *t)
{
    struct maps_state *s = state;
    s->t = t;
    unsigned levels = t->mode->levels;
    int rc = maps_layout(s);
    if (rc)
        return rc;
    if (s->have_range && (!pg_is_canonical(levels, s->rstart) ||
                          (s->rend && !pg_is_canonical(levels, s->rend - 1))))
        return ptl_usage_error("maps", "--range: not canonical %s addresses", t->mode->name);
    /* QEMU's and Linux's walks expand every reference; so does --expand. */
    if ((foreign_format(s->fmt) || s->expand) &&
        ptl_check_expansion(t, s->rstart, s->rend, PG_ITER_EXPAND_SHARED |
                            (foreign_format(s->fmt) ? PG_ITER_EXPAND_CYCLES : 0), "maps"))
        return PTL_EXIT_FAIL;
    int r = foreign_format(s->fmt) ? maps_foreign(s) : maps_list(s);
    if (r < 0) {
        ptl_error("maps", "%s: %s", t->path, pg_strerror(r));
        return PTL_EXIT_FAIL;
    }
    return PTL_EXIT_OK;
}

const struct ptl_cmd ptl_cmd_maps = {
    .name = "maps",
    .summary = "merged mappings (also as QEMU info mem / info tlb, Linux ptdump, JSON, CSV)",
    .help = maps_help, .input = true, .run = maps_run,
    .state_size = sizeof(struct maps_state), .defaults = &maps_defaults,
    .options = maps_options, .option = maps_option,
    .args = maps_args, .args_error = "expected one DUMP argument",
};
