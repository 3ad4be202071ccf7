/*
 * gdbrsp.h: a client of the GDB remote serial protocol, as much of it as
 * ptlab needs to read a running QEMU through its gdbstub (`-s`,
 * `-gdb tcp::PORT`): packets with checksums, acknowledgements (or no-ack
 * mode when the stub offers it), run-length and binary-escape decoding,
 * qSupported and PacketSize, the target description (qXfer target.xml and
 * the files it includes) with registers found by name, threads (QEMU: one
 * per vCPU), QEMU's physical-memory mode, memory reads batched and
 * pipelined within the stub's packet limit, monitor commands (qRcmd), and
 * the run control a reader needs (interrupt, continue, detach).
 *
 * Every wait has a deadline (gdb_rsp.timeout_ms per reply): a port that
 * never answers, closes, or sends garbage gives an error message in
 * gdb_rsp.err, never a hang. Nothing here knows about page tables.
 * Depends on: libc and POSIX sockets only.
 */
#ifndef PTLAB_GDBRSP_H
#define PTLAB_GDBRSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Default deadline of one reply, in milliseconds. */
#define GDB_RSP_TIMEOUT_MS  5000

/* Requests in flight at once in a pipelined batch. */
#define GDB_RSP_WINDOW      64

/* Longest packet accepted from the stub (bytes between '$' and '#'). */
#define GDB_RSP_MAX_PACKET  (1u << 20)

/*
 * struct gdb_rsp - one connection to a stub.
 * fd               the socket (-1: closed)
 * timeout_ms       deadline of each reply
 * noack            no-ack mode is on (QStartNoAckMode accepted)
 * packet_size      the stub's PacketSize: most data bytes in a packet
 * mem_max          most bytes one `m` request asks for (a power of two, at
 *                  most 4096; halved when the stub refuses a size)
 * features         the stub serves qXfer:features:read (target.xml)
 * stopped_at_connect  the stub reported a stop when we connected: the
 *                  guest was running and the connection stopped it
 * running          we let the guest run (continue) and it has not stopped
 * stops            stop replies seen since the last gdb_rsp_pause
 * round_trips      request batches whose replies were waited for
 * packets          packets sent
 * err              the last failure, one line
 */
struct gdb_rsp {
    int fd;
    int timeout_ms;
    bool noack;
    size_t packet_size;
    size_t mem_max;
    bool features;
    bool phys_checked, phys_supported;  /* qqemu.Supported asked; it lists PhyMemMode */
    bool waited;                    /* replies awaited since the last request queued */
    bool stopped_at_connect;
    bool running;
    unsigned stops;
    unsigned long round_trips, packets;
    unsigned long stray;            /* bytes received outside packets (not '+') */
    char err[256];
    /* input: raw bytes received and not yet parsed, [in_pos, in_len) */
    uint8_t *in;
    size_t in_pos, in_len, in_cap;
    /* the last packet received, decoded, NUL-terminated */
    char *pkt;
    size_t pkt_len, pkt_cap;
    /* output: bytes to send */
    char *out;
    size_t out_len, out_cap;
};

/*
 * gdb_rsp_connect - connect to HOST:PORT (":PORT" and "PORT" mean
 * localhost; "[V6ADDR]:PORT" for IPv6) within timeout_ms, and greet the
 * stub (qSupported): packet size, features, no-ack mode when offered.
 * g needs no initialising; on failure it is left closed.
 * returns: 0; -1 with the reason in g->err.
 */
int gdb_rsp_connect(struct gdb_rsp *g, const char *hostport, int timeout_ms);

/*
 * gdb_rsp_attach_fd - greet a stub over an already connected socket fd
 * (owned by g from now on): what gdb_rsp_connect does after connecting.
 * returns: 0; -1 with the reason in g->err (fd closed).
 */
int gdb_rsp_attach_fd(struct gdb_rsp *g, int fd, int timeout_ms);

/* gdb_rsp_close - close the socket and free the buffers; safe twice. */
void gdb_rsp_close(struct gdb_rsp *g);

/*
 * gdb_rsp_queue - queue one request (printf format), sent with the next
 * wait: requests queued together travel together (pipelined), and their
 * replies come back in order, each read with gdb_rsp_reply.
 * returns: 0; -1 with g->err set.
 */
int gdb_rsp_queue(struct gdb_rsp *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * gdb_rsp_reply - send what is queued and wait for the next reply,
 * skipping stop notifications (counted in g->stops). The first wait after
 * sending counts one round trip.
 * returns: as gdb_rsp_request.
 */
const char *gdb_rsp_reply(struct gdb_rsp *g);

/*
 * gdb_rsp_request - send one packet (printf format) and wait for its reply,
 * skipping stop notifications (counted in g->stops).
 * returns: the reply, NUL-terminated, valid until the next call on g (its
 *          length in g->pkt_len); NULL with g->err set (the connection
 *          failed, closed, timed out, or sent garbage).
 */
const char *gdb_rsp_request(struct gdb_rsp *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * gdb_rsp_decode - decode one packet's data as received between '$' and
 * '#': binary escapes ('}' then the byte xor 0x20) and run-length encoding
 * ('*' then a count byte n: the previous byte n - 29 more times).
 * @out: room for outcap bytes
 * returns: the decoded length; -1 if malformed or longer than outcap.
 */
long gdb_rsp_decode(const char *data, size_t len, char *out, size_t outcap);

/* gdb_rsp_checksum - the modulo-256 sum of the bytes: a packet's checksum. */
uint8_t gdb_rsp_checksum(const char *data, size_t len);

/*
 * struct gdb_reg - a register to find in the target description by name.
 * name     as the XML names it ("cr3")
 * regnum   filled in: its number for `p` (-1: not found)
 * bitsize  filled in: its size in bits
 */
struct gdb_reg {
    const char *name;
    int regnum;
    unsigned bitsize;
};

/*
 * gdb_rsp_find_regs - read the target description (qXfer
 * features:read target.xml and every file it includes, in document order)
 * and number its registers as gdb does: in order of appearance, a regnum
 * attribute setting the number of its register and of those after it.
 * Fills regnum and bitsize of each of regs[0..n).
 * returns: 0 (registers not described keep regnum -1); -1 with g->err set
 *          (no target description, or a malformed one).
 */
int gdb_rsp_find_regs(struct gdb_rsp *g, struct gdb_reg *regs, size_t n);

/*
 * gdb_rsp_parse_regs - the numbering of gdb_rsp_find_regs over one XML
 * document held in memory; includes are reported through include(arg,
 * href) which parses them in turn (NULL: includes are ignored).
 * *next is the number the next register gets (start with 0).
 * returns: 0; -1 if the document is malformed (an unterminated tag or
 *          comment) or include failed.
 */
int gdb_rsp_parse_regs(const char *xml, size_t len, struct gdb_reg *regs, size_t n, int *next,
                       int (*include)(void *arg, const char *href), void *arg);

/*
 * gdb_rsp_threads - the stub's thread ids (qfThreadInfo / qsThreadInfo),
 * in its order; QEMU has one thread per vCPU. ids[i] holds up to 31 chars.
 * returns: the number of threads (at most max); -1 with g->err set.
 */
int gdb_rsp_threads(struct gdb_rsp *g, char (*ids)[32], size_t max);

/*
 * gdb_rsp_read_regs - registers of several threads in one round trip:
 * for each thread, `Hg` then `p` for each register of regs (found by
 * gdb_rsp_find_regs; at most 64 bits each), pipelined.
 * @values: nthreads * nregs values, thread-major
 * returns: 0; -1 with g->err set (a register the stub cannot read).
 */
int gdb_rsp_read_regs(struct gdb_rsp *g, char (*ids)[32], size_t nthreads,
                      const struct gdb_reg *regs, size_t nregs, uint64_t *values);

/* gdb_rsp_queue_regs, gdb_rsp_regs_replies - the two halves of gdb_rsp_read_regs. */
int gdb_rsp_queue_regs(struct gdb_rsp *g, char (*ids)[32], size_t nthreads,
                       const struct gdb_reg *regs, size_t nregs);
int gdb_rsp_regs_replies(struct gdb_rsp *g, char (*ids)[32], size_t nthreads,
                         const struct gdb_reg *regs, size_t nregs, uint64_t *values);

/*
 * gdb_rsp_phys_mode - QEMU's physical-memory mode for `m`: reads the
 * current setting into *was (when was is not NULL) and sets it to on, in
 * one round trip (the first call also asks qqemu.Supported).
 * returns: 0; 1 if the stub has no such mode (qqemu.Supported does not
 *          list PhyMemMode); -1 with g->err set.
 */
int gdb_rsp_phys_mode(struct gdb_rsp *g, bool on, bool *was);

/*
 * gdb_rsp_read_pages - read n whole 4 KiB pages (addr[i] page-aligned) into
 * bufs[i], pipelined: each page as 4096 / mem_max `m` requests, up to
 * GDB_RSP_WINDOW in flight. One round trip for the whole batch (if the
 * stub refuses the request size, mem_max is halved and the batch read
 * again).
 * returns: 0; -1 with g->err set (on an error reply the address is named).
 */
int gdb_rsp_read_pages(struct gdb_rsp *g, const uint64_t *addr, size_t n, uint8_t *const *bufs);

/*
 * gdb_rsp_monitor - run a monitor command (qRcmd) and collect its output.
 * returns: the output (malloc'd, NUL-terminated: the caller frees it); NULL
 *          with g->err set (unsupported, refused, or the connection failed).
 */
char *gdb_rsp_monitor(struct gdb_rsp *g, const char *cmd);

/*
 * gdb_rsp_continue - let the guest run (`c`): no reply until it stops.
 * From now on no byte may be sent but to stop it (gdb_rsp_pause).
 * returns: 0; -1 with g->err set.
 */
int gdb_rsp_continue(struct gdb_rsp *g);

/*
 * gdb_rsp_pause - stop the guest if it runs (an interrupt byte, then `qC`
 * to know when the stub has handled it); g->stops counts the stop replies
 * seen, so 0 means the guest was already stopped.
 * returns: 0; -1 with g->err set.
 */
int gdb_rsp_pause(struct gdb_rsp *g);

/* gdb_rsp_queue_pause - the requests of gdb_rsp_pause, queued: the first reply read
 * after it is qC's. returns: 0; -1. */
int gdb_rsp_queue_pause(struct gdb_rsp *g);

/*
 * gdb_rsp_wait_stop - while the guest runs, wait up to ms milliseconds for
 * the stub to report that it stopped (someone else stopped it).
 * returns: 1 stopped (g->running false); 0 still running after ms; -1 with
 *          g->err set.
 */
int gdb_rsp_wait_stop(struct gdb_rsp *g, int ms);

/*
 * gdb_rsp_detach - detach (`D`): QEMU lets the guest run.
 * returns: 0; -1 with g->err set.
 */
int gdb_rsp_detach(struct gdb_rsp *g);

#endif /* PTLAB_GDBRSP_H */
