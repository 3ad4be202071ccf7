/*
 * test_ptlab_gdbrsp.c: unit tests of ptlab's GDB remote-protocol client
 * (tools/ptlab/gdbrsp.c and sockio.c, included directly: the generic
 * unit-test rule links only the libraries).
 *
 * The codec (checksums, escapes, run-length encoding), the target
 * description's register numbering, then whole sessions against a fake
 * stub on a socketpair, run by a thread: the handshake, registers by name
 * through an include, threads, physical-memory mode, pipelined page reads
 * (with a stub that refuses large requests), monitor output, run control;
 * and the bad peers: silent, closing, sending garbage, never-ending packets.
 *
 * Dependencies: Criterion, pthreads.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../tools/ptlab/gdbrsp.c"
#include "../../tools/ptlab/sockio.c"
#include "ptlab_fake_peer.h"

/* ---- the codec ---- */

Test(gdbrsp, checksum)
{
    cr_assert_eq(gdb_rsp_checksum("OK", 2), 0x9a);
    cr_assert_eq(gdb_rsp_checksum("qSupported:xmlRegisters=i386", 28), 0xc1);
    cr_assert_eq(gdb_rsp_checksum("", 0), 0);
}

Test(gdbrsp, decode_escapes_and_runs)
{
    char out[64];
    long n = gdb_rsp_decode("a}]b", 4, out, sizeof(out));      /* '}' ']' = '}' ^ 0x20 ... */
    cr_assert_eq(n, 3);
    cr_assert_eq(out[1], '}');
    n = gdb_rsp_decode("0* ", 3, out, sizeof(out));            /* ' ' = 32: 3 more */
    cr_assert_eq(n, 4);
    cr_assert(!memcmp(out, "0000", 4));
    n = gdb_rsp_decode("x*~y", 4, out, sizeof(out));           /* '~' = 126: 97 more */
    cr_assert_eq(n, -1, "98 bytes do not fit in 64");
    char big[128];
    cr_assert_eq(gdb_rsp_decode("x*~y", 4, big, sizeof(big)), 99);
    cr_assert_eq(big[97], 'x');
    cr_assert_eq(big[98], 'y');
}

Test(gdbrsp, decode_malformed)
{
    char out[16];
    cr_assert_eq(gdb_rsp_decode("ab}", 3, out, sizeof(out)), -1, "trailing escape");
    cr_assert_eq(gdb_rsp_decode("* ", 2, out, sizeof(out)), -1, "a run with nothing before");
    cr_assert_eq(gdb_rsp_decode("a*", 2, out, sizeof(out)), -1, "a run without its count");
    cr_assert_eq(gdb_rsp_decode("a*\x1f", 3, out, sizeof(out)), -1, "a count below 3");
}

/* ---- the target description ---- */

static const char core_xml[] =
    "<?xml version=\"1.0\"?><!DOCTYPE feature SYSTEM \"gdb-target.dtd\">"
    "<feature name=\"org.gnu.gdb.i386.core\">"
    "<reg name=\"rax\" bitsize=\"64\" regnum=\"0\"/><reg name=\"rbx\" bitsize=\"64\"/>"
    "<!--reg name=\"cr0\" bitsize=\"64\"/ commented out: no number-->"
    "<flags id=\"x\" size=\"8\"><field name=\"cr3\" start=\"0\" end=\"1\"/></flags>"
    "<reg name='eflags' bitsize='32' type=\"i386_eflags\"/>"
    "<reg name=\"cr0\" bitsize=\"64\" regnum=\"27\"/><reg bitsize=\"64\" name=\"cr2\"/>"
    "<reg name=\"cr3\" bitsize=\"64\"/></feature>";

Test(gdbrsp, register_numbers_by_name)
{
    struct gdb_reg regs[] = { { "cr3", -1, 0 }, { "eflags", -1, 0 }, { "cr0", -1, 0 },
                              { "xmm0", -1, 0 }, { "rbx", -1, 0 } };
    int next = 0;
    cr_assert_eq(gdb_rsp_parse_regs(core_xml, strlen(core_xml), regs, 5, &next, NULL, NULL), 0);
    cr_assert_eq(regs[0].regnum, 29);
    cr_assert_eq(regs[0].bitsize, 64);
    cr_assert_eq(regs[1].regnum, 2, "a field named cr3 is not a register; comments are skipped");
    cr_assert_eq(regs[1].bitsize, 32);
    cr_assert_eq(regs[2].regnum, 27);
    cr_assert_eq(regs[3].regnum, -1);
    cr_assert_eq(regs[4].regnum, 1);
    cr_assert_eq(next, 30);
}

static int count_includes(void *arg, const char *href)
{
    cr_assert_str_eq(href, "core.xml");
    ++*(int *)arg;
    return 0;
}

Test(gdbrsp, includes_and_malformed_xml)
{
    const char *doc = "<target><xi:include href=\"core.xml\"/>"
                      "<!-- <xi:include href=\"x\"/> --></target>";
    struct gdb_reg r = { "cr3", -1, 0 };
    int next = 0, n = 0;
    cr_assert_eq(gdb_rsp_parse_regs(doc, strlen(doc), &r, 1, &next, count_includes, &n), 0);
    cr_assert_eq(n, 1);
    const char *bad[] = { "<reg name=\"cr3\"", "<!-- open", "<reg name=\"a>\" " };
    for (size_t i = 0; i < 3; i++)
        cr_assert_eq(gdb_rsp_parse_regs(bad[i], strlen(bad[i]), &r, 1, &next, NULL, NULL), -1,
                     "%s", bad[i]);
}

/* ---- a fake stub ---- */

/*
 * struct stub - the fake stub's script. Replies are computed per request;
 * `limit` is the largest `m` it serves (E22 beyond), `silent` makes it read
 * and never answer, `garbage` makes it answer with bytes that are no packet.
 */
struct stub {
    int fd;
    bool stop_at_connect, silent, close_at_once;
    const char *garbage;
    size_t limit;
    unsigned m_requests;
    bool running;
};

static void stub_put(struct stub *s, const char *data)
{
    char buf[9000];
    int n = snprintf(buf, sizeof(buf), "$%s#%02x", data, gdb_rsp_checksum(data, strlen(data)));
    cr_assert(send(s->fd, buf, (size_t)n, MSG_NOSIGNAL) == n || errno == EPIPE);
}

/* stub_reply - what the fake stub answers to one request. */
static void stub_reply(struct stub *s, const char *req)
{
    char out[8300];
    unsigned long long a;
    size_t n;
    if (!strncmp(req, "qSupported", 10))
        stub_put(s, "PacketSize=1000;qXfer:features:read+");
    else if (!strcmp(req, "qXfer:features:read:target.xml:0,ff8"))
        stub_put(s, "l<target><xi:include href=\"core.xml\"/></target>");
    else if (!strcmp(req, "qXfer:features:read:core.xml:0,ff8")) {
        snprintf(out, sizeof(out), "l%s", core_xml);
        stub_put(s, out);
    } else if (!strcmp(req, "qfThreadInfo"))
        stub_put(s, "m01,02");
    else if (!strcmp(req, "qsThreadInfo"))
        stub_put(s, "l");
    else if (!strncmp(req, "Hg", 2) || !strncmp(req, "Qqemu.PhyMemMode", 16))
        stub_put(s, "OK");
    else if (!strcmp(req, "p1d"))
        stub_put(s, "0020e90300000000");
    else if (!strcmp(req, "p2"))
        stub_put(s, "82000000");
    else if (!strcmp(req, "qqemu.Supported"))
        stub_put(s, "sstepbits;sstep;PhyMemMode");
    else if (!strcmp(req, "qqemu.PhyMemMode"))
        stub_put(s, "0");
    else if (!strcmp(req, "qC"))
        stub_put(s, "QC01");
    else if (sscanf(req, "m%llx,%zx", &a, &n) == 2) {
        s->m_requests++;
        if (n > s->limit) {
            stub_put(s, "E22");
            return;
        }
        for (size_t i = 0; i < n; i++)     /* byte i of address a: its low byte */
            snprintf(out + 2 * i, 3, "%02x", (unsigned)((a + i) & 0xff));
        stub_put(s, out);
    } else if (!strncmp(req, "qRcmd,", 6)) {
        stub_put(s, "O6865");              /* "he" */
        stub_put(s, "O6c6c6f0a");          /* "llo\n" */
        stub_put(s, "OK");
    } else if (!strcmp(req, "c"))
        s->running = true;
    else
        stub_put(s, "");
}

/* stub_main - the stub's thread: read packets, answer them, until EOF. */
static void *stub_main(void *arg)
{
    struct stub *s = arg;
    char buf[1 << 16], req[4096];
    size_t len = 0;
    if (s->close_at_once) {
        close(s->fd);
        return NULL;
    }
    if (s->stop_at_connect)
        stub_put(s, "T02thread:01;");
    for (;;) {
        ssize_t r = recv(s->fd, buf + len, sizeof(buf) - len, 0);
        if (r <= 0)
            break;
        len += (size_t)r;
        size_t i = 0;
        for (;;) {
            while (i < len && buf[i] != '$') {
                if (buf[i] == 3 && s->running) {
                    s->running = false;
                    stub_put(s, "T02thread:01;");
                }
                i++;
            }
            char *hash = i < len ? memchr(buf + i, '#', len - i) : NULL;
            if (!hash || (size_t)(hash - buf) + 3 > len)
                break;
            size_t n = (size_t)(hash - buf) - i - 1;
            memcpy(req, buf + i + 1, n);
            req[n] = '\0';
            i = (size_t)(hash - buf) + 3;
            if (s->silent)
                continue;
            cr_assert(send(s->fd, "+", 1, MSG_NOSIGNAL) == 1 || errno == EPIPE);
            if (s->garbage)
                cr_assert(send(s->fd, s->garbage, strlen(s->garbage), MSG_NOSIGNAL) >= 0 ||
                          errno == EPIPE);
            else
                stub_reply(s, req);
        }
        memmove(buf, buf + i, len - i);
        len -= i;
    }
    close(s->fd);
    return NULL;
}

/* session - a client g attached to a fake stub running script s (it must succeed). */
static void session(struct gdb_rsp *g, struct stub *s, struct fake_peer *p)
{
    if (!s->limit)
        s->limit = 2048;
    fake_peer_start(p, stub_main, s, &s->fd);
    cr_assert_eq(gdb_rsp_attach_fd(g, p->fd, 2000), 0, "%s", g->err);
}

static void end_session(struct gdb_rsp *g, struct fake_peer *p)
{
    gdb_rsp_close(g);
    fake_peer_end(p);
}

Test(gdbrsp, handshake_registers_threads)
{
    struct stub s = { .stop_at_connect = true };
    struct gdb_rsp g;
    struct fake_peer p;
    session(&g, &s, &p);
    cr_assert(g.stopped_at_connect, "the stop reply sent at connection was seen");
    cr_assert_eq(g.packet_size, 4096);
    cr_assert_eq(g.mem_max, 2048);
    struct gdb_reg regs[] = { { "cr3", -1, 0 }, { "eflags", -1, 0 } };
    cr_assert_eq(gdb_rsp_find_regs(&g, regs, 2), 0, "%s", g.err);
    cr_assert_eq(regs[0].regnum, 29);
    char ids[4][32];
    cr_assert_eq(gdb_rsp_threads(&g, ids, 4), 2);
    cr_assert_str_eq(ids[1], "02");
    uint64_t v[4];
    unsigned long before = g.round_trips;
    cr_assert_eq(gdb_rsp_read_regs(&g, ids, 2, regs, 2, v), 0, "%s", g.err);
    cr_assert_eq(g.round_trips - before, 1, "both vCPUs' registers in one round trip");
    cr_assert_eq(v[0], 0x3e92000);
    cr_assert_eq(v[1], 0x82);
    bool was = true;
    cr_assert_eq(gdb_rsp_phys_mode(&g, true, &was), 0, "%s", g.err);
    cr_assert(!was);
    end_session(&g, &p);
}

Test(gdbrsp, pipelined_pages_and_smaller_requests)
{
    struct stub s = { .limit = 1024 };
    struct gdb_rsp g;
    struct fake_peer p;
    session(&g, &s, &p);
    cr_assert(!g.stopped_at_connect);
    enum { N = 100 };
    uint64_t addr[N];
    static uint8_t pages[N][4096];
    uint8_t *bufs[N];
    for (int i = 0; i < N; i++) {
        addr[i] = 0x100000 + (uint64_t)i * 0x3000;
        bufs[i] = pages[i];
    }
    unsigned long before = g.round_trips;
    cr_assert_eq(gdb_rsp_read_pages(&g, addr, N, bufs), 0, "%s", g.err);
    cr_assert_eq(g.mem_max, 1024, "the stub refused 2048 bytes: halved");
    cr_assert_eq(g.round_trips - before, 2, "one batch refused, one read");
    for (int i = 0; i < N; i++)
        for (int b = 0; b < 4096; b += 511)
            cr_assert_eq(pages[i][b], (uint8_t)(addr[i] + b), "page %d byte %d", i, b);
    char *out = gdb_rsp_monitor(&g, "info version");
    cr_assert_not_null(out, "%s", g.err);
    cr_assert_str_eq(out, "hello\n");
    free(out);
    end_session(&g, &p);
}

Test(gdbrsp, run_control)
{
    struct stub s = { 0 };
    struct gdb_rsp g;
    struct fake_peer p;
    session(&g, &s, &p);
    cr_assert_eq(gdb_rsp_pause(&g), 0, "%s", g.err);
    cr_assert_eq(g.stops, 0, "already stopped: the interrupt byte changes nothing");
    cr_assert_eq(gdb_rsp_continue(&g), 0, "%s", g.err);
    cr_assert_eq(gdb_rsp_wait_stop(&g, 50), 0, "still running");
    cr_assert_eq(gdb_rsp_pause(&g), 0, "%s", g.err);
    cr_assert_eq(g.stops, 1, "the interrupt stopped it");
    cr_assert(!g.running);
    cr_assert_eq(gdb_rsp_wait_stop(&g, 10), 1);
    end_session(&g, &p);
}

/* ---- bad peers ---- */

static void expect_failure(struct stub *s, const char *what)
{
    if (!s->limit)
        s->limit = 2048;
    EXPECT_PEER_FAILURE(struct gdb_rsp, gdb_rsp_attach_fd, stub_main, s, &s->fd, what);
}

Test(gdbrsp, silent_peer_times_out)
{
    struct stub s = { .silent = true };
    expect_failure(&s, "no answer");
}

Test(gdbrsp, closing_peer)
{
    struct stub s = { .close_at_once = true };
    expect_failure(&s, "closed the connection");
}

Test(gdbrsp, garbage_peer)
{
    struct stub s = { .garbage = "$OK#00" };
    expect_failure(&s, "bad checksum");
    struct stub s2 = { .garbage = "HTTP/1.0 400 Bad Request\r\n\r\n" };
    expect_failure(&s2, "no answer");
    struct stub s3 = { .garbage = "$T05#b9" };     /* stop replies only: never a reply */
    expect_failure(&s3, "no answer");
    struct stub s4 = { .garbage = "-" };
    expect_failure(&s4, "rejected a packet");
    struct stub s5 = { .garbage = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n" };
    expect_failure(&s5, "is it a gdbstub?");
}
