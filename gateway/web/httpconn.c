/* SPDX-License-Identifier: MIT */
/* gateway/web/httpconn.c - the HTTP server's connections.  A slow or
 * hostile HTTP client costs only its own connection: a connection idle for
 * CONN_TIMEOUT seconds is closed (IDLE_BUSY when over half full), at most
 * max_clients connections (a quarter of them from one address, but Home
 * Assistant's ingress proxy's) are open, and when they are all taken one
 * more is accepted and the connection that gives way closed (conns.h: an
 * idle one of the address holding the most). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "../core/acceptor.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/util.h"
#include "../model/gw.h"
#include "http_int.h"
#include "ingress.h"
#include "tls.h"

#define IDLE_BUSY 5u                     /* ... with no request, when over half full */

struct gw_conn *http_conn_of(struct MHD_Connection *con)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

/* A connection without a request in progress (new, or kept alive after
 * one) is the first to go when the server fills: over half of max_clients,
 * it may stay idle IDLE_BUSY s instead of CONN_TIMEOUT. */
unsigned http_idle_secs(const struct gw_http *h)
{
	return h->conns.n * 2 > h->cfg.max_clients ? IDLE_BUSY : CONN_TIMEOUT;
}

void http_idle_timeout(struct gw_http *h, struct MHD_Connection *con)
{
	MHD_set_connection_option(con, MHD_CONNECTION_OPTION_TIMEOUT, http_idle_secs(h));
}

/* As libmicrohttpd leaves its own listening socket alone at its limit. */
void http_room_check(struct gw_http *h)
{
	gw_acceptor_hold(&h->door, h->conns.n > h->cfg.max_clients);
}

/* The connection that gives way has its socket shut: libmicrohttpd sees
 * the end at once and closes it (it has no call to close one), and so
 * does the door (door.c) one it holds. */
void http_make_room(struct gw_http *h, struct gw_conn *newcomer)
{
	struct ev_loop *loop = h->gw->loop;
	ev_timer_stop(loop, &h->room);
	if (h->stopping || gw_conns_open(&h->conns) <= h->cfg.max_clients)
		return;
	double now = gw_mono(), again = 0;
	struct gw_conn *v = gw_conns_over(&h->conns, newcomer, now, &again);
	if (!v) {
		/* none may go yet: one more until a request ends or a grace does */
		if (again > 0) {
			ev_timer_set(&h->room, again - now > 0.01 ? again - now : 0.01, 0.);
			ev_timer_start(loop, &h->room);
		}
		return;
	}
	const union MHD_ConnectionInfo *ci =
		v->con ? MHD_get_connection_info(v->con, MHD_CONNECTION_INFO_CONNECTION_FD) : NULL;
	if (ci || !v->con)
		shutdown(ci ? ci->connect_fd : v->fd, SHUT_RDWR);
	h->rerun = true;
	h->gave_way++;
	char who[64];
	gw_peer_host((const struct sockaddr *)&v->addr, who, sizeof(who));
	/* one line of each kind per interval, whatever the addresses */
	gw_log_keyed(GW_LOG_INFO, v == newcomer ? "http full new" : "http full idle",
		     "http: full (%d connections): %s from %s gives way%s", h->cfg.max_clients,
		     v == newcomer ? "a new connection" : "an idle connection", who,
		     v == newcomer ? " (its address has its share)" : " to a new one");
}

static void room_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_http *h = container_of(w, struct gw_http, room);
	http_make_room(h, NULL);
	if (h->rerun)
		http_run(h);
}

void http_on_connection(void *cls, struct MHD_Connection *con, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct gw_http *h = cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		struct gw_conn *c = calloc(1, sizeof(*c));
		*socket_ctx = c;
		if (!c) {
			MHD_set_connection_option(con, MHD_CONNECTION_OPTION_TIMEOUT, 1u); /* out of memory: it goes soon */
			return;
		}
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		c->con = con;
		/* one the door handed over (door.c) opened when it was accepted */
		double opened = h->handoff_since > 0 ? h->handoff_since : gw_mono();
		gw_conns_add(&h->conns, c, ci ? ci->client_addr : NULL, opened);
		c->proxy = h->cfg.ingress && ci && gw_ingress_proxy_peer(ci->client_addr, http_peer_len(ci->client_addr));
		http_idle_timeout(h, con);
		if (h->tls)
			gw_tls_conn_started(h->tls, &c->tls);
		http_room_check(h);
		http_make_room(h, c);
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		struct gw_conn *c = *socket_ctx;
		if (c) {
			if (h->tls)
				gw_tls_conn_closed(&c->tls);
			gw_conns_remove(&h->conns, c);
			free(c);
			*socket_ctx = NULL;
		}
		/* At max_clients libmicrohttpd takes the listening socket out of its
		 * epoll set, and puts it back only at the start of a later MHD_run():
		 * after the last close nothing would wake one, and the page would
		 * never accept again.  Run it once more now.  (The door's listening
		 * socket, with HTTPS, has room again.) */
		h->rerun = true;
		http_room_check(h);
	}
}

/* A connection from addr: refused outside [http] clients, and from an
 * address that holds its share already, but Home Assistant's ingress proxy
 * when [http] ingress is on: every user of Home Assistant comes from its
 * address (the server's limit and http_make_room() still hold). */
enum MHD_Result http_on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct gw_http *h = cls;
	if (h->cfg.clients.n && !conf_nets_match(&h->cfg.clients, addr)) {
		h->refused++;
		gw_debug("http: a client outside [http] clients refused");
		return MHD_NO;
	}
	if (h->cfg.ingress && gw_ingress_proxy_peer(addr, addrlen))
		return MHD_YES;
	if (gw_conns_of(&h->conns, addr) >= http_addr_share(&h->cfg)) {
		h->address_full++;
		gw_debug("http: a connection refused: its address holds a quarter of max_clients");
		return MHD_NO;
	}
	return MHD_YES;
}

void http_on_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	if (gw_log_threshold < GW_LOG_DEBUG)
		return;
	char msg[256];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	gw_debug("http: %s", msg);
}

void http_room_init(struct gw_http *h)
{
	ev_init(&h->room, room_cb);
}
