/* SPDX-License-Identifier: MIT */
/* gateway/core/resolve.c - host names resolved off the loop (c-ares on libev).
 *
 * c-ares tells us which sockets it wants watched (ARES_OPT_SOCK_STATE_CB);
 * each gets an ev_io, and one ev_timer follows ares_timeout().  c-ares reads
 * /etc/hosts and /etc/resolv.conf itself, at the first lookup and again when
 * resolv.conf changed while nothing was pending (a DHCP lease, a VPN).
 * Every lookup also has its own deadline, so a DNS server that swallows the
 * queries costs the caller GW_LOOKUP_TIMEOUT and nothing else.
 */
#include <ares.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "resolve.h"
#include "util.h"

#define RESOLV_CONF "/etc/resolv.conf"
/* c-ares: 2 s for the first try, doubled for the second; the deadline cuts it short */
#define ARES_TRY_MS 2000
#define ARES_TRIES 2

struct gw_sockw {
	struct gw_resolver *r;
	struct gw_sockw *next;
	int fd;
	ev_io io;
};

struct gw_lookup {
	struct gw_resolver *r;
	struct gw_lookup *next, *prev; /* every lookup c-ares still holds */
	gw_lookup_cb cb;               /* NULL: cancelled or already answered */
	void *arg;
	struct gw_lookup **handle;     /* the owner's pointer to this lookup */
	int port;
	ev_timer deadline;
	char host[256];
};

struct gw_resolver {
	struct ev_loop *loop;
	ares_channel ch;
	bool have_channel;
	bool library;                  /* ares_library_init() done */
	struct gw_sockw *socks;
	ev_timer timer;
	struct gw_lookup *pending;
	unsigned npending;
	struct timespec rc_mtime;      /* resolv.conf as the channel read it */
	ino_t rc_ino;
};

bool gw_numeric_addr(const char *host, int port, struct sockaddr_storage *out, socklen_t *len)
{
	char service[8];
	snprintf(service, sizeof(service), "%d", port);
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	/* AI_NUMERICHOST: getaddrinfo() only parses, it never asks anyone */
	if (getaddrinfo(host, service, &hints, &ai) != 0 || !ai)
		return false;
	memset(out, 0, sizeof(*out));
	memcpy(out, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return true;
}

static void rearm_timer(struct gw_resolver *r)
{
	ev_timer_stop(r->loop, &r->timer);
	if (!r->have_channel)
		return;
	struct timeval tv, *tvp = ares_timeout(r->ch, NULL, &tv);
	if (!tvp)
		return;
	ev_timer_set(&r->timer, (double)tvp->tv_sec + tvp->tv_usec / 1e6, 0.);
	ev_timer_start(r->loop, &r->timer);
}

static void sock_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	struct gw_sockw *s = container_of(w, struct gw_sockw, io);
	struct gw_resolver *r = s->r;
	int fd = s->fd;
	/* may close the socket and free s (sock_state_cb) */
	ares_process_fd(r->ch, (revents & EV_READ) ? fd : ARES_SOCKET_BAD,
			(revents & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	rearm_timer(r);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_resolver *r = container_of(w, struct gw_resolver, timer);
	ares_process_fd(r->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	rearm_timer(r);
}

/* c-ares: watch fd for reading and/or writing, or stop watching it. */
static void sock_state_cb(void *data, ares_socket_t fd, int readable, int writable)
{
	struct gw_resolver *r = data;
	struct gw_sockw **pp = &r->socks, *s;
	while ((s = *pp) && s->fd != fd)
		pp = &s->next;
	if (!readable && !writable) {
		if (s) {
			ev_io_stop(r->loop, &s->io);
			*pp = s->next;
			free(s);
		}
		return;
	}
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s) {
			gw_err("resolver: out of memory");
			return;
		}
		s->r = r;
		s->fd = fd;
		ev_init(&s->io, sock_io_cb);
		s->next = r->socks;
		r->socks = s;
	}
	ev_io_stop(r->loop, &s->io);
	ev_io_set(&s->io, fd, (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0));
	ev_io_start(r->loop, &s->io);
}

static void close_channel(struct gw_resolver *r)
{
	if (!r->have_channel)
		return;
	/* answers every lookup c-ares holds with ARES_EDESTRUCTION: owners
	 * were told already (cb == NULL), the callbacks only free */
	ares_destroy(r->ch);
	r->have_channel = false;
	ev_timer_stop(r->loop, &r->timer);
	while (r->socks) {
		struct gw_sockw *s = r->socks;
		ev_io_stop(r->loop, &s->io);
		r->socks = s->next;
		free(s);
	}
}

static int open_channel(struct gw_resolver *r)
{
	struct ares_options o;
	memset(&o, 0, sizeof(o));
	o.sock_state_cb = sock_state_cb;
	o.sock_state_cb_data = r;
	o.timeout = ARES_TRY_MS;
	o.tries = ARES_TRIES;
	int rc = ares_init_options(&r->ch, &o, ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
	if (rc != ARES_SUCCESS) {
		gw_err("resolver: c-ares: %s", ares_strerror(rc));
		return -1;
	}
	r->have_channel = true;
	struct stat st;
	if (stat(RESOLV_CONF, &st) == 0) {
		r->rc_mtime = st.st_mtim;
		r->rc_ino = st.st_ino;
	} else {
		memset(&r->rc_mtime, 0, sizeof(r->rc_mtime));
		r->rc_ino = 0;
	}
	return 0;
}

/* A new resolv.conf (DHCP, VPN): read it again while nothing is pending. */
static void refresh_channel(struct gw_resolver *r)
{
	if (!r->have_channel || r->npending)
		return;
	struct stat st;
	bool same = stat(RESOLV_CONF, &st) == 0 ? st.st_ino == r->rc_ino &&
							  st.st_mtim.tv_sec == r->rc_mtime.tv_sec &&
							  st.st_mtim.tv_nsec == r->rc_mtime.tv_nsec
						      : r->rc_ino == 0;
	if (same)
		return;
	gw_debug("resolver: %s changed, reading it again", RESOLV_CONF);
	close_channel(r);
}

struct gw_resolver *gw_resolver_new(struct ev_loop *loop)
{
	struct gw_resolver *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	int rc = ares_library_init(ARES_LIB_INIT_ALL);
	if (rc != ARES_SUCCESS) {
		gw_err("resolver: c-ares: %s", ares_strerror(rc));
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	r->library = true;
	r->loop = loop;
	ev_init(&r->timer, timer_cb);
	return r;
}

static void unlink_lookup(struct gw_lookup *q)
{
	struct gw_resolver *r = q->r;
	if (q->prev)
		q->prev->next = q->next;
	else
		r->pending = q->next;
	if (q->next)
		q->next->prev = q->prev;
	r->npending--;
}

void gw_resolver_free(struct gw_resolver *r)
{
	if (!r)
		return;
	for (struct gw_lookup *q = r->pending; q; q = q->next) {
		q->cb = NULL;
		q->handle = NULL; /* owners cancel before they go; never written again */
		ev_timer_stop(r->loop, &q->deadline);
	}
	close_channel(r);
	/* lookups c-ares never saw (none today) would be left here */
	while (r->pending) {
		struct gw_lookup *q = r->pending;
		unlink_lookup(q);
		free(q);
	}
	if (r->library)
		ares_library_cleanup();
	free(r);
}

static void answer(struct gw_lookup *q, const struct gw_lookup_result *res)
{
	gw_lookup_cb cb = q->cb;
	q->cb = NULL;
	if (cb && q->handle)
		*q->handle = NULL;
	q->handle = NULL;
	ev_timer_stop(q->r->loop, &q->deadline);
	if (cb)
		cb(q->arg, res);
}

static void deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_lookup *q = container_of(w, struct gw_lookup, deadline);
	struct gw_lookup_result res = { .ok = false };
	snprintf(res.error, sizeof(res.error), "no answer from the DNS server within %.0f s",
		 GW_LOOKUP_TIMEOUT);
	/* c-ares still holds q and frees it through ares_cb() when it gives up */
	answer(q, &res);
}

static void ares_cb(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
	(void)timeouts;
	struct gw_lookup *q = arg;
	struct gw_lookup_result res = { .ok = false };
	if (status == ARES_SUCCESS && ai && ai->nodes) {
		struct ares_addrinfo_node *n = ai->nodes;
		if (n->ai_addrlen <= sizeof(res.addr)) {
			memcpy(&res.addr, n->ai_addr, (size_t)n->ai_addrlen);
			res.addrlen = (socklen_t)n->ai_addrlen;
			res.ok = true;
		} else {
			snprintf(res.error, sizeof(res.error), "unusable address");
		}
	} else if (status == ARES_SUCCESS) {
		snprintf(res.error, sizeof(res.error), "no address for the name");
	} else {
		snprintf(res.error, sizeof(res.error), "%s", ares_strerror(status));
	}
	if (ai)
		ares_freeaddrinfo(ai);
	unlink_lookup(q);
	if (status != ARES_EDESTRUCTION && status != ARES_ECANCELLED)
		answer(q, &res);
	free(q);
}

void gw_resolve(struct gw_resolver *r, const char *host, int port, gw_lookup_cb cb, void *arg,
		struct gw_lookup **handle)
{
	struct gw_lookup_result res = { .ok = false };
	*handle = NULL;
	if (gw_numeric_addr(host, port, &res.addr, &res.addrlen)) {
		res.ok = true;
		cb(arg, &res);
		return;
	}
	refresh_channel(r);
	struct gw_lookup *q = calloc(1, sizeof(*q));
	if (!q || (!r->have_channel && open_channel(r) < 0)) {
		free(q);
		snprintf(res.error, sizeof(res.error), "the resolver cannot start");
		cb(arg, &res);
		return;
	}
	q->r = r;
	q->cb = cb;
	q->arg = arg;
	q->handle = handle;
	q->port = port;
	snprintf(q->host, sizeof(q->host), "%s", host);
	q->next = r->pending;
	if (r->pending)
		r->pending->prev = q;
	r->pending = q;
	r->npending++;
	*handle = q;
	ev_timer_init(&q->deadline, deadline_cb, GW_LOOKUP_TIMEOUT, 0.);
	ev_timer_start(r->loop, &q->deadline);
	char service[8];
	snprintf(service, sizeof(service), "%d", port);
	struct ares_addrinfo_hints hints = { .ai_flags = ARES_AI_NUMERICSERV, .ai_family = AF_UNSPEC,
					     .ai_socktype = SOCK_STREAM };
	gw_debug("resolver: looking up %s", host);
	/* may answer at once (/etc/hosts, a bad name): *handle is NULL again then */
	ares_getaddrinfo(r->ch, q->host, service, &hints, ares_cb, q);
	rearm_timer(r);
}

void gw_lookup_cancel(struct gw_lookup **handle)
{
	struct gw_lookup *q = *handle;
	*handle = NULL;
	if (!q)
		return;
	q->cb = NULL;
	q->handle = NULL;
	ev_timer_stop(q->r->loop, &q->deadline);
}
