/*
 * qmp.h: a client of QEMU's machine protocol (QMP), as much of it as ptlab
 * needs to read a running QEMU whose guest RAM it maps from a shared file:
 * the greeting and qmp_capabilities, commands and their replies (matched
 * by id; events in between are recorded), human-monitor-command, the run
 * state (query-status, stop, cont, the STOP and RESUME events); and the
 * readers of two monitor texts that the gdbstub source uses as well:
 * `info mtree -f` (which guest-physical range is which RAM block at which
 * offset) and `info registers -a` (each vCPU's control registers).
 *
 * Every wait has a deadline (qmp.timeout_ms per reply): a socket that
 * never answers, closes or sends garbage gives a message in qmp.err, never
 * a hang. The JSON reader takes only what QMP sends and bounds-checks all.
 * Depends on: libc and POSIX sockets only.
 */
#ifndef PTLAB_QMP_H
#define PTLAB_QMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QMP_TIMEOUT_MS  5000

/* Longest QMP message accepted (bytes of one line). */
#define QMP_MAX_LINE    (16u << 20)

/*
 * struct qmp - one QMP connection.
 * stop_events, resume_events  STOP / RESUME events seen (the guest was
 *              stopped / resumed by someone: us, the monitor, a gdbstub)
 * shutdown     a SHUTDOWN event was seen: QEMU is going away
 * round_trips  waits for replies, each after one or more commands sent
 */
#define QMP_PENDING     16      /* requests in flight at most */

struct qmp {
    int fd;
    int timeout_ms;
    unsigned long next_id;          /* the id of the last request sent */
    unsigned long answered;         /* the id of the last reply read */
    char names[QMP_PENDING][32];    /* the commands in flight, by id, for messages */
    bool waited;                    /* replies were awaited since the last send */
    unsigned stop_events, resume_events;
    bool shutdown;
    unsigned long round_trips;
    char err[256];
    char *in;                   /* bytes received, [in_pos, in_len) unparsed */
    size_t in_pos, in_len, in_cap;
    char *msg;                  /* the last message (one line), NUL-terminated */
    size_t msg_len;
};

/*
 * qmp_connect - connect to the QMP socket at path (a unix socket; "HOST:PORT"
 * when no such file exists: TCP) within timeout_ms, read the greeting and
 * leave capabilities negotiation (qmp_capabilities is sent at once; its
 * reply is read with the next reply). q needs no initialising; on failure
 * it is closed.
 * returns: 0; -1 with the reason in q->err.
 */
int qmp_connect(struct qmp *q, const char *path, int timeout_ms);

/* qmp_attach_fd - what qmp_connect does after connecting, over fd (owned by q). */
int qmp_attach_fd(struct qmp *q, int fd, int timeout_ms);

/* qmp_close - close and free; safe twice. */
void qmp_close(struct qmp *q);

/*
 * qmp_send - send command with arguments (a JSON object's text, or NULL)
 * without waiting: several can be in flight (QMP_PENDING at most); QEMU
 * runs them in order and replies in order.
 * returns: the request's id for qmp_reply; 0 with q->err set.
 */
unsigned long qmp_send(struct qmp *q, const char *command, const char *arguments);

/*
 * qmp_reply - wait for the reply to request id, reading (and checking) the
 * replies of the requests sent before it; events met are counted.
 * returns: as qmp_execute (id 0, a failed send: NULL, q->err as the send left it).
 */
const char *qmp_reply(struct qmp *q, unsigned long id, size_t *len);

/* qmp_send_hmp - qmp_send of human-monitor-command with command_line. returns: the id; 0. */
unsigned long qmp_send_hmp(struct qmp *q, const char *command_line);

/* qmp_reply_text - the output of the human-monitor-command id (malloc'd); NULL, q->err. */
char *qmp_reply_text(struct qmp *q, unsigned long id);

/* qmp_reply_running - the reply to query-status id: 1 running; 0 not; -1, q->err. */
int qmp_reply_running(struct qmp *q, unsigned long id);

/*
 * qmp_execute - run command with arguments (a JSON object's text, or NULL)
 * and wait for its reply (qmp_send then qmp_reply).
 * returns: the text of the reply's "return" value (inside q->msg, not
 *          NUL-terminated: its length in *len), valid until the next call;
 *          NULL with q->err set (an "error" reply: its class and desc).
 */
const char *qmp_execute(struct qmp *q, const char *command, const char *arguments, size_t *len);

/*
 * qmp_hmp - a human monitor command through human-monitor-command.
 * returns: its output (malloc'd, NUL-terminated); NULL with q->err set.
 */
char *qmp_hmp(struct qmp *q, const char *command_line);

/*
 * qmp_running - query-status. returns: 1 running; 0 not; -1 with q->err set.
 */
int qmp_running(struct qmp *q);

/*
 * qmp_wait_event - wait up to ms milliseconds for an event; the counters
 * of struct qmp say which.
 * returns: 1 an event arrived; 0 none; -1 with q->err set.
 */
int qmp_wait_event(struct qmp *q, int ms);

/* ---- the JSON reader (exported for the tests) ---- */

/*
 * qmp_json_member - the value of member key of the JSON object [p, end).
 * returns: true with [*v, *vend) the value's text; false if absent or p is
 *          not a well-formed object.
 */
bool qmp_json_member(const char *p, const char *end, const char *key, const char **v,
                     const char **vend);

/*
 * qmp_json_string - decode the JSON string [p, end) into a malloc'd UTF-8
 * string (\u escapes included).
 * returns: the string (its length in *len if len); NULL if malformed or out of memory.
 */
char *qmp_json_string(const char *p, const char *end, size_t *len);

/*
 * qmp_json_next - the next element of a JSON array: start with *p at '['.
 * returns: true with [*v, *vend) the element and *p past it; false at the
 *          end (or malformed).
 */
bool qmp_json_next(const char **p, const char *end, const char **v, const char **vend);

/* ---- monitor texts ---- */

/*
 * struct qmp_ram - one range of the system memory's flat view.
 * start, end   guest-physical [start, end)
 * offset       where start lies inside the region named name
 * ram          a RAM or ROM range (QEMU's "ram", "rom", "ramd", "romd")
 */
struct qmp_ram {
    uint64_t start, end, offset;
    bool ram;
    char name[64];
};

/*
 * qmp_parse_mtree - the ranges of `info mtree -f`'s flat view of the
 * address space "memory" (the system memory every vCPU sees outside SMM),
 * in its order; lines of other flat views are not read.
 * returns: the number of ranges (at most max are stored); -1 if the text
 *          holds no flat view of "memory".
 */
int qmp_parse_mtree(const char *text, struct qmp_ram *out, size_t max);

/*
 * struct qmp_regs - one vCPU's registers from `info registers -a`.
 * have         the fields found: QMP_HAVE_CR (CR0, CR2, CR3, CR4),
 *              QMP_HAVE_EFER, QMP_HAVE_RIP (RIP or EIP, RSP or ESP, RFL or EFL)
 */
struct qmp_regs {
    unsigned index;
    unsigned have;
    uint64_t cr0, cr2, cr3, cr4, efer, rip, rsp, rflags;
};

#define QMP_HAVE_CR     1u
#define QMP_HAVE_EFER   2u
#define QMP_HAVE_RIP    4u

/*
 * qmp_parse_registers - each "CPU#N" block of `info registers -a` (a
 * single block without the header counts as CPU#0).
 * returns: the number of vCPUs (at most max are stored).
 */
int qmp_parse_registers(const char *text, struct qmp_regs *out, size_t max);

#endif /* PTLAB_QMP_H */
