/*
 * ptlab_fake_peer.h: the fake peers of the unit tests of ptlab's live-source
 * clients (test_ptlab_gdbrsp.c, test_ptlab_qmp.c): one end of a socketpair
 * for the client, the other served by a thread, and the check of a session
 * that must fail (with a message, the client closed, within its deadline).
 * Dependencies: Criterion, pthreads.
 */
#ifndef PTLAB_FAKE_PEER_H
#define PTLAB_FAKE_PEER_H

#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>

struct fake_peer {
    pthread_t thread;
    int fd;                 /* the client's end */
};

/*
 * fake_peer_start - a connected socketpair: *peer_fd gets the far end, then
 * serve(arg) runs in a thread (it closes *peer_fd when done); p->fd is the
 * client's end.
 */
static inline void fake_peer_start(struct fake_peer *p, void *(*serve)(void *), void *arg,
                                   int *peer_fd)
{
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    *peer_fd = sv[1];
    p->fd = sv[0];
    cr_assert_eq(pthread_create(&p->thread, NULL, serve, arg), 0);
}

/* fake_peer_end - wait for the serving thread (the client closed first). */
static inline void fake_peer_end(struct fake_peer *p)
{
    pthread_join(p->thread, NULL);
}

/*
 * EXPECT_PEER_FAILURE - a client of type T attached (attach(&c, fd, 300 ms))
 * to a peer serving serve(arg), whose far end is *peer_fd, must fail saying
 * `what`, and be closed (c.fd == -1).
 */
#define EXPECT_PEER_FAILURE(T, attach, serve, arg, peer_fd, what) do {                     \
        T c_;                                                                               \
        struct fake_peer p_;                                                                \
        fake_peer_start(&p_, serve, arg, peer_fd);                                          \
        cr_assert_eq(attach(&c_, p_.fd, 300), -1);                                          \
        cr_assert(strstr(c_.err, what), "'%s' does not say '%s'", c_.err, what);            \
        cr_assert_eq(c_.fd, -1);                                                            \
        fake_peer_end(&p_);                                                                 \
    } while (0)

#endif /* PTLAB_FAKE_PEER_H */
