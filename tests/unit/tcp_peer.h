/* SPDX-License-Identifier: MIT */
/* tests/unit/tcp_peer.h - the BMS end of a test that drives the real
 * gateway over a tcp:// link (the place of a TCP serial server): a socket
 * on the loopback that takes one connection at a time (the next once the
 * gateway closed it) and hands what arrives to the test's take(), which
 * consumes whole requests.  On the test's own libev loop; nothing blocks
 * but the test's writes of a few bytes.  Shared by test_poller.c and
 * test_poll_pieces.c (test_listener.c its listening socket). */
#ifndef TESTS_TCP_PEER_H
#define TESTS_TCP_PEER_H

#include <arpa/inet.h>
#include <ev.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

struct tcp_peer {
	int lfd, fd;               /* listening; the connection (-1: none) */
	ev_io lio, io;
	uint8_t buf[256];          /* what the gateway sent, not yet taken */
	size_t got;
	/* The bytes at buf[0..len) it consumed (whole requests, or garbage
	 * before one); 0: a request is not whole yet. */
	size_t (*take)(const uint8_t *buf, size_t len);
};

/* A listening socket on the loopback: its fd, *port its port. */
static inline int tcp_listen_any(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(fd, 4) == 0 &&
	      getsockname(fd, (struct sockaddr *)&a, &al) == 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static inline void tcp_peer_io(struct ev_loop *l, ev_io *w, int revents)
{
	(void)revents;
	struct tcp_peer *p = w->data;
	ssize_t n = read(p->fd, p->buf + p->got, sizeof(p->buf) - p->got);
	if (n <= 0) { /* the gateway closed the connection: take the next one */
		ev_io_stop(l, w);
		close(p->fd);
		p->fd = -1;
		p->got = 0;
		ev_io_start(l, &p->lio);
		return;
	}
	p->got += (size_t)n;
	size_t k;
	while (p->got && (k = p->take(p->buf, p->got)) > 0) {
		memmove(p->buf, p->buf + k, p->got - k);
		p->got -= k;
	}
}

static inline void tcp_peer_accept(struct ev_loop *l, ev_io *w, int revents)
{
	(void)revents;
	struct tcp_peer *p = w->data;
	int fd = accept(p->lfd, NULL, NULL);
	if (fd < 0)
		return;
	ev_io_stop(l, w);
	p->fd = fd;
	ev_io_init(&p->io, tcp_peer_io, fd, EV_READ);
	p->io.data = p;
	ev_io_start(l, &p->io);
}

/* Listen on a free port of the loopback (returned) for the gateway. */
static inline int tcp_peer_start(struct tcp_peer *p, struct ev_loop *l, size_t (*take)(const uint8_t *, size_t))
{
	int port;
	p->lfd = tcp_listen_any(&port);
	p->fd = -1;
	p->got = 0;
	p->take = take;
	ev_io_init(&p->lio, tcp_peer_accept, p->lfd, EV_READ);
	p->lio.data = p;
	ev_io_start(l, &p->lio);
	return port;
}

static inline void tcp_peer_send(struct tcp_peer *p, const uint8_t *b, size_t n)
{
	CHECK(write(p->fd, b, n) == (ssize_t)n);
}

static inline void tcp_peer_close(struct tcp_peer *p)
{
	if (p->fd >= 0)
		close(p->fd);
	close(p->lfd);
}

#endif
