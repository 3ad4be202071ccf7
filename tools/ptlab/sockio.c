/*
 * sockio.c: sockets with deadlines for the live-source clients (see sockio.h).
 * Depends on: sockio.h, libc, POSIX sockets.
 */
#include "sockio.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

long long sockio_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* wait_fd - poll fd for events until deadline. returns: 1 ready; 0 the deadline passed. */
static int wait_fd(int fd, short events, long long deadline)
{
    for (;;) {
        long long left = deadline - sockio_now_ms();
        struct pollfd p = { .fd = fd, .events = events };
        if (left <= 0)
            return 0;
        int r = poll(&p, 1, left > 1000000 ? 1000000 : (int)left);
        if (r > 0)
            return 1;
        if (r < 0 && errno != EINTR)
            return 1;               /* let the next call report the error */
    }
}

/* connect_addr - connect a new socket to addr before deadline. returns: fd; -1 (errno). */
static int connect_addr(int family, const struct sockaddr *addr, socklen_t len,
                        long long deadline)
{
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int e = 0;
    if (connect(fd, addr, len) < 0) {
        e = errno;
        socklen_t el = sizeof(e);
        if (e == EINPROGRESS || e == EAGAIN) {
            if (!wait_fd(fd, POLLOUT, deadline))
                e = ETIMEDOUT;
            else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0)
                e = errno;
        }
    }
    if (e) {
        close(fd);
        errno = e;
        return -1;
    }
    if (family != AF_UNIX) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    return fd;
}

/* split_hostport - "HOST:PORT", ":PORT", "PORT", "[V6]:PORT". returns: 0; -1. */
static int split_hostport(const char *s, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *colon = strrchr(s, ':');
    const char *h = s, *hend = colon ? colon : s;
    const char *p = colon ? colon + 1 : s;
    if (*h == '[') {
        const char *rb = strchr(h, ']');
        if (!rb || rb + 1 != colon)
            return -1;
        h++;
        hend = rb;
    }
    size_t hl = (size_t)(hend - h), pl = strlen(p);
    if (hl >= hostlen || pl == 0 || pl >= portlen || strspn(p, "0123456789") != pl)
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    if (hl == 0)
        snprintf(host, hostlen, "localhost");
    memcpy(port, p, pl + 1);
    return 0;
}

static int connect_unix(const char *path, long long deadline, const char *what, char *err,
                        size_t errlen)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(sun.sun_path)) {
        snprintf(err, errlen, "%s: path too long for a unix socket", path);
        return -1;
    }
    strcpy(sun.sun_path, path);
    int fd = connect_addr(AF_UNIX, (const struct sockaddr *)&sun, sizeof(sun), deadline);
    if (fd < 0 && (errno == ECONNREFUSED || errno == ENOTSOCK))
        snprintf(err, errlen, "%s: no %s listens there (%s)", path, what,
                 errno == ENOTSOCK ? "not a socket" : "QEMU exited?");
    else if (fd < 0)
        snprintf(err, errlen, "%s: cannot connect: %s", path, strerror(errno));
    return fd;
}

/* The candidate addresses of a TCP host, in the order to try them. */
struct tcp_addrs {
    int n;
    struct sockaddr_storage a[8];
    socklen_t len[8];
};

static void add_addr(struct tcp_addrs *t, const void *sa, socklen_t len)
{
    if (t->n < (int)(sizeof(t->a) / sizeof(t->a[0])) && len <= sizeof(t->a[0])) {
        memcpy(&t->a[t->n], sa, len);
        t->len[t->n++] = len;
    }
}

/*
 * numeric_addrs - a numeric IPv4 or IPv6 host, or "localhost" (127.0.0.1 then ::1), into t
 * without the resolver: build/ptlab is linked statically, and static glibc's getaddrinfo
 * needs the shared NSS modules at run time. returns: true if host was one of those.
 */
static bool numeric_addrs(const char *host, unsigned port, struct tcp_addrs *t)
{
    struct sockaddr_in v4 = { .sin_family = AF_INET, .sin_port = htons(port) };
    struct sockaddr_in6 v6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
    bool local = strcmp(host, "localhost") == 0;
    if (local || inet_pton(AF_INET, host, &v4.sin_addr) == 1) {
        if (local)
            v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        add_addr(t, &v4, sizeof(v4));
    }
    if (local || (t->n == 0 && inet_pton(AF_INET6, host, &v6.sin6_addr) == 1)) {
        if (local)
            v6.sin6_addr = in6addr_loopback;
        add_addr(t, &v6, sizeof(v6));
    }
    return t->n > 0;
}

/* resolve_tcp - the addresses of host:port: numeric_addrs, else getaddrinfo. returns: 0; -1. */
static int resolve_tcp(const char *host, const char *port, struct tcp_addrs *t, char *err,
                       size_t errlen)
{
    t->n = 0;
    unsigned long pn = strtoul(port, NULL, 10);
    if (pn > 65535) {
        snprintf(err, errlen, "%s: port out of range", port);
        return -1;
    }
    if (numeric_addrs(host, (unsigned)pn, t))
        return 0;
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res;
    int e = getaddrinfo(host, port, &hints, &res);
    if (e) {
        snprintf(err, errlen, "%s: %s", host, gai_strerror(e));
        return -1;
    }
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
        add_addr(t, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(res);
    return 0;
}

int sockio_connect(const char *spec, bool unix_ok, long long deadline, const char *what,
                   char *err, size_t errlen)
{
    struct stat st;
    if (unix_ok && (strchr(spec, '/') || stat(spec, &st) == 0))
        return connect_unix(spec, deadline, what, err, errlen);
    char host[256], port[16];
    if (split_hostport(spec, host, sizeof(host), port, sizeof(port))) {
        snprintf(err, errlen, "'%s' is not HOST:PORT%s", spec, unix_ok ? " nor a socket" : "");
        return -1;
    }
    struct tcp_addrs t;
    if (resolve_tcp(host, port, &t, err, errlen))
        return -1;
    int fd = -1, e = ECONNREFUSED;
    for (int i = 0; i < t.n && fd < 0; i++) {
        fd = connect_addr(t.a[i].ss_family, (const struct sockaddr *)&t.a[i], t.len[i],
                          deadline);
        if (fd < 0)
            e = errno;
    }
    if (fd < 0 && e == ECONNREFUSED)
        snprintf(err, errlen, "%s:%s: connection refused: no %s listens there", host, port,
                 what);
    else if (fd < 0)
        snprintf(err, errlen, "%s:%s: cannot connect: %s", host, port, strerror(e));
    return fd;
}

int sockio_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -1 : 0;
}

int sockio_send(int fd, const void *buf, size_t n, long long deadline)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = send(fd, (const char *)buf + done, n - done, MSG_NOSIGNAL);
        if (w > 0) {
            done += (size_t)w;
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return -1;
        if (!wait_fd(fd, POLLOUT, deadline)) {
            errno = ETIMEDOUT;
            return -1;
        }
    }
    return 0;
}

ssize_t sockio_recv(int fd, void *buf, size_t cap, long long deadline)
{
    for (;;) {
        ssize_t r = recv(fd, buf, cap, 0);
        if (r >= 0)
            return r;
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return -1;
        if (!wait_fd(fd, POLLIN, deadline)) {
            errno = ETIMEDOUT;
            return -1;
        }
    }
}

int sockio_grow(void *buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 4096;
    while (c < need)
        c *= 2;
    void *p = realloc(*(void **)buf, c);
    if (!p)
        return -1;
    *(void **)buf = p;
    *cap = c;
    return 0;
}
