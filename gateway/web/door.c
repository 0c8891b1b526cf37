/* SPDX-License-Identifier: MIT */
/* gateway/web/door.c - the HTTPS server's listening socket (http_int.h).
 *
 * With tls_cert the page's port speaks TLS, and a browser that still has
 * the old http:// address (a tab open when the setup's first admin turned
 * the server to HTTPS, a bookmark) would get a broken connection: a TLS
 * server reads "GET / HTTP/1.1" as a bad handshake and hangs up.  So bmsgw
 * accepts on the socket itself, as nginx answers plain HTTP on an SSL port
 * (its 497): the first byte a connection sends tells which it is.  0x16, a
 * TLS handshake record, and the connection goes to libmicrohttpd
 * (MHD_add_connection(), the byte left unread); anything else is plain
 * HTTP, its head read (at most GW_PLAIN_HEAD_MAX bytes) and answered by
 * plainreq.c: a redirect to the same address over HTTPS (301, 308), or the
 * gate's refusal (400, 421), and the connection closed.
 *
 * Nothing here waits: every socket is non-blocking, watched by an ev_io,
 * each connection's time bounded by a timer.  A connection held here
 * counts as any other against the server's limits (httpconn.c, conns.h):
 * [http] clients, a quarter of max_clients from one address, max_clients
 * and the one beyond it, after which the listening socket is left alone
 * (the kernel's backlog holds the rest) until one closes.  A connection
 * here is never busy: when the server is full it gives way as an idle one
 * does (its socket shut), after its grace.  The first byte and a plain
 * request's whole head must come within DOOR_WAIT s of the accept (fewer,
 * the idle time, when the server is over half full), else the connection
 * is closed without a word, as libmicrohttpd closes one idle: a client
 * that sends nothing, or a byte at a time, holds a place only so long.
 * An answer sent, the connection is half closed and what the client still
 * sends (a POST's body) read and dropped for DOOR_LINGER s at most, so
 * that the answer is not lost to a reset. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../core/acceptor.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/util.h"
#include "../model/gw.h"
#include "http_int.h"
#include "ingress.h"
#include "plainreq.h"

#define DOOR_WAIT 10.0                 /* s for the first byte, and a plain request's head */
#define DOOR_LINGER 2.0                /* s an answered connection's bytes are read and dropped */
#define DOOR_DRAIN_MAX (64 * 1024)     /* ... bytes at most */
#define DOOR_BATCH 16                  /* connections accepted a turn */
#define TLS_HANDSHAKE 0x16             /* the first byte of a TLS record of a handshake */

enum door_state { DC_PEEK, DC_HEAD, DC_SEND, DC_LINGER };

struct door_conn {
	struct gw_conn c;              /* in h->conns (con NULL, fd its socket) */
	struct gw_http *h;
	struct door_conn *next, *prev; /* in h->doors */
	enum door_state st;
	ev_io io;
	ev_timer timer;
	char *buf;                     /* the head read (DC_HEAD), the answer (DC_SEND) */
	size_t len, off;               /* its bytes; of the answer, those sent */
	size_t drained;                /* bytes read and dropped after the answer */
};

/* dc out of the server's lists and freed; its socket closed (close), or
 * handed on. */
static void drop(struct door_conn *dc, bool close_it)
{
	struct gw_http *h = dc->h;
	struct ev_loop *loop = h->gw->loop;
	ev_io_stop(loop, &dc->io);
	ev_timer_stop(loop, &dc->timer);
	if (dc->prev)
		dc->prev->next = dc->next;
	else
		h->doors = dc->next;
	if (dc->next)
		dc->next->prev = dc->prev;
	gw_conns_remove(&h->conns, &dc->c);
	if (close_it)
		close(dc->c.fd);
	free(dc->buf);
	free(dc);
	http_room_check(h);
}

/* Watch dc's socket for ev (EV_READ, EV_WRITE). */
static void watch(struct door_conn *dc, int ev)
{
	struct ev_loop *loop = dc->h->gw->loop;
	ev_io_stop(loop, &dc->io);
	ev_io_set(&dc->io, dc->c.fd, ev);
	ev_io_start(loop, &dc->io);
}

/* A TLS handshake: the connection is libmicrohttpd's from now on, its
 * first byte still to be read. */
static void hand_over(struct door_conn *dc)
{
	struct gw_http *h = dc->h;
	int fd = dc->c.fd;
	struct sockaddr_storage peer = dc->c.addr;
	double since = dc->c.idle_since;
	drop(dc, false);
	h->handoff_since = since;
	if (MHD_add_connection(h->d, fd, (const struct sockaddr *)&peer, http_peer_len((const struct sockaddr *)&peer)) !=
	    MHD_YES)
		gw_debug("http: a TLS connection not taken by libmicrohttpd (%s)", strerror(errno)); /* it closed it */
	h->handoff_since = 0;
	http_run(h);
}

/* The answer in dc->buf written, as far as the socket takes it; then the
 * connection half closed and drained. */
static void send_answer(struct door_conn *dc)
{
	while (dc->off < dc->len) {
		ssize_t n = send(dc->c.fd, dc->buf + dc->off, dc->len - dc->off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			watch(dc, EV_WRITE);
			return;
		}
		if (n <= 0) {
			drop(dc, true);
			return;
		}
		dc->off += (size_t)n;
	}
	shutdown(dc->c.fd, SHUT_WR);
	dc->st = DC_LINGER;
	ev_timer_stop(dc->h->gw->loop, &dc->timer);
	ev_timer_set(&dc->timer, DOOR_LINGER, 0.);
	ev_timer_start(dc->h->gw->loop, &dc->timer);
	watch(dc, EV_READ);
}

/* The head read so far answered (whole: it ended, or is malformed; else
 * it did not fit). */
static void answer(struct door_conn *dc, const struct gw_plain_head *ph, bool whole)
{
	struct gw_http *h = dc->h;
	char date[64], shown[80], addr[64];
	time_t now = time(NULL);
	struct tm tm;
	if (!gmtime_r(&now, &tm) || !strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm))
		date[0] = '\0';
	char *out = malloc(GW_PLAIN_ANSWER_MAX);
	if (!out) {
		drop(dc, true);
		return;
	}
	size_t len = 0;
	int status = gw_plain_answer(ph, whole, &h->hosts, date[0] ? date : NULL, out, GW_PLAIN_ANSWER_MAX, &len,
				     shown);
	gw_peer_host((const struct sockaddr *)&dc->c.addr, addr, sizeof(addr));
	if (status == 421)
		http_misdirected(h, addr, shown);
	else if (status == 301 || status == 308)
		h->redirected++;
	gw_debug("http: plain HTTP from %s on the HTTPS port: %d", addr, status);
	free(dc->buf);
	dc->buf = out;
	dc->len = len;
	dc->off = 0;
	dc->st = DC_SEND;
	send_answer(dc);
}

/* A plain request's head: read as far as it came, answered once whole. */
static void read_head(struct door_conn *dc)
{
	for (;;) {
		ssize_t n = recv(dc->c.fd, dc->buf + dc->len, GW_PLAIN_HEAD_MAX - dc->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) { /* it left (or gave way) before its head ended */
			drop(dc, true);
			return;
		}
		dc->len += (size_t)n;
		if (dc->len == GW_PLAIN_HEAD_MAX)
			break;
	}
	struct gw_plain_head ph;
	if (gw_plain_parse(dc->buf, dc->len, &ph))
		answer(dc, &ph, true);
	else if (dc->len == GW_PLAIN_HEAD_MAX)
		answer(dc, &ph, false);
}

/* The first byte: a TLS handshake, or plain HTTP. */
static void peek(struct door_conn *dc)
{
	unsigned char b;
	ssize_t n = recv(dc->c.fd, &b, 1, MSG_PEEK);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		drop(dc, true);
		return;
	}
	if (b == TLS_HANDSHAKE) {
		if (dc->c.going)
			drop(dc, true); /* it gave way (its socket shut) before its handshake came */
		else
			hand_over(dc);
		return;
	}
	if (!(dc->buf = malloc(GW_PLAIN_HEAD_MAX))) {
		drop(dc, true);
		return;
	}
	dc->st = DC_HEAD;
	read_head(dc);
}

/* After the answer: the client's bytes dropped until it closes. */
static void drain(struct door_conn *dc)
{
	char sink[4096];
	for (;;) {
		ssize_t n = recv(dc->c.fd, sink, sizeof(sink), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0 || (dc->drained += (size_t)n) > DOOR_DRAIN_MAX) {
			drop(dc, true);
			return;
		}
	}
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	struct door_conn *dc = container_of(w, struct door_conn, io);
	switch (dc->st) {
	case DC_PEEK:
		peek(dc);
		break;
	case DC_HEAD:
		read_head(dc);
		break;
	case DC_SEND:
		send_answer(dc);
		break;
	case DC_LINGER:
		drain(dc);
		break;
	}
}

/* Its time is over: no first byte, no whole head, the answer not taken, or
 * its linger ended. */
static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	drop(container_of(w, struct door_conn, timer), true);
}

/* A connection accepted: judged as libmicrohttpd's would be (httpconn.c),
 * then held until its first byte. */
static void on_accept(void *arg, int fd, const struct sockaddr_storage *peer)
{
	struct gw_http *h = arg;
	const struct sockaddr *sa = (const struct sockaddr *)peer;
	if (h->stopping || http_on_accept(h, sa, http_peer_len(sa)) != MHD_YES) {
		close(fd);
		return;
	}
	struct door_conn *dc = calloc(1, sizeof(*dc));
	if (!dc) {
		close(fd);
		return;
	}
	dc->h = h;
	dc->c.fd = fd;
	dc->c.proxy = h->cfg.ingress && gw_ingress_proxy_peer(sa, http_peer_len(sa));
	double wait = http_idle_secs(h) < DOOR_WAIT ? http_idle_secs(h) : DOOR_WAIT;
	gw_conns_add(&h->conns, &dc->c, sa, gw_mono());
	dc->next = h->doors;
	if (h->doors)
		h->doors->prev = dc;
	h->doors = dc;
	ev_io_init(&dc->io, io_cb, fd, EV_READ);
	ev_io_start(h->gw->loop, &dc->io);
	ev_timer_init(&dc->timer, timer_cb, wait, 0.);
	ev_timer_start(h->gw->loop, &dc->timer);
	http_room_check(h);
	http_make_room(h, &dc->c); /* may shut dc itself: its watcher sees it */
	if (h->rerun)
		http_run(h);
}

void http_door_start(struct gw_http *h, int fd)
{
	gw_acceptor_start(&h->door, h->gw->loop, fd, DOOR_BATCH, "http", on_accept, h);
}

void http_door_stop(struct gw_http *h)
{
	while (h->doors)
		drop(h->doors, true);
	gw_acceptor_stop(&h->door);
}
