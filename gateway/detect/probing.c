/* SPDX-License-Identifier: MIT */
/* gateway/detect/probing.c - the probes, one at a time (probe_order.h's order).
 *
 * Before each request the line must be quiet for the probe's gap (at
 * least 50 ms after the last byte, longer where a protocol asks: EG4
 * 200 ms, JK 100 ms); the silence since the last byte on the line (the
 * answer's, or the end of our own request when nothing answered) counts,
 * so that a try after an unanswered one at the same rate mostly waits no
 * more (probe_order.h: gw_plan_cost_after()); a line that never goes quiet for a
 * second skips the probe.  The request must be a read (sniff.h checks every one before
 * it is written: a probe that built anything else is a bug, and nothing
 * is sent).  The answer is judged by the probe (bms.h) as bytes come: our
 * own echo first removed (a 2-wire adapter hears what it sends; those of
 * the requests sent in the last GW_DET_ECHO_LATE s too, when they come
 * late, after their own waits), a valid
 * and plausible answer is asked for a second time, and counts when that
 * one is valid too.  Silence after the answer began, or its wait, ends a
 * try; a probe has as many tries as it says (Daly's two host addresses,
 * Daren's two start characters, JK-PB's retry).  An answer that comes
 * after its wait, in a later probe's gap or wait, sends the probing back to
 * its probe, with a longer wait (late.c).  A request of another
 * master heard while probing (one that began after the listening) stops
 * it: nothing more is sent, and the line is listened to again (listen_first.c:
 * the master named, or exit 2 where it is not heard again).
 */
#include <stdlib.h>
#include <string.h>

#include "detect_int.h"

static const struct gw_detect_try *cur(const struct det *d)
{
	return &d->plan[d->pi];
}

static const char *where(const struct det *d, char *buf, size_t cap)
{
	const struct gw_detect_try *t = cur(d);
	return gw_det_where(d, t->drv, t->baud, t->address, t->drv->max_address != 0, buf, cap);
}

/* The gap before the current try (or the end of the plan); a try of a
 * pack found already (--all: asked for all at ADR 0, it answered from 1,
 * and the try at 1 is next) is passed over. */
static void next(struct det *d)
{
	while (d->pi < d->nplan && d->attempt == 0 && !d->confirming &&
	       gw_det_found_at(d, cur(d)->drv, cur(d)->baud, cur(d)->address))
		d->pi++;
	if (d->pi >= d->nplan) {
		gw_det_finish(d, 1);
		return;
	}
	if (gw_det_set_baud(d, cur(d)->baud) < 0)
		return;
	d->phase = DET_GAP;
	d->gap_from = ev_now(d->loop);
	/* the line has been silent since quiet_from: that is gap already */
	gw_det_timer(d, gw_plan_gap(cur(d)) - (d->gap_from - d->quiet_from));
}

static void advance(struct det *d)
{
	d->pi++;
	d->attempt = 0;
	d->confirming = false;
	d->stretch = 0;
	next(d);
}

/* The kept probe was answered after its wait (late.c): back to it, and on
 * from there, with the longer wait d->stretch. */
static void back(struct det *d)
{
	ev_idle_stop(d->loop, &d->settle);
	d->pi = d->back_to.pi;
	d->attempt = d->back_to.attempt;
	d->confirming = d->back_to.confirming;
	next(d);
}

/* A try's wait for the first byte: its probe's, or longer once it was
 * answered late. */
static double wait_of(const struct det *d)
{
	double own = gw_plan_timeout(cur(d));
	return d->stretch > own ? d->stretch : own;
}

void gw_det_probe_start(struct det *d)
{
	d->plan = calloc(GW_PLAN_MAX, sizeof(*d->plan));
	if (!d->plan) {
		gw_det_say(d, "out of memory");
		gw_det_finish(d, 2);
		return;
	}
	d->nplan = gw_plan_build_heard(&d->po, &d->hints, d->plan, GW_PLAN_MAX);
	double worst = gw_plan_probes(d->plan, d->nplan);
	gw_det_say(d, "probing with read-only requests: %zu probes, about %.1f s more when nothing answers", d->nplan,
		   worst);
	d->pi = 0;
	d->attempt = 0;
	d->confirming = false;
	d->stretch = 0;
	d->late_tries = 0;
	gw_det_late_forget(d);
	next(d);
}

static void send_probe(struct det *d)
{
	const struct gw_detect_try *t = cur(d);
	char w[96];
	bms_probe_begin(t->drv, &d->poll, t->address, d->attempt);
	int n = bms_probe_request(t->drv, &d->poll, d->req, sizeof(d->req));
	if (n <= 0 || !gw_sniff_is_read(d->req, (size_t)n)) {
		gw_det_say(d, "  %s: the probe is %s: not sent", where(d, w, sizeof(w)),
			   n <= 0 ? bms_strerror(n) : "not a read request");
		advance(d);
		return;
	}
	d->reqlen = (size_t)n;
	d->rxlen = 0;
	d->echo = false;
	d->sent++;
	unsigned k = d->sent_next++ % GW_DET_SENT;
	memcpy(d->sent_ring[k].req, d->req, d->reqlen);
	d->sent_ring[k].len = d->reqlen;
	d->sent_ring[k].at = ev_now(d->loop);
	if (d->o->verbose)
		gw_det_hex(d, "->", d->req, d->reqlen);
	d->phase = DET_WAIT;
	d->quiet_from = ev_now(d->loop) + gw_plan_wire(t, d->reqlen); /* the request's end on the wire */
	double wait = gw_plan_wire(t, d->reqlen) + wait_of(d);
	d->hard_end = ev_now(d->loop) + wait + GW_ANSWER_MAX;
	gw_det_timer(d, wait);
	if (gw_link_send(d->link, d->req, d->reqlen) < 0 && d->phase != DET_DONE) {
		gw_det_say(d, "cannot write to %s", d->o->port);
		gw_det_finish(d, 2);
	}
}

void gw_det_probe_drained(struct det *d)
{
	/* the request left the kernel only now: its wait starts now */
	if (d->phase == DET_WAIT && d->rxlen == 0) {
		d->quiet_from = ev_now(d->loop) + gw_plan_wire(cur(d), d->reqlen);
		gw_det_timer(d, gw_plan_wire(cur(d), d->reqlen) + wait_of(d));
	}
}

/* What came back that was no answer, in a few words. */
static void describe_rx(const struct det *d, char *out, size_t cap)
{
	struct gw_sniff s;
	memset(&s, 0, sizeof(s));
	if (d->rxlen == 0) {
		snprintf(out, cap, d->echo ? "only the echo of the request" : "no answer");
		return;
	}
	gw_sniff_scan(d->rx, d->rxlen, &s);
	for (int k = 0; k < GW_SNIFF_KINDS; k++)
		if (s.count[k]) {
			snprintf(out, cap, "no answer of this protocol; came: %s", s.first[k]);
			return;
		}
	snprintf(out, cap, "%zu bytes that form no answer", d->rxlen);
}

/* Request i of those sent lately (0: the newest), NULL past them or when it
 * is older than an echo may be late. */
static const uint8_t *sent_req(const struct det *d, unsigned i, size_t *len)
{
	if (i >= GW_DET_SENT || i >= d->sent_next)
		return NULL;
	unsigned k = (d->sent_next - 1 - i) % GW_DET_SENT;
	if (ev_now(d->loop) - d->sent_ring[k].at > GW_DET_ECHO_LATE)
		return NULL;
	*len = d->sent_ring[k].len;
	return d->sent_ring[k].req;
}

/* p[0..len) is a request of ours: the one outstanding, or one sent lately,
 * whose echo came late. */
static bool ours(const struct det *d, const uint8_t *p, size_t len)
{
	if (len == d->reqlen && memcmp(p, d->req, len) == 0)
		return true;
	size_t sl = 0;
	for (unsigned i = 0; i < GW_DET_SENT; i++) {
		const uint8_t *r = sent_req(d, i, &sl);
		if (r && sl == len && memcmp(p, r, len) == 0)
			return true;
	}
	return false;
}

/* A request of another master in p[0..n) (not our own request's echo):
 * its description into what. */
static bool foreign_request(const struct det *d, const uint8_t *p, size_t n, char *what, size_t cap)
{
	for (size_t i = 0; i < n; i++) {
		struct gw_sniff_frame f;
		if (!gw_sniff_frame_at(p + i, n - i, &f))
			continue;
		bool req = f.kind == GW_SNIFF_MODBUS_REQ || f.kind == GW_SNIFF_PACEIC_REQ || f.kind == GW_SNIFF_DALY_REQ ||
			   f.kind == GW_SNIFF_JBD_REQ || f.kind == GW_SNIFF_JK_REQ || f.kind == GW_SNIFF_LP_REQ;
		if (req && !ours(d, p + i, f.len)) {
			gw_sniff_describe(p + i, f.len, what, cap);
			return true;
		}
		i += f.len - 1;
	}
	return false;
}

/* Another master's request heard while probing (it started after the
 * listening, or pauses longer than a window): nothing more is sent; the
 * line is listened to again, whole windows from the rate it was heard at,
 * so that the master and its packs are named as if heard at first. */
static bool stop_if_foreign(struct det *d, const uint8_t *p, size_t n)
{
	char what[GW_SNIFF_DESC];
	if (!foreign_request(d, p, n, what, sizeof(what)))
		return false;
	gw_det_say(d, "another master polls this line after all (heard while probing: %s): probing stopped, nothing "
		      "more will be sent; listening again", what);
	ev_idle_stop(d->loop, &d->settle);
	d->relistening = true;
	d->noisy = true; /* whole windows */
	d->li = 0;
	for (int i = 0; i < d->nlisten; i++)
		if (d->lbauds[i] == d->baud)
			d->li = i;
	d->start_listening(d);
	return true;
}

static void no_answer(struct det *d)
{
	const struct gw_detect_try *t = cur(d);
	char w[96], what[192];
	if (stop_if_foreign(d, d->rx, d->rxlen))
		return;
	if (gw_det_late_answer(d, d->rx, d->rxlen, true)) {
		back(d); /* what came was the answer to a probe before */
		return;
	}
	gw_det_late_keep(d); /* its answer may come yet */
	if (d->o->verbose && d->rxlen)
		gw_det_hex(d, "<-", d->rx, d->rxlen);
	describe_rx(d, what, sizeof(what));
	if (d->confirming) {
		gw_det_say(d, "  %s: answered once, then %s: not counted", where(d, w, sizeof(w)), what);
		advance(d);
		return;
	}
	if (++d->attempt < t->tries) {
		next(d);
		return;
	}
	if (t->tries > 1)
		gw_det_say(d, "  %s: %s (%u tries)", where(d, w, sizeof(w)), what, t->tries);
	else
		gw_det_say(d, "  %s: %s", where(d, w, sizeof(w)), what);
	advance(d);
}

static void verdict(struct det *d, const struct bms_probe_result *r)
{
	const struct gw_detect_try *t = cur(d);
	char w[96];
	if (r->verdict != BMS_PROBE_MATCH && gw_det_late_answer(d, d->rx, d->rxlen, false)) {
		back(d); /* the answer to a probe before, late */
		return;
	}
	gw_det_late_forget(d);
	if (d->o->verbose)
		gw_det_hex(d, "<-", d->rx, d->rxlen);
	if (r->verdict == BMS_PROBE_MATCH && !d->confirming) {
		d->confirming = true; /* the same request once more */
		next(d);
		return;
	}
	if (r->verdict == BMS_PROBE_MATCH) {
		gw_det_say(d, "  %s: %s (confirmed)", where(d, w, sizeof(w)), r->what);
		struct gw_found *f = gw_det_add_found(d, t->drv, t->baud, t->address, r->what);
		if (f)
			f->read = *r;
		if (f && r->has_from && r->from != t->address && t->drv->any_address) {
			f->any = true;
			f->from = r->from;
			gw_det_say(d, "  %s: the answer came from address %u, not the address asked: address_any "
				      "= true takes it (or address = %u)",
				   where(d, w, sizeof(w)), r->from, r->from);
		}
		if (!d->o->all) {
			gw_det_finish(d, 0);
			return;
		}
	} else {
		gw_det_say(d, "  %s: %s%s: %s", where(d, w, sizeof(w)), d->confirming ? "answered once, then " : "",
			   r->verdict == BMS_PROBE_REFUSED ? "refused" : "not a battery's answer", r->what);
	}
	advance(d);
}

/* rx starts with req[0..len): taken off (1), a part of it so far (-1), or
 * not (0). */
static int strip_echo(struct det *d, const uint8_t *req, size_t len)
{
	size_t k = d->rxlen < len ? d->rxlen : len;
	if (!k || memcmp(d->rx, req, k) != 0)
		return 0;
	if (d->rxlen < len)
		return -1;
	memmove(d->rx, d->rx + len, d->rxlen - len);
	d->rxlen -= len;
	return 1;
}

/* First, on a slow 2-wire adapter, the echoes of requests sent before, late
 * (their own waits ended without them; one the same as this request cannot
 * be told from its own echo): taken off; -1 while one may be coming. */
static int strip_late(struct det *d)
{
	for (bool again = true; again && d->rxlen;) {
		again = false;
		size_t len = 0;
		for (unsigned i = 1; i < GW_DET_SENT; i++) {
			const uint8_t *r = sent_req(d, i, &len);
			if (!r || (len == d->reqlen && memcmp(r, d->req, len) == 0))
				continue;
			int st = strip_echo(d, r, len);
			if (st < 0)
				return -1;
			if (st > 0) {
				if (d->o->verbose)
					gw_det_say(d, "      <- an earlier request's echo, late (%zu bytes): ignored", len);
				again = true;
				break;
			}
		}
	}
	return 0;
}

static void take(struct det *d)
{
	if (!d->echo && d->rxlen) {
		int e = strip_late(d) < 0 ? -1 : strip_echo(d, d->req, d->reqlen);
		if (e < 0)
			return; /* an echo, so far */
		if (e > 0) {
			d->echo = true;
			if (d->o->verbose)
				gw_det_say(d, "      <- the request's own echo (%zu bytes, a 2-wire adapter): ignored",
					   d->reqlen);
		}
		if (!d->rxlen)
			return;
	}
	struct bms_probe_result r;
	bms_probe_judge(cur(d)->drv, &d->poll, d->rx, d->rxlen, &r);
	if (r.verdict != BMS_PROBE_NONE) {
		verdict(d, &r);
		return;
	}
	if (d->rxlen && gw_det_late_answer(d, d->rx, d->rxlen, false)) {
		back(d); /* the answer to a probe before, late */
		return;
	}
	if (d->rxlen) {
		/* an answer under way: wait while its bytes keep coming */
		double ib = cur(d)->drv->interbyte > BMS_PROBE_MIN_GAP ? cur(d)->drv->interbyte : BMS_PROBE_MIN_GAP;
		if (ib < d->stretch)
			ib = d->stretch; /* a slow line may pause within an answer too */
		double left = d->hard_end - ev_now(d->loop);
		gw_det_timer(d, ib < left ? ib : left);
	}
}

void gw_det_probe_bytes(struct det *d, const uint8_t *p, size_t n)
{
	d->rx_seq++;
	if (d->phase == DET_GAP) {
		/* the line is not quiet: the gap starts again, for a while */
		if (stop_if_foreign(d, p, n))
			return;
		if (gw_det_late_answer(d, p, n, true)) {
			back(d); /* the answer to a probe before, late */
			return;
		}
		d->stray += n;
		if (ev_now(d->loop) - d->gap_from > GW_QUIET_MAX) {
			char w[96];
			gw_det_say(d, "  %s: the line is never quiet for %.0f ms: not sent", where(d, w, sizeof(w)),
				   gw_plan_gap(cur(d)) * 1000);
			advance(d);
		} else {
			gw_det_timer(d, gw_plan_gap(cur(d)));
		}
		return;
	}
	size_t room = sizeof(d->rx) - d->rxlen, k = n < room ? n : room;
	memcpy(d->rx + d->rxlen, p, k);
	d->rxlen += k;
	take(d);
}

void gw_det_probe_timer(struct det *d)
{
	if (d->phase == DET_GAP)
		send_probe(d);
	else if (d->phase == DET_WAIT) {
		/* over once the loop has taken what is pending (detect.c: settle_cb) */
		d->settle_seq = d->rx_seq;
		ev_idle_start(d->loop, &d->settle);
	}
}

void gw_det_probe_settled(struct det *d)
{
	no_answer(d);
}
