/* SPDX-License-Identifier: MIT */
/* gateway/modbus/server_int.h - the Modbus TCP server's insides, shared by
 * server.c (the clients, framing, answering, the plain transport of 502),
 * mbtls.c (the TLS transport of Modbus/TCP Security on 802: the
 * handshake, its limits, the client's role) and tlsroom.c (which
 * unfinished 802 connection gives way to a new one). */
#ifndef GATEWAY_MODBUS_SERVER_INT_H
#define GATEWAY_MODBUS_SERVER_INT_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "../core/acceptor.h"
#include "../core/tlsconn.h"
#include "mbap.h"
#include "modbus_conf.h"
#include "server.h"

/* the replies to a full input buffer (two ADUs' worth of the shortest FC3
 * requests, each answered with 125 registers) fit in one write */
#define OUT_MAX ((2 * ADU_MAX / (MBAP_LEN + 5) + 1) * ADU_MAX)

struct gw_client {
	struct gw_server *srv;
	struct gw_client *next, *prev;
	int fd;
	ev_io io;
	ev_timer idle;
	double active;                 /* monotonic time of its last read (idle timeout) */
	double hs_step;                /* 802: the last step of its handshake (or its accept) */
	bool hs_answered;              /* 802: its ClientHello was whole and answered */
	struct gw_client *hs_next, *hs_prev; /* 802: the unfinished connections, an address's together (tlsroom.c) */
	char peer[64];
	struct sockaddr_storage addr;  /* the client's address (control_clients) */
	double since;                  /* monotonic time it connected */
	unsigned long requests, exceptions;
	struct gw_ctl *ctl;            /* a MOSFET command waiting for the BMS */
	/* Modbus/TCP Security (mbtls.c); tls NULL on plain Modbus TCP */
	struct gw_tls *tls;            /* NULL too on 802 until its first bytes: one that sends nothing costs no TLS */
	bool handshaking;              /* its TLS handshake has not finished */
	char role[CONF_ROLE_MAX];      /* its certificate's role, "" = none */
	char subject[128];             /* its certificate's subject */
	uint8_t req[ADU_MAX];          /* its request, for the reply */
	size_t req_len;
	size_t len;
	uint8_t buf[ADU_MAX * 2];
};

struct gw_server {
	struct gw *gw;
	struct gw_acceptor acc;   /* the listening socket */
	struct gw_answerer *ans;  /* the units' registers as sent, SunSpec, identification */
	const char *what;         /* "Modbus clients", "Modbus/TCP Security clients" */
	double idle_timeout;      /* what the clients' timers count */
	struct gw_client *clients;
	int nclients;
	/* episodes of refusals, each logged once when it starts and once when it ends */
	bool full;                /* at max_clients (or what the descriptors allow) */
	unsigned long full_refused;
	unsigned long refused_total; /* at max_clients (the acceptor counts those closed for lack of descriptors) */
	unsigned long accepted_total;  /* connections served */
	unsigned long requests, exceptions; /* answered, all clients */
	/* Modbus/TCP Security (mbtls.c): NULL on 502 */
	struct gw_tls_ctx *tls;   /* new connections take this one; a connection keeps its own */
	int handshakes;           /* in flight: connections whose handshake has not finished */
	int silent;               /* ... of them those that have sent nothing yet (no TLS state) */
	struct gw_client *unfinished; /* ... all of them, an address's together (tlsroom.c) */
	bool hs_full;             /* in an episode of handshakes dropped for new ones */
	unsigned long hs_dropped;         /* ... in it */
	unsigned long hs_dropped_total;   /* unfinished handshakes dropped for new connections */
	unsigned long hs_failed_total;    /* handshakes refused (no certificate, unknown CA ...) or timed out */
	size_t outlen;            /* replies not yet written, to the client being served */
	uint8_t out[OUT_MAX];
};

/* server.c */
void gw_client_free(struct gw_client *c);
/* Answer the complete requests in c's buffer and write the replies: false
 * when the client was closed. */
bool gw_client_process(struct gw_client *c, double now);
/* The idle (or handshake) timer of c, from its last activity. */
void gw_client_idle_check(struct gw_client *c, double now);
/* 802, after c's handshake: beyond max_clients, a reader idle longest
 * gives way to a writer, and a reader beyond it goes; false: c went. */
bool gw_server_settle(struct gw_client *c);
/* An 802 role that may write: [modbus_tls] write_role, compared as written. */
bool gw_role_writes(const struct gw *gw, const char *role);

/* mbtls.c: a new connection from ss on 802, the server holding limit
 * clients at most: room among the connections whose handshake has not
 * finished, made by dropping one (tlsroom.c says which) when the caps are
 * reached or the server is at the limit. */
void gw_mbtls_make_room(struct gw_server *srv, const struct sockaddr_storage *ss, int limit);
/* c, just accepted, starts its handshake: it waits for its first bytes
 * (its TLS state comes with them). */
void gw_mbtls_start(struct gw_client *c);
/* c (handshaking) goes: out of the counts and the unfinished list. */
void gw_mbtls_forget(struct gw_client *c);
/* The socket of a TLS client is ready (or decrypted bytes wait). */
void gw_mbtls_io(struct gw_client *c);
/* A handshake refused (why) or timed out: counted, logged, c dropped. */
void gw_mbtls_refused(struct gw_client *c, const char *why);
/* Write c's gathered replies: 0, or -1 (the client must be dropped). */
int gw_mbtls_write(struct gw_client *c, const uint8_t *p, size_t n);
/* Seconds a handshake may take. */
#define GW_MBTLS_HANDSHAKE_S 10.0

/* tlsroom.c: the unfinished connections of 802 (srv->unfinished), those of
 * one address together.  c joins them (after the others of its address),
 * or leaves them. */
void gw_room_add(struct gw_server *srv, struct gw_client *c);
void gw_room_del(struct gw_server *srv, struct gw_client *c);
/* Which of them gives way to a new connection from ss: one of ss's own
 * when ss holds per_host or more; else, when full, one of the address
 * holding the most (the new connection counted in ss's): the one whose
 * ClientHello never came whole before one that was answered, then the one
 * that moved least recently (hs_step: one that has sent nothing has not
 * moved since it connected).  NULL: none need give way (or none is left). */
struct gw_client *gw_room_victim(const struct gw_server *srv, const struct sockaddr_storage *ss, int per_host,
				 bool full);

#endif
