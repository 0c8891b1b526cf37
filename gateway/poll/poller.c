/* gateway/poll/poller.c - polls the packs of each bus, one transaction at a time.
 *
 * Per link: IDLE (waiting for the next pack to be due) -> GAP (the protocol's
 * inter-frame silence) -> drain stale bytes, send the step's request -> WAIT
 * (bytes go through the driver's scan()/handle()) -> next step or, after the
 * last, finish() and commit the snapshot.  A timeout retries the step up to
 * `retries` times; then the poll fails and the pack keeps its old snapshot,
 * which goes stale by age.  Nothing here blocks.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "../core/log.h"
#include "../core/mbexc.h"
#include "../core/util.h"
#include "../model/events.h"
#include "control.h"
#include "poll.h"

/* the slow-changing values (cell count, cycles, capacity: struct bms_kept)
 * are read again every SLOW_EVERY good polls, and at least every half
 * stale_after, so that a committed snapshot never holds older ones */
#define SLOW_EVERY 10

static void poll_timer_cb(struct ev_loop *loop, ev_timer *w, int revents);
static void link_schedule(struct gw_bus *w);
static bool ctl_start(struct gw_bus *w);
static void lend_now(struct gw_bus *w);

/* The poll timer of a link: the silence before a request, the response
 * timeout, the next poll.  libev's epoll backend sleeps whole milliseconds,
 * at least one (a 3.6 ms gap became 4-5 ms, a 0.3 ms one 1 ms), so the
 * timer is a timerfd (CLOCK_MONOTONIC, ns) read by an ev_io; an ev_timer
 * stands in if no timerfd could be made. */
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

/* The current step of p's poll sends nothing: the BMS talks by itself
 * (a listen_only protocol, or a step its driver says listens). */
static bool step_listens(const struct gw_pack *p)
{
	return p->drv->listen_only || (p->drv->listens && p->drv->listens(&p->poll));
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

static double pack_gap(const struct gw_pack *p, bool write)
{
	return conf_pack_gap(p->cfg, write);
}

/* A new poll of pack p (begun now). */
static void poll_begin(struct gw_pack *p, double now)
{
	bms_poll_begin(&p->poll, (uint8_t)p->cfg->address, (uint8_t)p->cfg->cells, p->cfg->invert_current);
	p->poll.setpoints = p->cfg->control; /* the switch settings, for the read-back */
	/* the transport: a driver that streams must be asked again on a new connection */
	struct gw_bus *w = p->bus;
	p->poll.link = (uint8_t)gw_link_bms_link(w->link);
	p->poll.link_fresh = p->link_opens != gw_link_opens(w->link);
	p->link_opens = gw_link_opens(w->link);
	p->poll.have_key = p->cfg->have_key;
	memcpy(p->poll.key, p->cfg->key, sizeof(p->poll.key));
	p->last_bad = 0;
	p->poll.refresh = p->slow_at == 0 || p->fail_streak || p->slow_age >= SLOW_EVERY ||
			  now - p->slow_at >= p->bus->gw->conf->gw.stale_after / 2;
	p->poll.address_any = p->cfg->address_any;
	p->poll.position = (uint8_t)p->cfg->position;
	if (p->cfg->position) {
		p->poll.group = p->group;
		p->poll.group_cap = BMS_MAX_GROUP;
	}
	p->poll_started = now;
}

/* A pack read through its master's answer for all (`position`): the pack
 * of its group (the same wire, protocol and address) with the lowest
 * position polls for them all.  NULL for a pack that answers for itself. */
static struct gw_pack *group_lead(const struct gw_pack *p)
{
	if (!p->cfg->position)
		return NULL;
	struct gw_pack *lead = NULL;
	for (struct gw_pack *q = p->bus->packs; q; q = q->next_on_link)
		if (q->cfg->position && q->drv == p->drv && q->cfg->address == p->cfg->address &&
		    (!lead || q->cfg->position < lead->cfg->position))
			lead = q;
	return lead;
}

static void soc_track(struct gw_pack *p)
{
	if (!(p->snap.present & BMS_HAS_SOC))
		return;
	struct tm tm;
	int day = gw_local_now(&tm);
	uint16_t soc = (uint16_t)lrintf(p->snap.soc < 0 ? 0 : p->snap.soc > 100 ? 100 : p->snap.soc);
	if (day != p->soc_day || soc > p->soc_max) {
		p->soc_day = day;
		p->soc_max = soc;
		p->soc_max_hour = (uint16_t)tm.tm_hour;
		p->soc_max_minute = (uint16_t)tm.tm_min;
	}
}

/* A poll of p finished: the model and the outputs hear of it first, then a
 * MOSFET command this poll reads back ends (an MQTT client that sees
 * "done" has the switched state already). */
static void polled(struct gw *gw, struct gw_pack *p, bool ok)
{
	gw_emit_polled(gw, p, ok);
	gw_control_polled(gw, p, ok);
}

/* What the BMS says about itself, when a poll read it anew: kept, and
 * logged when it is new or another. */
static void ident_seen(struct gw_pack *p)
{
	const struct bms_kept *k = &p->poll.kept;
	if (k->ident_state != BMS_IDENT_HAVE || memcmp(&k->ident, &p->ident, sizeof(p->ident)) == 0)
		return;
	p->ident = k->ident;
	const struct bms_ident *id = &p->ident;
	gw_info("pack %s: the BMS says%s%s%s%s%s%s%s%s%s%s", p->cfg->name, id->vendor[0] ? " vendor " : "",
		id->vendor, id->model[0] ? " model " : "", id->model, id->firmware[0] ? " firmware " : "",
		id->firmware, id->serial[0] ? " serial " : "", id->serial, id->pack_serial[0] ? " pack serial " : "",
		id->pack_serial);
}

/* A good poll gave p the snapshot snap (the poll began at `started`; with
 * refresh it read the slow-changing values too). */
static void pack_good(struct gw *gw, struct gw_pack *p, struct bms_snapshot *snap, double started, bool refresh,
		      double now)
{
	bms_snapshot_derive(snap);
	p->snap = *snap;
	p->snap.ncells = p->snap.ncells > BMS_MAX_CELLS ? BMS_MAX_CELLS : p->snap.ncells;
	/* encode into a scratch block, then swap in whole */
	uint16_t regs[REG_MAP_SIZE];
	reg_encode_data(&p->snap, gw->conf->gw.float_order, regs);
	memcpy(p->data_regs, regs, sizeof(regs));
	p->have_data = true;
	p->last_good = now;
	p->good_polls++;
	if (refresh) {
		p->slow_at = started;
		p->slow_age = 0;
	} else {
		p->slow_age++;
	}
	soc_track(p);
	if (p->fail_streak)
		gw_info("pack %s: answering again after %u failed polls", p->cfg->name, p->fail_streak);
	p->fail_streak = 0;
	p->last_error[0] = 0;
	gw_debug("pack %s: %.2f V %.1f A SOC %.1f%% %u cells (%.0f ms)", p->cfg->name, p->snap.voltage,
		 p->snap.current, p->snap.soc, p->snap.ncells, (now - started) * 1000);
}

static void pack_failed(struct gw_bus *w, struct gw_pack *p, const char *why)
{
	p->failed_polls++;
	snprintf(p->last_error, sizeof(p->last_error), "%s", why ? why : "failed");
	if (p->fail_streak++ == 0 && gw_link_state(w->link) == GW_LINK_UP)
		gw_warn("pack %s: poll failed: %s (logged once until it answers again)", p->cfg->name,
			p->last_error);
	else
		gw_debug("pack %s: poll failed: %s", p->cfg->name, p->last_error);
}

/* The lead of a group polled: the other packs of its answer get their
 * records (their own `cells` and current sign applied), or fail with it. */
static void group_done(struct gw_bus *w, struct gw_pack *lead, bool ok, const char *why, double now)
{
	for (struct gw_pack *m = w->packs; m && lead->cfg->position; m = m->next_on_link) {
		if (m == lead || group_lead(m) != lead)
			continue;
		unsigned k = (unsigned)m->cfg->position - 1u;
		bool have = ok && (lead->poll.group_have & (1u << k));
		if (have) {
			struct bms_snapshot s = lead->group[k];
			if (m->cfg->invert_current)
				s.current = -s.current;
			if (m->cfg->cells && m->cfg->cells < s.ncells)
				s.ncells = (uint8_t)m->cfg->cells;
			pack_good(w->gw, m, &s, lead->poll_started, lead->poll.refresh, now);
		} else {
			pack_failed(w, m, ok ? "its record is not in the answer for all (position too high?)" : why);
		}
		m->attempted = true;
		m->next_due = lead->next_due;
		polled(w->gw, m, have);
	}
}

static void poll_done(struct gw_bus *w, bool ok, const char *why)
{
	struct gw_pack *p = w->cur;
	struct gw *gw = w->gw;
	w->cur = NULL;
	w->ps = GW_POLL_IDLE;
	if (!p)
		return;
	double now = gw_mono();
	if (ok) {
		pack_good(gw, p, &p->poll.snap, p->poll_started, p->poll.refresh, now);
		ident_seen(p);
	} else {
		pack_failed(w, p, why);
	}
	p->attempted = true;
	/* next poll on the interval grid; never in the past */
	p->next_due = p->poll_started + p->cfg->poll_interval;
	if (p->next_due < now)
		p->next_due = now;
	group_done(w, p, ok, why, now);
	const char *silent_why;
	unsigned silent_reopen = gw_link_silent_reopen(w->link, &silent_why);
	if (!w->got_bytes && gw_link_state(w->link) == GW_LINK_UP) {
		/* a TCP serial server or a BLE connection that passes nothing
		 * any more is reopened (the transport says after how many) */
		if (++w->silent_polls >= silent_reopen && silent_reopen) {
			w->silent_polls = 0;
			polled(gw, p, ok);
			gw_link_close(w->link, silent_why);
			return;
		}
	} else {
		w->silent_polls = 0;
	}
	polled(gw, p, ok);
	link_schedule(w);
}

/* Every step answered: let the driver validate the whole sample. */
static void poll_finish(struct gw_bus *w)
{
	struct gw_pack *p = w->cur;
	int rc = p->drv->finish ? p->drv->finish(&p->poll) : BMS_OK;
	poll_done(w, rc >= 0, rc < 0 ? bms_strerror(rc) : NULL);
}

/* Send the request of the current step, or finish the poll. */
static void step_send(struct gw_bus *w)
{
	struct gw_pack *p = w->cur;
	uint8_t req[GW_LINK_TX_MAX];
	/* a control command goes ahead of the next poll step */
	if (ctl_start(w))
		return;
	if (step_listens(p)) {
		/* the BMS talks by itself: wait for its frames, from a clean start */
		bms_rx_clear(&w->rx);
		w->ps = GW_POLL_WAIT;
		arm(w, p->cfg->timeout);
		return;
	}
	drain(w);
	int n = p->drv->next_request(&p->poll, req, sizeof(req));
	if (n == 0) {
		poll_finish(w);
		return;
	}
	if (n < 0) {
		poll_done(w, false, bms_strerror(n));
		return;
	}
	if (gw_link_send(w->link, req, (size_t)n) < 0) {
		/* the link went down: link_down() already ended the poll */
		if (w->cur)
			poll_done(w, false, "link down");
		return;
	}
	w->ps = GW_POLL_WAIT;
	arm(w, p->cfg->timeout);
}

static void step_gap(struct gw_bus *w)
{
	if (w->lending) {
		lend_now(w); /* the exchange on the wire is over: the tool's turn */
		return;
	}
	struct gw_pack *p = w->cur;
	if (!step_listens(p)) {
		/* that answer completed the poll: finish it now, not after a
		 * silence that no request follows */
		uint8_t req[GW_LINK_TX_MAX];
		if (p->drv->next_request(&p->poll, req, sizeof(req)) == 0) {
			poll_finish(w);
			return;
		}
	}
	w->ps = GW_POLL_GAP;
	w->gap_started = gw_mono();
	arm(w, pack_gap(w->cur, false));
}

/* A try of the current step ended without a complete answer. */
static void count_timeout(struct gw_bus *w)
{
	struct gw_pack *p = w->cur;
	w->stats.timeouts++;
	if (w->rx.len) {
		/* a frame had started: it never came whole */
		w->stats.short_frames++;
		gw_debug("link %s: pack %s: %zu bytes of an unfinished frame at the timeout", gw_link_port(w->link),
			 p->cfg->name, w->rx.len);
	}
	gw_debug("link %s: pack %s: timeout (%u so far)", gw_link_port(w->link), p->cfg->name, w->stats.timeouts);
}

/* A try of the step failed: it timed out, or (timed_out false) a bad
 * answer came.  Retry, or fail the poll. */
static void step_timeout(struct gw_bus *w, bool timed_out)
{
	struct gw_pack *p = w->cur;
	if (p->drv->timeout && p->drv->timeout(&p->poll)) {
		/* the step is complete anyway (e.g. fewer frames than announced) */
		p->poll.attempt = 0;
		if (p->drv->listen_only)
			poll_finish(w);
		else
			step_gap(w);
		return;
	}
	if (timed_out)
		count_timeout(w);
	/* a pack that is already failing gets one try per poll, so a dead pack
	 * on a shared bus costs the others only its own timeout */
	int retries = p->fail_streak ? 0 : p->cfg->retries;
	if (p->poll.attempt < retries) {
		p->poll.attempt++;
		gw_debug("pack %s: step %d timed out, retry %d", p->cfg->name, p->poll.step,
			 p->poll.attempt);
		step_gap(w);
		return;
	}
	char why[160];
	/* what came instead, if anything did (a wrong key, a bad frame) */
	snprintf(why, sizeof(why), "no complete answer within %.1f s (step %d, %d tries)%s%s",
		 p->cfg->timeout, p->poll.step, p->poll.attempt + 1, p->last_bad ? "; last answer: " : "",
		 p->last_bad ? bms_strerror(p->last_bad) : "");
	poll_done(w, false, why);
}

/* ---- control commands on the wire ----------------------------------------
 * A command queued on a pack of this link runs between two poll steps (or
 * when the link is idle): gap, frame, acknowledgement, for each frame of
 * the command; then the interrupted poll resumes with its current step. */

/* After a control transaction: resume the interrupted poll, or schedule. */
static void ctl_resume(struct gw_bus *w)
{
	w->ctl = NULL;
	if (w->cur) {
		step_gap(w);
	} else {
		w->ps = GW_POLL_IDLE;
		link_schedule(w);
	}
}

static void ctl_end(struct gw_bus *w, int exception, const char *why)
{
	struct gw_ctl *c = w->ctl;
	struct gw_pack *p = gw_control_pack(c);
	disarm(w);
	ctl_resume(w);
	gw_control_wire_done(c, exception, why);
	if (exception == 0 && w->cur == p && w->ps == GW_POLL_GAP) {
		/* the command interrupted a poll of its own pack: start that poll
		 * over, so that it is the read-back (instead of finishing a poll
		 * begun before the switch and then polling again) */
		poll_begin(p, gw_mono());
	}
}

static void ctl_gap(struct gw_bus *w)
{
	if (w->lending) {
		lend_now(w);
		return;
	}
	w->ps = GW_POLL_CTL_GAP;
	w->gap_started = gw_mono();
	arm(w, pack_gap(gw_control_pack(w->ctl), true));
}

/* Start a queued command, if there is one and the wire is up. */
static bool ctl_start(struct gw_bus *w)
{
	if (w->ctl || gw_link_state(w->link) != GW_LINK_UP || w->gw->stopping || w->lent)
		return false;
	struct gw_ctl *c = gw_control_queued(w);
	if (!c)
		return false;
	w->ctl = c;
	w->ctl_tries = 0;
	ctl_gap(w);
	return true;
}

/* The gap is over: the next frame of the command, or its end. */
static void ctl_send(struct gw_bus *w)
{
	struct gw_pack *p = gw_control_pack(w->ctl);
	uint8_t req[GW_LINK_TX_MAX];
	drain(w);
	int n = p->drv->control_request(gw_control_cmd(w->ctl), req, sizeof(req));
	if (n == 0) {
		ctl_end(w, 0, NULL); /* every frame acknowledged */
		return;
	}
	if (n < 0) {
		ctl_end(w, GW_MB_DEVICE_FAILURE, bms_strerror(n));
		return;
	}
	gw_debug("link %s: pack %s: control frame", gw_link_port(w->link), p->cfg->name);
	if (gw_link_send(w->link, req, (size_t)n) < 0)
		return; /* the link went down: link_down() ended it */
	if (p->drv->control_unacked) {
		/* nothing comes back: the next frame (or the read-back) after a gap */
		ctl_gap(w);
		return;
	}
	w->ps = GW_POLL_CTL_WAIT;
	arm(w, p->cfg->timeout);
}

/* No (good) acknowledgement: the writes are absolute, so sending the frame
 * again is safe; after `retries` more tries the command has failed. */
static void ctl_retry(struct gw_bus *w, const char *what)
{
	struct gw_pack *p = gw_control_pack(w->ctl);
	if (w->ctl_tries++ < p->cfg->retries) {
		gw_debug("link %s: pack %s: control frame: %s, try %d", gw_link_port(w->link), p->cfg->name, what, w->ctl_tries + 1);
		ctl_gap(w);
		return;
	}
	char why[160];
	snprintf(why, sizeof(why), "no acknowledgement from the BMS (%s, %d tries)", what, w->ctl_tries);
	ctl_end(w, GW_MB_GATEWAY_TARGET, why);
}

/* What a frame handler tells the framing loop: scan on, or stop (the step
 * moved on: a gap, a retry, the end). */
enum frame_next { FRAME_MORE, FRAME_STOP };

/* The one framing loop, for polls and control frames alike: what arrived
 * on w goes through the framer of pack p; noise is skipped (a frame with a
 * bad checksum counted), and each complete frame, fl bytes at the start of
 * w->rx, goes to take(), which consumes it and says whether to go on. */
static void frames(struct gw_bus *w, struct gw_pack *p, enum frame_next (*take)(struct gw_bus *w, size_t fl))
{
	const struct bms_driver *d = p->drv;
	for (;;) {
		size_t fl = 0;
		enum bms_scan s = d->scan(&p->poll, w->rx.buf, w->rx.len, &fl);
		if (s == BMS_SCAN_NEED)
			return;
		if (s == BMS_SCAN_SKIP || s == BMS_SCAN_BADSUM) {
			if (s == BMS_SCAN_BADSUM) {
				w->stats.checksum_errors++;
				gw_debug("link %s: pack %s: checksum error (%u so far)", gw_link_port(w->link), p->cfg->name,
					 w->stats.checksum_errors);
			}
			bms_rx_consume(&w->rx, fl ? fl : 1);
			continue;
		}
		if (fl == 0 || fl > w->rx.len) {
			bms_rx_clear(&w->rx);
			return;
		}
		if (take(w, fl) == FRAME_STOP)
			return;
	}
}

/* A complete frame while a control frame waits for its acknowledgement. */
static enum frame_next ctl_frame(struct gw_bus *w, size_t fl)
{
	struct gw_pack *p = gw_control_pack(w->ctl);
	int rc = p->drv->control_ack(gw_control_cmd(w->ctl), w->rx.buf, fl);
	bms_rx_consume(&w->rx, fl);
	if (rc == BMS_E_UNEXPECTED)
		return FRAME_MORE;
	if (rc == BMS_OK) {
		w->ctl_tries = 0;
		ctl_gap(w); /* the next frame, or the end */
	} else if (rc == BMS_E_REFUSED) {
		ctl_end(w, GW_MB_DEVICE_FAILURE, "the BMS refused the command");
	} else {
		ctl_retry(w, bms_strerror(rc));
	}
	return FRAME_STOP;
}

void gw_poll_kick(struct gw_bus *w)
{
	if (w->ps == GW_POLL_IDLE && gw_link_state(w->link) == GW_LINK_UP) {
		disarm(w);
		link_schedule(w);
	}
}

void gw_poll_control_abort(struct gw_bus *w)
{
	if (!w->ctl)
		return;
	disarm(w);
	ctl_resume(w);
}

static void poll_fire(struct gw_bus *w);

static void poll_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)revents;
	poll_fire(container_of(t, struct gw_bus, poll_timer));
}

static void poll_tio_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	(void)revents;
	struct gw_bus *w = container_of(io, struct gw_bus, poll_tio);
	uint64_t n;
	if (read(w->poll_tfd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return; /* re-armed or disarmed since it became readable */
	ev_io_stop(loop, io);
	poll_fire(w);
}

/* The poll timer expired. */
static void poll_fire(struct gw_bus *w)
{
	switch (w->ps) {
	case GW_POLL_IDLE:
		link_schedule(w);
		break;
	case GW_POLL_GAP:
		step_send(w);
		break;
	case GW_POLL_WAIT:
		step_timeout(w, true);
		break;
	case GW_POLL_CTL_GAP:
		ctl_send(w);
		break;
	case GW_POLL_CTL_WAIT:
		w->stats.timeouts++;
		ctl_retry(w, "timed out");
		break;
	}
}

/* Start the pack that is due first, or sleep until it is. */
static void link_schedule(struct gw_bus *w)
{
	if (w->lending && w->ps == GW_POLL_IDLE)
		lend_now(w);
	if (w->ps != GW_POLL_IDLE || w->gw->stopping || w->lent)
		return;
	if (ctl_start(w))
		return;
	/* the pack due first; a read-back of a command goes ahead of the rest */
	struct gw_pack *next = NULL;
	double now = gw_mono(), next_at = 0;
	for (struct gw_pack *p = w->packs; p; p = p->next_on_link) {
		if (group_lead(p) && group_lead(p) != p)
			continue; /* its group's lead polls for it */
		double at = p->next_due, rb = 0;
		if (gw_control_readback_at(p, &rb)) {
			if (rb < at)
				at = rb;
			if (rb <= now)
				at = rb - 1e6; /* an overdue read-back goes first */
		}
		if (!next || at < next_at) {
			next = p;
			next_at = at;
		}
	}
	if (!next)
		return;
	if (next_at > now + 1e-4) {
		arm(w, next_at - now);
		return;
	}
	if (gw_link_state(w->link) == GW_LINK_CONNECTING || gw_link_state(w->link) == GW_LINK_RESOLVING)
		return; /* link_up() or link_down() comes next */
	if (gw_link_state(w->link) != GW_LINK_UP) {
		/* the wire is down: the poll fails without traffic (the link logs the outage) */
		w->cur = next;
		next->poll_started = now;
		w->got_bytes = true; /* do not count as a silent poll */
		poll_done(w, false, "link down");
		return;
	}
	w->cur = next;
	w->got_bytes = false;
	poll_begin(next, now);
	step_gap(w);
}

/* ---- what the link tells its owner ---- */

static void link_up(void *arg)
{
	struct gw_bus *w = arg;
	w->silent_polls = 0;
	bms_rx_clear(&w->rx);
	link_schedule(w);
}

static void link_down(void *arg)
{
	struct gw_bus *w = arg;
	bms_rx_clear(&w->rx);
	if (w->ctl) {
		struct gw_ctl *c = w->ctl;
		disarm(w);
		w->ctl = NULL;
		w->ps = w->cur ? GW_POLL_WAIT : GW_POLL_IDLE; /* the interrupted poll ends below */
		gw_control_wire_done(c, GW_MB_GATEWAY_TARGET, "the wire went down");
	}
	if (w->cur && w->ps != GW_POLL_IDLE) {
		disarm(w);
		w->got_bytes = true;
		poll_done(w, false, "link down");
	} else {
		link_schedule(w);
	}
}

/* Error answers (exceptions, error codes): the one that failed a try, and
 * those the driver took without failing the step (poll.refusals). */
static void count_refusals(struct gw_bus *w, struct gw_pack *p, int rc)
{
	uint32_t n = p->poll.refusals + (rc == BMS_E_REFUSED);
	p->poll.refusals = 0;
	if (n == 0)
		return;
	w->stats.exceptions += n;
	gw_debug("link %s: pack %s: an error answer (%u so far)", gw_link_port(w->link), p->cfg->name,
		 w->stats.exceptions);
}

/* A complete answer to the poll request on the wire. */
static enum frame_next poll_frame(struct gw_bus *w, size_t fl)
{
	struct gw_pack *pk = w->cur;
	const struct bms_driver *d = pk->drv;
	int rc = d->handle(&pk->poll, w->rx.buf, fl);
	bms_rx_consume(&w->rx, fl);
	count_refusals(w, pk, rc);
	if (rc == BMS_MORE || rc == BMS_E_UNEXPECTED)
		return FRAME_MORE;
	if (rc == BMS_OK) {
		pk->poll.attempt = 0;
		if (d->listen_only)
			poll_finish(w);
		else
			step_gap(w);
		return FRAME_STOP;
	}
	/* a bad answer: count it as a failed try of this step */
	if (rc == BMS_E_CHECKSUM)
		w->stats.checksum_errors++;
	else if (rc == BMS_E_SHORT)
		w->stats.short_frames++;
	gw_debug("pack %s: bad answer: %s", pk->cfg->name, bms_strerror(rc));
	snprintf(pk->last_error, sizeof(pk->last_error), "%s", bms_strerror(rc));
	pk->last_bad = rc;
	step_timeout(w, false);
	return FRAME_STOP;
}

static void link_bytes(void *arg, const uint8_t *p, size_t n)
{
	struct gw_bus *w = arg;
	double now = gw_mono();
	w->got_bytes = true;
	if (w->ps == GW_POLL_CTL_WAIT) {
		w->last_rx = now;
		bms_rx_feed(&w->rx, p, n);
		frames(w, gw_control_pack(w->ctl), ctl_frame);
		return;
	}
	if (w->ps != GW_POLL_WAIT) {
		/* nobody asked: late answers and line noise are dropped.  The gap
		 * before a request means silence on the wire (a BMS may still be
		 * sending surplus frames of the last answer on a half-duplex bus),
		 * so bytes restart it -- for at most one timeout, so that a
		 * chattering wire cannot hold the poll forever. */
		w->last_rx = now;
		if (w->ps == GW_POLL_GAP && now - w->gap_started < w->cur->cfg->timeout)
			arm(w, pack_gap(w->cur, false));
		else if (w->ps == GW_POLL_CTL_GAP && now - w->gap_started < gw_control_pack(w->ctl)->cfg->timeout)
			arm(w, pack_gap(gw_control_pack(w->ctl), true));
		return;
	}
	struct gw_pack *pk = w->cur;
	const struct bms_driver *d = pk->drv;
	if (w->rx.len && d->interbyte > 0 && now - w->last_rx > d->interbyte) {
		w->stats.short_frames++;
		gw_debug("link %s: %zu bytes of a partial frame abandoned (silence)", gw_link_port(w->link), w->rx.len);
		bms_rx_clear(&w->rx);
	}
	w->last_rx = now;
	bms_rx_feed(&w->rx, p, n);
	frames(w, pk, poll_frame);
}

static void link_drained(void *arg)
{
	(void)arg; /* a request is written whole or the link closes */
}

static void stop_polling(struct gw_bus *w)
{
	disarm(w);
	w->cur = NULL;
	w->ctl = NULL;
	w->ps = GW_POLL_IDLE;
}

static void link_gone(void *arg)
{
	stop_polling(arg);
}

static const struct gw_link_owner poller_owner = { link_up, link_down, link_bytes, link_drained, link_gone };

struct gw_bus *gw_bus_new(struct gw *gw, const struct conf_pack *cfg)
{
	struct gw_bus *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	if (!(w->link = gw_link_new(&gw->link_env, cfg))) {
		free(w);
		return NULL;
	}
	w->gw = gw;
	w->ps = GW_POLL_IDLE;
	gw_link_set_owner(w->link, &poller_owner, w);
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
	stop_polling(w);
	w->packs = NULL;
	if (w->lending)
		w->lend_owner->gone(w->lend_arg); /* it never had the wire */
	gw_link_free(w->link); /* the owner hears "gone": the poller, or a borrower */
	if (w->poll_tfd >= 0)
		close(w->poll_tfd);
	free(w);
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

void gw_poll_abort(struct gw_bus *w)
{
	if (!w->cur)
		return;
	gw_debug("link %s: poll of pack %s abandoned", gw_link_port(w->link), w->cur->cfg->name);
	disarm(w);
	w->cur = NULL;
	w->ps = GW_POLL_IDLE;
}

static void lend_now(struct gw_bus *w)
{
	w->lending = false;
	disarm(w);
	if (w->ctl) {
		struct gw_ctl *c = w->ctl;
		w->ctl = NULL;
		gw_control_wire_done(c, GW_MB_GATEWAY_TARGET, "the wire was lent to a maintenance tool");
	}
	gw_poll_abort(w);
	w->ps = GW_POLL_IDLE;
	bms_rx_clear(&w->rx);
	/* commands waiting for the wire end now */
	for (struct gw_pack *p = w->packs; p; p = p->next_on_link)
		gw_control_end(p, GW_MB_GATEWAY_TARGET, "the wire was lent to a maintenance tool");
	gw_link_set_owner(w->link, w->lend_owner, w->lend_arg); /* the borrower's now */
	w->lend_ready(w->lend_arg);
}

void gw_poll_lend(struct gw_bus *w, const struct gw_link_owner *o, void *arg, void (*ready)(void *arg))
{
	w->lent = true;
	w->lend_owner = o;
	w->lend_ready = ready;
	w->lend_arg = arg;
	if (w->ps == GW_POLL_WAIT || w->ps == GW_POLL_CTL_WAIT) {
		/* a request is on the wire: its answer (or its timeout) first,
		 * so that the tool never sees it nor talks over it */
		w->lending = true;
		return;
	}
	lend_now(w);
}

void gw_poll_return(struct gw_bus *w)
{
	w->lent = false;
	w->lend_owner = NULL;
	w->lend_ready = NULL;
	gw_link_set_owner(w->link, &poller_owner, w);
	if (w->lending) {
		w->lending = false; /* the tool left before it had the wire */
		return;
	}
	double now = gw_mono();
	for (struct gw_pack *p = w->packs; p; p = p->next_on_link)
		p->next_due = now;
	bms_rx_clear(&w->rx);
	w->silent_polls = 0;
	gw_poll_schedule(w);
}

void gw_poll_schedule(struct gw_bus *w)
{
	if (w->ps == GW_POLL_IDLE)
		disarm(w);
	link_schedule(w);
}
