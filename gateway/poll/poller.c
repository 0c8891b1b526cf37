/* SPDX-License-Identifier: MIT */
/* gateway/poll/poller.c - polls the packs of each bus: the poll client of
 * its transaction engine (bus_engine.c, struct gw_bus_client).
 *
 * Per bus: the pack due first (a MOSFET command's read-back ahead of the
 * rest) begins a poll; each step is a transaction: the gap, the step's
 * request (or none: the BMS talks by itself), its answer through the
 * driver's handle(); after the last, the poll ends in the model
 * (gw_pack_polled(): the driver's finish(), plausibility, the SOC step, one
 * encoding, the outputs), then a command it reads back hears of it
 * (control.c).  A timeout retries the step up to `retries` times; then the
 * poll fails and the pack keeps its old snapshot, which goes stale by age.
 * A poll of a group's lead ends its members' too; a listened bus's polls
 * (listener.c) end here the same way.  Nothing here blocks.
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
#include "bus_engine.h"
#include "control.h"
#include "listener.h"

/* the slow-changing values (cell count, cycles, capacity: struct bms_kept)
 * are read again every SLOW_EVERY good polls, and at least every half
 * stale_after, so that a committed snapshot never holds older ones */
#define SLOW_EVERY 10
/* the BMS's own settings, where they need a request of their own
 * (struct bms_poll.settings_due), are asked again after this many seconds,
 * and on a reopened link (a reconnect) once this many have passed: a
 * Bluetooth link that lends its connection between polls reopens often */
#define SETTINGS_EVERY 600.0
#define SETTINGS_REOPEN 60.0

/* The poller's slot of one pack (poll.h): what it keeps of the pack
 * between and during its polls, written here alone. */
struct gw_poll_slot {
	struct bms_poll poll;          /* the poll in progress; what the driver keeps across polls */
	double poll_started;           /* monotonic */
	double next_due;               /* monotonic time of the next poll */
	double slow_at;                /* monotonic start of the last good poll that read the
	                                * slow-changing values (0 = none yet) */
	unsigned slow_age;             /* good polls since then */
	double settings_at;            /* monotonic start of the last good poll that asked
	                                * the BMS's own settings (0 = none yet) */
	double settings_tried;         /* ... of the last poll that asked them, good or not */
	unsigned long link_opens;      /* the link's connections at its last poll (link_fresh) */
	int last_bad;                  /* BMS_E_* of the last bad answer in the poll in progress, 0 = none */
	bool auth_failed;              /* the poll in progress failed on the pack's PIN (BMS_E_AUTH, or
	                                * the silence of a BMS that never acknowledges it) */
	bool attempted;                /* at least one poll finished (for --once) */
	bool msg_bad;                  /* a driver with messages: the last message was bad (logged once) */
	unsigned msg_run;              /* ... the bad ones since the last good one */
	/* the frames the poll in progress handed its driver (the first
	 * GW_HEARD_MAX bytes, `heard_len` in all): an implausible poll's log shows them */
	uint8_t heard[GW_HEARD_MAX];
	size_t heard_len;
};

static void step_gap(struct gw_bus *w);
static const struct gw_listener_ops listener_ops;

/* The current step of p's poll sends nothing: the BMS talks by itself
 * (a listen_only protocol, or a step its driver says listens). */
static bool step_listens(const struct gw_pack *p)
{
	return p->drv->listen_only || (p->drv->listens && p->drv->listens(&p->slot->poll));
}

/* Is this poll to ask the BMS's own settings (where they need requests of
 * their own)?  The first poll that may; then, a minute (SETTINGS_REOPEN)
 * after the last try at least, when that try failed, SETTINGS_EVERY has
 * passed since the last good one or the link was reopened (a reconnect).
 * A try that failed is not repeated at the next poll: a settings read
 * lengthens its poll, and a link that cannot carry the longer poll must
 * still carry the status.  On a bus of several packs, one poll in half
 * the stale_after asks them, and only of a pack that has had a good poll
 * (the bus's first poll aside), so that the packs take turns instead of
 * all lengthening the first round past their stale_after. */
static bool settings_due(const struct gw_poll_slot *s, const struct gw_bus *w, double now)
{
	bool due = s->settings_tried == 0 ||
		   (now - s->settings_tried >= SETTINGS_REOPEN &&
		    (s->settings_at == 0 || now - s->settings_at >= SETTINGS_EVERY || s->poll.link_fresh));
	if (!due || w->npacks < 2 || w->settings_poll_at == 0)
		return due;
	return s->slow_at != 0 && now - w->settings_poll_at >= w->gw->conf->gw.stale_after / 2;
}

/* A new poll of pack p (begun now). */
static void poll_begin(struct gw_pack *p, double now)
{
	struct gw_poll_slot *s = p->slot;
	bms_poll_begin(&s->poll, (uint8_t)p->cfg->address, (uint8_t)p->cfg->cells, p->cfg->invert_current);
	s->poll.setpoints = p->cfg->control; /* the switch settings, for the read-back */
	s->poll.wsettings = p->cfg->bms_settings != 0;
	/* the transport: a driver that streams must be asked again on a new connection */
	struct gw_bus *w = p->bus;
	s->poll.link = (uint8_t)gw_link_bms_link(w->link);
	s->poll.link_fresh = s->link_opens != gw_link_connections(w->link);
	s->link_opens = gw_link_connections(w->link);
	s->poll.have_key = p->cfg->have_key;
	memcpy(s->poll.key, p->cfg->key, sizeof(s->poll.key));
	snprintf(s->poll.pin, sizeof(s->poll.pin), "%s", p->cfg->pin); /* a secret: never logged */
	s->auth_failed = false;
	snprintf(s->poll.peer_name, sizeof(s->poll.peer_name), "%s", gw_link_peer_name(w->link));
	s->poll.ble_layout = (uint8_t)gw_link_ble_layout(w->link);
	s->poll.jsonmap = p->cfg->is_mqtt ? &p->cfg->fields.map : NULL;
	s->last_bad = 0;
	s->heard_len = 0;
	s->poll.refresh = s->slow_at == 0 || p->fail_streak || s->slow_age >= SLOW_EVERY ||
			  now - s->slow_at >= w->gw->conf->gw.stale_after / 2;
	/* (never while a MOSFET command waits for its read-back: that poll is to be short) */
	s->poll.settings_due = settings_due(s, w, now) && !gw_control_verifying(p);
	if (s->poll.settings_due)
		w->settings_poll_at = s->settings_tried = now;
	s->poll.address_any = p->cfg->address_any;
	s->poll.position = (uint8_t)p->cfg->position;
	if (p->cfg->position) {
		s->poll.group = w->group;
		s->poll.group_cap = BMS_MAX_GROUP;
	}
	s->poll_started = now;
}

void gw_poll_setting_read(struct gw_pack *p, enum bms_set_key k, float v)
{
	bms_settings_put(&p->slot->poll.kept.settings, k, v);
	gw_pack_setting_read(p, k, v);
	p->slot->slow_age = SLOW_EVERY; /* the next poll a refresh */
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

/* The end of a poll of p (begun at `started`), whoever ran it: the slot
 * first (--once reads `attempted` when the outputs hear of it), then the
 * model (gw_pack_polled(): judged, committed, every output told), then a
 * MOSFET command this poll reads back (an MQTT client that sees "done" has
 * the switched state already).  e says what the poll read; true when it
 * was good, e->failed says why not. */
static bool poll_end(struct gw_bus *w, struct gw_pack *p, struct gw_poll_end *e, double started, bool refresh)
{
	struct gw_poll_slot *s = p->slot;
	s->attempted = true;
	e->started = started;
	e->wire_up = gw_link_state(w->link) == GW_LINK_UP;
	e->implausible = &w->stats.implausible;
	if (!e->heard) {
		e->heard = s->heard;
		e->heard_len = s->heard_len;
	}
	bool good = gw_pack_polled(w->gw, p, e) == GW_POLLED_GOOD;
	if (good && refresh) {
		s->slow_at = started;
		s->slow_age = 0;
	} else if (good) {
		s->slow_age++;
	}
	if (good && s->poll.settings_due)
		s->settings_at = started;
	gw_control_polled(w->gw, p, good, s->poll_started);
	return good;
}

/* The lead of a group polled: the other packs of its answer get their
 * records (their own `cells` and current sign applied), or fail with it. */
static void group_done(struct gw_bus *w, struct gw_pack *lead, bool ok, const char *why)
{
	for (int i = 0; i < w->npacks && lead->cfg->position; i++) {
		struct gw_pack *m = w->packs[i];
		if (m == lead || group_lead(m) != lead)
			continue;
		unsigned k = (unsigned)m->cfg->position - 1u;
		bool have = ok && (lead->slot->poll.group_have & (1u << k));
		struct bms_snapshot s;
		struct gw_poll_end e = { .heard = lead->slot->heard, .heard_len = lead->slot->heard_len };
		if (have) {
			s = w->group[k];
			if (m->cfg->invert_current)
				s.current = -s.current;
			if (m->cfg->cells && m->cfg->cells < s.ncells)
				s.ncells = (uint8_t)m->cfg->cells;
			e.snap = &s;
		} else {
			e.why = ok ? "its record is not in the answer for all (position too high?)" : why;
		}
		m->slot->next_due = lead->slot->next_due;
		poll_end(w, m, &e, lead->slot->poll_started, lead->slot->poll.refresh);
	}
}

/* The poll of w->cur ended: finished by its driver (finished: every step
 * answered), or failed (why; said: already logged, by count_message()). */
static void poll_finish(struct gw_bus *w, bool finished, const char *why, bool said)
{
	struct gw_pack *p = w->cur;
	w->cur = NULL;
	gw_bus_abort(w);
	if (!p)
		return;
	struct gw_poll_slot *s = p->slot;
	/* next poll on the interval grid; never in the past */
	double now = gw_mono();
	s->next_due = s->poll_started + p->cfg->poll_interval;
	/* a node's messages (mqtt-json) come at its pace: listen again at once
	 * while the subscription is up, so that none is missed between polls */
	if (s->next_due < now || (p->drv->messages && gw_link_is_up(w->link)))
		s->next_due = now;
	/* a refused PIN is tried again at a human's pace, never an attack's */
	if (s->auth_failed && s->next_due < now + BMS_AUTH_RETRY_S)
		s->next_due = now + BMS_AUTH_RETRY_S;
	struct gw_poll_end e = { .poll = finished ? &s->poll : NULL, .why = why, .said = said,
				 .auth_failed = s->auth_failed };
	bool good = poll_end(w, p, &e, s->poll_started, s->poll.refresh);
	group_done(w, p, good, e.failed);
	const char *silent_why;
	unsigned silent_reopen = gw_link_silent_reopen(w->link, &silent_why);
	if (!w->got_bytes && gw_link_state(w->link) == GW_LINK_UP) {
		/* a TCP serial server or a BLE connection that passes nothing
		 * any more is reopened (the transport says after how many) */
		if (++w->silent_polls >= silent_reopen && silent_reopen) {
			w->silent_polls = 0;
			gw_link_close(w->link, silent_why);
			return;
		}
	} else {
		w->silent_polls = 0;
	}
	gw_link_idle(w->link); /* a shared radio's slot may serve another link until the next poll */
	gw_bus_next(w);
}

static void poll_done(struct gw_bus *w, bool finished, const char *why)
{
	poll_finish(w, finished, why, false);
}

/* A poll that a bad message failed, that message logged (count_message). */
static void poll_done_said(struct gw_bus *w, const char *why)
{
	poll_finish(w, false, why, true);
}

/* Send the request of the current step, or finish the poll. */
static void step_send(struct gw_bus *w)
{
	struct gw_pack *p = w->cur;
	uint8_t req[GW_LINK_TX_MAX];
	if (step_listens(p)) {
		gw_bus_listen(w); /* the BMS talks by itself: wait for its frames, from a clean start */
		return;
	}
	p->slot->poll.secret_req = false;
	int n = p->drv->next_request(&p->slot->poll, req, sizeof(req));
	if (n == 0) {
		poll_done(w, true, NULL);
		return;
	}
	if (n < 0) {
		/* BMS_E_AUTH: the PIN judged refused on an earlier try of the
		 * step (a silence, bms.h): auth failed, no retry now */
		if (n == BMS_E_AUTH)
			p->slot->auth_failed = true;
		poll_done(w, false, bms_strerror(n));
		return;
	}
	/* a request that holds the pack's PIN: the log shows its length only */
	bool secret = p->slot->poll.secret_req;
	if ((secret ? gw_bus_send_secret(w, req, (size_t)n) : gw_bus_send(w, req, (size_t)n)) < 0) {
		if (w->cur) /* (the link went down: link_down() already ended the poll) */
			poll_done(w, false, "link down");
		return;
	}
	/* a write nothing answers (an acknowledgement, bms.h sent()): the next step at once */
	if (p->drv->sent && p->drv->sent(&p->slot->poll)) {
		p->slot->poll.attempt = 0;
		step_gap(w);
	}
}

static void step_gap(struct gw_bus *w)
{
	if (gw_bus_lent_now(w))
		return; /* the exchange on the wire is over: the tool's turn */
	struct gw_pack *p = w->cur;
	if (!step_listens(p)) {
		/* that answer completed the poll: finish it now, not after a
		 * silence that no request follows */
		uint8_t req[GW_LINK_TX_MAX];
		if (p->drv->next_request(&p->slot->poll, req, sizeof(req)) == 0) {
			poll_done(w, true, NULL);
			return;
		}
	}
	gw_bus_gap(w, GW_BUS_POLL, p, false);
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

/* The poll's last try failed in silence after a PIN its BMS never
 * acknowledges (ble->pin's silent: ANT): the BMS answers nothing while it
 * lacks the right one, so a connection that carried nothing since is its
 * refusal; or the driver judged the silence after it one
 * (BMS_AUTH_REFUSED: dometic). */
static bool silent_refusal(const struct gw_bus *w, const struct gw_pack *p)
{
	const struct bms_ble *b = p->drv->ble;
	if (p->slot->poll.auth == BMS_AUTH_REFUSED)
		return true; /* the driver's judgement (bms.h) */
	return p->slot->poll.auth == BMS_AUTH_SENT && b && b->pin && b->pin->silent && !w->got_bytes;
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
			poll_done(w, true, NULL);
		else
			step_gap(w);
		return;
	}
	if (timed_out)
		count_timeout(w);
	if (p->drv->keep_rx) /* what was kept belongs to the failed try, not to its retry */
		bms_rx_clear(&w->rx);
	/* a pack that is already failing gets one try per poll, so a dead pack
	 * on a shared bus costs the others only its own timeout */
	int retries = p->fail_streak ? 0 : p->cfg->retries;
	if (s->poll.attempt < retries) {
		s->poll.attempt++;
		gw_debug("pack %s: step %d timed out, retry %d", p->cfg->name, s->poll.step, s->poll.attempt);
		step_gap(w);
		return;
	}
	if (silent_refusal(w, p)) {
		s->auth_failed = true;
		poll_done(w, false, "auth failed: nothing answered after the PIN (pin = of the pack; the BMS never "
			  "acknowledges one)");
		return;
	}
	char why[160];
	/* what came instead, if anything did (a wrong key, a bad frame) */
	snprintf(why, sizeof(why), "no complete answer within %.1f s (step %d, %d tries)%s%s",
		 p->cfg->timeout, s->poll.step, s->poll.attempt + 1, s->last_bad ? "; last answer: " : "",
		 s->last_bad ? bms_strerror(s->last_bad) : "");
	poll_done(w, false, why);
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

/* A driver with messages (mqtt-json): a message handle() rejected (rc < 0)
 * is counted, and logged once with why (the map applied again to say it),
 * until one is good again (rc == BMS_OK), which is logged once too with the
 * bad ones of the run; the polls those messages failed are not logged
 * again (gw_poll_end.said, model/pack.c). */
static void count_message(struct gw_bus *w, struct gw_pack *p, const uint8_t *f, size_t fl, int rc)
{
	struct gw_poll_slot *s = p->slot;
	if (rc == BMS_OK) {
		if (s->msg_bad)
			gw_info("pack %s: its messages are good again after %u bad one%s (%u bad in all)", p->cfg->name,
				s->msg_run, s->msg_run == 1 ? "" : "s", w->stats.bad_messages);
		s->msg_bad = false;
		s->msg_run = 0;
		return;
	}
	w->stats.bad_messages++;
	s->msg_run++;
	if (s->msg_bad)
		return;
	s->msg_bad = true;
	char why[160] = "";
	if (fl > BMS_MSG_HDR && !(f[2] & BMS_MSG_TOO_LONG) && s->poll.jsonmap) {
		struct bms_snapshot tmp;
		bms_jsonmap_apply(s->poll.jsonmap, (const char *)f + BMS_MSG_HDR, fl - BMS_MSG_HDR, &tmp, NULL, why,
				  sizeof(why));
	} else {
		snprintf(why, sizeof(why), "longer than %d bytes", BMS_JSON_MSG_MAX);
	}
	gw_warn("pack %s: a bad message on %s (%s): %s; the last good values stay until one is good "
		"(further ones counted in bad_messages, not logged)", p->cfg->name, gw_link_port(w->link),
		bms_strerror(rc), why);
}

/* ---- the poll client of the bus's engine (struct gw_bus_client, bus_engine.h) ---- */

/* A complete answer to the poll request on the wire. */
static enum bms_frame_next poll_frame(struct gw_bus *w, const uint8_t *f, size_t fl)
{
	struct gw_pack *pk = w->cur;
	const struct bms_driver *d = pk->drv;
	struct gw_poll_slot *sl = pk->slot;
	if (sl->heard_len < GW_HEARD_MAX)
		memcpy(sl->heard + sl->heard_len, f,
		       fl < GW_HEARD_MAX - sl->heard_len ? fl : GW_HEARD_MAX - sl->heard_len);
	sl->heard_len += fl;
	int rc = d->handle(&sl->poll, f, fl);
	count_refusals(w, pk, rc);
	if (d->messages && rc != BMS_MORE && rc != BMS_E_UNEXPECTED)
		count_message(w, pk, f, fl, rc);
	if (rc == BMS_MORE || rc == BMS_E_UNEXPECTED)
		return BMS_FRAME_MORE;
	if (rc == BMS_OK) {
		pk->slot->poll.attempt = 0;
		if (d->listen_only)
			poll_done(w, true, NULL);
		else
			step_gap(w);
		return BMS_FRAME_STOP;
	}
	if (rc == BMS_E_AUTH) {
		/* the PIN refused: no retry now (poll_finish() sets the pace) */
		sl->auth_failed = true;
		poll_done(w, false, bms_strerror(rc));
		return BMS_FRAME_STOP;
	}
	/* a bad answer: count it as a failed try of this step */
	if (rc == BMS_E_CHECKSUM)
		w->stats.checksum_errors++;
	else if (rc == BMS_E_SHORT && !d->messages)
		w->stats.short_frames++;
	gw_debug("pack %s: bad answer: %s", pk->cfg->name, bms_strerror(rc));
	pk->slot->last_bad = rc; /* named in the poll's failure, if it fails */
	if (d->messages) {
		/* each message stands alone: a bad one ends the poll (the cache
		 * kept), its failure logged by count_message() alone */
		poll_done_said(w, bms_strerror(rc));
		return BMS_FRAME_STOP;
	}
	step_timeout(w, false);
	return BMS_FRAME_STOP;
}

static void poll_timed_out(struct gw_bus *w)
{
	step_timeout(w, true);
}

/* The pack to poll next (a read-back of a command goes ahead of the rest),
 * due at *next_at; NULL when none. */
static struct gw_pack *due_first(struct gw_bus *w, double now, double *next_at)
{
	struct gw_pack *next = NULL;
	for (int i = 0; i < w->npacks; i++) {
		struct gw_pack *p = w->packs[i];
		if (group_lead(p) && group_lead(p) != p)
			continue; /* its group's lead polls for it */
		if (w->li && p->drv->max_address && p->cfg->address < p->drv->min_address)
			continue; /* a listened bus's master (a JK-PB at DIP 0): heard only, never asked */
		double at = p->slot->next_due, rb = 0;
		if (gw_control_readback_at(p, p->slot->poll_started, &rb)) {
			if (rb < at)
				at = rb;
			if (rb <= now)
				at = rb - 1e6; /* an overdue read-back goes first */
		}
		if (!next || at < *next_at) {
			next = p;
			*next_at = at;
		}
	}
	return next;
}

/* The wire is free: the poll a command interrupted goes on (started over
 * when it is the read-back of that command: a poll begun before the switch
 * cannot confirm it); else the pack due first begins, or the engine wakes
 * the poller when it is due. */
static bool poll_start(struct gw_bus *w)
{
	double now = gw_mono(), next_at = 0, rb;
	if (w->cur) {
		if (gw_control_readback_at(w->cur, w->cur->slot->poll_started, &rb))
			poll_begin(w->cur, now);
		step_gap(w);
		return true;
	}
	struct gw_pack *next = due_first(w, now, &next_at);
	if (!next)
		return false;
	if (next_at > now + 1e-4) {
		gw_bus_wake(w, next_at - now);
		return false;
	}
	if (gw_link_state(w->link) == GW_LINK_CONNECTING || gw_link_state(w->link) == GW_LINK_RESOLVING)
		return false; /* link_up() or link_down() comes next */
	w->cur = next;
	if (gw_link_state(w->link) != GW_LINK_UP) {
		/* the wire is down: the poll fails without traffic (the link logs the outage) */
		next->slot->poll_started = now;
		w->got_bytes = true; /* do not count as a silent poll */
		poll_done(w, false, "link down");
		return true;
	}
	w->got_bytes = false;
	poll_begin(next, now);
	/* kept within a poll only: no earlier poll's answer is this one's; but
	 * the first poll of a connection takes what came since it was made (a
	 * BMS that greets on its subscriptions, another pack's stream on a
	 * shared link: dometic) */
	if (next->drv->keep_rx && !next->slot->poll.link_fresh)
		bms_rx_clear(&w->rx);
	step_gap(w);
	return true;
}

/* The wire went down (the poll in progress fails), was lent (it is
 * abandoned), or is gone. */
static void poll_stop(struct gw_bus *w, enum gw_bus_stop why)
{
	if (!w->cur)
		return;
	if (why == GW_BUS_DOWN) {
		w->got_bytes = true;
		poll_done(w, false, "link down");
		return;
	}
	if (why == GW_BUS_LENT)
		gw_debug("link %s: poll of pack %s abandoned", gw_link_port(w->link), w->cur->cfg->name);
	w->cur = NULL;
}

/* The driver's session of p: the framing context of its frames, and what
 * it keeps across polls (struct bms_poll.persist, for its control frames). */
static struct bms_poll *poll_session(const struct gw_pack *p)
{
	return &p->slot->poll;
}

static const struct gw_bus_client poll_client = {
	poll_start, step_send, poll_frame, poll_timed_out, poll_stop, poll_session,
};

struct gw_bus *gw_bus_new(struct gw *gw, const struct conf_pack *cfg)
{
	static const struct gw_bus_client *const clients[GW_BUS_CLIENTS] = {
		[GW_BUS_CONTROL] = &gw_control_client,
		[GW_BUS_POLL] = &poll_client,
	};
	struct gw_link *l = gw_link_new(gw->link_env, cfg);
	struct gw_bus *w = l ? gw_bus_make(gw, l, clients) : NULL;
	if (w && cfg->listen && !(w->li = gw_listener_new(w, cfg, &listener_ops))) {
		gw_bus_free(w);
		return NULL;
	}
	return w;
}

void gw_bus_packs_moved(struct gw_bus *w)
{
	if (w->li)
		gw_listener_packs_moved(w->li);
}

bool gw_bus_listens_as(const struct gw_bus *w, const struct conf_pack *cfg)
{
	return w->li ? cfg->listen && gw_listener_same(w->li, cfg) : !cfg->listen;
}

void gw_poll_abort(struct gw_bus *w)
{
	if (!w->cur)
		return;
	gw_debug("link %s: poll of pack %s abandoned", gw_link_port(w->link), w->cur->cfg->name);
	w->cur = NULL;
	if (w->who == GW_BUS_POLL)
		gw_bus_abort(w); /* (a command on the wire goes on) */
}

void gw_poll_return(struct gw_bus *w)
{
	if (!gw_bus_take_back(w))
		return;
	double now = gw_mono();
	for (int i = 0; i < w->npacks; i++)
		w->packs[i]->slot->next_due = now;
	gw_poll_schedule(w);
}

/* ---- what the listener asks (struct gw_listener_ops, listener.h) ---- */

static void li_heard(struct gw_bus *w, struct gw_pack *p, struct bms_poll *poll, double started)
{
	struct gw_poll_end e = { .poll = poll, .unfinished = "what was heard of it is not a whole sample: " };
	p->slot->poll_started = started;
	poll_end(w, p, &e, started, true);
}

static void li_unheard(struct gw_bus *w, struct gw_pack *p, const char *why)
{
	struct gw_poll_end e = { .why = why };
	poll_end(w, p, &e, p->slot->poll_started, false);
}

static void li_yield(struct gw_bus *w)
{
	w->cur = NULL;
	gw_bus_abort(w);
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

bool gw_poll_attempted(const struct gw_pack *p)
{
	return p->slot->attempted;
}
