/*
 * gdbrsp.c: the GDB remote serial protocol client of ptlab (see gdbrsp.h).
 *
 * The socket is non-blocking and every wait goes through poll() with the
 * time left before a deadline. Bytes received are parsed into packets
 * ('$' data '#' two hex digits); the stub's '+' acknowledgements are
 * skipped, ours are queued in front of the next bytes we send (in ack
 * mode). A request's reply is the next packet that is not a stop
 * notification (T, S; W and X mean the guest is gone): QEMU sends one when
 * a client connects to a running guest, and when someone else stops it.
 *
 * QEMU 7.2's stub, as measured: PacketSize=1000 (hex), `m` up to 2048
 * bytes (more: E22), no QStartNoAckMode, registers by `p` once target.xml
 * has been read, and any byte received while the guest runs stops it (that
 * byte is lost: only the interrupt byte 0x03 is sent then).
 * Depends on: gdbrsp.h, libc, POSIX sockets.
 */
#include "gdbrsp.h"
#include "sockio.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- time, errors, buffers ---- */

static int rsp_error(struct gdb_rsp *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int rsp_error(struct gdb_rsp *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->err, sizeof(g->err), fmt, ap);
    va_end(ap);
    return -1;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* hex_bytes - n bytes from 2n hex digits. returns: 0; -1 if not hex. */
static int hex_bytes(const char *s, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(s[2 * i]), lo = hi < 0 ? -1 : hexval(s[2 * i + 1]);
        if (lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

uint8_t gdb_rsp_checksum(const char *data, size_t len)
{
    unsigned sum = 0;
    for (size_t i = 0; i < len; i++)
        sum += (uint8_t)data[i];
    return (uint8_t)sum;
}

long gdb_rsp_decode(const char *data, size_t len, char *out, size_t outcap)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = data[i];
        size_t reps = 1;
        if (c == '}') {
            if (++i >= len)
                return -1;
            c = (char)(data[i] ^ 0x20);
        } else if (c == '*') {
            if (o == 0 || ++i >= len || (uint8_t)data[i] < 29 + 3)
                return -1;          /* counts below 3 are never sent */
            c = out[o - 1];
            reps = (uint8_t)data[i] - 29;
        }
        if (reps > outcap - o)
            return -1;
        memset(out + o, c, reps);
        o += reps;
    }
    return (long)o;
}

/* ---- sending ---- */

/* queue_raw - append n bytes to the output. returns: 0; -1. */
static int queue_raw(struct gdb_rsp *g, const char *p, size_t n)
{
    if (sockio_grow(&g->out, &g->out_cap, g->out_len + n + 1))
        return rsp_error(g, "out of memory");
    memcpy(g->out + g->out_len, p, n);
    g->out_len += n;
    return 0;
}

/* queue_vpacket - append "$data#cs" (data: printable, no $ # } *). returns: 0; -1. */
static int queue_vpacket(struct gdb_rsp *g, const char *fmt, va_list ap)
{
    char body[512];
    int n = vsnprintf(body, sizeof(body), fmt, ap);
    if (n < 0 || (size_t)n >= sizeof(body))
        return rsp_error(g, "request too long");
    char tail[4];
    snprintf(tail, sizeof(tail), "#%02x", gdb_rsp_checksum(body, (size_t)n));
    g->packets++;
    g->waited = false;
    if (queue_raw(g, "$", 1) || queue_raw(g, body, (size_t)n) || queue_raw(g, tail, 3))
        return -1;
    return 0;
}

int gdb_rsp_queue(struct gdb_rsp *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = queue_vpacket(g, fmt, ap);
    va_end(ap);
    return r;
}

/* flush - send the queued output before deadline. returns: 0; -1. */
static int flush(struct gdb_rsp *g, long long deadline)
{
    if (g->out_len && sockio_send(g->fd, g->out, g->out_len, deadline)) {
        if (errno == ETIMEDOUT)
            return rsp_error(g, "the stub takes no more data (no answer within %.1f s)",
                        g->timeout_ms / 1000.0);
        if (errno == EPIPE || errno == ECONNRESET)
            return rsp_error(g, "the stub closed the connection (QEMU exited?)");
        return rsp_error(g, "sending to the stub: %s", strerror(errno));
    }
    g->out_len = 0;
    return 0;
}

/* ---- receiving ---- */

/* fill - receive more bytes before deadline. returns: 0; -1 (closed, timeout, error). */
static int fill(struct gdb_rsp *g, long long deadline)
{
    if (g->in_pos > 0 && g->in_pos == g->in_len)
        g->in_pos = g->in_len = 0;
    if (sockio_grow(&g->in, &g->in_cap, g->in_len + 65536))
        return rsp_error(g, "out of memory");
    ssize_t r = sockio_recv(g->fd, g->in + g->in_len, g->in_cap - g->in_len, deadline);
    if (r > 0) {
        g->in_len += (size_t)r;
        return 0;
    }
    if (r == 0 || errno == ECONNRESET)
        return rsp_error(g, "the stub closed the connection (QEMU exited?)");
    if (errno == ETIMEDOUT && g->stray)
        return rsp_error(g, "no answer from the stub within %.1f s (%lu bytes that are no gdb "
                    "packet: is it a gdbstub?)", g->timeout_ms / 1000.0, g->stray);
    if (errno == ETIMEDOUT)
        return rsp_error(g, "no answer from the stub within %.1f s", g->timeout_ms / 1000.0);
    return rsp_error(g, "reading from the stub: %s", strerror(errno));
}

/*
 * take_packet - parse one packet at the start of the unparsed input into
 * g->pkt (acknowledging it in ack mode).
 * returns: 1 a packet; 0 more bytes needed; -1 garbage.
 */
static int take_packet(struct gdb_rsp *g)
{
    const uint8_t *p = g->in + g->in_pos, *end = g->in + g->in_len;
    while (p < end && *p != '$' && *p != '%') {
        if (*p == '-' && !g->stray)
            return rsp_error(g, "the stub rejected a packet ('-'): is it a gdbstub?");
        if (*p != '+')
            g->stray++;             /* bytes that are no acknowledgement */
        p++;
    }
    g->in_pos = (size_t)(p - g->in);
    const uint8_t *hash = p < end ? memchr(p, '#', (size_t)(end - p)) : NULL;
    if (!hash || end - hash < 3) {
        if ((size_t)(end - p) > GDB_RSP_MAX_PACKET + 3)
            return rsp_error(g, "a packet from the stub is longer than %u bytes",
                             GDB_RSP_MAX_PACKET);
        return 0;
    }
    size_t n = (size_t)(hash - p - 1);
    int hi = hexval(hash[1]), lo = hexval(hash[2]);
    bool sum_ok = hi >= 0 && lo >= 0 && gdb_rsp_checksum((const char *)p + 1, n) == (hi << 4 | lo);
    if (!g->noack && !sum_ok)
        return rsp_error(g, "garbage from the stub (a packet with a bad checksum)");
    if (sockio_grow(&g->pkt, &g->pkt_cap, GDB_RSP_MAX_PACKET + 1))
        return rsp_error(g, "out of memory");
    long d = gdb_rsp_decode((const char *)p + 1, n, g->pkt, GDB_RSP_MAX_PACKET);
    if (d < 0)
        return rsp_error(g, "garbage from the stub (a malformed packet)");
    g->pkt[d] = '\0';
    g->pkt_len = (size_t)d;
    g->in_pos += n + 4;
    bool notification = *p == '%';
    if (!g->noack && !notification && queue_raw(g, "+", 1))
        return -1;
    return notification ? take_packet(g) : 1;
}

/* next_packet - the next packet before deadline, in g->pkt. returns: 0; -1. */
static int next_packet(struct gdb_rsp *g, long long deadline)
{
    for (;;) {
        int r = take_packet(g);
        if (r)
            return r > 0 ? 0 : -1;
        if (fill(g, deadline))
            return -1;
    }
}

/* gone - the stub said W or X: the process (QEMU's guest) ended. returns: -1. */
static int gone(struct gdb_rsp *g)
{
    return rsp_error(g, "the guest is gone: QEMU exited or the guest shut down (stub reply "
                     "%.16s)", g->pkt);
}

/* A stop notification: T or S and a signal number; W, X: exited. */
static bool is_stop(const char *p)
{
    return (p[0] == 'T' || p[0] == 'S' || p[0] == 'W' || p[0] == 'X') &&
           hexval(p[1]) >= 0 && hexval(p[2]) >= 0;
}

/*
 * next_reply - the next packet that is not a stop notification, with the
 * usual deadline; stops are counted (and W, X are errors: the guest is gone).
 * returns: 0 (reply in g->pkt); -1.
 */
static int next_reply(struct gdb_rsp *g)
{
    long long deadline = sockio_now_ms() + g->timeout_ms;
    for (;;) {
        if (flush(g, deadline) || next_packet(g, deadline))
            return -1;
        if (!is_stop(g->pkt))
            return 0;
        if (g->pkt[0] == 'W' || g->pkt[0] == 'X')
            return gone(g);
        g->stops++;
        g->running = false;
    }
}

const char *gdb_rsp_reply(struct gdb_rsp *g)
{
    if (g->fd < 0) {
        rsp_error(g, "not connected");
        return NULL;
    }
    if (!g->waited)
        g->round_trips++;       /* the first wait since something was sent */
    g->waited = true;
    return next_reply(g) ? NULL : g->pkt;
}

const char *gdb_rsp_request(struct gdb_rsp *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = queue_vpacket(g, fmt, ap);
    va_end(ap);
    return r ? NULL : gdb_rsp_reply(g);
}

/* ---- connecting and greeting ---- */

int gdb_rsp_connect(struct gdb_rsp *g, const char *hostport, int timeout_ms)
{
    memset(g, 0, sizeof(*g));
    g->fd = -1;
    int fd = sockio_connect(hostport, false, sockio_now_ms() + timeout_ms, "gdbstub", g->err,
                            sizeof(g->err));
    return fd < 0 ? -1 : gdb_rsp_attach_fd(g, fd, timeout_ms);
}

/* parse_supported - the qSupported reply's features. */
static void parse_supported(struct gdb_rsp *g, const char *reply, bool *noack)
{
    const char *ps = strstr(reply, "PacketSize=");
    g->packet_size = ps ? strtoul(ps + 11, NULL, 16) : 0;
    if (g->packet_size < 64 || g->packet_size > GDB_RSP_MAX_PACKET)
        g->packet_size = ps ? 64 : 400;     /* gdb's default without PacketSize */
    g->features = strstr(reply, "qXfer:features:read+") != NULL;
    *noack = strstr(reply, "QStartNoAckMode+") != NULL;
    size_t m = 4096;
    while (m > g->packet_size / 2)
        m /= 2;
    g->mem_max = m;
}

int gdb_rsp_attach_fd(struct gdb_rsp *g, int fd, int timeout_ms)
{
    char err[sizeof(g->err)];
    memset(g, 0, sizeof(*g));
    g->fd = fd;
    g->timeout_ms = timeout_ms;
    if (sockio_nonblock(fd)) {
        rsp_error(g, "fcntl: %s", strerror(errno));
        goto bad;
    }
    /* QEMU stops a running guest when a client connects and says so with a
     * stop reply, sent before it reads anything from us. */
    const char *r = gdb_rsp_request(g, "qSupported:xmlRegisters=i386");
    if (!r)
        goto bad;
    g->stopped_at_connect = g->stops > 0;
    bool noack;
    parse_supported(g, r, &noack);
    if (noack) {
        r = gdb_rsp_request(g, "QStartNoAckMode");
        if (!r)
            goto bad;
        g->noack = !strcmp(r, "OK");
    }
    return 0;
bad:
    memcpy(err, g->err, sizeof(err));
    gdb_rsp_close(g);
    memcpy(g->err, err, sizeof(err));
    return -1;
}

void gdb_rsp_close(struct gdb_rsp *g)
{
    if (g->fd >= 0) {
        if (g->out_len && !g->running)
            flush(g, sockio_now_ms() + 100);   /* the last acknowledgement */
        close(g->fd);
    }
    g->fd = -1;
    free(g->in);
    free(g->pkt);
    free(g->out);
    g->in = NULL;
    g->pkt = NULL;
    g->out = NULL;
    g->in_len = g->in_pos = g->in_cap = g->pkt_cap = g->out_len = g->out_cap = 0;
}

/* ---- the target description ---- */

/*
 * xml_attr - the value of attribute name in the tag text [t, end) into val.
 * returns: true if present (and it fit).
 */
static bool xml_attr(const char *t, const char *end, const char *name, char *val, size_t vlen)
{
    size_t nl = strlen(name);
    while (t < end) {
        while (t < end && *t != ' ' && *t != '\t' && *t != '\n' && *t != '\r')
            t++;                    /* skip to whitespace (past the tag name) */
        while (t < end && (*t == ' ' || *t == '\t' || *t == '\n' || *t == '\r'))
            t++;
        const char *eq = t;
        while (eq < end && *eq != '=' && *eq != ' ')
            eq++;
        if (eq + 1 >= end || *eq != '=' || (eq[1] != '"' && eq[1] != '\''))
            return false;
        const char *v = eq + 2, *vend = memchr(v, eq[1], (size_t)(end - v));
        if (!vend)
            return false;
        if ((size_t)(eq - t) == nl && !memcmp(t, name, nl)) {
            if ((size_t)(vend - v) >= vlen)
                return false;
            memcpy(val, v, (size_t)(vend - v));
            val[vend - v] = '\0';
            return true;
        }
        t = vend + 1;
    }
    return false;
}

/* xml_skip - the end of the markup starting at p ("<!--", "<?", "<!", "<tag"), or NULL. */
static const char *xml_markup_end(const char *p, const char *end)
{
    if (end - p >= 4 && !memcmp(p, "<!--", 4)) {
        for (const char *q = p + 4; q + 3 <= end; q++)
            if (!memcmp(q, "-->", 3))
                return q + 3;
        return NULL;
    }
    char quote = 0;
    for (const char *q = p + 1; q < end; q++) {
        if (quote) {
            if (*q == quote)
                quote = 0;
        } else if (*q == '"' || *q == '\'') {
            quote = *q;
        } else if (*q == '>') {
            return q + 1;
        }
    }
    return NULL;
}

/* xml_reg - number one <reg> tag [t, end) and fill the wanted registers it names. */
static void xml_reg(const char *t, const char *end, struct gdb_reg *regs, size_t n, int *next)
{
    char name[64], bits[16], num[16];
    if (!xml_attr(t, end, "name", name, sizeof(name)))
        name[0] = '\0';
    if (xml_attr(t, end, "regnum", num, sizeof(num)))
        *next = (int)strtol(num, NULL, 10);
    int regnum = *next;
    *next = regnum + 1;
    unsigned long bitsize = xml_attr(t, end, "bitsize", bits, sizeof(bits))
                            ? strtoul(bits, NULL, 10) : 0;
    for (size_t i = 0; i < n; i++)
        if (regs[i].regnum < 0 && !strcmp(regs[i].name, name)) {
            regs[i].regnum = regnum;
            regs[i].bitsize = (unsigned)bitsize;
        }
}

int gdb_rsp_parse_regs(const char *xml, size_t len, struct gdb_reg *regs, size_t n, int *next,
                       int (*include)(void *arg, const char *href), void *arg)
{
    const char *p = xml, *end = xml + len;
    while ((p = memchr(p, '<', (size_t)(end - p))) != NULL) {
        const char *q = xml_markup_end(p, end);
        if (!q)
            return -1;
        if (q - p > 5 && !memcmp(p, "<reg", 4) && (p[4] == ' ' || p[4] == '\t' ||
                                                    p[4] == '\n'))
            xml_reg(p, q - 1, regs, n, next);
        if (q - p > 12 && !memcmp(p, "<xi:include", 11) && include) {
            char href[128];
            if (!xml_attr(p, q - 1, "href", href, sizeof(href)) || include(arg, href))
                return -1;
        }
        p = q;
    }
    return 0;
}

/* fetch_xml - the whole annex (qXfer features:read), malloc'd in *doc. returns: length; -1. */
static long fetch_xml(struct gdb_rsp *g, const char *annex, char **doc)
{
    size_t len = 0, cap = 0, chunk = g->packet_size > 16 ? g->packet_size - 8 : 8;
    *doc = NULL;
    for (;;) {
        const char *r = gdb_rsp_request(g, "qXfer:features:read:%s:%zx,%zx", annex, len, chunk);
        if (!r)
            break;
        if (r[0] != 'm' && r[0] != 'l') {
            rsp_error(g, "the stub cannot give %s (reply '%.16s')", annex, r);
            break;
        }
        size_t n = g->pkt_len - 1;
        if (len + n > GDB_RSP_MAX_PACKET || sockio_grow(doc, &cap, len + n + 1)) {
            rsp_error(g, "%s: too large", annex);
            break;
        }
        memcpy(*doc + len, r + 1, n);
        len += n;
        if (r[0] == 'l' || n == 0)
            return (long)len;
    }
    free(*doc);
    *doc = NULL;
    return -1;
}

struct xml_walk {
    struct gdb_rsp *g;
    struct gdb_reg *regs;
    size_t n;
    int next;
    unsigned depth, docs;
};

/* An annex name is sent inside a packet: plain characters only. */
static bool annex_ok(const char *s)
{
    return *s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
                 == strlen(s);
}

static int walk_doc(void *arg, const char *annex)
{
    struct xml_walk *w = arg;
    if (!annex_ok(annex))
        return rsp_error(w->g, "the target description includes '%.64s'", annex);
    if (w->depth >= 8 || ++w->docs > 64)
        return rsp_error(w->g, "the target description includes too many files");
    char *doc;
    long len = fetch_xml(w->g, annex, &doc);
    if (len < 0)
        return -1;
    w->depth++;
    int r = gdb_rsp_parse_regs(doc, (size_t)len, w->regs, w->n, &w->next, walk_doc, w);
    w->depth--;
    free(doc);
    if (r && !w->g->err[0])
        rsp_error(w->g, "the target description %s is malformed", annex);
    return r;
}

int gdb_rsp_find_regs(struct gdb_rsp *g, struct gdb_reg *regs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        regs[i].regnum = -1;
    if (!g->features)
        return rsp_error(g, "the stub gives no target description (qXfer:features:read)");
    struct xml_walk w = { g, regs, n, 0, 0, 0 };
    g->err[0] = '\0';
    return walk_doc(&w, "target.xml");
}

/* ---- threads and registers ---- */

int gdb_rsp_threads(struct gdb_rsp *g, char (*ids)[32], size_t max)
{
    size_t n = 0;
    const char *r = gdb_rsp_request(g, "qfThreadInfo");
    while (r && r[0] == 'm') {
        for (const char *p = r + 1; *p;) {
            size_t l = strcspn(p, ",");
            if (l == 0 || l >= 32 || strspn(p, "0123456789abcdefABCDEFp.-") < l)
                return rsp_error(g, "the stub lists a thread id '%.40s'", p);
            if (n < max) {
                memcpy(ids[n], p, l);
                ids[n][l] = '\0';
            }
            n++;
            p += l + (p[l] == ',');
        }
        r = gdb_rsp_request(g, "qsThreadInfo");
    }
    if (!r)
        return -1;
    if (r[0] != 'l')
        return rsp_error(g, "the stub lists no threads (reply '%.16s')", r);
    return (int)(n < max ? n : max);
}

/* reg_value - a `p` reply of bits bits (little-endian bytes in hex). returns: 0; -1. */
static int reg_value(const char *r, size_t len, unsigned bits, uint64_t *v)
{
    uint8_t b[8];
    size_t nb = bits / 8;
    if (bits == 0 || bits > 64 || bits % 8 || len != 2 * nb || hex_bytes(r, b, nb))
        return -1;
    *v = 0;
    for (size_t i = nb; i-- > 0;)
        *v = *v << 8 | b[i];
    return 0;
}

int gdb_rsp_queue_regs(struct gdb_rsp *g, char (*ids)[32], size_t nthreads,
                       const struct gdb_reg *regs, size_t nregs)
{
    for (size_t t = 0; t < nthreads; t++) {
        if (gdb_rsp_queue(g, "Hg%s", ids[t]))
            return -1;
        for (size_t i = 0; i < nregs; i++)
            if (gdb_rsp_queue(g, "p%x", (unsigned)regs[i].regnum))
                return -1;
    }
    return 0;
}

int gdb_rsp_regs_replies(struct gdb_rsp *g, char (*ids)[32], size_t nthreads,
                         const struct gdb_reg *regs, size_t nregs, uint64_t *values)
{
    int bad = 0;
    char what[96] = "";
    for (size_t t = 0; t < nthreads; t++)
        for (size_t i = 0; i <= nregs; i++) {   /* the Hg reply, then each register */
            if (!gdb_rsp_reply(g))
                return -1;
            bool ok = i == 0 ? !strcmp(g->pkt, "OK")
                             : !reg_value(g->pkt, g->pkt_len, regs[i - 1].bitsize,
                                          &values[t * nregs + i - 1]);
            if (!ok && !bad++)
                snprintf(what, sizeof(what), "%s of thread %s (reply '%.16s')",
                         i ? regs[i - 1].name : "selecting", ids[t], g->pkt);
        }
    return bad ? rsp_error(g, "the stub cannot read %s", what) : 0;
}

int gdb_rsp_read_regs(struct gdb_rsp *g, char (*ids)[32], size_t nthreads,
                      const struct gdb_reg *regs, size_t nregs, uint64_t *values)
{
    if (gdb_rsp_queue_regs(g, ids, nthreads, regs, nregs))
        return -1;
    return gdb_rsp_regs_replies(g, ids, nthreads, regs, nregs, values);
}

int gdb_rsp_phys_mode(struct gdb_rsp *g, bool on, bool *was)
{
    /* One round trip: whether the stub has the mode, its value, the new one. A
     * stub without it answers the other two with errors or nothing. */
    bool ask = !g->phys_checked;
    if ((ask && gdb_rsp_queue(g, "qqemu.Supported")) ||
        (was && gdb_rsp_queue(g, "qqemu.PhyMemMode")) ||
        gdb_rsp_queue(g, "Qqemu.PhyMemMode:%d", on ? 1 : 0))
        return -1;
    const char *r = ask ? gdb_rsp_reply(g) : "";
    if (ask && r) {
        g->phys_checked = true;
        g->phys_supported = strstr(r, "PhyMemMode") != NULL;
    }
    if (r && was && (r = gdb_rsp_reply(g)))
        *was = !strcmp(r, "1");
    if (r)
        r = gdb_rsp_reply(g);
    if (!r)
        return -1;
    if (!g->phys_supported)
        return 1;
    if (strcmp(r, "OK"))
        return rsp_error(g, "the stub refuses physical-memory mode (reply '%.16s')", r);
    return 0;
}

/* ---- memory ---- */

/*
 * read_pages_once - one pipelined pass of gdb_rsp_read_pages at the current
 * mem_max. Every request sent gets its reply read, so the stream stays in step.
 * returns: 0; 1 the stub refused the size (E22); -1 with g->err set.
 */
static int read_pages_once(struct gdb_rsp *g, const uint64_t *addr, size_t n,
                           uint8_t *const *bufs)
{
    size_t per = 4096 / g->mem_max, total = n * per, sent = 0, got = 0;
    int status = 0;
    g->round_trips++;
    while (got < total) {
        while (status == 0 && sent < total && sent - got < GDB_RSP_WINDOW) {
            uint64_t a = addr[sent / per] + (sent % per) * g->mem_max;
            if (gdb_rsp_queue(g, "m%llx,%zx", (unsigned long long)a, g->mem_max))
                return -1;
            sent++;
        }
        if (got == sent)
            break;
        if (next_reply(g))
            return -1;
        uint8_t *dst = bufs[got / per] + (got % per) * g->mem_max;
        if (status == 0 && (g->pkt_len != 2 * g->mem_max || hex_bytes(g->pkt, dst, g->mem_max))) {
            uint64_t a = addr[got / per] + (got % per) * g->mem_max;
            if (!strcmp(g->pkt, "E22") && g->mem_max > 64)
                status = 1;
            else
                status = rsp_error(g, "the stub cannot read %zu bytes at %#llx (reply '%.16s')",
                              g->mem_max, (unsigned long long)a, g->pkt);
        }
        got++;
    }
    return status;
}

int gdb_rsp_read_pages(struct gdb_rsp *g, const uint64_t *addr, size_t n, uint8_t *const *bufs)
{
    for (;;) {
        int r = read_pages_once(g, addr, n, bufs);
        if (r <= 0)
            return r;
        g->mem_max /= 2;            /* the stub takes smaller requests only */
    }
}

/* ---- monitor commands ---- */

char *gdb_rsp_monitor(struct gdb_rsp *g, const char *cmd)
{
    char hex[2 * 200 + 1];
    size_t n = strlen(cmd);
    if (n > 200) {
        rsp_error(g, "monitor command too long");
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", (uint8_t)cmd[i]);
    hex[2 * n] = '\0';
    char *out = NULL;
    size_t len = 0, cap = 0;
    const char *r = gdb_rsp_request(g, "qRcmd,%s", hex);
    while (r && r[0] == 'O' && strcmp(r, "OK")) {    /* console output, hex encoded */
        size_t k = (g->pkt_len - 1) / 2;
        if (len + k > (16u << 20) || sockio_grow(&out, &cap, len + k + 1) ||
            hex_bytes(r + 1, (uint8_t *)out + len, k)) {
            rsp_error(g, "bad monitor output from the stub");
            r = NULL;
            break;
        }
        len += k;
        r = next_reply(g) ? NULL : g->pkt;
    }
    if (r && strcmp(r, "OK"))
        rsp_error(g, "the stub does not run monitor commands (reply '%.16s')", r);
    if (!r || strcmp(r, "OK")) {
        free(out);
        return NULL;
    }
    if (sockio_grow(&out, &cap, len + 1)) {
        rsp_error(g, "out of memory");
        return NULL;
    }
    out[len] = '\0';
    return out;
}

/* ---- run control ---- */

int gdb_rsp_continue(struct gdb_rsp *g)
{
    if (gdb_rsp_queue(g, "c") || flush(g, sockio_now_ms() + g->timeout_ms))
        return -1;
    g->running = true;
    return 0;
}

int gdb_rsp_queue_pause(struct gdb_rsp *g)
{
    g->stops = 0;
    /* 0x03 stops a running guest; to a stopped one it is a stray byte. The
     * qC reply then comes after any stop reply the interrupt caused. */
    if (queue_raw(g, "\x03", 1) || gdb_rsp_queue(g, "qC"))
        return -1;
    g->running = false;         /* by the time anything is read, it is stopped */
    return 0;
}

int gdb_rsp_pause(struct gdb_rsp *g)
{
    return gdb_rsp_queue_pause(g) || !gdb_rsp_reply(g) ? -1 : 0;
}

int gdb_rsp_wait_stop(struct gdb_rsp *g, int ms)
{
    long long deadline = sockio_now_ms() + ms;
    while (g->running) {
        int r = take_packet(g);
        if (r < 0)
            return -1;
        if (r == 0) {
            struct pollfd p = { .fd = g->fd, .events = POLLIN };
            long long left = deadline - sockio_now_ms();
            if (left <= 0 || poll(&p, 1, (int)left) <= 0)
                return 0;           /* the time is up, or a signal came */
            if (fill(g, sockio_now_ms() + g->timeout_ms))
                return -1;
            continue;
        }
        if (g->pkt[0] == 'W' || g->pkt[0] == 'X')
            return gone(g);
        if (is_stop(g->pkt)) {
            g->running = false;
            g->stops++;
        }
    }
    return 1;
}

int gdb_rsp_detach(struct gdb_rsp *g)
{
    const char *r = gdb_rsp_request(g, "D");
    if (!r)
        return -1;
    if (strcmp(r, "OK"))
        return rsp_error(g, "the stub refuses to detach (reply '%.16s')", r);
    return 0;
}
