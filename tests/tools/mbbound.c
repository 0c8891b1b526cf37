/* SPDX-License-Identifier: MIT */
/* tests/tools/mbbound.c - the loopback bound for `make bench`: the least a
 * single-threaded Modbus TCP server can do per request on this machine.
 *   mbbound HOST PORT
 * One thread, level-triggered epoll, non-blocking sockets.  Each readiness
 * reads what is there into the connection's buffer, frames every complete
 * MBAP request in it (any chunking, pipelined requests), answers an FC03 read
 * of 1-125 registers from one precomputed register block (anything else:
 * exception 0x01) into an output buffer and writes that once.  No validation
 * beyond the MBAP header, no data model, no timers: bmsgw's request path is
 * measured against this (tests/bench.sh prints the ratio). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MBAP_LEN 7
#define ADU_MAX 260
#define NREGS 125

struct conn {
	int fd;
	uint32_t events;              /* what epoll watches now */
	size_t inlen, outoff, outlen;
	uint8_t in[2048];
	uint8_t out[16384];
};

static uint8_t regs[2 * NREGS];  /* the register block, big-endian */

/* Append the answer to one complete ADU q of length n + 6. */
static void answer(struct conn *c, const uint8_t *q, unsigned n)
{
	uint8_t *a = c->out + c->outlen;
	unsigned count = (unsigned)(q[10] << 8 | q[11]);
	memcpy(a, q, 2); /* transaction id */
	a[2] = a[3] = 0;
	a[6] = q[6];     /* unit id */
	if (q[7] == 3 && n == 6 && count >= 1 && count <= NREGS) {
		unsigned len = 3 + 2 * count;
		a[4] = (uint8_t)(len >> 8);
		a[5] = (uint8_t)len;
		a[7] = 3;
		a[8] = (uint8_t)(2 * count);
		memcpy(a + 9, regs, 2 * count);
		c->outlen += 6 + len;
	} else {
		a[4] = 0;
		a[5] = 3;
		a[7] = (uint8_t)(q[7] | 0x80);
		a[8] = 1;
		c->outlen += 9;
	}
}

/* Answer every complete request while the output has room.  -1: not Modbus TCP. */
static int serve(struct conn *c)
{
	size_t at = 0;
	int rc = 0;
	while (c->inlen - at >= MBAP_LEN) {
		const uint8_t *q = c->in + at;
		unsigned n = (unsigned)(q[4] << 8 | q[5]);
		if (q[2] || q[3] || n < 2 || n + 6 > ADU_MAX) {
			rc = -1;
			break;
		}
		if (c->inlen - at < n + 6 || sizeof(c->out) - c->outlen < ADU_MAX)
			break;
		answer(c, q, n);
		at += n + 6;
	}
	memmove(c->in, c->in + at, c->inlen - at);
	c->inlen -= at;
	return rc;
}

/* Write what is pending.  -1: the connection failed. */
static int flush(struct conn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t w = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
		if (w < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		c->outoff += (size_t)w;
	}
	c->outoff = c->outlen = 0;
	return 0;
}

/* One readiness of a client.  -1: close it. */
static int client_event(int ep, struct conn *c, uint32_t ev)
{
	if ((ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) && c->inlen < sizeof(c->in)) {
		ssize_t r = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
			return -1;
		if (r > 0)
			c->inlen += (size_t)r;
	}
	/* answer, write; again while the output was the limit and drained */
	for (;;) {
		size_t before = c->inlen;
		if (serve(c) < 0 || flush(c) < 0)
			return -1;
		if (c->outlen || c->inlen == before)
			break;
	}
	uint32_t want = (c->inlen < sizeof(c->in) ? EPOLLIN : 0) | (c->outlen ? EPOLLOUT : 0);
	if (want != c->events) {
		struct epoll_event e = { .events = want, .data.ptr = c };
		if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e) < 0)
			return -1;
		c->events = want;
	}
	return 0;
}

static void accept_all(int ep, int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct conn *c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->events = EPOLLIN;
		struct epoll_event e = { .events = EPOLLIN, .data.ptr = c };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0) {
			close(fd);
			free(c);
		}
	}
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: mbbound HOST PORT\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	for (unsigned i = 0; i < NREGS; i++) {
		regs[2 * i] = (uint8_t)(i >> 8);
		regs[2 * i + 1] = (uint8_t)i;
	}
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "mbbound: %s: not an IPv4 address\n", argv[1]);
		return 2;
	}
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 512) < 0) {
		perror("mbbound: listen");
		return 1;
	}
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = NULL };
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &e) < 0) {
		perror("mbbound: epoll");
		return 1;
	}
	struct epoll_event evs[256];
	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1);
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (!c) {
				accept_all(ep, lfd);
			} else if (client_event(ep, c, evs[i].events) < 0) {
				close(c->fd); /* also leaves the epoll set */
				free(c);
			}
		}
	}
}
