/*
 * test_ptlab_qmp.c: unit tests of ptlab's QMP client and monitor-text
 * readers (tools/ptlab/qmp.c and sockio.c, included directly: the generic
 * unit-test rule links only the libraries).
 *
 * The JSON reader (members, strings with every escape, arrays, malformed
 * input), `info mtree -f` (the flat view of "memory" among others, QEMU's
 * CR LF line ends, RAM blocks at offsets that are not their guest
 * addresses) and `info registers -a` (a 64-bit and a 32-bit vCPU), then
 * sessions against a fake QMP server on a socketpair: the greeting,
 * commands with events in between, error replies; and the bad peers.
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

#include "../../tools/ptlab/qmp.c"
#include "../../tools/ptlab/sockio.c"
#include "ptlab_fake_peer.h"

/* ---- JSON ---- */

static bool member(const char *json, const char *key, const char **v, const char **ve)
{
    return qmp_json_member(json, json + strlen(json), key, v, ve);
}

Test(qmp, json_members)
{
    const char *j = "{\"a\": [1, {\"b\": \"}\"}], \"running\" : true, \"id\":7}", *v, *ve;
    cr_assert(member(j, "running", &v, &ve));
    cr_assert_eq(ve - v, 4);
    cr_assert(!memcmp(v, "true", 4));
    cr_assert(member(j, "id", &v, &ve));
    cr_assert_eq(strtoul(v, NULL, 10), 7);
    cr_assert(!member(j, "b", &v, &ve), "members of nested objects are not the object's");
    cr_assert(member(j, "a", &v, &ve));
    const char *p = v, *e, *ee;
    int n = 0;
    while (qmp_json_next(&p, ve, &e, &ee))
        n++;
    cr_assert_eq(n, 2);
}

Test(qmp, json_malformed)
{
    const char *bad[] = { "{\"a\": }", "{\"a\" 1}", "{\"a\": [1, 2}", "{\"a\": \"x",
                          "[", "{\"a\": \"\x01\"}", "nothing" };
    const char *v, *ve;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert(!member(bad[i], "a", &v, &ve), "%s", bad[i]);
    char deep[200];
    memset(deep, '[', sizeof(deep));
    memcpy(deep, "{\"a\": ", 6);
    deep[sizeof(deep) - 1] = '\0';
    cr_assert(!member(deep, "a", &v, &ve), "nesting beyond the reader's depth");
}

Test(qmp, json_strings)
{
    const char *s = "\"a\\n\\\"b\\\\ \\u00e9\\u20ac \\ud83d\\ude00\\/\\t\"";
    size_t len;
    char *out = qmp_json_string(s, s + strlen(s), &len);
    cr_assert_not_null(out);
    cr_assert_str_eq(out, "a\n\"b\\ \xc3\xa9\xe2\x82\xac \xf0\x9f\x98\x80/\t");
    cr_assert_eq(len, strlen(out));
    free(out);
    const char *bad[] = { "\"\\u12\"", "\"\\ud83d\"", "\"\\q\"", "\"\\u0000\"", "x", "\"open" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_null(qmp_json_string(bad[i], bad[i] + strlen(bad[i]), NULL), "%s", bad[i]);
}

/* ---- monitor texts ---- */

static const char mtree[] =
    "FlatView #0\r\n"
    " AS \"cpu-smm-0\", root: memory\r\n"
    " Root memory region: memory\r\n"
    "  0000000000000000-00000000000bffff (prio 0, ram): ram0\r\n"
    "  00000000000a0000-00000000000bffff (prio 1, ram): smram @0000000000000000\r\n"
    "\r\n"
    "FlatView #1\r\n"
    " AS \"memory\", root: system\r\n"
    " AS \"cpu-memory-0\", root: system\r\n"
    " Root memory region: system\r\n"
    "  0000000000000000-000000000009ffff (prio 0, ram): ram0 KVM\r\n"
    "  00000000000a0000-00000000000bffff (prio 1, i/o): vga-lowmem\r\n"
    "  00000000000c0000-00000000000cafff (prio 0, rom): ram0 @00000000000c0000\r\n"
    "  0000000000100000-00000000bfffffff (prio 0, ram): ram0 @0000000000100000\r\n"
    "  00000000febf0400-00000000febf041f (prio 0, i/o): vga ioports remapped\r\n"
    "  0000000100000000-000000013fffffff (prio 0, ram): ram0 @00000000c0000000\r\n"
    "\r\n"
    "FlatView #2\r\n"
    " AS \"I/O\", root: io\r\n"
    "  0000000000000000-000000000000ffff (prio 0, i/o): io\r\n";

Test(qmp, mtree_flat_view_of_memory)
{
    struct qmp_ram r[8];
    int n = qmp_parse_mtree(mtree, r, 8);
    cr_assert_eq(n, 6, "the ranges of FlatView #1 only");
    cr_assert_str_eq(r[0].name, "ram0");
    cr_assert_eq(r[0].end, 0xa0000);
    cr_assert(r[0].ram && !r[1].ram && r[2].ram);
    cr_assert_eq(r[2].offset, 0xc0000);
    cr_assert_str_eq(r[4].name, "vga ioports remapped");
    cr_assert_eq(r[5].start, 0x100000000ULL);
    cr_assert_eq(r[5].end, 0x140000000ULL);
    cr_assert_eq(r[5].offset, 0xc0000000ULL, "RAM above 4 GiB lives lower in the file");
    cr_assert_eq(qmp_parse_mtree(mtree, r, 2), 6, "the count even when fewer fit");
    cr_assert_eq(qmp_parse_mtree("FlatView #0\n AS \"I/O\", root: io\n", r, 8), -1);
    cr_assert_eq(qmp_parse_mtree("", r, 8), -1);
}

static const char registers[] =
    "CPU#0\r\n"
    "RAX=000000000000002b RBX=0000000000000001 RCX=00000000000186a0 RDX=00000000000003f8\r\n"
    "R8 =ffffffff89213669 R9 =ffffffff8929cf98\r\n"
    "RIP=ffffffff8920080f RFL=00000082 [--S----] CPL=0 II=0 A20=1 SMM=0 HLT=1\r\n"
    "CR0=80050033 CR2=ff1100013ffff000 CR3=0000000099292000 CR4=003010b0\r\n"
    "EFER=0000000000000d01\r\n"
    "\r\n"
    "CPU#1\r\n"
    "EAX=000f49f6 EBX=00000000 ECX=000002ff EDX=00000001\r\n"
    "EIP=000fd09a EFL=00000002 [-------] CPL=0 II=0 A20=1 SMM=0 HLT=1\r\n"
    "CR0=00000011 CR2=00000000 CR3=00000000 CR4=00000000\r\n"
    "EFER=0000000000000000\r\n";

Test(qmp, registers_of_every_vcpu)
{
    struct qmp_regs r[4];
    cr_assert_eq(qmp_parse_registers(registers, r, 4), 2);
    cr_assert_eq(r[0].have, QMP_HAVE_CR | QMP_HAVE_EFER | QMP_HAVE_RIP);
    cr_assert_eq(r[0].cr0, 0x80050033);
    cr_assert_eq(r[0].cr2, 0xff1100013ffff000ULL);
    cr_assert_eq(r[0].cr3, 0x99292000);
    cr_assert_eq(r[0].cr4, 0x3010b0);
    cr_assert_eq(r[0].efer, 0xd01);
    cr_assert_eq(r[0].rip, 0xffffffff8920080fULL);
    cr_assert_eq(r[0].rflags, 0x82);
    cr_assert_eq(r[1].index, 1);
    cr_assert_eq(r[1].cr0, 0x11);
    cr_assert_eq(r[1].rip, 0xfd09a);
    cr_assert_eq(r[1].have, QMP_HAVE_CR | QMP_HAVE_EFER | QMP_HAVE_RIP);
    cr_assert_eq(qmp_parse_registers("RIP=0000000000001000 CR0=11 CR3=0\n", r, 4), 1,
                 "one vCPU without header");
    cr_assert_eq(r[0].have, QMP_HAVE_RIP, "CR2 and CR4 missing: no CR set");
    cr_assert_eq(qmp_parse_registers("no registers here\n", r, 4), 0);
}

/* ---- a fake QMP server ---- */

struct server {
    int fd;
    const char *greeting;       /* NULL: never greet */
    bool close_at_once, mute;   /* mute: never answer a command */
};

static void put(int fd, const char *s)
{
    cr_assert(send(fd, s, strlen(s), MSG_NOSIGNAL) >= 0 || errno == EPIPE);
}

/* server_main - greet, then answer each command line (matching its id). */
static void *server_main(void *arg)
{
    struct server *s = arg;
    char buf[8192];
    size_t len = 0;
    if (s->close_at_once) {
        close(s->fd);
        return NULL;
    }
    if (s->greeting)
        put(s->fd, s->greeting);
    for (;;) {
        ssize_t r = recv(s->fd, buf + len, sizeof(buf) - 1 - len, 0);
        if (r <= 0)
            break;
        len += (size_t)r;
        buf[len] = '\0';
        char *nl;
        while (!s->mute && (nl = strchr(buf, '\n'))) {
            *nl = '\0';
            char out[600];
            unsigned long id = strtoul(strstr(buf, "\"id\": ") + 6, NULL, 10);
            if (strstr(buf, "\"stop\""))
                snprintf(out, sizeof(out), "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, "
                         "\"event\": \"STOP\"}\r\n{\"return\": {}, \"id\": %lu}\r\n", id);
            else if (strstr(buf, "query-status"))
                snprintf(out, sizeof(out), "{\"return\": {\"status\": \"paused\", \"singlestep\": "
                         "false, \"running\": false}, \"id\": %lu}\r\n", id);
            else if (strstr(buf, "human-monitor-command"))
                snprintf(out, sizeof(out), "{\"return\": \"CPU#0\\r\\nCR0=1\\r\\n\", "
                         "\"id\": %lu}\r\n", id);
            else if (strstr(buf, "qmp_capabilities"))
                snprintf(out, sizeof(out), "{\"return\": {}, \"id\": %lu}\r\n", id);
            else
                snprintf(out, sizeof(out), "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": "
                         "\"The command nope has not been found\"}, \"id\": %lu}\r\n", id);
            put(s->fd, out);
            memmove(buf, nl + 1, len - (size_t)(nl + 1 - buf) + 1);
            len -= (size_t)(nl + 1 - buf);
        }
    }
    close(s->fd);
    return NULL;
}

/* session - a client q attached to a fake QMP server s (it must succeed). */
static void session(struct qmp *q, struct server *s, struct fake_peer *p)
{
    fake_peer_start(p, server_main, s, &s->fd);
    cr_assert_eq(qmp_attach_fd(q, p->fd, 2000), 0, "%s", q->err);
}

static void end_session(struct qmp *q, struct fake_peer *p)
{
    qmp_close(q);
    fake_peer_end(p);
}

static const char greeting[] =
    "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, "
    "\"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n";

Test(qmp, session)
{
    struct server s = { .greeting = greeting };
    struct qmp q;
    struct fake_peer p;
    session(&q, &s, &p);
    size_t len;
    cr_assert_not_null(qmp_execute(&q, "stop", NULL, &len), "%s", q.err);
    cr_assert_eq(q.stop_events, 1, "the event before the reply was counted");
    cr_assert_eq(qmp_running(&q), 0);
    char *t = qmp_hmp(&q, "info registers -a");
    cr_assert_not_null(t, "%s", q.err);
    cr_assert_str_eq(t, "CPU#0\r\nCR0=1\r\n");
    free(t);
    cr_assert_null(qmp_execute(&q, "nope", NULL, &len));
    cr_assert_str_eq(q.err, "QMP nope: The command nope has not been found");
    cr_assert_eq(qmp_wait_event(&q, 30), 0);
    end_session(&q, &p);
}

Test(qmp, pipelined_commands)
{
    struct server s = { .greeting = greeting };
    struct qmp q;
    struct fake_peer p;
    session(&q, &s, &p);
    unsigned long stop = qmp_send(&q, "stop", NULL);
    unsigned long status = qmp_send(&q, "query-status", NULL);
    unsigned long regs = qmp_send_hmp(&q, "info registers -a"), nope = qmp_send(&q, "nope", NULL);
    unsigned long after = qmp_send(&q, "query-status", NULL);
    cr_assert(stop && status && regs && nope && after, "%s", q.err);
    cr_assert_eq(qmp_reply_running(&q, status), 0, "the stop's reply was read on the way");
    cr_assert_eq(q.stop_events, 1);
    char *t = qmp_reply_text(&q, regs);
    cr_assert_str_eq(t, "CPU#0\r\nCR0=1\r\n");
    free(t);
    size_t len;
    cr_assert_null(qmp_reply(&q, nope, &len));
    cr_assert_str_eq(q.err, "QMP nope: The command nope has not been found");
    cr_assert_eq(qmp_reply_running(&q, after), 0, "an error reply does not derail the next");
    cr_assert_eq(q.round_trips, 1, "one wait for five commands (and the capabilities)");
    end_session(&q, &p);
}

static void expect_failure(struct server *s, const char *what)
{
    EXPECT_PEER_FAILURE(struct qmp, qmp_attach_fd, server_main, s, &s->fd, what);
}

Test(qmp, bad_peers)
{
    struct server silent = { .mute = true };
    expect_failure(&silent, "no QMP greeting");
    struct server closing = { .close_at_once = true };
    expect_failure(&closing, "closed the connection");
    struct server http = { .greeting = "HTTP/1.0 400 Bad Request\r\n\r\n" };
    expect_failure(&http, "not a QMP greeting");
    struct server gdb = { .greeting = "+$T02thread:01;#04", .mute = true };
    expect_failure(&gdb, "no QMP greeting");
}
