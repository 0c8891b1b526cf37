/* SPDX-License-Identifier: MIT */
/* gateway/wire/tcp.c - the TCP transport: a serial port behind a TCP serial
 * server (USR-N540 style, raw mode).
 *
 * The server's name is resolved off the loop (core/resolve.c), then a
 * non-blocking connect with keepalive; the connection timeout is the
 * link's timer (link.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "../core/net.h"
#include "../core/resolve.h"
#include "wire_int.h"

#define CONNECT_TIMEOUT 5.0

/* A TCP link's own state (l->tr_data). */
struct tcp {
	char host[CONF_HOST_MAX];      /* the serial server */
	int port;
	struct gw_lookup *lookup;      /* RESOLVING: the host name lookup */
};

int gw_tcp_setup(struct gw_link *l, const char *host, int port)
{
	struct tcp *t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	snprintf(t->host, sizeof(t->host), "%s", host);
	t->port = port;
	l->tr_data = t;
	return 0;
}

static int tcp_setup(struct gw_link *l, const struct conf_pack *cfg)
{
	return gw_tcp_setup(l, cfg->tcp_host, cfg->tcp_port);
}

/* The TCP serial server's address is known: start the connection. */
static void tcp_resolved(void *arg, const struct gw_lookup_result *res)
{
	struct gw_link *l = arg;
	if (!res->ok) {
		char why[400];
		snprintf(why, sizeof(why), "cannot resolve %s: %s", ((struct tcp *)l->tr_data)->host, res->error);
		gw_link_close(l, why);
		return;
	}
	bool in_progress = false;
	int fd = gw_tcp_connect((const struct sockaddr *)&res->addr, res->addrlen, true, &in_progress);
	if (fd < 0) {
		gw_link_failed(l, "connect", errno);
		return;
	}
	gw_link_attach(l, fd);
	if (in_progress) {
		l->state = GW_LINK_CONNECTING;
		gw_link_set_events(l);
		ev_timer_stop(l->env->loop, &l->conn_timer);
		ev_timer_set(&l->conn_timer, CONNECT_TIMEOUT, 0.);
		ev_timer_start(l->env->loop, &l->conn_timer);
		return;
	}
	gw_link_up(l);
}

static void tcp_open(struct gw_link *l)
{
	struct tcp *t = l->tr_data;
	l->state = GW_LINK_RESOLVING;
	/* a numeric address answers at once; a name later, from the loop */
	gw_resolve(l->env->resolver, t->host, t->port, tcp_resolved, l, &t->lookup);
}

/* The lookup in progress, or the socket. */
static void tcp_close(struct gw_link *l)
{
	struct tcp *t = l->tr_data;
	gw_lookup_cancel(&t->lookup);
	gw_link_fd_close(l);
}

const struct gw_transport gw_transport_tcp = {
	.name = "tcp",
	.bms_link = BMS_LINK_WIRE,
	.fds = 2, /* the socket, the poll timerfd */
	.silent_reopen = 3,
	.silent_why = "serial server passes no bytes; reconnecting",
	.eof_why = "connection closed by the serial server",
	.setup = tcp_setup,
	.open = tcp_open,
	.close = tcp_close,
};
