/*
 * pg_out.h: a small line builder over a struct pg_sink, shared by the
 * lib/paging formatters (not installed). No printf: fixed-width hex and
 * decimal only. Lines longer than the buffer are written in pieces.
 * Depends on: pg_format.h.
 */
#ifndef PAGING_PG_OUT_H
#define PAGING_PG_OUT_H

#include <paging/pg_format.h>

struct out_ {
    const struct pg_sink *sink;
    size_t n;
    char buf[160];
};

static inline void out_flush_(struct out_ *o)
{
    if (o->n)
        o->sink->write(o->sink->arg, o->buf, o->n);
    o->n = 0;
}

static inline void out_mem_(struct out_ *o, const char *s, size_t n)
{
    while (n) {
        if (o->n == sizeof(o->buf))
            out_flush_(o);
        size_t k = sizeof(o->buf) - o->n;
        if (k > n)
            k = n;
        memcpy(o->buf + o->n, s, k);
        o->n += k;
        s += k;
        n -= k;
    }
}

static inline void out_str_(struct out_ *o, const char *s) { out_mem_(o, s, strlen(s)); }
static inline void out_chr_(struct out_ *o, char c)
{
    if (o->n == sizeof(o->buf))
        out_flush_(o);
    o->buf[o->n++] = c;
}

static inline void out_spaces_(struct out_ *o, size_t n)
{
    while (n--)
        out_chr_(o, ' ');
}

static inline void out_hex_(struct out_ *o, uint64_t v, unsigned width)
{
    if (sizeof(o->buf) - o->n < 17)     /* pg_u64_hex writes up to 16 digits and a NUL */
        out_flush_(o);
    o->n += pg_u64_hex(o->buf + o->n, v, width);
}

/* End the line: newline, then hand it to the sink. */
static inline void out_nl_(struct out_ *o)
{
    out_chr_(o, '\n');
    out_flush_(o);
}

#endif /* PAGING_PG_OUT_H */
