/* SPDX-License-Identifier: MIT */
/* gateway/modbus/upstream.c - Modbus TCP client pushing a pack's or the bank's
 * image upstream (a PLC, an inverter, a display) with FC16.
 *
 * Everything is non-blocking: connect, write, the wait for each answer.  A
 * server that accepts and never answers costs nothing but its own timeout,
 * after which the connection is dropped and reopened with backoff.  A
 * stale source is never pushed: the pusher writes only the failure flag
 * (and the online flag) so the receiver sees the failure instead of frozen
 * values.  State changes are logged once each.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "modbus_conf.h"
#include "../../conf/section.h"
#include "../model/gw.h"
#include "../core/log.h"
#include "../core/net.h"
#include "../core/resolve.h"
#include "../core/retry.h"
#include "image.h"
#include "mbap.h"
#include "upstream.h"
#include "../core/util.h"

enum up_state { UP_DOWN, UP_RESOLVING, UP_CONNECTING, UP_IDLE, UP_WAIT };

struct gw_upstream {
	struct gw *gw;
	struct conf_upstream cfg;      /* its own copy of the section */
	struct gw_upstream *next;
	enum up_state state;
	struct gw_lookup *lookup;       /* UP_RESOLVING */
	int fd;
	ev_io io;
	ev_timer tick;          /* every interval: push */
	ev_timer wait;          /* connect/answer timeout, reconnect backoff */
	struct gw_retry rt;     /* reconnect backoff, the outage logged once */
	int stale_logged;       /* -1 unknown, 0 pushing data, 1 pushing the failure flag */
	int last_exception;
	uint16_t tid;
	uint16_t image[REG_MAP_SIZE];
	/* the writes of the current push: segments of offsets */
	int nseg, seg;
	struct { int off, count; } segs[12];
	uint8_t tx[7 + 6 + 2 * GW_FC16_MAX];
	size_t txlen, txoff;
	uint8_t rx[2 * ADU_MAX];
	size_t rxlen;
	unsigned long pushes, failures;
};

static void up_io_cb(struct ev_loop *loop, ev_io *w, int revents);
static void up_connect(struct gw_upstream *u);
static void up_push(struct gw_upstream *u);

static const char *up_name(const struct gw_upstream *u)
{
	return u->cfg.name;
}

static void up_set_events(struct gw_upstream *u, int ev)
{
	ev_io_stop(u->gw->loop, &u->io);
	ev_io_set(&u->io, u->fd, ev);
	ev_io_start(u->gw->loop, &u->io);
}

/* Drop the connection and retry after the backoff; the first failure of an
 * outage is a warning, the rest debug. */
static void up_fail(struct gw_upstream *u, const char *what, int err)
{
	struct ev_loop *loop = u->gw->loop;
	if (u->state == UP_WAIT)
		u->failures++;
	gw_lookup_cancel(&u->lookup);
	ev_io_stop(loop, &u->io);
	ev_timer_stop(loop, &u->wait);
	if (u->fd >= 0)
		close(u->fd);
	u->fd = -1;
	u->state = UP_DOWN;
	char who[CONF_NAME_MAX + CONF_HOST_MAX + 32], why[300];
	snprintf(who, sizeof(who), "upstream %s: %s:%d", up_name(u), u->cfg.host, u->cfg.port);
	snprintf(why, sizeof(why), "%s%s%s", what, err ? ": " : "", err ? strerror(err) : "");
	ev_timer_set(&u->wait, gw_retry_failed(&u->rt, who, why), 0.);
	ev_timer_start(loop, &u->wait);
}

static void up_connected(struct gw_upstream *u)
{
	ev_timer_stop(u->gw->loop, &u->wait);
	u->state = UP_IDLE;
	gw_info("upstream %s: connected to %s:%d%s", up_name(u), u->cfg.host, u->cfg.port,
		gw_retry_up(&u->rt) >= 0 ? " again" : "");
	up_set_events(u, EV_READ);
	up_push(u);
}

static void up_resolved(void *arg, const struct gw_lookup_result *res)
{
	struct gw_upstream *u = arg;
	if (!res->ok) {
		char why[160];
		snprintf(why, sizeof(why), "cannot resolve the host: %s", res->error);
		up_fail(u, why, 0);
		return;
	}
	bool in_progress;
	int fd = gw_tcp_connect((const struct sockaddr *)&res->addr, res->addrlen, false, &in_progress);
	if (fd < 0) {
		up_fail(u, "connect", errno);
		return;
	}
	u->fd = fd;
	u->rxlen = 0;
	if (!in_progress) {
		up_connected(u);
		return;
	}
	u->state = UP_CONNECTING;
	up_set_events(u, EV_WRITE);
	ev_timer_stop(u->gw->loop, &u->wait);
	ev_timer_set(&u->wait, u->cfg.timeout, 0.);
	ev_timer_start(u->gw->loop, &u->wait);
}

static void up_connect(struct gw_upstream *u)
{
	u->state = UP_RESOLVING;
	/* a numeric address answers at once; a name later, from the loop */
	gw_resolve(u->gw->resolver, u->cfg.host, u->cfg.port, up_resolved, u, &u->lookup);
}

/* The server's register address the current segment writes to. */
static uint16_t seg_addr(const struct gw_upstream *u)
{
	return (uint16_t)(u->cfg.base + (u->segs[u->seg].off - u->cfg.reg_first));
}

/* Send the current segment's FC16. */
static void up_send_segment(struct gw_upstream *u)
{
	const struct conf_upstream *c = &u->cfg;
	int off = u->segs[u->seg].off, n = u->segs[u->seg].count;
	u->tid++;
	u->txlen = gw_fc16_request(u->tx, u->tid, (uint8_t)c->unit_id, seg_addr(u), u->image + off, (unsigned)n);
	u->txoff = 0;
	u->state = UP_WAIT;
	ssize_t w = send(u->fd, u->tx, u->txlen, MSG_NOSIGNAL);
	if (w < 0 && errno != EAGAIN && errno != EINTR) {
		up_fail(u, "write", errno);
		return;
	}
	if (w > 0)
		u->txoff = (size_t)w;
	up_set_events(u, u->txoff < u->txlen ? EV_READ | EV_WRITE : EV_READ);
	ev_timer_stop(u->gw->loop, &u->wait);
	ev_timer_set(&u->wait, c->timeout, 0.);
	ev_timer_start(u->gw->loop, &u->wait);
}

/* Take the source's image now and start writing it. */
static void up_push(struct gw_upstream *u)
{
	const struct conf_upstream *c = &u->cfg;
	struct gw_unit unit = { NULL, false };
	if (c->source_pack == CONF_BANK_SOURCE)
		unit.bank = true;
	else
		unit.pack = u->gw->packs[c->source_pack];
	bool online = gw_unit_online(u->gw, &unit);
	gw_unit_image(u->gw, &unit, u->image);
	u->nseg = u->seg = 0;
	if (online) {
		for (int off = c->reg_first; off <= c->reg_last; off += GW_FC16_MAX) {
			int n = c->reg_last - off + 1;
			u->segs[u->nseg].off = off;
			u->segs[u->nseg++].count = n > GW_FC16_MAX ? GW_FC16_MAX : n;
		}
	} else {
		/* never push stale values: only the failure flag, online = 0 and,
		 * with [limits], the fail-safe limits (a PLC reading the copy
		 * must not keep charging on the last ones) */
		const int offs[] = { reg_offset(REG_SRC_FAILURE), reg_offset(REG_SRC_ONLINE),
				     reg_offset(REG_SRC_LIM_CVL), reg_offset(REG_SRC_LIM_CCL), reg_offset(REG_SRC_LIM_DCL),
				     reg_offset(REG_SRC_LIM_DVL), reg_offset(REG_SRC_LIM_FLAGS), reg_offset(REG_SRC_LIM_MODE),
				     reg_offset(REG_SRC_LIM_CCL_REASON), reg_offset(REG_SRC_LIM_DCL_REASON) };
		size_t n = u->gw->conf->limits.enabled ? sizeof(offs) / sizeof(offs[0]) : 2;
		for (int off = c->reg_first; off <= c->reg_last; off++) {
			bool take = false;
			for (size_t i = 0; i < n && !take; i++)
				take = offs[i] == off;
			if (!take)
				continue;
			if (u->nseg && u->segs[u->nseg - 1].off + u->segs[u->nseg - 1].count == off)
				u->segs[u->nseg - 1].count++; /* next to the last one: one write */
			else if (u->nseg < (int)(sizeof(u->segs) / sizeof(u->segs[0]))) {
				u->segs[u->nseg].off = off;
				u->segs[u->nseg++].count = 1;
			}
		}
	}
	if (u->stale_logged != !online) {
		if (!online)
			gw_warn("upstream %s: source %s is stale: pushing only the failure flag", up_name(u),
				c->source);
		else if (u->stale_logged == 1)
			gw_info("upstream %s: source %s is fresh again: pushing registers %d..%d", up_name(u),
				c->source, c->reg_first, c->reg_last);
		u->stale_logged = !online;
	}
	if (u->nseg == 0)
		return; /* stale, and neither flag is in the pushed range */
	up_send_segment(u);
}

/* The server refused the current write (exception code). */
static void up_refused(struct gw_upstream *u, int code)
{
	u->failures++;
	if (code != u->last_exception)
		gw_warn("upstream %s: the server refused the write to %d..%d (unit %d): exception 0x%02x", up_name(u),
			u->cfg.base, u->cfg.base + u->cfg.reg_last - u->cfg.reg_first, u->cfg.unit_id, code);
	u->last_exception = code;
}

/* One complete answer frame r of n bytes (gw_mbap_frame(): MBAP + PDU,
 * n >= 8) to the current segment's FC16. */
static void up_answer(struct gw_upstream *u, const uint8_t *r, size_t n)
{
	unsigned addr = seg_addr(u), count = (unsigned)u->segs[u->seg].count;
	int code;
	enum gw_fc16_verdict v = gw_fc16_answer(r, n, u->tid, (uint16_t)addr, count, &code);
	if (v == GW_FC16_OTHER) {
		gw_debug("upstream %s: answer with transaction %u, expected %u: ignored", up_name(u),
			 (unsigned)(r[0] << 8 | r[1]), u->tid);
		return;
	}
	if (v == GW_FC16_MALFORMED) {
		char what[96];
		snprintf(what, sizeof(what), "the answer to the write of %u..%u is not FC16's (function 0x%02x, %zu bytes)",
			 addr, addr + count - 1, code & 0xFF, n);
		up_fail(u, what, 0);
		return;
	}
	ev_timer_stop(u->gw->loop, &u->wait);
	u->state = UP_IDLE;
	if (v == GW_FC16_EXCEPTION) {
		up_refused(u, code);
		return;
	}
	if (u->last_exception) {
		gw_info("upstream %s: writes accepted again", up_name(u));
		u->last_exception = 0;
	}
	if (++u->seg < u->nseg) {
		up_send_segment(u);
		return;
	}
	u->pushes++;
}

static void up_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	struct gw_upstream *u = container_of(w, struct gw_upstream, io);
	if (u->state == UP_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(u->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err)
			up_fail(u, "connect", err);
		else
			up_connected(u);
		return;
	}
	if ((revents & EV_WRITE) && u->txoff < u->txlen) {
		ssize_t n = send(u->fd, u->tx + u->txoff, u->txlen - u->txoff, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			up_fail(u, "write", errno);
			return;
		}
		if (n > 0)
			u->txoff += (size_t)n;
		if (u->txoff >= u->txlen)
			up_set_events(u, EV_READ);
	}
	if (!(revents & EV_READ))
		return;
	ssize_t n = read(u->fd, u->rx + u->rxlen, sizeof(u->rx) - u->rxlen);
	if (n == 0) {
		up_fail(u, "the server closed the connection", 0);
		return;
	}
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			up_fail(u, "read", errno);
		return;
	}
	u->rxlen += (size_t)n;
	for (int al; (al = gw_mbap_frame(u->rx, u->rxlen)) != 0;) {
		if (al < 0) {
			up_fail(u, "the answer is not Modbus TCP", 0);
			return;
		}
		/* take the frame out first: answering may send the next request */
		uint8_t frame[ADU_MAX];
		memcpy(frame, u->rx, (size_t)al);
		memmove(u->rx, u->rx + al, u->rxlen - (size_t)al);
		u->rxlen -= (size_t)al;
		if (u->state == UP_WAIT)
			up_answer(u, frame, (size_t)al);
		if (u->fd < 0)
			return;
	}
}

static void up_wait_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_upstream *u = container_of(w, struct gw_upstream, wait);
	switch (u->state) {
	case UP_CONNECTING:
		up_fail(u, "connect", ETIMEDOUT);
		break;
	case UP_WAIT:
		up_fail(u, "no answer within the timeout", 0);
		break;
	case UP_DOWN:
		up_connect(u);
		break;
	case UP_IDLE:
	case UP_RESOLVING:
		break;
	}
}

static void up_tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_upstream *u = container_of(w, struct gw_upstream, tick);
	if (u->state == UP_IDLE)
		up_push(u);
	else if (u->state == UP_WAIT)
		gw_debug("upstream %s: previous push still waiting for an answer; skipped", up_name(u));
}

static struct gw_upstream *up_new(struct gw *gw, const struct conf_upstream *cfg)
{
	struct gw_upstream *u = calloc(1, sizeof(*u));
	if (!u) {
		gw_err("upstream %s: out of memory", cfg->name);
		return NULL;
	}
	u->gw = gw;
	u->cfg = *cfg;
	u->fd = -1;
	gw_retry_init(&u->rt);
	u->stale_logged = -1;
	ev_init(&u->io, up_io_cb);
	ev_init(&u->wait, up_wait_cb);
	ev_timer_init(&u->tick, up_tick_cb, cfg->interval, cfg->interval);
	ev_timer_start(gw->loop, &u->tick);
	gw_info("upstream %s: pushing %s registers %d..%d to %s:%d unit %d address %d every %g s",
		cfg->name, cfg->source, cfg->reg_first, cfg->reg_last, cfg->host, cfg->port, cfg->unit_id,
		cfg->base, cfg->interval);
	up_connect(u);
	return u;
}

static void up_free(struct gw_upstream *u)
{
	struct ev_loop *loop = u->gw->loop;
	gw_lookup_cancel(&u->lookup);
	ev_io_stop(loop, &u->io);
	ev_timer_stop(loop, &u->tick);
	ev_timer_stop(loop, &u->wait);
	if (u->fd >= 0)
		close(u->fd);
	free(u);
}

/* The same pusher under the new section: its name and every key that
 * restarts it (modbus_conf.c: all of them, destination, source and
 * schedule): a reload keeps it as it is. */
static bool up_same(const struct conf_upstream *a, const struct conf_upstream *b)
{
	return strcmp(a->name, b->name) == 0 && conf_section_same(&gw_upstream_section, CONF_RESTART, a, b);
}

const struct conf_upstream *gw_upstream_conf(const struct gw_upstream *list, const char *name)
{
	for (const struct gw_upstream *u = list; u; u = u->next)
		if (strcmp(u->cfg.name, name) == 0)
			return &u->cfg;
	return NULL;
}

struct gw_upstream *gw_upstreams_apply(struct gw *gw, struct gw_upstream *old)
{
	const struct conf *c = gw->conf;
	struct gw_upstream *head = NULL, **tail = &head;
	for (int i = 0; i < gw_nupstreams(c); i++) {
		const struct conf_upstream *cfg = gw_upstream_cfg(c, i);
		struct gw_upstream **pp = &old, *u;
		while ((u = *pp) && !up_same(&u->cfg, cfg))
			pp = &u->next;
		if (u) {
			*pp = u->next; /* unchanged: keep it, connection and all */
			u->cfg.source_pack = cfg->source_pack; /* its source may have moved in the pack list */
		} else if (!(u = up_new(gw, cfg))) {
			continue;
		}
		u->next = NULL;
		*tail = u;
		tail = &u->next;
	}
	while (old) {
		struct gw_upstream *n = old->next;
		gw_info("upstream %s: stopped", old->cfg.name);
		up_free(old);
		old = n;
	}
	return head;
}

void gw_upstream_info(const struct gw_upstream *u, struct gw_upstream_info *out)
{
	out->cfg = &u->cfg;
	out->connected = u->state == UP_IDLE || u->state == UP_WAIT;
	out->source_stale = u->stale_logged == 1;
	out->pushes = u->pushes;
	out->failures = u->failures;
	out->last_exception = u->last_exception;
	out->next = u->next;
}

void gw_upstreams_free(struct gw_upstream *list)
{
	while (list) {
		struct gw_upstream *n = list->next;
		up_free(list);
		list = n;
	}
}
