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
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ptlab.h"

enum maps_format { FMT_TEXT, FMT_JSON, FMT_CSV, FMT_QEMU_MEM, FMT_QEMU_TLB, FMT_PTDUMP };

static const char maps_help[] =
    "usage: ptlab maps [OPTIONS] DUMP\n"
    "List the mappings of DUMP's page tables in VA order: merged ranges with their\n"
    "size, physical address (or \"scattered\"), effective rights (r, w, x, u = user),\n"
    "global bit, memory type, protection key and page size.\n\n"
    "  --format F       text (default), json, csv, qemu-mem (QEMU's info mem),\n"
    "                   qemu-tlb (QEMU's info tlb), ptdump (Linux page_tables/kernel)\n"
    "  --range A-B      only [A, B) (hex; B omitted or 0: to the top); also A+SIZE\n"
    "  --user           only user-accessible mappings (U/S set at every level)\n"
    "  --kernel         only supervisor mappings\n"
    "  --perm SPEC      only ranges with these rights: letters r w x u, each may be\n"
    "                   preceded by ! for \"must not have\" (e.g. wx, 'w!x')\n"
    "  --expand         list every reference to a shared table (e.g. Linux's ESPfix\n"
    "                   area) instead of one summary line with its count\n"
    "  --pat linux|reset|HEX  IA32_PAT value for the memory type (default reset:\n"
    "                   the power-on value; Linux reprograms entry 1 to WC)\n\n";

struct maps_state {
    struct ptl_target *t;
    enum maps_format fmt;
    uint64_t pat;
    uint64_t need, forbid;      /* eff bits required / forbidden (PTE_NX inverted for x) */
    bool user_only, kernel_only;
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

/* v as a JSON string literal (quotes, backslashes and control characters escaped). */
static void json_literal(const char *v)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

static void json_str(const char *key, const char *v, bool comma)
{
    printf("\"%s\":\"%s\"%s", key, v, comma ? "," : "");
}

static void print_range(struct maps_state *s, const struct pg_range *r, bool scattered)
{
    const struct pg_mode_desc *m = s->t->mode;
    char size[32], psz[32], rights[8];
    uint64_t end = r->start + r->size;     /* exclusive; 0 at the top of the space */
    bool mapped = r->kind == PG_RANGE_MAPPED;
    const char *lvl = pg_level_linux_name(m->levels, r->level);
    unsigned pkey = (unsigned)((r->prot & PTE_PK_MASK) >> PTE_PK_SHIFT);
    bool has_pk = m->levels >= PG_MODE_4LEVEL;
    char pa[24], pks[4] = "-";
    if (has_pk && mapped)
        snprintf(pks, sizeof(pks), "%u", pkey);
    if (mapped && scattered)
        strcpy(pa, "scattered");
    else
        snprintf(pa, sizeof(pa), "%016" PRIx64, r->pa);
    ptl_rights_str(r->eff, rights);
    ptl_size_str(r->size, size);
    ptl_page_size_str(r->page_size, psz);
    s->printed++;

    switch (s->fmt) {
    case FMT_TEXT:
        printf("%016" PRIx64 "-%016" PRIx64 " %6s ", r->start, end, size);
        if (mapped) {
            printf("%-16s %s %c %-3s %2s %4s %s\n", pa, rights, (r->prot & PTE_G) ? 'G' : '-',
                   ptl_mem_type(r->prot, s->pat), pks, psz, lvl);
        } else if (r->kind == PG_RANGE_SHARED) {
            printf("shared %s table %016" PRIx64 ": %" PRIu64 " entr%s here, %u references "
                   "in all (--expand lists them)\n", lvl, r->pa, r->count,
                   r->count == 1 ? "y" : "ies", r->refs);
        } else if (r->kind == PG_RANGE_CYCLE) {
            printf("cycle: %" PRIu64 " entr%s pointing back to table %016" PRIx64 " (already on "
                   "the walk's path), here as a %s table\n", r->count, r->count == 1 ? "y" : "ies",
                   r->pa, lvl);
        } else if (r->kind == PG_RANGE_UNREADABLE) {
            printf("unreadable: %s table %016" PRIx64 " is outside the dump's memory\n", lvl,
                   r->pa);
        } else {
            printf("hole\n");
        }
        break;
    case FMT_CSV:
        printf("%016" PRIx64 ",%016" PRIx64 ",%" PRIu64 ",%s,%s,", r->start, end, r->size,
               kind_name(r->kind), mapped ? pa : "");
        if (r->kind != PG_RANGE_MAPPED)
            printf("%016" PRIx64, r->pa);
        printf(",%c,%c,%c,%c,%c,%s,%s,%" PRIu64 ",%s,%" PRIu64 ",%u,%016" PRIx64 "\n",
               (r->eff & PTE_P) ? 'r' : '-', (r->eff & PTE_W) ? 'w' : '-',
               (r->eff & PTE_NX) ? '-' : 'x', (r->eff & PTE_U) ? 'u' : '-',
               (r->prot & PTE_G) ? 'g' : '-', mapped ? ptl_mem_type(r->prot, s->pat) : "",
               has_pk && mapped ? pks : "",
               r->page_size, lvl, r->count, r->refs, r->entry);
        break;
    case FMT_JSON:
        printf("%s\n{", s->printed > 1 ? "," : "");
        printf("\"start\":\"0x%" PRIx64 "\",\"end\":\"0x%" PRIx64 "\",\"size\":%" PRIu64 ",",
               r->start, end, r->size);
        json_str("kind", kind_name(r->kind), true);
        if (mapped && scattered)
            printf("\"pa\":null,\"scattered\":true,");
        else if (mapped)
            printf("\"pa\":\"0x%" PRIx64 "\",\"scattered\":false,", r->pa);
        else
            printf("\"table\":\"0x%" PRIx64 "\",", r->pa);
        printf("\"r\":%s,\"w\":%s,\"x\":%s,\"user\":%s,", (r->eff & PTE_P) ? "true" : "false",
               (r->eff & PTE_W) ? "true" : "false", (r->eff & PTE_NX) ? "false" : "true",
               (r->eff & PTE_U) ? "true" : "false");
        if (mapped) {
            printf("\"global\":%s,", (r->prot & PTE_G) ? "true" : "false");
            json_str("memtype", ptl_mem_type(r->prot, s->pat), true);
            if (has_pk)
                printf("\"pkey\":%u,", pkey);
        }
        printf("\"page_size\":%" PRIu64 ",", r->page_size);
        json_str("level", lvl, true);
        printf("\"count\":%" PRIu64 ",\"refs\":%u,\"entry\":\"0x%" PRIx64 "\"}", r->count,
               r->refs, r->entry);
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

int cmd_maps(int argc, char **argv)
{
    static const struct option longopts[] = {
        PTL_INPUT_OPTIONS,
        { "format", required_argument, NULL, OPT_FORMAT },
        { "range", required_argument, NULL, OPT_RANGE },
        { "user", no_argument, NULL, OPT_USER },
        { "kernel", no_argument, NULL, OPT_KERNEL },
        { "perm", required_argument, NULL, OPT_PERM },
        { "expand", no_argument, NULL, OPT_EXPAND },
        { "pat", required_argument, NULL, OPT_PAT },
        { 0, 0, 0, 0 },
    };
    struct ptl_input_opts in;
    ptl_input_defaults(&in);
    struct maps_state s = { .fmt = FMT_TEXT, .pat = PTL_PAT_RESET };
    bool expand = false, have_range = false, filtered = false;
    uint64_t rstart = 0, rend = 0;
    optind = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        int r = ptl_input_option(c, optarg, &in);
        if (r < 0)
            return ptl_usage_error("maps", "bad option value");
        if (r > 0)
            continue;
        switch (c) {
        case 'h':
        case OPT_HELP:
            printf("%s%s", maps_help, ptl_input_help);
            return PTL_EXIT_OK;
        case OPT_FORMAT:
            if (!strcmp(optarg, "text")) s.fmt = FMT_TEXT;
            else if (!strcmp(optarg, "json")) s.fmt = FMT_JSON;
            else if (!strcmp(optarg, "csv")) s.fmt = FMT_CSV;
            else if (!strcmp(optarg, "qemu-mem")) s.fmt = FMT_QEMU_MEM;
            else if (!strcmp(optarg, "qemu-tlb")) s.fmt = FMT_QEMU_TLB;
            else if (!strcmp(optarg, "ptdump")) s.fmt = FMT_PTDUMP;
            else
                return ptl_usage_error("maps", "--format: '%s' is not one of text, json, csv, "
                                       "qemu-mem, qemu-tlb, ptdump", optarg);
            break;
        case OPT_RANGE:
            if (ptl_parse_range(optarg, &rstart, &rend))
                return ptl_usage_error("maps", "--range: '%s' is not A-B or A+SIZE (hex, A < B)",
                                       optarg);
            have_range = true;
            break;
        case OPT_USER: s.user_only = true; filtered = true; break;
        case OPT_KERNEL: s.kernel_only = true; filtered = true; break;
        case OPT_PERM:
            if (parse_perm(optarg, &s.need, &s.forbid))
                return ptl_usage_error("maps", "--perm: '%s' is not made of r w x u (each "
                                       "optionally preceded by !)", optarg);
            filtered = true;
            break;
        case OPT_EXPAND: expand = true; break;
        case OPT_PAT:
            if (!strcmp(optarg, "linux")) s.pat = PTL_PAT_LINUX;
            else if (!strcmp(optarg, "reset")) s.pat = PTL_PAT_RESET;
            else if (ptl_parse_u64(optarg, &s.pat))
                return ptl_usage_error("maps", "--pat: '%s' is not linux, reset or a hex value",
                                       optarg);
            break;
        default:
            return ptl_usage_error("maps", "unknown option");
        }
    }
    if (argc - optind != 1)
        return ptl_usage_error("maps", "expected one DUMP argument");
    if (s.user_only && s.kernel_only)
        return ptl_usage_error("maps", "--user and --kernel exclude each other");
    if ((s.fmt == FMT_QEMU_MEM || s.fmt == FMT_QEMU_TLB) && (filtered || have_range || expand))
        return ptl_usage_error("maps", "--format qemu-mem/qemu-tlb print the whole address "
                               "space as QEMU does: no filters");
    if (s.fmt == FMT_PTDUMP && (filtered || expand))
        return ptl_usage_error("maps", "--format ptdump takes only --range");

    struct ptl_target t;
    int rc = ptl_target_open(&t, argv[optind], &in);
    if (rc)
        return rc;
    s.t = &t;
    int r = 0;
    if (have_range && (!pg_is_canonical(t.mode->levels, rstart) ||
                       (rend && !pg_is_canonical(t.mode->levels, rend - 1)))) {
        ptl_target_close(&t);
        return ptl_usage_error("maps", "--range: not canonical %s addresses", t.mode->name);
    }

    /* QEMU's and Linux's walks expand every reference; so does --expand. */
    if ((s.fmt == FMT_QEMU_MEM || s.fmt == FMT_QEMU_TLB || s.fmt == FMT_PTDUMP || expand) &&
        ptl_check_expansion(&t, rstart, rend, PG_ITER_EXPAND_SHARED |
                            (s.fmt == FMT_QEMU_MEM || s.fmt == FMT_QEMU_TLB || s.fmt == FMT_PTDUMP
                                 ? PG_ITER_EXPAND_CYCLES : 0), "maps")) {
        ptl_target_close(&t);
        return PTL_EXIT_FAIL;
    }
    switch (s.fmt) {
    case FMT_QEMU_MEM:
        r = pg_fmt_info_mem(&t.ctx, t.root, &ptl_stdout_sink);
        break;
    case FMT_QEMU_TLB:
        r = pg_fmt_info_tlb(&t.ctx, t.root, &ptl_stdout_sink);
        break;
    case FMT_PTDUMP: {
        struct pg_ptdump_opts po = { .markers = pg_ptdump_markers_linux(t.mode->levels) };
        struct pg_va_range one = { rstart, rend };
        if (have_range) {
            po.ranges = &one;
            po.nranges = 1;
        }
        r = pg_fmt_ptdump(&t.ctx, t.root, &po, &ptl_stdout_sink);
        break;
    }
    default: {
        struct pg_iter_opts io = {
            .start = rstart, .end = rend, .merge = PG_MERGE_RAW,
            .flags = PG_ITER_PHYS_CONTIG | (expand ? PG_ITER_EXPAND_SHARED : 0),
        };
        if (s.fmt == FMT_JSON) {
            printf("{\"file\":");
            json_literal(t.path);
            printf(",\"mode\":\"%s\",\"cr3\":\"0x%" PRIx64 "\",\"root\":\"0x%" PRIx64
                   "\",\"ranges\":[", t.mode->name, t.cr3, t.root);
        } else if (s.fmt == FMT_CSV) {
            printf("start,end,size,kind,pa,table,r,w,x,u,g,memtype,pkey,page_size,level,count,"
                   "refs,entry\n");
        }
        if (expand)
            r = pg_iterate(&t.ctx, t.root, &io, maps_range, &s);
        else
            r = ptl_iterate(&t, &io, maps_range, &s);
        if (r == 0 && s.have)
            print_range(&s, &s.cur, s.scattered);
        if (s.fmt == FMT_JSON)
            printf("\n]}\n");
        break;
    }
    }
    if (r < 0) {
        ptl_error("maps", "%s: %s", t.path, pg_strerror(r));
        rc = PTL_EXIT_FAIL;
    }
    ptl_target_close(&t);
    return rc;
}
