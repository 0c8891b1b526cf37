/* SPDX-License-Identifier: MIT */
/* gateway/modbus/mbtls.c - the TLS transport of the Modbus TCP server:
 * Modbus/TCP Security (Modbus.org MB-TCP-Security v36, 2021) on port 802,
 * the MBAP ADU unchanged inside TLS 1.2 or later, with a client certificate
 * that chains to [modbus_tls] ca.
 *
 * A connection's handshake runs on the loop as steps (core/tlsconn.c):
 * whatever GnuTLS waits for (the socket readable or writable) becomes the
 * client's ev_io events.  Once it is done, the client's role is read from
 * its certificate's RoleOID extension (1.3.6.1.4.1.50316.802.1, an ASN.1
 * UTF8String: MB-TCP-Security v36, listed with the other
 * specifications at https://modbus.org/modbus-specifications; the OID and
 * its UTF8String as a client sends them, with the openssl command that
 * makes one: https://docs.aveva.com/bundle/adapter-for-modbus-tcp/page/1561624.html;
 * one role per certificate, the first extension is the one read, R-65; no
 * extension, no role, R-23).  server.c decides each write by it: the role
 * must be write_role as written, case included (the specification names
 * roles, it folds no case; an exact match never lets a certificate write
 * that the PKI did not mean to).  Then requests are decrypted into the client's
 * buffer and answered by server.c as on 502; bytes already read ahead or
 * decrypted are taken without waiting for the socket.
 *
 * A handshake costs the server a slot and a timer until it finishes, so a
 * client that opens many and finishes none must not keep a good client
 * out: at most HS_MAX connections are unfinished (HS_PER_HOST from one
 * address), each has GW_MBTLS_HANDSHAKE_S seconds, and a new connection
 * beyond the caps (or at max_clients) makes one of them give way, of the
 * address that holds the most (tlsroom.c says which and why).  A
 * connection that has sent nothing costs no TLS state: its GnuTLS session
 * is made when its first bytes come (a flood of silent connections makes
 * none), and one whose bytes wait unread has moved, so it never gives way
 * for that flood.  A real handshake finishes in milliseconds, so only a
 * stalled one, or one of a flooding address, is ever dropped.  An episode
 * of drops is logged once when it starts and once when it ends, as the
 * server logs its max_clients episodes; a refused handshake is logged with
 * its reason, by address (the log folds repeats).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "../core/acceptor.h"
#include "../core/log.h"
#include "../core/tlsconn.h"
#include "server_int.h"

#define HS_MAX 64       /* handshakes in flight */
#define HS_PER_HOST 16  /* ... from one address */
#define ROLE_OID "1.3.6.1.4.1.50316.802.1"

static void drops_end(struct gw_server *srv)
{
	if (!srv->hs_full || srv->handshakes > 0)
		return;
	gw_info("Modbus/TCP Security: no handshake in flight any more (%lu unfinished one(s) dropped for new "
		"connections)", srv->hs_dropped);
	srv->hs_full = false;
}

/* c has bytes waiting that the loop has not read yet: it has moved (a
 * good client whose ClientHello came while the flood was being accepted). */
static bool bytes_wait(struct gw_client *c)
{
	int n = 0;
	return (ioctl(c->fd, FIONREAD, &n) == 0 && n > 0) || (c->tls && gw_tls_pending(c->tls));
}

/* Who gives way to a new connection from ss (NULL: nobody): tlsroom.c's
 * choice, unless its bytes wait unread; then it has moved, and the choice
 * is made again (four times at most: the fifth goes whatever it holds). */
static struct gw_client *victim(struct gw_server *srv, const struct sockaddr_storage *ss, bool full)
{
	for (int i = 0;; i++) {
		struct gw_client *v = gw_room_victim(srv, ss, HS_PER_HOST, full);
		if (!v || i == 4 || !bytes_wait(v))
			return v;
		v->hs_step = gw_mono();
	}
}

void gw_mbtls_make_room(struct gw_server *srv, const struct sockaddr_storage *ss, int limit)
{
	struct gw_client *drop = victim(srv, ss, srv->handshakes >= HS_MAX || srv->nclients >= limit);
	if (!drop)
		return;
	if (!srv->hs_full) {
		srv->hs_full = true;
		srv->hs_dropped = 0;
		char host[64];
		gw_peer_host((const struct sockaddr *)ss, host, sizeof(host));
		gw_warn("Modbus/TCP Security: %d TLS handshakes in flight (%d of them have sent nothing; at most %d, %d "
			"from one address, %d clients) at a new connection from %s: one of the address that holds the "
			"most gives way to each new connection, one that has not moved first", srv->handshakes,
			srv->silent, HS_MAX, HS_PER_HOST, limit, host);
	}
	srv->hs_dropped++;
	srv->hs_dropped_total++;
	gw_debug("Modbus/TCP Security: client %s dropped in its handshake (%s) for a new connection", drop->peer,
		 drop->tls ? "it had sent bytes" : "it had sent nothing");
	/* closed with a reset: a flood's thousands of dropped connections a
	 * second leave no TIME_WAIT behind in the kernel (nor in a connection
	 * tracker, whose full table would drop good clients' SYNs) */
	struct linger abort_close = { 1, 0 };
	setsockopt(drop->fd, SOL_SOCKET, SO_LINGER, &abort_close, sizeof(abort_close));
	gw_client_free(drop);
}

void gw_mbtls_start(struct gw_client *c)
{
	struct gw_server *srv = c->srv;
	c->handshaking = true;
	srv->handshakes++;
	srv->silent++;
	gw_room_add(srv, c);
}

void gw_mbtls_forget(struct gw_client *c)
{
	struct gw_server *srv = c->srv;
	c->handshaking = false;
	srv->handshakes--;
	if (!c->tls)
		srv->silent--;
	gw_room_del(srv, c);
}

void gw_mbtls_refused(struct gw_client *c, const char *why)
{
	struct gw_server *srv = c->srv;
	char host[64];
	gw_peer_host((const struct sockaddr *)&c->addr, host, sizeof(host));
	srv->hs_failed_total++;
	char key[160];
	snprintf(key, sizeof(key), "802 refused %.64s %.80s", host, why); /* one line per address, reason and 10 s */
	gw_log_keyed(GW_LOG_INFO, key, "Modbus/TCP Security: a client at %s refused in the TLS handshake: %s", host,
		     why);
	gw_client_free(c);
	drops_end(srv);
}

/* A client that closed before its handshake finished (a port check, a
 * client that refused our certificate, a flood dropping its sockets):
 * counted with the failures, logged only at debug. */
static void gone(struct gw_client *c, const char *why)
{
	struct gw_server *srv = c->srv;
	srv->hs_failed_total++;
	gw_debug("Modbus/TCP Security: client %s: %s", c->peer, why);
	gw_client_free(c);
	drops_end(srv);
}

/* c's first bytes, or its close, may have come: its TLS state now (none
 * before: a connection that sends nothing costs no GnuTLS session).  1:
 * started; 0: nothing yet; -1: it went. */
static int wake(struct gw_client *c)
{
	uint8_t b;
	ssize_t k = recv(c->fd, &b, 1, MSG_PEEK);
	if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	if (k <= 0) {
		gone(c, k == 0 ? "closed the connection before its handshake" : strerror(errno));
		return -1;
	}
	/* the server's context now (a reload may have changed it since the accept) */
	c->tls = gw_tls_accept_new(c->srv->tls, c->fd);
	if (!c->tls) {
		gw_err("Modbus/TCP Security: out of memory for a TLS connection");
		gw_client_free(c);
		return -1;
	}
	c->srv->silent--;
	return 1;
}

/* Wait for what GnuTLS waits for. */
static void want(struct gw_client *c, enum gw_tls_st st)
{
	int ev = st == GW_TLS_WANT_WRITE ? EV_WRITE : EV_READ;
	if ((c->io.events & (EV_READ | EV_WRITE)) == ev)
		return;
	struct ev_loop *loop = c->srv->gw->loop;
	bool active = ev_is_active(&c->io);
	ev_io_stop(loop, &c->io);
	ev_io_set(&c->io, c->fd, ev);
	if (active)
		ev_io_start(loop, &c->io);
}

/* The handshake has finished: who the client is, what it may do; false:
 * it went (beyond max_clients). */
static bool handshake_done(struct gw_client *c)
{
	struct gw_server *srv = c->srv;
	gw_mbtls_forget(c);
	gw_tls_peer_subject(c->tls, c->subject, sizeof(c->subject));
	int r = gw_tls_peer_ext_utf8(c->tls, ROLE_OID, c->role, sizeof(c->role));
	bool writer = gw_role_writes(srv->gw, c->role); /* c->role is "" unless r > 0 */
	char key[200], host[64];
	gw_peer_host((const struct sockaddr *)&c->addr, host, sizeof(host));
	/* one line per address, certificate and 10 s */
	snprintf(key, sizeof(key), "802 connected %.64s %.60s %d %.24s", host, c->subject, r, r > 0 ? c->role : "");
	gw_log_keyed(GW_LOG_INFO, key, "Modbus/TCP Security: client %s connected (%s), certificate \"%s\", %s%s%s: %s",
		     c->peer, gw_tls_version(c->tls), c->subject, r > 0 ? "role \"" : r == 0 ? "no role" : "a role "
		     "that is not one UTF8String", r > 0 ? c->role : "", r > 0 ? "\"" : "",
		     writer ? "reads and writes" : "reads only");
	double now = gw_mono();
	c->active = now;
	drops_end(srv);
	if (!gw_server_settle(c))
		return false;
	gw_client_idle_check(c, now); /* the idle timeout from now on */
	return true;
}

/* Decrypt into the buffer every record held, and what one read of the
 * socket gives (tlsconn.c reads ahead), while there is room; GnuTLS
 * gives a record at a time.  GW_TLS_OK: the buffer is full or nothing more
 * is held; else what to wait for, or how it ended. */
static enum gw_tls_st take(struct gw_client *c, char *why, size_t wl)
{
	enum gw_tls_st st;
	do {
		size_t got = 0;
		st = gw_tls_read(c->tls, c->buf + c->len, sizeof(c->buf) - c->len, &got, why, wl);
		c->len += got;
	} while (st == GW_TLS_OK && c->len < sizeof(c->buf) && gw_tls_pending(c->tls));
	return st;
}

/* Requests decrypted into the buffer and answered, those that came
 * together with one write (one record) for all their replies, one socket
 * read at a time (the ev_io is level-triggered: a client with more to
 * send is served again after the others), and whatever was already read. */
static void pump(struct gw_client *c)
{
	char why[160];
	while (!c->ctl) {
		size_t had = c->len;
		enum gw_tls_st st = take(c, why, sizeof(why));
		if (c->len > had) {
			double now = gw_mono();
			c->active = now;
			if (!gw_client_process(c, now))
				return;
		}
		if (st == GW_TLS_WANT_READ || st == GW_TLS_WANT_WRITE) {
			want(c, st);
			return;
		}
		if (st != GW_TLS_OK) {
			gw_debug("client %s: %s", c->peer, why);
			gw_client_free(c);
			return;
		}
		if (!gw_tls_pending(c->tls)) {
			want(c, GW_TLS_WANT_READ);
			return;
		}
	}
}

void gw_mbtls_io(struct gw_client *c)
{
	if (c->handshaking) {
		if (!c->tls && wake(c) <= 0)
			return;
		char why[256];
		c->hs_step = gw_mono(); /* it sent something: a handshake that moves */
		enum gw_tls_st st = gw_tls_handshake(c->tls, why, sizeof(why));
		c->hs_answered = c->hs_answered || gw_tls_answered(c->tls);
		if (st == GW_TLS_WANT_READ || st == GW_TLS_WANT_WRITE) {
			want(c, st);
			return;
		}
		if (st == GW_TLS_CLOSED)
			gone(c, why);
		else if (st != GW_TLS_OK)
			gw_mbtls_refused(c, why);
		if (st != GW_TLS_OK)
			return;
		if (!handshake_done(c))
			return;
	}
	pump(c);
}

int gw_mbtls_write(struct gw_client *c, const uint8_t *p, size_t n)
{
	char why[160];
	enum gw_tls_st st = gw_tls_write(c->tls, p, n, why, sizeof(why));
	if (st == GW_TLS_OK)
		return 0;
	/* as on 502: a client that does not take its replies is dropped */
	gw_debug("client %s: reply failed: %s", c->peer,
		 st == GW_TLS_FAILED ? why : "the socket is full (the client does not read)");
	return -1;
}
