/* SPDX-License-Identifier: MIT */
/* gateway/inverter/invcan.c - an inverter on CAN: any CAN protocol of the
 * list (codec.h: pylon-can, lux-can, sma-can, solark-can, deye-can,
 * growatt-can, pylon-hv-can, byd-hvs-can, solax-can, foxess-can,
 * sungrow-can, sofar-can, growatt-hv-can, ferroamp-can, afore-can,
 * solxpow-can, rvc), its port opened at the protocol's bit rate
 * (inv_dialect_bitrate()).
 *
 * The frame set is built from the source at the moment it goes out, with
 * the extras the output asks for.  A codec that sends its set whole (Pylon,
 * Luxpower) does so every `interval` (a Pylontech battery sends its frames
 * back to back once a second); one that goes frame by frame (SMA) sends a
 * frame at a time, at least gap_ms apart, the set rebuilt at its first
 * frame.  The timer is libev's repeating one, which keeps its schedule (it
 * adds the period to when it should have fired), so the sets do not drift.
 * A source that goes stale is told at once (the daemon's tick sends a
 * fail-safe set then), and so is a current limit that fell in a poll: a
 * set out of turn, which replaces the periodic one (the schedule starts
 * again from it), so that two sets are never closer than INV_SET_GAP (a
 * frame-by-frame codec keeps its own gap); after failsafe_silence nothing
 * is sent.  What the inverter sends (0x305 / 0x306, Victron's 0x307 "VIC",
 * the Sunny Island's measurements, Luxpower's 0x300 "shutdown battery") is
 * read and shown; it is not required, and a shutdown request is never
 * obeyed.
 *
 * A codec that `answers` (growatt-can, pylon-hv-can, solax-can, foxess-can)
 * sends its set only as the answer to the inverter's request (Growatt's
 * 0x301, Pylon HV's 0x4200, SolaX's and FoxESS's 0x1871, about once a
 * second; a codec with an `answer` hook makes the answer to the kinds of
 * request heard since its last answer from the set, and a dialect with a
 * handshake, SolaX's contactor, keeps its state in struct inv_heard `mode`,
 * started again whenever the output does not speak and after the codec's
 * `forget_s` without the inverter): nothing
 * unasked, no period, no set out of turn.  The answer is built at the
 * request from the source as it is then, so the states hold as for the
 * others: no answer before the first data, zero limits while stale (a
 * fallen limit goes out in the next answer), no answer after
 * failsafe_silence.  Two answers are never closer than INV_SET_GAP: a
 * request within it is answered when the gap allows (requests in between
 * get that one answer).
 *
 * A scheduled codec (byd-hvs-can: codec.h `periods`) sends each frame on
 * its own period, and nothing before the inverter's first frame (a J1939
 * node's, rvc's: nothing before its address is held, invnode.c, whose
 * claim goes out when the port comes up): once the
 * inverter spoke and the output speaks, its identification set and every
 * frame at once, then each frame when it is due (the timer fires at the
 * earliest); the identification again on each request of it; the at_once
 * frames out of turn when the source goes stale or a limit falls (no
 * closer than INV_SET_GAP to the last frame).  A state that does not speak
 * stops the schedule; it starts again, identification first, when the
 * output speaks again.  One whose battery speaks first (sungrow-can,
 * schneider-can: `start` INV_START_DATA) starts as soon as the output
 * speaks, and sends the frames of the dialect's mode (sungrow-can's init
 * set until the inverter's run frames; the mode starts again at 0 whenever
 * the schedule stops).
 *
 * A codec that `reply`s (sofar-can's inquiries, sungrow-can's Modbus on
 * 0x1E0) sends the reply to such a request at once, beside its own
 * schedule, while the output speaks; never before the first data, never
 * while silent.
 */
#include <stdio.h>
#include <string.h>

#include "../core/jsonw.h"
#include "../core/log.h"
#include "../core/util.h"
#include "invout.h"

#define SHUTDOWN_QUIET 60.0 /* s: a shutdown request after this long is logged again */

/* The period of the send timer: a whole set, or one frame; 0 for a codec
 * that answers (the timer only defers an answer then). */
static double period(const struct inv_out *o)
{
	if (o->codec->can.answers || o->codec->can.periods)
		return 0;
	if (!o->codec->can.one_by_one)
		return o->cfg.interval;
	double gap = o->codec->can.gap_ms / 1000.0, each = o->cfg.interval / (o->can.nset > 0 ? o->can.nset : 6);
	return each > gap ? each : gap;
}

/* Build the set from the source now into b and the output's set; the
 * state follows the source. */
static void build(struct inv_out *o, double now, struct inv_battery *b)
{
	bool fresh = inv_source(o, now, b, true);
	inv_update_state(o, gw_can_is_up(o->can.port), fresh, now);
	int n = inv_can_encode(o->codec, b, (unsigned)o->cfg.extras, o->can.set, INV_CAN_MAX_FRAMES,
			       &o->can.set_limits);
	o->can.nset = n > 0 ? n : 0;
	o->can.next_frame = 0;
}

/* The answer of a codec that answers, to the requests heard, in the set: its
 * `answer` makes it of the whole set (none: the set is the answer).  A
 * request to an output that does not speak is never answered, and the
 * dialect's handshake starts again: to the inverter the battery was gone. */
static void make_answer(struct inv_out *o, const struct inv_battery *b)
{
	const struct inv_can_codec *c = &o->codec->can;
	if (!inv_state_speaks(o->state)) {
		o->can.inv.mode = 0;
		o->can.nset = 0;
	} else if (c->answer) {
		o->can.nset = c->answer(&o->cfg, &o->can.inv, b, o->can.set, o->can.nset, INV_CAN_MAX_FRAMES,
					&o->can.set_limits);
	}
	o->can.inv.asked = 0; /* answered now, or never */
}

/* The time the least gap runs from: a frame-by-frame codec's last frame,
 * else the last set's first frame (0: none yet). */
static double gap_start(const struct inv_out *o)
{
	return o->codec->can.one_by_one ? o->can.last_frame_at : o->can.last_set_at;
}

/* The least time between two sets (a frame-by-frame codec: between two
 * frames) and the time it runs from (gap_start()). */
static double gap_of(const struct inv_out *o, double *last)
{
	*last = gap_start(o);
	return o->codec->can.one_by_one ? o->codec->can.gap_ms / 1000.0 : INV_SET_GAP;
}

static void send_frame(struct inv_out *o, int i)
{
	if (i < o->can.nset && gw_can_send(o->can.port, &o->can.set[i]) == 0)
		o->sent++;
	/* the clock at the write, which every gap rule measures from (a step's
	 * own time is earlier: a gap kept from it could come out short); the
	 * least gap is between sets' first frames, a frame-by-frame codec's
	 * between frames */
	double t = gw_mono(), prev = gap_start(o);
	if ((i == 0 || o->codec->can.one_by_one) && prev > 0 && (o->can.min_set_gap == 0 || t - prev < o->can.min_set_gap))
		o->can.min_set_gap = t - prev;
	o->can.last_frame_at = t;
	if (i == 0) /* a set begins */
		o->can.last_set_at = t;
}

/* What the timer does: the whole set, or the next frame of it. */
static void send_due(struct inv_out *o, double now)
{
	bool whole = !o->codec->can.one_by_one;
	struct inv_battery b;
	if (whole || o->can.next_frame >= o->can.nset || o->can.next_frame == 0) {
		build(o, now, &b);
		if (o->codec->can.answers) /* (never one by one: built every time) */
			make_answer(o, &b);
	}
	if (o->codec->can.answers && !o->can.nset)
		return;
	if (!inv_state_speaks(o->state))
		return;
	if (o->can.next_frame == 0) {
		o->can.sets++;
		if (o->can.set_limits.limits || !o->codec->can.answers)
			o->told = o->can.set_limits;
	}
	if (whole) {
		for (int i = 0; i < o->can.nset; i++)
			send_frame(o, i);
		return;
	}
	send_frame(o, o->can.next_frame++);
}

/* The send timer, once, at monotonic time `at`: libev counts from the
 * loop's time, which a long callback leaves behind the clock, so that
 * time is brought up to date first (the timer would fire early). */
static void send_at(struct inv_out *o, double at)
{
	ev_now_update(o->gw->loop);
	double in = at - gw_mono();
	ev_timer_set(&o->can.send, in > 0 ? in : 0., 0.); /* send_cb restores the period */
	ev_timer_start(o->gw->loop, &o->can.send);
}

static void sched_step(struct inv_out *o, double now);

static void send_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)revents;
	struct inv_out *o = container_of(w, struct inv_out, can.send);
	if (o->codec->can.periods) {
		sched_step(o, gw_mono());
		return;
	}
	double now = gw_mono(), last, gap = gap_of(o, &last);
	if (last > 0 && now - last < gap) { /* early by the loop's clock: never two sets within the gap */
		ev_timer_stop(loop, w);
		send_at(o, last + gap);
		return;
	}
	send_due(o, now);
	if (w->repeat != period(o)) {
		w->repeat = period(o); /* after a deferred set out of turn, or a set of another size */
		ev_timer_again(o->gw->loop, w);
	}
}

static void send_now(struct inv_out *o);

/* ---- a scheduled codec (`periods`) ---- */

/* May the schedule start: the inverter spoke, it asked for the
 * identification, or at once (codec.h `start`)? */
static bool sched_may_start(const struct inv_out *o)
{
	switch (o->codec->can.start) {
	case INV_START_ASKED:
		return o->can.paired;
	case INV_START_DATA:
		return true;
	case INV_START_HEARD:
	default:
		return o->can.inv.frames > 0;
	}
}

/* The frames of a step, each built from b now, into the set and onto the
 * wire; the limits frame among them is what the inverter was told. */
static void sched_send(struct inv_out *o, const struct inv_battery *b, const struct inv_can_frame_fn **go, size_t n)
{
	const struct inv_can_codec *c = &o->codec->can;
	bool limits = false;
	o->can.nset = 0;
	for (size_t k = 0; k < n && o->can.nset < INV_CAN_MAX_FRAMES; k++) {
		struct gw_can_frame *f = &o->can.set[o->can.nset];
		limits = limits || go[k] == &c->frames[c->limits_frame];
		if (!go[k]->fill(b, f))
			continue;
		if (c->claims) /* a J1939 node's frames carry its address */
			f->id = (f->id & ~0xFFu) | inv_node_address(o);
		o->can.nset++;
	}
	if (o->can.nset == 0)
		return;
	o->can.sets++;
	if (c->limits && limits) { /* what the inverter was told, and what a fall is measured from */
		c->limits(b, &o->can.set_limits);
		o->told = o->can.set_limits;
	}
	for (int i = 0; i < o->can.nset; i++)
		send_frame(o, i);
}

/* One step: the state from the source now; in a state that speaks, once
 * the schedule may start (a J1939 node: its address held), the frames that
 * go now (the schedule starts with all of them and the identification);
 * the timer at the next step. */
static void sched_step(struct inv_out *o, double now)
{
	const struct inv_can_codec *c = &o->codec->can;
	struct inv_battery b;
	enum inv_state was = o->state;
	bool fresh = inv_source(o, now, &b, true);
	inv_update_state(o, gw_can_is_up(o->can.port), fresh, now);
	if (was == INV_SENDING && o->state == INV_FAILSAFE && o->can.sched_on && !o->can.urgent) {
		o->can.early++; /* the step saw it before the tick: the fail-safe frames out of turn now */
		o->can.urgent = true;
	}
	ev_timer_stop(o->gw->loop, &o->can.send);
	if (!inv_state_speaks(o->state) || !sched_may_start(o)) {
		o->can.sched_on = o->can.ident_asked = false; /* the tick starts it again; nothing asked is kept */
		o->can.inv.mode = 0;                          /* as a battery new to the inverter */
		return;
	}
	double at;
	if (c->claims && !inv_node_ready(o, now, &at)) {
		o->can.sched_on = false; /* again, all at once, when the address is held */
		if (at > 0)
			send_at(o, at);
		return;
	}
	if (!o->can.sched_on) { /* every frame goes: none out of turn, the identification first */
		o->can.sched_on = true;
		o->can.urgent = false;
		o->can.ident_asked = o->can.ident_asked || !c->ident_when_asked;
		inv_can_sched_start(c, &o->can.sched, now);
	}
	const struct inv_can_frame_fn *go[INV_CAN_MAX_FRAMES];
	double next;
	if (o->can.ident_asked && c->nident)
		o->can.idents++;
	size_t n = inv_can_sched_step(c, &o->can.sched, o->can.ident_asked, o->can.urgent, now, o->can.inv.mode,
				      o->can.last_frame_at, go, &next);
	o->can.ident_asked = o->can.urgent = false;
	sched_send(o, &b, go, n);
	send_at(o, next);
}

/* A step now, or when INV_SET_GAP after the last frame allows. */
static void sched_kick(struct inv_out *o)
{
	double now = gw_mono(), last = o->can.last_frame_at;
	if (o->can.sched_on && last > 0 && now - last < INV_SET_GAP) {
		ev_timer_stop(o->gw->loop, &o->can.send);
		send_at(o, last + INV_SET_GAP);
		return;
	}
	sched_step(o, now);
}

/* What the inverter said: its first frame (or its first request of the
 * identification) starts the schedule; a request of the identification is
 * answered. */
static void sched_heard(struct inv_out *o, enum inv_rx rx)
{
	if (rx == INV_RX_IDENTIFY)
		o->can.ident_asked = o->can.paired = true;
	if (!gw_can_is_up(o->can.port) || (o->can.sched_on && rx != INV_RX_IDENTIFY))
		return;
	sched_kick(o);
}

/* Once a second: the schedule starts when it may; a source that just went
 * stale sends the at_once frames out of turn. */
static void sched_tick(struct inv_out *o, double now)
{
	struct inv_battery b;
	if (!o->can.sched_on) {
		if (sched_may_start(o) && gw_can_is_up(o->can.port))
			sched_step(o, gw_mono());
		else
			inv_update_state(o, gw_can_is_up(o->can.port), inv_source(o, now, &b, true), now);
		return;
	}
	if (o->state != INV_SENDING || inv_source(o, now, &b, false))
		return;
	o->can.early++;
	o->can.urgent = true;
	sched_kick(o);
}

/* ---- the CAN port's owner ---- */

static void can_tick(struct inv_out *o, double now);

static void can_up(void *arg)
{
	struct inv_out *o = arg;
	if (o->codec->can.claims)
		inv_node_up(o); /* its claim, before anything else and whatever the source */
	if (o->codec->can.periods)
		sched_tick(o, gw_mono()); /* the schedule waits for the inverter's first frame */
	else if (o->codec->can.answers)
		can_tick(o, gw_mono()); /* the state; the first answer waits for the first request */
	else
		send_now(o); /* at once (the gap allowing), then on the period */
}

static void can_down(void *arg)
{
	struct inv_out *o = arg;
	o->state = INV_DOWN;
	o->can.sched_on = false;
	if (o->codec->can.claims)
		inv_node_down(o);
}

/* Luxpower's "shutdown battery": shown, logged (again after a quiet
 * minute), never obeyed. */
static void heard_shutdown(struct inv_out *o, double now)
{
	if (o->can.last_shutdown == 0 || now - o->can.last_shutdown >= SHUTDOWN_QUIET)
		gw_warn("inverter %s: the inverter asks the battery to shut down (0x300): not obeyed, bmsgw never "
			"switches a battery off for an inverter (request %lu)", o->cfg.name,
			(unsigned long)o->can.inv.shutdowns);
	o->can.last_shutdown = now;
}

/* A request the codec replies to (`reply`): the reply at once from the
 * source now, while the output speaks.  The state is the tick's and the
 * schedule's to move: only looked at here. */
static void reply_to(struct inv_out *o, const struct gw_can_frame *req, double now)
{
	struct gw_can_frame out[INV_CAN_REPLY_MAX];
	struct inv_battery b;
	if (!gw_can_is_up(o->can.port) || !inv_state_speaks(o->state) || !o->ever_fresh)
		return;
	bool fresh = inv_source(o, now, &b, false);
	if (!fresh && o->stale_since > 0 && now - o->stale_since >= o->cfg.failsafe_silence)
		return; /* silent already, the tick to say so */
	int n = o->codec->can.reply(req, &b, out, INV_CAN_REPLY_MAX);
	for (int i = 0; i < n; i++)
		if (gw_can_send(o->can.port, &out[i]) == 0)
			o->sent++;
	o->can.replies += n > 0;
}

static void can_frame(void *arg, const struct gw_can_frame *f)
{
	struct inv_out *o = arg;
	double now = gw_mono();
	double forget = o->codec->can.forget_s;
	if (forget > 0 && o->last_seen > 0 && now - o->last_seen >= forget)
		o->can.inv.mode = 0; /* the inverter was gone: its handshake starts again */
	if (o->codec->can.claims)
		inv_node_frame(o, f, now); /* the claims, the requests for it, a rival for the instance */
	enum inv_rx rx = o->codec->can.heard(f, &o->can.inv);
	if (rx == INV_RX_OTHER)
		return;
	o->received++;
	o->last_seen = now;
	if (rx == INV_RX_SHUTDOWN)
		heard_shutdown(o, now);
	if (rx == INV_RX_REQUEST && o->codec->can.reply)
		reply_to(o, f, now);
	if (o->codec->can.periods && !o->codec->can.claims) /* a node's schedule waits for no one */
		sched_heard(o, rx);
	else if (rx == INV_RX_REQUEST && o->codec->can.answers && gw_can_is_up(o->can.port))
		send_now(o); /* the answer (its gap allowing) */
}

static const struct gw_can_owner owner = { can_up, can_down, can_frame };

static int can_start(struct inv_out *o, char *err, size_t errlen)
{
	o->can.port = gw_can_new(o->gw->link_env, o->cfg.port, o->cfg.is_slcan, o->cfg.device,
				 (uint32_t)inv_dialect_bitrate(o->cfg.protocol), &owner, o);
	if (!o->can.port) {
		snprintf(err, errlen, "inverter %s: out of memory", o->cfg.name);
		return -1;
	}
	ev_timer_init(&o->can.send, send_cb, period(o), period(o));
	const char *name = inv_dialect_name(o->cfg.protocol); /* a codec may serve two rows (ferroamp-can) */
	if (o->codec->can.claims)
		gw_info("inverter %s: %s on %s, source %s, each frame on its own period once its source address is held",
			o->cfg.name, name, o->cfg.port, o->cfg.source);
	else if (o->codec->can.periods)
		gw_info("inverter %s: %s on %s, source %s, each frame on its own period %s", o->cfg.name, name,
			o->cfg.port, o->cfg.source, o->codec->can.start == INV_START_DATA ? "from the source's first data" :
			o->codec->can.start == INV_START_ASKED ? "once the inverter has asked for the identification" :
			"once the inverter has spoken");
	else if (o->codec->can.answers)
		gw_info("inverter %s: %s on %s, source %s, a frame set as the answer to each request of the inverter",
			o->cfg.name, name, o->cfg.port, o->cfg.source);
	else {
		ev_timer_start(o->gw->loop, &o->can.send);
		gw_info("inverter %s: %s on %s, source %s, a frame set every %g s", o->cfg.name, name,
			o->cfg.port, o->cfg.source, o->codec->can.one_by_one ? period(o) * (o->can.nset > 0 ? o->can.nset : 6) :
			o->cfg.interval);
	}
	gw_can_open(o->can.port);
	return 0;
}

static void can_stop(struct inv_out *o)
{
	ev_timer_stop(o->gw->loop, &o->can.send);
	if (o->codec->can.claims)
		inv_node_down(o);
	gw_can_free(o->can.port);
	o->can.port = NULL;
}

/* A set out of turn, built now; it replaces the periodic one (the timer
 * starts again from it), no closer than INV_SET_GAP to the last set (a
 * frame-by-frame codec: its gap to the last frame, 0x351 first); too close,
 * it goes when the gap allows. */
static void send_now(struct inv_out *o)
{
	if (o->codec->can.periods) { /* the at_once frames */
		o->can.urgent = true;
		sched_kick(o);
		return;
	}
	double now = gw_mono(); /* not a tick's time, which may be behind the clock */
	double last, gap = gap_of(o, &last);
	o->can.next_frame = 0;
	ev_timer_stop(o->gw->loop, &o->can.send);
	if (last > 0 && now - last < gap) {
		send_at(o, last + gap);
		return;
	}
	send_due(o, now);
	if (o->codec->can.answers)
		return; /* no period: the next request brings the next answer */
	ev_now_update(o->gw->loop);
	ev_timer_set(&o->can.send, period(o), period(o));
	ev_timer_start(o->gw->loop, &o->can.send);
}

/* Once a second: a source that just went stale is told at once; a codec
 * that answers only follows the source's state (told in its next answer). */
static void can_tick(struct inv_out *o, double now)
{
	struct inv_battery b;
	if (o->codec->can.periods) {
		sched_tick(o, now);
		return;
	}
	if (o->codec->can.answers) {
		inv_update_state(o, gw_can_is_up(o->can.port), inv_source(o, now, &b, true), now);
		return;
	}
	if (o->state != INV_SENDING || !gw_can_is_up(o->can.port))
		return;
	if (inv_source(o, now, &b, false))
		return;
	o->can.early++;
	send_now(o); /* the fail-safe set */
}

/* After a poll: a current limit that fell is sent at once, not at the
 * next period (a limit falls at once; only a rise waits).  The codec says
 * what its set would carry now.  A schedule that may start starts now,
 * not at the next tick (schneider-can: the source's first data). */
static void can_polled(struct inv_out *o, double now)
{
	if (o->codec->can.periods && !o->can.sched_on) {
		sched_tick(o, now);
		return;
	}
	if (o->state != INV_SENDING || !gw_can_is_up(o->can.port) || o->codec->can.answers ||
	    !(o->can.nset || o->can.sched_on))
		return; /* a codec that answers tells it in its next answer */
	struct inv_battery b;
	struct inv_encoded is = { 0 }, *was = &o->can.set_limits;
	inv_source(o, now, &b, false);
	if (o->codec->can.limits)
		o->codec->can.limits(&b, &is);
	if (is.limits && was->limits && (is.ccl_a < was->ccl_a || is.dcl_a < was->dcl_a)) {
		o->can.early++;
		send_now(o);
	}
}

static void can_status(const struct inv_out *o, FILE *out)
{
	struct gw_can_stats st;
	gw_can_stats(o->can.port, &st);
	fprintf(out, ",\"frames_sent\":%lu,\"frame_sets\":%lu,\"frames_dropped\":%lu,\"frames_received\":%lu"
		",\"adapter_errors\":%lu,\"victron\":%s,\"early_sets\":%lu,\"shutdown_requests\":%lu", o->sent, o->can.sets,
		st.dropped, o->received, st.errors, o->can.inv.victron ? "true" : "false", o->can.early,
		(unsigned long)o->can.inv.shutdowns);
	if (o->can.min_set_gap > 0)
		fprintf(out, ",\"min_set_gap_ms\":%.1f", o->can.min_set_gap * 1000);
	if (o->can.last_shutdown > 0)
		fprintf(out, ",\"shutdown_s\":%.0f", gw_mono() - o->can.last_shutdown);
	if (o->codec->can.periods)
		fprintf(out, ",\"schedule\":%s,\"identifications\":%lu", o->can.sched_on ? "true" : "false",
			o->can.idents);
	if (o->codec->can.claims)
		inv_node_status(o, out);
	if (o->codec->can.reply)
		fprintf(out, ",\"replies\":%lu", o->can.replies);
	if (o->codec->can.mode_names && o->can.inv.mode < o->codec->can.nmodes)
		fprintf(out, ",\"handshake\":\"%s\"", o->codec->can.mode_names[o->can.inv.mode]);
	if (o->can.inv.have_meas)
		fprintf(out, ",\"inverter_voltage\":%.2f,\"inverter_current\":%.1f,\"inverter_soc\":%.0f",
			o->can.inv.voltage, o->can.inv.current, o->can.inv.soc);
}

const struct inv_kind inv_kind_can = {
	.start = can_start,
	.stop = can_stop,
	.tick = can_tick,
	.polled = can_polled,
	.status = can_status,
};
