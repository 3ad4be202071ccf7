/*
 * sockio.h: the socket plumbing the live-source clients share (gdbrsp.c,
 * qmp.c): connecting to HOST:PORT or a unix socket, sending and receiving
 * on a non-blocking socket, each with a deadline, so that nothing waits
 * for ever on a peer that never answers.
 * Depends on: libc and POSIX sockets only.
 */
#ifndef PTLAB_SOCKIO_H
#define PTLAB_SOCKIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* sockio_now_ms - a monotonic clock in milliseconds (for deadlines). */
long long sockio_now_ms(void);

/*
 * sockio_connect - a non-blocking, close-on-exec socket connected before
 * deadline: to the unix socket at spec when unix_ok and spec names an
 * existing file, else to HOST:PORT (":PORT" and "PORT": localhost;
 * "[V6ADDR]:PORT"; TCP_NODELAY set).
 * @what: how to call the peer in messages ("gdbstub", "QMP socket")
 * returns: the fd; -1 with a message in err.
 */
int sockio_connect(const char *spec, bool unix_ok, long long deadline, const char *what,
                   char *err, size_t errlen);

/* sockio_nonblock - make fd non-blocking (the other functions expect it). returns: 0; -1. */
int sockio_nonblock(int fd);

/*
 * sockio_send - send n bytes before deadline (no SIGPIPE).
 * returns: 0; -1 with errno (ETIMEDOUT when the deadline passed).
 */
int sockio_send(int fd, const void *buf, size_t n, long long deadline);

/*
 * sockio_recv - receive what has arrived (up to cap bytes), waiting until
 * deadline for the first byte.
 * returns: the number of bytes; 0 the peer closed; -1 with errno
 *          (ETIMEDOUT when the deadline passed).
 */
ssize_t sockio_recv(int fd, void *buf, size_t cap, long long deadline);

/*
 * sockio_grow - room for need bytes in the malloc'd buffer *buf of *cap
 * bytes (doubling from 4 KiB).
 * returns: 0; -1 out of memory (the buffer is unchanged).
 */
int sockio_grow(void *buf, size_t *cap, size_t need);

#endif /* PTLAB_SOCKIO_H */
