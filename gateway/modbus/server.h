/* SPDX-License-Identifier: MIT */
/* gateway/modbus/server.h - the Modbus TCP server (slave) of bmsgw. */
#ifndef GATEWAY_MODBUS_SERVER_H
#define GATEWAY_MODBUS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../model/gw.h"
#include "request.h"

struct gw_server;
struct gw_tls_ctx;

/* Open the listening socket of g->listen (backlog SOMAXCONN).  A numeric
 * address or a name in /etc/hosts never waits; other names go to the system
 * resolver only with may_block (at start, before anything is served).
 * Returns the fd, or -1 with the reason in err. */
int gw_server_listen(const struct conf_gateway *g, bool may_block, char *err, size_t errlen);
/* Serve Modbus TCP on listen_fd (the server owns it from now on); with tls
 * (its reference is the server's from now on), Modbus/TCP Security: each
 * client's TLS handshake first ([modbus_tls]).  NULL with a logged error on
 * failure. */
struct gw_server *gw_server_new(struct gw *gw, int listen_fd, struct gw_tls_ctx *tls);
/* A TLS server's new context (a reload: new certificate, key or CA) for the
 * connections from now on; the server takes the reference. */
void gw_server_set_tls(struct gw_server *srv, struct gw_tls_ctx *tls);
/* After gw->conf changed: listen_fd >= 0 is the new listening socket (the
 * clients of the old one are closed); a new base or idle_timeout applies at
 * once; max_clients at the next connection. */
void gw_server_apply(struct gw_server *srv, int listen_fd);
/* Counters since the start (zero for NULL). */
struct gw_server_info {
	int clients;                   /* connected now */
	unsigned long accepted;        /* connections served */
	unsigned long refused;         /* closed at once (max_clients, descriptors) */
	unsigned long requests;        /* answered */
	unsigned long exceptions;      /* of them with an exception */
	int handshakes;                /* TLS: handshakes in flight (connections whose handshake has not finished) */
	int silent;                    /* TLS: ... of them those that have sent nothing yet */
	unsigned long hs_failed;       /* TLS: handshakes refused, timed out or closed by the client */
	unsigned long hs_dropped;      /* TLS: unfinished handshakes dropped for new connections */
};
void gw_server_info(const struct gw_server *srv, struct gw_server_info *out);
/* The connected clients as a JSON array: peer, seconds connected, requests,
 * exceptions, whether one waits for a MOSFET command. */
void gw_server_clients_json(const struct gw_server *srv, FILE *o);
/* Close every client and the listening socket; NULL is fine. */
void gw_server_free(struct gw_server *srv);

/* Decide how to answer a complete ADU (request.h; bmsgw-modbus(7) and
 * bmsgw(8) "MOSFET CONTROL"): reads (FC03, FC04) of the map and of the
 * SunSpec block, identification (FC 0x11, FC 0x2B), MOSFET writes (FC06
 * to offset 17 or 18, FC16 over exactly 17-18) from a client in
 * control_clients (peer, NULL = none) to a pack with control.  Pure apart
 * from reading the gateway's pack table and the clock. */
void gw_screen_request(struct gw *gw, const uint8_t *adu, size_t len, const void *peer, struct gw_screen *out);
/* The same for a client of Modbus/TCP Security whose certificate has the
 * role role ("" or NULL: none): writes only with [modbus_tls] write_role. */
void gw_screen_request_role(struct gw *gw, const uint8_t *adu, size_t len, const char *role,
			    struct gw_screen *out);

#endif
