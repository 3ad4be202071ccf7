/*
 * describe.c: small helpers of the ptlab host tool: the stdout sink handed
 * to lib/paging's formatters, human size strings, rights and memory-type
 * names, and the growable arrays the commands collect into.
 * Depends on: ptlab.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <paging/mmu.h>

#include "ptlab.h"

static void stdout_write(void *arg, const char *s, size_t n)
{
    (void)arg;
    fwrite_unlocked(s, 1, n, stdout);
}

const struct pg_sink ptl_stdout_sink = { stdout_write, NULL };

const char *ptl_size_str(uint64_t size, char buf[32])
{
    static const char units[] = "BKMGTPE";
    unsigned u = 0;
    if (size == 0) {
        /* A range reaching around the whole 64-bit space has size 2^64. */
        snprintf(buf, 32, "16E");
        return buf;
    }
    while (u + 1 < sizeof(units) - 1 && size % 1024 == 0) {
        size /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, 32, "%" PRIu64, size);
    else
        snprintf(buf, 32, "%" PRIu64 "%c", size, units[u]);
    return buf;
}

void ptl_json_literal(const char *v)
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

const char *ptl_page_size_str(uint64_t page_size, char buf[32])
{
    return ptl_size_str(page_size, buf);
}

const char *ptl_mem_type(uint64_t prot, uint64_t pat)
{
    unsigned idx = ((prot & PTE_PAT_LARGE) ? 4 : 0) | ((prot & PTE_PCD) ? 2 : 0) |
                   ((prot & PTE_PWT) ? 1 : 0);
    switch ((pat >> (8 * idx)) & 0xFF) {
    case PG_MT_UC: return "UC";
    case PG_MT_WC: return "WC";
    case PG_MT_WT: return "WT";
    case PG_MT_WP: return "WP";
    case PG_MT_WB: return "WB";
    case PG_MT_UC_MINUS: return "UC-";
    default: return "??";
    }
}

const char *ptl_rights_str(uint64_t eff, char buf[8])
{
    buf[0] = (eff & PTE_P) ? 'r' : '-';
    buf[1] = (eff & PTE_W) ? 'w' : '-';
    buf[2] = (eff & PTE_NX) ? '-' : 'x';
    buf[3] = (eff & PTE_U) ? 'u' : '-';
    buf[4] = '\0';
    return buf;
}

void *ptl_grow(void *v, size_t n, size_t *cap, size_t size, size_t first)
{
    if (n < *cap)
        return v;
    size_t ncap = *cap ? *cap * 2 : first;
    void *nv = ncap <= SIZE_MAX / size ? realloc(v, ncap * size) : NULL;
    if (!nv) {
        free(v);
        *cap = 0;
        return NULL;
    }
    *cap = ncap;
    return nv;
}
