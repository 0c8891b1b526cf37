/* SPDX-License-Identifier: MIT */
/* gateway/core/acceptor.h - a listening TCP socket watched on the loop, for
 * the servers of bmsgw (the Modbus TCP server, the maintenance tunnels).
 *
 * Connections are accepted a batch at a time (non-blocking, close-on-exec)
 * and handed to the owner with their peer; the owner decides whether to
 * keep them.  Running out of descriptors (EMFILE, ENFILE) never makes the
 * loop spin nor the log flood: a spare descriptor is freed to accept the
 * pending connection and close it at once (the client sees the close
 * instead of hanging in the backlog), and if even that fails the socket is
 * not watched for a while (0.1 s, doubling to 2 s).  An episode is logged
 * once when it starts and once when it ends. */
#ifndef GATEWAY_CORE_ACCEPTOR_H
#define GATEWAY_CORE_ACCEPTOR_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* A new connection: fd is the owner's (non-blocking); peer as accept() gave
 * it.  It must not stop the acceptor. */
typedef void (*gw_accept_fn)(void *arg, int fd, const struct sockaddr_storage *peer);

struct gw_acceptor {
	struct ev_loop *loop;
	int fd;                        /* the listening socket (the acceptor's own) */
	int batch;                     /* accept() calls per readiness */
	ev_io io;
	ev_timer pause;                /* not watching: no descriptor, or an error */
	double pause_for;
	int spare;                     /* a descriptor kept free to accept-and-close with */
	bool starved;                  /* in an episode without descriptors */
	bool held;                     /* the owner is full: new connections wait in the backlog */
	unsigned long starved_closed;  /* connections closed at once in it */
	unsigned long closed_total;    /* ... in all episodes */
	char what[64];                 /* who accepts, for the log: "Modbus clients" */
	gw_accept_fn fn;
	void *arg;
};

/* Watch listen_fd (the acceptor owns it from now on). */
void gw_acceptor_start(struct gw_acceptor *a, struct ev_loop *loop, int listen_fd, int batch, const char *what,
		       gw_accept_fn fn, void *arg);
/* The owner is full (hold) and the connections that come wait in the
 * kernel's backlog, not accepted, until it has room again (!hold). */
void gw_acceptor_hold(struct gw_acceptor *a, bool hold);
/* Stop watching and close the listening socket and the spare. */
void gw_acceptor_stop(struct gw_acceptor *a);
/* Stop watching and close the spare, but hand the listening socket back
 * (a reload gives it to the server that replaces this one). */
int gw_acceptor_release(struct gw_acceptor *a);

/* The address without its port: "192.0.2.1", "2001:db8::1", or "?". */
void gw_peer_host(const struct sockaddr *sa, char *out, size_t len);
/* "192.0.2.1:502", "[2001:db8::1]:502", or "?". */
void gw_peer_name(const struct sockaddr_storage *ss, char *out, size_t len);
/* The same address (IPv4 or IPv6), whatever the ports. */
bool gw_same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b);

#endif
