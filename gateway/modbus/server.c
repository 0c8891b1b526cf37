/* SPDX-License-Identifier: MIT */
/* gateway/modbus/server.c - Modbus TCP server on libev.
 *
 * bmsgw frames MBAP itself from non-blocking reads into a per-client buffer
 * (never modbus_receive(), which waits for a whole frame and lets one slow
 * client stall every other), screens each request (request.c: unit id,
 * function, quantity, address, freshness) and answers it: an exception,
 * or for a well-formed FC3 / FC4 read of the map the registers out of the
 * unit's image, which units.c keeps encoded big-endian and renews only
 * when what it shows changes (request.c also answers SunSpec reads and
 * identification).  No request ever reaches libmodbus's modbus_reply():
 * replies are built here as it builds them (the request's transaction and
 * unit id; exception function = function + 0x80), in place in one buffer
 * written once for all the requests a read brought.  Idle clients: a read
 * notes the time, and the client's timer, armed for the whole timeout,
 * looks at it when it fires (libev's "Be smart about timeouts", method 3),
 * so a request costs no timer operation.
 *
 * The same server runs Modbus/TCP Security on 802 with a TLS transport
 * under it (mbtls.c): its handshake first, then the same framing and
 * answers; a client there may write when its certificate's role is
 * [modbus_tls] write_role (control_clients is 502's rule).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../model/gw.h"
#include "../model/json.h"
#include "../core/acceptor.h"
#include "../core/log.h"
#include "../core/net.h"
#include "../core/resolve.h"
#include "../core/tlsconn.h"
#include "../poll/control.h"
#include "server_int.h"
#include "../core/util.h"

#define ACCEPT_BATCH 64 /* connections taken per readiness of the listening socket */
/* 802: fewer, so that a flood's batch does not drop many handshakes before
 * their ClientHellos, already read by the kernel, are answered (one whose
 * bytes wait is not dropped at all: mbtls.c) */
#define ACCEPT_BATCH_TLS 8
#define BATCH(srv) ((srv)->tls ? ACCEPT_BATCH_TLS : ACCEPT_BATCH)

bool gw_role_writes(const struct gw *gw, const char *role)
{
	const char *want = gw_mbtls_cfg(gw->conf)->write_role;
	return role[0] && want[0] && strcmp(role, want) == 0;
}

/* The writer a client is, for writes only (reads cost no match): on 502
 * allowed when in control_clients; on 802 (role not NULL) when its
 * certificate's role is write_role, compared as written (case matters). */
static void client_writer(struct gw *gw, const uint8_t *adu, const void *peer, const char *role,
			  struct gw_writer *wr)
{
	bool w = adu[7] == GW_FC_WRITE_SINGLE || adu[7] == GW_FC_WRITE_MULTIPLE;
	if (role) {
		wr->allowed = w && gw_role_writes(gw, role);
		wr->refused_why = "the client's certificate has not the role write_role of [modbus_tls]";
		return;
	}
	wr->allowed = w && peer && conf_nets_match(&gw->conf->gw.control_clients, peer);
	wr->refused_why = "the client is not in control_clients";
}

/* gw_screen_request() at monotonic time now (the server reads the clock once
 * for all the requests of a read). */
static void screen(struct gw *gw, const uint8_t *adu, size_t len, const void *peer, const char *role, double now,
		   struct gw_screen *out)
{
	struct gw_writer wr;
	client_writer(gw, adu, peer, role, &wr);
	gw_request_screen(gw, adu[6], adu + MBAP_LEN, len - MBAP_LEN, &wr, now, out);
}

void gw_screen_request(struct gw *gw, const uint8_t *adu, size_t len, const void *peer, struct gw_screen *out)
{
	screen(gw, adu, len, peer, NULL, gw_mono(), out);
}

void gw_screen_request_role(struct gw *gw, const uint8_t *adu, size_t len, const char *role,
			    struct gw_screen *out)
{
	screen(gw, adu, len, NULL, role ? role : "", gw_mono(), out);
}

void gw_client_free(struct gw_client *c)
{
	struct gw_server *srv = c->srv;
	struct ev_loop *loop = srv->gw->loop;
	gw_control_cancel(&c->ctl); /* the command goes on; nobody waits for the answer */
	ev_io_stop(loop, &c->io);
	ev_timer_stop(loop, &c->idle);
	if (c->handshaking)
		gw_mbtls_forget(c);
	gw_tls_close(c->tls); /* close_notify if it can; the fd is ours to close */
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	srv->nclients--;
	srv->gw->modbus_clients--; /* both servers count there */
	free(c);
}

static void client_close(struct gw_client *c, const char *why)
{
	gw_debug("client %s: %s", c->peer, why);
	c->srv->outlen = 0;
	gw_client_free(c);
}

/* Write the replies gathered for c.  -1: the write failed (or fell short),
 * the client must be dropped. */
static int client_flush(struct gw_client *c)
{
	struct gw_server *srv = c->srv;
	size_t n = srv->outlen;
	srv->outlen = 0;
	if (n == 0)
		return 0;
	if (c->tls)
		return gw_mbtls_write(c, srv->out, n);
	if (send(c->fd, srv->out, n, MSG_NOSIGNAL) == (ssize_t)n)
		return 0;
	gw_debug("client %s: reply failed: %s", c->peer, strerror(errno));
	return -1;
}

/* Room for one more reply: write what is gathered if the buffer is full. */
static int client_room(struct gw_client *c)
{
	return sizeof(c->srv->out) - c->srv->outlen < ADU_MAX ? client_flush(c) : 0;
}

/* Where the PDU of the next reply goes (function code first), after its
 * MBAP header. */
static uint8_t *reply_pdu(struct gw_server *srv)
{
	return srv->out + srv->outlen + MBAP_LEN;
}

/* The reply to adu whose PDU (pdu_len bytes) is at reply_pdu(): its MBAP
 * header (transaction id and unit id echoed, protocol 0, the length of
 * unit id + PDU), then it joins the replies to write. */
static void reply_done(struct gw_server *srv, const uint8_t *adu, size_t pdu_len)
{
	uint8_t *r = srv->out + srv->outlen;
	size_t n = 1 + pdu_len; /* unit id, PDU */
	r[0] = adu[0];
	r[1] = adu[1];
	r[2] = r[3] = 0;
	r[4] = (uint8_t)(n >> 8);
	r[5] = (uint8_t)n;
	r[6] = adu[6];
	srv->outlen += MBAP_LEN + pdu_len;
}

static void reply_exception(struct gw_server *srv, const uint8_t *adu, int exception)
{
	reply_done(srv, adu, (size_t)gw_request_exception(adu[7], exception, reply_pdu(srv)));
}

/* Answer one complete ADU.  1: it waits for a BMS. */
static void client_ctl_done(void *ctx, int exception, const char *why);

static int client_answer(struct gw_client *c, const uint8_t *adu, size_t len, double now)
{
	struct gw_server *srv = c->srv;
	struct gw_screen s;
	screen(srv->gw, adu, len, &c->addr, c->tls ? c->role : NULL, now, &s);
	if (s.write || s.why || s.settings) {
		char who[200];
		if (c->tls)
			snprintf(who, sizeof(who), "Modbus/TCP Security client %s (role \"%s\")", c->peer, c->role);
		else
			snprintf(who, sizeof(who), "Modbus client %s", c->peer);
		if (gw_request_control(srv->gw, &s, who, client_ctl_done, c, &c->ctl)) {
			/* the reply waits for the BMS: this client's further
			 * requests wait in its socket, other clients go on */
			memcpy(c->req, adu, len);
			c->req_len = len;
			ev_io_stop(srv->gw->loop, &c->io);
			return 1;
		}
	}
	c->requests++;
	srv->requests++;
	int n = s.exception ? -s.exception
			    : gw_request_answer(srv->ans, &s, adu + MBAP_LEN, len - MBAP_LEN, now, reply_pdu(srv));
	if (n < 0) {
		c->exceptions++;
		srv->exceptions++;
		gw_debug("client %s: unit %d fc %d addr %u count %u -> exception 0x%02x", c->peer,
			 s.unit, s.function, s.addr, s.count, -n);
		reply_exception(srv, adu, -n);
	} else {
		reply_done(srv, adu, (size_t)n);
	}
	return 0;
}

/* Answer every complete request in the buffer, until one waits for a BMS,
 * and write the replies.  false when the client was closed. */
bool gw_client_process(struct gw_client *c, double now)
{
	size_t at = 0;
	const char *fail = NULL;
	while (!c->ctl) {
		int al = gw_mbap_frame(c->buf + at, c->len - at);
		if (al == 0)
			break;
		if (al < 0) {
			fail = "not Modbus TCP (bad MBAP header)";
			break;
		}
		if (client_room(c) < 0) {
			fail = "write failed";
			break;
		}
		client_answer(c, c->buf + at, (size_t)al, now);
		at += (size_t)al;
	}
	/* the replies so far go out even to a client dropped for what followed */
	if (client_flush(c) < 0 && !fail)
		fail = "write failed";
	if (fail) {
		client_close(c, fail);
		return false;
	}
	memmove(c->buf, c->buf + at, c->len - at);
	c->len -= at;
	return true;
}

/* The MOSFET command of this client ended: its reply, then what waited. */
static void client_ctl_done(void *ctx, int exception, const char *why)
{
	(void)why;
	struct gw_client *c = ctx;
	struct gw_server *srv = c->srv;
	c->requests++;
	srv->requests++;
	if (exception) {
		c->exceptions++;
		srv->exceptions++;
		reply_exception(srv, c->req, exception);
	} else {
		/* the normal reply: FC06 echoes the request, FC16 gives address and count */
		uint8_t *r = reply_pdu(srv);
		memcpy(r, c->req + MBAP_LEN, 5);
		reply_done(srv, c->req, 5);
	}
	double now = gw_mono();
	c->active = now;
	ev_io_start(srv->gw->loop, &c->io);
	/* on 802 requests may wait read ahead or decrypted, which the socket does not signal */
	if (gw_client_process(c, now) && c->tls && !c->ctl)
		gw_mbtls_io(c);
}

static void client_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_client *c = container_of(w, struct gw_client, io);
	if (c->srv->tls) {
		gw_mbtls_io(c);
		return;
	}
	ssize_t n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
	if (n == 0) {
		client_close(c, "closed the connection");
		return;
	}
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		client_close(c, strerror(errno));
		return;
	}
	c->len += (size_t)n;
	double now = gw_mono();
	c->active = now;
	gw_client_process(c, now);
}

/* The idle timer: fires once the timeout has passed since the last read
 * noted, or sets itself for what is left. */
void gw_client_idle_check(struct gw_client *c, double now)
{
	struct ev_loop *loop = c->srv->gw->loop;
	double limit = c->handshaking ? GW_MBTLS_HANDSHAKE_S : c->srv->idle_timeout;
	double left = c->active + limit - now;
	if (left <= 0 && c->handshaking) {
		char why[64];
		snprintf(why, sizeof(why), "%s in %.0f s", c->tls ? "no handshake finished" : "it sent nothing",
			 GW_MBTLS_HANDSHAKE_S);
		gw_mbtls_refused(c, why);
		return;
	}
	if (left <= 0) {
		gw_debug("client %s: idle for %.0f s, dropped", c->peer, c->srv->idle_timeout);
		gw_client_free(c);
		return;
	}
	c->idle.repeat = left;
	ev_timer_again(loop, &c->idle);
}

static void client_idle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	gw_client_idle_check(container_of(w, struct gw_client, idle), gw_mono());
}

/* Clients we may hold: max_clients, or fewer when the descriptors do not allow it. */
static int client_limit(const struct gw_server *srv)
{
	int max = srv->gw->conf->gw.max_clients;
	int cap = srv->gw->client_cap;
	return cap > 0 && cap < max ? cap : max;
}

static void full_end(struct gw_server *srv)
{
	if (!srv->full)
		return;
	gw_info("%s: accepting again (%lu connection(s) refused while full)", srv->what, srv->full_refused);
	srv->full = false;
}

/* 802 beyond max_clients while handshaking, settled after it. */
#define TLS_OVER 16

static bool is_writer(const struct gw_client *c)
{
	return gw_role_writes(c->srv->gw, c->role);
}

bool gw_server_settle(struct gw_client *c)
{
	struct gw_server *srv = c->srv;
	if (srv->nclients - srv->handshakes <= client_limit(srv))
		return true;
	struct gw_client *v = NULL;
	if (is_writer(c)) /* the Operator is served: a reader idle longest gives way */
		for (struct gw_client *o = srv->clients; o; o = o->next)
			if (o != c && !o->handshaking && o->len == 0 && !is_writer(o) && (!v || o->active < v->active))
				v = o;
	if (!v)
		v = c; /* a reader beyond the limit, or only writers: the newcomer goes */
	srv->full_refused++;
	srv->refused_total++;
	gw_log_keyed(GW_LOG_INFO, srv->what, "%s: full: client %s (%s) %s", srv->what, v->peer, v->subject,
		     v == c ? "closed after its handshake" : "gives way to a writer");
	bool stays = v != c;
	gw_client_free(v);
	return stays;
}

/* At the limit, the client that gives way to a new connection from an
 * address holding less than its share (a quarter of the limit, rounded
 * up): the one idle longest, with no request in progress, of another
 * address, never an 802 writer.  NULL: the new one is refused. */
static struct gw_client *idle_victim(const struct gw_server *srv, const struct sockaddr_storage *ss, int limit)
{
	int here = 0;
	struct gw_client *v = NULL;
	for (struct gw_client *c = srv->clients; c; c = c->next) {
		if (gw_same_host(&c->addr, ss)) {
			here++;
			continue;
		}
		if (c->len == 0 && !c->handshaking && !is_writer(c) && (!v || c->active < v->active))
			v = c;
	}
	return here < (limit + 3) / 4 ? v : NULL;
}

/* A connection the acceptor took: refused at once at the limit (unless an
 * idle client of another address gives way), else a client. */
static void client_accept(void *arg, int fd, const struct sockaddr_storage *ss)
{
	struct gw_server *srv = arg;
	struct ev_loop *loop = srv->gw->loop;
	int limit = client_limit(srv);
	if (srv->tls)
		gw_mbtls_make_room(srv, ss, limit); /* a stalled handshake gives way to a new connection */
	struct gw_client *v = srv->nclients >= limit ? idle_victim(srv, ss, limit) : NULL;
	if (v) {
		gw_log_keyed(GW_LOG_INFO, srv->what, "%s: full: client %s, idle %.0f s, gives way to a new connection",
			     srv->what, v->peer, gw_mono() - v->active);
		gw_client_free(v);
	}
	/* 802: a handshake may start beyond the limit, which is settled once the
	 * certificate tells who the client is (gw_server_settle) */
	if (srv->nclients >= limit + (srv->tls ? TLS_OVER : 0)) {
		if (!srv->full) {
			srv->full = true;
			srv->full_refused = 0;
			gw_warn("%s: %d connected, the most %s: new connections are closed at once until "
				"one leaves", srv->what, srv->nclients, limit < srv->gw->conf->gw.max_clients
					? "the open-file limit allows (raise LimitNOFILE)" : "max_clients allows");
		}
		srv->full_refused++;
		srv->refused_total++;
		close(fd);
		return;
	}
	full_end(srv);
	struct gw_client *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->srv = srv;
	c->fd = fd;
	gw_peer_name(ss, c->peer, sizeof(c->peer));
	memcpy(&c->addr, ss, sizeof(*ss));
	c->since = c->active = c->hs_step = gw_mono();
	if (srv->tls)
		gw_mbtls_start(c);
	srv->accepted_total++;
	ev_io_init(&c->io, client_read_cb, fd, EV_READ);
	ev_io_start(loop, &c->io);
	ev_init(&c->idle, client_idle_cb);
	c->idle.repeat = c->handshaking ? GW_MBTLS_HANDSHAKE_S : srv->idle_timeout;
	ev_timer_again(loop, &c->idle);
	c->next = srv->clients;
	if (srv->clients)
		srv->clients->prev = c;
	srv->clients = c;
	srv->nclients++;
	srv->gw->modbus_clients++;
	gw_debug("client %s connected (%d open)", c->peer, srv->nclients);
}

/* A name in /etc/hosts (a reload must not wait for DNS). */
int gw_server_listen(const struct conf_gateway *g, bool may_block, char *err, size_t errlen)
{
	return gw_tcp_listen(g->listen_host, g->listen_port, may_block, err, errlen);
}

static void log_listening(const struct gw_server *srv)
{
	const struct conf_gateway *g = &srv->gw->conf->gw;
	const char *host = srv->tls ? gw_mbtls_cfg(srv->gw->conf)->listen_host : g->listen_host;
	int port = srv->tls ? gw_mbtls_cfg(srv->gw->conf)->listen_port : g->listen_port;
	gw_info("%s server on %s%s%s:%d, base %d, %s floats, %d pack(s)%s",
		srv->tls ? "Modbus/TCP Security" : "Modbus TCP", strchr(host, ':') ? "[" : "", host,
		strchr(host, ':') ? "]" : "", port, g->base, g->float_order == REG_FLOAT_CDAB ? "cdab" : "abcd",
		srv->gw->npacks, srv->tls ? ", clients with a certificate of [modbus_tls] ca" : "");
}

struct gw_server *gw_server_new(struct gw *gw, int listen_fd, struct gw_tls_ctx *tls)
{
	struct gw_server *srv = calloc(1, sizeof(*srv));
	if (!srv) {
		close(listen_fd);
		return NULL;
	}
	srv->gw = gw;
	srv->tls = tls;
	srv->what = tls ? "Modbus/TCP Security clients" : "Modbus clients";
	srv->idle_timeout = gw->conf->gw.idle_timeout;
	srv->ans = gw_answerer_new(gw);
	if (!srv->ans) {
		gw_err("Modbus server: out of memory");
		close(listen_fd);
		gw_server_free(srv);
		return NULL;
	}
	gw_acceptor_start(&srv->acc, gw->loop, listen_fd, BATCH(srv), srv->what, client_accept, srv);
	log_listening(srv);
	return srv;
}

void gw_server_apply(struct gw_server *srv, int listen_fd)
{
	struct gw *gw = srv->gw;
	if (listen_fd >= 0) {
		/* a new address: its clients start over there */
		int n = srv->nclients;
		while (srv->clients)
			gw_client_free(srv->clients);
		gw_acceptor_stop(&srv->acc);
		gw_acceptor_start(&srv->acc, gw->loop, listen_fd, BATCH(srv), srv->what, client_accept, srv);
		log_listening(srv);
		if (n)
			gw_info("%s: %d connection(s) of the old address closed", srv->what, n);
	}
	if (srv->idle_timeout != gw->conf->gw.idle_timeout) {
		/* the new timeout counts from now for every client */
		double now = gw_mono();
		srv->idle_timeout = gw->conf->gw.idle_timeout;
		for (struct gw_client *c = srv->clients, *next; c; c = next) {
			next = c->next;
			c->active = now;
			gw_client_idle_check(c, now);
		}
	}
}

void gw_server_info(const struct gw_server *srv, struct gw_server_info *out)
{
	memset(out, 0, sizeof(*out));
	if (!srv)
		return;
	out->clients = srv->nclients;
	out->accepted = srv->accepted_total;
	out->refused = srv->refused_total + srv->acc.closed_total;
	out->requests = srv->requests;
	out->exceptions = srv->exceptions;
	out->handshakes = srv->handshakes;
	out->silent = srv->silent;
	out->hs_failed = srv->hs_failed_total;
	out->hs_dropped = srv->hs_dropped_total;
}

void gw_server_clients_json(const struct gw_server *srv, FILE *o)
{
	fputc('[', o);
	double now = gw_mono();
	bool first = true;
	for (const struct gw_client *c = srv ? srv->clients : NULL; c; c = c->next) {
		fprintf(o, "%s{\"peer\":", first ? "" : ",");
		gw_json_str(o, c->peer);
		fprintf(o, ",\"connected_s\":%.0f,\"requests\":%lu,\"exceptions\":%lu,\"waiting_for_bms\":%s",
			now - c->since, c->requests, c->exceptions, c->ctl ? "true" : "false");
		if (srv->tls) {
			/* the certificate's subject and role are names, never secrets */
			fprintf(o, ",\"tls\":true,\"handshake\":%s,\"role\":", c->handshaking ? "true" : "false");
			gw_json_str(o, c->role);
			fprintf(o, ",\"subject\":");
			gw_json_str(o, c->subject);
		}
		fputc('}', o);
		first = false;
	}
	fputc(']', o);
}

void gw_server_free(struct gw_server *srv)
{
	if (!srv)
		return;
	while (srv->clients)
		gw_client_free(srv->clients);
	gw_acceptor_stop(&srv->acc);
	gw_answerer_free(srv->ans);
	gw_tls_ctx_free(srv->tls);
	free(srv);
}

void gw_server_set_tls(struct gw_server *srv, struct gw_tls_ctx *tls)
{
	/* connections keep the context they started with (tlsconn.c counts its
	 * references), but not a trust the new one withdrew: a session whose
	 * certificate no longer chains to [modbus_tls] ca is closed */
	gw_tls_ctx_free(srv->tls);
	srv->tls = tls;
	for (struct gw_client *c = srv->clients, *n; c; c = n) {
		n = c->next;
		char why[128];
		if (c->tls && !c->handshaking && !gw_tls_peer_trusted(c->tls, tls, why, sizeof(why))) {
			gw_warn("Modbus/TCP Security: client %s (%s) closed at the reload: its certificate is no longer "
				"trusted (%s)", c->peer, c->subject, why);
			gw_client_free(c);
		}
	}
}
