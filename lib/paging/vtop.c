/*
 * vtop.c: crash's `vtop` output for one address (docs/formats.md, "crash
 * vtop"), built on
 * pg_walk: the header, the walk with physical entry addresses, the PAGE line
 * and the centred PTE/PHYSICAL/FLAGS block.
 * Depends on: paging.h, pg_format.h, pg_internal.h, pg_out.h.
 */
#include "pg_internal.h"
#include "pg_out.h"

/* crash's label of a level (by Linux name, upper case). */
static const char *vtop_label_(const struct pg_mode_desc *m, int level)
{
    static const char *const names[] = { "PGD", "P4D", "PUD", "PMD", "PTE" };
    const char *ln = m->level[level].linux_name;
    static const char *const lnames[] = { "pgd", "p4d", "pud", "pmd", "pte" };
    for (int i = 0; i < 5; i++)
        if (!memcmp(ln, lnames[i], 4))
            return names[i];
    return "???";
}

static void walk_line_(struct out_ *o, const char *label, uint64_t entry_pa, uint64_t value)
{
    out_str_(o, "   ");
    out_str_(o, label);
    out_str_(o, ": ");
    out_hex_(o, entry_pa, 1);
    out_str_(o, " => ");
    out_hex_(o, value, 1);
    out_nl_(o);
}

/* A label or value centred in `width` columns; odd padding goes right for labels, left for values. */
static void centred_(struct out_ *o, const char *s, size_t width, bool is_label)
{
    size_t len = strlen(s);
    size_t pad = width > len ? width - len : 0;
    size_t left = is_label ? pad / 2 : pad - pad / 2;
    out_spaces_(o, left);
    out_str_(o, s);
    out_spaces_(o, pad - left);
}

static void flag_(struct out_ *o, bool *first, const char *name)
{
    out_str_(o, *first ? "(" : "|");
    out_str_(o, name);
    *first = false;
}

static void pte_block_(struct out_ *o, uint64_t pte, uint64_t phys)
{
    char pte_s[20], phys_s[20];
    pg_u64_hex(pte_s, pte, 1);
    pg_u64_hex(phys_s, phys, 1);
    size_t w1 = strlen(pte_s) > 3 ? strlen(pte_s) : 3;
    size_t w2 = strlen(phys_s) > 8 ? strlen(phys_s) : 8;

    centred_(o, "PTE", w1, true);
    out_str_(o, "  ");
    centred_(o, "PHYSICAL", w2, true);
    out_str_(o, "  FLAGS");
    out_nl_(o);

    centred_(o, pte_s, w1, false);
    out_str_(o, "  ");
    centred_(o, phys_s, w2, false);
    out_str_(o, "  ");
    if (!pte) {
        out_str_(o, "(no mapping)");
    } else {
        /* crash's flag names in its order; PSE only on a present entry, G means
         * PROTNONE on a non-present one. */
        static const struct { uint64_t bit; const char *name; } names[] = {
            { PTE_P, "PRESENT" }, { PTE_W, "RW" }, { PTE_U, "USER" }, { PTE_PWT, "PWT" },
            { PTE_PCD, "PCD" }, { PTE_A, "ACCESSED" }, { PTE_D, "DIRTY" }, { PTE_PS, "PSE" },
            { PTE_G, "GLOBAL" }, { PTE_NX, "NX" },
        };
        bool first = true, present = pte & PTE_P;
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            if (!(pte & names[i].bit) || (names[i].bit == PTE_PS && !present))
                continue;
            flag_(o, &first, names[i].bit == PTE_G && !present ? "PROTNONE" : names[i].name);
        }
        out_str_(o, first ? "()" : ")");
    }
    out_nl_(o);
}

/* The first lines: VIRTUAL PHYSICAL, the address and its translation (or "(not mapped)"). */
static void vtop_header_(struct out_ *o, virt_addr_t va, bool mapped, phys_addr_t pa)
{
    char b[24];
    out_str_(o, "VIRTUAL           PHYSICAL        ");
    out_nl_(o);
    size_t n = pg_u64_hex(b, va, 1);
    out_mem_(o, b, n);
    out_spaces_(o, n < 16 ? 16 - n : 0);
    out_str_(o, "  ");
    if (mapped)
        out_hex_(o, pa, 1);
    else
        out_str_(o, "(not mapped)");
    out_nl_(o);
    out_nl_(o);
}

/* The walk: kernel path PGD DIRECTORY / PAGE DIRECTORY, then one line per level read. */
static void vtop_walk_(struct out_ *o, const struct pg_mode_desc *m, const struct pg_walk *w,
                       const struct pg_vtop_opts *opts)
{
    for (unsigned i = 0; i < w->nsteps; i++) {
        const struct pg_walk_step *s = &w->step[i];
        if (i == 0 && !opts->user) {
            out_str_(o, "PGD DIRECTORY: ");
            out_hex_(o, opts->pgd_va, 1);
            out_nl_(o);
            out_str_(o, "PAGE DIRECTORY: ");
            out_hex_(o, s->entry, 1);
            out_nl_(o);
        } else {
            walk_line_(o, vtop_label_(m, s->level), s->entry_pa, s->entry);
        }
    }
}

int pg_fmt_vtop(const struct pg_ctx *ctx, phys_addr_t root, virt_addr_t va,
                const struct pg_vtop_opts *opts, const struct pg_sink *sink)
{
    const struct pg_mode_desc *m = ctx_mode_(ctx);
    if (!m || m->levels < PG_MODE_4LEVEL || !sink || !sink->write)
        return -PG_EINVAL;
    if (!pg_is_canonical(m->levels, va))
        return -PG_ERANGE;
    struct pg_vtop_opts def = { 0 };
    if (!opts)
        opts = &def;
    unsigned pbits = opts->phys_bits ? opts->phys_bits : 52;
    uint64_t page_mask = PAGE_MASK & ((1ULL << pbits) - 1);

    struct pg_walk w;
    pg_walk(ctx, root, va, &w);
    bool mapped = w.status == 0 || w.status == -PG_ERSVD;
    /* crash does not check reserved bits: a present leaf translates. */
    if (w.status == -PG_ERSVD) {
        const struct pg_walk_step *s = &w.step[w.nsteps - 1];
        mapped = s->dec.leaf;
        if (mapped) {
            w.page_size = s->dec.page_size;
            w.pa = s->dec.addr + (linear_(m, va) & (w.page_size - 1));
        } else {
            /* Continue is not possible without rereading: report the walk so far. */
            mapped = false;
        }
    }

    struct out_ o = { .sink = sink };
    vtop_header_(&o, va, mapped, w.pa);
    vtop_walk_(&o, m, &w, opts);
    if (w.nsteps == 0)
        return 0;
    const struct pg_walk_step *last = &w.step[w.nsteps - 1];
    if (!mapped) {
        /* A non-present, non-zero PTE: show what it holds. */
        if (last->level == 1 && last->entry && !(last->entry & PTE_P)) {
            out_nl_(&o);
            pte_block_(&o, last->entry, last->entry & page_mask);
        }
        return 0;
    }
    out_str_(&o, "  PAGE: ");
    out_hex_(&o, last->entry & page_mask, 1);
    if (last->level == 3)
        out_str_(&o, "  (1GB)");
    else if (last->level == 2)
        out_str_(&o, "  (2MB)");
    out_nl_(&o);
    out_nl_(&o);
    pte_block_(&o, last->entry, last->entry & page_mask);
    out_nl_(&o);
    return 0;
}
