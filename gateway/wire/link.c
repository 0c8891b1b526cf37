/* SPDX-License-Identifier: MIT */
/* gateway/wire/link.c - one wire: the generic link (see wire.h, wire_int.h).
 *
 * What is common to every kind of link lives here: the state (down,
 * resolving, connecting, up), the reopen with capped exponential backoff
 * and the outage logged once when it starts and once when it ends
 * (core/retry.c), the send buffer, the owner's callbacks, and what the
 * descriptor-based transports (serial.c, tcp.c) share: the watcher that
 * reads, writes and completes a connect.  It calls a transport only
 * through l->tr and names none (transports.c does); Bluetooth LE is ble/.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../conf/section.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/util.h"
#include "wire_int.h"

static void link_io_cb(struct ev_loop *loop, ev_io *w, int revents);

/* ---- the owner ---- */

static void nop(void *arg)
{
	(void)arg;
}

static void nop_bytes(void *arg, const uint8_t *p, size_t n)
{
	(void)arg;
	(void)p;
	(void)n;
}

/* Until someone installs itself, nobody listens. */
static const struct gw_link_owner no_owner = { nop, nop, nop_bytes, nop, nop };

void gw_link_set_owner(struct gw_link *l, const struct gw_link_owner *o, void *arg)
{
	l->owner = o ? o : &no_owner;
	l->owner_arg = arg;
}

/* ---- descriptor-based transports ---- */

void gw_link_set_events(struct gw_link *l)
{
	int ev = EV_READ;
	if (l->state == GW_LINK_CONNECTING || l->txoff < l->txlen)
		ev |= EV_WRITE;
	if (ev_is_active(&l->io) && l->io.events == ev)
		return;
	ev_io_stop(l->env->loop, &l->io);
	ev_io_set(&l->io, l->fd, ev);
	ev_io_start(l->env->loop, &l->io);
}

void gw_link_failed(struct gw_link *l, const char *what, int err)
{
	char why[160];
	snprintf(why, sizeof(why), "%s: %s", what, err ? strerror(err) : "failed");
	gw_link_close(l, why);
}

/* The wire's descriptor is open: watch it, from an empty buffer. */
void gw_link_attach(struct gw_link *l, int fd)
{
	l->fd = fd;
	ev_io_init(&l->io, link_io_cb, fd, EV_READ);
	l->txlen = l->txoff = 0;
}

/* serial and TCP: the descriptor */
void gw_link_fd_close(struct gw_link *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

void gw_link_free_data(struct gw_link *l)
{
	free(l->tr_data);
	l->tr_data = NULL;
}

static size_t fd_drain(struct gw_link *l)
{
	uint8_t buf[512];
	ssize_t n;
	size_t total = 0;
	while ((n = read(l->fd, buf, sizeof(buf))) > 0)
		total += (size_t)n;
	return total;
}

/* Write what the descriptor takes now, the rest when it is writable. */
static int write_some(struct gw_link *l)
{
	ssize_t w = write(l->fd, l->tx + l->txoff, l->txlen - l->txoff);
	if (w < 0 && errno != EAGAIN && errno != EINTR) {
		gw_link_failed(l, "write", errno);
		return -1;
	}
	if (w > 0)
		l->txoff += (size_t)w;
	if (l->txoff >= l->txlen)
		l->txlen = l->txoff = 0;
	gw_link_set_events(l);
	return 0;
}

int gw_link_fd_write(struct gw_link *l)
{
	return write_some(l);
}

/* A non-blocking connect finished (EV_WRITE): up, or the reason it failed. */
static void connected(struct gw_link *l)
{
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(l->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err)
		gw_link_failed(l, "connect", err);
	else
		gw_link_up(l);
}

/* Read what is there (at most 16 reads a turn, so one busy wire cannot
 * starve the loop). */
/* A read of 0 bytes: the end of the wire, or (a raw tty) only an empty
 * one.  A hung-up tty polls POLLHUP or POLLERR (the kernel's
 * hung_up_tty_poll()); an empty one does not.  poll() with no wait does
 * not block. */
static bool zero_read_is_eof(struct gw_link *l)
{
	if (!l->tr->zero_read_may_be_empty)
		return true;
	struct pollfd pfd = { .fd = l->fd, .events = POLLIN };
	return poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLHUP | POLLERR | POLLNVAL));
}

static void read_some(struct gw_link *l)
{
	uint8_t buf[512];
	for (int i = 0; i < 16; i++) {
		ssize_t n = read(l->fd, buf, sizeof(buf));
		if (n > 0) {
			gw_link_bytes(l, buf, (size_t)n);
			if (l->state != GW_LINK_UP || (size_t)n < sizeof(buf))
				return;
			continue;
		}
		if (n == 0) {
			/* TCP: the server closed; tty: the adapter vanished (hangup),
			 * or only nothing to read */
			if (zero_read_is_eof(l))
				gw_link_failed(l, l->tr->eof_why ? l->tr->eof_why : "end of file", 0);
			return;
		}
		if (errno != EAGAIN && errno != EINTR)
			gw_link_failed(l, "read", errno);
		return;
	}
}

static void link_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	struct gw_link *l = container_of(w, struct gw_link, io);
	if (l->state == GW_LINK_CONNECTING) {
		if (revents & EV_WRITE)
			connected(l);
		return;
	}
	if (revents & EV_WRITE && l->txoff < l->txlen) {
		if (write_some(l) < 0)
			return;
		if (!l->txlen)
			l->owner->drained(l->owner_arg);
	}
	if ((revents & EV_READ) && l->state == GW_LINK_UP)
		read_some(l);
}

/* ---- every link ---- */

void gw_link_up(struct gw_link *l)
{
	l->state = GW_LINK_UP;
	l->opens++;
	l->connections++;
	l->turn_at = gw_mono();
	ev_timer_stop(l->env->loop, &l->conn_timer);
	bool covered = gw_retry_was_covered(&l->rt);
	double outage = gw_retry_up(&l->rt);
	if (covered)
		gw_debug("link %s: back (its outage was its proxy's, logged with it)", l->port);
	else if (outage >= 0)
		gw_info("link %s: back after %.0f s", l->port, outage);
	else
		gw_info("link %s: open", l->port);
	if (l->fd >= 0)
		gw_link_set_events(l);
	l->owner->up(l->owner_arg);
}

void gw_link_park(struct gw_link *l)
{
	l->state = GW_LINK_CONNECTING;
	l->txlen = l->txoff = 0;
	l->parks++;
}

void gw_link_unpark(struct gw_link *l)
{
	double now = gw_mono();
	if (l->turn_at > 0)
		l->round_s = now - l->turn_at;
	l->turn_at = now;
	l->state = GW_LINK_UP;
	l->connections++; /* a new connection to the BMS, though no outage ended */
	l->owner->up(l->owner_arg);
}

void gw_link_idle(struct gw_link *l)
{
	if (l->tr->idle && l->state == GW_LINK_UP)
		l->tr->idle(l);
}

static void conn_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_link *l = container_of(w, struct gw_link, conn_timer);
	if (l->state == GW_LINK_CONNECTING)
		gw_link_failed(l, "connect", ETIMEDOUT);
	else if (l->state == GW_LINK_DOWN)
		gw_link_open(l);
}

struct gw_link *gw_link_alloc(struct gw_link_env *env, const struct gw_transport *tr, const char *port)
{
	struct gw_link *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->env = env;
	l->tr = tr;
	l->port = port;
	l->fd = -1;
	l->state = GW_LINK_DOWN;
	gw_retry_init(&l->rt);
	gw_link_set_owner(l, NULL, NULL);
	ev_init(&l->conn_timer, conn_timer_cb);
	ev_init(&l->io, link_io_cb);
	return l;
}

void gw_link_copy_port(struct gw_link *l, const char *port)
{
	snprintf(l->port_buf, sizeof(l->port_buf), "%s", port);
	l->port = l->port_buf;
}

void gw_link_free(struct gw_link *l)
{
	if (!l)
		return;
	l->owner->gone(l->owner_arg);
	gw_link_set_owner(l, NULL, NULL);
	gw_link_close(l, NULL);
	(l->tr->release ? l->tr->release : gw_link_free_data)(l);
	free(l);
}

bool gw_link_is_up(const struct gw_link *l)
{
	return l->state == GW_LINK_UP;
}

const char *gw_link_port(const struct gw_link *l)
{
	return l->port;
}

void gw_link_info(const struct gw_link *l, struct gw_link_info *out)
{
	out->port = l->port;
	out->kind = l->tr->name;
	out->state = l->state;
	out->opens = l->opens;
	out->down_since = l->rt.outage_logged ? l->rt.down_since : -1;
	out->turns = l->parks > 0;
	out->round_s = l->round_s;
	out->why = l->why;
}

enum gw_link_state gw_link_state(const struct gw_link *l)
{
	return l->state;
}

unsigned long gw_link_opens(const struct gw_link *l)
{
	return l->opens;
}

unsigned long gw_link_connections(const struct gw_link *l)
{
	return l->connections;
}

enum bms_link gw_link_bms_link(const struct gw_link *l)
{
	return l->tr->bms_link;
}

const char *gw_link_peer_name(const struct gw_link *l)
{
	const char *name = l->tr->peer_name ? l->tr->peer_name(l) : NULL;
	return name ? name : "";
}

size_t gw_link_ble_piece(const struct gw_link *l, bool write_cmd, unsigned mtu, size_t left)
{
	size_t piece = write_cmd && mtu > 3 ? mtu - 3 : left;
	const struct bms_ble *ble = l->cfg->driver->ble;
	unsigned most = ble ? ble->write_piece : 0;
	if (most && most < piece)
		piece = most;
	return left < piece ? left : piece;
}

int gw_link_ble_layout(const struct gw_link *l)
{
	return l->ble_layout;
}

int gw_link_fds(const struct gw_link *l)
{
	return l->tr->fds;
}

unsigned gw_link_silent_reopen(const struct gw_link *l, const char **why)
{
	*why = l->tr->silent_why;
	return l->tr->silent_reopen;
}

const struct conf_pack *gw_link_cfg(const struct gw_link *l)
{
	return l->cfg;
}

void gw_link_rebind(struct gw_link *l, const struct conf_pack *cfg)
{
	l->cfg = cfg;
	if (cfg)
		l->port = cfg->port;
}

bool gw_link_same_wire(const struct conf_pack *a, const struct conf_pack *b)
{
	if (a->is_can) /* the same bus, protocol and bit rate (`bitrate` relinks) */
		return b->is_can && strcmp(a->port, b->port) == 0 && a->driver == b->driver &&
		       a->bitrate == b->bitrate;
	if (a->is_mqtt) /* the same topic through the same broker and login */
		return b->is_mqtt && strcmp(a->port, b->port) == 0 && conf_broker_same(&a->broker, &b->broker) &&
		       strcmp(a->name, b->name) == 0; /* its client id names the pack */
	/* a serial line: every key of a pack that relinks (port, baud) */
	if (!a->is_tcp && !a->is_ble)
		return conf_section_same(&conf_sect_pack, CONF_RELINK, a, b);
	/* a tcp:// or ble:// wire has no baud rate; a ble:// one is the same
	 * device through the same adapter (local, or a proxy of the same keys) */
	return strcmp(a->port, b->port) == 0 && strcmp(a->ble_adapter, b->ble_adapter) == 0 &&
	       a->via_proxy == b->via_proxy && (!a->via_proxy || conf_ble_proxy_same(&a->proxy, &b->proxy));
}

void gw_link_open(struct gw_link *l)
{
	l->tr->open(l);
}

/* Close l; why: it failed (the reopen scheduled after the backoff, the
 * outage logged, or covered by another's line). */
static void close_link(struct gw_link *l, const char *why, bool covered)
{
	struct ev_loop *loop = l->env->loop;
	bool was_up = l->state != GW_LINK_DOWN;
	ev_io_stop(loop, &l->io);
	ev_timer_stop(loop, &l->conn_timer);
	l->tr->close(l);
	l->state = GW_LINK_DOWN;
	l->txlen = l->txoff = 0;
	if (why) {
		char who[CONF_PORT_MAX + 8];
		snprintf(l->why, sizeof(l->why), "%s", why);
		snprintf(who, sizeof(who), "link %s", l->port);
		ev_timer_set(&l->conn_timer,
			     covered ? gw_retry_failed_covered(&l->rt, who, why) : gw_retry_failed(&l->rt, who, why), 0.);
		ev_timer_start(loop, &l->conn_timer);
	}
	/* a failed open or connect also tells the owner (its polls fail until the wire is back) */
	if (why || was_up)
		l->owner->down(l->owner_arg);
}

void gw_link_close(struct gw_link *l, const char *why)
{
	close_link(l, why, false);
}

void gw_link_closef(struct gw_link *l, const char *fmt, ...)
{
	char why[320];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	close_link(l, why, false);
}

void gw_link_close_covered(struct gw_link *l, const char *why)
{
	close_link(l, why, true);
}

void gw_link_lost(struct gw_link *l)
{
	ev_io_stop(l->env->loop, &l->io);
	ev_timer_stop(l->env->loop, &l->conn_timer);
	l->state = GW_LINK_DOWN;
	l->txlen = l->txoff = 0;
	l->owner->down(l->owner_arg);
}

int gw_link_set_baud(struct gw_link *l, int baud)
{
	return l->tr->set_baud ? l->tr->set_baud(l, baud) : 0;
}

/* the transport's write, or the byte stream's on l->fd */
static int tr_write(struct gw_link *l)
{
	return (l->tr->write ? l->tr->write : gw_link_fd_write)(l);
}

size_t gw_link_drain(struct gw_link *l)
{
	return l->state == GW_LINK_UP && !l->tr->messages ? fd_drain(l) : 0;
}

size_t gw_link_room(const struct gw_link *l)
{
	return l->state == GW_LINK_UP ? sizeof(l->tx) - (l->txlen - l->txoff) : 0;
}

int gw_link_append(struct gw_link *l, const uint8_t *p, size_t n)
{
	if (l->state != GW_LINK_UP)
		return -1;
	if (l->txoff) {
		memmove(l->tx, l->tx + l->txoff, l->txlen - l->txoff);
		l->txlen -= l->txoff;
		l->txoff = 0;
	}
	size_t room = sizeof(l->tx) - l->txlen;
	if (n > room)
		n = room;
	if (!n)
		return 0;
	memcpy(l->tx + l->txlen, p, n);
	l->txlen += n;
	gw_log_hex(l->port, p, n);
	if (tr_write(l) < 0)
		return -1;
	return (int)n;
}

/* p[0..n) queued whole (the debug log shows them, or with secret their
 * length only). */
static int link_send(struct gw_link *l, const uint8_t *p, size_t n, bool secret)
{
	if (l->state != GW_LINK_UP || n > sizeof(l->tx))
		return -1;
	memcpy(l->tx, p, n);
	l->txlen = n;
	l->txoff = 0;
	if (secret)
		gw_debug("%s (%zu bytes): a secret (the pack's pin), not shown", l->port, n);
	else
		gw_log_hex(l->port, p, n);
	return tr_write(l);
}

int gw_link_send(struct gw_link *l, const uint8_t *p, size_t n)
{
	return link_send(l, p, n, false);
}

int gw_link_send_secret(struct gw_link *l, const uint8_t *p, size_t n)
{
	return link_send(l, p, n, true);
}

void gw_link_bytes(struct gw_link *l, const uint8_t *p, size_t n)
{
	gw_log_hex(l->port, p, n);
	l->owner->bytes(l->owner_arg, p, n);
}
