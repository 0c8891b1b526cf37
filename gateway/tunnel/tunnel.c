/* SPDX-License-Identifier: MIT */
/* gateway/tunnel/tunnel.c - maintenance tunnels (see tunnel.h).
 *
 * Each tunnel is a listening socket (an ev_io) and at most one tool
 * connection.  The tool's bytes are queued on the wire (gw_link_append);
 * when the wire's buffer is full the tool is not read until it drains, so
 * TCP pushes back on the tool instead of bytes being lost.  The wire's
 * bytes go to the tool through an output buffer of TOOL_BUF bytes; a tool
 * that does not read that much is too slow for a serial line and is
 * disconnected.  Every wait is a watcher: nothing blocks the loop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../core/jsonw.h"
#include "../core/log.h"
#include "../core/prom.h"
#include "../core/net.h"
#include "tunnel.h"
#include "tunnel_conf.h"
#include "../core/acceptor.h"
#include "../core/util.h"
#include "../poll/poll.h"

#define TOOL_BUF 65536      /* bytes from the wire not yet taken by the tool */
#define ACCEPT_BATCH 8      /* connections taken per readiness of the listening socket */

struct gw_tunnel {
	struct gw *gw;
	struct gw_tunnel *next;
	struct conf_tunnel cfg;        /* its own copy (prepare: the section it is built for) */
	struct gw_tunnel *reuse;       /* prepare: an unchanged old tunnel carried over */
	struct gw_tunnel *fd_from;     /* prepare: the old tunnel whose socket it takes */
	bool fd_taken;                 /* install: another tunnel took this one's socket */
	int lfd;                       /* the listening socket, the acceptor's once installed */
	struct gw_acceptor acc;
	/* the tool */
	int cfd;
	char peer[INET6_ADDRSTRLEN + 8];
	struct gw_bus *bus;           /* lent to the tool, NULL if no tool */
	ev_io rd, wr;
	ev_timer idle;
	double since, last_bytes;
	unsigned long to_wire, from_wire, dropped;
	uint8_t out[TOOL_BUF];
	size_t outlen;
};

/* The same tunnel under the new section: its name and every key that
 * restarts it (tunnel_conf.c: all of them). */
static bool same_tunnel(const struct conf_tunnel *a, const struct conf_tunnel *b)
{
	return strcmp(a->name, b->name) == 0 && conf_section_same(&gw_tunnel_section, CONF_RESTART, a, b);
}

/* ---------------------------------------------------------------- a session */

/* The tool is gone (or is sent away): give the wire back. */
static void end_session(struct gw_tunnel *t, const char *why, bool give_back)
{
	if (t->cfd < 0)
		return;
	struct ev_loop *loop = t->gw->loop;
	ev_io_stop(loop, &t->rd);
	ev_io_stop(loop, &t->wr);
	ev_timer_stop(loop, &t->idle);
	close(t->cfd);
	t->cfd = -1;
	struct gw_bus *w = t->bus;
	t->bus = NULL;
	t->outlen = 0;
	gw_info("tunnel %s: tool %s %s after %.0f s (%lu bytes to the wire, %lu from it%s); wire %s %s",
		t->cfg.name, t->peer, why, gw_mono() - t->since, t->to_wire, t->from_wire,
		t->dropped ? ", some lost while the wire was down" : "", t->cfg.port,
		give_back ? "given back: polling resumes" : "closed");
	if (w && give_back)
		gw_poll_return(w); /* the poller owns the link again */
}

static void tool_write(struct gw_tunnel *t)
{
	while (t->outlen) {
		ssize_t n = write(t->cfd, t->out, t->outlen);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			char why[120];
			snprintf(why, sizeof(why), "lost (%s)", n < 0 ? strerror(errno) : "closed");
			end_session(t, why, true);
			return;
		}
		memmove(t->out, t->out + n, t->outlen - (size_t)n);
		t->outlen -= (size_t)n;
	}
	if (t->outlen)
		ev_io_start(t->gw->loop, &t->wr);
	else
		ev_io_stop(t->gw->loop, &t->wr);
}

static void wr_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	tool_write(container_of(w, struct gw_tunnel, wr));
}

/* The wire's bytes go to the tool (the tunnel owns the link now). */
static void wire_bytes(void *arg, const uint8_t *p, size_t n)
{
	struct gw_tunnel *t = arg;
	if (t->cfd < 0)
		return;
	t->last_bytes = gw_mono();
	t->from_wire += n;
	if (n > sizeof(t->out) - t->outlen) {
		end_session(t, "disconnected: it does not read what the wire sends", true);
		return;
	}
	memcpy(t->out + t->outlen, p, n);
	t->outlen += n;
	tool_write(t);
}

/* Move the tool's bytes to the wire, as far as the wire's buffer takes them. */
static void tool_read(struct gw_tunnel *t)
{
	struct gw_link *l = t->bus->link;
	uint8_t buf[512];
	for (int i = 0; i < 16; i++) {
		size_t room = gw_link_is_up(l) ? gw_link_room(l) : sizeof(buf);
		if (room == 0) {
			ev_io_stop(t->gw->loop, &t->rd); /* until the wire drains */
			return;
		}
		ssize_t n = read(t->cfd, buf, room < sizeof(buf) ? room : sizeof(buf));
		if (n == 0) {
			end_session(t, "disconnected", true);
			return;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			char why[120];
			snprintf(why, sizeof(why), "lost (%s)", strerror(errno));
			end_session(t, why, true);
			return;
		}
		t->last_bytes = gw_mono();
		int took = gw_link_append(l, buf, (size_t)n);
		if (took < 0) {
			/* the wire is down (it reconnects by itself): these bytes are lost */
			if (!t->dropped)
				gw_warn("tunnel %s: the wire %s is down: bytes of the tool are lost until it is back",
					t->cfg.name, t->cfg.port);
			t->dropped += (unsigned long)n;
		} else {
			t->to_wire += (unsigned long)took; /* room was checked: all of it */
		}
		if (t->cfd < 0 || t->bus == NULL)
			return; /* the write failed and the link closed the session */
	}
}

static void rd_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	tool_read(container_of(w, struct gw_tunnel, rd));
}

/* The wire took what was queued: read the tool again. */
static void wire_drained(void *arg)
{
	struct gw_tunnel *t = arg;
	if (t->cfd >= 0 && !ev_is_active(&t->rd)) {
		ev_io_start(t->gw->loop, &t->rd);
		tool_read(t);
	}
}

static void wire_gone(void *arg)
{
	end_session(arg, "disconnected: the wire is closed (reload)", false);
}

/* While the wire reconnects the tool waits; its bytes meanwhile are lost. */
static void wire_updown(void *arg)
{
	(void)arg;
}

static const struct gw_link_owner tunnel_owner = { wire_updown, wire_updown, wire_bytes, wire_drained, wire_gone };

static void idle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)revents;
	struct gw_tunnel *t = container_of(w, struct gw_tunnel, idle);
	double left = t->last_bytes + t->cfg.idle_timeout - gw_mono();
	if (left > 0.001) {
		ev_timer_set(w, left, 0.);
		ev_timer_start(loop, w);
		return;
	}
	char why[80];
	snprintf(why, sizeof(why), "disconnected: no bytes for %g s (idle_timeout)", t->cfg.idle_timeout);
	end_session(t, why, true);
}

/* ---------------------------------------------------------------- accepting */

static void wire_ready(void *arg);

static void start_session(struct gw_tunnel *t, int fd, const char *peer)
{
	struct gw *gw = t->gw;
	struct gw_bus *w = gw_bus_find(gw, t->cfg.port);
	t->cfd = fd;
	snprintf(t->peer, sizeof(t->peer), "%s", peer);
	t->bus = w;
	t->since = t->last_bytes = gw_mono();
	t->to_wire = t->from_wire = t->dropped = 0;
	t->outlen = 0;
	int one = 1, idle = 10, intvl = 5, cnt = 3;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	char packs[200] = "";
	for (int i = 0; i < w->npacks; i++) {
		size_t n = strlen(packs);
		snprintf(packs + n, sizeof(packs) - n, "%s%s", n ? ", " : "", w->packs[i]->cfg->name);
	}
	gw_info("tunnel %s: tool %s connected: wire %s lent for maintenance (%s); polling of %s paused, "
		"its data goes stale",
		t->cfg.name, peer, t->cfg.port, gw_link_is_up(w->link) ? "open" : "down, reconnecting", packs);
	ev_io_init(&t->rd, rd_cb, fd, EV_READ);
	ev_io_init(&t->wr, wr_cb, fd, EV_WRITE);
	ev_timer_init(&t->idle, idle_cb, t->cfg.idle_timeout, 0.);
	ev_timer_start(gw->loop, &t->idle);
	gw_poll_lend(w, &tunnel_owner, t, wire_ready); /* wire_ready() when the wire is quiet */
}

/* The poller let the wire go: the tunnel owns the link now. */
static void wire_ready(void *arg)
{
	struct gw_tunnel *t = arg;
	if (t->cfd < 0)
		return;
	ev_io_start(t->gw->loop, &t->rd); /* the tool's bytes waited in its socket */
	tool_read(t);
}

/* A tool connects: one at a time, from the allowed clients. */
static void tool_accept(void *arg, int fd, const struct sockaddr_storage *ss)
{
	struct gw_tunnel *t = arg;
	char peer[sizeof(t->peer)];
	gw_peer_name(ss, peer, sizeof(peer));
	if (!conf_nets_match(&t->cfg.clients, ss)) {
		gw_warn("tunnel %s: %s refused: not in clients (%s)", t->cfg.name, peer, t->cfg.clients.text);
		close(fd);
		return;
	}
	if (t->cfd >= 0) {
		gw_warn("tunnel %s: %s refused: %s is connected (one tool at a time)", t->cfg.name, peer, t->peer);
		close(fd);
		return;
	}
	start_session(t, fd, peer);
}

/* ---------------------------------------------------------------- lifecycle */

static void tunnel_close(struct gw_tunnel *t)
{
	end_session(t, "disconnected: the tunnel is closed", true);
	if (t->fd_taken)
		gw_acceptor_release(&t->acc); /* the socket goes on in the tunnel that took it */
	else
		gw_acceptor_stop(&t->acc);
	free(t);
}

int gw_tunnels_prepare(struct gw *gw, struct gw_tunnel *cur, const struct conf *nc, bool may_block,
		       struct gw_tunnel **out, char *err, size_t errlen)
{
	struct gw_tunnel *head = NULL, **tail = &head;
	*out = NULL;
	for (int i = 0; i < gw_ntunnels(nc); i++) {
		const struct conf_tunnel *c = gw_tunnel_cfg(nc, i);
		struct gw_tunnel *n = calloc(1, sizeof(*n));
		if (!n) {
			snprintf(err, errlen, "out of memory");
			gw_tunnels_discard(head);
			return -1;
		}
		n->gw = gw;
		n->cfg = *c;
		n->lfd = n->cfd = -1;
		*tail = n;
		tail = &n->next;
		for (struct gw_tunnel *o = cur; o; o = o->next) {
			if (same_tunnel(&o->cfg, c))
				n->reuse = o;
			else if (strcmp(o->cfg.listen_host, c->listen_host) == 0 && o->cfg.listen_port == c->listen_port)
				n->fd_from = o;
		}
		if (n->reuse)
			n->fd_from = NULL;
		if (n->reuse || n->fd_from)
			continue;
		n->lfd = gw_tcp_listen(c->listen_host, c->listen_port, may_block, err, errlen);
		if (n->lfd < 0) {
			size_t l = strlen(err);
			snprintf(err + l, errlen - l, " ([tunnel.%s] listen)", c->name);
			gw_tunnels_discard(head);
			return -1;
		}
	}
	*out = head;
	return 0;
}

void gw_tunnels_discard(struct gw_tunnel *prepared)
{
	while (prepared) {
		struct gw_tunnel *n = prepared->next;
		if (prepared->lfd >= 0)
			close(prepared->lfd);
		free(prepared);
		prepared = n;
	}
}

struct gw_tunnel *gw_tunnels_install(struct gw *gw, struct gw_tunnel *cur, struct gw_tunnel *prepared)
{
	struct gw_tunnel *head = NULL, **tail = &head;
	/* mark what carries over, then end the rest */
	for (struct gw_tunnel *n = prepared; n; n = n->next)
		if (n->fd_from)
			n->fd_from->fd_taken = true;
	for (struct gw_tunnel *o = cur, *next; o; o = next) {
		next = o->next;
		bool kept = false;
		for (struct gw_tunnel *n = prepared; n && !kept; n = n->next)
			kept = n->reuse == o;
		if (!kept) {
			gw_info("tunnel %s: closed (its configuration changed or is gone)", o->cfg.name);
			int fd = o->lfd;
			tunnel_close(o);
			for (struct gw_tunnel *n = prepared; n; n = n->next)
				if (n->fd_from == o)
					n->lfd = fd;
		}
	}
	for (struct gw_tunnel *n = prepared, *next; n; n = next) {
		next = n->next;
		struct gw_tunnel *t = n;
		bool fresh = !n->reuse;
		if (n->reuse) {
			t = n->reuse; /* unchanged: it keeps its copy of the section */
			free(n);
		} else {
			char what[64];
			snprintf(what, sizeof(what), "tunnel %s", t->cfg.name);
			gw_acceptor_start(&t->acc, gw->loop, t->lfd, ACCEPT_BATCH, what, tool_accept, t);
		}
		t->next = NULL;
		t->reuse = t->fd_from = NULL;
		t->fd_taken = false;
		/* a tunnel carried over keeps its tool if the wire itself was kept
		 * (gw_link_free() ended the session otherwise) */
		if (fresh)
			gw_info("tunnel %s: listening on %s:%d for a tool from %s (wire %s)", t->cfg.name,
				t->cfg.listen_host, t->cfg.listen_port, t->cfg.clients.text, t->cfg.port);
		*tail = t;
		tail = &t->next;
	}
	return head;
}

void gw_tunnels_free(struct gw_tunnel *list)
{
	while (list) {
		struct gw_tunnel *t = list;
		list = t->next;
		end_session(t, "disconnected: bmsgw stops", false);
		t->fd_taken = false;
		tunnel_close(t);
	}
}

int gw_tunnels_active(const struct gw_tunnel *list)
{
	int n = 0;
	for (const struct gw_tunnel *t = list; t; t = t->next)
		n += t->cfd >= 0;
	return n;
}

/* ---------------------------------------------------------------- the output */

static long tun_fds(const struct conf *c)
{
	return 2L * gw_ntunnels(c); /* listening socket + tool */
}

static int tun_prepare(struct gw_svc_ctx *x)
{
	struct gw_tunnel *t = NULL;
	int rc = gw_tunnels_prepare(x->gw, x->cur, x->nc, x->may_block, &t, x->err, x->errlen);
	x->next = t;
	return rc;
}

static void *tun_commit(const struct gw_svc_ctx *x)
{
	return gw_tunnels_install(x->gw, x->cur, x->next);
}

static void tun_discard(const struct gw_svc_ctx *x)
{
	gw_tunnels_discard(x->next);
}

static void tun_stop(const struct gw_svc_ctx *x)
{
	gw_tunnels_free(x->cur);
}

/* "tunnels": each with its wire, its address and its tool, if one is connected. */
static const void *tun_held(void *st, const struct conf_section *s, const char *name)
{
	for (const struct gw_tunnel *t = st; s == &gw_tunnel_section && name && t; t = t->next)
		if (strcmp(t->cfg.name, name) == 0)
			return &t->cfg;
	return NULL;
}

static void tun_status_json(void *st, const struct gw *gw, FILE *o)
{
	(void)gw;
	double now = gw_mono();
	fputc('[', o);
	for (const struct gw_tunnel *t = st; t; t = t->next) {
		fprintf(o, "%s{\"name\":", t == st ? "" : ",");
		gw_json_str(o, t->cfg.name);
		fprintf(o, ",\"port\":");
		gw_json_str(o, t->cfg.port);
		fprintf(o, ",\"listen_port\":%d,\"tool\":", t->cfg.listen_port);
		if (t->cfd >= 0) {
			gw_json_str(o, t->peer);
			fprintf(o, ",\"connected_s\":%.0f,\"to_wire\":%lu,\"from_wire\":%lu", now - t->since, t->to_wire,
				t->from_wire);
		} else {
			fputs("null", o);
		}
		fputc('}', o);
	}
	fputc(']', o);
}

static void tun_metrics(void *st, const struct gw *gw, FILE *o)
{
	(void)gw;
	const struct gw_prom_metric mm[] = {
		{ "bmsgw_tunnel_tools", "gauge", "Maintenance tunnels with a tool connected (their wire is not polled).",
		  gw_tunnels_active(st) },
	};
	gw_prom_singles(o, mm, sizeof(mm) / sizeof(mm[0]));
}

static const struct conf_section *const sections[] = { &gw_tunnel_section, NULL };

const struct gw_service gw_svc_tunnel = {
	.name = "tunnels",
	.sections = sections,
	.fds = tun_fds,
	.prepare = tun_prepare,
	.commit = tun_commit,
	.discard = tun_discard,
	.stop = tun_stop,
	.held = tun_held,
	.status_json = tun_status_json,
	.metrics = tun_metrics,
};
