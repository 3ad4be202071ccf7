/*
 * opts.c: command-line helpers of the ptlab host tool: number and range
 * parsing, error messages.
 * Depends on: ptlab.h.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ptlab.h"

/* "ptlab CMD: MSG" on stderr, after what stdout holds so far. */
static void vmessage(const char *cmd, const char *fmt, va_list ap)
{
    fflush(stdout);
    fprintf(stderr, "ptlab %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void ptl_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(cmd, fmt, ap);
    va_end(ap);
}

int ptl_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(cmd, fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try 'ptlab %s --help'.\n", cmd);
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

int ptl_parse_address(const char *cmd, const char *s, uint64_t *v)
{
    if (ptl_parse_u64(s, v))
        return ptl_usage_error(cmd, "'%s' is not a hex address", s);
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
