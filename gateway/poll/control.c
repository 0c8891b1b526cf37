/* SPDX-License-Identifier: MIT */
/* gateway/poll/control.c - switching a pack's MOSFETs, safely (see control.h).
 *
 *   submit   allowed? fresh? not busy?  -> queued on the pack's wire
 *   wire     the driver's frames, each acknowledged by the BMS (a protocol
 *            without a known acknowledgement skips that): this file is the
 *            control client of the bus's engine (bus_engine.h), asked ahead of the
 *            poller whenever the wire is free and at the end of every gap
 *   verify   the next poll of the pack that started after the
 *            acknowledgement must show the MOSFETs as asked; if it does
 *            not, the pack is polled again until control_timeout
 *   done     the requester's callback, a log line, a counter
 *
 * An "on" that the BMS accepted while a protection holds the MOSFET off
 * reads back off: that is a failure (0x04) and the log names the active
 * protections.
 *
 * What control keeps of a pack (its command, the rate limit, the intents,
 * the counters of registers 123-124 and of refusals) is this file's alone:
 * the others read it through the calls of control.h.  Every command
 * refused before it reached the BMS, whoever refused it (a Modbus server's
 * screening, MQTT's, or this file's own checks), is logged and counted by
 * gw_control_refused(), the same whichever way the command came: counted
 * apart from the commands that failed at the BMS (register 124), because
 * anyone on the network can send refused writes and they say nothing of
 * the pack; logged once per source and interval (gw_log_keyed), because
 * a flood of them must not flood the log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/log.h"
#include "../core/mbexc.h"
#include "../core/util.h"
#include "../model/gw.h"
#include "../model/statefile.h"
#include "bus_engine.h"
#include "control.h"

#define CTL_RATE_S 1.0         /* at most one command per pack per second */
#define CTL_REPOLL_S 0.3       /* read-back disagrees: poll again after */

enum ctl_phase { CTL_QUEUED, CTL_WIRE, CTL_VERIFY };

/* A pack's MOSFET control. */
struct gw_pack_ctl {
	struct gw_ctl *cur;            /* the command in progress, NULL if none */
	double last;                   /* monotonic time the last command ended or was accepted */
	bool intent[2];                /* what the gateway wants of each FET (JBD writes both) */
	uint32_t done, failed;         /* commands confirmed / failed at the BMS (registers 123-124) */
	uint32_t refused;              /* commands refused before they were sent (/metrics) */
};

struct gw_ctl {
	struct gw *gw;
	struct gw_pack *pack;
	const struct gw_ctl_ops *ops;  /* another kind (bmsset.c), NULL: MOSFETs */
	void *arg;                     /* ... its command */
	struct bms_control bc;
	enum ctl_phase phase;
	double started, acked_at;
	double poll_at;                /* VERIFY: when the read-back poll is due */
	bool disagreed;                /* a read-back did not show what was asked */
	bool prev_intent[2];           /* the pack's intents before this command */
	ev_timer deadline;
	gw_ctl_done done;
	void *ctx;
	struct gw_ctl **handle;
	char who[64];
	char what[64];                 /* "charge MOSFET off, discharge MOSFET on" */
	char readback[320];            /* what the last read-back showed */
};

static const char *const fet_names[2] = { "charge MOSFET", "discharge MOSFET" };

static void describe(char *buf, size_t cap, const bool set[2], const bool on[2])
{
	buf[0] = '\0';
	for (int f = 0; f < 2; f++)
		if (set[f]) {
			size_t n = strlen(buf);
			snprintf(buf + n, cap - n, "%s%s %s", n ? ", " : "", fet_names[f], on[f] ? "on" : "off");
		}
}

struct gw_pack_ctl *gw_control_new(void)
{
	struct gw_pack_ctl *pc = calloc(1, sizeof(*pc));
	/* the gateway intends nothing locked until told */
	if (pc)
		pc->intent[BMS_FET_CHARGE] = pc->intent[BMS_FET_DISCHARGE] = true;
	return pc;
}

void gw_control_free(struct gw_pack_ctl *pc)
{
	free(pc);
}

void gw_control_counts(const struct gw_pack *p, uint32_t *done, uint32_t *failed)
{
	*done = p->ctl->done;
	*failed = p->ctl->failed;
}

uint32_t gw_control_refusals(const struct gw_pack *p)
{
	return p->ctl->refused;
}

void gw_control_refused(struct gw_pack *p, const char *who, const char *what, int exception, const char *why)
{
	p->ctl->refused++;
	gw_log_refused(GW_LOG_INFO, who, "control: %s: pack %s: %s: refused (exception 0x%02X): %s", who,
		       p->cfg->name, what, exception, why);
}

/* The commands on a wire (of any pack of gw). */
static int on_wires(const struct gw *gw)
{
	int n = 0;
	for (int i = 0; i < gw->npacks; i++)
		n += gw->packs[i]->ctl->cur && gw->packs[i]->ctl->cur->phase == CTL_WIRE;
	return n;
}

/* The end of a command: log, count, tell the requester, free. */
static void finish(struct gw_ctl *c, int exception, const char *why)
{
	struct gw_pack *p = c->pack;
	ev_timer_stop(c->gw->loop, &c->deadline);
	if (p->ctl->cur == c)
		p->ctl->cur = NULL;
	/* never sent: what bmsgw was told before it is still what holds (a
	 * JBD write of the other MOSFET must not carry this one's lock) */
	if (!c->ops && exception && c->phase == CTL_QUEUED && memcmp(p->ctl->intent, c->prev_intent, sizeof(c->prev_intent))) {
		memcpy(p->ctl->intent, c->prev_intent, sizeof(c->prev_intent));
		gw_statefile_changed(c->gw);
	}
	double took = gw_mono() - c->started;
	/* the requester's handle first: what ended() tells may free its owner
	 * (an MQTT command's record holds it) */
	if (c->handle)
		*c->handle = NULL;
	if (c->ops) {
		c->ops->ended(c->arg, exception, why, took, c->phase != CTL_QUEUED);
	} else if (exception == 0) {
		p->ctl->done++;
		gw_info("control: %s: pack %s: %s: done, confirmed by read-back in %.1f s", c->who, p->cfg->name,
			c->what, took);
	} else {
		p->ctl->failed++;
		gw_warn("control: %s: pack %s: %s: failed (exception 0x%02X): %s", c->who, p->cfg->name, c->what,
			exception, why);
	}
	p->ctl->last = gw_mono(); /* the next command a second after this one ends */
	if (c->done)
		c->done(c->ctx, exception, exception ? why : "done");
	struct gw *gw = c->gw;
	free(c);
	if (gw->stopping && gw->on_quiet && !on_wires(gw))
		gw->on_quiet(gw);
}

/* ---- the control client of the bus's engine (struct gw_bus_client, bus_engine.h) ----
 * A command queued on a pack of a bus runs between two poll steps (or when
 * the wire is idle): gap, frame, acknowledgement, for each frame of the
 * command; then the engine asks the poller again (the poll it interrupted
 * goes on, started over when it is the read-back). */

/* The command on the wire ended: acknowledged (exception 0: the read-back
 * comes next) or not (exception, why). */
static void wire_done(struct gw_ctl *c, int exception, const char *why)
{
	if (!exception && c->ops) {
		char verdict[320];
		exception = c->ops->verdict(c->arg, verdict, sizeof(verdict));
		finish(c, exception, verdict);
		return;
	}
	if (exception) {
		finish(c, exception, why);
		return;
	}
	/* acknowledged: the next poll of the pack (at once) tells whether it worked */
	c->phase = CTL_VERIFY;
	c->acked_at = c->poll_at = gw_mono();
	gw_debug("control: pack %s: %s acknowledged; reading it back", c->pack->cfg->name, c->what);
}

/* The command on the wire ends; the engine asks its clients again. */
static void ctl_end(struct gw_bus *w, int exception, const char *why)
{
	struct gw_ctl *c = w->ctl;
	w->ctl = NULL;
	gw_bus_abort(w);
	wire_done(c, exception, why);
	gw_bus_next(w);
}

static void ctl_gap(struct gw_bus *w)
{
	gw_bus_gap(w, GW_BUS_CONTROL, w->ctl->pack, true);
}

/* The wire is free (or a poll step's gap is over): a queued command, if
 * there is one and the wire is up, goes first. */
static bool ctl_start(struct gw_bus *w)
{
	if (w->ctl || gw_link_state(w->link) != GW_LINK_UP)
		return false;
	for (int i = 0; i < w->npacks; i++) {
		struct gw_pack_ctl *pc = w->packs[i]->ctl;
		if (pc->cur && pc->cur->phase == CTL_QUEUED) {
			pc->cur->phase = CTL_WIRE;
			w->ctl = pc->cur;
			w->ctl_tries = 0;
			ctl_gap(w);
			return true;
		}
	}
	return false;
}

/* The gap is over: the next frame of the command, or its end.  The only
 * place a control frame is written. */
static void ctl_send(struct gw_bus *w)
{
	struct gw_pack *p = w->ctl->pack;
	uint8_t req[GW_LINK_TX_MAX];
	const struct gw_ctl_ops *ops = w->ctl->ops;
	int n = ops ? ops->request(w->ctl->arg, req, sizeof(req)) : p->drv->control->request(&w->ctl->bc, req, sizeof(req));
	if (n == 0) {
		ctl_end(w, 0, NULL); /* every frame acknowledged */
		return;
	}
	if (n < 0) {
		ctl_end(w, GW_MB_DEVICE_FAILURE, bms_strerror(n));
		return;
	}
	gw_debug("link %s: pack %s: control frame", gw_link_port(w->link), p->cfg->name);
	if (gw_bus_send(w, req, (size_t)n) < 0)
		return; /* the link went down: ctl_stop() ended it */
	if (!ops && p->drv->control->unacked)
		ctl_gap(w); /* nothing comes back: the next frame (or the read-back) after a gap */
}

/* No (good) acknowledgement: the writes are absolute, so sending the frame
 * again is safe; after `retries` more tries the command has failed. */
static void ctl_retry(struct gw_bus *w, const char *what)
{
	struct gw_pack *p = w->ctl->pack;
	if (w->ctl_tries++ < p->cfg->retries) {
		gw_debug("link %s: pack %s: control frame: %s, try %d", gw_link_port(w->link), p->cfg->name, what,
			 w->ctl_tries + 1);
		ctl_gap(w);
		return;
	}
	char why[160];
	snprintf(why, sizeof(why), "no acknowledgement from the BMS (%s, %d tries)", what, w->ctl_tries);
	if (w->ctl->ops && w->ctl->ops->unanswered(w->ctl->arg, why)) {
		w->ctl_tries = 0;
		ctl_gap(w); /* what the kind sends after giving up (leaving an unlock), or its end */
		return;
	}
	ctl_end(w, GW_MB_GATEWAY_TARGET, why);
}

/* A complete frame while a control frame waits for its acknowledgement. */
static enum bms_frame_next ctl_frame(struct gw_bus *w, const uint8_t *f, size_t fl)
{
	const struct gw_ctl_ops *ops = w->ctl->ops;
	int rc = ops ? ops->answer(w->ctl->arg, f, fl) : w->ctl->pack->drv->control->ack(&w->ctl->bc, f, fl);
	if (rc == BMS_E_UNEXPECTED)
		return BMS_FRAME_MORE;
	if (rc == BMS_OK || ops) { /* another kind goes on after a refusal with its own frames */
		w->ctl_tries = 0;
		ctl_gap(w); /* the next frame, or the end */
	} else if (rc == BMS_E_REFUSED) {
		ctl_end(w, GW_MB_DEVICE_FAILURE, "the BMS refused the command");
	} else {
		ctl_retry(w, bms_strerror(rc));
	}
	return BMS_FRAME_STOP;
}

static void ctl_timed_out(struct gw_bus *w)
{
	w->stats.timeouts++;
	ctl_retry(w, "timed out");
}

/* The wire went down or was lent: the command on it ends (0x0B), and so
 * do those waiting for it (lent: whatever their phase), so that nothing
 * queued before a link went down is sent once it is back. */
static void ctl_stop(struct gw_bus *w, enum gw_bus_stop why)
{
	struct gw_ctl *c = w->ctl;
	w->ctl = NULL;
	const char *lent = "the wire was lent to a maintenance tool";
	if (c && why != GW_BUS_GONE)
		wire_done(c, GW_MB_GATEWAY_TARGET, why == GW_BUS_LENT ? lent : "the wire went down");
	for (int i = 0; i < w->npacks && why != GW_BUS_GONE; i++) {
		const struct gw_ctl *q = w->packs[i]->ctl->cur;
		if (q && (why == GW_BUS_LENT || q->phase == CTL_QUEUED))
			gw_control_end(w->packs[i], GW_MB_GATEWAY_TARGET,
				       why == GW_BUS_LENT ? lent : "the wire went down before it was sent; nothing was sent");
	}
}

const struct gw_bus_client gw_control_client = {
	ctl_start, ctl_send, ctl_frame, ctl_timed_out, ctl_stop, NULL,
};

/* Stop the command c on the wire (its deadline passed, or its pack goes
 * away): polling goes on. */
static void wire_abort(struct gw_ctl *c)
{
	struct gw_bus *w = c->pack->bus;
	if (!w || w->ctl != c)
		return;
	w->ctl = NULL;
	gw_bus_abort(w);
	gw_bus_next(w);
}

static void deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_ctl *c = container_of(w, struct gw_ctl, deadline);
	char why[400];
	switch (c->phase) {
	case CTL_QUEUED:
		finish(c, GW_MB_GATEWAY_TARGET, "the wire was busy until control_timeout; nothing was sent");
		return;
	case CTL_WIRE:
		wire_abort(c);
		snprintf(why, sizeof(why), "no acknowledgement from the BMS within %g s", c->pack->cfg->control_timeout);
		finish(c, GW_MB_GATEWAY_TARGET, why);
		return;
	case CTL_VERIFY:
		if (c->disagreed)
			snprintf(why, sizeof(why), "the BMS acknowledged, but the read-back shows %s", c->readback);
		else
			snprintf(why, sizeof(why), "acknowledged, but no read-back of the pack within %g s",
				 c->pack->cfg->control_timeout);
		finish(c, c->disagreed ? GW_MB_DEVICE_FAILURE : GW_MB_GATEWAY_TARGET, why);
		return;
	}
}

int gw_control_may(struct gw *gw, struct gw_pack *p, char *why, size_t wl)
{
	double now = gw_mono();
	if (gw->stopping) {
		snprintf(why, wl, "bmsgw is stopping");
		return GW_MB_GATEWAY_TARGET;
	}
	if (!gw_pack_online(gw, p)) {
		snprintf(why, wl, "the pack is stale: its state is not known");
		return GW_MB_GATEWAY_TARGET;
	}
	if (p->bus->lent) {
		snprintf(why, wl, "the pack's wire is lent to a maintenance tool");
		return GW_MB_GATEWAY_TARGET;
	}
	if (!gw_link_is_up(p->link)) {
		snprintf(why, wl, "the pack's wire is down");
		return GW_MB_GATEWAY_TARGET;
	}
	if (p->ctl->cur || (p->ctl->last > 0 && now - p->ctl->last < CTL_RATE_S)) {
		snprintf(why, wl, "busy: at most one command per pack per second");
		return GW_MB_DEVICE_BUSY;
	}
	return 0;
}

/* A command c of p queued: the deadline runs, the wire is asked. */
static void enqueue(struct gw *gw, struct gw_pack *p, struct gw_ctl *c, const char *who, const char *what,
		    gw_ctl_done done, void *ctx, struct gw_ctl **handle)
{
	double now = gw_mono();
	c->gw = gw;
	c->pack = p;
	c->started = now;
	c->done = done;
	c->ctx = ctx;
	c->handle = handle;
	snprintf(c->who, sizeof(c->who), "%s", who);
	snprintf(c->what, sizeof(c->what), "%s", what);
	if (handle)
		*handle = c;
	p->ctl->cur = c;
	p->ctl->last = now;
	ev_timer_init(&c->deadline, deadline_cb, p->cfg->control_timeout, 0.);
	ev_timer_start(gw->loop, &c->deadline);
	gw_poll_kick(p->bus);
}

int gw_control_queue(struct gw *gw, struct gw_pack *p, const struct gw_ctl_ops *ops, void *arg, const char *who,
		     const char *what, gw_ctl_done done, void *ctx, struct gw_ctl **handle)
{
	struct gw_ctl *c = calloc(1, sizeof(*c));
	if (!c)
		return GW_MB_DEVICE_FAILURE;
	c->ops = ops;
	c->arg = arg;
	enqueue(gw, p, c, who, what, done, ctx, handle);
	return 0;
}

int gw_control_submit(struct gw *gw, struct gw_pack *p, const bool set[2], const bool on[2], const char *who,
		      gw_ctl_done done, void *ctx, struct gw_ctl **handle, char *why, size_t wl)
{
	char what[64];
	describe(what, sizeof(what), set, on);
	int exc = 0;
	if (!p->cfg->control || !p->drv->control) {
		exc = GW_MB_ILLEGAL_FUNCTION;
		snprintf(why, wl, "control is not enabled for this pack");
	} else {
		exc = gw_control_may(gw, p, why, wl);
	}
	struct gw_ctl *c = exc ? NULL : calloc(1, sizeof(*c));
	if (!exc && !c) {
		exc = GW_MB_DEVICE_FAILURE;
		snprintf(why, wl, "out of memory");
	}
	if (exc) {
		gw_control_refused(p, who, what, exc, why);
		return exc;
	}
	c->bc.address = (uint8_t)p->cfg->address;
	const struct bms_poll *session = gw_bus_session(p->bus, p);
	c->bc.persist = session ? session->persist : 0;
	c->bc.link = (uint8_t)gw_link_bms_link(p->link);
	memcpy(c->prev_intent, p->ctl->intent, sizeof(c->prev_intent));
	for (int f = 0; f < 2; f++) {
		c->bc.set[f] = set[f];
		c->bc.on[f] = on[f];
		if (set[f] && p->ctl->intent[f] != on[f]) {
			p->ctl->intent[f] = on[f];
			gw_statefile_changed(gw);
		}
		c->bc.intent[f] = p->ctl->intent[f];
	}
	enqueue(gw, p, c, who, what, done, ctx, handle);
	gw_info("control: %s: pack %s: %s: queued", who, p->cfg->name, what);
	return 0;
}

void *gw_control_arg(struct gw_ctl *c)
{
	return c->arg;
}

bool gw_control_busy(const struct gw_pack *p)
{
	return p->ctl->cur != NULL;
}

void gw_control_cancel(struct gw_ctl **handle)
{
	struct gw_ctl *c = *handle;
	*handle = NULL;
	if (!c)
		return;
	c->done = NULL;
	c->handle = NULL;
}

void gw_control_polled(struct gw *gw, struct gw_pack *p, bool ok, double started)
{
	(void)gw;
	struct gw_ctl *c = p->ctl->cur;
	if (!c || c->phase != CTL_VERIFY || !ok || started < c->acked_at)
		return;
	const struct bms_snapshot *s = &p->snap;
	bool agree = (s->present & BMS_HAS_MOSFETS) != 0;
	const bool actual[2] = { s->chg_mos, s->dsg_mos };
	const bool setting[2] = { s->chg_set, s->dsg_set };
	for (int f = 0; f < 2; f++)
		if (c->bc.set[f] && actual[f] != c->bc.on[f])
			agree = false;
	if (agree) {
		finish(c, 0, "done");
		return;
	}
	/* what the read-back shows, and why an "on" may not have taken */
	char alarms[120] = "";
	for (unsigned b = 0; b < BMS_AL_COUNT; b++)
		if (s->alarms & (1u << b)) {
			size_t n = strlen(alarms);
			snprintf(alarms + n, sizeof(alarms) - n, "%s%s", n ? ", " : "", bms_alarm_name(b));
		}
	char shown[64];
	bool set2[2] = { c->bc.set[0], c->bc.set[1] };
	describe(shown, sizeof(shown), set2, actual);
	bool held = false;
	for (int f = 0; f < 2; f++)
		if (c->bc.set[f] && c->bc.on[f] && !actual[f])
			held = true;
	bool accepted = (s->present & BMS_HAS_SETPOINT) != 0;
	for (int f = 0; f < 2 && accepted; f++)
		if (c->bc.set[f] && setting[f] != c->bc.on[f])
			accepted = false;
	snprintf(c->readback, sizeof(c->readback), "%s%s%s%s%s", shown,
		 held && accepted ? " (the switch is set, a protection holds it off" : "",
		 held && !accepted ? " (held off" : "", held ? (alarms[0] ? ": " : "") : "",
		 held ? (alarms[0] ? alarms : "") : "");
	if (held) {
		size_t n = strlen(c->readback);
		snprintf(c->readback + n, sizeof(c->readback) - n, "%s)", alarms[0] ? "" : "; no alarm reported");
	}
	c->disagreed = true;
	double left = c->started + p->cfg->control_timeout - gw_mono();
	gw_debug("control: pack %s: read-back shows %s; %.1f s left", p->cfg->name, c->readback, left);
	/* poll again soon, unless there is no time for another poll */
	double poll_takes = gw_mono() - started;
	if (left > CTL_REPOLL_S + poll_takes) {
		c->acked_at = gw_mono();
		c->poll_at = c->acked_at + CTL_REPOLL_S;
	}
}

bool gw_control_verifying(const struct gw_pack *p)
{
	return p->ctl->cur && p->ctl->cur->phase == CTL_VERIFY;
}

bool gw_control_readback_at(const struct gw_pack *p, double started, double *at)
{
	const struct gw_ctl *c = p->ctl->cur;
	if (!c || c->phase != CTL_VERIFY || started >= c->acked_at)
		return false;
	*at = c->poll_at;
	return true;
}

void gw_control_end(struct gw_pack *p, int exception, const char *why)
{
	if (p->ctl->cur) {
		struct gw_ctl *c = p->ctl->cur;
		if (c->phase == CTL_WIRE)
			wire_abort(c);
		finish(c, exception, why);
	}
}

void gw_control_drop(struct gw_pack *p)
{
	gw_control_end(p, GW_MB_GATEWAY_TARGET, "the pack was removed or the gateway stops");
}

/* Command c of another kind on the wire gives up (status, why): its next
 * frame is the first that leaves its unlock, sent now rather than after
 * the answer its frame on the wire waits for. */
static void give_up(struct gw_ctl *c, int status, const char *why)
{
	struct gw_bus *w = c->pack->bus;
	c->ops->quit(c->arg, status, why);
	if (w && w->ctl == c && w->ps == GW_BUS_WAIT) {
		gw_bus_abort(w);
		w->ctl_tries = 0;
		ctl_gap(w);
	}
}

void gw_control_reloaded(struct gw *gw)
{
	char why[320];
	for (int i = 0; i < gw->npacks; i++) {
		struct gw_pack *p = gw->packs[i];
		struct gw_ctl *c = p->ctl->cur;
		if (c && c->phase == CTL_QUEUED)
			gw_control_end(p, GW_MB_GATEWAY_TARGET,
				       "the configuration was reloaded before it was sent; nothing was sent");
		else if (c && !c->ops && c->phase == CTL_WIRE && (!p->cfg->control || !p->drv->control))
			gw_control_end(p, GW_MB_GATEWAY_TARGET, "control was turned off by a reload");
		else if (c && c->ops && c->phase == CTL_WIRE && !c->ops->allowed(c->arg, why, sizeof(why)))
			give_up(c, 403, why);
	}
}

int gw_control_stop(struct gw *gw, double *wait)
{
	*wait = 0;
	for (int i = 0; i < gw->npacks; i++) {
		struct gw_pack *p = gw->packs[i];
		struct gw_ctl *c = p->ctl->cur;
		if (c && c->phase == CTL_QUEUED)
			gw_control_end(p, GW_MB_GATEWAY_TARGET, "bmsgw stops before it was sent; nothing was sent");
		else if (c && c->phase == CTL_VERIFY)
			gw_control_end(p, GW_MB_GATEWAY_TARGET, "acknowledged, but bmsgw stops before its read-back");
		else if (c && c->ops && c->phase == CTL_WIRE)
			give_up(c, 503, "bmsgw stops");
		c = p->ctl->cur;
		double t = p->cfg->timeout * (1 + p->cfg->retries) + conf_pack_gap(p->cfg, true);
		if (c && c->phase == CTL_WIRE && t > *wait)
			*wait = t;
	}
	return on_wires(gw);
}

/* The state file's record "intent NAME CHARGE DISCHARGE" (0 / 1) of every
 * pack with control: what bmsgw last switched, so that a restart never
 * unlocks a MOSFET it had locked (a JBD write carries both). */
static bool save_intent(const struct gw *gw, const struct gw_pack *p, char *out, size_t cap)
{
	(void)gw;
	if (!p->cfg->control)
		return false;
	snprintf(out, cap, "%d %d", p->ctl->intent[BMS_FET_CHARGE], p->ctl->intent[BMS_FET_DISCHARGE]);
	return true;
}

static void load_intent(struct gw *gw, struct gw_pack *p, const char *rest)
{
	(void)gw;
	int a, b;
	if (sscanf(rest, "%d %d", &a, &b) == 2 && (a == 0 || a == 1) && (b == 0 || b == 1)) {
		p->ctl->intent[BMS_FET_CHARGE] = a == 1;
		p->ctl->intent[BMS_FET_DISCHARGE] = b == 1;
	}
}

const struct gw_state_record gw_control_intent_record = { "intent", true, save_intent, load_intent };
