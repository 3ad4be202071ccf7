/*
 * cmd_regions.c: `ptlab regions DUMP`: a Linux guest's memory layout named
 * from its page tables alone (lib/paging's pg_linux_layout_infer): the
 * randomised bases (page_offset_base, vmalloc_base, vmemmap_base), the
 * kernel image (kernel_text_start, phys_base, the KASLR offset), the module
 * area and the regions, each with the evidence used or the reason it is
 * unknown; as text or one JSON object. A dump whose tables are not Linux's
 * gets "not a Linux layout" with what they hold, and exit status 1.
 * Depends on: ptlab.h, lib/paging (linux_layout.h).
 */
#include <inttypes.h>
#include <string.h>

#include "ptlab.h"

enum { OPT_FORMAT = PTL_OPT_CMD };

static const char regions_help[] =
    "usage: ptlab regions [OPTIONS] DUMP\n"
    "Infer a Linux guest's memory layout from DUMP's page tables alone (no symbols):\n"
    "the direct map's base (page_offset_base), vmalloc_base, vmemmap_base, the\n"
    "kernel text, phys_base, the KASLR offset and the module area, and name the\n"
    "regions (direct map, vmalloc, vmemmap, CPU entry area, ESPfix, EFI, kernel\n"
    "text/rodata/data, modules, fixmap), each with the evidence used. A value the\n"
    "tables do not show is null, with the reason. When CR3 holds the user PGD of a\n"
    "PTI pair, its kernel PGD is used (unless --user-pgd). The rules are in\n"
    "docs/memlayout.md, \"Linux's randomised layout\".\n\n"
    "  --format F       text (default) or json\n\n"
    "Exit status 1 if the tables are not a Linux layout (what they hold is shown).\n\n";

static const struct option regions_options[] = {
    { "format", required_argument, NULL, OPT_FORMAT },
    { 0, 0, 0, 0 },
};

struct regions_state {
    bool json;
    bool pti_switched;      /* CR3 held a PTI user PGD: its kernel PGD was used */
};

static int regions_option(void *state, int code, const char *arg)
{
    struct regions_state *s = state;
    (void)code;
    if (!strcmp(arg, "json"))
        s->json = true;
    else if (strcmp(arg, "text"))
        return ptl_usage_error("regions", "--format: '%s' is not text or json", arg);
    return 0;
}

static const char *why(const struct pg_linux_value *v, char *buf, size_t n)
{
    pg_linux_why_text(v->why, v->n, buf, n);
    return buf;
}

/* ---- text ---- */

/* A byte count as ptl_size_str writes it, 0 as "0" (ptl_size_str's 0 is 2^64). */
static const char *bytes_str(uint64_t n, char buf[32])
{
    return n ? ptl_size_str(n, buf) : "0";
}

static void text_found(const struct pg_linux_found *f)
{
    char a[32], b[32], c[32];
    printf("found: %s mapped in the lower half (%s of it with VA = PA), %s in the upper half\n",
           bytes_str(f->user_bytes, a), bytes_str(f->identity_bytes, b),
           bytes_str(f->kernel_bytes, c));
    printf("       top-level entries present: %u in the lower half, %u in the upper half\n",
           f->top_user, f->top_kernel);
    printf("       %u recursive slot%s", f->cycles, f->cycles == 1 ? "" : "s");
    if (f->cycles)
        printf(" (first at %016" PRIx64 ")", f->first_cycle);
    printf(", %u references to shared tables, %u unreadable tables\n", f->shared,
           f->unreadable);
    if (f->dm_delta)
        printf("       best direct-map candidate: VA - PA = %016" PRIx64 ", covering %s of "
               "%s of RAM\n", f->dm_delta, bytes_str(f->dm_covered, a),
               bytes_str(f->ram_bytes, b));
    else
        printf("       no direct-map candidate (no 1 GiB-aligned VA - PA in the direct-map "
               "window)\n");
}

static void text_print(const struct regions_state *s, const struct ptl_target *t,
                       const struct pg_linux_inferred *l)
{
    char buf[400];
    printf("%s (%s, root %016" PRIx64 "%s)\n", pg_linux_verdict_text(l->verdict), t->mode->name,
           t->root, s->pti_switched ? ": the kernel PGD of the PTI pair whose user PGD CR3 "
                                      "holds" : "");
    if (l->verdict != PG_LV_LINUX) {
        text_found(&l->found);
        return;
    }
    putchar('\n');
    for (int f = 0; f < PG_LF_NFACTS; f++) {
        const struct pg_linux_value *v = &l->value[f];
        if (v->known)
            printf("%-18s %016" PRIx64 "  %s\n", pg_linux_fact_name((enum pg_linux_fact)f),
                   v->value, why(v, buf, sizeof(buf)));
        else
            printf("%-18s %-16s  %s\n", pg_linux_fact_name((enum pg_linux_fact)f), "null",
                   why(v, buf, sizeof(buf)));
    }
    printf("\n%-16s %-16s %-22s %s\n", "start", "end", "region", "evidence");
    for (size_t i = 0; i < l->nregions; i++) {
        const struct pg_linux_region *r = &l->region[i];
        pg_linux_why_text(r->why, r->n, buf, sizeof(buf));
        printf("%016" PRIx64 " %016" PRIx64 " %-22s %s\n", r->start, r->end, r->name, buf);
    }
}

/* ---- JSON ---- */

static void json_found(const struct pg_linux_found *f)
{
    printf("\"found\":{\"user_bytes\":%" PRIu64 ",\"identity_bytes\":%" PRIu64
           ",\"kernel_bytes\":%" PRIu64 ",\"top_level_user\":%u,\"top_level_kernel\":%u,"
           "\"cycles\":%u,\"shared\":%u,\"unreadable\":%u,\"ram_bytes\":%" PRIu64 ",",
           f->user_bytes, f->identity_bytes, f->kernel_bytes, f->top_user, f->top_kernel,
           f->cycles, f->shared, f->unreadable, f->ram_bytes);
    if (f->dm_delta)
        printf("\"direct_map_candidate\":\"0x%" PRIx64 "\",", f->dm_delta);
    else
        printf("\"direct_map_candidate\":null,");
    printf("\"direct_map_covered\":%" PRIu64 "}", f->dm_covered);
}

static void json_values(const struct pg_linux_inferred *l)
{
    char buf[400];
    for (int f = 0; f < PG_LF_NFACTS; f++) {
        const struct pg_linux_value *v = &l->value[f];
        if (v->known)
            printf("\"%s\":\"0x%" PRIx64 "\",", pg_linux_fact_name((enum pg_linux_fact)f),
                   v->value);
        else
            printf("\"%s\":null,", pg_linux_fact_name((enum pg_linux_fact)f));
    }
    printf("\"evidence\":{");
    for (int f = 0; f < PG_LF_NFACTS; f++) {
        printf("%s\"%s\":", f ? "," : "", pg_linux_fact_name((enum pg_linux_fact)f));
        ptl_json_literal(why(&l->value[f], buf, sizeof(buf)));
    }
    printf("},");
}

static void json_print(const struct regions_state *s, const struct ptl_target *t,
                       const struct pg_linux_inferred *l)
{
    char buf[400];
    printf("{\"file\":");
    ptl_json_literal(t->path);
    printf(",\"mode\":\"%s\",\"cr3\":\"0x%" PRIx64 "\",\"root\":\"0x%" PRIx64 "\","
           "\"pti_kernel_pgd\":%s,\"linux\":%s,\"verdict\":\"%s\",\"reason\":",
           t->mode->name, t->cr3, t->root, s->pti_switched ? "true" : "false",
           l->verdict == PG_LV_LINUX ? "true" : "false",
           l->verdict == PG_LV_LINUX ? "Linux layout" : "not a Linux layout");
    ptl_json_literal(pg_linux_verdict_text(l->verdict));
    putchar(',');
    json_values(l);
    printf("\"regions\":[");
    for (size_t i = 0; i < l->nregions; i++) {
        const struct pg_linux_region *r = &l->region[i];
        printf("%s{\"name\":", i ? "," : "");
        ptl_json_literal(r->name);
        printf(",\"start\":\"0x%" PRIx64 "\",\"end\":\"0x%" PRIx64 "\",\"evidence\":",
               r->start, r->end);
        pg_linux_why_text(r->why, r->n, buf, sizeof(buf));
        ptl_json_literal(buf);
        putchar('}');
    }
    printf("],");
    json_found(&l->found);
    printf("}\n");
}

static int regions_run(void *state, struct ptl_target *t)
{
    struct regions_state *s = state;
    struct pg_linux_inferred l;
    int r = ptl_linux_layout(t, &l);
    /* A guest stopped in user mode under PTI: CR3 holds the user PGD; its pair's
     * kernel PGD has the layout. */
    if (r == 0 && l.verdict == PG_LV_PTI_USER_PGD && t->in.pgd == PTL_PGD_AS_STORED &&
        ptl_source_phys(&t->src, pg_pti_kernel_pgd(t->root))) {
        t->root = pg_pti_kernel_pgd(t->root);
        s->pti_switched = true;
        r = ptl_linux_layout(t, &l);
    }
    if (r < 0) {
        ptl_error("regions", "%s: %s", t->path, pg_strerror(r));
        return PTL_EXIT_FAIL;
    }
    if (s->json)
        json_print(s, t, &l);
    else
        text_print(s, t, &l);
    return l.verdict == PG_LV_LINUX ? PTL_EXIT_OK : PTL_EXIT_FAIL;
}

const struct ptl_cmd ptl_cmd_regions = {
    .name = "regions",
    .summary = "Linux's layout from the page tables: randomised bases, kernel image, regions",
    .help = regions_help, .input = true, .run = regions_run,
    .state_size = sizeof(struct regions_state),
    .options = regions_options, .option = regions_option,
    .args_error = "expected one DUMP argument",
};
