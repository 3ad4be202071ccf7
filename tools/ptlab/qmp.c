/*
 * qmp.c: the QMP client of ptlab and its readers of QEMU monitor texts
 * (see qmp.h).
 *
 * QEMU writes one JSON object per line. Each command carries an "id"; the
 * reply with that id ends the wait, events met on the way are counted
 * (STOP, RESUME, SHUTDOWN), anything else is garbage. The JSON reader
 * here finds members, strings and array elements in place, without
 * building a tree: QMP replies are small and read once.
 * Depends on: qmp.h, sockio.h, libc.
 */
#include "qmp.h"
#include "sockio.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int qmp_error(struct qmp *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int qmp_error(struct qmp *q, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q->err, sizeof(q->err), fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- the JSON reader ---- */

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

/* skip_string - past the string starting at p ('"'). returns: the end; NULL if malformed. */
static const char *skip_string(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '\\')
            p++;
        else if (*p == '"')
            return p + 1;
        else if ((unsigned char)*p < 0x20)
            return NULL;
    }
    return NULL;
}

/*
 * skip_value - past the JSON value starting at p (after white space),
 * nesting at most 64 deep. returns: the end; NULL if malformed.
 */
static const char *skip_value(const char *p, const char *end)
{
    char stack[64];
    int depth = 0;
    p = skip_ws(p, end);
    do {
        if (p >= end)
            return NULL;
        if (*p == '"') {
            p = skip_string(p, end);
            if (!p)
                return NULL;
        } else if (*p == '{' || *p == '[') {
            if (depth == (int)sizeof(stack))
                return NULL;
            stack[depth++] = *p == '{' ? '}' : ']';
            p++;
        } else if (*p == '}' || *p == ']') {
            if (depth == 0 || stack[depth - 1] != *p)
                return NULL;
            depth--;
            p++;
        } else if (*p == ',' || *p == ':') {
            if (depth == 0)
                return NULL;
            p++;
        } else {
            const char *s = p;      /* number, true, false, null */
            while (p < end && strchr("+-.0123456789eEtruefalsn", *p))
                p++;
            if (p == s)
                return NULL;
        }
        p = skip_ws(p, end);
    } while (depth > 0);
    return p;
}

bool qmp_json_member(const char *p, const char *end, const char *key, const char **v,
                     const char **vend)
{
    size_t kl = strlen(key);
    p = skip_ws(p, end);
    if (p >= end || *p != '{')
        return false;
    p = skip_ws(p + 1, end);
    while (p < end && *p == '"') {
        const char *k = p + 1, *kend = skip_string(p, end);
        if (!kend)
            return false;
        p = skip_ws(kend, end);
        if (p >= end || *p != ':')
            return false;
        const char *val = skip_ws(p + 1, end), *valend = skip_value(val, end);
        if (!valend)
            return false;
        if ((size_t)(kend - 1 - k) == kl && !memcmp(k, key, kl)) {
            *v = val;
            *vend = valend;
            return true;
        }
        p = valend;
        if (p < end && *p == ',')
            p = skip_ws(p + 1, end);
    }
    return false;
}

bool qmp_json_next(const char **p, const char *end, const char **v, const char **vend)
{
    const char *s = skip_ws(*p, end);
    if (s >= end || (*s != '[' && *s != ','))
        return false;
    s = skip_ws(s + 1, end);
    if (s >= end || *s == ']')
        return false;
    const char *e = skip_value(s, end);
    if (!e)
        return false;
    *v = s;
    *vend = e;
    *p = e;
    return true;
}

/* put_utf8 - code point c as UTF-8 at out. returns: bytes written. */
static size_t put_utf8(char *out, unsigned c)
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xc0 | c >> 6);
        out[1] = (char)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xe0 | c >> 12);
        out[1] = (char)(0x80 | (c >> 6 & 0x3f));
        out[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | c >> 18);
    out[1] = (char)(0x80 | (c >> 12 & 0x3f));
    out[2] = (char)(0x80 | (c >> 6 & 0x3f));
    out[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

/* hex4 - the 4 hex digits at p (end checked). returns: the value; -1. */
static long hex4(const char *p, const char *end)
{
    if (end - p < 4)
        return -1;
    char b[5] = { p[0], p[1], p[2], p[3], 0 }, *e;
    long v = strtol(b, &e, 16);
    return *e || b[0] == '-' || b[0] == '+' || b[0] == ' ' ? -1 : v;
}

/* unicode_escape - the code point of "\uXXXX" (and a following low surrogate) at p. */
static long unicode_escape(const char **p, const char *end)
{
    long c = hex4(*p + 2, end);
    if (c < 0)
        return -1;
    *p += 6;
    if (c >= 0xd800 && c < 0xdc00) {
        long lo = end - *p >= 6 && (*p)[0] == '\\' && (*p)[1] == 'u' ? hex4(*p + 2, end) : -1;
        if (lo < 0xdc00 || lo >= 0xe000)
            return -1;
        *p += 6;
        c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
    } else if (c >= 0xdc00 && c < 0xe000) {
        return -1;
    }
    return c;
}

char *qmp_json_string(const char *p, const char *end, size_t *len)
{
    p = skip_ws(p, end);
    const char *e = p < end && *p == '"' ? skip_string(p, end) : NULL;
    char *out = e ? malloc((size_t)(e - p)) : NULL;     /* decoding never grows it */
    if (!out)
        return NULL;
    size_t o = 0;
    for (p++; p < e - 1;) {
        if (*p != '\\') {
            out[o++] = *p++;
            continue;
        }
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *k = strchr(from, p[1]);
        if (p[1] && k) {
            out[o++] = to[k - from];
            p += 2;
            continue;
        }
        long c = p[1] == 'u' ? unicode_escape(&p, e - 1) : -1;
        if (c <= 0) {               /* malformed, or a NUL we could not keep */
            free(out);
            return NULL;
        }
        o += put_utf8(out + o, (unsigned)c);
    }
    out[o] = '\0';
    if (len)
        *len = o;
    return out;
}

/* ---- the connection ---- */

/* next_message - the next line from QEMU into q->msg before deadline. returns: 0; -1. */
static int next_message(struct qmp *q, long long deadline)
{
    for (;;) {
        char *start = q->in + q->in_pos;
        char *nl = q->in_len > q->in_pos ? memchr(start, '\n', q->in_len - q->in_pos) : NULL;
        if (nl) {
            *nl = '\0';
            q->msg = start;
            q->msg_len = (size_t)(nl - start);
            q->in_pos += q->msg_len + 1;
            return 0;
        }
        if (q->in_len - q->in_pos > QMP_MAX_LINE)
            return qmp_error(q, "garbage from QMP (a line longer than %u bytes)", QMP_MAX_LINE);
        if (q->in_pos > 0) {        /* keep the unparsed tail at the front */
            memmove(q->in, start, q->in_len - q->in_pos);
            q->in_len -= q->in_pos;
            q->in_pos = 0;
        }
        if (sockio_grow(&q->in, &q->in_cap, q->in_len + 65536))
            return qmp_error(q, "out of memory");
        ssize_t r = sockio_recv(q->fd, q->in + q->in_len, q->in_cap - q->in_len - 1, deadline);
        if (r == 0 || (r < 0 && errno == ECONNRESET))
            return qmp_error(q, "QMP closed the connection (QEMU exited?)");
        if (r < 0 && errno == ETIMEDOUT)
            return qmp_error(q, "no answer from QMP within %.1f s", q->timeout_ms / 1000.0);
        if (r < 0)
            return qmp_error(q, "reading from QMP: %s", strerror(errno));
        q->in_len += (size_t)r;
    }
}

/* note_event - count an event message. returns: true if q->msg is one. */
static bool note_event(struct qmp *q)
{
    const char *v, *ve, *end = q->msg + q->msg_len;
    if (!qmp_json_member(q->msg, end, "event", &v, &ve))
        return false;
    char *name = qmp_json_string(v, ve, NULL);
    if (name && !strcmp(name, "STOP"))
        q->stop_events++;
    else if (name && !strcmp(name, "RESUME"))
        q->resume_events++;
    else if (name && !strcmp(name, "SHUTDOWN"))
        q->shutdown = true;
    free(name);
    return true;
}

/* error_reply - the message of an {"error": {"class", "desc"}} reply to request id. */
static int error_reply(struct qmp *q, unsigned long id, const char *v, const char *ve)
{
    const char *d, *de;
    char *desc = qmp_json_member(v, ve, "desc", &d, &de) ? qmp_json_string(d, de, NULL) : NULL;
    qmp_error(q, "QMP %s: %s", q->names[id % QMP_PENDING], desc ? desc : "error");
    free(desc);
    return -1;
}

unsigned long qmp_send(struct qmp *q, const char *command, const char *arguments)
{
    char head[256];
    unsigned long id = ++q->next_id;
    int n = snprintf(head, sizeof(head), "{\"execute\": \"%s\", \"id\": %lu%s", command, id,
                     arguments ? ", \"arguments\": " : "");
    long long deadline = sockio_now_ms() + q->timeout_ms;
    if (q->fd < 0 || n < 0 || (size_t)n >= sizeof(head) || id - q->answered > QMP_PENDING) {
        qmp_error(q, "QMP %s: cannot send it", command);
        return 0;
    }
    snprintf(q->names[id % QMP_PENDING], sizeof(q->names[0]), "%s", command);
    if (sockio_send(q->fd, head, (size_t)n, deadline) ||
        (arguments && sockio_send(q->fd, arguments, strlen(arguments), deadline)) ||
        sockio_send(q->fd, "}\n", 2, deadline)) {
        if (errno == EPIPE || errno == ECONNRESET)
            qmp_error(q, "QMP closed the connection (QEMU exited?)");
        else
            qmp_error(q, "sending to QMP: %s", strerror(errno));
        return 0;
    }
    q->waited = false;
    return id;
}

const char *qmp_reply(struct qmp *q, unsigned long id, size_t *len)
{
    if (id == 0)
        return NULL;        /* its send failed: q->err says why */
    long long deadline = sockio_now_ms() + q->timeout_ms;
    if (!q->waited)
        q->round_trips++;   /* the first wait after sending: one more round trip */
    q->waited = true;
    while (q->answered < id) {
        if (next_message(q, deadline))
            return NULL;
        const char *v, *ve, *end = q->msg + q->msg_len;
        if (note_event(q))
            continue;
        unsigned long got = qmp_json_member(q->msg, end, "id", &v, &ve) ? strtoul(v, NULL, 10) : 0;
        if (got != q->answered + 1) {       /* replies come in order */
            qmp_error(q, "garbage from QMP: '%.60s'", q->msg);
            return NULL;
        }
        q->answered = got;
        if (qmp_json_member(q->msg, end, "error", &v, &ve)) {
            error_reply(q, got, v, ve);
            return NULL;
        }
        if (!qmp_json_member(q->msg, end, "return", &v, &ve)) {
            qmp_error(q, "garbage from QMP: '%.60s'", q->msg);
            return NULL;
        }
        if (got == id) {
            *len = (size_t)(ve - v);
            return v;
        }
    }
    qmp_error(q, "QMP: no request %lu waits for a reply", id);
    return NULL;
}

const char *qmp_execute(struct qmp *q, const char *command, const char *arguments, size_t *len)
{
    return qmp_reply(q, qmp_send(q, command, arguments), len);
}

int qmp_connect(struct qmp *q, const char *path, int timeout_ms)
{
    memset(q, 0, sizeof(*q));
    q->fd = -1;
    int fd = sockio_connect(path, true, sockio_now_ms() + timeout_ms, "QMP socket", q->err,
                            sizeof(q->err));
    return fd < 0 ? -1 : qmp_attach_fd(q, fd, timeout_ms);
}

int qmp_attach_fd(struct qmp *q, int fd, int timeout_ms)
{
    memset(q, 0, sizeof(*q));
    q->fd = fd;
    q->timeout_ms = timeout_ms;
    const char *v, *ve;
    if (sockio_nonblock(fd)) {
        qmp_error(q, "fcntl: %s", strerror(errno));
        goto bad;
    }
    /* Leave negotiation at once: the reply is read with the next command's. */
    if (!qmp_send(q, "qmp_capabilities", NULL))
        goto bad;
    if (next_message(q, sockio_now_ms() + timeout_ms)) {
        if (strstr(q->err, "no answer"))
            qmp_error(q, "no QMP greeting within %.1f s (a QMP socket serves one client at a "
                 "time: is another connected?)", timeout_ms / 1000.0);
        goto bad;
    }
    if (!qmp_json_member(q->msg, q->msg + q->msg_len, "QMP", &v, &ve)) {
        qmp_error(q, "not a QMP greeting: '%.60s'", q->msg);
        goto bad;
    }
    return 0;
bad:;
    char err[sizeof(q->err)];
    memcpy(err, q->err, sizeof(err));
    qmp_close(q);
    memcpy(q->err, err, sizeof(err));
    return -1;
}

void qmp_close(struct qmp *q)
{
    if (q->fd >= 0)
        close(q->fd);
    q->fd = -1;
    free(q->in);
    q->in = q->msg = NULL;
    q->in_len = q->in_pos = q->in_cap = q->msg_len = 0;
}

unsigned long qmp_send_hmp(struct qmp *q, const char *command_line)
{
    char args[300];
    if (strpbrk(command_line, "\"\\") || strlen(command_line) > 200) {
        qmp_error(q, "bad monitor command");
        return 0;
    }
    snprintf(args, sizeof(args), "{\"command-line\": \"%s\"}", command_line);
    return qmp_send(q, "human-monitor-command", args);
}

char *qmp_reply_text(struct qmp *q, unsigned long id)
{
    size_t len;
    const char *v = qmp_reply(q, id, &len);
    char *s = v ? qmp_json_string(v, v + len, NULL) : NULL;
    if (v && !s)
        qmp_error(q, "QMP human-monitor-command: a reply that is not a string");
    return s;
}

char *qmp_hmp(struct qmp *q, const char *command_line)
{
    return qmp_reply_text(q, qmp_send_hmp(q, command_line));
}

int qmp_reply_running(struct qmp *q, unsigned long id)
{
    size_t len;
    const char *v = qmp_reply(q, id, &len), *r, *re;
    if (!v)
        return -1;
    if (!qmp_json_member(v, v + len, "running", &r, &re))
        return qmp_error(q, "QMP query-status: no 'running' in the reply");
    return re - r >= 4 && !memcmp(r, "true", 4);
}

int qmp_running(struct qmp *q)
{
    return qmp_reply_running(q, qmp_send(q, "query-status", NULL));
}

int qmp_wait_event(struct qmp *q, int ms)
{
    long long deadline = sockio_now_ms() + ms;
    for (;;) {
        int saved = q->timeout_ms;
        q->timeout_ms = ms;
        int r = next_message(q, deadline);
        q->timeout_ms = saved;
        if (r)
            return strstr(q->err, "no answer") ? 0 : -1;
        if (note_event(q))
            return 1;
        return qmp_error(q, "garbage from QMP: '%.60s'", q->msg);
    }
}

/* ---- monitor texts ---- */

/* line_end - the end of the line at p (its '\n' or the string's end). */
static const char *line_end(const char *p)
{
    const char *e = strchr(p, '\n');
    return e ? e : p + strlen(p);
}

/*
 * mtree_line - one range line "  START-LAST (prio P, TYPE): NAME[ @OFFSET][ ...]".
 * returns: true if [p, e) is such a line (r filled).
 */
static bool mtree_line(const char *p, const char *e, struct qmp_ram *r)
{
    char line[256], type[16];
    unsigned long long start, last;
    int prio, used = 0;
    size_t n = (size_t)(e - p);
    if (n >= sizeof(line))
        return false;
    memcpy(line, p, n);
    line[n] = '\0';
    if (n && line[n - 1] == '\r')
        line[--n] = '\0';
    if (sscanf(line, " %llx-%llx (prio %d, %15[^)]): %n", &start, &last, &prio, type, &used) < 4 ||
        !used || last < start)
        return false;
    const char *name = line + used, *at = strstr(name, " @");
    size_t nl = at ? (size_t)(at - name) : strlen(name);
    if (!at && nl > 4 && !strcmp(name + nl - 4, " KVM"))
        nl -= 4;                    /* the accelerator, printed after the name */
    if (nl >= sizeof(r->name))
        nl = sizeof(r->name) - 1;
    memcpy(r->name, name, nl);
    r->name[nl] = '\0';
    r->start = start;
    r->end = last + 1;      /* 0 at the top of the address space */
    r->offset = at ? strtoull(at + 2, NULL, 16) : 0;
    r->ram = !strcmp(type, "ram") || !strcmp(type, "rom") || !strcmp(type, "ramd") ||
             !strcmp(type, "romd");
    return true;
}

int qmp_parse_mtree(const char *text, struct qmp_ram *out, size_t max)
{
    const char *view = text;
    /* The flat view whose address-space list names "memory". */
    for (;;) {
        view = strstr(view, "FlatView #");
        if (!view)
            return -1;
        const char *next = strstr(view + 1, "FlatView #");
        const char *as = strstr(view, " AS \"memory\",");
        view = line_end(view);
        if (as && (!next || as < next))
            break;
    }
    int n = 0;
    for (const char *p = *view ? view + 1 : view; *p; ) {
        const char *e = line_end(p);
        struct qmp_ram r;
        if (!strncmp(p, "FlatView #", 10))
            break;
        if (mtree_line(p, e, &r)) {
            if ((size_t)n < max)
                out[n] = r;
            n++;
        }
        p = *e ? e + 1 : e;
    }
    return n;
}

/* The fields of `info registers` read into struct qmp_regs (32-bit names too). */
static const struct {
    const char *name;
    size_t off;
    unsigned bit;
} reg_fields[] = {
    { "CR0", offsetof(struct qmp_regs, cr0), 1 },   { "CR2", offsetof(struct qmp_regs, cr2), 2 },
    { "CR3", offsetof(struct qmp_regs, cr3), 4 },   { "CR4", offsetof(struct qmp_regs, cr4), 8 },
    { "EFER", offsetof(struct qmp_regs, efer), 16 }, { "RIP", offsetof(struct qmp_regs, rip), 32 },
    { "EIP", offsetof(struct qmp_regs, rip), 32 },  { "RSP", offsetof(struct qmp_regs, rsp), 0 },
    { "ESP", offsetof(struct qmp_regs, rsp), 0 },   { "RFL", offsetof(struct qmp_regs, rflags), 0 },
    { "EFL", offsetof(struct qmp_regs, rflags), 0 },
};

/* registers_line - the NAME=HEX tokens of one line [p, e) into r; found bits into *found. */
static void registers_line(const char *p, const char *e, struct qmp_regs *r, unsigned *found)
{
    while (p < e) {
        while (p < e && (*p == ' ' || *p == '\r'))
            p++;
        const char *t = p, *eq = NULL;
        while (p < e && *p != ' ' && *p != '\r') {
            if (*p == '=' && !eq)
                eq = p;
            p++;
        }
        if (!eq || eq + 1 == p)
            continue;
        char val[24], *end;
        size_t vl = (size_t)(p - eq - 1);
        if (vl >= sizeof(val))
            continue;
        memcpy(val, eq + 1, vl);
        val[vl] = '\0';
        uint64_t v = strtoull(val, &end, 16);
        for (size_t i = 0; *end == '\0' && i < sizeof(reg_fields) / sizeof(reg_fields[0]); i++)
            if (strlen(reg_fields[i].name) == (size_t)(eq - t) &&
                !memcmp(t, reg_fields[i].name, (size_t)(eq - t))) {
                memcpy((char *)r + reg_fields[i].off, &v, sizeof(v));
                *found |= reg_fields[i].bit;
            }
    }
}

/* store_block - one vCPU's block into out[n] (if it fits), its have bits from found. */
static void store_block(struct qmp_regs *out, size_t max, int n, struct qmp_regs *r,
                        unsigned found)
{
    r->have = ((found & 15) == 15 ? QMP_HAVE_CR : 0) | (found & 16 ? QMP_HAVE_EFER : 0) |
              (found & 32 ? QMP_HAVE_RIP : 0);
    if ((size_t)n < max)
        out[n] = *r;
}

int qmp_parse_registers(const char *text, struct qmp_regs *out, size_t max)
{
    int n = 0;
    bool open = false, headed = false;
    struct qmp_regs cur = { 0 };
    unsigned found = 0, idx;
    for (const char *p = text; *p;) {
        const char *e = line_end(p);
        if (sscanf(p, "CPU#%u", &idx) == 1) {
            if (open && (headed || found))
                store_block(out, max, n++, &cur, found);
            memset(&cur, 0, sizeof(cur));
            cur.index = idx;
            found = 0;
            open = headed = true;
        } else {
            open = true;    /* text before any header: one vCPU (plain `info registers`) */
            registers_line(p, e, &cur, &found);
        }
        p = *e ? e + 1 : e;
    }
    if (open && (headed || found))
        store_block(out, max, n++, &cur, found);
    return n;
}
