/* SPDX-License-Identifier: MIT */
/* gateway/poll/bus_engine.c - the transaction engine of a bus (see bus_engine.h).
 *
 *   IDLE  the clients are asked, in order (control, then the poller); one
 *         starts a transaction, or the poller asks to be woken when its next
 *         pack is due
 *   GAP   the protocol's inter-frame silence (bytes heard restart it, for at
 *         most one timeout); at its end a client ahead of the one whose gap
 *         it is may take the wire (a MOSFET command before the next poll
 *         step), else its client sends (or listens)
 *   WAIT  what arrives goes through the framer of the transaction's pack to
 *         its client's frame(); the timeout is its client's timeout()
 *
 * The link's owner callbacks are here: bytes, up, down (every client's
 * transactions stop), gone.  So is the lending of the wire to a maintenance
 * tool.  Nothing here blocks: every wait is the timer below.
 */
#include "bus_engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "../core/log.h"
#include "../core/util.h"
#include "listener.h"

static void lend_now(struct gw_bus *w);

/* The timer of a bus: the silence before a frame, the response timeout,
 * the next poll.  libev's epoll backend sleeps whole milliseconds, at least
 * one (a 3.6 ms gap became 4-5 ms, a 0.3 ms one 1 ms), so the timer is a
 * timerfd (CLOCK_MONOTONIC, ns) read by an ev_io; an ev_timer stands in if
 * no timerfd could be made. */
static void disarm(struct gw_bus *w)
{
	ev_timer_stop(w->gw->loop, &w->poll_timer);
	if (w->poll_tfd >= 0) {
		struct itimerspec off;
		memset(&off, 0, sizeof(off));
		timerfd_settime(w->poll_tfd, 0, &off, NULL);
		ev_io_stop(w->gw->loop, &w->poll_tio);
	}
}

static void arm(struct gw_bus *w, double after)
{
	disarm(w);
	if (after < 0)
		after = 0;
	if (w->poll_tfd >= 0) {
		struct itimerspec its;
		memset(&its, 0, sizeof(its));
		its.it_value.tv_sec = (time_t)after;
		its.it_value.tv_nsec = (long)((after - (double)its.it_value.tv_sec) * 1e9);
		if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
			its.it_value.tv_nsec = 1; /* all zero would disarm it */
		if (timerfd_settime(w->poll_tfd, 0, &its, NULL) == 0) {
			ev_io_start(w->gw->loop, &w->poll_tio);
			return;
		}
	}
	ev_timer_set(&w->poll_timer, after, 0.);
	ev_timer_start(w->gw->loop, &w->poll_timer);
}

/* May client i start a transaction now?  Never while the daemon stops, the
 * wire is lent, or another master polls the bus (a listening bus is never
 * written). */
static bool ask(struct gw_bus *w, int i)
{
	if (w->gw->stopping || w->lent || (w->li && !gw_listener_polls(w->li)))
		return false;
	return w->clients[i]->start(w);
}

void gw_bus_next(struct gw_bus *w)
{
	if (w->lending && w->ps == GW_BUS_IDLE)
		lend_now(w);
	if (w->ps != GW_BUS_IDLE)
		return;
	for (int i = 0; i < GW_BUS_CLIENTS; i++)
		if (ask(w, i))
			return;
}

void gw_bus_wake(struct gw_bus *w, double after)
{
	arm(w, after);
}

bool gw_bus_lent_now(struct gw_bus *w)
{
	if (!w->lending)
		return false;
	lend_now(w); /* the exchange on the wire is over: the tool's turn */
	return true;
}

void gw_bus_gap(struct gw_bus *w, enum gw_bus_who who, struct gw_pack *p, bool write)
{
	if (gw_bus_lent_now(w))
		return;
	w->who = who;
	w->xp = p;
	w->xwrite = write;
	w->ps = GW_BUS_GAP;
	w->gap_started = gw_mono();
	arm(w, conf_pack_gap(p->cfg, write));
}

/* Throw away what arrived before the request: stale bytes of an earlier
 * answer cannot start this one. */
static void drain(struct gw_bus *w)
{
	size_t total = w->rx.len + gw_link_drain(w->link);
	if (total)
		gw_debug("link %s: dropped %zu stale bytes before the request", gw_link_port(w->link), total);
	bms_rx_clear(&w->rx);
}

/* A bus of a driver whose every frame is a whole message (mqtt-json): what
 * arrives between two polls is kept for the next one (the node's pace is
 * its own; a message is never lost for coming a moment early); and of a
 * driver that keeps what arrived across its steps (keep_rx, d-powercore:
 * the next page of an answer may come before its acknowledgement is
 * written). */
static bool keeps_messages(const struct gw_bus *w)
{
	return w->npacks > 0 && (w->packs[0]->drv->messages || w->packs[0]->drv->keep_rx);
}

static int bus_send(struct gw_bus *w, const uint8_t *req, size_t n, bool secret)
{
	bool keep = w->xp->drv->keep_rx;
	if (!keep)
		drain(w);
	if (w->li)
		gw_listener_sent(w->li, req, n); /* a bus taken over: its echo is not a master */
	if ((secret ? gw_link_send_secret(w->link, req, n) : gw_link_send(w->link, req, n)) < 0)
		return -1; /* the link went down: link_down() stopped the clients */
	w->ps = GW_BUS_WAIT;
	/* what is kept is framed from the loop at once (never inside this step) */
	w->kick = keep && w->rx.len;
	arm(w, w->kick ? 0 : w->xp->cfg->timeout);
	return 0;
}

int gw_bus_send(struct gw_bus *w, const uint8_t *req, size_t n)
{
	return bus_send(w, req, n, false);
}

int gw_bus_send_secret(struct gw_bus *w, const uint8_t *req, size_t n)
{
	return bus_send(w, req, n, true);
}

void gw_bus_listen(struct gw_bus *w)
{
	w->ps = GW_BUS_WAIT;
	if (keeps_messages(w) && w->rx.len) {
		w->kick = true; /* framed from the loop, not inside the poll that just ended */
		arm(w, 0);
		return;
	}
	bms_rx_clear(&w->rx);
	arm(w, w->xp->cfg->timeout);
}

void gw_bus_abort(struct gw_bus *w)
{
	disarm(w);
	w->ps = GW_BUS_IDLE;
	w->kick = false;
}

void gw_bus_release(struct gw_bus *w)
{
	gw_bus_abort(w);
	gw_bus_next(w);
}

struct bms_poll *gw_bus_session(struct gw_bus *w, const struct gw_pack *p)
{
	for (int i = 0; i < GW_BUS_CLIENTS; i++)
		if (w->clients[i]->session)
			return w->clients[i]->session(p);
	return NULL;
}

/* Every client's transactions end (the engine idle first). */
static void stop_all(struct gw_bus *w, enum gw_bus_stop why)
{
	gw_bus_abort(w);
	for (int i = 0; i < GW_BUS_CLIENTS; i++)
		w->clients[i]->stop(w, why);
}

void gw_poll_kick(struct gw_bus *w)
{
	if (w->ps == GW_BUS_IDLE && gw_link_state(w->link) == GW_LINK_UP) {
		disarm(w);
		gw_bus_next(w);
	}
}

void gw_poll_schedule(struct gw_bus *w)
{
	if (w->ps == GW_BUS_IDLE)
		disarm(w);
	gw_bus_next(w);
}

static void frames(struct gw_bus *w);

/* The timer expired. */
static void fire(struct gw_bus *w)
{
	switch (w->ps) {
	case GW_BUS_IDLE:
		gw_bus_next(w);
		break;
	case GW_BUS_GAP:
		/* a client ahead of this one goes first (a command before the
		 * next poll step); the interrupted one is asked again after */
		for (int i = 0; i < w->who; i++)
			if (ask(w, i))
				return;
		w->clients[w->who]->send(w);
		break;
	case GW_BUS_WAIT:
		if (w->kick) {
			w->kick = false;
			arm(w, w->xp->cfg->timeout);
			frames(w);
			break;
		}
		w->clients[w->who]->timeout(w);
		break;
	}
}

static void poll_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)revents;
	fire(container_of(t, struct gw_bus, poll_timer));
}

static void poll_tio_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	(void)revents;
	struct gw_bus *w = container_of(io, struct gw_bus, poll_tio);
	uint64_t n;
	if (read(w->poll_tfd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return; /* re-armed or disarmed since it became readable */
	ev_io_stop(loop, io);
	fire(w);
}

/* ---- framing: what arrived, through the framer of the transaction's pack ---- */

/* The framing of what arrived on a bus (bms_frames()): the handler of its
 * frames, and what the loop counted and the bus's counters have not yet. */
struct framing {
	struct gw_bus *w;
	struct gw_pack *p;
	const struct gw_bus_client *c;
	struct bms_frame_counts counted;
};

/* Into the bus's counters: before each frame (what it moves on may read
 * them), and at the end. */
static void framing_count(struct framing *fr)
{
	struct gw_bus *w = fr->w;
	if (fr->counted.badsum) {
		w->stats.checksum_errors += fr->counted.badsum;
		gw_debug("link %s: pack %s: %u checksum errors (%u so far)", gw_link_port(w->link), fr->p->cfg->name,
			 fr->counted.badsum, w->stats.checksum_errors);
	}
	if (fr->counted.bad_scan)
		gw_warn("link %s: pack %s: the %s framer gave %u impossible lengths (a bug: a byte dropped each)",
			gw_link_port(w->link), fr->p->cfg->name, fr->p->drv->name, fr->counted.bad_scan);
	memset(&fr->counted, 0, sizeof(fr->counted));
}

static enum bms_frame_next framing_take(void *ctx, const uint8_t *f, size_t fl)
{
	struct framing *fr = ctx;
	framing_count(fr);
	return fr->c->frame(fr->w, f, fl);
}

/* The one framing loop (bms_frames()), for every client: what arrived goes
 * through the framer of the transaction's pack; noise is skipped (a frame
 * with a bad checksum counted), and each complete frame goes to the
 * client, which says whether to go on (it stops after a frame that moved it
 * on: a gap, a retry, the end). */
static void frames(struct gw_bus *w)
{
	struct framing fr = { .w = w, .p = w->xp, .c = w->clients[w->who] };
	bms_frames(fr.p->drv, gw_bus_session(w, fr.p), &w->rx, framing_take, &fr, &fr.counted);
	framing_count(&fr);
}

/* ---- what the link tells its owner ---- */

static void link_up(void *arg)
{
	struct gw_bus *w = arg;
	w->silent_polls = 0;
	bms_rx_clear(&w->rx);
	if (w->li)
		gw_listener_up(w->li);
	gw_bus_next(w);
}

static void link_down(void *arg)
{
	struct gw_bus *w = arg;
	bms_rx_clear(&w->rx);
	stop_all(w, GW_BUS_DOWN); /* a command on the wire ends, then the poll it interrupted */
	gw_bus_next(w);
}

static void link_bytes(void *arg, const uint8_t *p, size_t n)
{
	struct gw_bus *w = arg;
	double now = gw_mono();
	w->got_bytes = true;
	if (w->li && gw_listener_bytes(w->li, p, n))
		return; /* listening: the listener's */
	if (w->ps != GW_BUS_WAIT && keeps_messages(w)) {
		bms_rx_feed(&w->rx, p, n); /* for the next poll */
		return;
	}
	if (w->ps != GW_BUS_WAIT) {
		/* nobody asked: late answers and line noise are dropped.  The gap
		 * before a frame means silence on the wire (a BMS may still be
		 * sending surplus frames of the last answer on a half-duplex bus),
		 * so bytes restart it -- for at most one timeout, so that a
		 * chattering wire cannot hold the wire forever. */
		w->last_rx = now;
		if (w->ps == GW_BUS_GAP && now - w->gap_started < w->xp->cfg->timeout)
			arm(w, conf_pack_gap(w->xp->cfg, w->xwrite));
		return;
	}
	const struct bms_driver *d = w->xp->drv;
	if (w->rx.len && d->interbyte > 0 && now - w->last_rx > d->interbyte) {
		w->stats.short_frames++;
		gw_debug("link %s: %zu bytes of a partial frame abandoned (silence)", gw_link_port(w->link), w->rx.len);
		bms_rx_clear(&w->rx);
	}
	w->last_rx = now;
	bms_rx_feed(&w->rx, p, n);
	frames(w);
}

static void link_drained(void *arg)
{
	(void)arg; /* a request is written whole or the link closes */
}

static void link_gone(void *arg)
{
	stop_all(arg, GW_BUS_GONE);
}

static const struct gw_link_owner engine_owner = { link_up, link_down, link_bytes, link_drained, link_gone };

/* ---- the bus ---- */

struct gw_bus *gw_bus_make(struct gw *gw, struct gw_link *link, const struct gw_bus_client *const *clients)
{
	struct gw_bus *w = calloc(1, sizeof(*w));
	if (!w) {
		gw_link_free(link);
		return NULL;
	}
	w->gw = gw;
	w->link = link;
	w->ps = GW_BUS_IDLE;
	for (int i = 0; i < GW_BUS_CLIENTS; i++)
		w->clients[i] = clients[i];
	gw_link_set_owner(w->link, &engine_owner, w);
	ev_init(&w->poll_timer, poll_timer_cb);
	w->poll_tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (w->poll_tfd < 0)
		gw_warn("link %s: timerfd: %s (the gaps on this wire keep libev's millisecond timer)", gw_link_port(w->link),
			strerror(errno));
	ev_io_init(&w->poll_tio, poll_tio_cb, w->poll_tfd, EV_READ);
	return w;
}

void gw_bus_free(struct gw_bus *w)
{
	if (!w)
		return;
	stop_all(w, GW_BUS_GONE);
	w->npacks = 0;
	if (w->lending)
		w->lend_owner->gone(w->lend_arg); /* it never had the wire */
	gw_link_free(w->link); /* the owner hears "gone": the engine, or a borrower */
	gw_listener_free(w->li);
	if (w->poll_tfd >= 0)
		close(w->poll_tfd);
	free(w);
}

void gw_bus_attach(struct gw_bus *w, struct gw_pack *p)
{
	if (w->npacks < CONF_MAX_PACKS)
		w->packs[w->npacks++] = p;
}

void gw_bus_detach_all(struct gw_bus *w)
{
	w->npacks = 0;
}

void gw_bus_open(struct gw_bus *w)
{
	gw_link_open(w->link);
}

struct gw_bus *gw_bus_find(const struct gw *gw, const char *port)
{
	for (int i = 0; i < gw->nbuses; i++)
		if (strcmp(gw_link_port(gw->buses[i]->link), port) == 0)
			return gw->buses[i];
	return NULL;
}

/* ---- lending the wire to a maintenance tool ---- */

static void lend_now(struct gw_bus *w)
{
	w->lending = false;
	bms_rx_clear(&w->rx);
	/* the command on the wire and those waiting for it end, the poll in
	 * progress is abandoned */
	stop_all(w, GW_BUS_LENT);
	gw_link_set_owner(w->link, w->lend_owner, w->lend_arg); /* the borrower's now */
	w->lend_ready(w->lend_arg);
}

void gw_poll_lend(struct gw_bus *w, const struct gw_link_owner *o, void *arg, void (*ready)(void *arg))
{
	w->lent = true;
	w->lend_owner = o;
	w->lend_ready = ready;
	w->lend_arg = arg;
	if (w->ps == GW_BUS_WAIT) {
		/* a request is on the wire: its answer (or its timeout) first,
		 * so that the tool never sees it nor talks over it */
		w->lending = true;
		return;
	}
	lend_now(w);
}

bool gw_bus_take_back(struct gw_bus *w)
{
	w->lent = false;
	w->lend_owner = NULL;
	w->lend_ready = NULL;
	gw_link_set_owner(w->link, &engine_owner, w);
	if (w->lending) {
		w->lending = false; /* the tool left before it had the wire */
		return false;
	}
	bms_rx_clear(&w->rx);
	w->silent_polls = 0;
	return true;
}
