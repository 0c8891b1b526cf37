/* gateway/wire/tcp.c - the TCP transport: a serial port behind a TCP serial
 * server (USR-N540 style, raw mode).
 *
 * The server's name is resolved off the loop (core/resolve.c), then a
 * non-blocking connect with keepalive; the connection timeout is the
 * link's timer (link.c).
 */
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

#include "../core/net.h"
#include "../core/resolve.h"
#include "wire.h"

#define CONNECT_TIMEOUT 5.0

/* The TCP serial server's address is known: start the connection. */
static void tcp_resolved(void *arg, const struct gw_lookup_result *res)
{
	struct gw_link *l = arg;
	if (!res->ok) {
		char why[400];
		snprintf(why, sizeof(why), "cannot resolve %s: %s", l->tcp_host, res->error);
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
	l->state = GW_LINK_RESOLVING;
	/* a numeric address answers at once; a name later, from the loop */
	gw_resolve(l->env->resolver, l->tcp_host, l->tcp_port, tcp_resolved, l, &l->lookup);
}

const struct gw_transport gw_transport_tcp = {
	.name = "tcp",
	.bms_link = BMS_LINK_WIRE,
	.fds = 2, /* the socket, the poll timerfd */
	.silent_reopen = 3,
	.silent_why = "serial server passes no bytes; reconnecting",
	.open = tcp_open,
	.close = gw_link_fd_close,
	.write = gw_link_fd_write,
	.drain = gw_link_fd_drain,
};
