/*
 * opts.c: command-line helpers of the ptlab host tool: the input options
 * shared by every command that reads a dump, number and range parsing,
 * error messages.
 * Depends on: ptlab.h.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ptlab.h"

const char ptl_input_help[] =
    "Input options:\n"
    "  --cpu N          use vCPU N's CR3 and CR4 from the dump (default 0)\n"
    "  --cr3 VALUE      walk the tables at this CR3 (PCID and flag bits are masked)\n"
    "  --mode 4|5|pae|32  paging mode (default: from CR0, CR4 and the ELF machine)\n"
    "  --raw            the file is a raw physical memory image (needs --cr3, --mode)\n"
    "  --user-pgd       walk the user PGD of a Linux PTI pair (CR3 with bit 12 set)\n"
    "  --kernel-pgd     walk the kernel PGD of a PTI pair (CR3 with bit 12 clear)\n"
    "  --phys-bits N    MAXPHYADDR for reserved-bit checks (default 52)\n"
    "  --max-entries N  give up on walks that expand shared or recursive tables to\n"
    "                   more than N entries (default 67108864; 0: no limit)\n"
    "  --help           this help\n";

void ptl_input_defaults(struct ptl_input_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->cpu = 0;
    o->pgd = PTL_PGD_AS_STORED;
    o->max_entries = PTL_DEFAULT_MAX_ENTRIES;
}

void ptl_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "ptlab %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int ptl_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "ptlab %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'ptlab %s --help'.\n", cmd);
    return PTL_EXIT_USAGE;
}

int ptl_parse_u64(const char *s, uint64_t *v)
{
    if (!s || !*s)
        return -1;
    const char *p = s;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        p += 2;
    if (!isxdigit((unsigned char)*p))
        return -1;
    uint64_t x = 0;
    for (; isxdigit((unsigned char)*p); p++) {
        unsigned dgt = isdigit((unsigned char)*p) ? (unsigned)(*p - '0')
                                                  : (unsigned)(tolower((unsigned char)*p) - 'a' + 10);
        if (x >> 60)
            return -1;
        x = x << 4 | dgt;
    }
    unsigned shift = 0;
    switch (*p) {
    case 'K': case 'k': shift = 10; p++; break;
    case 'M': case 'm': shift = 20; p++; break;
    case 'G': case 'g': shift = 30; p++; break;
    case 'T': case 't': shift = 40; p++; break;
    default: break;
    }
    if (*p)
        return -1;
    if (shift && (x >> (64 - shift)))
        return -1;
    *v = x << shift;
    return 0;
}

int ptl_parse_dec(const char *s, unsigned long max, unsigned long *v)
{
    if (!s || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    char *end;
    unsigned long x = strtoul(s, &end, 10);
    if (errno || *end || x > max)
        return -1;
    *v = x;
    return 0;
}

int ptl_parse_range(const char *s, uint64_t *start, uint64_t *end)
{
    char buf[128];
    if (strlen(s) >= sizeof(buf))
        return -1;
    strcpy(buf, s);
    char *sep = strpbrk(buf, "-+");
    if (!sep)
        return -1;
    char op = *sep;
    *sep = '\0';
    uint64_t a, b = 0;
    if (ptl_parse_u64(buf, &a))
        return -1;
    if (sep[1] && ptl_parse_u64(sep + 1, &b))
        return -1;
    if (op == '+') {
        if (!sep[1] || b == 0)
            return -1;
        b = a + b;      /* wraps to 0 = the top exactly when the range ends there */
        if (b != 0 && b < a)
            return -1;
    } else if (b != 0 && b <= a) {
        return -1;
    }
    *start = a;
    *end = b;
    return 0;
}

int ptl_input_option(int c, const char *arg, struct ptl_input_opts *o)
{
    unsigned long n;
    switch (c) {
    case OPT_CPU:
        if (ptl_parse_dec(arg, 4095, &n)) {
            fprintf(stderr, "ptlab: --cpu: '%s' is not a vCPU index\n", arg);
            return -1;
        }
        o->cpu = (int)n;
        return 1;
    case OPT_CR3:
        if (ptl_parse_u64(arg, &o->cr3)) {
            fprintf(stderr, "ptlab: --cr3: '%s' is not a hex value\n", arg);
            return -1;
        }
        o->have_cr3 = true;
        return 1;
    case OPT_MODE:
        o->mode = ptl_parse_mode(arg);
        if (!o->mode) {
            fprintf(stderr, "ptlab: --mode: '%s' is not one of 4, 5, pae, 32\n", arg);
            return -1;
        }
        return 1;
    case OPT_RAW:
        o->raw = true;
        return 1;
    case OPT_USER_PGD:
        o->pgd = PTL_PGD_USER;
        return 1;
    case OPT_KERNEL_PGD:
        o->pgd = PTL_PGD_KERNEL;
        return 1;
    case OPT_PHYS_BITS:
        if (ptl_parse_dec(arg, 52, &n) || n < 32) {
            fprintf(stderr, "ptlab: --phys-bits: '%s' is not in 32..52\n", arg);
            return -1;
        }
        o->phys_bits = (unsigned)n;
        return 1;
    case OPT_MAX_ENTRIES:
        if (ptl_parse_dec(arg, ~0UL, &n)) {
            fprintf(stderr, "ptlab: --max-entries: '%s' is not a number\n", arg);
            return -1;
        }
        o->max_entries = n;
        return 1;
    default:
        return 0;
    }
}
