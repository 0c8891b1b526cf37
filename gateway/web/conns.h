/* SPDX-License-Identifier: MIT */
/* gateway/web/conns.h - the HTTP server's connections as it sees them:
 * who holds them, which have a request in progress, and the one that
 * gives way when the server is full.
 *
 * A full server of idle connections (TLS handshakes never finished,
 * connections kept alive with nothing asked) would make everyone else
 * wait in the kernel's accept queue until one of them timed out: a few
 * addresses holding idle sockets slowed every page load to seconds.  So
 * libmicrohttpd may take one connection beyond the limit, and then one
 * goes (gw_conns_over()): a connection with no request in progress for
 * GW_CONN_GRACE s or more, of the address holding the most connections,
 * the one idle longest among them, when the newcomer's address holds
 * fewer (or the newcomer is its address's only one, whose first
 * connection always gets in); else, its address having its fair share
 * already, one of that address's own idle for GW_CONN_GRACE s (the one
 * idle longest: a proxy, whose users all come from its address, keeps its
 * new request), and without one the newcomer itself.  A request in
 * progress (a live page's events, a login being checked) is never cut,
 * nor a connection that opened or had its answer less than GW_CONN_GRACE s
 * ago: a client in the middle of its handshake and request (a flood of short connections from many addresses
 * would otherwise cut each other's, and a real client's among them).
 * When none may go yet, a newcomer whose address holds more than one and
 * over half as many as the address holding the most goes at once (but the
 * ingress proxy's): five addresses holding idle connections that reopen as
 * soon as one goes kept the one place beyond the limit, and everyone else
 * waited in the accept queue for a grace to end (a page load 0.9 s at p90
 * and at worst, where now 0.05 s at p90, 0.08 s at worst).
 * Another newcomer stays beyond the limit, nothing more is accepted, and
 * the server asks again when the first grace ends.
 *
 * Pure: the time is an argument; the server closes the one chosen. */
#ifndef GW_WEB_CONNS_H
#define GW_WEB_CONNS_H

#include <stdbool.h>
#include <sys/socket.h>

#define GW_CONN_GRACE 1.0              /* s a connection may be idle before it may give way */

struct gw_conn {
	void *tls;                     /* tls.c's part: first (gw_tls_conn_started) */
	struct gw_conn *next, *prev;
	struct sockaddr_storage addr;  /* the client's */
	bool busy;                     /* a request in progress */
	bool going;                    /* chosen to go: closed soon */
	bool proxy;                    /* set by the server: Home Assistant's ingress proxy, many users' address */
	int same;                      /* connections of its address, not going, itself too */
	double idle_since;             /* mono: opened, or its last request ended */
	void *con;                     /* the server's connection; NULL while the door holds it */
	int fd;                        /* ... the door's socket then (door.c: the HTTPS port's first bytes) */
};

struct gw_conns {
	struct gw_conn *head;
	int n, going;
};

/* c opened from sa (NULL: no address) at now. */
void gw_conns_add(struct gw_conns *t, struct gw_conn *c, const struct sockaddr *sa, double now);
void gw_conns_remove(struct gw_conns *t, struct gw_conn *c);
/* c's request began (busy) or ended at now. */
void gw_conns_busy(struct gw_conn *c, bool busy, double now);
/* Connections open and not going. */
int gw_conns_open(const struct gw_conns *t);
/* Connections open and not going of sa's address (sa NULL: of none). */
int gw_conns_of(const struct gw_conns *t, const struct sockaddr *sa);
/* The server holds more than its limit at now: the connection that goes
 * (marked going), newcomer being the one just opened (NULL: a request
 * ended, or the server asks again); NULL: none may go now, and *again is
 * when one may (0: not before a request ends). */
struct gw_conn *gw_conns_over(struct gw_conns *t, struct gw_conn *newcomer, double now, double *again);

#endif
