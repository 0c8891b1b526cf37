/* SPDX-License-Identifier: MIT */
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
#include "listener.h"
#include "poll.h"

/* the slow-changing values (cell count, cycles, capacity: struct bms_kept)
 * are read again every SLOW_EVERY good polls, and at least every half
 * stale_after, so that a committed snapshot never holds older ones */
#define SLOW_EVERY 10

/* The poller's slot of one pack (poll.h): what it keeps of the pack
 * between and during its polls, written here alone. */
/* The bytes of a poll's frames kept for the log of an implausible one. */
#define HEARD_MAX 200

struct gw_poll_slot {
	struct bms_poll poll;          /* the poll in progress; what the driver keeps across polls */
	double poll_started;           /* monotonic */
	double next_due;               /* monotonic time of the next poll */
	double slow_at;                /* monotonic start of the last good poll that read the
	                                * slow-changing values (0 = none yet) */
	unsigned slow_age;             /* good polls since then */
	unsigned long link_opens;      /* the link's opens at its last poll (link_fresh) */
	int last_bad;                  /* BMS_E_* of the last bad answer in the poll in progress, 0 = none */
	bool attempted;                /* at least one poll finished (for --once) */
	/* the frames the poll in progress handed its driver (the first
	 * HEARD_MAX bytes, `heard_len` in all): an implausible poll's log shows them */
	uint8_t heard[HEARD_MAX];
	size_t heard_len;
	bool implausible_said;         /* its implausible polls since the last good one are logged */
	uint16_t faults_said;          /* its sensor faults logged (bms_sensor_faults() bits): once each */
};

static void poll_timer_cb(struct ev_loop *loop, ev_timer *w, int revents);
static void link_schedule(struct gw_bus *w);
static bool ctl_start(struct gw_bus *w);
static void lend_now(struct gw_bus *w);
static const struct gw_listener_ops listener_ops;

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
	return p->drv->listen_only || (p->drv->listens && p->drv->listens(&p->slot->poll));
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
	struct gw_poll_slot *s = p->slot;
	bms_poll_begin(&s->poll, (uint8_t)p->cfg->address, (uint8_t)p->cfg->cells, p->cfg->invert_current);
	s->poll.setpoints = p->cfg->control; /* the switch settings, for the read-back */
	/* the transport: a driver that streams must be asked again on a new connection */
	struct gw_bus *w = p->bus;
	s->poll.link = (uint8_t)gw_link_bms_link(w->link);
	s->poll.link_fresh = s->link_opens != gw_link_opens(w->link);
	s->link_opens = gw_link_opens(w->link);
	s->poll.have_key = p->cfg->have_key;
	memcpy(s->poll.key, p->cfg->key, sizeof(s->poll.key));
	s->last_bad = 0;
	s->heard_len = 0;
	s->poll.refresh = s->slow_at == 0 || p->fail_streak || s->slow_age >= SLOW_EVERY ||
			  now - s->slow_at >= w->gw->conf->gw.stale_after / 2;
	s->poll.address_any = p->cfg->address_any;
	s->poll.position = (uint8_t)p->cfg->position;
	if (p->cfg->position) {
		s->poll.group = w->group;
		s->poll.group_cap = BMS_MAX_GROUP;
	}
	s->poll_started = now;
}

/* A pack read through its master's answer for all (`position`): the pack
 * of its group (the same wire, protocol and address) with the lowest
 * position polls for them all.  NULL for a pack that answers for itself. */
static struct gw_pack *group_lead(const struct gw_pack *p)
{
	if (!p->cfg->position)
		return NULL;
	struct gw_pack *lead = NULL;
	for (int i = 0; i < p->bus->npacks; i++) {
		struct gw_pack *q = p->bus->packs[i];
		if (q->cfg->position && q->drv == p->drv && q->cfg->address == p->cfg->address &&
		    (!lead || q->cfg->position < lead->cfg->position))
			lead = q;
	}
	return lead;
}

/* A poll of p finished: the model and the outputs hear of it first, then a
 * MOSFET command this poll reads back ends (an MQTT client that sees
 * "done" has the switched state already). */
static void polled(struct gw *gw, struct gw_pack *p, bool ok)
{
	gw_emit_polled(gw, p, ok);
	gw_control_polled(gw, p, ok);
}

/* A good poll gave p the snapshot snap (the poll began at `started`; with
 * refresh it read the slow-changing values too): committed to the pack's
 * register cache (model/pack.c). */
static void pack_good(struct gw *gw, struct gw_pack *p, const struct bms_snapshot *snap, double started, bool refresh,
		      double now)
{
	gw_pack_commit(p, snap, gw->conf->gw.float_order, now);
	p->slot->implausible_said = false;
	if (refresh) {
		p->slot->slow_at = started;
		p->slot->slow_age = 0;
	} else {
		p->slot->slow_age++;
	}
	gw_debug("pack %s: %.2f V %.1f A SOC %.1f%% %u cells (%.0f ms)", p->cfg->name, p->snap.voltage,
		 p->snap.current, p->snap.soc, p->snap.ncells, (now - started) * 1000);
}

static void pack_failed(struct gw_bus *w, struct gw_pack *p, const char *why)
{
	gw_pack_fail(p, why, gw_link_state(w->link) == GW_LINK_UP);
}

/* A snapshot of pack p (its own, or its record in its master's answer)
 * that is not plausible (bms/plausible.c): counted, and logged with what
 * was heard (the poll of slot s) once in a row of them; why (cap bytes)
 * says which value. */
static void implausible(struct gw_bus *w, struct gw_pack *p, const struct gw_poll_slot *s,
			const struct bms_implausible *im, char *why, size_t cap)
{
	char what[160];
	bms_implausible_text(im, what, sizeof(what));
	snprintf(why, cap, "implausible: %s", what);
	w->stats.implausible++;
	if (p->slot->implausible_said)
		return;
	p->slot->implausible_said = true;
	char hex[2 * HEARD_MAX + 1];
	size_t n = s->heard_len < HEARD_MAX ? s->heard_len : HEARD_MAX;
	for (size_t i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", s->heard[i]);
	hex[2 * n] = 0;
	gw_warn("pack %s: a poll with %s is not served (the pack goes stale while its polls are implausible); "
		"frames: %s%s", p->cfg->name, what, hex, s->heard_len > n ? " ..." : "");
}

/* Pack p's sensors that read outside the plausible range in snapshot s
 * (its own, or its record in its master's answer) are absent and flagged
 * (bms_sensor_faults): logged once a sensor while the gateway runs, not
 * once a poll (a pack without its second sensor reads 0xC8 there in every
 * answer). */
static void sensor_faults(struct gw_pack *p, struct bms_snapshot *s)
{
	float was[BMS_MAX_TEMPS + 1];
	unsigned found = bms_sensor_faults(s, was);
	unsigned fresh = found & ~(unsigned)p->slot->faults_said;
	if (!fresh)
		return;
	p->slot->faults_said |= (uint16_t)fresh;
	char list[BMS_MAX_TEMPS * 40 + 48] = "";
	size_t n = 0;
	for (unsigned i = 0; i <= BMS_MAX_TEMPS && n < sizeof(list); i++) {
		unsigned bit = i < BMS_MAX_TEMPS ? 1u << i : BMS_FAULT_MOS;
		if (!(fresh & bit))
			continue;
		int k = i < BMS_MAX_TEMPS
				? snprintf(list + n, sizeof(list) - n, "%stemperature %u = %g degC", n ? ", " : "",
					   i + 1, (double)was[i])
				: snprintf(list + n, sizeof(list) - n, "%sMOSFET temperature = %g degC", n ? ", " : "",
					   (double)was[i]);
		n += k > 0 ? (size_t)k : 0;
	}
	gw_warn("pack %s: %s: outside %g..%g degC, no sensor's reading (one the BMS lacks or lost): served "
		"absent, the pack flagged with a sensor fault (alarm sensor); not logged again", p->cfg->name,
		list, BMS_PLAUSIBLE_MIN_C, BMS_PLAUSIBLE_MAX_C);
}

/* The lead of a group polled: the other packs of its answer get their
 * records (their own `cells` and current sign applied), or fail with it. */
static void group_done(struct gw_bus *w, struct gw_pack *lead, bool ok, const char *why, double now)
{
	for (int i = 0; i < w->npacks && lead->cfg->position; i++) {
		struct gw_pack *m = w->packs[i];
		if (m == lead || group_lead(m) != lead)
			continue;
		unsigned k = (unsigned)m->cfg->position - 1u;
		bool have = ok && (lead->slot->poll.group_have & (1u << k));
		struct bms_snapshot s;
		struct bms_implausible im;
		char bad[224];
		if (have) {
			s = w->group[k];
			if (m->cfg->invert_current)
				s.current = -s.current;
			if (m->cfg->cells && m->cfg->cells < s.ncells)
				s.ncells = (uint8_t)m->cfg->cells;
			sensor_faults(m, &s);
		}
		if (have && !bms_plausible(&s, &im)) {
			have = false;
			implausible(w, m, lead->slot, &im, bad, sizeof(bad));
			pack_failed(w, m, bad);
		} else if (have) {
			pack_good(w->gw, m, &s, lead->slot->poll_started, lead->slot->poll.refresh, now);
		} else {
			pack_failed(w, m, ok ? "its record is not in the answer for all (position too high?)" : why);
		}
		m->slot->attempted = true;
		m->slot->next_due = lead->slot->next_due;
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
	struct gw_poll_slot *s = p->slot;
	if (ok) {
		pack_good(gw, p, &s->poll.snap, s->poll_started, s->poll.refresh, now);
		if (s->poll.kept.ident_state == BMS_IDENT_HAVE)
			gw_pack_ident(p, &s->poll.kept.ident);
	} else {
		pack_failed(w, p, why);
	}
	s->attempted = true;
	/* next poll on the interval grid; never in the past */
	s->next_due = s->poll_started + p->cfg->poll_interval;
	if (s->next_due < now)
		s->next_due = now;
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

/* Every step answered: let the driver validate the whole sample, then the
 * plausibility table: an implausible poll is rejected whole. */
static void poll_finish(struct gw_bus *w)
{
	struct gw_pack *p = w->cur;
	int rc = p->drv->finish ? p->drv->finish(&p->slot->poll) : BMS_OK;
	struct bms_implausible im;
	char why[224];
	if (rc >= 0)
		sensor_faults(p, &p->slot->poll.snap);
	if (rc >= 0 && !bms_plausible(&p->slot->poll.snap, &im)) {
		implausible(w, p, p->slot, &im, why, sizeof(why));
		poll_done(w, false, why);
		return;
	}
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
	int n = p->drv->next_request(&p->slot->poll, req, sizeof(req));
	if (n == 0) {
		poll_finish(w);
		return;
	}
	if (n < 0) {
		poll_done(w, false, bms_strerror(n));
		return;
	}
	if (w->li)
		gw_listener_sent(w->li, req, (size_t)n); /* a bus taken over: its echo is not a master */
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
		if (p->drv->next_request(&p->slot->poll, req, sizeof(req)) == 0) {
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
	struct gw_poll_slot *s = p->slot;
	if (p->drv->timeout && p->drv->timeout(&s->poll)) {
		/* the step is complete anyway (e.g. fewer frames than announced) */
		s->poll.attempt = 0;
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
	if (s->poll.attempt < retries) {
		s->poll.attempt++;
		gw_debug("pack %s: step %d timed out, retry %d", p->cfg->name, s->poll.step, s->poll.attempt);
		step_gap(w);
		return;
	}
	char why[160];
	/* what came instead, if anything did (a wrong key, a bad frame) */
	snprintf(why, sizeof(why), "no complete answer within %.1f s (step %d, %d tries)%s%s",
		 p->cfg->timeout, s->poll.step, s->poll.attempt + 1, s->last_bad ? "; last answer: " : "",
		 s->last_bad ? bms_strerror(s->last_bad) : "");
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

/* The framing of what arrived on a bus (bms_frames()): the handler of its
 * frames, and what the loop counted and the link's counters have not yet. */
struct framing {
	struct gw_bus *w;
	struct gw_pack *p;
	enum bms_frame_next (*take)(struct gw_bus *w, const uint8_t *f, size_t fl);
	struct bms_frame_counts counted;
};

/* Into the link's counters: before each frame (what it moves on may read
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
	return fr->take(fr->w, f, fl);
}

/* The one framing loop (bms_frames()), for polls and control frames alike:
 * what arrived on w goes through the framer of pack p; noise is skipped (a
 * frame with a bad checksum counted), and each complete frame goes to
 * take(), which says whether to go on (it stops after a frame that moved
 * the step on: a gap, a retry, the end). */
static void frames(struct gw_bus *w, struct gw_pack *p,
		   enum bms_frame_next (*take)(struct gw_bus *w, const uint8_t *f, size_t fl))
{
	struct framing fr = { .w = w, .p = p, .take = take };
	bms_frames(p->drv, &p->slot->poll, &w->rx, framing_take, &fr, &fr.counted);
	framing_count(&fr);
}

/* A complete frame while a control frame waits for its acknowledgement. */
static enum bms_frame_next ctl_frame(struct gw_bus *w, const uint8_t *f, size_t fl)
{
	struct gw_pack *p = gw_control_pack(w->ctl);
	int rc = p->drv->control_ack(gw_control_cmd(w->ctl), f, fl);
	if (rc == BMS_E_UNEXPECTED)
		return BMS_FRAME_MORE;
	if (rc == BMS_OK) {
		w->ctl_tries = 0;
		ctl_gap(w); /* the next frame, or the end */
	} else if (rc == BMS_E_REFUSED) {
		ctl_end(w, GW_MB_DEVICE_FAILURE, "the BMS refused the command");
	} else {
		ctl_retry(w, bms_strerror(rc));
	}
	return BMS_FRAME_STOP;
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
	if (w->li && !gw_listener_polls(w->li))
		return; /* another master's bus: heard, never written */
	if (ctl_start(w))
		return;
	/* the pack due first; a read-back of a command goes ahead of the rest */
	struct gw_pack *next = NULL;
	double now = gw_mono(), next_at = 0;
	for (int i = 0; i < w->npacks; i++) {
		struct gw_pack *p = w->packs[i];
		if (group_lead(p) && group_lead(p) != p)
			continue; /* its group's lead polls for it */
		if (w->li && p->drv->max_address && p->cfg->address < p->drv->min_address)
			continue; /* a listened bus's master (a JK-PB at DIP 0): heard only, never asked */
		double at = p->slot->next_due, rb = 0;
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
		next->slot->poll_started = now;
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
	if (w->li)
		gw_listener_up(w->li);
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
	uint32_t n = p->slot->poll.refusals + (rc == BMS_E_REFUSED);
	p->slot->poll.refusals = 0;
	if (n == 0)
		return;
	w->stats.exceptions += n;
	gw_debug("link %s: pack %s: an error answer (%u so far)", gw_link_port(w->link), p->cfg->name,
		 w->stats.exceptions);
}

/* A complete answer to the poll request on the wire. */
static enum bms_frame_next poll_frame(struct gw_bus *w, const uint8_t *f, size_t fl)
{
	struct gw_pack *pk = w->cur;
	const struct bms_driver *d = pk->drv;
	struct gw_poll_slot *sl = pk->slot;
	if (sl->heard_len < HEARD_MAX)
		memcpy(sl->heard + sl->heard_len, f, fl < HEARD_MAX - sl->heard_len ? fl : HEARD_MAX - sl->heard_len);
	sl->heard_len += fl;
	int rc = d->handle(&sl->poll, f, fl);
	count_refusals(w, pk, rc);
	if (rc == BMS_MORE || rc == BMS_E_UNEXPECTED)
		return BMS_FRAME_MORE;
	if (rc == BMS_OK) {
		pk->slot->poll.attempt = 0;
		if (d->listen_only)
			poll_finish(w);
		else
			step_gap(w);
		return BMS_FRAME_STOP;
	}
	/* a bad answer: count it as a failed try of this step */
	if (rc == BMS_E_CHECKSUM)
		w->stats.checksum_errors++;
	else if (rc == BMS_E_SHORT)
		w->stats.short_frames++;
	gw_debug("pack %s: bad answer: %s", pk->cfg->name, bms_strerror(rc));
	pk->slot->last_bad = rc; /* named in the poll's failure, if it fails */
	step_timeout(w, false);
	return BMS_FRAME_STOP;
}

static void link_bytes(void *arg, const uint8_t *p, size_t n)
{
	struct gw_bus *w = arg;
	double now = gw_mono();
	w->got_bytes = true;
	if (w->li && gw_listener_bytes(w->li, p, n))
		return; /* listening: the listener's */
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
	if (!(w->link = gw_link_new(gw->link_env, cfg))) {
		free(w);
		return NULL;
	}
	w->gw = gw;
	w->ps = GW_POLL_IDLE;
	if (cfg->listen && !(w->li = gw_listener_new(w, cfg, &listener_ops))) {
		gw_link_free(w->link);
		free(w);
		return NULL;
	}
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
	w->npacks = 0;
	if (w->lending)
		w->lend_owner->gone(w->lend_arg); /* it never had the wire */
	gw_link_free(w->link); /* the owner hears "gone": the poller, or a borrower */
	gw_listener_free(w->li);
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
	for (int i = 0; i < w->npacks; i++)
		gw_control_end(w->packs[i], GW_MB_GATEWAY_TARGET, "the wire was lent to a maintenance tool");
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
	for (int i = 0; i < w->npacks; i++)
		w->packs[i]->slot->next_due = now;
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

/* ---- what the listener asks (struct gw_listener_ops, listener.h) ---- */

static void li_heard(struct gw_bus *w, struct gw_pack *p, struct bms_poll *poll, double started)
{
	int rc = p->drv->finish ? p->drv->finish(poll) : BMS_OK;
	struct bms_implausible im;
	char why[224] = "";
	double now = gw_mono();
	bool ok = rc >= 0;
	if (!ok)
		snprintf(why, sizeof(why), "what was heard of it is not a whole sample: %s", bms_strerror(rc));
	if (ok)
		sensor_faults(p, &poll->snap);
	if (ok && !bms_plausible(&poll->snap, &im)) {
		ok = false;
		implausible(w, p, p->slot, &im, why, sizeof(why));
	}
	if (ok) {
		pack_good(w->gw, p, &poll->snap, started, true, now);
		if (poll->kept.ident_state == BMS_IDENT_HAVE)
			gw_pack_ident(p, &poll->kept.ident);
	} else {
		pack_failed(w, p, why);
	}
	p->slot->attempted = true;
	p->slot->poll_started = started;
	polled(w->gw, p, ok);
}

static void li_unheard(struct gw_bus *w, struct gw_pack *p, const char *why)
{
	pack_failed(w, p, why);
	p->slot->attempted = true;
	polled(w->gw, p, false);
}

static void li_yield(struct gw_bus *w)
{
	disarm(w);
	w->cur = NULL;
	w->ps = GW_POLL_IDLE;
	bms_rx_clear(&w->rx);
}

static void li_take(struct gw_bus *w)
{
	gw_poll_schedule(w);
}

static const struct gw_listener_ops listener_ops = { li_heard, li_unheard, li_take, li_yield };

/* ---- the packs of a bus and their slots ---- */

struct gw_poll_slot *gw_poll_slot_new(double now)
{
	struct gw_poll_slot *s = calloc(1, sizeof(*s));
	if (s)
		s->next_due = now; /* a new pack is polled at once */
	return s;
}

void gw_poll_slot_free(struct gw_poll_slot *s)
{
	free(s);
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

bool gw_poll_attempted(const struct gw_pack *p)
{
	return p->slot->attempted;
}

double gw_poll_started(const struct gw_pack *p)
{
	return p->slot->poll_started;
}

uint32_t gw_poll_persist(const struct gw_pack *p)
{
	return p->slot->poll.persist;
}
